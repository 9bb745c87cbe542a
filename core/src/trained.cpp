// A trained model brought by the user: evaluation as itself, batch norm for every conv, channel
// importance and its ordering (trained.h).
#include "batch.h" // LibTorch first: Qt defines `slots` (platform.md)
#include "pruningnet_module.h"

#include "metaprune/errors.h"
#include "metaprune/trained.h"

#include <algorithm>
#include <numeric>

namespace mp {

namespace {

torch::Tensor tensorOf(const NetworkTensor& t) { return detail::fromNetworkTensor(t); }

bool hasBatchNorm(const TrainedWeights& w, size_t i) { return !w.bnScale[i].data.empty(); }

void checkShape(const ArchSpec& arch, size_t i, const NetworkTensor& t, const std::vector<int64_t>& shape,
                const char* what) {
    if (t.shape != shape || int64_t(t.data.size()) != std::accumulate(shape.begin(), shape.end(), int64_t(1),
                                                                      std::multiplies<>()))
        throw std::invalid_argument("trained model: op '" + arch.ops[i].name + "': its " + what +
                                    " does not have the layer's shape");
}

/// The channel layout of a value at full width as a permutation: new position -> old channel,
/// each gene's segment ordered by `order[gene]` (identity for fixed widths).
torch::Tensor layoutPermutation(const ArchSpec& arch, const ValueShape& v, const std::vector<std::vector<int64_t>>& order) {
    std::vector<int64_t> p;
    for (const Width& w : v.segments) {
        const int64_t offset = int64_t(p.size());
        const int channels = w.gene >= 0 ? arch.genes[size_t(w.gene)].maxChannels : widthChannels(arch, w, {});
        for (int c = 0; c < channels; ++c)
            p.push_back(offset + (w.gene >= 0 ? order[size_t(w.gene)][size_t(c)] : c));
    }
    return torch::tensor(p, torch::kLong);
}

NetworkTensor permuted(const NetworkTensor& t, int64_t dim, const torch::Tensor& perm) {
    if (t.data.empty())
        return t;
    return detail::toNetworkTensor(tensorOf(t).index_select(dim, perm));
}

} // namespace

std::vector<float> perChannel(const std::vector<float>& values, int channels, const char* what) {
    if (values.size() == 1)
        return std::vector<float>(size_t(channels), values[0]);
    if (int(values.size()) != channels)
        throw std::invalid_argument(std::string(what) + ": " + std::to_string(values.size()) + " values for " +
                                    std::to_string(channels) + " channels (give one, or one per channel)");
    return values;
}

void checkTrainedWeights(const ArchSpec& arch, const TrainedWeights& w) {
    const size_t n = arch.ops.size();
    for (const auto* list : {&w.weight, &w.bias, &w.bnScale, &w.bnShift, &w.bnMean, &w.bnVar})
        if (list->size() != n)
            throw std::invalid_argument("trained model: tensors for " + std::to_string(list->size()) + " ops, the "
                                        "architecture has " + std::to_string(n));
    if (w.bnEps.size() != n)
        throw std::invalid_argument("trained model: batch norm epsilons for " + std::to_string(w.bnEps.size()) +
                                    " ops, the architecture has " + std::to_string(n));
    const std::vector<ValueShape> values = analyzeArchitecture(arch);
    const Encoding full = uniformEncoding(arch, grid::kSize - 1);
    for (const LayerShape& s : layerShapes(arch, values, full)) {
        const size_t i = size_t(s.op);
        const bool conv = arch.ops[i].kind == OpKind::Conv;
        checkShape(arch, i, w.weight[i],
                   conv ? std::vector<int64_t>{s.outChannels, s.inChannels / s.groups, s.kernelH, s.kernelW}
                        : std::vector<int64_t>{s.outChannels, s.inChannels},
                   "weight");
        if (!w.bias[i].data.empty())
            checkShape(arch, i, w.bias[i], {s.outChannels}, "bias");
        if (hasBatchNorm(w, i) && !(conv && arch.ops[i].batchNorm))
            throw std::invalid_argument("trained model: op '" + arch.ops[i].name + "' has a batch norm the "
                                        "architecture does not give it");
    }
    for (size_t i = 0; i < n; ++i) {
        const Op& op = arch.ops[i];
        if (op.kind == OpKind::BatchNorm && !hasBatchNorm(w, i))
            throw std::invalid_argument("trained model: batch norm op '" + op.name + "' has no parameters");
        if (!hasBatchNorm(w, i))
            continue;
        const int64_t c = op.kind == OpKind::BatchNorm ? values[size_t(op.inputs[0])].maxChannels : values[i + 1].maxChannels;
        for (const NetworkTensor* t : {&w.bnScale[i], &w.bnShift[i], &w.bnMean[i], &w.bnVar[i]})
            checkShape(arch, i, *t, {c}, "batch norm");
    }
}

PrunedNetwork trainedNetwork(const ArchSpec& arch, const TrainedWeights& w) {
    checkTrainedWeights(arch, w);
    torch::NoGradGuard noGrad;
    PrunedNetwork net;
    net.arch = arch;
    net.encoding = uniformEncoding(arch, grid::kSize - 1);
    net.weight.resize(arch.ops.size());
    net.bias.resize(arch.ops.size());
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        if (op.kind != OpKind::Conv && op.kind != OpKind::Linear && op.kind != OpKind::BatchNorm)
            continue;
        const bool norm = hasBatchNorm(w, i);
        const torch::Tensor scale =
            norm ? tensorOf(w.bnScale[i]) / torch::sqrt(tensorOf(w.bnVar[i]) + double(w.bnEps[i])) : torch::Tensor();
        if (op.kind == OpKind::BatchNorm) {
            net.weight[i] = detail::toNetworkTensor(scale);
            net.bias[i] = detail::toNetworkTensor(tensorOf(w.bnShift[i]) - tensorOf(w.bnMean[i]) * scale);
            continue;
        }
        torch::Tensor weight = tensorOf(w.weight[i]);
        torch::Tensor bias = w.bias[i].data.empty() ? torch::zeros({weight.size(0)}) : tensorOf(w.bias[i]);
        if (norm) {
            weight = weight * scale.view({-1, 1, 1, 1});
            bias = tensorOf(w.bnShift[i]) + (bias - tensorOf(w.bnMean[i])) * scale;
        }
        net.weight[i] = detail::toNetworkTensor(weight);
        net.bias[i] = detail::toNetworkTensor(bias);
    }
    return net;
}

ModelScore evaluateTrained(const ArchSpec& arch, const TrainedWeights& w, const Dataset& data,
                           const std::vector<float>& mean, const std::vector<float>& std, int keepLogits,
                           const std::atomic<bool>* cancel) {
    if (data.channels != arch.inChannels || data.height != arch.inHeight || data.width != arch.inWidth)
        throw DataError("the model reads " + std::to_string(arch.inChannels) + "x" + std::to_string(arch.inHeight) +
                        "x" + std::to_string(arch.inWidth) + " input, the data is " + std::to_string(data.channels) +
                        "x" + std::to_string(data.height) + "x" + std::to_string(data.width));
    if (data.numClasses() != arch.classes) // class k of the data is output k of the model
        throw DataError("the model has " + std::to_string(arch.classes) + " outputs, the data " +
                        std::to_string(data.numClasses()) + " classes");
    const detail::Normalization norm{perChannel(mean, arch.inChannels, "--mean"),
                                     perChannel(std, arch.inChannels, "--std")};
    const detail::PrunedWeights folded = detail::fromPrunedNetwork(trainedNetwork(arch, w));
    torch::NoGradGuard noGrad;
    std::vector<int64_t> all(size_t(data.size()));
    std::iota(all.begin(), all.end(), int64_t(0));
    ModelScore s;
    int64_t correct = 0;
    double lossSum = 0;
    detail::forEachBatch(data, all, 250, norm, [&](const torch::Tensor& x, const int64_t* idx, int64_t n) {
        if (cancel && cancel->load())
            throw Cancelled();
        const torch::Tensor logits = detail::forwardFolded(arch, folded, x);
        const torch::Tensor y = detail::makeLabels(data, idx, n);
        lossSum += torch::nn::functional::cross_entropy(
                       logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                       .item<double>();
        correct += logits.argmax(1).eq(y).sum().item<int64_t>();
        const torch::Tensor c = logits.contiguous();
        for (int64_t r = 0; r < n && int64_t(s.logits.size()) < keepLogits; ++r)
            s.logits.emplace_back(c[r].data_ptr<float>(), c[r].data_ptr<float>() + c.size(1));
    });
    s.images = int64_t(all.size());
    s.top1 = s.images ? 100.0 * double(correct) / double(s.images) : 0;
    s.loss = s.images ? lossSum / double(s.images) : 0;
    return s;
}

TrainedWeights withBatchNormOfEveryConv(const ArchSpec& arch, const TrainedWeights& w, const Dataset& data,
                                        const std::vector<int64_t>& images, const std::vector<float>& mean,
                                        const std::vector<float>& std) {
    checkTrainedWeights(arch, w);
    TrainedWeights out = w;
    std::vector<size_t> missing;
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        if (op.kind != OpKind::Conv || !op.batchNorm)
            continue;
        if (hasBatchNorm(w, i)) {
            // BN(Wx + b) with running mean m is BN(Wx) with running mean m - b.
            if (!w.bias[i].data.empty()) {
                for (size_t c = 0; c < out.bnMean[i].data.size(); ++c)
                    out.bnMean[i].data[c] -= w.bias[i].data[c];
                out.bias[i] = NetworkTensor{};
            }
        } else {
            missing.push_back(i);
        }
    }
    if (missing.empty())
        return out;
    if (images.empty())
        throw DataError("no images to measure the statistics of the convs whose batch norm was folded");
    // The model's own activations at every conv, batch after batch; exact averages (the
    // running mean of batch means, and E[x^2] - mean^2 over all pixels).
    const detail::Normalization norm{perChannel(mean, arch.inChannels, "--mean"),
                                     perChannel(std, arch.inChannels, "--std")};
    const detail::PrunedWeights folded = detail::fromPrunedNetwork(trainedNetwork(arch, w));
    std::vector<torch::Tensor> sum(arch.ops.size()), sumSq(arch.ops.size());
    torch::NoGradGuard noGrad;
    detail::forEachBatch(data, images, 250, norm, [&](const torch::Tensor& x, const int64_t*, int64_t) {
        std::vector<torch::Tensor> v(arch.ops.size() + 1);
        v[0] = x;
        std::vector<const torch::Tensor*> in;
        for (size_t i = 0; i < arch.ops.size(); ++i) {
            const Op& op = arch.ops[i];
            in.clear();
            for (int id : op.inputs)
                in.push_back(&v[size_t(id)]);
            if (std::find(missing.begin(), missing.end(), i) != missing.end()) {
                const torch::Tensor y0 = detail::convolve(op, *in[0], folded.conv[i], torch::Tensor()).to(torch::kDouble);
                const torch::Tensor s1 = y0.sum({0, 2, 3}), s2 = y0.square().sum({0, 2, 3});
                sum[i] = sum[i].defined() ? sum[i] + s1 : s1;
                sumSq[i] = sumSq[i].defined() ? sumSq[i] + s2 : s2;
            }
            v[i + 1] = detail::runFoldedOp(op, i, in, folded);
        }
    });
    const std::vector<ValueShape> values = analyzeArchitecture(arch);
    for (size_t i : missing) {
        // Pixels per channel at this layer: images x its output map.
        const double pixels = double(images.size()) * double(values[i + 1].height) * double(values[i + 1].width);
        const torch::Tensor m = sum[i] / pixels;
        const torch::Tensor var = (sumSq[i] / pixels - m.square()).clamp_min(0);
        const double eps = 1e-5;
        const torch::Tensor b = w.bias[i].data.empty() ? torch::zeros_like(m) : tensorOf(w.bias[i]).to(torch::kDouble);
        out.bnMean[i] = detail::toNetworkTensor(m.to(torch::kFloat));
        out.bnVar[i] = detail::toNetworkTensor(var.to(torch::kFloat));
        out.bnScale[i] = detail::toNetworkTensor(torch::sqrt(var + eps).to(torch::kFloat));
        out.bnShift[i] = detail::toNetworkTensor((m + b).to(torch::kFloat));
        out.bnEps[i] = float(eps);
        out.bias[i] = NetworkTensor{};
    }
    return out;
}

std::vector<std::vector<double>> channelImportance(const ArchSpec& arch, const TrainedWeights& w) {
    const PrunedNetwork folded = trainedNetwork(arch, w);
    const std::vector<ValueShape> values = analyzeArchitecture(arch);
    std::vector<torch::Tensor> importance;
    for (const Gene& g : arch.genes)
        importance.push_back(torch::zeros({g.maxChannels}, torch::kDouble));
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        if (op.kind != OpKind::Conv && op.kind != OpKind::Linear)
            continue;
        const torch::Tensor filter = tensorOf(folded.weight[i]).to(torch::kDouble);
        const torch::Tensor l1 = filter.abs().flatten(1).sum(1); // [out]
        // The rows this layer writes, as parts of its output's layout.
        int64_t at = 0;
        for (const Width& seg : values[i + 1].segments) {
            const int channels = seg.gene >= 0 ? arch.genes[size_t(seg.gene)].maxChannels : widthChannels(arch, seg, {});
            if (seg.gene >= 0)
                importance[size_t(seg.gene)] += l1.narrow(0, at, channels);
            at += channels;
        }
    }
    std::vector<std::vector<double>> out;
    for (const torch::Tensor& t : importance)
        out.emplace_back(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
    return out;
}

TrainedWeights orderByImportance(const ArchSpec& arch, const TrainedWeights& w) {
    const std::vector<std::vector<double>> importance = channelImportance(arch, w);
    // Each gene's order (new position -> old channel): blocks of `quantum` channels by their
    // summed importance, most important first; ties keep their order.
    std::vector<std::vector<int64_t>> order;
    for (size_t g = 0; g < arch.genes.size(); ++g) {
        const int q = arch.genes[g].quantum, blocks = arch.genes[g].maxChannels / q;
        std::vector<double> blockImportance(size_t(blocks), 0.0);
        for (int c = 0; c < arch.genes[g].maxChannels; ++c)
            blockImportance[size_t(c / q)] += importance[g][size_t(c)];
        std::vector<int64_t> blockOrder(static_cast<size_t>(blocks));
        std::iota(blockOrder.begin(), blockOrder.end(), int64_t(0));
        std::stable_sort(blockOrder.begin(), blockOrder.end(),
                         [&](int64_t a, int64_t b) { return blockImportance[size_t(a)] > blockImportance[size_t(b)]; });
        std::vector<int64_t> channels;
        for (int64_t b : blockOrder)
            for (int k = 0; k < q; ++k)
                channels.push_back(b * q + k);
        order.push_back(channels);
    }
    const std::vector<ValueShape> values = analyzeArchitecture(arch);
    TrainedWeights out = w;
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        const ValueShape& in = values[size_t(op.inputs[0])];
        const torch::Tensor outPerm = layoutPermutation(arch, values[i + 1], order);
        const torch::Tensor inPerm = layoutPermutation(arch, in, order);
        switch (op.kind) {
        case OpKind::Conv:
            out.weight[i] = permuted(w.weight[i], 0, outPerm);
            if (!op.followsInput()) // depthwise and grouped convs read their own group's channels
                out.weight[i] = permuted(out.weight[i], 1, inPerm);
            break;
        case OpKind::Linear: {
            // Features of a flattened map are channel-major: channel c holds H x W of them.
            const int64_t hw = int64_t(in.height) * in.width;
            const torch::Tensor features =
                (inPerm.view({-1, 1}) * hw + torch::arange(hw, torch::kLong).view({1, -1})).flatten();
            out.weight[i] = permuted(permuted(w.weight[i], 0, outPerm), 1, features);
            break;
        }
        default:
            break;
        }
        for (auto* list : {&out.bias, &out.bnScale, &out.bnShift, &out.bnMean, &out.bnVar})
            (*list)[i] = permuted((*list)[i], 0, outPerm);
    }
    return out;
}

} // namespace mp
