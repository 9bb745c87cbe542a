// metaprune evaluate: one encoding with BN recalibration.
#include "cli.h"

#include <cstdio>

namespace mpcli {

using namespace mp;

void declareEvaluate(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "to use");
    p.addOption({"encoding",
                 "Comma-separated scale indices (0..30), one per gene (see `metaprune arch`).",
                 "genes"});
    p.addOption({"uniform", "Uniform network at scale index i (0..30; 30 = full width).", "i"});
    p.addOption({"test", "Score on the official test set instead of the search split."});
    p.addOption({"no-recal", "Skip BN recalibration (shows why it is mandatory)."});
    addEvalOptions(p, EvalSettings{});
}

int runEvaluate(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    const TrainedRef ref = resolveCheckpoint(p);
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    EvalSettings es = evalSettingsOf(p);
    es.recalibrate = !p.isSet("no-recal");
    const Evaluator ev(ref.checkpoint, data, es);
    Encoding enc;
    if (p.isSet("encoding") == p.isSet("uniform"))
        throw UsageError("give exactly one of --encoding or --uniform");
    if (p.isSet("encoding"))
        enc = parseEncoding(ev.arch(), p.value("encoding").toStdString());
    else
        enc = uniformEncoding(ev.arch(), intValue(p, "uniform", 0, grid::kSize - 1));
    const EvalResult r =
        ev.evaluate(enc, p.isSet("test") ? EvalSplit::Test : EvalSplit::Search, &gCancel);
    const int64_t full = countMacs(ev.arch(), uniformEncoding(ev.arch(), grid::kSize - 1));
    std::printf("encoding: %s\nchannels: %s\nMACs: %s (%.1f%% of full)  params: %lld\n",
                genesText(enc).c_str(), channelsToString(geneChannels(ev.arch(), enc)).c_str(),
                formatMacs(countMacs(ev.arch(), enc)).c_str(),
                100.0 * double(countMacs(ev.arch(), enc)) / double(full),
                static_cast<long long>(countParams(ev.arch(), enc)));
    std::printf("top-1 %.2f%%  loss %.4f  on %lld %s images%s  (%.0f ms)\n", r.top1, r.loss,
                static_cast<long long>(r.images), p.isSet("test") ? "test" : "search-split",
                es.recalibrate ? "" : " WITHOUT BN recalibration", r.milliseconds);
    return 0;
}

} // namespace mpcli
