"""Runs exported pruned networks in runtimes independent of MetaPrune's core.

Usage: export_check.py MANIFEST.json. For each case of the manifest it loads the TorchScript file
with torch.jit.load, the ONNX file with onnx.checker and OpenCV's DNN module, runs the raw
float32 input through both and writes their outputs as raw float32, plus each file's metadata.

OpenCV 4.6 (Debian 12) reads Clip only in its opset-6 form, with min and max as attributes; from
opset 11 on they are inputs, which its importer rejects. For the OpenCV run only, each Clip whose
bounds are initializers is rewritten into that attribute form (same numbers, same graph
otherwise); the exported file itself is checked unchanged by onnx.checker. OpenCV 4.6 also
broadcasts a computed gate (the Mul of an SE block) only at batch 1, so it runs one image at a
time, and it cannot read some valid graphs (a gate of one channel): a case marked
"opencv_optional" records OpenCV's error instead of failing.
"""
import json
import sys

import cv2
import numpy as np
import onnx
from onnx import helper, numpy_helper
import torch


def opencv46_compatible(model):
    """A copy of `model` with Clip bounds moved from initializer inputs to attributes."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    init = {t.name: numpy_helper.to_array(t) for t in copy.graph.initializer}
    for node in copy.graph.node:
        if node.op_type == "Clip" and len(node.input) == 3:
            lo, hi = float(init[node.input[1]]), float(init[node.input[2]])
            del node.input[1:]
            node.attribute.extend([helper.make_attribute("min", lo), helper.make_attribute("max", hi)])
    return copy


def main(manifest_path):
    with open(manifest_path) as f:
        cases = json.load(f)
    torch.set_num_threads(1)
    for case in cases:
        x = np.fromfile(case["input"], dtype=np.float32).reshape(case["shape"])

        module = torch.jit.load(case["torchscript"])
        with torch.no_grad():
            module(torch.from_numpy(x)).numpy().astype(np.float32).tofile(case["torch_out"])

        model = onnx.load(case["onnx"])
        onnx.checker.check_model(model)
        compatible = case["onnx"] + ".opencv46.onnx"
        onnx.save(opencv46_compatible(model), compatible)
        opencv_error = None
        try:
            net = cv2.dnn.readNetFromONNX(compatible)
            outputs = []
            for image in x:
                net.setInput(image[np.newaxis])
                outputs.append(net.forward().reshape(1, -1))
            np.concatenate(outputs).astype(np.float32).tofile(case["opencv_out"])
        except cv2.error as e:
            # Cases marked optional record what OpenCV 4.6 cannot read; the others fail.
            if not case.get("opencv_optional"):
                raise
            opencv_error = " ".join(str(e).split())[:400]

        meta = {
            "torchscript": module.metadata,
            "onnx": {p.key: p.value for p in model.metadata_props},
            "onnx_opset": [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")][0],
            "onnx_ops": sorted({n.op_type for n in model.graph.node}),
            "opencv_error": opencv_error,
        }
        with open(case["meta_out"], "w") as f:
            json.dump(meta, f)


if __name__ == "__main__":
    main(sys.argv[1])
