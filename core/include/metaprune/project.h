#pragma once
// Jobs shared by the CLI and the desktop app: training and search inside a project database.
// Each opens its own Store connection in the calling thread (one connection per thread).

#include "metaprune/evaluator.h"
#include "metaprune/latency.h"
#include "metaprune/search.h"
#include "metaprune/store.h"
#include "metaprune/training.h"

#include <atomic>
#include <optional>
#include <string>

namespace mp {

/// <dir of db>/<db stem>.checkpoints/<family>-<preset>-<first 12 hex of the config's SHA-256>.pt:
/// the same settings map to the same file, so re-running a training resumes it.
std::string defaultCheckpointPath(const std::string& dbPath, const TrainConfig& cfg);

struct TrainJob {
    TrainOutcome outcome;
    int64_t trainingId = 0;
    bool resumed = false;
};

/// Trains (or resumes) a PruningNet and records it in the project: a trainings row (status,
/// steps, checkpoint hash) and one training_log row per progress report. Throws what
/// trainPruningNet() and Store throw; the row is marked failed on an error (a finished training
/// stays finished). A lock file next to the checkpoint keeps a second process from training
/// into it at the same time (CheckpointError naming the other process).
TrainJob trainInProject(const std::string& dbPath, const DataBundle& data, const TrainConfig& cfg,
                        const std::string& checkpoint, const TrainCallbacks& callbacks = {},
                        const std::atomic<bool>* cancel = nullptr);

struct SearchJob {
    SearchOutcome outcome;
    bool resumed = false; ///< an earlier run with the same settings and checkpoint was continued
};

/// Runs (or resumes) a search with `evaluator` in the project. `trainingId` links the run to
/// its training row (0 = none). A lock file next to the project keeps a second process from
/// running the same run at the same time (StoreError naming the other process).
SearchJob searchInProject(const std::string& dbPath, const Evaluator& evaluator, const SearchConfig& cfg,
                          int64_t trainingId, const SearchCallbacks& callbacks = {},
                          const std::atomic<bool>* cancel = nullptr, const LatencyTable* latency = nullptr);

struct LatencyJob {
    LatencyTable table;
    int64_t id = 0;        ///< its row in the project
    bool measured = false; ///< false: reused from the project
    double seconds = 0;
    /// "table <id>: <machine JSON>, grid step <n>": what a search run records.
    std::string description;
};

/// The project's latency table for `arch` on this machine (the calling thread's LibTorch thread
/// count, `batch` images): reused when one with `gridStep` is stored (gridStep 0: any stored
/// step), otherwise measured (step 5 when 0) with `repeats` runs per entry and stored.
/// Throws Cancelled, StoreError, ConfigError.
LatencyJob latencyTableFor(const std::string& dbPath, const ArchSpec& arch, int batch, int gridStep, int repeats,
                           const std::function<void(int64_t, int64_t)>& progress = {},
                           const std::atomic<bool>* cancel = nullptr);

/// Throws CheckpointError when a finished training's checkpoint no longer has the SHA-256 the
/// project recorded for it (modified, replaced or damaged since): its numbers would not be the
/// training's.
void verifyCheckpoint(const TrainingRecord& training);

/// The uniform baseline with the fewest MACs that is not cheaper than `macs` (the paper's
/// comparison at equal-or-higher MACs), among `candidates` of origin "uniform".
std::optional<CandidateRecord> uniformBaselineAtLeast(const std::vector<CandidateRecord>& candidates, int64_t macs);

} // namespace mp
