#include "pruningnet_module.h"

#include <cmath>

namespace mp::detail {

namespace {
constexpr double kBnEps = 1e-5;

/// Activations the batch-norm kernels fuse (bn_kernels.h); the others run after a plain BN.
bool fusedActivation(Activation act) {
    return act == Activation::None || act == Activation::ReLU || act == Activation::ReLU6;
}

/// The activation out of place (the input is read elsewhere too, or autograd records it).
torch::Tensor activated(const torch::Tensor& y, Activation act) {
    switch (act) {
    case Activation::ReLU:
        return torch::relu(y);
    case Activation::ReLU6:
        return torch::hardtanh(y, 0.0, 6.0);
    case Activation::Sigmoid:
        return torch::sigmoid(y);
    case Activation::HardSigmoid:
        return torch::hardsigmoid(y);
    case Activation::HardSwish:
        return torch::hardswish(y);
    case Activation::SiLU:
        return torch::silu(y);
    case Activation::None:
        break;
    }
    return y;
}

std::vector<ChannelRange> scaled(const std::vector<ChannelRange>& ranges, int factor) {
    std::vector<ChannelRange> out;
    for (const ChannelRange& r : ranges)
        out.push_back({r.begin * factor, r.count * factor});
    return out;
}

bool leading(const std::vector<ChannelRange>& ranges) { return ranges.size() == 1 && ranges[0].begin == 0; }
} // namespace

torch::Tensor activate(torch::Tensor y, Activation act) {
    // In place when no gradient is recorded: callers pass a fresh conv, add or pool output.
    if (torch::GradMode::is_enabled())
        return activated(y, act);
    switch (act) {
    case Activation::ReLU:
        return y.relu_();
    case Activation::ReLU6:
        return torch::hardtanh_(y, 0.0, 6.0);
    case Activation::Sigmoid:
        return y.sigmoid_();
    case Activation::HardSigmoid:
        return torch::hardsigmoid_(y);
    case Activation::HardSwish:
        return torch::hardswish_(y);
    case Activation::SiLU:
        return torch::silu_(y);
    case Activation::None:
        break;
    }
    return y;
}

torch::Tensor scaleShift(const torch::Tensor& x, const torch::Tensor& scale, const torch::Tensor& shift) {
    return x * scale.view({1, -1, 1, 1}) + shift.view({1, -1, 1, 1});
}

torch::Tensor conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     std::array<int64_t, 2> stride, std::array<int64_t, 2> padding, int64_t dilation,
                     int64_t groups) {
    if (weight.size(2) != 1 || weight.size(3) != 1 || (stride[0] == 1 && stride[1] == 1))
        return at::conv2d(x, weight, bias, stride, padding, std::array<int64_t, 2>{dilation, dilation}, groups);
    // A strided 1x1 conv reads every stride-th pixel: subsample, then convolve with stride 1.
    // oneDNN does the same internally ("reduce to unit stride"), but its channels_last
    // backward-weights kernel for that path writes past its workspace when the input has fewer
    // channels than its 8-wide block (oneDNN#6035): heap corruption or a hang in a ResNet whose
    // projection shortcut reads a stage pruned below 8 channels.
    torch::Tensor in = x;
    if (padding[0] != 0 || padding[1] != 0)
        in = at::constant_pad_nd(in, {padding[1], padding[1], padding[0], padding[0]});
    in = in.slice(2, 0, c10::nullopt, stride[0]).slice(3, 0, c10::nullopt, stride[1]);
    const std::array<int64_t, 2> one{1, 1}, zero{0, 0};
    return at::conv2d(in.contiguous(x.suggest_memory_format()), weight, bias, one, zero, one, groups);
}

torch::Tensor convolve(const Op& op, const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
    const int64_t groups = op.followsInput() ? weight.size(0) / op.groupWidth : 1;
    return conv2d(x, weight, bias, {op.strideH, op.strideW}, {op.padH, op.padW}, op.dilation, groups);
}

torch::Tensor applyOp(const Op& op, const std::vector<const torch::Tensor*>& in) {
    torch::Tensor y;
    switch (op.kind) {
    case OpKind::Add:
        y = *in[0] + *in[1];
        break;
    case OpKind::Mul: // a 1x1 gate broadcasts over the map (SE blocks)
        y = *in[0] * *in[1];
        break;
    case OpKind::Concat: {
        std::vector<torch::Tensor> parts;
        for (const torch::Tensor* t : in)
            parts.push_back(*t);
        y = at::cat(parts, 1);
        break;
    }
    case OpKind::GlobalAvgPool:
        y = in[0]->mean({2, 3}, true);
        break;
    case OpKind::MaxPool:
        y = at::max_pool2d(*in[0], {op.kernelH, op.kernelW}, {op.strideH, op.strideW}, {op.padH, op.padW}, {1, 1},
                           op.ceilMode);
        break;
    case OpKind::AvgPool:
        y = at::avg_pool2d(*in[0], {op.kernelH, op.kernelW}, {op.strideH, op.strideW}, {op.padH, op.padW},
                           op.ceilMode, op.countIncludePad);
        break;
    case OpKind::Act:
        return activated(*in[0], op.act); // its input may feed other ops too
    case OpKind::Pad:
        y = at::constant_pad_nd(*in[0], {op.padW, op.padW, op.padH, op.padH}, op.padValue)
                .contiguous(in[0]->suggest_memory_format());
        break;
    case OpKind::Conv:
    case OpKind::Linear:
    case OpKind::BatchNorm:
        throw std::logic_error("applyOp: op '" + op.name + "' has weights or statistics");
    }
    return activate(y, op.act);
}

PruningNetModuleImpl::PruningNetModuleImpl(const ArchSpec& arch, bool fromTrained)
    : arch_(arch), values_(analyzeArchitecture(arch)), fromTrained_(fromTrained) {
    const size_t n = arch_.ops.size();
    genOfOp_.assign(n, -1);
    bnMean_.resize(n);
    bnVar_.resize(n);
    convBias_.resize(n);
    linWeight_.resize(n);
    linBias_.resize(n);
    for (auto* list : {&bnWeight_, &bnBias_, &tWeight_, &tBias_, &tBnScale_, &tBnShift_, &tBnMean_, &tBnVar_})
        list->resize(n);
    size_t lastLinear = n;
    for (size_t i = 0; i < n; ++i)
        if (arch_.ops[i].kind == OpKind::Linear)
            lastLinear = i;
    for (size_t i = 0; i < n; ++i) {
        const Op& op = arch_.ops[i];
        const ValueShape& in = values_[size_t(op.inputs[0])];
        const ValueShape& out = values_[i + 1];
        const std::string p = std::to_string(i);
        if (op.kind == OpKind::Conv) {
            Generator g;
            g.op = int(i);
            g.maxOut = out.maxChannels;
            g.maxInPerGroup = op.followsInput() ? op.groupWidth : in.maxChannels;
            g.kk = op.kernelH * op.kernelW;
            g.hidden = op.hidden;
            const int64_t condSize = std::max<int64_t>(1, int64_t(op.condition.size()));
            g.fc1 = register_module("g" + p + "_fc1", torch::nn::Linear(condSize, op.hidden));
            const int64_t numel = int64_t(g.maxOut) * g.maxInPerGroup * g.kk;
            // nn.Linear's default initialisation, as the reference fc12 layers use.
            const double bound = 1.0 / std::sqrt(double(op.hidden));
            g.W2 = register_buffer("g" + p + "_W2", torch::empty({numel, op.hidden}).uniform_(-bound, bound));
            g.b2 = register_buffer("g" + p + "_b2", torch::empty({numel}).uniform_(-bound, bound));
            g.W2mom = register_buffer("g" + p + "_W2mom", torch::zeros({numel, op.hidden}));
            g.b2mom = register_buffer("g" + p + "_b2mom", torch::zeros({numel}));
            genOfOp_[i] = int(gens_.size());
            gens_.push_back(g);
            if (op.batchNorm) {
                bnMean_[i] = register_buffer("bn" + p + "_mean", torch::zeros({grid::kSize, g.maxOut}));
                bnVar_[i] = register_buffer("bn" + p + "_var", torch::ones({grid::kSize, g.maxOut}));
            } else {
                // nn.Conv2d's bias initialisation over the largest fan-in.
                const double b = 1.0 / std::sqrt(double(g.maxInPerGroup * g.kk));
                convBias_[i] = register_parameter("cb" + p, torch::empty({g.maxOut}).uniform_(-b, b));
            }
        } else if (op.kind == OpKind::BatchNorm) {
            bnMean_[i] = register_buffer("bn" + p + "_mean", torch::zeros({grid::kSize, in.maxChannels}));
            bnVar_[i] = register_buffer("bn" + p + "_var", torch::ones({grid::kSize, in.maxChannels}));
        } else if (op.kind == OpKind::Linear) {
            const int maxIn = in.maxChannels * in.height * in.width;
            const double bound = 1.0 / std::sqrt(double(maxIn));
            // The classifier keeps the name checkpoints of the built-in families use.
            const std::string name = i == lastLinear ? "fc" : "lin" + p;
            linWeight_[i] =
                register_parameter(name + "_weight", torch::empty({out.maxChannels, maxIn}).uniform_(-bound, bound));
            linBias_[i] = register_parameter(name + "_bias", torch::empty({out.maxChannels}).uniform_(-bound, bound));
        }
        if (!fromTrained_)
            continue;
        const int64_t normChannels = op.kind == OpKind::BatchNorm ? in.maxChannels : out.maxChannels;
        if (bnMean_[i].defined()) {
            bnWeight_[i] = register_parameter("bna" + p + "_weight", torch::ones({normChannels}));
            bnBias_[i] = register_parameter("bna" + p + "_bias", torch::zeros({normChannels}));
            tBnScale_[i] = register_buffer("trained" + p + "_bn_scale", torch::ones({normChannels}));
            tBnShift_[i] = register_buffer("trained" + p + "_bn_shift", torch::zeros({normChannels}));
            tBnMean_[i] = register_buffer("trained" + p + "_bn_mean", torch::zeros({normChannels}));
            tBnVar_[i] = register_buffer("trained" + p + "_bn_var", torch::ones({normChannels}));
        }
        if (op.kind == OpKind::Conv) {
            const Generator& g = gens_[size_t(genOfOp_[i])];
            tWeight_[i] = register_buffer("trained" + p + "_weight",
                                          torch::zeros({g.maxOut, g.maxInPerGroup, op.kernelH, op.kernelW}));
            if (!op.batchNorm)
                tBias_[i] = register_buffer("trained" + p + "_bias", torch::zeros({g.maxOut}));
        } else if (op.kind == OpKind::Linear) {
            tWeight_[i] = register_buffer("trained" + p + "_weight", torch::zeros_like(linWeight_[i]));
            tBias_[i] = register_buffer("trained" + p + "_bias", torch::zeros_like(linBias_[i]));
        }
    }
    if (fromTrained_)
        tBnEps_ = register_buffer("trained_bn_eps", torch::full({int64_t(n)}, 1e-5));
}

void PruningNetModuleImpl::startFrom(const TrainedWeights& w) {
    if (!fromTrained_)
        throw std::logic_error("startFrom: this PruningNet was not built to start from a trained model");
    checkTrainedWeights(arch_, w);
    torch::NoGradGuard noGrad;
    const auto set = [&](torch::Tensor& dst, const NetworkTensor& src, const std::string& what, size_t i) {
        if (src.data.empty())
            throw std::invalid_argument("startFrom: op '" + arch_.ops[i].name + "' has no " + what +
                                        " (give every conv its batch norm first: withBatchNormOfEveryConv)");
        dst.copy_(fromNetworkTensor(src).view(dst.sizes()));
    };
    for (size_t i = 0; i < arch_.ops.size(); ++i) {
        const Op& op = arch_.ops[i];
        if (op.kind == OpKind::Conv) {
            Generator& g = gens_[size_t(genOfOp_[i])];
            set(tWeight_[i], w.weight[i], "weight", i);
            g.b2.copy_(tWeight_[i].flatten());
            g.W2.zero_(); // every structure gets the model's leading channels at first
            g.W2mom.zero_();
            g.b2mom.zero_();
            if (!op.batchNorm) {
                set(tBias_[i], w.bias[i], "bias", i);
                convBias_[i].copy_(tBias_[i]);
            }
        } else if (op.kind == OpKind::Linear) {
            set(tWeight_[i], w.weight[i], "weight", i);
            set(tBias_[i], w.bias[i], "bias", i);
            linWeight_[i].copy_(tWeight_[i]);
            linBias_[i].copy_(tBias_[i]);
        }
        if (bnWeight_[i].defined()) {
            set(tBnScale_[i], w.bnScale[i], "batch norm", i);
            set(tBnShift_[i], w.bnShift[i], "batch norm", i);
            set(tBnMean_[i], w.bnMean[i], "batch norm", i);
            set(tBnVar_[i], w.bnVar[i], "batch norm", i);
            tBnEps_[int64_t(i)] = double(w.bnEps[i]);
            bnWeight_[i].copy_(tBnScale_[i]);
            bnBias_[i].copy_(tBnShift_[i]);
            bnMean_[i].copy_(tBnMean_[i].expand_as(bnMean_[i]));
            bnVar_[i].copy_(tBnVar_[i].expand_as(bnVar_[i]));
        }
    }
}

PrunedWeights PruningNetModuleImpl::inherit(const Encoding& enc) const {
    if (!fromTrained_)
        throw std::logic_error("inherit: this PruningNet did not start from a trained model");
    torch::NoGradGuard noGrad;
    PrunedWeights w;
    const size_t n = arch_.ops.size();
    for (auto* list : {&w.conv, &w.convBias, &w.linWeight, &w.linBias, &w.normScale, &w.normShift, &w.bnGamma, &w.bnBeta})
        list->resize(n);
    w.outRanges = normRanges(enc);
    for (const LayerShape& s : layerShapes(arch_, values_, enc)) {
        const size_t i = size_t(s.op);
        const Op& op = arch_.ops[i];
        w.outRanges[i] = s.outRanges;
        if (op.kind == OpKind::Linear) {
            w.linWeight[i] = take(take(tWeight_[i], 0, s.outRanges), 1, s.inRanges);
            w.linBias[i] = take(tBias_[i], 0, s.outRanges);
            continue;
        }
        torch::Tensor conv = take(tWeight_[i], 0, s.outRanges);
        if (!op.followsInput())
            conv = take(conv, 1, s.inRanges);
        w.conv[i] = conv.contiguous(at::MemoryFormat::ChannelsLast);
        if (!op.batchNorm)
            w.convBias[i] = take(tBias_[i], 0, s.outRanges);
    }
    for (size_t i = 0; i < n; ++i)
        if (bnWeight_[i].defined()) {
            w.bnGamma[i] = take(tBnScale_[i], 0, w.outRanges[i]);
            w.bnBeta[i] = take(tBnShift_[i], 0, w.outRanges[i]);
        }
    return w;
}

TrainedWeights PruningNetModuleImpl::trained() const {
    if (!fromTrained_)
        throw std::logic_error("trained(): this PruningNet did not start from a trained model");
    TrainedWeights w;
    const size_t n = arch_.ops.size();
    for (auto* list : {&w.weight, &w.bias, &w.bnScale, &w.bnShift, &w.bnMean, &w.bnVar})
        list->assign(n, NetworkTensor{});
    w.bnEps.assign(n, 1e-5f);
    const auto get = [](const torch::Tensor& t) { return t.defined() ? toNetworkTensor(t) : NetworkTensor{}; };
    for (size_t i = 0; i < n; ++i) {
        w.weight[i] = get(tWeight_[i]);
        w.bias[i] = get(tBias_[i]);
        w.bnScale[i] = get(tBnScale_[i]);
        w.bnShift[i] = get(tBnShift_[i]);
        w.bnMean[i] = get(tBnMean_[i]);
        w.bnVar[i] = get(tBnVar_[i]);
        w.bnEps[i] = tBnEps_[int64_t(i)].item<float>();
    }
    return w;
}

torch::Tensor PruningNetModuleImpl::condition(const Op& op, const Encoding& enc) const {
    std::vector<float> c;
    for (int gene : op.condition) {
        const Gene& g = arch_.genes[size_t(gene)];
        c.push_back(float(geneChannelsAt(g, enc[size_t(gene)])) / float(g.maxChannels));
    }
    if (c.empty())
        c.push_back(1.0f);
    return torch::tensor(c);
}

torch::Tensor channelIndex(const std::vector<ChannelRange>& ranges) {
    std::vector<int64_t> idx;
    for (const ChannelRange& r : ranges)
        for (int c = 0; c < r.count; ++c)
            idx.push_back(r.begin + c);
    return torch::tensor(idx, torch::kLong);
}

torch::Tensor take(const torch::Tensor& t, int64_t dim, const std::vector<ChannelRange>& ranges) {
    if (ranges.size() == 1)
        return t.narrow(dim, ranges[0].begin, ranges[0].count);
    return t.index_select(dim, channelIndex(ranges));
}

namespace {
/// The used slice of a conv's generator under a layer shape.
SliceShape sliceOf(const Op& op, const Generator& g, const LayerShape& s) {
    SliceShape shape;
    shape.rows = s.outRanges;
    shape.cols = int64_t(g.maxInPerGroup) * g.kk;
    shape.hidden = g.hidden;
    shape.colRanges = op.followsInput() ? std::vector<ChannelRange>{{0, int(shape.cols)}} : scaled(s.inRanges, g.kk);
    return shape;
}
} // namespace

PrunedWeights PruningNetModuleImpl::generate(const Encoding& enc) {
    torch::NoGradGuard noGrad;
    std::vector<SliceLeaf> leaves;
    return generateForTraining(enc, leaves);
}

PrunedWeights PruningNetModuleImpl::generateForTraining(const Encoding& enc, std::vector<SliceLeaf>& leaves) {
    const bool training = torch::GradMode::is_enabled();
    PrunedWeights w;
    const size_t n = arch_.ops.size();
    w.conv.resize(n);
    w.convBias.resize(n);
    w.linWeight.resize(n);
    w.linBias.resize(n);
    w.normScale.resize(n);
    w.normShift.resize(n);
    w.bnGamma.resize(n);
    w.bnBeta.resize(n);
    w.outRanges.resize(n);
    for (size_t i = 0; i < n; ++i)
        if (arch_.ops[i].kind == OpKind::BatchNorm)
            w.outRanges[i] = valueRanges(arch_, values_[size_t(arch_.ops[i].inputs[0])], enc);
    leaves.clear();
    for (const LayerShape& s : layerShapes(arch_, values_, enc)) {
        const size_t i = size_t(s.op);
        const Op& op = arch_.ops[i];
        w.outRanges[i] = s.outRanges;
        if (op.kind == OpKind::Linear) {
            w.linWeight[i] = take(take(linWeight_[i], 0, s.outRanges), 1, s.inRanges);
            w.linBias[i] = take(linBias_[i], 0, s.outRanges);
            if (!training) {
                w.linWeight[i] = w.linWeight[i].detach();
                w.linBias[i] = w.linBias[i].detach();
            }
            continue;
        }
        const int gi = genOfOp_[i];
        Generator& g = gens_[size_t(gi)];
        SliceLeaf leaf;
        leaf.gen = gi;
        leaf.shape = sliceOf(op, g, s);
        leaf.h = torch::relu(g.fc1->forward(condition(op, enc)));
        const torch::Tensor h = leaf.h.detach().contiguous();
        const int64_t outCount = leaf.shape.outCount(), used = leaf.shape.usedCount();
        leaf.weight = generateSlice(leaf.shape, g.W2, g.b2, h);
        if (training)
            leaf.weight.requires_grad_(true);
        w.conv[i] = leaf.weight.view({outCount, used / g.kk, op.kernelH, op.kernelW})
                        .contiguous(at::MemoryFormat::ChannelsLast);
        if (!op.batchNorm)
            w.convBias[i] = training ? take(convBias_[i], 0, s.outRanges) : take(convBias_[i], 0, s.outRanges).detach();
        if (training)
            leaves.push_back(std::move(leaf));
    }
    for (size_t i = 0; i < n; ++i)
        if (bnWeight_[i].defined()) {
            w.bnGamma[i] = take(bnWeight_[i], 0, w.outRanges[i]);
            w.bnBeta[i] = take(bnBias_[i], 0, w.outRanges[i]);
            if (!training) {
                w.bnGamma[i] = w.bnGamma[i].detach();
                w.bnBeta[i] = w.bnBeta[i].detach();
            }
        }
    return w;
}

int PruningNetModuleImpl::bnKey(size_t i, const Encoding& enc) const {
    // BN per (position, scale index) as in the reference; the key gene is the gene of the conv's
    // output (its first segment), or its first condition gene when the output width is fixed.
    const Op& op = arch_.ops[i];
    int gene = values_[i + 1].segments.front().gene;
    if (gene < 0)
        gene = op.condition.empty() ? -1 : op.condition.front();
    if (gene < 0)
        return grid::kSize - 1;
    // Canonical index: equal channel counts share statistics.
    const Gene& g = arch_.genes[size_t(gene)];
    int idx = enc[size_t(gene)];
    const int c = geneChannelsAt(g, idx);
    while (idx > 0 && geneChannelsAt(g, idx - 1) == c)
        --idx;
    return idx;
}

torch::Tensor PruningNetModuleImpl::batchNorm(size_t i, const torch::Tensor& y, const Encoding& enc,
                                              const PrunedWeights& w, BnMode mode, BnStats* stats, int recalStep,
                                              Activation act, Activation& fused) {
    // Affine parameters come between the normalisation and the activation: nothing fused then.
    const bool affine = w.bnGamma.size() > i && w.bnGamma[i].defined();
    fused = fusedActivation(act) && !affine ? act : Activation::None;
    const auto withAffine = [&](const torch::Tensor& normalised) {
        return affine ? normalised * w.bnGamma[i].view({1, -1, 1, 1}) + w.bnBeta[i].view({1, -1, 1, 1}) : normalised;
    };
    if (mode == BnMode::Eval)
        return withAffine(normalizeAct(y, stats->mean[i], torch::rsqrt(stats->var[i] + kBnEps), fused));
    // Batch statistics; running statistics get EMA (Train) or the exact cumulative average over
    // recalibration batches: momentum 1/(k+1) at batch k (Recal).
    const RankSum* sync = mode == BnMode::Train ? sync_ : nullptr;
    const auto [mean, var] = channelMeanVar(y, sync);
    const double count = double(y.numel() / y.size(1)) * (sync ? sync->ranks() : 1);
    const torch::Tensor invstd = torch::rsqrt(var + kBnEps);
    {
        torch::NoGradGuard noGrad;
        const torch::Tensor unbiased = var * (count / std::max(1.0, count - 1)); // as torch
        if (mode == BnMode::Train) {
            const int key = bnKey(i, enc);
            torch::Tensor rm = bnMean_[i].select(0, key), rv = bnVar_[i].select(0, key);
            const std::vector<ChannelRange>& used = w.outRanges[i];
            if (leading(used)) {
                rm.narrow(0, 0, used[0].count).mul_(0.9).add_(mean, 0.1);
                rv.narrow(0, 0, used[0].count).mul_(0.9).add_(unbiased, 0.1);
            } else {
                const torch::Tensor idx = channelIndex(used);
                rm.index_copy_(0, idx, rm.index_select(0, idx).mul_(0.9).add_(mean, 0.1));
                rv.index_copy_(0, idx, rv.index_select(0, idx).mul_(0.9).add_(unbiased, 0.1));
            }
        } else {
            const double momentum = 1.0 / double(recalStep + 1);
            stats->mean[i].mul_(1 - momentum).add_(mean, momentum);
            stats->var[i].mul_(1 - momentum).add_(unbiased, momentum);
        }
    }
    return withAffine(mode == BnMode::Train ? batchNormActTrain(y, mean, invstd, fused, sync)
                                            : normalizeAct(y, mean, invstd, fused));
}

torch::Tensor PruningNetModuleImpl::forward(const torch::Tensor& x, const Encoding& enc, const PrunedWeights& w,
                                            BnMode mode, BnStats* stats, int recalStep) {
    if (mode == BnMode::Folded)
        return forwardFolded(arch_, w, x);
    std::vector<torch::Tensor> v(arch_.ops.size() + 1);
    v[0] = x;
    std::vector<const torch::Tensor*> inputs;
    for (size_t i = 0; i < arch_.ops.size(); ++i) {
        const Op& op = arch_.ops[i];
        const torch::Tensor& in = v[size_t(op.inputs[0])];
        torch::Tensor y;
        switch (op.kind) {
        case OpKind::Conv: {
            y = convolve(op, in, w.conv[i], op.batchNorm ? torch::Tensor() : w.convBias[i]);
            if (!op.batchNorm) {
                y = activate(y, op.act);
                break;
            }
            Activation fused = Activation::None;
            y = batchNorm(i, y, enc, w, mode, stats, recalStep, op.act, fused);
            if (fused != op.act)
                y = activate(y, op.act);
            break;
        }
        case OpKind::BatchNorm: {
            Activation fused = Activation::None;
            y = batchNorm(i, in.contiguous(at::MemoryFormat::ChannelsLast), enc, w, mode, stats, recalStep, op.act,
                          fused);
            if (fused != op.act)
                y = activate(y, op.act);
            break;
        }
        case OpKind::Linear:
            y = activate(at::linear(in.dim() == 4 ? in.flatten(1) : in, w.linWeight[i], w.linBias[i]), op.act);
            break;
        default:
            inputs.clear();
            for (int id : op.inputs)
                inputs.push_back(&v[size_t(id)]);
            y = applyOp(op, inputs);
            break;
        }
        v[i + 1] = y;
    }
    // A graph ending in a pool (SqueezeNet's classifier conv) gives [N, classes, 1, 1].
    return v.back().dim() == 4 ? v.back().flatten(1) : v.back();
}

torch::Tensor runFoldedOp(const Op& op, size_t i, const std::vector<const torch::Tensor*>& in, const PrunedWeights& w) {
    switch (op.kind) {
    case OpKind::Conv:
        return activate(convolve(op, *in[0], w.conv[i], w.convBias[i]), op.act);
    case OpKind::Linear:
        return activate(at::linear(in[0]->dim() == 4 ? in[0]->flatten(1) : *in[0], w.linWeight[i], w.linBias[i]),
                        op.act);
    case OpKind::BatchNorm:
        return activate(scaleShift(*in[0], w.normScale[i], w.normShift[i]), op.act);
    default:
        return applyOp(op, in);
    }
}

torch::Tensor forwardFolded(const ArchSpec& arch, const PrunedWeights& w, const torch::Tensor& x) {
    std::vector<torch::Tensor> v(arch.ops.size() + 1);
    v[0] = x;
    std::vector<const torch::Tensor*> in;
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        in.clear();
        for (int id : arch.ops[i].inputs)
            in.push_back(&v[size_t(id)]);
        v[i + 1] = runFoldedOp(arch.ops[i], i, in, w);
    }
    // A graph ending in a pool (SqueezeNet's classifier conv) gives [N, classes, 1, 1].
    return v.back().dim() == 4 ? v.back().flatten(1) : v.back();
}

PrunedWeights fromPrunedNetwork(const PrunedNetwork& net) {
    PrunedWeights w;
    const size_t n = net.arch.ops.size();
    for (auto* list : {&w.conv, &w.convBias, &w.linWeight, &w.linBias, &w.normScale, &w.normShift})
        list->resize(n);
    for (size_t i = 0; i < n; ++i) {
        if (net.weight[i].data.empty())
            continue;
        const torch::Tensor weight = fromNetworkTensor(net.weight[i]), bias = fromNetworkTensor(net.bias[i]);
        switch (net.arch.ops[i].kind) {
        case OpKind::Conv:
            w.conv[i] = weight.contiguous(at::MemoryFormat::ChannelsLast);
            w.convBias[i] = bias;
            break;
        case OpKind::Linear:
            w.linWeight[i] = weight;
            w.linBias[i] = bias;
            break;
        case OpKind::BatchNorm:
            w.normScale[i] = weight;
            w.normShift[i] = bias;
            break;
        default:
            break;
        }
    }
    return w;
}

PrunedWeights foldBatchNorm(const PrunedWeights& w, const BnStats& stats) {
    torch::NoGradGuard noGrad;
    PrunedWeights f = w;
    f.normScale.resize(w.conv.size());
    f.normShift.resize(w.conv.size());
    for (size_t i = 0; i < w.conv.size(); ++i) {
        if (i >= stats.mean.size() || !stats.mean[i].defined())
            continue;
        // y = gamma (x - mean) invstd + beta = x * scale + (beta - mean * scale); gamma 1, beta 0 without affine.
        const bool affine = w.bnGamma.size() > i && w.bnGamma[i].defined();
        const torch::Tensor invstd = torch::rsqrt(stats.var[i] + kBnEps);
        const torch::Tensor scale = affine ? invstd * w.bnGamma[i] : invstd;
        const torch::Tensor shift = -stats.mean[i] * scale + (affine ? w.bnBeta[i] : torch::zeros_like(scale));
        if (w.conv[i].defined()) {
            f.conv[i] = (w.conv[i] * scale.view({-1, 1, 1, 1})).contiguous(at::MemoryFormat::ChannelsLast);
            f.convBias[i] = shift;
        } else { // a BatchNorm op
            f.normScale[i] = scale;
            f.normShift[i] = shift;
        }
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
            net.bias[i] = toNetworkTensor(folded.convBias[i].defined() ? folded.convBias[i]
                                                                        : torch::zeros({folded.conv[i].size(0)}));
        } else if (op.kind == OpKind::Linear) {
            net.weight[i] = toNetworkTensor(folded.linWeight[i]);
            net.bias[i] = toNetworkTensor(folded.linBias[i]);
        } else if (op.kind == OpKind::BatchNorm) {
            net.weight[i] = toNetworkTensor(folded.normScale[i]);
            net.bias[i] = toNetworkTensor(folded.normShift[i]);
        }
    }
    return net;
}

std::vector<std::vector<ChannelRange>> PruningNetModuleImpl::normRanges(const Encoding& enc) const {
    std::vector<std::vector<ChannelRange>> r(arch_.ops.size());
    for (const LayerShape& l : layerShapes(arch_, values_, enc))
        if (bnMean_[size_t(l.op)].defined())
            r[size_t(l.op)] = l.outRanges;
    for (size_t i = 0; i < arch_.ops.size(); ++i)
        if (arch_.ops[i].kind == OpKind::BatchNorm)
            r[i] = valueRanges(arch_, values_[size_t(arch_.ops[i].inputs[0])], enc);
    return r;
}

BnStats PruningNetModuleImpl::trainingStats(const Encoding& enc) const {
    BnStats s;
    s.mean.resize(arch_.ops.size());
    s.var.resize(arch_.ops.size());
    const std::vector<std::vector<ChannelRange>> ranges = normRanges(enc);
    for (size_t i = 0; i < ranges.size(); ++i) {
        if (ranges[i].empty())
            continue;
        const int key = bnKey(i, enc);
        s.mean[i] = take(bnMean_[i].select(0, key), 0, ranges[i]).clone();
        s.var[i] = take(bnVar_[i].select(0, key), 0, ranges[i]).clone();
    }
    return s;
}

BnStats PruningNetModuleImpl::emptyStats(const Encoding& enc) const {
    BnStats s;
    s.mean.resize(arch_.ops.size());
    s.var.resize(arch_.ops.size());
    const std::vector<std::vector<ChannelRange>> ranges = normRanges(enc);
    for (size_t i = 0; i < ranges.size(); ++i) {
        if (ranges[i].empty())
            continue;
        int channels = 0;
        for (const ChannelRange& r : ranges[i])
            channels += r.count;
        s.mean[i] = torch::zeros({channels});
        s.var[i] = torch::ones({channels});
    }
    return s;
}

std::vector<torch::Tensor> PruningNetModuleImpl::denseParameters() {
    std::vector<torch::Tensor> p;
    for (Generator& g : gens_)
        for (const torch::Tensor& t : g.fc1->parameters())
            p.push_back(t);
    for (const torch::Tensor& t : lossParameters())
        p.push_back(t);
    return p;
}

std::vector<torch::Tensor> PruningNetModuleImpl::lossParameters() const {
    std::vector<torch::Tensor> p;
    for (const std::vector<torch::Tensor>* list : {&convBias_, &linWeight_, &linBias_, &bnWeight_, &bnBias_})
        for (const torch::Tensor& t : *list)
            if (t.defined())
                p.push_back(t);
    return p;
}

int64_t PruningNetModuleImpl::generatorParameterCount() const {
    int64_t n = 0;
    for (const Generator& g : gens_) {
        for (const torch::Tensor& t : g.fc1->parameters())
            n += t.numel();
        n += g.W2.numel() + g.b2.numel();
    }
    for (const torch::Tensor& t : lossParameters())
        n += t.numel();
    return n;
}

} // namespace mp::detail
