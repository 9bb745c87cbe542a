"""Exports CNNs to ONNX for tst_import and counts their MACs independently.

Usage: onnx_corpus.py OUTDIR NAME [NAME ...]. NAME is a torchvision classification model
(built with random weights, seed 0, weights=None: nothing is downloaded) or "preact" (a small
pre-activation residual network written here, see PreAct, exported at opset 9, whose Pad takes
its pads as attributes), optionally followed by "@OPSET" (default 13). Each is exported at 3x224x224 (preact: 3x32x32) with torch.onnx.export as
OUTDIR/NAME.onnx ("@" written as "_"); preact is saved with every tensor as external data in
preact.onnx.data, as onnx.save_model(save_as_external_data=True) writes it. MACs are counted
with forward hooks over torch.nn.Conv2d and torch.nn.Linear (conv: output elements x
in_channels / groups x kh x kw; linear: in x out features, per image), the convention of
MetaPrune's counter. Prints one JSON object: {NAME: {"height": ..., "classes": ..., "macs": ...,
"conv_weights": ..., "linear_params": ...}}.
"""
import json
import sys
import warnings

import onnx
import torch
import torchvision

warnings.filterwarnings("ignore")


class PreAct(torch.nn.Module):
    """A pre-activation residual network (He et al. 2016, "Identity Mappings"): batch norm and
    ReLU before each conv, a BN after the residual add, a constant pad of 0.5 before a pool, and
    a Reshape to [1, features] before the classifier."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(16)
        self.conv1 = torch.nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(16)
        self.conv2 = torch.nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.bn3 = torch.nn.BatchNorm2d(16)
        self.conv3 = torch.nn.Conv2d(16, 24, 3, stride=2, padding=1, bias=False)
        self.fc = torch.nn.Linear(24 * 9 * 9, 10)

    def forward(self, x):
        x = self.stem(x)
        y = self.conv1(torch.relu(self.bn1(x)))
        y = self.conv2(torch.relu(self.bn2(y)))
        x = torch.relu(self.bn3(x + y))
        x = self.conv3(x)
        x = torch.nn.functional.pad(x, (1, 1, 1, 1), value=0.5)
        x = torch.nn.functional.max_pool2d(x, 2)
        return self.fc(x.reshape(1, 24 * 9 * 9))


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
    for entry in names:
        name, _, opset = entry.partition("@")
        torch.manual_seed(0)
        if name == "preact":
            model, x = PreAct().eval(), torch.randn(1, 3, 32, 32)
            for m in model.modules():  # statistics a trained model would have
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.5, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
        else:
            model, x = getattr(torchvision.models, name)(weights=None).eval(), torch.randn(1, 3, 224, 224)
        path = f"{outdir}/{entry.replace('@', '_')}.onnx"
        torch.onnx.export(model, x, path, opset_version=int(opset or (9 if name == "preact" else 13)))
        if name == "preact":
            # Constants as initializers (as other exporters write them), then every tensor,
            # the Reshape's shape included, as external data.
            model_proto = onnx.load(path)
            graph = model_proto.graph
            for node in [n for n in graph.node if n.op_type == "Constant"]:
                tensor = onnx.TensorProto()
                tensor.CopyFrom(node.attribute[0].t)
                tensor.name = node.output[0]
                graph.initializer.append(tensor)
                graph.node.remove(node)
            onnx.save_model(model_proto, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location="preact.onnx.data", size_threshold=0)
        convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        result[entry] = {
            "height": x.shape[2],
            "classes": int(model(x).shape[1]),
            "macs": count(model, x),
            "conv_weights": sum(m.weight.numel() for m in convs),
            "linear_params": sum(p.numel() for m in linears for p in m.parameters()),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
