// metaprune demo: MetaPruning end to end on Fashion-MNIST.
#include "cli.h"

#include <QFileInfo>

#include <chrono>
#include <cstdio>

namespace mpcli {

using namespace mp;

void declareDemo(Parser& p) {
    const TrainConfig d; // the default budget is the demo's: about 5 minutes here
    addCommon(p, "metaprune-demo.sqlite");
    addDataOptions(p);
    addTrainOptions(p, d);
    const SearchConfig sd; // the reference search settings, about 7 minutes here
    addSearchOptions(p, sd, "50%");
    // The demo scores 2,000 of the search split's images (a 95% interval of about +-1.7 points)
    // to finish in minutes; searches and studies score the whole split.
    EvalSettings de = sd.eval;
    de.evalImages = 2000;
    addEvalOptions(p, de);
}

int runDemo(const Parser& p) {
    const auto start = Clock::now();
    configureRuntime(intValue(p, "threads", 0, 1024));
    const TrainConfig cfg = trainConfigOf(p);
    const std::string db = p.value("db").toStdString();
    std::printf("MetaPrune Studio demo (project %s, %d LibTorch threads)\n", db.c_str(), threads());
    const std::string ckpt = p.isSet("checkpoint")
                                 ? QFileInfo(p.value("checkpoint")).absoluteFilePath().toStdString()
                                 : defaultCheckpointPath(db, cfg);
    const DataBundle data = loadDataFor(cfg, p);
    const TrainJob job = runTraining(db, data, cfg, ckpt);
    if (!job.outcome.finished) {
        std::printf("Cancelled during training; run the same command to resume.\n");
        return 130;
    }
    reportLearned(job);
    const ArchSpec arch = checkpointArchitecture(readCheckpointInfo(ckpt));
    const SearchConfig scfg = searchConfigOf(p, arch);
    const Evaluator ev(ckpt, data, scfg.eval);
    const SearchJob sj = runSearchJob(db, ev, scfg, job.trainingId);
    Store store(db);
    const std::vector<CandidateRecord> all = store.candidates(sj.outcome.runId);
    const int64_t full = countMacs(arch, uniformEncoding(arch, grid::kSize - 1));
    printFront(all, full, &scfg);
    if (sj.outcome.best) {
        printBestVsUniform(*sj.outcome.best, all, full);
        const auto u = uniformBaselineAtLeast(all, sj.outcome.best->macs);
        if (u) printPairedDifference(ev, *sj.outcome.best, *u, EvalSplit::Search);
        std::printf("On the test set (PruningNet weights, BN recalibrated, no retraining): ");
        if (u) {
            const PairedAccuracy t =
                comparePaired(ev, sj.outcome.best->genes, u->genes, EvalSplit::Test, &gCancel);
            std::printf("best searched top-1 %.2f%%, uniform baseline %.2f%%: %s\n", t.top1A,
                        t.top1B, formatDifference(differenceOf(t)).c_str());
        } else {
            const EvalResult t = ev.evaluate(sj.outcome.best->genes, EvalSplit::Test, &gCancel);
            std::printf("best searched top-1 %.2f%%\n", t.top1);
        }
    }
    if (!sj.outcome.finished) {
        std::printf("Cancelled during search; every evaluated candidate is stored. Run the same "
                    "command to resume.\n");
        return 130;
    }
    std::printf("Demo finished in %s. Inspect with: metaprune pareto --db %s --all\n",
                duration(std::chrono::duration<double>(Clock::now() - start).count()).c_str(),
                db.c_str());
    return 0;
}

} // namespace mpcli
