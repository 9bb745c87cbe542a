// metaprune retrain: retrain a stored structure and store its test top-1.
#include "cli.h"

#include <QFileInfo>

#include <algorithm>
#include <cstdio>
#include <functional>

namespace mpcli {

using namespace mp;

void declareRetrain(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "and data split to use");
    p.addOption(
        {"candidate", "Stored candidate id to retrain (see `metaprune pareto --all`), or several: 12,15,19.", "ids"});
    addRetrainOptions(p, RetrainConfig{});
    p.addOption({"seed", "Seed of initialisation and data order.", "n", "1"});
    p.addOption(
        {"export",
         "Also write the retrained network (BN folded) to this file: .pt (TorchScript), .onnx or "
         ".archive.pt, with its metadata as JSON next to it.",
         "file"});
    p.addOption({"export-format", "torchscript, onnx, archive, or auto (from the file name).",
                 "name", "auto"});
    addJobsOption(p);
}

int runRetrain(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    intValue(p, "jobs", 1, 256); // checked before any data is read
    if (!p.isSet("candidate"))
        throw UsageError("--candidate is required (see metaprune pareto --all)");
    RetrainConfig cfg = retrainConfigOf(p);
    cfg.seed = seedValue(p);
    const std::string db = p.value("db").toStdString();
    std::vector<int64_t> ids;
    for (const QString& t : p.value("candidate").split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const qlonglong id = t.trimmed().toLongLong(&ok);
        if (!ok || id < 1)
            throw UsageError("--candidate takes candidate ids like 12 or 12,15,19; got '" + t.toStdString() + "'");
        if (std::find(ids.begin(), ids.end(), id) != ids.end())
            throw UsageError("--candidate lists " + t.trimmed().toStdString() + " twice");
        ids.push_back(id);
    }
    if (ids.empty())
        throw UsageError("--candidate needs a candidate id (see metaprune pareto --all)");
    const QString exportPath =
        p.isSet("export") ? QFileInfo(p.value("export")).absoluteFilePath() : QString();
    if (!exportPath.isEmpty() && ids.size() > 1)
        throw UsageError("--export writes one network: give one --candidate with it");
    const ExportFormat format = formatOf(p, "export-format", exportPath);
    QString exportJson;
    if (!exportPath.isEmpty()) {
        exportJson = QFileInfo(jsonPathFor(p, exportPath)).absoluteFilePath();
        checkWritable(exportPath);
        checkWritable(exportJson);
    }
    const TrainedRef ref = resolveCheckpoint(p);
    std::vector<CandidateRecord> candidates;
    {
        const Store store(db, StoreMode::ReadOnly);
        for (int64_t id : ids) {
            std::optional<CandidateRecord> c = store.candidate(id);
            if (!c)
                throw UsageError("project " + db + " has no candidate " + std::to_string(id) +
                                 " (see metaprune pareto --all)");
            if (!c->damage.empty())
                throw UsageError("candidate " + std::to_string(id) + " is damaged in the project (" + c->damage +
                                 "); choose another (metaprune pareto --all)");
            candidates.push_back(*c);
        }
    }
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    const Evaluator ev(ref.checkpoint, data);
    StageProgress bar;
    bool pooled = false; // retrained by --jobs workers just now: not an older stored result
    if (const StudyPool pool = studyPoolOf(p, ref.checkpoint); pool && candidates.size() > 1) {
        pooled = true;
        std::vector<StudyUnit> units;
        for (const CandidateRecord& c : candidates) {
            StudyUnit u;
            u.db = db;
            u.checkpoint = ref.checkpoint;
            u.eval = ev.settings();
            u.candidateId = c.id;
            u.recipe = cfg;
            u.purpose = "user";
            units.push_back(u);
        }
        pool(units, std::ref(bar), &gCancel);
    }
    for (const CandidateRecord& c : candidates) {
        bool reused = false;
        const RetrainRecord r = retrainCandidate(db, ev, data, c.id, cfg, "user", std::ref(bar), &gCancel, &reused,
                                                 exportPath.toStdString(), format, exportJson.toStdString());
        bar.done();
        std::printf("Candidate %lld (%s MACs, PruningNet top-1 %.2f%% on the search split): test top-1 "
                    "%.2f%% after "
                    "retraining (%s%s, %d epoch%s, seed %llu)%s\n",
                    static_cast<long long>(c.id), formatMacs(c.macs).c_str(), c.top1, r.testTop1,
                    retrainModeName(cfg.mode).c_str(), cfg.distill ? " + distillation" : "", cfg.epochs,
                    cfg.epochs == 1 ? "" : "s", static_cast<unsigned long long>(cfg.seed),
                    reused && !pooled ? " [stored result]" : "");
        std::fflush(stdout);
    }
    if (!exportPath.isEmpty())
        std::printf("Wrote the retrained network to %s and its metadata to %s\n",
                    qPrintable(exportPath), qPrintable(exportJson));
    return 0;
}

} // namespace mpcli
