#include "generator_kernels.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <mutex>
#include <numeric>
#include <vector>

namespace mp::detail {

namespace {
int64_t total(const std::vector<ChannelRange>& ranges) {
    int64_t n = 0;
    for (const ChannelRange& r : ranges)
        n += r.count;
    return n;
}

/// The full-width row of every used output row, in compact order.
std::vector<int64_t> usedRows(const SliceShape& s) {
    std::vector<int64_t> rows;
    rows.reserve(size_t(s.outCount()));
    for (const ChannelRange& r : s.rows)
        for (int c = 0; c < r.count; ++c)
            rows.push_back(r.begin + c);
    return rows;
}
} // namespace

int64_t SliceShape::outCount() const { return total(rows); }
int64_t SliceShape::usedCount() const { return total(colRanges); }

void generateSlice(const SliceShape& s, const float* W2, const float* b2, const float* h, float* weight) {
    const std::vector<int64_t> rows = usedRows(s);
    const int64_t used = s.usedCount();
    at::parallel_for(0, int64_t(rows.size()), 1, [&](int64_t begin, int64_t end) {
        for (int64_t oi = begin; oi < end; ++oi) {
            const int64_t o = rows[size_t(oi)];
            const float* w = W2 + o * s.cols * s.hidden;
            const float* b = b2 + o * s.cols;
            float* out = weight + oi * used;
            for (const ChannelRange& range : s.colRanges)
                for (int64_t u = range.begin; u < range.begin + range.count; ++u) {
                    const float* row = w + u * s.hidden;
                    float acc = b[u];
                    for (int64_t k = 0; k < s.hidden; ++k)
                        acc += row[k] * h[k];
                    *out++ = acc;
                }
        }
    });
}

void backwardUpdateSlice(const SliceShape& s, float* W2, float* mom, float* b2, float* bmom, const float* h,
                         const float* g, float beta, float wd, float lr, float* dh) {
    const std::vector<int64_t> rows = usedRows(s);
    const int64_t used = s.usedCount();
    std::mutex merge;
    at::parallel_for(0, int64_t(rows.size()), 1, [&](int64_t begin, int64_t end) {
        std::vector<float> local(size_t(s.hidden), 0.0f);
        for (int64_t oi = begin; oi < end; ++oi) {
            const int64_t o = rows[size_t(oi)];
            float* w = W2 + o * s.cols * s.hidden;
            float* m = mom + o * s.cols * s.hidden;
            float* b = b2 + o * s.cols;
            float* bm = bmom + o * s.cols;
            const float* go = g + oi * used;
            for (const ChannelRange& range : s.colRanges)
                for (int64_t u = range.begin; u < range.begin + range.count; ++u) {
                    const float gu = *go++;
                    float* wr = w + u * s.hidden;
                    float* mr = m + u * s.hidden;
                    for (int64_t k = 0; k < s.hidden; ++k) {
                        local[size_t(k)] += gu * wr[k];
                        const float mk = beta * mr[k] + gu * h[k] + wd * wr[k];
                        mr[k] = mk;
                        wr[k] -= lr * mk;
                    }
                    const float bmk = beta * bm[u] + gu + wd * b[u];
                    bm[u] = bmk;
                    b[u] -= lr * bmk;
                }
        }
        std::lock_guard<std::mutex> lock(merge);
        for (int64_t k = 0; k < s.hidden; ++k)
            dh[k] += local[size_t(k)];
    });
}

namespace {
std::atomic<bool> gPortable{false};

torch::Tensor indexOf(const std::vector<ChannelRange>& ranges, const torch::Device& device) {
    std::vector<int64_t> idx;
    for (const ChannelRange& r : ranges)
        for (int c = 0; c < r.count; ++c)
            idx.push_back(r.begin + c);
    return torch::tensor(idx, torch::kLong).to(device);
}
} // namespace

void setPortableKernels(bool on) { gPortable = on; }

bool portableKernels(const torch::Tensor& t) { return !t.is_cpu() || gPortable.load(); }

torch::Tensor generateSlice(const SliceShape& s, const torch::Tensor& W2, const torch::Tensor& b2,
                            const torch::Tensor& h) {
    if (!portableKernels(W2)) {
        torch::Tensor weight = torch::empty({s.outCount() * s.usedCount()});
        const torch::Tensor hc = h.contiguous();
        generateSlice(s, W2.data_ptr<float>(), b2.data_ptr<float>(), hc.data_ptr<float>(), weight.data_ptr<float>());
        return weight;
    }
    const torch::Tensor rows = indexOf(s.rows, W2.device()), cols = indexOf(s.colRanges, W2.device());
    const torch::Tensor W = W2.view({-1, s.cols, s.hidden}).index_select(0, rows).index_select(1, cols);
    const torch::Tensor b = b2.view({-1, s.cols}).index_select(0, rows).index_select(1, cols);
    return (W.matmul(h) + b).reshape({-1});
}

torch::Tensor backwardUpdateSlice(const SliceShape& s, torch::Tensor& W2, torch::Tensor& mom, torch::Tensor& b2,
                                  torch::Tensor& bmom, const torch::Tensor& h, const torch::Tensor& g, float beta,
                                  float wd, float lr) {
    if (!portableKernels(W2)) {
        torch::Tensor dh = torch::zeros({s.hidden});
        const torch::Tensor hc = h.contiguous(), gc = g.contiguous();
        backwardUpdateSlice(s, W2.data_ptr<float>(), mom.data_ptr<float>(), b2.data_ptr<float>(),
                            bmom.data_ptr<float>(), hc.data_ptr<float>(), gc.data_ptr<float>(), beta, wd, lr,
                            dh.data_ptr<float>());
        return dh;
    }
    const torch::Tensor rows = indexOf(s.rows, W2.device()).view({-1, 1}),
                        cols = indexOf(s.colRanges, W2.device()).view({1, -1});
    torch::Tensor Wv = W2.view({-1, s.cols, s.hidden}), Mv = mom.view({-1, s.cols, s.hidden});
    torch::Tensor bv = b2.view({-1, s.cols}), bmv = bmom.view({-1, s.cols});
    const torch::Tensor W = Wv.index({rows, cols}), M = Mv.index({rows, cols}); // [out, used, hidden]
    const torch::Tensor b = bv.index({rows, cols}), bm = bmv.index({rows, cols});
    const torch::Tensor G = g.view({s.outCount(), s.usedCount()});
    const torch::Tensor dh = (W * G.unsqueeze(-1)).sum(std::vector<int64_t>{0, 1}); // with W2 before the update
    const torch::Tensor newM = M * beta + G.unsqueeze(-1) * h + W * wd;
    const torch::Tensor newBm = bm * beta + G + b * wd;
    Mv.index_put_({rows, cols}, newM);
    Wv.index_put_({rows, cols}, W - newM * lr);
    bmv.index_put_({rows, cols}, newBm);
    bv.index_put_({rows, cols}, b - newBm * lr);
    return dh;
}

} // namespace mp::detail
