// Standalone retraining of a pruned network (the paper's final evaluation step).
#include "batch.h" // LibTorch first: Qt defines `slots` (platform.md)
#include "pruningnet_module.h"

#include "metaprune/errors.h"
#include "metaprune/retrain.h"
#include "retrain_p.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <numeric>

namespace mp {

namespace {

using Clock = std::chrono::steady_clock;

/// The pruned network as an ordinary module: per op of the architecture description a conv
/// (no bias when followed by BN), an affine BN and the activation, a linear layer, an affine BN
/// (a BatchNorm op), or the non-parametric op the PruningNet runs (detail::applyOp).
struct PrunedModelImpl : torch::nn::Module {
    PrunedModelImpl(const ArchSpec& a, const Encoding& enc) : arch(a) {
        const std::vector<LayerShape> shapes = layerShapes(a, enc);
        conv.resize(a.ops.size(), nullptr);
        bn.resize(a.ops.size(), nullptr);
        lin.resize(a.ops.size(), nullptr);
        for (const LayerShape& s : shapes) {
            const Op& op = a.ops[size_t(s.op)];
            const std::string n = std::to_string(s.op);
            if (op.kind == OpKind::Conv) {
                conv[size_t(s.op)] = register_module(
                    "conv" + n,
                    torch::nn::Conv2d(torch::nn::Conv2dOptions(s.inChannels, s.outChannels, {s.kernelH, s.kernelW})
                                          .stride({s.strideH, s.strideW})
                                          .padding({op.padH, op.padW})
                                          .dilation(op.dilation)
                                          .groups(s.groups)
                                          .bias(!op.batchNorm)));
                torch::nn::init::kaiming_normal_(conv[size_t(s.op)]->weight, 0.0, torch::kFanOut, torch::kReLU);
                if (op.batchNorm)
                    bn[size_t(s.op)] = register_module("bn" + n, torch::nn::BatchNorm2d(s.outChannels));
            } else {
                lin[size_t(s.op)] = register_module("fc" + n, torch::nn::Linear(s.inChannels, s.outChannels));
            }
        }
        const std::vector<ValueShape> values = analyzeArchitecture(a);
        for (size_t i = 0; i < a.ops.size(); ++i)
            if (a.ops[i].kind == OpKind::BatchNorm)
                bn[i] = register_module("bn" + std::to_string(i),
                                        torch::nn::BatchNorm2d(valueChannels(a, values[size_t(a.ops[i].inputs[0])], enc)));
    }

    torch::Tensor forward(const torch::Tensor& x) {
        std::vector<torch::Tensor> v{x};
        v.reserve(arch.ops.size() + 1);
        std::vector<const torch::Tensor*> in;
        for (size_t i = 0; i < arch.ops.size(); ++i) {
            const Op& op = arch.ops[i];
            const torch::Tensor& first = v[size_t(op.inputs[0])];
            torch::Tensor y;
            if (op.kind == OpKind::Conv) {
                y = detail::convolve(op, first, conv[i]->weight, conv[i]->bias);
                if (bn[i])
                    y = bn[i]->forward(y);
                y = detail::activate(y, op.act);
            } else if (op.kind == OpKind::Linear) {
                y = detail::activate(lin[i]->forward(first.dim() == 4 ? first.flatten(1) : first), op.act);
            } else if (op.kind == OpKind::BatchNorm) {
                y = detail::activate(bn[i]->forward(first), op.act);
            } else {
                in.clear();
                for (int id : op.inputs)
                    in.push_back(&v[size_t(id)]);
                y = detail::applyOp(op, in);
            }
            v.push_back(std::move(y));
        }
        return v.back().dim() == 4 ? v.back().flatten(1) : v.back();
    }

    /// Starts from generated weights with BN folded in: conv weight w', and a BN that maps the
    /// conv output y to y + b' (gamma 1, beta 0, running mean -b', running var 1 - eps), so the
    /// module in eval mode computes exactly the exported generated network.
    void loadGenerated(const PrunedNetwork& g) {
        torch::NoGradGuard noGrad;
        for (size_t i = 0; i < arch.ops.size(); ++i) {
            if (conv[i]) {
                conv[i]->weight.copy_(detail::fromNetworkTensor(g.weight[i]));
                const torch::Tensor b = detail::fromNetworkTensor(g.bias[i]);
                if (bn[i]) {
                    bn[i]->weight.fill_(1.0);
                    bn[i]->bias.zero_();
                    bn[i]->running_mean.copy_(-b);
                    bn[i]->running_var.fill_(1.0 - bn[i]->options.eps());
                } else {
                    conv[i]->bias.copy_(b);
                }
            } else if (lin[i]) {
                lin[i]->weight.copy_(detail::fromNetworkTensor(g.weight[i]));
                lin[i]->bias.copy_(detail::fromNetworkTensor(g.bias[i]));
            } else if (bn[i]) { // a BatchNorm op: its folded scale and shift as gamma and beta
                bn[i]->weight.copy_(detail::fromNetworkTensor(g.weight[i]));
                bn[i]->bias.copy_(detail::fromNetworkTensor(g.bias[i]));
                bn[i]->running_mean.zero_();
                bn[i]->running_var.fill_(1.0 - bn[i]->options.eps());
            }
        }
    }

    /// Starts from the trained model's leading channels: every conv, linear layer and batch
    /// norm takes the rows (and columns) of its full-width tensor that the structure keeps,
    /// the ranges the PruningNet slices too (layerShapes, valueRanges).
    void loadInherited(const TrainedWeights& t, const Encoding& enc) {
        torch::NoGradGuard noGrad;
        const std::vector<ValueShape> values = analyzeArchitecture(arch);
        const auto rows = [](const NetworkTensor& n, const std::vector<ChannelRange>& ranges) {
            return detail::take(detail::fromNetworkTensor(n), 0, ranges);
        };
        const auto loadNorm = [&](torch::nn::BatchNorm2d& b, size_t i, const std::vector<ChannelRange>& ranges) {
            if (t.bnScale[i].data.empty())
                throw std::invalid_argument("inherit: op '" + arch.ops[i].name + "' of the trained model has no batch "
                                            "norm (the model kept by a PruningNet started from it has one per conv)");
            b->weight.copy_(rows(t.bnScale[i], ranges));
            b->bias.copy_(rows(t.bnShift[i], ranges));
            b->running_mean.copy_(rows(t.bnMean[i], ranges));
            b->running_var.copy_(rows(t.bnVar[i], ranges));
        };
        for (const LayerShape& s : layerShapes(arch, values, enc)) {
            const size_t i = size_t(s.op);
            if (conv[i]) {
                torch::Tensor w = rows(t.weight[i], s.outRanges);
                if (!arch.ops[i].followsInput())
                    w = detail::take(w, 1, s.inRanges);
                conv[i]->weight.copy_(w);
                if (bn[i])
                    loadNorm(bn[i], i, s.outRanges);
                else
                    conv[i]->bias.copy_(rows(t.bias[i], s.outRanges));
            } else if (lin[i]) {
                lin[i]->weight.copy_(detail::take(rows(t.weight[i], s.outRanges), 1, s.inRanges));
                lin[i]->bias.copy_(rows(t.bias[i], s.outRanges));
            }
        }
        for (size_t i = 0; i < arch.ops.size(); ++i)
            if (arch.ops[i].kind == OpKind::BatchNorm)
                loadNorm(bn[i], i, valueRanges(arch, values[size_t(arch.ops[i].inputs[0])], enc));
    }

    /// Folds each BN's running statistics and affine parameters into its conv for export (a
    /// BatchNorm op into its per-channel scale and shift).
    PrunedNetwork fold(const Encoding& enc, const std::string& metadata) const {
        torch::NoGradGuard noGrad;
        PrunedNetwork net;
        net.arch = arch;
        net.encoding = enc;
        net.metadataJson = metadata;
        net.weight.resize(arch.ops.size());
        net.bias.resize(arch.ops.size());
        for (size_t i = 0; i < arch.ops.size(); ++i) {
            if (conv[i]) {
                torch::Tensor w = conv[i]->weight;
                torch::Tensor b = conv[i]->bias.defined() ? conv[i]->bias : torch::zeros({w.size(0)});
                if (bn[i]) {
                    const torch::Tensor scale =
                        bn[i]->weight / torch::sqrt(bn[i]->running_var + bn[i]->options.eps());
                    w = w * scale.view({-1, 1, 1, 1});
                    b = bn[i]->bias + (b - bn[i]->running_mean) * scale;
                }
                net.weight[i] = detail::toNetworkTensor(w);
                net.bias[i] = detail::toNetworkTensor(b);
            } else if (lin[i]) {
                net.weight[i] = detail::toNetworkTensor(lin[i]->weight);
                net.bias[i] = detail::toNetworkTensor(lin[i]->bias);
            } else if (bn[i]) {
                const torch::Tensor scale = bn[i]->weight / torch::sqrt(bn[i]->running_var + bn[i]->options.eps());
                net.weight[i] = detail::toNetworkTensor(scale);
                net.bias[i] = detail::toNetworkTensor(bn[i]->bias - bn[i]->running_mean * scale);
            }
        }
        return net;
    }

    /// Conv and linear weights (decayed) and the rest (BN, biases: not decayed).
    void parameterGroups(std::vector<torch::Tensor>& decay, std::vector<torch::Tensor>& noDecay) {
        for (auto& p : named_parameters())
            (p.key().find("weight") != std::string::npos && p.key().rfind("bn", 0) != 0 ? decay : noDecay)
                .push_back(p.value());
    }

    ArchSpec arch;
    std::vector<torch::nn::Conv2d> conv;
    std::vector<torch::nn::BatchNorm2d> bn;
    std::vector<torch::nn::Linear> lin;
};
TORCH_MODULE(PrunedModel);

struct Score {
    double top1 = 0, loss = 0;
    int64_t images = 0;
};

/// BN recalibration of a pruned model: running statistics reset, then exact averages over the
/// batch statistics of up to 2,048 training images in train mode without gradients.
void recalibrate(PrunedModel& model, const Dataset& train, const std::vector<int64_t>& images,
                 const detail::Normalization& norm, int batchSize) {
    torch::NoGradGuard noGrad;
    std::vector<torch::nn::BatchNorm2d> norms;
    for (auto& b : model->bn)
        if (b) {
            b->reset_running_stats();
            b->options.momentum(c10::nullopt); // cumulative average
            norms.push_back(b);
        }
    const std::vector<int64_t> some(images.begin(), images.begin() + std::min<ptrdiff_t>(2048, ptrdiff_t(images.size())));
    detail::forEachBatch(train, some, batchSize, norm, [&](const torch::Tensor& x, const int64_t*, int64_t n) {
        if (n > 1) // one image has no batch statistics
            model->forward(x);
    });
    for (auto& b : norms)
        b->options.momentum(0.1);
}

Score scoreTest(PrunedModel& model, const Dataset& test, const detail::Normalization& norm,
                const std::atomic<bool>* cancel) {
    torch::NoGradGuard noGrad;
    model->eval();
    Score s;
    std::vector<int64_t> idx(size_t(test.size()));
    std::iota(idx.begin(), idx.end(), int64_t(0));
    int64_t correct = 0;
    double lossSum = 0;
    detail::forEachBatch(test, idx, 500, norm, [&](const torch::Tensor& x, const int64_t* at, int64_t n) {
        if (cancel && cancel->load())
            throw Cancelled();
        const torch::Tensor y = detail::makeLabels(test, at, n);
        const torch::Tensor logits = model->forward(x);
        lossSum += torch::nn::functional::cross_entropy(
                       logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                       .item<double>();
        correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    });
    s.images = int64_t(idx.size());
    s.top1 = s.images ? 100.0 * double(correct) / double(s.images) : 0;
    s.loss = s.images ? lossSum / double(s.images) : 0;
    model->train();
    return s;
}

} // namespace

std::string retrainModeName(RetrainMode mode) {
    switch (mode) {
    case RetrainMode::FineTune:
        return "finetune";
    case RetrainMode::Inherit:
        return "inherit";
    case RetrainMode::Scratch:
        break;
    }
    return "scratch";
}

RetrainMode parseRetrainMode(const std::string& name) {
    for (RetrainMode m : {RetrainMode::Scratch, RetrainMode::FineTune, RetrainMode::Inherit})
        if (name == retrainModeName(m))
            return m;
    throw std::invalid_argument("unknown retraining mode '" + name + "' (scratch, finetune, inherit)");
}

namespace detail {

torch::Tensor distillationLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                               const RetrainConfig& cfg) {
    namespace F = torch::nn::functional;
    const torch::Tensor hard =
        F::cross_entropy(student, labels, F::CrossEntropyFuncOptions().label_smoothing(cfg.labelSmoothing));
    if (!cfg.distill)
        return hard;
    const double t = cfg.distillTemperature;
    // KL(p_teacher || p_student) at temperature T, averaged over the batch, scaled by T^2 so
    // that its gradients keep their size as T changes (Hinton et al. 2015).
    const torch::Tensor soft =
        F::kl_div(F::log_softmax(student / t, F::LogSoftmaxFuncOptions(1)), F::log_softmax(teacher / t, F::LogSoftmaxFuncOptions(1)),
                  F::KLDivFuncOptions().reduction(torch::kBatchMean).log_target(true));
    return (1 - cfg.distillAlpha) * hard + cfg.distillAlpha * t * t * soft;
}

} // namespace detail

std::string toJson(const RetrainConfig& c) {
    QJsonObject o;
    o["mode"] = QString::fromStdString(retrainModeName(c.mode));
    o["epochs"] = c.epochs;
    o["batch_size"] = c.batchSize;
    o["lr"] = c.lr;
    o["warmup_steps"] = c.warmupSteps;
    o["momentum"] = c.momentum;
    o["weight_decay"] = c.weightDecay;
    o["label_smoothing"] = c.labelSmoothing;
    o["augment"] = c.augment;
    if (c.distill) // only then: recipes stored before distillation keep their text
        o["distill"] = QJsonObject{{"temperature", c.distillTemperature}, {"alpha", c.distillAlpha}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

RetrainConfig retrainConfigFromJson(const std::string& json, uint64_t seed) {
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json));
    if (!doc.isObject())
        throw std::invalid_argument("retraining settings are not a JSON object: " + json);
    const QJsonObject o = doc.object();
    RetrainConfig c;
    c.mode = parseRetrainMode(o["mode"].toString().toStdString());
    c.epochs = o["epochs"].toInt(c.epochs);
    c.batchSize = o["batch_size"].toInt(c.batchSize);
    c.lr = o["lr"].toDouble(c.lr);
    c.warmupSteps = o["warmup_steps"].toInt(c.warmupSteps);
    c.momentum = o["momentum"].toDouble(c.momentum);
    c.weightDecay = o["weight_decay"].toDouble(c.weightDecay);
    c.labelSmoothing = o["label_smoothing"].toDouble(c.labelSmoothing);
    c.augment = o["augment"].toBool(c.augment);
    if (o.contains("distill")) {
        const QJsonObject d = o["distill"].toObject();
        c.distill = true;
        c.distillTemperature = d["temperature"].toDouble(c.distillTemperature);
        c.distillAlpha = d["alpha"].toDouble(c.distillAlpha);
    }
    c.seed = seed;
    return c;
}

RetrainResult retrainNetwork(const ArchSpec& arch, const Encoding& enc, const DataBundle& data,
                             const CheckpointInfo& checkpoint, const RetrainConfig& cfg,
                             const PrunedNetwork* generated, const RetrainCallbacks& callbacks,
                             const std::atomic<bool>* cancel, const TrainedWeights* trained) {
    validateEncoding(arch, enc);
    if (cfg.epochs < 1 || cfg.batchSize < 2 || !(cfg.lr > 0))
        throw std::invalid_argument("retraining needs epochs >= 1, batch size >= 2 and a positive learning rate");
    if (cfg.mode == RetrainMode::FineTune && (!generated || generated->encoding != enc))
        throw std::invalid_argument("fine-tuning needs the PruningNet's generated network of the same encoding");
    if ((cfg.mode == RetrainMode::Inherit || cfg.distill) && (!trained || trained->empty()))
        throw std::invalid_argument(std::string(cfg.distill ? "distillation" : "inheriting weights") +
                                    " needs the trained model (a PruningNet started from one: train --init weights)");
    if (cfg.distill && !(cfg.distillTemperature > 0 && cfg.distillAlpha >= 0 && cfg.distillAlpha <= 1))
        throw std::invalid_argument("distillation needs a positive temperature and an alpha in [0, 1]");
    const Dataset& train = data.train;
    if (train.channels != arch.inChannels || train.height != arch.inHeight || train.width != arch.inWidth ||
        train.numClasses() != arch.classes)
        throw DataError(data.path + ": data shape does not match the architecture being retrained");
    const Clock::time_point start = Clock::now();
    const SearchSplit split = makeSearchSplit(train, checkpoint.config.searchPerClass, checkpoint.config.seed);
    std::vector<int64_t> order = split.train;
    const int64_t stepsPerEpoch = int64_t(order.size()) / cfg.batchSize;
    if (stepsPerEpoch < 1)
        throw DataError(data.path + ": fewer training images than one batch of " + std::to_string(cfg.batchSize));
    const int64_t total = stepsPerEpoch * cfg.epochs;
    // A warm-up longer than the run would keep the rate near 0 throughout (small data sets).
    const int64_t warmup = std::min<int64_t>(cfg.warmupSteps, total / 4);
    const detail::Normalization norm{checkpoint.mean, checkpoint.stddev};

    torch::manual_seed(int64_t(cfg.seed));
    PrunedModel model(arch, enc);
    if (cfg.mode == RetrainMode::FineTune)
        model->loadGenerated(*generated);
    if (cfg.mode == RetrainMode::Inherit)
        model->loadInherited(*trained, enc);
    for (auto& c : model->conv) // channels_last conv weights pick oneDNN's fast kernels (platform.md)
        if (c)
            c->weight.set_data(c->weight.data().contiguous(at::MemoryFormat::ChannelsLast));
    model->train();
    if (cfg.mode == RetrainMode::Inherit) // the inherited channels' statistics are the full model's
        recalibrate(model, train, order, norm, cfg.batchSize);
    // The teacher of distillation: the trained full model in eval mode, on the same batches.
    detail::PrunedWeights teacher;
    if (cfg.distill)
        teacher = detail::fromPrunedNetwork(trainedNetwork(arch, *trained));
    std::vector<torch::Tensor> decay, noDecay;
    model->parameterGroups(decay, noDecay);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::SGDOptions>(
                                   torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum).weight_decay(cfg.weightDecay)));
    groups.emplace_back(noDecay,
                        std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum)));
    torch::optim::SGD sgd(groups, torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum));

    RetrainResult result;
    std::mt19937_64 rng(cfg.seed);
    const int pad = cfg.augment ? std::max(1, train.height / 8) : 0;
    int64_t step = 0;
    for (int epoch = 1; epoch <= cfg.epochs; ++epoch) {
        std::shuffle(order.begin(), order.end(), rng);
        std::unique_ptr<detail::BatchPrefetcher> prefetch; // image folders: this epoch's batches
        if (!train.inMemory())
            prefetch = std::make_unique<detail::BatchPrefetcher>(
                train, norm,
                detail::orderedBatches(order, cfg.batchSize, 0, stepsPerEpoch,
                                       cfg.augment ? ViewPolicy::TrainAugment : ViewPolicy::TrainCentre,
                                       [&](int64_t b) { return detail::imageSeed(cfg.seed + uint64_t(epoch), b); }));
        double lossSum = 0;
        int64_t correct = 0, seen = 0;
        for (int64_t b = 0; b < stepsPerEpoch; ++b, ++step) {
            if (cancel && cancel->load()) {
                result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
                return result;
            }
            const double warm = warmup > 0 ? std::min(1.0, double(step + 1) / double(warmup)) : 1.0;
            const double lr = cfg.lr * warm * std::max(0.0, 1.0 - double(step) / double(total));
            for (auto& g : sgd.param_groups())
                static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
            const int64_t* idx = order.data() + b * cfg.batchSize;
            const torch::Tensor x =
                prefetch ? prefetch->next()
                         : detail::makeBatch(train, idx, cfg.batchSize, norm, cfg.augment ? &rng : nullptr, pad, cfg.augment);
            const torch::Tensor y = detail::makeLabels(train, idx, cfg.batchSize);
            sgd.zero_grad();
            const torch::Tensor logits = model->forward(x);
            torch::Tensor target;
            if (cfg.distill) {
                torch::NoGradGuard noGrad;
                target = detail::forwardFolded(arch, teacher, x);
            }
            const torch::Tensor loss = detail::distillationLoss(logits, target, y, cfg);
            loss.backward();
            sgd.step();
            lossSum += loss.item<double>() * double(cfg.batchSize);
            correct += logits.argmax(1).eq(y).sum().item<int64_t>();
            seen += cfg.batchSize;
            if (callbacks.progress && (step % 20 == 0 || step + 1 == total))
                callbacks.progress(step + 1, total, lossSum / double(seen));
        }
        Score s;
        try {
            s = scoreTest(model, data.test, norm, cancel);
        } catch (const Cancelled&) {
            result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
            return result;
        }
        RetrainEpoch e;
        e.epoch = epoch;
        e.loss = lossSum / double(seen);
        e.trainTop1 = 100.0 * double(correct) / double(seen);
        e.testTop1 = s.top1;
        e.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        result.curve.push_back(e);
        result.testTop1 = s.top1;
        result.testLoss = s.loss;
        result.testImages = s.images;
        if (callbacks.epochEnd)
            callbacks.epochEnd(e);
    }
    model->eval();
    result.network = model->fold(enc, generated ? generated->metadataJson : std::string());
    result.finished = true;
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
}

} // namespace mp
