#include "batch.h"

#include "image_io.h"

#include <chrono>

namespace mp::detail {

torch::Tensor makeBatch(const Dataset& data, const int64_t* indices, int64_t n, const Normalization& norm,
                        std::mt19937_64* rng, int pad, bool flip) {
    const int C = data.channels, H = data.height, W = data.width;
    torch::Tensor t = torch::empty({n, C, H, W}, torch::TensorOptions().memory_format(at::MemoryFormat::ChannelsLast));
    float* out = t.data_ptr<float>();
    std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
    for (int c = 0; c < C; ++c) {
        scale[size_t(c)] = 1.0f / (255.0f * norm.stddev[size_t(c)]);
        shift[size_t(c)] = -norm.mean[size_t(c)] / norm.stddev[size_t(c)];
    }
    std::uniform_int_distribution<int> shiftDist(-pad, pad);
    std::bernoulli_distribution coin(0.5);
    const int64_t plane = int64_t(H) * W;
    for (int64_t b = 0; b < n; ++b) {
        const uint8_t* img = data.pixels.data() + indices[b] * data.imageBytes();
        int dy = 0, dx = 0;
        bool mirror = false;
        if (rng) {
            dy = shiftDist(*rng);
            dx = shiftDist(*rng);
            mirror = flip && coin(*rng);
        }
        float* o = out + b * plane * C;
        for (int y = 0; y < H; ++y) {
            const int sy = y + dy;
            for (int x = 0; x < W; ++x) {
                int sx = x + dx;
                if (mirror)
                    sx = W - 1 - sx;
                float* px = o + (int64_t(y) * W + x) * C;
                const bool inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
                for (int c = 0; c < C; ++c) {
                    const float v = inside ? float(img[c * plane + int64_t(sy) * W + sx]) : 0.0f;
                    px[c] = v * scale[size_t(c)] + shift[size_t(c)];
                }
            }
        }
    }
    return t;
}

torch::Tensor makeLabels(const Dataset& data, const int64_t* indices, int64_t n) {
    torch::Tensor t = torch::empty({n}, torch::kLong);
    int64_t* p = t.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i)
        p[i] = data.labels[size_t(indices[i])];
    return t;
}

uint64_t imageSeed(uint64_t batchSeed, int64_t position) {
    uint64_t x = batchSeed + 0x9E3779B97F4A7C15ull * uint64_t(position + 1);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

std::vector<BatchRequest> orderedBatches(const std::vector<int64_t>& order, int64_t batchSize,
                                         int64_t first, int64_t last, ViewPolicy policy,
                                         const std::function<uint64_t(int64_t)>& seedOf) {
    std::vector<BatchRequest> out;
    for (int64_t b = first; b < last; ++b) {
        BatchRequest r;
        const int64_t at = b * batchSize;
        const int64_t n = std::min<int64_t>(batchSize, int64_t(order.size()) - at);
        r.indices.assign(order.begin() + at, order.begin() + at + n);
        r.policy = policy;
        r.seed = seedOf(b);
        out.push_back(std::move(r));
    }
    return out;
}

torch::Tensor makeFolderBatch(const Dataset& data, const BatchRequest& r,
                              const Normalization& norm) {
    const int C = data.channels, H = data.height, W = data.width;
    const int64_t n = int64_t(r.indices.size());
    torch::Tensor t = torch::empty(
        {n, C, H, W}, torch::TensorOptions().memory_format(at::MemoryFormat::ChannelsLast));
    float* out = t.data_ptr<float>();
    std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
    for (int c = 0; c < C; ++c) {
        scale[size_t(c)] = 1.0f / (255.0f * norm.stddev[size_t(c)]);
        shift[size_t(c)] = -norm.mean[size_t(c)] / norm.stddev[size_t(c)];
    }
    const int64_t pixels = int64_t(H) * W;
    std::vector<uint8_t> img(size_t(pixels * C));
    for (int64_t b = 0; b < n; ++b) {
        renderImage(data, r.indices[size_t(b)], r.policy, imageSeed(r.seed, r.firstPosition + b), img.data());
        float* o = out + b * pixels * C; // channels_last: H x W x C per image
        for (int64_t p = 0; p < pixels; ++p)
            for (int c = 0; c < C; ++c)
                o[p * C + c] = float(img[size_t(p * C + c)]) * scale[size_t(c)] + shift[size_t(c)];
    }
    return t;
}

BatchPrefetcher::BatchPrefetcher(const Dataset& data, const Normalization& norm,
                                 std::vector<BatchRequest> requests, int threads, int depth)
    : data_(data), norm_(norm), requests_(std::move(requests)) {
    if (threads <= 0) threads = data.files ? data.files->decodeThreads : 1;
    depth_ = size_t(depth > 0 ? depth : threads + 2);
    threads =
        int(std::min<size_t>(size_t(std::max(1, threads)), std::max<size_t>(1, requests_.size())));
    for (int i = 0; i < threads; ++i)
        threads_.emplace_back([this] { work(); });
}

BatchPrefetcher::~BatchPrefetcher() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    space_.notify_all();
    for (std::thread& t : threads_)
        t.join();
}

void BatchPrefetcher::work() {
    for (;;) {
        size_t k = 0;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            space_.wait(lock, [this] {
                return stop_ || claimed_ >= requests_.size() || claimed_ < consumed_ + depth_;
            });
            if (stop_ || claimed_ >= requests_.size()) return;
            k = claimed_++;
        }
        std::pair<torch::Tensor, std::exception_ptr> slot;
        try {
            slot.first = makeFolderBatch(data_, requests_[k], norm_);
        } catch (...) {
            slot.second = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ready_[k] = std::move(slot);
        }
        filled_.notify_all();
    }
}

torch::Tensor BatchPrefetcher::next() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (consumed_ >= requests_.size()) throw std::logic_error("BatchPrefetcher: no batch left");
    const auto start = std::chrono::steady_clock::now();
    filled_.wait(lock, [this] { return ready_.count(consumed_) > 0; });
    waitedMs_ +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    auto slot = std::move(ready_[consumed_]);
    ready_.erase(consumed_);
    ++consumed_;
    lock.unlock();
    space_.notify_all();
    if (slot.second) std::rethrow_exception(slot.second);
    return slot.first;
}

void forEachBatch(
    const Dataset& data, const std::vector<int64_t>& indices, int64_t batchSize,
    const Normalization& norm,
    const std::function<void(const torch::Tensor& x, const int64_t* idx, int64_t n)>& fn) {
    const int64_t batches = (int64_t(indices.size()) + batchSize - 1) / batchSize;
    if (data.inMemory()) {
        for (int64_t b = 0; b < batches; ++b) {
            const int64_t n = std::min<int64_t>(batchSize, int64_t(indices.size()) - b * batchSize);
            fn(makeBatch(data, indices.data() + b * batchSize, n, norm),
               indices.data() + b * batchSize, n);
        }
        return;
    }
    BatchPrefetcher pre(data, norm,
                        orderedBatches(indices, batchSize, 0, batches, ViewPolicy::Eval,
                                       [](int64_t) { return 0; }));
    for (int64_t b = 0; b < batches; ++b) {
        const int64_t n = std::min<int64_t>(batchSize, int64_t(indices.size()) - b * batchSize);
        fn(pre.next(), indices.data() + b * batchSize, n);
    }
}

} // namespace mp::detail
