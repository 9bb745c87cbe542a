// metaprune fidelity: how well the PruningNet ranks structures like retraining does, over the
// whole MACs range or inside a cost band.
#include "cli.h"

#include <QFileInfo>

#include <cstdio>
#include <functional>

namespace mpcli {

using namespace mp;

namespace {

/// "LO..HI" of option `name`, each end parsed by `parse`.
template <typename Parse>
CostBand bandOf(const Parser& p, const QString& name, CostBand::Kind kind, Parse parse) {
    const QStringList ends = p.value(name).split("..");
    if (ends.size() != 2)
        throw UsageError("--" + name.toStdString() + " must be LO..HI, like " +
                         (kind == CostBand::Kind::Macs ? "45%..50% or 1.2M..1.4M" : "1.2..1.5") +
                         "; got '" + p.value(name).toStdString() + "'");
    CostBand b;
    b.kind = kind;
    b.lo = parse(ends[0].trimmed());
    b.hi = parse(ends[1].trimmed());
    if (!(b.lo < b.hi))
        throw UsageError("--" + name.toStdString() + " is empty: " + ends[0].toStdString() +
                         " is not below " + ends[1].toStdString());
    return b;
}

} // namespace

void declareFidelity(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "to assess");
    p.addOption({"samples", "Structures sampled across the MACs range or the band.", "n", "12"});
    p.addOption({"sample-seed", "Seed of the sampling, the bootstrap and the permutations.", "n",
                 "1"});
    p.addOption({"band",
                 "Sample inside this MACs band only, where the search compares structures: "
                 "45%..50% (of the full network) or 1.2M..1.4M.",
                 "lo..hi"});
    p.addOption({"latency-band",
                 "Sample inside this band of predicted latency (ms), from the project's latency "
                 "table (measured first if it has none).",
                 "lo..hi"});
    p.addOption({"latency-batch", "Batch size of the latency table.", "n", "1"});
    p.addOption({"latency-grid-step",
                 "Scale-index step of the latency table's grid (0 = any stored table).", "n", "0"});
    p.addOption({"top-k", "k of the top-k overlap.", "n", "3"});
    p.addOption({"score", "The prediction ranked: top1, or loss (lower is better), as search --score ranks.", "name",
                 "top1"});
    RetrainConfig d;
    d.epochs = 1; // a short retraining: enough to rank, cheap enough for a dozen structures
    addRetrainOptions(p, d);
    p.addOption({"ground-truth",
                 "scratch (the structures retrained with the recipe as given) or finetune (inherit the trained "
                 "model's channels and distil from it: the workflow's own fine-tuning; a PruningNet started from a "
                 "trained model).",
                 "kind", "scratch"});
    p.addOption({"seed", "Retraining seed.", "n", "1"});
    p.addOption({"seeds", "Retraining seeds of every structure instead of --seed (the ground truth is their mean).",
                 "list"});
    addJobsOption(p);
    addEvalOptions(p, EvalSettings{});
    p.addOption({"report", "Markdown report to write.", "file", "fidelity.md"});
}

int runFidelity(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    intValue(p, "jobs", 1, 256); // checked before any data is read
    FidelityConfig cfg;
    cfg.recipe = retrainConfigOf(p);
    if (p.isSet("seed") && p.isSet("seeds"))
        throw UsageError("give --seed or --seeds, not both");
    cfg.seeds = p.isSet("seeds") ? seedsOf(p, "seeds") : std::vector<uint64_t>{seedValue(p)};
    cfg.recipe.seed = cfg.seeds.front();
    const QString truth = p.value("ground-truth");
    if (truth != "scratch" && truth != "finetune")
        throw UsageError("--ground-truth must be scratch or finetune");
    if (truth == "finetune") {
        if (p.isSet("mode") && cfg.recipe.mode != RetrainMode::Inherit)
            throw UsageError("--ground-truth finetune inherits the trained model's channels: leave out --mode");
        cfg.recipe.mode = RetrainMode::Inherit;
        cfg.recipe.distill = true;
        if (!p.isSet("lr"))
            cfg.recipe.lr = kInheritLr;
    }
    bool ok = false;
    cfg.seed = p.value("sample-seed").toULongLong(&ok);
    if (!ok) throw UsageError("--sample-seed must be a non-negative integer");
    cfg.samples = intValue(p, "samples", 3, 10000);
    cfg.topK = intValue(p, "top-k", 1, 10000);
    try {
        cfg.score = parseSearchScore(p.value("score").toStdString());
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--score: ") + e.what());
    }
    if (p.isSet("band") && p.isSet("latency-band"))
        throw UsageError("give --band or --latency-band, not both");
    const QString reportPath = QFileInfo(p.value("report")).absoluteFilePath();
    checkWritable(reportPath);
    const EvalSettings eval = evalSettingsOf(p);
    const TrainedRef ref = resolveCheckpoint(p);
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    const Evaluator ev(ref.checkpoint, data, eval);
    cfg.pool = studyPoolOf(p, ref.checkpoint);
    const int64_t full = countMacs(ev.arch(), uniformEncoding(ev.arch(), grid::kSize - 1));
    std::optional<LatencyJob> latency;
    if (p.isSet("band")) {
        cfg.band = bandOf(p, "band", CostBand::Kind::Macs, [&](const QString& t) {
            return double(parseMacs(t.toStdString(), full));
        });
    } else if (p.isSet("latency-band")) {
        cfg.band = bandOf(p, "latency-band", CostBand::Kind::Latency, [&](const QString& t) {
            bool good = false;
            const double v = t.toDouble(&good);
            if (!good || !(v >= 0))
                throw UsageError("--latency-band ends are milliseconds, got '" + t.toStdString() +
                                 "'");
            return v;
        });
        latency = latencyFor(p.value("db").toStdString(), ev.arch(),
                             intValue(p, "latency-batch", 1, 4096),
                             intValue(p, "latency-grid-step", 0, 30), 5);
    }
    StageProgress bar;
    const FidelityReport report =
        measureFidelity(p.value("db").toStdString(), ev, data, ref.trainingId, cfg, std::ref(bar),
                        &gCancel, latency ? &latency->table : nullptr);
    bar.done();
    const std::string md = report.markdown();
    std::printf("%s", md.c_str());
    writeFileAtomically(reportPath.toStdString(), md);
    std::printf("\nWrote %s\n", qPrintable(p.value("report")));
    return 0;
}

} // namespace mpcli
