#pragma once
// Speed figures for `metaprune bench` (never asserted by tests: these machines are noisy).

#include "metaprune/training.h"

#include <string>
#include <vector>

namespace mp {

/// Median of a list of timings (ms) and its 95th percentile.
struct Timing {
    double median = 0;
    double p95 = 0;
    double first = 0; ///< first call (includes oneDNN primitive creation for new shapes)
    int samples = 0;
};

Timing summarize(std::vector<double> ms, double first);

/// Single-precision matrix-multiply speed of LibTorch's BLAS: n x n x n, GFLOP/s (2 n^3 / t).
double sgemmGflops(int n = 1024, int repeats = 5);

/// One PruningNet training step (new random encoding, forward, backward, SGD update) at
/// `batch` images of the preset's input size with random data. `gflop` receives the step's
/// floating-point work of the pruned networks (2 x 3 x MACs per image, forward + backward)
/// averaged over the sampled encodings.
Timing benchTrainingStep(const std::string& family, const std::string& preset, int channels, int size,
                         int classes, int batch, GeneratorUpdate update, int steps, double* gflop = nullptr,
                         int64_t* generatorParams = nullptr);

} // namespace mp
