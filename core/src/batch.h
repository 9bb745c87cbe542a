#pragma once
// Private to core: turns images into normalised channels_last float batches: in-memory sets
// directly, image folders through decode threads feeding a bounded prefetch queue.

#include <torch/torch.h>

#include "metaprune/dataset.h"

#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace mp::detail {

/// Input normalisation of a PruningNet (per channel, pixels scaled to 0..1).
struct Normalization {
    std::vector<float> mean, stddev;
};

/// [n, C, H, W] float, channels_last memory (platform.md: oneDNN kernels need it), normalised.
/// In-memory sets only. With `rng`, each image is shifted by up to `pad` pixels (zero fill)
/// and, if `flip`, mirrored with probability 1/2 (training augmentation); without, images are
/// copied unchanged.
torch::Tensor makeBatch(const Dataset& data, const int64_t* indices, int64_t n, const Normalization& norm,
                        std::mt19937_64* rng = nullptr, int pad = 0, bool flip = false);

/// Labels of `indices` as int64 [n].
torch::Tensor makeLabels(const Dataset& data, const int64_t* indices, int64_t n);

/// One batch of an image folder to prepare: its images, the crop policy, and the seed each
/// image's crop seed is derived from (with its position in the batch).
struct BatchRequest {
    std::vector<int64_t> indices;
    ViewPolicy policy = ViewPolicy::Eval;
    uint64_t seed = 0;
    /// Position of indices[0] in its whole batch (a rank's shard of a data-parallel batch):
    /// crop seeds follow the position in the whole batch.
    int64_t firstPosition = 0;
};

/// Crop seed of the image at `position` of a batch with seed `batchSeed`.
uint64_t imageSeed(uint64_t batchSeed, int64_t position);

/// Requests for batches b = first..last-1 of `order` (images order[b*size .. (b+1)*size)), each
/// with seed seedOf(b).
std::vector<BatchRequest> orderedBatches(const std::vector<int64_t>& order, int64_t batchSize,
                                         int64_t first, int64_t last, ViewPolicy policy,
                                         const std::function<uint64_t(int64_t)>& seedOf);

/// Decodes, crops and normalises one batch of an image folder: [n, C, H, W] channels_last.
/// Throws DataError when an image and every replacement of its class fail to decode.
torch::Tensor makeFolderBatch(const Dataset& data, const BatchRequest& request,
                              const Normalization& norm);

/// Prepares the batches of an image folder ahead of use on `threads` decode threads, with at
/// most `depth` batches claimed but not yet taken (memory stays bounded whatever the set's
/// size). next() hands them out in request order; each batch depends only on its request, so
/// the data is the same whatever the number of threads. The destructor stops the threads.
class BatchPrefetcher {
public:
    /// threads 0 = the folder's decode threads; depth 0 = threads + 2.
    BatchPrefetcher(const Dataset& data, const Normalization& norm,
                    std::vector<BatchRequest> requests, int threads = 0, int depth = 0);
    ~BatchPrefetcher();
    BatchPrefetcher(const BatchPrefetcher&) = delete;
    BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

    /// The next batch; blocks until it is ready, rethrows a decode thread's DataError.
    torch::Tensor next();
    /// Total time next() waited for a batch, ms.
    double waitedMs() const { return waitedMs_; }

private:
    void work();

    const Dataset& data_;
    Normalization norm_;
    std::vector<BatchRequest> requests_;
    size_t depth_ = 1, claimed_ = 0, consumed_ = 0;
    bool stop_ = false;
    std::map<size_t, std::pair<torch::Tensor, std::exception_ptr>> ready_;
    std::mutex mutex_;
    std::condition_variable space_, filled_;
    std::vector<std::thread> threads_;
    double waitedMs_ = 0;
};

/// Calls fn(x, indices + at, n) for consecutive batches of `indices` with the Eval view:
/// in-memory sets through makeBatch, image folders streamed through a BatchPrefetcher.
void forEachBatch(
    const Dataset& data, const std::vector<int64_t>& indices, int64_t batchSize,
    const Normalization& norm,
    const std::function<void(const torch::Tensor& x, const int64_t* idx, int64_t n)>& fn);

} // namespace mp::detail
