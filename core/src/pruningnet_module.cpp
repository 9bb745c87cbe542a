#include "pruningnet_module.h"

#include <cmath>

namespace mp::detail {

namespace {
constexpr double kBnEps = 1e-5;

int maxWidth(const ArchSpec& arch, const Width& w) {
    return w.gene < 0 ? w.fixed : arch.genes[size_t(w.gene)].maxChannels;
}

// In place when no gradient is recorded: the input is always a fresh conv or add output.
torch::Tensor activate(torch::Tensor y, Activation act) {
    const bool inPlace = !torch::GradMode::is_enabled();
    switch (act) {
    case Activation::ReLU:
        return inPlace ? y.relu_() : torch::relu(y);
    case Activation::ReLU6:
        return inPlace ? torch::hardtanh_(y, 0.0, 6.0) : torch::hardtanh(y, 0.0, 6.0);
    case Activation::None:
        break;
    }
    return y;
}
} // namespace

PruningNetModuleImpl::PruningNetModuleImpl(const ArchSpec& arch) : arch_(arch) {
    genOfOp_.assign(arch_.ops.size(), -1);
    bnMean_.resize(arch_.ops.size());
    bnVar_.resize(arch_.ops.size());
    for (size_t i = 0; i < arch_.ops.size(); ++i) {
        const Op& op = arch_.ops[i];
        if (op.kind == OpKind::Conv) {
            Generator g;
            g.op = int(i);
            const int maxIn = maxWidth(arch_, op.in);
            g.maxOut = op.depthwise ? maxIn : maxWidth(arch_, op.out);
            g.maxInPerGroup = op.depthwise ? 1 : maxIn;
            g.kk = op.kernel * op.kernel;
            g.hidden = op.hidden;
            const std::string p = "g" + std::to_string(i) + "_";
            g.fc1 = register_module(p + "fc1", torch::nn::Linear(int64_t(op.condition.size()), op.hidden));
            const int64_t numel = int64_t(g.maxOut) * g.maxInPerGroup * g.kk;
            // nn.Linear's default initialisation, as the reference fc12 layers use.
            const double bound = 1.0 / std::sqrt(double(op.hidden));
            g.W2 = register_buffer(p + "W2", torch::empty({numel, op.hidden}).uniform_(-bound, bound));
            g.b2 = register_buffer(p + "b2", torch::empty({numel}).uniform_(-bound, bound));
            g.W2mom = register_buffer(p + "W2mom", torch::zeros({numel, op.hidden}));
            g.b2mom = register_buffer(p + "b2mom", torch::zeros({numel}));
            genOfOp_[i] = int(gens_.size());
            gens_.push_back(g);
            if (op.batchNorm) {
                bnMean_[i] = register_buffer("bn" + std::to_string(i) + "_mean",
                                             torch::zeros({grid::kSize, g.maxOut}));
                bnVar_[i] = register_buffer("bn" + std::to_string(i) + "_var",
                                            torch::ones({grid::kSize, g.maxOut}));
            }
        } else if (op.kind == OpKind::Linear) {
            const int maxIn = maxWidth(arch_, op.in);
            const int out = maxWidth(arch_, op.out);
            const double bound = 1.0 / std::sqrt(double(maxIn));
            fcWeight = register_parameter("fc_weight", torch::empty({out, maxIn}).uniform_(-bound, bound));
            fcBias = register_parameter("fc_bias", torch::empty({out}).uniform_(-bound, bound));
        }
    }
}

torch::Tensor PruningNetModuleImpl::condition(const Op& op, const Encoding& enc) const {
    std::vector<float> c;
    for (int gene : op.condition) {
        const int maxC = arch_.genes[size_t(gene)].maxChannels;
        c.push_back(float(grid::channels(maxC, enc[size_t(gene)])) / float(maxC));
    }
    return torch::tensor(c);
}

PrunedWeights PruningNetModuleImpl::generate(const Encoding& enc) {
    torch::NoGradGuard noGrad;
    PrunedWeights w;
    w.conv.resize(arch_.ops.size());
    for (Generator& g : gens_) {
        const Op& op = arch_.ops[size_t(g.op)];
        const int in = widthChannels(arch_, op.in, enc);
        const int out = op.depthwise ? in : widthChannels(arch_, op.out, enc);
        const int inPG = op.depthwise ? 1 : in;
        const torch::Tensor h = torch::relu(g.fc1->forward(condition(op, enc))).contiguous();
        const SliceShape shape = g.slice(out, inPG);
        torch::Tensor weight = torch::empty({shape.out * shape.used});
        generateSlice(shape, g.W2.data_ptr<float>(), g.b2.data_ptr<float>(), h.data_ptr<float>(),
                      weight.data_ptr<float>());
        w.conv[size_t(g.op)] = weight.view({out, inPG, op.kernel, op.kernel}).contiguous(at::MemoryFormat::ChannelsLast);
    }
    for (const Op& op : arch_.ops)
        if (op.kind == OpKind::Linear) {
            const int in = widthChannels(arch_, op.in, enc);
            w.fcWeight = fcWeight.narrow(1, 0, in).detach();
            w.fcBias = fcBias.detach();
        }
    return w;
}

PrunedWeights PruningNetModuleImpl::generateForTraining(const Encoding& enc, std::vector<SliceLeaf>& leaves) {
    PrunedWeights w;
    w.conv.resize(arch_.ops.size());
    leaves.clear();
    for (size_t gi = 0; gi < gens_.size(); ++gi) {
        Generator& g = gens_[gi];
        const Op& op = arch_.ops[size_t(g.op)];
        const int in = widthChannels(arch_, op.in, enc);
        SliceLeaf leaf;
        leaf.gen = int(gi);
        leaf.out = op.depthwise ? in : widthChannels(arch_, op.out, enc);
        leaf.inPerGroup = op.depthwise ? 1 : in;
        leaf.h = torch::relu(g.fc1->forward(condition(op, enc)));
        const SliceShape shape = g.slice(leaf.out, leaf.inPerGroup);
        leaf.weight = torch::empty({shape.out * shape.used});
        const torch::Tensor h = leaf.h.detach().contiguous();
        generateSlice(shape, g.W2.data_ptr<float>(), g.b2.data_ptr<float>(), h.data_ptr<float>(),
                      leaf.weight.data_ptr<float>());
        leaf.weight.requires_grad_(true);
        w.conv[size_t(g.op)] = leaf.weight.view({leaf.out, leaf.inPerGroup, op.kernel, op.kernel})
                                   .contiguous(at::MemoryFormat::ChannelsLast);
        leaves.push_back(leaf);
    }
    for (const Op& op : arch_.ops)
        if (op.kind == OpKind::Linear) {
            w.fcWeight = fcWeight.narrow(1, 0, widthChannels(arch_, op.in, enc));
            w.fcBias = fcBias;
        }
    return w;
}

int PruningNetModuleImpl::bnKey(const Op& op, const Encoding& enc) const {
    // BN per (position, scale index) as in the reference; the key gene is the conv's output
    // gene, or its first condition gene when the output width is fixed.
    int gene = op.depthwise ? op.in.gene : op.out.gene;
    if (gene < 0)
        gene = op.condition.empty() ? -1 : op.condition.front();
    if (gene < 0)
        return grid::kSize - 1;
    // Canonical index: equal channel counts share statistics.
    const int maxC = arch_.genes[size_t(gene)].maxChannels;
    int idx = enc[size_t(gene)];
    const int c = grid::channels(maxC, idx);
    while (idx > 0 && grid::channels(maxC, idx - 1) == c)
        --idx;
    return idx;
}

torch::Tensor PruningNetModuleImpl::forward(const torch::Tensor& x, const Encoding& enc, const PrunedWeights& w,
                                            BnMode mode, BnStats* stats, int recalStep) {
    std::vector<torch::Tensor> v(arch_.ops.size() + 1);
    v[0] = x;
    for (size_t i = 0; i < arch_.ops.size(); ++i) {
        const Op& op = arch_.ops[i];
        const torch::Tensor& in = v[size_t(op.inputs[0])];
        torch::Tensor y;
        switch (op.kind) {
        case OpKind::Conv: {
            const torch::Tensor& weight = w.conv[i];
            const int64_t groups = op.depthwise ? weight.size(0) : 1;
            const torch::Tensor bias = mode == BnMode::Folded ? w.convBias[i] : torch::Tensor();
            y = at::conv2d(in, weight, bias, op.stride, op.kernel / 2, 1, groups);
            if (!op.batchNorm || mode == BnMode::Folded) {
                y = activate(y, op.act);
                break;
            }
            if (mode == BnMode::Eval) {
                y = normalizeAct(y, stats->mean[i], torch::rsqrt(stats->var[i] + kBnEps), op.act);
                break;
            }
            // Batch statistics; running statistics get EMA (Train) or the exact cumulative average
            // over recalibration batches: momentum 1/(k+1) at batch k (Recal).
            const auto [mean, var] = channelMeanVar(y);
            const double n = double(y.numel() / y.size(1));
            const torch::Tensor invstd = torch::rsqrt(var + kBnEps);
            {
                torch::NoGradGuard noGrad;
                torch::Tensor rm, rv;
                double momentum = 0.1;
                if (mode == BnMode::Train) {
                    const int key = bnKey(op, enc);
                    rm = bnMean_[i].select(0, key).narrow(0, 0, y.size(1));
                    rv = bnVar_[i].select(0, key).narrow(0, 0, y.size(1));
                } else {
                    rm = stats->mean[i];
                    rv = stats->var[i];
                    momentum = 1.0 / double(recalStep + 1);
                }
                rm.mul_(1 - momentum).add_(mean, momentum);
                rv.mul_(1 - momentum).add_(var * (n / std::max(1.0, n - 1)), momentum); // unbiased, as torch
            }
            y = mode == BnMode::Train ? batchNormActTrain(y, mean, invstd, op.act) : normalizeAct(y, mean, invstd, op.act);
            break;
        }
        case OpKind::Add:
            y = activate(in + v[size_t(op.inputs[1])], op.act);
            break;
        case OpKind::GlobalAvgPool:
            y = in.mean({2, 3});
            break;
        case OpKind::MaxPool:
            y = at::max_pool2d(in, {op.kernel, op.kernel}, {op.stride, op.stride}, {op.kernel / 2, op.kernel / 2});
            break;
        case OpKind::Linear:
            y = at::linear(in, w.fcWeight, w.fcBias);
            break;
        }
        v[i + 1] = y;
    }
    return v.back();
}

PrunedWeights foldBatchNorm(const PrunedWeights& w, const BnStats& stats) {
    torch::NoGradGuard noGrad;
    PrunedWeights f = w;
    f.convBias.assign(w.conv.size(), torch::Tensor());
    for (size_t i = 0; i < w.conv.size(); ++i) {
        if (!w.conv[i].defined() || !stats.mean[i].defined())
            continue;
        const torch::Tensor invstd = torch::rsqrt(stats.var[i] + kBnEps);
        f.conv[i] = (w.conv[i] * invstd.view({-1, 1, 1, 1})).contiguous(at::MemoryFormat::ChannelsLast);
        f.convBias[i] = -stats.mean[i] * invstd;
    }
    return f;
}

NetworkTensor toNetworkTensor(const torch::Tensor& t) {
    NetworkTensor out;
    const torch::Tensor c = t.detach().contiguous().to(torch::kFloat);
    out.shape = c.sizes().vec();
    out.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    return out;
}

torch::Tensor fromNetworkTensor(const NetworkTensor& t) {
    return torch::from_blob(const_cast<float*>(t.data.data()), t.shape, torch::kFloat).clone();
}

PrunedNetwork toPrunedNetwork(const ArchSpec& arch, const Encoding& enc, const PrunedWeights& folded,
                              const std::string& metadataJson) {
    PrunedNetwork net;
    net.arch = arch;
    net.encoding = enc;
    net.metadataJson = metadataJson;
    net.weight.resize(arch.ops.size());
    net.bias.resize(arch.ops.size());
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        if (op.kind == OpKind::Conv) {
            net.weight[i] = toNetworkTensor(folded.conv[i]);
            net.bias[i] = toNetworkTensor(folded.convBias.size() > i && folded.convBias[i].defined()
                                    ? folded.convBias[i]
                                    : torch::zeros({folded.conv[i].size(0)}));
        } else if (op.kind == OpKind::Linear) {
            net.weight[i] = toNetworkTensor(folded.fcWeight);
            net.bias[i] = toNetworkTensor(folded.fcBias);
        }
    }
    return net;
}

BnStats PruningNetModuleImpl::trainingStats(const Encoding& enc) const {
    BnStats s;
    s.mean.resize(arch_.ops.size());
    s.var.resize(arch_.ops.size());
    for (size_t i = 0; i < arch_.ops.size(); ++i) {
        const Op& op = arch_.ops[i];
        if (op.kind != OpKind::Conv || !op.batchNorm)
            continue;
        const int in = widthChannels(arch_, op.in, enc);
        const int c = op.depthwise ? in : widthChannels(arch_, op.out, enc);
        const int key = bnKey(op, enc);
        s.mean[i] = bnMean_[i].select(0, key).narrow(0, 0, c).clone();
        s.var[i] = bnVar_[i].select(0, key).narrow(0, 0, c).clone();
    }
    return s;
}

BnStats PruningNetModuleImpl::emptyStats(const Encoding& enc) const {
    BnStats s;
    s.mean.resize(arch_.ops.size());
    s.var.resize(arch_.ops.size());
    for (size_t i = 0; i < arch_.ops.size(); ++i) {
        const Op& op = arch_.ops[i];
        if (op.kind != OpKind::Conv || !op.batchNorm)
            continue;
        const int in = widthChannels(arch_, op.in, enc);
        const int c = op.depthwise ? in : widthChannels(arch_, op.out, enc);
        s.mean[i] = torch::zeros({c});
        s.var[i] = torch::ones({c});
    }
    return s;
}

std::vector<torch::Tensor> PruningNetModuleImpl::denseParameters() {
    std::vector<torch::Tensor> p;
    for (Generator& g : gens_)
        for (const torch::Tensor& t : g.fc1->parameters())
            p.push_back(t);
    p.push_back(fcWeight);
    p.push_back(fcBias);
    return p;
}

int64_t PruningNetModuleImpl::generatorParameterCount() const {
    int64_t n = 0;
    for (const Generator& g : gens_) {
        for (const torch::Tensor& t : g.fc1->parameters())
            n += t.numel();
        n += g.W2.numel() + g.b2.numel();
    }
    return n + fcWeight.numel() + fcBias.numel();
}

} // namespace mp::detail
