"""Exports torchvision architectures to ONNX for tst_import and counts their MACs independently.

Usage: onnx_corpus.py OUTDIR NAME [NAME ...]. Each model is built with random weights (seed 0,
weights=None: nothing is downloaded), exported at 3x224x224 with torch.onnx.export, opset 13,
as OUTDIR/NAME.onnx. Its MACs are counted with forward hooks over torch.nn.Conv2d and
torch.nn.Linear (conv: output elements x in_channels / groups x kh x kw; linear: in x out
features, per image), the convention of MetaPrune's counter. Prints one JSON object:
{NAME: {"macs": ..., "conv_weights": ..., "linear_params": ...}}.
"""
import json
import sys
import warnings

import torch
import torchvision

warnings.filterwarnings("ignore")


def count(model, x):
    macs = [0]

    def conv(m, inputs, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        macs[0] += out[0].numel() * (m.in_channels // m.groups) * k

    def linear(m, inputs, out):
        macs[0] += m.in_features * m.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return macs[0]


def main(outdir, names):
    torch.set_num_threads(1)
    result = {}
    for name in names:
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(weights=None).eval()
        x = torch.randn(1, 3, 224, 224)
        torch.onnx.export(model, x, f"{outdir}/{name}.onnx", opset_version=13)
        convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        result[name] = {
            "macs": count(model, x),
            "conv_weights": sum(m.weight.numel() for m in convs),
            "linear_params": sum(p.numel() for m in linears for p in m.parameters()),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
