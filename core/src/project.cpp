#include "metaprune/project.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>

namespace mp {

std::string defaultCheckpointPath(const std::string& dbPath, const TrainConfig& cfg) {
    const QFileInfo db(QString::fromStdString(dbPath));
    const QString hash =
        QCryptographicHash::hash(QByteArray::fromStdString(toJson(cfg)), QCryptographicHash::Sha256).toHex().left(12);
    const QString dir = db.absolutePath() + "/" + db.completeBaseName() + ".checkpoints";
    return (dir + "/" + QString::fromStdString(cfg.family + "-" + cfg.preset) + "-" + hash + ".pt").toStdString();
}

TrainJob trainInProject(const std::string& dbPath, const DataBundle& data, const TrainConfig& cfg,
                        const std::string& checkpoint, const TrainCallbacks& callbacks,
                        const std::atomic<bool>* cancel) {
    Store store(dbPath);
    TrainJob job;
    const std::string ckpt = QFileInfo(QString::fromStdString(checkpoint)).absoluteFilePath().toStdString();
    const std::optional<TrainingRecord> existing = store.trainingByCheckpoint(ckpt);
    if (existing && existing->config == toJson(cfg)) {
        job.trainingId = existing->id;
        job.resumed = true;
    } else {
        job.trainingId = store.addTraining(toJson(cfg), ckpt, 0);
    }
    double before = existing && job.resumed ? existing->seconds : 0;
    TrainCallbacks cb = callbacks;
    cb.progress = [&](const TrainProgress& p) {
        store.addTrainingLog(job.trainingId, {p.step, p.epoch, p.loss, p.top1, p.lr, before + p.elapsedSeconds});
        if (callbacks.progress)
            callbacks.progress(p);
    };
    cb.epochEnd = [&](const TrainProgress& p) {
        store.updateTraining(job.trainingId, p.step, p.totalSteps, "running", fileSha256(ckpt),
                             before + p.elapsedSeconds);
        if (callbacks.epochEnd)
            callbacks.epochEnd(p);
    };
    try {
        job.outcome = trainPruningNet(data, cfg, ckpt, cb, cancel);
    } catch (...) {
        const std::optional<TrainingRecord> t = store.training(job.trainingId);
        store.updateTraining(job.trainingId, t ? t->steps : 0, t ? t->totalSteps : 0, "failed", t ? t->sha256 : "",
                             t ? t->seconds : 0);
        throw;
    }
    const CheckpointInfo info = readCheckpointInfo(ckpt);
    store.updateTraining(job.trainingId, info.step, info.totalSteps, job.outcome.finished ? "finished" : "cancelled",
                         info.sha256, before + job.outcome.seconds);
    return job;
}

SearchJob searchInProject(const std::string& dbPath, const Evaluator& evaluator, const SearchConfig& cfg,
                          int64_t trainingId, const SearchCallbacks& callbacks, const std::atomic<bool>* cancel) {
    checkSearchConfig(evaluator.arch(), cfg);
    Store store(dbPath);
    SearchJob job;
    const int64_t runId = store.findOrCreateRun(searchRunRecord(evaluator, cfg, trainingId), &job.resumed);
    const EvaluateFn evaluate = [&evaluator](const Encoding& e, const std::atomic<bool>* c) {
        return evaluator.evaluate(e, EvalSplit::Search, c);
    };
    job.outcome = runSearch(evaluator.arch(), evaluate, store, runId, cfg, callbacks, cancel);
    return job;
}

std::optional<CandidateRecord> uniformBaselineAtLeast(const std::vector<CandidateRecord>& candidates, int64_t macs) {
    std::optional<CandidateRecord> best;
    for (const CandidateRecord& c : candidates)
        if (c.origin == "uniform" && c.macs >= macs && (!best || c.macs < best->macs))
            best = c;
    return best;
}

} // namespace mp
