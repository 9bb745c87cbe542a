#pragma once
// A small architecture written by hand in the file format, with every op kind the ONNX import
// produces: a Concat of two branches, a depthwise conv over the concatenation, a dense conv
// reading it, a grouped conv (gene quantum 2), an SE gate (pool, squeeze, excite, Mul), a
// residual Add, average and max pooling (ceil mode), HardSwish / SiLU / ReLU6 / HardSigmoid,
// a hidden linear layer and the classifier. Its MACs are counted by hand in tst_architecture.

namespace mp::test {

inline const char* kMixArchJson = R"({
  "format": "metaprune-arch", "version": 1, "name": "mixnet", "preset": "file",
  "input": {"channels": 3, "height": 16, "width": 16}, "classes": 5,
  "genes": [
    {"name": "stem", "kind": "stage", "max_channels": 8, "stage": 0},
    {"name": "a", "kind": "mid", "max_channels": 6, "stage": 1},
    {"name": "b", "kind": "mid", "max_channels": 4, "stage": 1},
    {"name": "mix", "kind": "stage", "max_channels": 8, "stage": 2, "quantum": 2},
    {"name": "se", "kind": "mid", "max_channels": 3, "stage": 2},
    {"name": "fc", "kind": "mid", "max_channels": 12, "stage": 3}
  ],
  "ops": [
    {"name": "stem", "kind": "conv", "inputs": ["input"], "out": "stem", "kernel": 3, "padding": 1,
     "act": "relu", "condition": ["stem"]},
    {"name": "a", "kind": "conv", "inputs": ["stem"], "out": "a", "act": "hardswish", "condition": ["stem", "a"]},
    {"name": "b", "kind": "conv", "inputs": ["stem"], "out": "b", "kernel": 3, "padding": 1, "act": "silu",
     "condition": ["stem", "b"]},
    {"name": "cat", "kind": "concat", "inputs": ["a", "b"]},
    {"name": "dw", "kind": "conv", "inputs": ["cat"], "group_width": 1, "kernel": 3, "stride": 2, "padding": 1,
     "act": "relu6", "condition": ["a", "b"], "in": ["a", "b"]},
    {"name": "mix", "kind": "conv", "inputs": ["dw"], "out": "mix", "act": "relu", "condition": ["a", "b", "mix"]},
    {"name": "group", "kind": "conv", "inputs": ["mix"], "group_width": 2, "kernel": 3, "padding": 1, "act": "relu",
     "condition": ["mix"]},
    {"name": "pool", "kind": "global_avg_pool", "inputs": ["group"]},
    {"name": "squeeze", "kind": "conv", "inputs": ["pool"], "out": "se", "batch_norm": false, "act": "relu",
     "condition": ["mix", "se"]},
    {"name": "excite", "kind": "conv", "inputs": ["squeeze"], "out": "mix", "batch_norm": false,
     "act": "hardsigmoid", "condition": ["se", "mix"]},
    {"name": "gate", "kind": "mul", "inputs": ["group", "excite"]},
    {"name": "proj", "kind": "conv", "inputs": ["gate"], "out": "mix", "condition": ["mix"]},
    {"name": "residual", "kind": "add", "inputs": ["mix", "proj"]},
    {"name": "avg", "kind": "avg_pool", "inputs": ["residual"], "kernel": 2, "stride": 2},
    {"name": "max", "kind": "max_pool", "inputs": ["avg"], "kernel": 3, "stride": 2, "ceil_mode": true},
    {"name": "fc1", "kind": "linear", "inputs": ["max"], "out": "fc", "act": "relu"},
    {"name": "classifier", "kind": "linear", "inputs": ["fc1"], "out": "classes"}
  ]
})";

/// Full-width and all-minimum MACs and params of kMixArchJson, counted by hand (tst_architecture).
constexpr long long kMixFullMacs = 55296 + 12288 + 73728 + 5760 + 5120 + 9216 + 24 + 24 + 4096 + 384 + 60;
constexpr long long kMixFullParams = 216 + 48 + 288 + 90 + 80 + 144 + 27 + 32 + 64 + 396 + 65;
constexpr long long kMixMinMacs = 6912 + 256 + 2304 + 1152 + 256 + 2304 + 2 + 2 + 256 + 8 + 5;

} // namespace mp::test
