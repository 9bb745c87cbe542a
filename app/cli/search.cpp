// metaprune search: evolutionary search under a MACs and/or latency constraint.
#include "cli.h"

#include <cstdio>

namespace mpcli {

using namespace mp;

void declareSearch(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "to search with");
    addSearchOptions(p, SearchConfig{}, "50%");
    addEvalOptions(p, EvalSettings{});
    p.addOption({"force", "Search even when the PruningNet has not learned (its full-width top-1 is not "
                          "clearly above chance): the ranking is then not meaningful."});
    addDistributedOptions(p);
}

int runSearch(const Parser& p) {
    if (p.isSet("nproc")) return launchLocal(p, "search");
    configureRuntime(intValue(p, "threads", 0, 1024));
    const TrainedRef ref = resolveCheckpoint(p);
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const ArchSpec arch = checkpointArchitecture(info);
    SearchConfig cfg = searchConfigOf(p, arch); // bad options are refused before the data is read
    // Every rank scores with the same PruningNet under the same settings. Joined before the data
    // is read, as train does: a missing rank shows at once, and only rank 0 prints the data line.
    const std::unique_ptr<Distributed> dist =
        joinFromEnvironment(p, "search", shardedSearchSettings(toJson(cfg), info.sha256));
    const DataBundle data = dataForCheckpoint(info, p);
    if (dist && dist->rank() != 0) {
        const Evaluator ev(ref.checkpoint, data, cfg.eval);
        serveSearchShards(ev, *dist, &gCancel);
        return 0;
    }
    std::optional<LatencyJob> latency;
    if (hasLatencyBound(cfg)) {
        latency =
            latencyFor(p.value("db").toStdString(), arch, intValue(p, "latency-batch", 1, 4096),
                       intValue(p, "latency-grid-step", 0, 30), 5);
        cfg.latencyTable = latency->description;
    }
    checkSearchConfig(arch, cfg, latency ? &latency->table : nullptr);
    const Evaluator ev(ref.checkpoint, data, cfg.eval);
    const SearchJob job = runSearchJob(p.value("db").toStdString(), ev, cfg, ref.trainingId,
                                       latency ? &latency->table : nullptr, p.isSet("force"),
                                       dist.get());
    const Store store(p.value("db").toStdString(), StoreMode::ReadOnly);
    const std::vector<CandidateRecord> all = store.candidates(job.outcome.runId);
    const int64_t full = countMacs(arch, uniformEncoding(arch, grid::kSize - 1));
    printFront(all, full, &cfg);
    if (job.outcome.best) {
        if (cfg.score == SearchScore::Loss)
            std::printf("The run ranks candidates by their loss on the search split (--score loss): the best "
                        "below has the lowest loss (%.4f), which need not lie on the top-1 front above.\n",
                        job.outcome.best->loss);
        printBestVsUniform(*job.outcome.best, all, full);
        if (const auto u = uniformBaselineAtLeast(all, job.outcome.best->macs))
            printPairedDifference(ev, *job.outcome.best, *u, EvalSplit::Search);
    }
    if (!job.outcome.finished) {
        std::printf(
            "Cancelled; every evaluated candidate is stored. Run the same command to resume.\n");
        return 130;
    }
    return 0;
}

} // namespace mpcli
