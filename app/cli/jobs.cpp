// Training and search with progress output, shared by train, search and demo.
#include "cli.h"

#include <QFileInfo>

#include <cstdio>

namespace mpcli {

using namespace mp;

TrainJob runTraining(const std::string& db, const DataBundle& data, const TrainConfig& cfg,
                     const std::string& ckpt, const Distributed* dist) {
    checkTrainingFits(data, cfg, dist ? dist->worldSize() : 1); // before the training is announced
    const int held = searchPerClassFor(data.train, cfg.searchPerClass);
    const int64_t searchImages = int64_t(held) * data.train.numClasses();
    std::printf("Training PruningNet %s/%s on %s: %lld training images, of which %lld (%d per class) are held out "
                "as the search split and %lld train, %d %s, batch %d\n",
                cfg.family.c_str(), cfg.preset.c_str(), data.path.c_str(), static_cast<long long>(data.train.size()),
                static_cast<long long>(searchImages), held, static_cast<long long>(data.train.size() - searchImages),
                cfg.epochs, cfg.epochs == 1 ? "epoch" : "epochs", cfg.batchSize);
    std::printf("  checkpoint: %s\n", ckpt.c_str());
    if (cfg.sampling == Sampling::Sandwich)
        std::printf("  sandwich sampling: the full width, the narrowest structure and %d random structure%s per "
                    "step, gradients accumulated%s\n",
                    cfg.sandwichRandom, cfg.sandwichRandom == 1 ? "" : "s",
                    cfg.inplaceDistill ? "; in-place distillation from the full width" : "");
    if (dist)
        std::printf("  data-parallel on %d ranks: %d images per rank and step, %s batch norm\n",
                    dist->worldSize(), cfg.batchSize / dist->worldSize(),
                    cfg.syncBatchNorm ? "synchronised" : "per-rank (--sync-bn synchronises it)");
    if (QFileInfo::exists(QString::fromStdString(ckpt))) {
        const CheckpointInfo info = readCheckpointInfo(ckpt);
        std::printf("  resuming from its step %lld of %lld\n", static_cast<long long>(info.step),
                    static_cast<long long>(info.totalSteps));
    }
    std::fflush(stdout);
    Progress bar("train");
    TrainCallbacks cb;
    cb.progress = [&bar](const TrainProgress& p) {
        char extra[96];
        std::snprintf(extra, sizeof extra, "epoch %d  loss %.3f  top-1 %.1f%%  lr %.3f",
                      p.epoch + 1, p.loss, p.top1, p.lr);
        bar.update(p.step, p.totalSteps, extra);
    };
    const char* sampled = cfg.sampling == Sampling::Sandwich ? "sandwich structures" : "random structures";
    cb.epochEnd = [&bar, sampled](const TrainProgress& p) {
        bar.done();
        std::printf("  epoch %d done: loss %.4f, training top-1 %.2f%% (%s, batch statistics)\n", p.epoch + 1,
                    p.loss, p.top1, sampled);
        std::fflush(stdout);
    };
    const TrainJob job = trainInProject(db, data, cfg, ckpt, cb, &gCancel, dist);
    bar.done();
    const std::vector<std::string> late = lateFailures(data.train);
    if (!late.empty()) {
        std::printf("  %zu image files failed to decode while streaming and were replaced by the "
                    "next image of "
                    "their class:\n",
                    late.size());
        for (size_t i = 0; i < late.size() && i < 10; ++i)
            std::printf("    %s\n", late[i].c_str());
    }
    return job;
}

void reportLearned(const TrainJob& job) {
    if (!job.check) return;
    const LearnedCheck& c = *job.check;
    std::printf("Full-width PruningNet after BN recalibration: top-1 %.2f%% on the test set (%lld "
                "images, chance %.2f%%)\n",
                c.top1, static_cast<long long>(c.images), c.chance);
    if (job.original)
        std::printf("Original model (the trained model the PruningNet started from, as itself): top-1 %.2f%% on "
                    "the test set (%lld images) at %s MACs\n",
                    job.original->top1, static_cast<long long>(job.original->images),
                    formatMacs(job.original->macs).c_str());
    if (!c.learned())
        std::printf("WARNING: %s.\n", notLearnedMessage(job.trainingId, c).c_str());
    else if (!c.decidable())
        std::printf("Note: %s; use a larger test set to check it.\n", c.describe().c_str());
}

SearchJob runSearchJob(const std::string& db, const Evaluator& ev, const SearchConfig& cfg,
                       int64_t trainingId, const LatencyTable* latency, bool allowUnlearned,
                       const Distributed* dist) {
    const int64_t full = countMacs(ev.arch(), uniformEncoding(ev.arch(), grid::kSize - 1));
    // What is scored: the split can hold fewer images than the cap (evaluator.h).
    const int64_t split = ev.searchSplitImages();
    const int64_t scored = cfg.eval.evalImages > 0 ? std::min<int64_t>(cfg.eval.evalImages, split) : split;
    std::printf("Searching %s/%s: MACs in [%s, %s] (full network %s), population %d, %d "
                "%s, eval %lld search-split images "
                "after %d x %d BN recalibration images\n",
                ev.checkpoint().config.family.c_str(), ev.checkpoint().config.preset.c_str(),
                formatMacs(cfg.minMacs).c_str(),
                cfg.maxMacs > 0 ? formatMacs(cfg.maxMacs).c_str() : "inf", formatMacs(full).c_str(),
                cfg.population, cfg.generations, cfg.generations == 1 ? "generation" : "generations",
                static_cast<long long>(scored), cfg.eval.recalBatches,
                cfg.eval.recalBatchSize);
    if (cfg.score == SearchScore::Loss)
        std::printf("  ranked by the loss on the search split (--score loss), ties by top-1\n");
    std::fflush(stdout);
    Progress bar("search");
    double best = -1;
    SearchCallbacks cb;
    cb.candidate = [&](const CandidateRecord& c, bool cached) {
        if (cached) bar.skip(1);
        if (c.damage.empty() && c.origin != "uniform" && meetsConstraint(cfg, c.macs, c.latencyMs))
            best = std::max(best, c.top1);
    };
    cb.progress = [&](int64_t done, int64_t total) {
        char extra[64] = "";
        if (best >= 0) std::snprintf(extra, sizeof extra, "best top-1 %.2f%%", best);
        bar.update(done, total, extra);
    };
    const SearchJob job =
        searchInProject(db, ev, cfg, trainingId, cb, &gCancel, latency, allowUnlearned, dist);
    if (const LearnedCheck check = learnedCheckFor(db, ev, trainingId); !check.learned())
        std::printf("WARNING: %s; the search ran because --force was given, and the numbers below "
                    "rank nothing.\n",
                    notLearnedMessage(trainingId, check).c_str());
    bar.done();
    // The uniform baselines are evaluated candidates too: say how many, so that a run that found
    // nothing of its own does not read as a search of that size.
    int64_t uniform = 0;
    for (const CandidateRecord& c : Store(db, StoreMode::ReadOnly).candidates(job.outcome.runId))
        uniform += c.origin == "uniform";
    const std::string ofThem =
        uniform > 0 ? " (" + std::to_string(uniform) + " of the run's candidates are the uniform baselines)" : "";
    std::printf("Run %lld: %lld candidates evaluated now, %lld taken from the store%s%s, %s.\n",
                static_cast<long long>(job.outcome.runId),
                static_cast<long long>(job.outcome.evaluated),
                static_cast<long long>(job.outcome.cached), ofThem.c_str(),
                !job.resumed                  ? ""
                : job.outcome.evaluated == 0 ? " (resumed run: every candidate was stored)"
                                             : " (resumed run)",
                duration(job.outcome.seconds).c_str());
    if (job.outcome.exhausted)
        std::printf("The search ended after generation %d of %d: mutation, crossover and %d repaired random "
                    "draws per slot found no untested structure within the constraint, which holds few "
                    "encodings; %lld candidates were evaluated in it.\n",
                    job.outcome.endedAfterGeneration, cfg.generations, kRepairAttemptsPerSlot,
                    static_cast<long long>(job.outcome.evaluated + job.outcome.cached));
    return job;
}

} // namespace mpcli
