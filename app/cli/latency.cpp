// metaprune latency: this machine's per-layer latency table.
#include "cli.h"

#include <QFileInfo>

#include <cmath>
#include <cstdio>

namespace mpcli {

using namespace mp;

void declareLatency(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    addArchitectureOptions(p);
    p.addOption({"batch", "Images per forward pass.", "n", "1"});
    p.addOption(
        {"grid-step", "Scale-index step of the measured grid (1 = every grid width).", "n", "5"});
    p.addOption({"repeats", "Timed runs per table entry (the median is kept).", "n", "5"});
    p.addOption({"check", "Random pruned networks to measure end to end against the prediction.",
                 "n", "10"});
}

int runLatency(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    // The project's trained architecture unless one is named.
    const bool named = p.isSet("family") || p.isSet("preset") || p.isSet("arch-file");
    std::optional<TrainingRecord> trained;
    if (!named && QFileInfo::exists(p.value("db")))
        for (const TrainingRecord& t : Store(p.value("db").toStdString(), StoreMode::ReadOnly).trainings())
            if (t.status == "finished") trained = t;
    const ArchSpec arch = trained ? checkpointArchitecture(readCheckpointInfo(trained->checkpoint))
                                  : architectureFromOptions(p);
    const int batch = intValue(p, "batch", 1, 4096);
    const LatencyJob job =
        latencyFor(p.value("db").toStdString(), arch, batch, intValue(p, "grid-step", 1, 30),
                   intValue(p, "repeats", 1, 1000));
    const Encoding full = uniformEncoding(arch, grid::kSize - 1), small = uniformEncoding(arch, 0);
    std::printf("predicted latency at batch %d: full network %.3f ms, smallest %.3f ms\n", batch,
                job.table.predict(arch, full), job.table.predict(arch, small));
    const int checks = intValue(p, "check", 0, 100000);
    if (checks > 0) {
        std::mt19937_64 rng(11);
        double sumApe = 0;
        for (int i = 0; i < checks; ++i) {
            const Encoding e = i == 0 ? full : randomEncoding(arch, rng);
            const double predicted = job.table.predict(arch, e);
            const double measured = measureNetworkLatency(arch, e, batch, 7);
            sumApe += std::abs(predicted - measured) / measured;
            std::printf("  %8s MACs: predicted %.3f ms, measured %.3f ms\n",
                        formatMacs(countMacs(arch, e)).c_str(), predicted, measured);
        }
        std::printf("mean absolute percentage error over %d networks: %.1f%%\n", checks,
                    100 * sumApe / checks);
    }
    return 0;
}

} // namespace mpcli
