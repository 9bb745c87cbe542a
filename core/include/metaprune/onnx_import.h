#pragma once
// ONNX import (metaprune import): derives the searchable architecture description of a CNN from
// its ONNX graph, read with Debian's libonnx. Channel groups that must stay equal are found by
// walking the graph with a union-find over channel sets, as dependency-graph pruning does:
// the inputs of every Add and Mul are tied, a depthwise or grouped conv follows its input, a
// Concat joins its inputs' widths, and the input channels and the classifier's outputs stay
// fixed; a batch norm follows its input's genes. The trained weights are read when asked for
// (trained.h): the model evaluates as itself and PruningNets and pruned networks start from
// it. Torch-free.

#include "metaprune/architecture.h"
#include "metaprune/trained.h"

#include <string>
#include <vector>

namespace mp {

/// What an import found and did, for the user.
struct ImportReport {
    std::string model;   ///< the file
    int nodes = 0;       ///< ONNX nodes read
    int convBatchNorms = 0;       ///< BatchNormalization nodes right after a conv (its BN)
    int standaloneBatchNorms = 0; ///< the others: BatchNorm ops (pre-activation, after a Concat)
    int passThrough = 0; ///< Identity, Dropout, Flatten and Reshape nodes that need no op
    std::vector<std::string> notes;
};

/// The ops the importer reads, for messages and the README.
std::vector<std::string> supportedOnnxOps();

/// Reads `path` and returns its description (family = the file's base name, preset "file").
/// With `weights`, also the trained tensors of every op (Conv and Gemm/MatMul weights and
/// biases, BatchNormalization parameters and running statistics, external data included),
/// and the description records the file and its SHA-256 as its weights (weightsFile). Throws
/// ArchError naming the file and the cause (no such file, a folder, unreadable, not ONNX),
/// for a graph it cannot take every unsupported node kind with its first node's name and the
/// supported ops, and for a weight tensor that is missing, of the wrong shape or type, cut
/// short or not finite, the tensor and its node; nothing is written.
ArchSpec importOnnx(const std::string& path, ImportReport* report = nullptr, TrainedWeights* weights = nullptr);

} // namespace mp
