#include "generator_kernels.h"

#include <ATen/Parallel.h>

#include <mutex>
#include <vector>

namespace mp::detail {

void generateSlice(const SliceShape& s, const float* W2, const float* b2, const float* h, float* weight) {
    at::parallel_for(0, s.out, 1, [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) {
            const float* w = W2 + o * s.cols * s.hidden;
            const float* b = b2 + o * s.cols;
            float* out = weight + o * s.used;
            for (int64_t u = 0; u < s.used; ++u) {
                const float* row = w + u * s.hidden;
                float acc = b[u];
                for (int64_t k = 0; k < s.hidden; ++k)
                    acc += row[k] * h[k];
                out[u] = acc;
            }
        }
    });
}

void backwardUpdateSlice(const SliceShape& s, float* W2, float* mom, float* b2, float* bmom, const float* h,
                         const float* g, float beta, float wd, float lr, float* dh) {
    std::mutex merge;
    at::parallel_for(0, s.out, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> local(size_t(s.hidden), 0.0f);
        for (int64_t o = begin; o < end; ++o) {
            float* w = W2 + o * s.cols * s.hidden;
            float* m = mom + o * s.cols * s.hidden;
            float* b = b2 + o * s.cols;
            float* bm = bmom + o * s.cols;
            const float* go = g + o * s.used;
            for (int64_t u = 0; u < s.used; ++u) {
                const float gu = go[u];
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
