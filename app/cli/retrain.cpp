// metaprune retrain: retrain a stored structure and store its test top-1.
#include "cli.h"

#include <QFileInfo>

#include <cstdio>
#include <functional>

namespace mpcli {

using namespace mp;

void declareRetrain(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "and data split to use");
    p.addOption(
        {"candidate", "Stored candidate id to retrain (see `metaprune pareto --all`).", "id"});
    addRetrainOptions(p, RetrainConfig{});
    p.addOption({"seed", "Seed of initialisation and data order.", "n", "1"});
    p.addOption(
        {"export",
         "Also write the retrained network (BN folded) to this file: .pt (TorchScript), .onnx or "
         ".archive.pt, with its metadata as JSON next to it.",
         "file"});
    p.addOption({"export-format", "torchscript, onnx, archive, or auto (from the file name).",
                 "name", "auto"});
}

int runRetrain(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    if (!p.isSet("candidate"))
        throw UsageError("--candidate is required (see metaprune pareto --all)");
    RetrainConfig cfg = retrainConfigOf(p);
    cfg.seed = seedValue(p);
    const std::string db = p.value("db").toStdString();
    const int64_t id = intValue(p, "candidate", 1, 1 << 30);
    const QString exportPath =
        p.isSet("export") ? QFileInfo(p.value("export")).absoluteFilePath() : QString();
    const ExportFormat format = formatOf(p, "export-format", exportPath);
    QString exportJson;
    if (!exportPath.isEmpty()) {
        exportJson = QFileInfo(jsonPathFor(p, exportPath)).absoluteFilePath();
        checkWritable(exportPath);
        checkWritable(exportJson);
    }
    const TrainedRef ref = resolveCheckpoint(p);
    std::optional<CandidateRecord> c = Store(db, StoreMode::ReadOnly).candidate(id);
    if (!c)
        throw UsageError("project " + db + " has no candidate " + std::to_string(id) +
                         " (see metaprune pareto --all)");
    if (!c->damage.empty())
        throw UsageError("candidate " + std::to_string(id) + " is damaged in the project (" + c->damage +
                         "); choose another (metaprune pareto --all)");
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    const Evaluator ev(ref.checkpoint, data);
    StageProgress bar;
    bool reused = false;
    const RetrainRecord r =
        retrainCandidate(db, ev, data, id, cfg, "user", std::ref(bar), &gCancel, &reused,
                         exportPath.toStdString(), format, exportJson.toStdString());
    bar.done();
    std::printf("Candidate %lld (%s MACs, PruningNet top-1 %.2f%% on the search split): test top-1 "
                "%.2f%% after "
                "retraining (%s%s, %d epoch%s, seed %llu)%s\n",
                static_cast<long long>(id), formatMacs(c->macs).c_str(), c->top1, r.testTop1,
                retrainModeName(cfg.mode).c_str(), cfg.distill ? " + distillation" : "", cfg.epochs, cfg.epochs == 1 ? "" : "s",
                static_cast<unsigned long long>(cfg.seed), reused ? " [stored result]" : "");
    if (!exportPath.isEmpty())
        std::printf("Wrote the retrained network to %s and its metadata to %s\n",
                    qPrintable(exportPath), qPrintable(exportJson));
    return 0;
}

} // namespace mpcli
