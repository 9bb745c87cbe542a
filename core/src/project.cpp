#include "metaprune/project.h"

#include <chrono>
#include <memory>

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QLockFile>

namespace mp {

std::string defaultCheckpointPath(const std::string& dbPath, const TrainConfig& cfg) {
    const QFileInfo db(QString::fromStdString(dbPath));
    const QString hash =
        QCryptographicHash::hash(QByteArray::fromStdString(toJson(cfg)), QCryptographicHash::Sha256).toHex().left(12);
    const QString dir = db.absolutePath() + "/" + db.completeBaseName() + ".checkpoints";
    return (dir + "/" + QString::fromStdString(cfg.family + "-" + cfg.preset) + "-" + hash + ".pt").toStdString();
}

namespace {
/// Holds `path`.lock for the duration of a job; throws `Error` when another live process has it.
template <typename Error>
std::unique_ptr<QLockFile> lockOrThrow(const std::string& path, const std::string& what) {
    QDir().mkpath(QFileInfo(QString::fromStdString(path)).absolutePath());
    auto lock = std::make_unique<QLockFile>(QString::fromStdString(path + ".lock"));
    lock->setStaleLockTime(0); // stale only when its process is gone
    if (!lock->tryLock(200)) {
        qint64 pid = 0;
        QString host, app;
        lock->getLockInfo(&pid, &host, &app);
        throw Error(path + ": " + what + " is in use by another process (pid " + std::to_string(pid) +
                    "); wait for it to finish or cancel it");
    }
    return lock;
}
} // namespace

void verifyCheckpoint(const TrainingRecord& t) {
    if (t.sha256.empty())
        return;
    const std::string now = fileSha256(t.checkpoint);
    if (now != t.sha256)
        throw CheckpointError(t.checkpoint + ": changed since training " + std::to_string(t.id) +
                              " recorded it (SHA-256 " + now.substr(0, 12) + " instead of " + t.sha256.substr(0, 12) +
                              "): it was modified or damaged; retrain, or pass it with --checkpoint to use it as it is");
}

TrainJob trainInProject(const std::string& dbPath, const DataBundle& data, const TrainConfig& cfg,
                        const std::string& checkpoint, const TrainCallbacks& callbacks,
                        const std::atomic<bool>* cancel) {
    const std::string ckpt = QFileInfo(QString::fromStdString(checkpoint)).absoluteFilePath().toStdString();
    const auto lock = lockOrThrow<CheckpointError>(ckpt, "this checkpoint");
    Store store(dbPath);
    TrainJob job;
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
        if (t && t->status != "finished")
            store.updateTraining(job.trainingId, t->steps, t->totalSteps, "failed", t->sha256, t->seconds);
        throw;
    }
    const CheckpointInfo info = readCheckpointInfo(ckpt);
    store.updateTraining(job.trainingId, info.step, info.totalSteps, job.outcome.finished ? "finished" : "cancelled",
                         info.sha256, before + job.outcome.seconds);
    return job;
}

SearchJob searchInProject(const std::string& dbPath, const Evaluator& evaluator, const SearchConfig& cfg,
                          int64_t trainingId, const SearchCallbacks& callbacks, const std::atomic<bool>* cancel,
                          const LatencyTable* latency) {
    checkSearchConfig(evaluator.arch(), cfg, latency);
    Store store(dbPath);
    SearchJob job;
    const int64_t runId = store.findOrCreateRun(searchRunRecord(evaluator, cfg, trainingId), &job.resumed);
    const auto lock = lockOrThrow<StoreError>(dbPath + ".run-" + std::to_string(runId), "search run " + std::to_string(runId));
    const EvaluateFn evaluate = [&evaluator](const Encoding& e, const std::atomic<bool>* c) {
        return evaluator.evaluate(e, EvalSplit::Search, c);
    };
    job.outcome = runSearch(evaluator.arch(), evaluate, store, runId, cfg, callbacks, cancel, latency);
    return job;
}

LatencyJob latencyTableFor(const std::string& dbPath, const ArchSpec& arch, int batch, int gridStep, int repeats,
                           const std::function<void(int64_t, int64_t)>& progress, const std::atomic<bool>* cancel) {
    Store store(dbPath);
    const MachineInfo machine = currentMachine(batch);
    LatencyJob job;
    const auto describe = [&] {
        job.description = "table " + std::to_string(job.id) + ": " + machine.json() + ", grid step " +
                           std::to_string(job.table.grid.size() > 1 ? job.table.grid[1] - job.table.grid[0] : 0);
    };
    if (const auto stored = store.latencyTable(latencyArchKey(arch), machine.json(), gridStep)) {
        job.id = stored->first;
        job.table = LatencyTable::fromJson(stored->second);
        describe();
        return job;
    }
    const int step = gridStep > 0 ? gridStep : 5;
    const auto start = std::chrono::steady_clock::now();
    job.table = measureLatencyTable(arch, batch, step, repeats, progress, cancel);
    job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    job.id = store.addLatencyTable(latencyArchKey(arch), machine.json(), step, job.table.toJson());
    job.measured = true;
    describe();
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
