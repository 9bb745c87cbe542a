#pragma once
// Speed figures for `metaprune bench` (never asserted by tests: these machines are noisy).

#include "metaprune/dataset.h"
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

/// Data-parallel PruningNet training steps (`metaprune bench --nproc`): `steps` timed steps (after
/// one warm-up step) at the global batch `batch`, split over the ranks of `dist` (null: one
/// process), on random data with the same random encodings on every rank, as trainPruningNet runs
/// them (synchronised batch norm, averaged gradients). Returns this rank's step timing (ms);
/// `allreduceBytes` receives the float32 bytes each rank puts into the gradient allreduce per step
/// (the generated conv weights' and the dense parameters' gradients), averaged over the steps,
/// and `bnBytes` those of the synchronised batch norm (double sums, forward and backward).
/// Throws DistributedError when a rank is lost.
Timing benchDataParallelSteps(const std::string& family, const std::string& preset, int channels, int size,
                              int classes, int batch, int steps, const Distributed* dist,
                              double* allreduceBytes = nullptr, double* bnBytes = nullptr,
                              bool syncBatchNorm = false);

/// Writes `count` JPEGs (quality 90) of mixed sizes around 500x375 (widths 375-625, a quarter
/// portrait) into `classes` class folders of `dir`, with photo-like texture (about 60-120 KB
/// each), on `threads` threads. Throws DataError naming a file that cannot be written.
void writeJpegFolder(const std::string& dir, int count, int classes, uint64_t seed, int threads);

/// Images per second of one thread reading, decoding and cropping the first `images` files of
/// the image folder `data` with `policy` to its input size: libjpeg-turbo (DCT-domain scaling)
/// and stb_image (the decoder used before, full size).
struct DecodeSpeed {
    double turbo = 0, stb = 0;
    int images = 0;
};
DecodeSpeed benchDecode(const Dataset& data, int images, ViewPolicy policy);

/// `steps` PruningNet training steps (random encodings) at batch `batch` fed by the streaming
/// loader from data.train with its training policy: the step time and how long each step
/// waited for its batch, after `warm` steps that fill the queue.
struct StreamingSteps {
    Timing step;
    double waitMedianMs = 0, waitMaxMs = 0;
};
StreamingSteps benchStreamingSteps(const DataBundle& data, const std::string& family, const std::string& preset,
                                   int batch, int steps, int warm);

/// Streams every training image of `data` once (Eval view, batches of `batch`) and returns this
/// process's peak resident memory (VmHWM) in MiB.
double streamOnceForPeakRss(const DataBundle& data, int batch);

} // namespace mp
