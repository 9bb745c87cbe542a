#include "workers.h"

#include "metaprune/compare.h"
#include "metaprune/evaluator.h"
#include "metaprune/project.h"

#include "metaprune/distributed.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QMetaObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTemporaryFile>

#include <sys/prctl.h>

#include <csignal>

namespace mpw {

void registerMetaTypes() {
    qRegisterMetaType<mp::CandidateRecord>();
    qRegisterMetaType<mp::TrainProgress>();
    qRegisterMetaType<mp::Encoding>();
}

void TrainWorker::run(const QString& db, const QString& configJson, const QString& checkpoint) {
    cancel = false;
    mp::applyThreadCount();
    try {
        const mp::TrainConfig cfg = mp::trainConfigFromJson(configJson.toStdString());
        const std::string ckpt = checkpoint.isEmpty() ? mp::defaultCheckpointPath(db.toStdString(), cfg)
                                                      : checkpoint.toStdString();
        emit started(QString::fromStdString(ckpt));
        const mp::DataBundle data = mp::loadTrainingData(cfg);
        mp::TrainCallbacks cb;
        cb.progress = [this](const mp::TrainProgress& p) { emit progress(p); };
        const mp::TrainJob job = mp::trainInProject(db.toStdString(), data, cfg, ckpt, cb, &cancel);
        emit finished(job.trainingId, job.outcome.finished, QString::fromStdString(ckpt));
    } catch (const std::exception& e) {
        emit failed(QString::fromStdString(e.what()));
    }
}

namespace {
void checkHash(const mp::Evaluator& ev, const QString& sha256) {
    if (!sha256.isEmpty() && ev.checkpoint().sha256 != sha256.toStdString())
        throw mp::CheckpointError(ev.checkpoint().path +
                                  ": changed since its training recorded it (SHA-256 differs): it was modified or "
                                  "damaged; train again to use this project");
}

/// Data and evaluator of a checkpoint, for a search or report job.
struct Loaded {
    mp::DataBundle data;
    std::unique_ptr<mp::Evaluator> evaluator;
};

Loaded loadFor(const QString& checkpoint, const QString& sha256, const mp::EvalSettings& eval = {}) {
    Loaded l;
    const mp::CheckpointInfo info = mp::readCheckpointInfo(checkpoint.toStdString());
    l.data = mp::loadTrainingData(info.config);
    l.evaluator = std::make_unique<mp::Evaluator>(checkpoint.toStdString(), l.data, eval);
    checkHash(*l.evaluator, sha256);
    return l;
}
} // namespace

namespace {
QString gRankProgram;

/// The pool of the Reports panel's process count: empty for 1 (the study runs in this thread).
mp::StudyPool studyPool(int jobs, const QString& checkpoint, const mp::DataBundle& data) {
    if (jobs <= 1)
        return {};
    return mp::processPool(SearchWorker::rankProgram().toStdString(), jobs, mp::threadsPerJob(jobs),
                           {"--data-checkpoint", checkpoint.toStdString(), "--data", data.path});
}

/// The extra ranks of a sharded search started from the app: `metaprune search-rank`
/// processes on this machine, ended with the search (or with the app: PR_SET_PDEATHSIG).
class LocalRanks {
public:
    /// Starts ranks 1 .. processes-1 of a run whose rank 0 is this process, on `port`.
    LocalRanks(int processes, int port, const std::string& runId, const QString& checkpoint,
               const QString& configPath) {
        for (int r = 1; r < processes; ++r) {
            auto p = std::make_unique<QProcess>();
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert("RANK", QString::number(r));
            env.insert("LOCAL_RANK", QString::number(r));
            env.insert("WORLD_SIZE", QString::number(processes));
            env.insert("LOCAL_WORLD_SIZE", QString::number(processes));
            env.insert("MASTER_ADDR", "127.0.0.1");
            env.insert("MASTER_PORT", QString::number(port));
            env.insert("TORCHELASTIC_RUN_ID", QString::fromStdString(runId));
            env.remove("TORCHELASTIC_USE_AGENT_STORE");
            p->setProcessEnvironment(env);
            // stderr to a file, not a pipe nobody reads during the search (a full pipe would
            // block the rank); its last line explains a failure.
            p->setStandardOutputFile(QProcess::nullDevice());
            p->setStandardErrorFile(logPath(r));
            p->setChildProcessModifier([] { prctl(PR_SET_PDEATHSIG, SIGTERM); });
            p->start(SearchWorker::rankProgram(), {"search-rank", "--checkpoint", checkpoint, "--config", configPath,
                                                   "--threads", QString::number(mp::threads())});
            if (!p->waitForStarted(10000))
                throw std::runtime_error("cannot start search rank " + std::to_string(r) + " (" +
                                         SearchWorker::rankProgram().toStdString() +
                                         "): " + p->errorString().toStdString());
            ranks_.push_back(std::move(p));
        }
    }
    /// Waits for the ranks to end after rank 0 released them; kills those still running.
    ~LocalRanks() {
        for (auto& p : ranks_)
            if (!p->waitForFinished(10000))
                p->kill();
        for (auto& p : ranks_)
            p->waitForFinished(2000);
    }
    /// Ends the ranks at once (the search failed: they have nothing left to do).
    void kill() {
        for (auto& p : ranks_)
            p->kill();
    }
    /// Whether a rank has ended; asked while rank 0 waits for them at the rendezvous, when no
    /// event loop runs to update the QProcess states.
    bool anyEnded() {
        for (auto& p : ranks_)
            if (p->state() == QProcess::NotRunning || p->waitForFinished(0))
                return true;
        return false;
    }
    /// What the ranks that failed said: "rank 1 exited with code 1: <its last error line>".
    std::string failures() {
        std::string out;
        for (size_t i = 0; i < ranks_.size(); ++i) {
            QProcess& p = *ranks_[i];
            if (p.state() != QProcess::NotRunning)
                p.waitForFinished(5000);
            if (p.state() != QProcess::NotRunning || (p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0))
                continue;
            QFile log(logPath(int(i) + 1));
            const QStringList lines = log.open(QIODevice::ReadOnly)
                                          ? QString::fromLocal8Bit(log.readAll()).split('\n', Qt::SkipEmptyParts)
                                          : QStringList();
            out += "; rank " + std::to_string(i + 1) +
                   (p.exitStatus() == QProcess::CrashExit ? std::string(" crashed")
                                                          : " exited with code " + std::to_string(p.exitCode())) +
                   (lines.isEmpty() ? std::string() : ": " + lines.back().toStdString());
        }
        return out;
    }

private:
    QString logPath(int rank) const { return logs_.filePath(QString("rank-%1.log").arg(rank)); }

    QTemporaryDir logs_;
    std::vector<std::unique_ptr<QProcess>> ranks_;
};
} // namespace

void SearchWorker::setRankProgram(const QString& path) { gRankProgram = path; }

QString SearchWorker::rankProgram() {
    if (!gRankProgram.isEmpty())
        return gRankProgram;
    const QString beside = QCoreApplication::applicationDirPath() + "/metaprune";
    if (QFileInfo(beside).isExecutable())
        return beside;
    const QString onPath = QStandardPaths::findExecutable("metaprune");
    return onPath.isEmpty() ? beside : onPath;
}

void SearchWorker::run(const QString& db, const QString& checkpoint, qint64 trainingId, const QString& configJson,
                       const QString& sha256, const QString& latencyJson, bool allowUnlearned, int processes) {
    cancel = false;
    mp::applyThreadCount();
    std::unique_ptr<LocalRanks> ranks;
    try {
        const mp::SearchConfig cfg = mp::searchConfigFromJson(configJson.toStdString());
        const Loaded loaded = loadFor(checkpoint, sha256, cfg.eval);
        const mp::Evaluator& evaluator = *loaded.evaluator;
        mp::SearchCallbacks cb;
        cb.candidate = [this](const mp::CandidateRecord& c, bool) { emit candidate(c); };
        cb.progress = [this](int64_t done, int64_t total) { emit progress(done, total); };
        std::optional<mp::LatencyTable> latency;
        if (!latencyJson.isEmpty())
            latency = mp::LatencyTable::fromJson(latencyJson.toStdString());
        std::unique_ptr<mp::Distributed> dist;
        QTemporaryFile settings(QDir::tempPath() + "/metaprune-search-XXXXXX.json");
        if (processes > 1) {
            const QByteArray text = configJson.toUtf8();
            if (!settings.open() || settings.write(text) != text.size() ||
                !settings.flush())
                throw std::runtime_error("cannot write the search settings for the other processes: " +
                                         settings.errorString().toStdString());
            mp::DistEnv env;
            env.worldSize = processes;
            env.masterPort = mp::freeLocalPort();
            env.runId = mp::newRunId();
            ranks = std::make_unique<LocalRanks>(processes, env.masterPort, env.runId, checkpoint,
                                                 settings.fileName());
            try {
                dist = mp::Distributed::join(
                    env, "search", mp::shardedSearchSettings(configJson.toStdString(), evaluator.checkpoint().sha256),
                    60, 1800, [&ranks] { return ranks->anyEnded(); });
            } catch (const std::exception& e) {
                throw std::runtime_error(e.what() + ranks->failures());
            }
        }
        try {
            const mp::SearchJob job = mp::searchInProject(db.toStdString(), evaluator, cfg, trainingId, cb, &cancel,
                                                          latency ? &*latency : nullptr, allowUnlearned, dist.get());
            emit finished(job.outcome.runId, job.outcome.finished);
        } catch (const mp::DistributedError& e) {
            throw std::runtime_error(e.what() + ranks->failures());
        }
    } catch (const mp::NotLearnedError& e) {
        if (ranks)
            ranks->kill();
        emit notLearned(QString::fromStdString(e.what()));
    } catch (const std::exception& e) {
        if (ranks)
            ranks->kill();
        emit failed(QString::fromStdString(e.what()));
    }
}

void SearchWorker::measureLatency(const QString& db, const QString& archJson) {
    cancel = false;
    mp::applyThreadCount();
    try {
        const mp::ArchSpec arch = mp::architectureFromJson(archJson.toStdString());
        const mp::LatencyJob job = mp::latencyTableFor(
            db.toStdString(), arch, 1, 0, 5, [this](int64_t done, int64_t total) { emit latencyProgress(done, total); },
            &cancel);
        emit latencyReady(QString::fromStdString(job.table.toJson()), QString::fromStdString(job.description));
    } catch (const mp::Cancelled&) {
        emit failed(tr("Latency measurement cancelled; nothing was stored."));
    } catch (const std::exception& e) {
        emit failed(QString::fromStdString(e.what()));
    }
}


void ReportWorker::retrain(const QString& db, const QString& checkpoint, const QString& sha256, qint64 candidateId,
                           const QString& recipeJson, quint64 seed) {
    cancel = false;
    mp::applyThreadCount();
    try {
        const Loaded l = loadFor(checkpoint, sha256);
        const mp::RetrainConfig cfg = mp::retrainConfigFromJson(recipeJson.toStdString(), seed);
        bool reused = false;
        const mp::RetrainRecord r = mp::retrainCandidate(
            db.toStdString(), *l.evaluator, l.data, candidateId, cfg, "user",
            [this](const mp::JobProgress& p) { emit progress(QString::fromStdString(p.stage), p.done, p.total); },
            &cancel, &reused);
        emit retrained(candidateId, r.testTop1, reused);
    } catch (const mp::Cancelled&) {
        emit stopped(tr("Retraining cancelled; nothing was stored."), false);
    } catch (const std::exception& e) {
        emit stopped(QString::fromStdString(e.what()), true);
    }
}

void ReportWorker::compare(const QString& db, const QString& checkpoint, const QString& sha256, qint64 trainingId,
                           mp::CompareConfig cfg, int jobs) {
    cancel = false;
    mp::applyThreadCount();
    try {
        const Loaded l = loadFor(checkpoint, sha256, cfg.search.eval);
        cfg.pool = studyPool(jobs, checkpoint, l.data);
        const mp::CompareReport report = mp::compareWithUniform(
            db.toStdString(), *l.evaluator, l.data, trainingId, cfg,
            [this](const mp::JobProgress& p) { emit progress(QString::fromStdString(p.stage), p.done, p.total); },
            &cancel);
        emit compared(QString::fromStdString(report.markdown()));
    } catch (const mp::Cancelled&) {
        emit stopped(tr("Comparison cancelled; the searches and retrainings finished so far are stored and will be "
                        "reused."),
                     false);
    } catch (const std::exception& e) {
        emit stopped(QString::fromStdString(e.what()), true);
    }
}

void ReportWorker::fidelity(const QString& db, const QString& checkpoint, const QString& sha256, qint64 trainingId,
                            int samples, const QString& recipeJson, int jobs) {
    cancel = false;
    mp::applyThreadCount();
    try {
        const Loaded l = loadFor(checkpoint, sha256);
        mp::FidelityConfig cfg;
        cfg.samples = samples;
        cfg.recipe = mp::retrainConfigFromJson(recipeJson.toStdString(), 1);
        cfg.pool = studyPool(jobs, checkpoint, l.data);
        const mp::FidelityReport report = mp::measureFidelity(
            db.toStdString(), *l.evaluator, l.data, trainingId, cfg,
            [this](const mp::JobProgress& p) { emit progress(QString::fromStdString(p.stage), p.done, p.total); },
            &cancel);
        emit fidelityMeasured(report.correlation.kendallTau, report.correlation.spearmanRho, report.correlation.n);
    } catch (const mp::Cancelled&) {
        emit stopped(tr("Fidelity study cancelled; the retrainings finished so far are stored and will be reused."),
                     false);
    } catch (const std::exception& e) {
        emit stopped(QString::fromStdString(e.what()), true);
    }
}

ProbeWorker::ProbeWorker() = default;

ProbeWorker::~ProbeWorker() { closeRun(); }

void ProbeWorker::closeRun() {
    if (!store_ || probeRun_ == 0)
        return;
    try {
        store_->setRunStatus(probeRun_, "finished");
    } catch (const std::exception&) {
        // A project that cannot be written any more keeps its old status; nothing to lose.
    }
    probeRun_ = 0;
}

void ProbeWorker::request(quint64 id, const mp::Encoding& enc) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        pending_ = std::make_pair(id, enc);
    }
    supersede_ = true;
    pairedCancel_ = true; // the probe comes first; its result asks for a paired test of its own
    QMetaObject::invokeMethod(this, &ProbeWorker::processPending, Qt::QueuedConnection);
}

void ProbeWorker::requestPaired(quint64 id, const mp::Encoding& a, const mp::Encoding& b) {
    pairedLatest_ = id;
    pairedCancel_ = true;
    QMetaObject::invokeMethod(
        this,
        [this, id, a, b] {
            if (id != pairedLatest_ || !evaluator_)
                return; // superseded before it started
            pairedCancel_ = false;
            try {
                const mp::PairedAccuracy r = mp::comparePaired(*evaluator_, a, b, mp::EvalSplit::Search, &pairedCancel_);
                emit pairedResult(id, QString::fromStdString(mp::formatDifference(mp::differenceOf(r))));
            } catch (const mp::Cancelled&) {
                // A newer selection or probe took its place.
            } catch (const std::exception& e) {
                emit failed(QString::fromStdString(e.what()));
            }
        },
        Qt::QueuedConnection);
}

void ProbeWorker::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        pending_.reset();
    }
    supersede_ = true;
    pairedLatest_ = 0;
    pairedCancel_ = true;
}

void ProbeWorker::load(const QString& db, const QString& checkpoint, const QString& sha256) {
    mp::applyThreadCount();
    try {
        closeRun();
        evaluator_.reset();
        store_.reset();
        const mp::CheckpointInfo info = mp::readCheckpointInfo(checkpoint.toStdString());
        data_ = std::make_unique<mp::DataBundle>(mp::loadTrainingData(info.config));
        const mp::SearchConfig defaults; // the probe run scores like a default search
        evaluator_ = std::make_unique<mp::Evaluator>(checkpoint.toStdString(), *data_, defaults.eval);
        checkHash(*evaluator_, sha256);
        store_ = std::make_unique<mp::Store>(db.toStdString());
        probeRecord_ = mp::searchRunRecord(*evaluator_, defaults, 0);
        probeRecord_.kind = "probe"; // one probe run per checkpoint, apart from the searches
        if (const auto t = store_->trainingByCheckpoint(info.path))
            probeRecord_.trainingId = t->id;
        emit loaded(QString::fromStdString(mp::toArchitectureJson(evaluator_->arch())),
                    qint64(evaluator_->searchSplitImages()));
    } catch (const std::exception& e) {
        evaluator_.reset();
        emit failed(QString::fromStdString(e.what()));
    }
}

void ProbeWorker::unload() {
    closeRun();
    evaluator_.reset();
    store_.reset();
    data_.reset();
}

void ProbeWorker::processPending() {
    std::optional<std::pair<quint64, mp::Encoding>> job;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job.swap(pending_);
        supersede_ = false;
    }
    if (!job || !evaluator_)
        return;
    const auto& [id, requested] = *job;
    try {
        const mp::ArchSpec& arch = evaluator_->arch();
        const mp::Encoding enc = mp::canonicalEncoding(arch, requested);
        // Any run's row of this structure under the same PruningNet and settings will do: an
        // undo back to a searched structure must not store it again.
        if (const auto stored =
                mp::findStoredEvaluation(*store_, evaluator_->checkpoint().sha256, evaluator_->settings(), enc)) {
            emit refinedResult(id, *stored, 0);
            return;
        }
        const mp::EvalResult quick = evaluator_->evaluate(enc, mp::EvalSplit::Search, &supersede_,
                                                          mp::EvalBudget{kQuickRecalBatches, kQuickImages});
        emit quickResult(id, enc, quick.top1, quick.milliseconds);
        const mp::EvalResult full = evaluator_->evaluate(enc, mp::EvalSplit::Search, &supersede_);
        if (probeRun_ == 0) {
            // Opening a project writes nothing; the run appears with its first probe.
            probeRun_ = store_->findOrCreateRun(probeRecord_);
            store_->setRunStatus(probeRun_, "running"); // until the app closes or opens another project
        }
        mp::CandidateRecord c;
        c.runId = probeRun_;
        c.genes = enc;
        c.channels = mp::geneChannels(arch, enc);
        c.macs = mp::countMacs(arch, enc);
        c.params = mp::countParams(arch, enc);
        c.top1 = full.top1;
        c.loss = full.loss;
        c.origin = "probe";
        c.generation = -1;
        c.evalMs = full.milliseconds;
        emit refinedResult(id, store_->addCandidate(c), full.milliseconds);
    } catch (const mp::Cancelled&) {
        // Superseded: the newer request is already queued.
    } catch (const std::exception& e) {
        emit failed(QString::fromStdString(e.what()));
    }
}

void ProbeWorker::exportNetwork(const mp::Encoding& enc, const QString& format, const QString& path,
                                const QString& jsonPath) {
    try {
        if (!evaluator_)
            throw std::runtime_error("no trained PruningNet is loaded");
        evaluator_->exportNetwork(enc, mp::parseExportFormat(format.toStdString()), path.toStdString(),
                                  jsonPath.toStdString());
        emit exported(path);
    } catch (const std::exception& e) {
        emit failed(QString::fromStdString(e.what()));
    }
}

} // namespace mpw
