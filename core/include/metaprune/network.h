#pragma once
// A network's tensors as plain arrays: what an export writes and a trained model holds.
// Torch-free.

#include "metaprune/architecture.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mp {

/// A tensor of an exported network, row-major.
struct NetworkTensor {
    std::vector<int64_t> shape;
    std::vector<float> data;
};

/// A pruned network ready to export: for every op of `arch`, the conv weight [out, in/groups,
/// k, k] or classifier weight [classes, in] and its bias, with BN folded into the conv biases
/// (a BatchNorm op's per-channel scale and shift as its weight and bias; empty for ops without
/// parameters).
struct PrunedNetwork {
    ArchSpec arch;
    Encoding encoding;
    std::vector<NetworkTensor> weight, bias;
    std::string metadataJson; ///< describeExport()
};

} // namespace mp
