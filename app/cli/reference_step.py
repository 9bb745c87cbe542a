#!/usr/bin/env python3
"""The reference MetaPruning training step, re-implemented in PyTorch for `metaprune bench --reference`.

The official design (github liuzechun/MetaPruning, mobilenet_v2.py; metapruning.md, "PruningNet
block"): for every conv a Linear(k, hidden) -> ReLU -> Linear(hidden, numel) generator maps the
structure's channel scales to the conv's *maximum-size* weight, of which the leading
[:out, :in] slice is used (depthwise convs slice [:mid] and run with groups = mid); one
affine-free batch norm per (conv, output scale); a plain classifier; label-smoothed cross-entropy;
torch.optim.SGD with momentum over every parameter (dense, as the reference). The network is
built from a MetaPrune architecture file (the same layers MetaPrune trains), NCHW as the reference
runs. Prints one line per timed step and `median_ms X`.
"""
import argparse
import json
import random
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SCALES = [(10 + 3 * i) / 100 for i in range(31)]  # the reference's channel scale grid


def channels(max_channels, index):
    return max(1, max_channels * (10 + 3 * index) // 100)  # MetaPrune's channel count (README)


class ReferencePruningNet(nn.Module):
    def __init__(self, arch):
        super().__init__()
        self.arch = arch
        self.genes = {g["name"]: g for g in arch["genes"]}
        self.gene_index = {g["name"]: i for i, g in enumerate(arch["genes"])}
        self.out_gene = {"input": None}
        self.generators = nn.ModuleDict()
        self.bns = nn.ModuleDict()
        self.max_out = {}
        in_channels = arch["input"]["channels"]
        for op in arch["ops"]:
            src = op["inputs"][0]
            if op["kind"] == "conv":
                gene_in = self.out_gene[src]
                max_in = in_channels if gene_in is None else self._max(gene_in)
                out = op.get("out", gene_in)
                max_out = self._max(out)
                kh, kw = op["kernel"]
                depthwise = op["group_width"] == 1
                numel = max_out * (1 if depthwise else max_in) * kh * kw
                hidden = op.get("hidden", 32)
                key = op["name"].replace(".", "_")
                self.generators[key] = nn.Sequential(
                    nn.Linear(len(op["condition"]), hidden), nn.ReLU(), nn.Linear(hidden, numel))
                if op.get("batch_norm"):  # one per output scale; a fixed width has one scale
                    self.bns[key] = nn.ModuleList(
                        nn.BatchNorm2d(channels(max_out, i) if out in self.genes else max_out, affine=False)
                        for i in range(31))
                self.max_out[op["name"]] = (max_out, max_in)
                self.out_gene[op["name"]] = out
            elif op["kind"] == "linear":
                self.classifier = nn.Linear(self._max(self.out_gene[src]), arch["classes"])
                self.out_gene[op["name"]] = None
            else:
                self.out_gene[op["name"]] = self.out_gene[src]

    def _max(self, gene):
        return self.genes[gene]["max_channels"] if gene in self.genes else int(gene)  # a fixed width

    def width(self, gene, enc, in_channels):
        if gene is None:
            return in_channels
        if gene not in self.genes:
            return int(gene)
        return channels(self.genes[gene]["max_channels"], enc[self.gene_index[gene]])

    def forward(self, x, enc):
        values = {"input": x}
        in_channels = x.shape[1]
        for op in self.arch["ops"]:
            h = values[op["inputs"][0]]
            if op["kind"] == "conv":
                key = op["name"].replace(".", "_")
                max_out, max_in = self.max_out[op["name"]]
                out_gene = self.out_gene[op["name"]]
                out = self.width(out_gene, enc, in_channels)
                cin = h.shape[1]
                scale = torch.tensor([SCALES[enc[self.gene_index[g]]] for g in op["condition"]])
                kh, kw = op["kernel"]
                depthwise = op["group_width"] == 1
                w = self.generators[key](scale)
                if depthwise:
                    w = w.view(max_out, 1, kh, kw)[:cin]
                else:
                    w = w.view(max_out, max_in, kh, kw)[:out, :cin]
                h = F.conv2d(h, w, stride=tuple(op["stride"]), padding=tuple(op["padding"]),
                             groups=cin if depthwise else 1)
                if op.get("batch_norm"):
                    h = self.bns[key][enc[self.gene_index[out_gene]] if out_gene in self.genes else 30](h)
                if op.get("act") == "relu6":
                    h = F.relu6(h)
                elif op.get("act") == "relu":
                    h = F.relu(h)
            elif op["kind"] == "add":
                h = values[op["inputs"][0]] + values[op["inputs"][1]]
            elif op["kind"] == "global_avg_pool":
                h = F.adaptive_avg_pool2d(h, 1).flatten(1)
            elif op["kind"] == "linear":
                h = self.classifier(h)
            else:
                raise SystemExit("reference_step.py: op kind %s is not in the reference design" % op["kind"])
            values[op["name"]] = h
        return h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("arch")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)
    arch = json.load(open(args.arch))
    net = ReferencePruningNet(arch)
    params = sum(p.numel() for p in net.parameters())
    print("parameters %d" % params, flush=True)
    opt = torch.optim.SGD(net.parameters(), lr=0.25, momentum=0.9)
    size = arch["input"]
    x = torch.randn(args.batch, size["channels"], size["height"], size["width"])
    y = torch.randint(0, arch["classes"], (args.batch,))
    times = []
    for step in range(args.steps + 1):  # the first step is warm-up
        enc = [random.randrange(31) for _ in arch["genes"]]
        start = time.perf_counter()
        loss = F.cross_entropy(net(x, enc), y, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ms = (time.perf_counter() - start) * 1000
        if step > 0:
            times.append(ms)
            print("step %d %.0f ms" % (step, ms), flush=True)
    print("median_ms %.1f" % statistics.median(times), flush=True)


if __name__ == "__main__":
    main()
