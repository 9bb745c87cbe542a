"""Trains a CNN on Fashion-MNIST with python3-torch and exports it to ONNX with its weights.

tst_trained uses the small network below (a few hundred steps); the README's tables use
torchvision's resnet18 and mobilenet_v2 with a 1-channel stem, trained for several epochs:

    trained_model.py OUTDIR [--model small|resnet18|mobilenet_v2] [--steps N | --epochs E]
                     [--batch B] [--lr LR] [--seed S] [--data DIR] [--threads T]

Reads the IDX files of DIR (default /usr/share/datasets/fashion-mnist), normalises pixels scaled
to 0..1 with Fashion-MNIST's mean 0.2860 and std 0.3530, trains with SGD (momentum 0.9, cosine
decay), and writes OUTDIR/model.onnx (opset 13, eval mode: torch.onnx folds each batch norm into
its conv) and OUTDIR/model-bn.onnx (the same weights with every BatchNormalization node kept).
Prints one JSON object: the test top-1 (percent) and mean cross-entropy on all 10,000 test images,
PyTorch's logits of the first 20 test images, and the normalisation.
"""
import argparse
import gzip
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

MEAN, STD = 0.2860, 0.3530


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(folder, split):
    images = idx(f"{folder}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    labels = idx(f"{folder}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    x = torch.from_numpy((images - MEAN) / STD).unsqueeze(1)
    return x, torch.from_numpy(labels)


class Small(nn.Module):
    """Every kind of layer tying the import handles: batch norms after convs, a residual add, a
    depthwise conv, an SE gate, a concatenation, a linear classifier."""

    def __init__(self):
        super().__init__()

        def cbr(i, o, k=3, s=1, g=1, relu=True):
            layers = [nn.Conv2d(i, o, k, s, k // 2, groups=g, bias=False), nn.BatchNorm2d(o)]
            return nn.Sequential(*(layers + [nn.ReLU()] if relu else layers))

        self.stem = cbr(1, 16)
        self.down = cbr(16, 32, s=2)
        self.dw = cbr(32, 32, g=32)
        self.pw = cbr(32, 32, k=1, relu=False)
        self.squeeze = nn.Conv2d(32, 8, 1)
        self.excite = nn.Conv2d(8, 32, 1)
        self.branch = cbr(32, 16, k=1)
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        x = self.down(self.stem(x))
        x = F.relu(x + self.pw(self.dw(x)))
        gate = torch.sigmoid(self.excite(F.relu(self.squeeze(F.adaptive_avg_pool2d(x, 1)))))
        x = x * gate
        x = torch.cat([x, self.branch(x)], 1)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def build(name):
    if name == "small":
        return Small()
    if name == "resnet18":
        m = torchvision.models.resnet18(weights=None, num_classes=10)
        m.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        return m
    if name == "mobilenet_v2":
        m = torchvision.models.mobilenet_v2(weights=None, num_classes=10)
        m.features[0][0] = nn.Conv2d(1, 32, 3, 2, 1, bias=False)
        return m
    raise SystemExit(f"unknown model {name}")


def main():
    a = argparse.ArgumentParser()
    a.add_argument("outdir")
    a.add_argument("--model", default="small")
    a.add_argument("--steps", type=int, default=0)
    a.add_argument("--epochs", type=float, default=0)
    a.add_argument("--batch", type=int, default=64)
    a.add_argument("--lr", type=float, default=0.05)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--threads", type=int, default=1)
    a.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = a.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtrain, ytrain = load(args.data, "train")
    xtest, ytest = load(args.data, "t10k")
    model = build(args.model)
    steps = args.steps or int(math.ceil(args.epochs * len(xtrain) / args.batch))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    g = torch.Generator().manual_seed(args.seed)
    order, at = torch.randperm(len(xtrain), generator=g), 0
    start = time.time()
    model.train()
    for _ in range(steps):
        if at + args.batch > len(order):
            order, at = torch.randperm(len(xtrain), generator=g), 0
        i = order[at:at + args.batch]
        at += args.batch
        loss = F.cross_entropy(model(xtrain[i]), ytrain[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    seconds = time.time() - start
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(xtest[k:k + 500]) for k in range(0, len(xtest), 500)])
    top1 = 100.0 * (logits.argmax(1) == ytest).double().mean().item()
    loss = F.cross_entropy(logits, ytest).item()
    x = torch.randn(1, 1, 28, 28)
    torch.onnx.export(model, x, f"{args.outdir}/model.onnx", opset_version=13)
    torch.onnx.export(model, x, f"{args.outdir}/model-bn.onnx", opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    print(json.dumps({"model": args.model, "steps": steps, "train_seconds": round(seconds, 1), "top1": top1,
                      "loss": loss, "images": len(xtest), "mean": MEAN, "std": STD,
                      "logits": logits[:20].tolist()}))


if __name__ == "__main__":
    main()
