#include "training_p.h"

#include "metaprune/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace mp {

namespace {
using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}
} // namespace

Timing summarize(std::vector<double> ms, double first) {
    Timing t;
    t.first = first;
    t.samples = int(ms.size());
    if (ms.empty())
        return t;
    std::sort(ms.begin(), ms.end());
    t.median = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
    t.p95 = ms[std::min(ms.size() - 1, size_t(std::ceil(0.95 * double(ms.size()))) - 1)];
    return t;
}

double sgemmGflops(int n, int repeats) {
    torch::NoGradGuard noGrad;
    const torch::Tensor a = torch::randn({n, n}), b = torch::randn({n, n});
    torch::Tensor c = torch::mm(a, b); // warm-up
    double best = 1e30;
    for (int i = 0; i < repeats; ++i) {
        const auto t = Clock::now();
        c = torch::mm(a, b);
        best = std::min(best, msSince(t));
    }
    return 2.0 * double(n) * n * n / (best * 1e-3) / 1e9;
}

Timing benchTrainingStep(const std::string& family, const std::string& preset, int channels, int size,
                         int classes, int batch, GeneratorUpdate update, int steps, double* gflop,
                         int64_t* generatorParams) {
    const ArchSpec arch = makeArchitecture(family, preset, channels, size, size, classes);
    torch::manual_seed(1);
    detail::PruningNetModule net(arch);
    if (generatorParams)
        *generatorParams = net->generatorParameterCount();
    TrainConfig cfg;
    cfg.update = update;
    torch::optim::SGD sgd(net->denseParameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    const torch::Tensor x = torch::randn({batch, channels, size, size}).contiguous(at::MemoryFormat::ChannelsLast);
    const torch::Tensor y = torch::randint(0, classes, {batch}, torch::kLong);
    std::mt19937_64 rng(7);
    std::vector<double> times;
    double first = 0, work = 0;
    for (int s = 0; s <= steps; ++s) {
        const Encoding enc = randomEncoding(arch, rng);
        const auto t = Clock::now();
        detail::trainStep(net, sgd, x, y, enc, cfg, 0.01);
        const double ms = msSince(t);
        if (s == 0)
            first = ms;
        else {
            times.push_back(ms);
            work += 6.0 * double(countMacs(arch, enc)) * batch / 1e9;
        }
    }
    if (gflop)
        *gflop = steps > 0 ? work / steps : 0;
    return summarize(times, first);
}

Timing benchDataParallelSteps(const std::string& family, const std::string& preset, int channels, int size,
                              int classes, int batch, int steps, const Distributed* dist, double* allreduceBytes,
                              double* bnBytes, bool syncBatchNorm) {
    detail::ProcessGroupImpl* group = dist && dist->worldSize() > 1 ? &dist->impl() : nullptr;
    const int world = group ? group->worldSize() : 1;
    if (batch % world != 0)
        throw ConfigError("batch " + std::to_string(batch) + " does not split over " + std::to_string(world) +
                          " ranks");
    const int64_t local = batch / world;
    const ArchSpec arch = makeArchitecture(family, preset, channels, size, size, classes);
    torch::manual_seed(1);
    detail::PruningNetModule net(arch);
    const detail::RankSum rankSum{group};
    if (group && syncBatchNorm)
        net->setRankSum(&rankSum);
    TrainConfig cfg;
    torch::optim::SGD sgd(net->denseParameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    torch::manual_seed(2 + (group ? group->rank() : 0));
    const torch::Tensor x = torch::randn({local, channels, size, size}).contiguous(at::MemoryFormat::ChannelsLast);
    const torch::Tensor y = torch::randint(0, classes, {local}, torch::kLong);
    std::mt19937_64 rng(7);
    std::vector<double> times;
    double first = 0, bytes = 0, bn = 0;
    for (int s = 0; s <= steps; ++s) {
        const Encoding enc = randomEncoding(arch, rng);
        if (s > 0) {
            // What the step exchanges: every generated weight and dense parameter gradient, and
            // per batch norm 2 x (2 C + 1) doubles.
            torch::NoGradGuard noGrad;
            const detail::PrunedWeights w = net->generate(enc);
            for (const auto* list : {&w.conv, &w.convBias})
                for (const torch::Tensor& t : *list)
                    bytes += t.defined() ? 4.0 * double(t.numel()) : 0.0;
            for (const torch::Tensor& p : net->lossParameters())
                bytes += 4.0 * double(p.numel());
            for (const std::vector<ChannelRange>& ranges : net->normRanges(enc)) {
                int channels = 0;
                for (const ChannelRange& r : ranges)
                    channels += r.count;
                if (channels > 0)
                    bn += 2.0 * 8.0 * double(2 * channels + 1);
            }
        }
        bool stop = false;
        const auto t = Clock::now();
        detail::trainStep(net, sgd, x, y, enc, cfg, 0.01, group, &stop);
        const double ms = msSince(t);
        if (s == 0)
            first = ms;
        else
            times.push_back(ms);
    }
    if (allreduceBytes)
        *allreduceBytes = steps > 0 ? bytes / steps : 0;
    if (bnBytes)
        *bnBytes = steps > 0 ? bn / steps : 0;
    return summarize(times, first);
}

} // namespace mp
