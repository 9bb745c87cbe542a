// metaprune fidelity: how well the PruningNet ranks structures like retraining does.
#include "cli.h"

#include <QFileInfo>

#include <cstdio>
#include <functional>

namespace mpcli {

using namespace mp;

void declareFidelity(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "to assess");
    p.addOption({"samples", "Structures sampled across the MACs range.", "n", "12"});
    p.addOption({"sample-seed", "Seed of the sampling.", "n", "1"});
    RetrainConfig d;
    d.epochs = 1; // a short retraining: enough to rank, cheap enough for a dozen structures
    addRetrainOptions(p, d);
    p.addOption({"seed", "Retraining seed.", "n", "1"});
    addEvalOptions(p, EvalSettings{});
    p.addOption({"report", "Markdown report to write.", "file", "fidelity.md"});
}

int runFidelity(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    RetrainConfig recipe = retrainConfigOf(p);
    recipe.seed = seedValue(p);
    bool ok = false;
    const uint64_t sampleSeed = p.value("sample-seed").toULongLong(&ok);
    if (!ok) throw UsageError("--sample-seed must be a non-negative integer");
    const int samples = intValue(p, "samples", 3, 10000);
    const QString reportPath = QFileInfo(p.value("report")).absoluteFilePath();
    checkWritable(reportPath);
    const EvalSettings eval = evalSettingsOf(p);
    const TrainedRef ref = resolveCheckpoint(p);
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    const Evaluator ev(ref.checkpoint, data, eval);
    StageProgress bar;
    const FidelityReport report =
        measureFidelity(p.value("db").toStdString(), ev, data, ref.trainingId, samples, sampleSeed,
                        recipe, std::ref(bar), &gCancel);
    bar.done();
    const std::string md = report.markdown();
    std::printf("%s", md.c_str());
    writeFileAtomically(reportPath.toStdString(), md);
    std::printf("\nWrote %s\n", qPrintable(p.value("report")));
    return 0;
}

} // namespace mpcli
