#include "batch.h"

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

} // namespace mp::detail
