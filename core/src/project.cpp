#include "metaprune/project.h"
#include "metaprune/trained.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLockFile>

namespace mp {

namespace {
/// The project setting holding a training's OriginalModelScore.
std::string originalKey(int64_t trainingId) { return "original_model." + std::to_string(trainingId); }
} // namespace

double LearnedCheck::threshold() const {
    const double p = chance / 100.0;
    const double se = images > 0 ? std::sqrt(p * (1 - p) / double(images)) : 1.0;
    return chance + std::max(2.0, 300.0 * se);
}

std::string LearnedCheck::describe() const {
    char buf[300];
    if (decidable())
        std::snprintf(buf, sizeof buf, "full-width top-1 %.2f%% on %lld test images, chance %.2f%% (learned: above %.2f%%)",
                      top1, static_cast<long long>(images), chance, threshold());
    else
        std::snprintf(buf, sizeof buf,
                      "full-width top-1 %.2f%% on %lld test images, chance %.2f%% (too few test images to tell whether "
                      "it learned: the rule would need more than 100%%)",
                      top1, static_cast<long long>(images), chance);
    return buf;
}

LearnedCheck measureLearned(const Evaluator& evaluator, const std::atomic<bool>* cancel) {
    const EvalResult r =
        evaluator.evaluate(uniformEncoding(evaluator.arch(), grid::kSize - 1), EvalSplit::Test, cancel);
    return {r.top1, evaluator.chanceTop1(EvalSplit::Test), r.images};
}

std::string notLearnedMessage(int64_t trainingId, const LearnedCheck& check) {
    return (trainingId > 0 ? "training " + std::to_string(trainingId) + "'s PruningNet" : std::string("the PruningNet")) +
           " has not learned: " + check.describe() +
           ". Its ranking of structures is not meaningful; train again (a lower --lr, more --epochs) before "
           "searching";
}

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
    if (!QFileInfo::exists(QString::fromStdString(t.checkpoint)))
        throw CheckpointError(checkpointNotFoundMessage(t.checkpoint));
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
                        const std::atomic<bool>* cancel, const Distributed* dist) {
    const std::string ckpt = QFileInfo(QString::fromStdString(checkpoint)).absoluteFilePath().toStdString();
    // Settings that cannot train are refused before the project or the checkpoints folder exist.
    checkTrainingFits(data, cfg, dist ? dist->worldSize() : 1);
    Store store(dbPath); // first: a file that is not a project must fail before anything is created
    const auto lock = lockOrThrow<CheckpointError>(ckpt, "this checkpoint");
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
        job.outcome = trainPruningNet(data, cfg, ckpt, cb, cancel, 60.0, dist);
    } catch (...) {
        const std::optional<TrainingRecord> t = store.training(job.trainingId);
        if (t && t->status != "finished")
            store.updateTraining(job.trainingId, t->steps, t->totalSteps, "failed", t->sha256, t->seconds);
        throw;
    }
    const CheckpointInfo info = readCheckpointInfo(ckpt);
    store.updateTraining(job.trainingId, info.step, info.totalSteps, job.outcome.finished ? "finished" : "cancelled",
                         info.sha256, before + job.outcome.seconds);
    if (job.outcome.finished) {
        const Evaluator evaluator(ckpt, data);
        job.check = measureLearned(evaluator, cancel);
        store.setTrainingCheck(job.trainingId, job.check->top1, job.check->chance, job.check->images);
        if (cfg.initFromWeights) {
            const ModelScore s = evaluateTrained(evaluator.arch(), checkpointTrainedModel(ckpt), data.test,
                                                 evaluator.checkpoint().mean, evaluator.checkpoint().stddev, 0, cancel);
            job.original = OriginalModelScore{
                s.top1, s.images, countMacs(evaluator.arch(), uniformEncoding(evaluator.arch(), grid::kSize - 1))};
            store.setSetting(originalKey(job.trainingId),
                             QJsonDocument(QJsonObject{{"top1", s.top1},
                                                       {"images", qint64(s.images)},
                                                       {"macs", qint64(job.original->macs)}})
                                 .toJson(QJsonDocument::Compact)
                                 .toStdString());
        }
    }
    return job;
}

std::optional<OriginalModelScore> originalModelScore(const Store& store, int64_t trainingId) {
    const std::optional<std::string> s = store.setting(originalKey(trainingId));
    if (!s)
        return std::nullopt;
    const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(*s)).object();
    const double top1 = o["top1"].toDouble(-1);
    if (!(top1 >= 0 && top1 <= 100) || o["macs"].toInteger() <= 0) // a damaged value is no reference
        return std::nullopt;
    return OriginalModelScore{top1, o["images"].toInteger(), o["macs"].toInteger()};
}

LearnedCheck learnedCheckFor(const std::string& dbPath, const Evaluator& evaluator, int64_t trainingId,
                             const std::atomic<bool>* cancel) {
    if (trainingId > 0) {
        const Store store(dbPath, StoreMode::ReadOnly);
        const std::optional<TrainingRecord> t = store.training(trainingId);
        if (t && t->fullTop1 && t->sha256 == evaluator.checkpoint().sha256)
            return {*t->fullTop1, *t->chanceTop1, t->checkImages};
    }
    const LearnedCheck check = measureLearned(evaluator, cancel);
    if (trainingId > 0) {
        Store store(dbPath);
        if (const std::optional<TrainingRecord> t = store.training(trainingId);
            t && t->sha256 == evaluator.checkpoint().sha256)
            store.setTrainingCheck(trainingId, check.top1, check.chance, check.images);
    }
    return check;
}

SearchJob searchInProject(const std::string& dbPath, const Evaluator& evaluator, const SearchConfig& cfg,
                          int64_t trainingId, const SearchCallbacks& callbacks, const std::atomic<bool>* cancel,
                          const LatencyTable* latency, bool allowUnlearned, const Distributed* dist) {
    const bool sharded = dist && dist->worldSize() > 1;
    // Whatever happens here, the other ranks of a sharded search must not wait forever.
    struct Release {
        const Distributed* dist;
        ~Release() {
            if (dist) {
                try {
                    endSearchShards(*dist);
                } catch (const std::exception&) {
                    // A lost rank was already reported by the collective that found it.
                }
            }
        }
    } release{sharded ? dist : nullptr};
    checkSearchConfig(evaluator.arch(), cfg, latency);
    if (const LearnedCheck check = learnedCheckFor(dbPath, evaluator, trainingId, cancel);
        !check.learned() && !allowUnlearned)
        throw NotLearnedError(notLearnedMessage(trainingId, check) +
                          " (or search anyway: metaprune search --force, or Search anyway in the app)");
    Store store(dbPath);
    SearchJob job;
    const int64_t runId = store.findOrCreateRun(searchRunRecord(evaluator, cfg, trainingId), &job.resumed);
    const auto lock = lockOrThrow<StoreError>(dbPath + ".run-" + std::to_string(runId), "search run " + std::to_string(runId));
    const EvaluateFn evaluate = [&evaluator](const Encoding& e, const std::atomic<bool>* c) {
        return evaluator.evaluate(e, EvalSplit::Search, c);
    };
    const BatchEvaluateFn batch = sharded ? shardedEvaluation(evaluator, *dist) : BatchEvaluateFn();
    job.outcome =
        runSearch(evaluator.arch(), evaluate, store, runId, cfg, callbacks, cancel, latency, sharded ? &batch : nullptr);
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
        try {
            job.table = LatencyTable::fromJson(stored->second);
            job.id = stored->first;
            describe();
            return job;
        } catch (const std::invalid_argument&) {
            // A table of an older format: measured again below, the old row stays as it was.
        }
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

namespace {
/// Whether a live process holds `path`.lock (lockOrThrow's lock).
bool lockHeld(const std::string& path) {
    QLockFile lock(QString::fromStdString(path + ".lock"));
    lock.setStaleLockTime(0);
    if (!lock.tryLock(0))
        return true;
    lock.unlock();
    return false;
}
} // namespace

int closeInterruptedRuns(const std::string& dbPath) {
    Store store(dbPath);
    int changed = 0;
    for (const RunRecord& r : store.runs())
        if (r.kind == "search" && r.status == "running" && !lockHeld(dbPath + ".run-" + std::to_string(r.id))) {
            store.setRunStatus(r.id, "cancelled");
            ++changed;
        }
    for (const TrainingRecord& t : store.trainings())
        if (t.status == "running" && !lockHeld(t.checkpoint)) {
            store.updateTraining(t.id, t.steps, t.totalSteps, "cancelled", t.sha256, t.seconds);
            ++changed;
        }
    return changed;
}

std::optional<CandidateRecord> findStoredEvaluation(const Store& store, const std::string& checkpointSha256,
                                                    const EvalSettings& eval, const Encoding& genes) {
    for (const RunRecord& r : store.runs()) {
        if (r.checkpointSha256 != checkpointSha256 || !(searchConfigFromJson(r.config).eval == eval))
            continue;
        if (std::optional<CandidateRecord> c = store.findCandidate(r.id, genes); c && c->damage.empty())
            return c;
    }
    return std::nullopt;
}

std::optional<CandidateRecord> uniformBaselineAtLeast(const std::vector<CandidateRecord>& candidates, int64_t macs) {
    std::optional<CandidateRecord> best;
    for (const CandidateRecord& c : candidates)
        if (c.damage.empty() && c.origin == "uniform" && c.macs >= macs && (!best || c.macs < best->macs))
            best = c;
    return best;
}

} // namespace mp
