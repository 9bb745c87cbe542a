#include "training_p.h"

#include "metaprune/evaluator.h"
#include "metaprune/export.h"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <mutex>
#include <limits>
#include <numeric>

namespace mp {

struct Evaluator::Impl {
    CheckpointInfo info;
    EvalSettings settings;
    detail::PruningNetModule net{nullptr};
    std::vector<torch::Tensor> recal;                // [recalBatchSize, C, H, W]
    std::vector<torch::Tensor> searchX, searchY;     // scored batches of the search split
    Dataset test; // a copy: the caller's DataBundle may go away
    int64_t searchSplitImages = 0;
    mutable std::once_flag testOnce;
    mutable std::vector<torch::Tensor> testX, testY;

    void batches(const Dataset& data, const std::vector<int64_t>& idx, std::vector<torch::Tensor>& xs,
                 std::vector<torch::Tensor>& ys) const {
        detail::forEachBatch(data, idx, settings.batchSize, detail::normalizationOf(info),
                             [&](const torch::Tensor& x, const int64_t* at, int64_t n) {
                                 xs.push_back(x);
                                 ys.push_back(detail::makeLabels(data, at, n));
                             });
    }
};

namespace {
// Orders indices round-robin over classes so that any prefix is class-balanced.
std::vector<int64_t> interleaveClasses(const Dataset& data, const std::vector<int64_t>& idx) {
    std::vector<std::vector<int64_t>> byClass(size_t(data.numClasses()));
    for (int64_t i : idx)
        byClass[size_t(data.labels[size_t(i)])].push_back(i);
    std::vector<int64_t> out;
    for (size_t k = 0; out.size() < idx.size(); ++k)
        for (const auto& v : byClass)
            if (k < v.size())
                out.push_back(v[k]);
    return out;
}

void checkCancel(const std::atomic<bool>* cancel) {
    if (cancel && cancel->load())
        throw Cancelled();
}
} // namespace

Evaluator::Evaluator(const std::string& checkpoint, const DataBundle& data, const EvalSettings& settings)
    : d(std::make_unique<Impl>()) {
    if (settings.recalBatches < 1 || settings.recalBatchSize < 1 || settings.batchSize < 1 || settings.evalImages < 0)
        throw ConfigError("evaluation settings must be positive (recalibration batches, batch sizes)");
    d->settings = settings;
    d->net = detail::loadCheckpoint(checkpoint, d->info);
    d->net->eval();
    const CheckpointInfo& i = d->info;
    const Dataset& train = data.train;
    if (train.channels != i.inChannels || train.height != i.inHeight || train.width != i.inWidth ||
        train.numClasses() != i.classes)
        throw DataError(data.path + ": images are " + std::to_string(train.channels) + "x" +
                        std::to_string(train.height) + "x" + std::to_string(train.width) + " with " +
                        std::to_string(train.numClasses()) + " classes, but " + checkpoint + " was trained on " +
                        std::to_string(i.inChannels) + "x" + std::to_string(i.inHeight) + "x" +
                        std::to_string(i.inWidth) + " with " + std::to_string(i.classes) + " classes");
    const SearchSplit split = makeSearchSplit(train, i.config.searchPerClass, i.config.seed);

    // Fixed recalibration images: a seeded draw from the training part (never the search split).
    std::vector<int64_t> pool = split.train;
    std::mt19937_64 rng(i.config.seed + 7);
    std::shuffle(pool.begin(), pool.end(), rng);
    const detail::Normalization norm = detail::normalizationOf(i);
    // Small data sets get smaller batches rather than no recalibration at all.
    const int64_t batch = std::min<int64_t>(settings.recalBatchSize, int64_t(pool.size()));
    if (batch < 2)
        throw DataError(data.path + ": needs at least 2 training images outside the search split for BN recalibration");
    pool.resize(size_t(std::min<int64_t>(int64_t(pool.size()) / batch, settings.recalBatches) * batch));
    detail::forEachBatch(train, pool, batch, norm, [&](const torch::Tensor& x, const int64_t*, int64_t) {
        d->recal.push_back(x);
    });

    d->searchSplitImages = int64_t(split.search.size());
    std::vector<int64_t> scored = interleaveClasses(train, split.search);
    if (settings.evalImages > 0 && int64_t(scored.size()) > settings.evalImages)
        scored.resize(size_t(settings.evalImages));
    d->batches(train, scored, d->searchX, d->searchY);
    d->test = data.test;
    if (data.test.size() > 0 && (data.test.channels != i.inChannels || data.test.height != i.inHeight ||
                                 data.test.width != i.inWidth))
        throw DataError(data.path + ": test images differ in shape from the checkpoint's training images");
}

Evaluator::~Evaluator() = default;

double Evaluator::chanceTop1(EvalSplit split) const {
    std::vector<int64_t> counts;
    if (split == EvalSplit::Test) {
        counts = d->test.classCounts();
    } else {
        for (const torch::Tensor& y : d->searchY) {
            const int64_t* p = y.data_ptr<int64_t>();
            for (int64_t i = 0; i < y.size(0); ++i) {
                if (p[i] >= int64_t(counts.size()))
                    counts.resize(size_t(p[i] + 1), 0);
                ++counts[size_t(p[i])];
            }
        }
    }
    const int64_t total = std::accumulate(counts.begin(), counts.end(), int64_t(0));
    return total > 0 ? 100.0 * double(*std::max_element(counts.begin(), counts.end())) / double(total) : 0.0;
}

int64_t Evaluator::searchSplitImages() const { return d->searchSplitImages; }

const ArchSpec& Evaluator::arch() const { return d->net->arch(); }
const CheckpointInfo& Evaluator::checkpoint() const { return d->info; }
const EvalSettings& Evaluator::settings() const { return d->settings; }

EvalResult Evaluator::evaluate(const Encoding& enc, EvalSplit split, const std::atomic<bool>* cancel,
                               const EvalBudget& budget) const {
    return run(enc, split, cancel, budget, nullptr);
}

EvalResult Evaluator::evaluateImages(const Encoding& enc, std::vector<bool>& correct, EvalSplit split,
                                     const std::atomic<bool>* cancel, const EvalBudget& budget) const {
    correct.clear();
    return run(enc, split, cancel, budget, &correct);
}

EvalResult Evaluator::evaluateInherited(const Encoding& enc, EvalSplit split, const std::atomic<bool>* cancel) const {
    return run(enc, split, cancel, {}, nullptr, true);
}

bool Evaluator::fromTrained() const { return d->net->fromTrained(); }

EvalResult Evaluator::run(const Encoding& enc, EvalSplit split, const std::atomic<bool>* cancel,
                          const EvalBudget& budget, std::vector<bool>* correctImages, bool inherited) const {
    const auto start = std::chrono::steady_clock::now();
    validateEncoding(arch(), enc);
    torch::NoGradGuard noGrad;
    detail::PruningNetModuleImpl& net = *d->net;
    const detail::PrunedWeights w = inherited ? net.inherit(enc) : net.generate(enc);

    detail::BnStats stats;
    if (d->settings.recalibrate) {
        stats = net.emptyStats(enc);
        const size_t recalBatches =
            budget.recalBatches > 0 ? std::min(d->recal.size(), size_t(budget.recalBatches)) : d->recal.size();
        for (size_t b = 0; b < recalBatches; ++b) {
            checkCancel(cancel);
            net.forward(d->recal[b], enc, w, detail::BnMode::Recal, &stats, int(b));
        }
    } else {
        stats = net.trainingStats(enc);
    }

    const detail::PrunedWeights folded = detail::foldBatchNorm(w, stats);
    const std::vector<torch::Tensor>* xs = &d->searchX;
    const std::vector<torch::Tensor>* ys = &d->searchY;
    EvalResult r;
    double lossSum = 0;
    int64_t correct = 0;
    const int64_t limit = budget.images > 0 ? budget.images : std::numeric_limits<int64_t>::max();
    auto score = [&](const torch::Tensor& x, const torch::Tensor& labels) {
        checkCancel(cancel);
        const int64_t n = std::min(labels.size(0), limit - r.images);
        const torch::Tensor logits = net.forward(x.narrow(0, 0, n), enc, folded, detail::BnMode::Folded);
        const torch::Tensor y = labels.narrow(0, 0, n);
        lossSum += torch::nn::functional::cross_entropy(
                       logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                       .item<double>();
        const torch::Tensor hits = logits.argmax(1).eq(y);
        correct += hits.sum().item<int64_t>();
        if (correctImages) {
            const torch::Tensor h = hits.to(torch::kUInt8).contiguous();
            correctImages->insert(correctImages->end(), h.data_ptr<uint8_t>(), h.data_ptr<uint8_t>() + h.numel());
        }
        r.images += y.size(0);
    };
    if (split == EvalSplit::Test && !d->test.inMemory()) {
        // An image folder's test set can be far larger than memory: streamed, never kept.
        std::vector<int64_t> all(size_t(d->test.size()));
        std::iota(all.begin(), all.end(), 0);
        if (int64_t(all.size()) > limit)
            all.resize(size_t(limit));
        detail::forEachBatch(d->test, all, d->settings.batchSize, detail::normalizationOf(d->info),
                             [&](const torch::Tensor& x, const int64_t* at, int64_t n) {
                                 score(x, detail::makeLabels(d->test, at, n));
                             });
        xs = nullptr;
    } else if (split == EvalSplit::Test) {
        std::call_once(d->testOnce, [this] {
            std::vector<int64_t> all(size_t(d->test.size()));
            std::iota(all.begin(), all.end(), 0);
            d->batches(d->test, all, d->testX, d->testY);
        });
        xs = &d->testX;
        ys = &d->testY;
    }
    for (size_t b = 0; xs && b < xs->size() && r.images < limit; ++b)
        score((*xs)[b], (*ys)[b]);
    if (r.images > 0) {
        r.top1 = 100.0 * double(correct) / double(r.images);
        r.loss = lossSum / double(r.images);
    }
    r.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return r;
}

PrunedNetwork Evaluator::prunedNetwork(const Encoding& enc) const {
    validateEncoding(arch(), enc);
    torch::NoGradGuard noGrad;
    detail::PruningNetModuleImpl& net = *d->net;
    const detail::PrunedWeights w = net.generate(enc);
    detail::BnStats stats = net.emptyStats(enc);
    for (size_t b = 0; b < d->recal.size(); ++b)
        net.forward(d->recal[b], enc, w, detail::BnMode::Recal, &stats, int(b));
    return detail::toPrunedNetwork(arch(), enc, detail::foldBatchNorm(w, stats),
                                   describeExport(arch(), d->info, enc).json);
}

void Evaluator::exportNetwork(const Encoding& enc, ExportFormat format, const std::string& path,
                              const std::string& jsonPath) const {
    const PrunedNetwork net = prunedNetwork(enc);
    writeNetwork(net, format, path);
    writeFileAtomically(jsonPath, net.metadataJson);
}

} // namespace mp
