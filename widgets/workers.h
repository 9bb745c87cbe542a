#pragma once
// Background workers: each lives on its own QThread, reports through queued signals carrying
// plain values, and stops promptly when its cancel flag (set directly from the GUI thread) is
// raised. Workers never touch widgets; each opens its own project database connection.

#include "metatypes.h"

#include <QObject>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

namespace mp {
class Evaluator;
class Store;
struct CompareConfig;
struct DataBundle;
} // namespace mp

namespace mpw {

/// Trains (or resumes) a PruningNet in a project.
class TrainWorker : public QObject {
    Q_OBJECT
public:
    std::atomic<bool> cancel{false};

public slots:
    /// `configJson` is a TrainConfig (mp::toJson); `checkpoint` empty = the project's default.
    void run(const QString& db, const QString& configJson, const QString& checkpoint);

signals:
    void started(const QString& checkpoint);
    void progress(const mp::TrainProgress& p);
    void finished(qint64 trainingId, bool completed, const QString& checkpoint);
    void failed(const QString& message);
};

/// Runs (or resumes) an evolutionary search with a trained PruningNet.
class SearchWorker : public QObject {
    Q_OBJECT
public:
    std::atomic<bool> cancel{false};

public slots:
    /// `configJson` is a SearchConfig (mp::toJson); `sha256` is the checkpoint's recorded hash
    /// (empty: not checked); `latencyJson` a LatencyTable for latency bounds (empty: none).
    /// `allowUnlearned`: search even when the PruningNet has not learned (else notLearned()).
    /// `processes` above 1: this worker is rank 0 of a sharded search (project.h) and starts
    /// processes - 1 more ranks, `metaprune search-rank` on this machine, each with the app's
    /// thread count; the stored rows are those of a one-process search with the same settings.
    void run(const QString& db, const QString& checkpoint, qint64 trainingId, const QString& configJson,
             const QString& sha256, const QString& latencyJson, bool allowUnlearned = false, int processes = 1);
    /// Measures (or reuses) the project's latency table for an architecture on this machine.
    /// `archJson`: the architecture description (mp::toArchitectureJson) at the data's size.
    void measureLatency(const QString& db, const QString& archJson);

    /// The program started for the extra ranks: `metaprune` beside this executable, else on the
    /// PATH, unless set (tests set their build's).
    static void setRankProgram(const QString& path);
    static QString rankProgram();

signals:
    void latencyProgress(qint64 done, qint64 total);
    void latencyReady(const QString& tableJson, const QString& description);
    void candidate(const mp::CandidateRecord& c);
    void progress(qint64 done, qint64 total);
    void finished(qint64 runId, bool completed);
    void failed(const QString& message);
    /// The search was refused: the PruningNet has not learned (the message says by how much).
    void notLearned(const QString& message);
};

/// Interactive probing of edited structures: a quick estimate on a small subset first, then a
/// refined evaluation with the search settings, stored as origin "probe". A newer request
/// supersedes an older one still running (latest wins). Also exports pruned networks.
class ProbeWorker : public QObject {
    Q_OBJECT
public:
    ProbeWorker();
    ~ProbeWorker() override;

    /// Thread-safe. Cancels the probe in flight, if any, and queues this one.
    void request(quint64 id, const mp::Encoding& enc);
    /// Thread-safe. Drops pending work and cancels the probe in flight (before shutdown).
    void stop();
    /// Thread-safe. Scores `a` and `b` on the same search-split images (BN recalibrated) and
    /// signals pairedResult: a minus b with its 95% interval and the exact McNemar test
    /// (mp::comparePaired). Cancels an older paired request still running; a probe request
    /// cancels this one.
    void requestPaired(quint64 id, const mp::Encoding& a, const mp::Encoding& b);

public slots:
    /// Loads the checkpoint and its data set (in this worker's thread), refusing a checkpoint
    /// whose SHA-256 differs from the recorded `sha256` (empty: not checked).
    void load(const QString& db, const QString& checkpoint, const QString& sha256);
    /// Closes the probe run and drops the checkpoint (another project is being opened).
    void unload();
    /// `format`: "torchscript", "onnx" or "archive" (mp::parseExportFormat).
    void exportNetwork(const mp::Encoding& enc, const QString& format, const QString& path, const QString& jsonPath);

signals:
    /// The checkpoint is loaded: its architecture description (mp::toArchitectureJson) at the
    /// data's size, for the views, and the images of its search split (the n of each stored
    /// top-1, with a run's evalImages cap).
    void loaded(const QString& archJson, qint64 searchSplitImages);
    void quickResult(quint64 id, const mp::Encoding& enc, double top1, double milliseconds);
    /// `text`: mp::formatDifference of the paired comparison, e.g. "+2.20 points, 95% interval ...".
    void pairedResult(quint64 id, const QString& text);
    void refinedResult(quint64 id, const mp::CandidateRecord& c, double milliseconds);
    void exported(const QString& path);
    void failed(const QString& message);

private slots:
    void processPending();

private:
    /// Marks the probe run finished: probing ends with the app or with the next project.
    void closeRun();

    std::mutex mutex_;
    std::optional<std::pair<quint64, mp::Encoding>> pending_;
    std::atomic<bool> supersede_{false};
    std::atomic<quint64> pairedLatest_{0};
    std::atomic<bool> pairedCancel_{false};
    std::unique_ptr<mp::DataBundle> data_;
    std::unique_ptr<mp::Evaluator> evaluator_;
    std::unique_ptr<mp::Store> store_;
    qint64 probeRun_ = 0;        ///< created by the first probe that is stored
    mp::RunRecord probeRecord_; ///< the probe run of the loaded checkpoint
};

/// The paper's evaluation step in the background: retraining one structure, the comparison
/// with uniform baselines at MACs targets, and the proxy-fidelity study (compare.h). Loads the
/// checkpoint's data itself; results are stored in the project before they are signalled.
class ReportWorker : public QObject {
    Q_OBJECT
public:
    std::atomic<bool> cancel{false};

    /// mp::compareWithUniform with `cfg` (its searches with the reference settings where the
    /// project has none; other PruningNet seeds trained in the project first).
    /// `jobs` > 1: its trainings, searches and retrainings on that many `metaprune study-unit`
    /// worker processes (SearchWorker::rankProgram), as the command line's --jobs.
    void compare(const QString& db, const QString& checkpoint, const QString& sha256, qint64 trainingId,
                 mp::CompareConfig cfg, int jobs = 1);

public slots:
    /// `recipeJson` is a RetrainConfig (mp::toJson); `sha256` the checkpoint's recorded hash.
    void retrain(const QString& db, const QString& checkpoint, const QString& sha256, qint64 candidateId,
                 const QString& recipeJson, quint64 seed);
    void fidelity(const QString& db, const QString& checkpoint, const QString& sha256, qint64 trainingId, int samples,
                  const QString& recipeJson, int jobs = 1);

signals:
    void progress(const QString& stage, qint64 done, qint64 total);
    void retrained(qint64 candidateId, double testTop1, bool reused);
    void compared(const QString& markdown);
    void fidelityMeasured(double kendallTau, double spearmanRho, int n);
    /// Cancelled or failed; `message` says which and why.
    void stopped(const QString& message, bool failed);
};

/// Evaluation budget of the quick probe estimate (the refined one uses the search defaults).
constexpr int kQuickRecalBatches = 1;
constexpr int kQuickImages = 400;

} // namespace mpw
