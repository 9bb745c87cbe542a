#include "generator_kernels.h"

#include <ATen/Parallel.h>

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

} // namespace mp::detail
