#include "bn_kernels.h"

#include <ATen/Parallel.h>

#include <mutex>
#include <vector>

namespace mp::detail {

namespace {

constexpr int64_t kRowBlock = 512; // at most this many rows summed in float before adding into double

// Rows of a float block: the largest divisor of an image's rows (H * W) up to kRowBlock, so that
// blocks never straddle two images. The sums then do not depend on how a batch is split into
// shards (data-parallel ranks hold whole images): sums of cancelling gradients are sensitive
// to their float rounding, which would otherwise differ between 1 and N processes.
int64_t blockRows(int64_t rowsPerImage) {
    for (int64_t b = std::min(kRowBlock, rowsPerImage); b > 1; --b)
        if (rowsPerImage % b == 0)
            return b;
    return 1;
}

template <Activation A>
inline float activate(float v) {
    if constexpr (A == Activation::ReLU)
        return v > 0 ? v : 0;
    else if constexpr (A == Activation::ReLU6)
        return v > 0 ? (v < 6 ? v : 6) : 0;
    else
        return v;
}

// The gradient passes where the activation's input (the normalised value) was in its open
// linear range, hardtanh's backward rule. Recomputed from x: cheaper than reading y back.
template <Activation A>
inline float mask(float xhat, float g) {
    if constexpr (A == Activation::ReLU)
        return xhat > 0 ? g : 0.0f;
    else if constexpr (A == Activation::ReLU6)
        return xhat > 0 && xhat < 6 ? g : 0.0f;
    else
        return g;
}

// Calls f with the activation as a compile-time constant, so the inner loops vectorise.
template <typename F>
void dispatch(Activation act, F&& f) {
    switch (act) {
    case Activation::ReLU:
        f(std::integral_constant<Activation, Activation::ReLU>{});
        break;
    case Activation::ReLU6:
        f(std::integral_constant<Activation, Activation::ReLU6>{});
        break;
    case Activation::None:
        f(std::integral_constant<Activation, Activation::None>{});
        break;
    default: // the module applies the others after a plain batch norm (fusedActivation)
        TORCH_CHECK(false, "the batch norm kernels fuse only ReLU and ReLU6");
    }
}

int64_t channelsOf(const torch::Tensor& x) { return x.dim() == 4 ? x.size(1) : x.size(-1); }

torch::Tensor rowsView(const torch::Tensor& x) {
    TORCH_CHECK(x.dim() == 4 && x.scalar_type() == torch::kFloat, "batch norm kernels need a 4-D float tensor");
    return x.is_contiguous(at::MemoryFormat::ChannelsLast) ? x : x.contiguous(at::MemoryFormat::ChannelsLast);
}

// Sums f(row r, channel c) over rows into two double vectors, parallel over row blocks.
template <typename F>
void channelSums(int64_t M, int64_t C, int64_t rowsPerImage, std::vector<double>& a, std::vector<double>& b,
                 F&& f) {
    const int64_t block = blockRows(rowsPerImage);
    a.assign(size_t(C), 0.0);
    b.assign(size_t(C), 0.0);
    std::mutex merge;
    at::parallel_for(0, (M + block - 1) / block, 1, [&](int64_t begin, int64_t end) {
        std::vector<double> la(size_t(C), 0.0), lb(size_t(C), 0.0);
        std::vector<float> fa(static_cast<size_t>(C)), fb(static_cast<size_t>(C));
        for (int64_t blk = begin; blk < end; ++blk) {
            std::fill(fa.begin(), fa.end(), 0.0f);
            std::fill(fb.begin(), fb.end(), 0.0f);
            const int64_t r1 = std::min(M, (blk + 1) * block);
            for (int64_t r = blk * block; r < r1; ++r)
                f(r, fa.data(), fb.data());
            for (int64_t c = 0; c < C; ++c) {
                la[size_t(c)] += fa[size_t(c)];
                lb[size_t(c)] += fb[size_t(c)];
            }
        }
        std::lock_guard<std::mutex> lock(merge);
        for (int64_t c = 0; c < C; ++c) {
            a[size_t(c)] += la[size_t(c)];
            b[size_t(c)] += lb[size_t(c)];
        }
    });
}

const std::vector<int64_t> kChannelDims{0, 2, 3};

torch::Tensor perChannel(const torch::Tensor& v) { return v.view({1, -1, 1, 1}); }

torch::Tensor activatedAten(const torch::Tensor& y, Activation act) {
    if (act == Activation::ReLU)
        return torch::relu(y);
    if (act == Activation::ReLU6)
        return torch::hardtanh(y, 0.0, 6.0);
    return y;
}

// The activation's gradient mask of BatchNormAct, as a tensor of the normalised input.
torch::Tensor maskedAten(const torch::Tensor& xhat, const torch::Tensor& g, Activation act) {
    if (act == Activation::ReLU)
        return g * xhat.gt(0);
    if (act == Activation::ReLU6)
        return g * (xhat.gt(0) & xhat.lt(6));
    return g;
}

// Sums per-channel tensors over the ranks (through a host copy in double).
std::vector<torch::Tensor> sumOverRanks(const std::vector<torch::Tensor>& parts, const RankSum& sync) {
    std::vector<double> v;
    for (const torch::Tensor& t : parts) {
        const torch::Tensor c = t.to(torch::kCPU, torch::kDouble).contiguous();
        v.insert(v.end(), c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
    }
    sync(v);
    std::vector<torch::Tensor> out;
    size_t at = 0;
    for (const torch::Tensor& t : parts) {
        out.push_back(torch::from_blob(v.data() + at, t.sizes(), torch::kDouble).to(t.device()).clone());
        at += size_t(t.numel());
    }
    return out;
}

// BatchNormAct's function and gradient in ATen ops, for any device.
class BatchNormActAten : public torch::autograd::Function<BatchNormActAten> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& mean, const torch::Tensor& invstd, int64_t act,
                                 const RankSum* sync) {
        ctx->save_for_backward({x, mean, invstd});
        ctx->saved_data["act"] = act;
        ctx->saved_data["sync"] = int64_t(reinterpret_cast<intptr_t>(sync));
        ctx->mark_non_differentiable({mean, invstd});
        return normalizeAct(x, mean, invstd, Activation(act));
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor xc = saved[0] - perChannel(saved[1]);
        const torch::Tensor inv = perChannel(saved[2]);
        const torch::Tensor g = maskedAten(xc * inv, grads[0], Activation(ctx->saved_data["act"].toInt()));
        torch::Tensor sdy = g.sum(kChannelDims, false, torch::kDouble);
        torch::Tensor sdyx = (g * xc).sum(kChannelDims, false, torch::kDouble);
        double count = double(saved[0].numel() / saved[0].size(1));
        if (const auto* sync = reinterpret_cast<const RankSum*>(intptr_t(ctx->saved_data["sync"].toInt()));
            sync && sync->ranks() > 1) {
            const std::vector<torch::Tensor> s =
                sumOverRanks({sdy, sdyx, torch::tensor({count}, torch::kDouble).to(sdy.device())}, *sync);
            sdy = s[0];
            sdyx = s[1];
            count = s[2].item<double>();
        }
        const torch::Tensor k1 = perChannel((sdy / count).to(torch::kFloat));
        const torch::Tensor k2 = perChannel((sdyx / count).to(torch::kFloat)) * inv * inv;
        const torch::Tensor dx = (inv * (g - k1 - xc * k2)).contiguous(at::MemoryFormat::ChannelsLast);
        return {dx, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

class BatchNormAct : public torch::autograd::Function<BatchNormAct> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& mean, const torch::Tensor& invstd, int64_t act,
                                 const RankSum* sync) {
        const torch::Tensor xc = rowsView(x);
        const torch::Tensor y = normalizeAct(xc, mean, invstd, Activation(act));
        ctx->save_for_backward({xc, mean, invstd});
        ctx->saved_data["act"] = act;
        ctx->saved_data["sync"] = int64_t(reinterpret_cast<intptr_t>(sync));
        ctx->mark_non_differentiable({mean, invstd});
        return y;
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor& x = saved[0];
        const Activation act = Activation(ctx->saved_data["act"].toInt());
        const torch::Tensor dy = rowsView(grads[0]);
        const int64_t C = channelsOf(x), M = x.numel() / C;
        const float* xp = x.data_ptr<float>();
        const float* dyp = dy.data_ptr<float>();
        const float* mp = saved[1].data_ptr<float>();
        const float* ip = saved[2].data_ptr<float>();
        // Pass 1: sum of dy and of dy * (x - mean) per channel, after the activation's mask.
        std::vector<double> sdy, sdyx;
        dispatch(act, [&](auto A) {
            channelSums(M, C, x.size(2) * x.size(3), sdy, sdyx, [&](int64_t r, float* a, float* b) {
                const float* xr = xp + r * C;
                const float* dr = dyp + r * C;
                for (int64_t c = 0; c < C; ++c) {
                    const float xc = xr[c] - mp[c];
                    const float g = mask<decltype(A)::value>(xc * ip[c], dr[c]);
                    a[c] += g;
                    b[c] += g * xc;
                }
            });
        });
        double count = double(M);
        if (const auto* sync = reinterpret_cast<const RankSum*>(intptr_t(ctx->saved_data["sync"].toInt()));
            sync && sync->ranks() > 1) {
            std::vector<double> sums(sdy);
            sums.insert(sums.end(), sdyx.begin(), sdyx.end());
            sums.push_back(count);
            (*sync)(sums);
            std::copy(sums.begin(), sums.begin() + C, sdy.begin());
            std::copy(sums.begin() + C, sums.begin() + 2 * C, sdyx.begin());
            count = sums.back();
        }
        std::vector<float> k1(static_cast<size_t>(C)), k2(static_cast<size_t>(C));
        for (int64_t c = 0; c < C; ++c) {
            k1[size_t(c)] = float(sdy[size_t(c)] / count);
            k2[size_t(c)] = float(sdyx[size_t(c)] / count) * ip[c] * ip[c];
        }
        // Pass 2: dx = invstd * (g - mean(g) - (x - mean) * invstd^2 * mean(g * (x - mean))).
        torch::Tensor dx = torch::empty_like(x, at::MemoryFormat::ChannelsLast);
        float* dxp = dx.data_ptr<float>();
        const float* k1p = k1.data();
        const float* k2p = k2.data();
        dispatch(act, [&](auto A) {
            at::parallel_for(0, M, 2048, [&](int64_t begin, int64_t end) {
                for (int64_t r = begin; r < end; ++r) {
                    const float* xr = xp + r * C;
                    const float* dr = dyp + r * C;
                    float* o = dxp + r * C;
                    for (int64_t c = 0; c < C; ++c) {
                        const float xc = xr[c] - mp[c];
                        o[c] = ip[c] * (mask<decltype(A)::value>(xc * ip[c], dr[c]) - k1p[c] - xc * k2p[c]);
                    }
                }
            });
        });
        return {dx, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

} // namespace

std::pair<torch::Tensor, torch::Tensor> channelMeanVar(const torch::Tensor& x, const RankSum* sync) {
    if (portableKernels(x)) {
        if (sync && sync->ranks() > 1) {
            const torch::Tensor xd = x.to(torch::kDouble);
            const double count = double(x.numel() / x.size(1));
            const std::vector<torch::Tensor> s =
                sumOverRanks({xd.sum(kChannelDims), (xd * xd).sum(kChannelDims),
                              torch::tensor({count}, torch::kDouble).to(x.device())},
                             *sync);
            const torch::Tensor m = s[0] / s[2];
            return {m.to(torch::kFloat), (s[1] / s[2] - m * m).clamp_min(0).to(torch::kFloat)};
        }
        const auto [var, mean] = torch::var_mean(x, kChannelDims, false);
        return {mean, var};
    }
    const torch::Tensor xc = rowsView(x);
    const int64_t C = channelsOf(xc), M = xc.numel() / C;
    const float* xp = xc.data_ptr<float>();
    // Shifted sums (by the first row) keep the variance accurate when |mean| >> std.
    std::vector<float> shift(xp, xp + C);
    std::vector<double> s, q;
    channelSums(M, C, xc.size(2) * xc.size(3), s, q, [&](int64_t r, float* a, float* b) {
        const float* xr = xp + r * C;
        for (int64_t c = 0; c < C; ++c) {
            const float d = xr[c] - shift[size_t(c)];
            a[c] += d;
            b[c] += d * d;
        }
    });
    torch::Tensor mean = torch::empty({C}), var = torch::empty({C});
    float* mp = mean.data_ptr<float>();
    float* vp = var.data_ptr<float>();
    if (sync && sync->ranks() > 1) {
        // Count, sum and sum of squares of every rank (this rank's from its accurate shifted
        // sums), added up in double: the moments of the whole batch.
        std::vector<double> v(size_t(1 + 2 * C));
        v[0] = double(M);
        for (int64_t c = 0; c < C; ++c) {
            const double m = s[size_t(c)] / double(M);
            const double mu = shift[size_t(c)] + m;
            const double m2 = std::max(0.0, q[size_t(c)] - s[size_t(c)] * m); // sum of (x - mu)^2
            v[size_t(1 + c)] = double(M) * mu;
            v[size_t(1 + C + c)] = m2 + double(M) * mu * mu;
        }
        (*sync)(v);
        for (int64_t c = 0; c < C; ++c) {
            const double m = v[size_t(1 + c)] / v[0];
            mp[c] = float(m);
            vp[c] = float(std::max(0.0, v[size_t(1 + C + c)] / v[0] - m * m));
        }
        return {mean, var};
    }
    for (int64_t c = 0; c < C; ++c) {
        const double m = s[size_t(c)] / double(M);
        mp[c] = float(shift[size_t(c)] + m);
        vp[c] = float(std::max(0.0, q[size_t(c)] / double(M) - m * m));
    }
    return {mean, var};
}

torch::Tensor normalizeAct(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& invstd,
                           Activation act) {
    if (portableKernels(x))
        return activatedAten((x - perChannel(mean)) * perChannel(invstd), act)
            .contiguous(at::MemoryFormat::ChannelsLast);
    const torch::Tensor xc = rowsView(x);
    const int64_t C = channelsOf(xc), M = xc.numel() / C;
    torch::Tensor y = torch::empty_like(xc, at::MemoryFormat::ChannelsLast);
    const torch::Tensor mc = mean.contiguous(), ic = invstd.contiguous();
    const float* xp = xc.data_ptr<float>();
    const float* mp = mc.data_ptr<float>();
    const float* ip = ic.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    dispatch(act, [&](auto A) {
        at::parallel_for(0, M, 2048, [&](int64_t begin, int64_t end) {
            for (int64_t r = begin; r < end; ++r) {
                const float* xr = xp + r * C;
                float* yr = yp + r * C;
                for (int64_t c = 0; c < C; ++c)
                    yr[c] = activate<decltype(A)::value>((xr[c] - mp[c]) * ip[c]);
            }
        });
    });
    return y;
}

torch::Tensor batchNormActTrain(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& invstd,
                                Activation act, const RankSum* sync) {
    if (portableKernels(x))
        return BatchNormActAten::apply(x, mean, invstd, int64_t(act), sync);
    return BatchNormAct::apply(x, mean, invstd, int64_t(act), sync);
}

} // namespace mp::detail
