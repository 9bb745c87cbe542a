#pragma once
// The project database (SQLite, WAL) through Qt's SQL module: trainings, search runs and every
// evaluated encoding. One Store = one connection, used from the thread that created it
// (design.md example 3); each candidate is committed in its own short transaction.

#include "metaprune/architecture.h"
#include "metaprune/errors.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mp {

/// A PruningNet training of the project.
struct TrainingRecord {
    int64_t id = 0;
    std::string created;    ///< ISO-8601 UTC
    std::string config;     ///< TrainConfig JSON
    std::string checkpoint; ///< path of the checkpoint file (stored relative to the project's folder when inside it)
    std::string sha256;     ///< of the checkpoint, when last written
    int64_t steps = 0;
    int64_t totalSteps = 0;
    std::string status; ///< running, finished, cancelled, failed
    double seconds = 0; ///< training wall time so far
    /// The learned-or-not check of a finished training (project.h, LearnedCheck): the
    /// full-width network's test top-1 after BN recalibration and the chance rate, percent, on
    /// `checkImages` test images. Empty until measured.
    std::optional<double> fullTop1, chanceTop1;
    int64_t checkImages = 0;
};

/// One point of a training curve.
struct TrainingLogEntry {
    int64_t step = 0;
    int epoch = 0;
    double loss = 0;
    double top1 = 0; ///< percent, sampled structures of the epoch so far
    double lr = 0;
    double seconds = 0;
};

/// One search (or probing) run: everything that decides its candidates' numbers.
struct RunRecord {
    int64_t id = 0;
    std::string created;
    std::string kind = "search"; ///< search, probe
    std::string config;          ///< SearchConfig JSON
    std::string dataset;         ///< data path and format
    uint64_t seed = 0;
    std::string arch; ///< family/preset
    int64_t trainingId = 0; ///< 0 when the checkpoint is not a training of this project
    std::string checkpoint;
    std::string checkpointSha256;
    std::string status; ///< running, finished, cancelled, failed
    std::string finished;
    int64_t candidates = 0; ///< filled by runs()
    /// The architecture description searched (architecture JSON, architecture.h); empty for runs
    /// stored before schema 4. Rows of a run with one are checked against it as they are read.
    std::string architecture;
};

/// One finished retraining of a stored candidate (cancelled retrainings are not stored).
struct RetrainRecord {
    int64_t id = 0;
    int64_t candidateId = 0;
    std::string purpose = "user"; ///< user, compare, fidelity
    std::string config;           ///< RetrainConfig JSON (retrain.h), without the seed
    uint64_t seed = 0;
    double testTop1 = 0; ///< percent, official test set
    double testLoss = 0;
    int64_t testImages = 0;
    std::string curve; ///< JSON array of {epoch, loss, train_top1, test_top1, seconds}
    double seconds = 0;
    std::string created;
};

/// One evaluated encoding.
struct CandidateRecord {
    int64_t id = 0;
    int64_t runId = 0;
    Encoding genes; ///< canonical encoding (canonicalEncoding())
    std::vector<int> channels;
    int64_t macs = 0;
    int64_t params = 0;
    double top1 = 0; ///< percent on the search split
    double loss = 0;
    std::string origin; ///< random, mutation, crossover, probe, uniform
    int generation = 0; ///< -1 for uniform baselines and probes
    double evalMs = 0;
    std::string created;
    double latencyMs = 0; ///< predicted by the run's latency table; 0 when the run had none
    /// Why the stored row cannot be trusted (a non-finite or NULL number, genes that do not
    /// parse, MACs or params that disagree with the encoding); empty for a sound row. Damaged
    /// rows are kept out of every front, plot, report and comparison, and never shown as numbers
    /// (design.md example 8).
    std::string damage;
};

/// Why `c` cannot be trusted under `arch` (c.damage, genes of another length or outside the
/// grid, channels, MACs or params that disagree with the encoding), or empty for a sound row.
std::string candidateDamage(const ArchSpec& arch, const CandidateRecord& c);

enum class StoreMode {
    ReadWrite, ///< creates a missing or empty file as a new project and upgrades older schemas
    ReadOnly,  ///< never writes: refuses a missing or empty file, reads older schemas as they are
};

class Store {
public:
    /// Opens the project database at `path` (WAL journal, 5 s busy timeout); ReadWrite creates
    /// or upgrades it. Throws StoreError naming the file when it cannot be opened, is not a
    /// MetaPrune project (or, read-only, is missing or empty), is damaged or was written by a
    /// newer version.
    explicit Store(const std::string& path, StoreMode mode = StoreMode::ReadWrite);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::string& path() const { return path_; }

    int64_t addTraining(const std::string& configJson, const std::string& checkpoint, int64_t totalSteps);
    void updateTraining(int64_t id, int64_t steps, int64_t totalSteps, const std::string& status,
                        const std::string& sha256, double seconds);
    void addTrainingLog(int64_t trainingId, const TrainingLogEntry& entry);
    std::vector<TrainingLogEntry> trainingLog(int64_t trainingId) const;
    std::vector<TrainingRecord> trainings() const;
    std::optional<TrainingRecord> training(int64_t id) const;
    /// The training with this checkpoint path, if any.
    std::optional<TrainingRecord> trainingByCheckpoint(const std::string& checkpoint) const;

    /// Returns the run with the same kind, config and checkpoint hash (so an interrupted search
    /// resumes), or creates one. `resumed` tells which.
    int64_t findOrCreateRun(const RunRecord& run, bool* resumed = nullptr);
    void setRunStatus(int64_t runId, const std::string& status);
    /// Records the architecture JSON of a run stored before schema 4.
    void setRunArchitecture(int64_t runId, const std::string& json);
    /// Records a training's learned-or-not check (TrainingRecord::fullTop1).
    void setTrainingCheck(int64_t id, double fullTop1, double chanceTop1, int64_t images);
    std::vector<RunRecord> runs() const;
    std::optional<RunRecord> run(int64_t id) const;

    /// The stored candidate of `runId` with this canonical encoding, if any.
    std::optional<CandidateRecord> findCandidate(int64_t runId, const Encoding& genes) const;
    /// Commits one candidate in its own transaction; returns it with id and time set. Throws
    /// StoreError when the encoding is already stored for the run or the origin is unknown.
    CandidateRecord addCandidate(const CandidateRecord& c);
    /// Candidates of a run in insertion order; with `afterId`, only newer ones.
    std::vector<CandidateRecord> candidates(int64_t runId, int64_t afterId = 0) const;
    std::optional<CandidateRecord> candidate(int64_t id) const;

    /// Latency lookup tables (LatencyTable JSON), keyed by architecture, machine (JSON) and
    /// grid step. latencyTable() returns the newest match (gridStep 0: any step) with its id.
    int64_t addLatencyTable(const std::string& arch, const std::string& machine, int gridStep, const std::string& data);
    std::optional<std::pair<int64_t, std::string>> latencyTable(const std::string& arch, const std::string& machine,
                                                               int gridStep = 0) const;

    /// Commits one retraining result. Throws StoreError when the same candidate, recipe and
    /// seed is already stored.
    RetrainRecord addRetrain(const RetrainRecord& r);
    /// Retrainings of a candidate (0: of every candidate), oldest first.
    std::vector<RetrainRecord> retrains(int64_t candidateId = 0) const;
    std::optional<RetrainRecord> findRetrain(int64_t candidateId, const std::string& config, uint64_t seed) const;

    /// Project-level key/value settings (the desktop app's selections, colour mode).
    std::optional<std::string> setting(const std::string& key) const;
    void setSetting(const std::string& key, const std::string& value);

private:
    bool hasColumn(const char* table, const char* column) const;
    /// `name`, or NULL when an older project (read-only) lacks that column.
    std::string column(const char* table, const char* name) const;
    std::string trainingColumns() const;
    std::string runColumns() const;

    std::string path_;
    std::string dir_; ///< the project's folder: checkpoints inside it are stored relative to it
    std::string connection_;
    bool readOnly_ = false;
    mutable std::map<std::string, bool> columnCache_;
};

} // namespace mp
