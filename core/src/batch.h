#pragma once
// Private to core: turns 8-bit images into normalised channels_last float batches.

#include <torch/torch.h>

#include "metaprune/dataset.h"

#include <random>

namespace mp::detail {

/// Input normalisation of a PruningNet (per channel, pixels scaled to 0..1).
struct Normalization {
    std::vector<float> mean, stddev;
};

/// [n, C, H, W] float, channels_last memory (platform.md: oneDNN kernels need it), normalised.
/// With `rng`, each image is shifted by up to `pad` pixels (zero fill) and, if `flip`, mirrored
/// with probability 1/2 (training augmentation); without, images are copied unchanged.
torch::Tensor makeBatch(const Dataset& data, const int64_t* indices, int64_t n, const Normalization& norm,
                        std::mt19937_64* rng = nullptr, int pad = 0, bool flip = false);

/// Labels of `indices` as int64 [n].
torch::Tensor makeLabels(const Dataset& data, const int64_t* indices, int64_t n);

} // namespace mp::detail
