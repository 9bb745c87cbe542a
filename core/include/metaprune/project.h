#pragma once
// Jobs shared by the CLI and the desktop app: training and search inside a project database.
// Each opens its own Store connection in the calling thread (one connection per thread).

#include "metaprune/distributed.h"
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

/// Whether a PruningNet has learned anything (README, "Is the PruningNet trained?"): the
/// full-width network's top-1 on the test set after BN recalibration must exceed chance (the
/// largest class's share of the test set) by more than 3 binomial standard errors of chance on
/// that many images, and by at least 2 points. Below that, its ranking of structures is noise.
/// On a test set so small that even 100% would not pass, the rule cannot tell, and says so.
struct LearnedCheck {
    double top1 = 0;    ///< percent
    double chance = 0;  ///< percent
    int64_t images = 0; ///< test images scored
    /// The top-1 (percent) the rule needs to exceed; above 100 when the test set is too small.
    double threshold() const;
    /// False when no top-1 could pass the rule: too few test images to tell.
    bool decidable() const { return threshold() < 100; }
    /// Passes the rule, or the rule cannot tell (nothing is refused for want of test images).
    bool learned() const { return !decidable() || top1 > threshold(); }
    /// "full-width top-1 87.60% on 10000 test images, chance 10.00% (learned: above 10.90%)",
    /// or "... (too few test images to tell whether it learned: ...)".
    std::string describe() const;
};

/// Scores the full-width network on the test set (BN recalibrated). Throws Cancelled.
LearnedCheck measureLearned(const Evaluator& evaluator, const std::atomic<bool>* cancel = nullptr);

/// The message every command and the app give when a PruningNet has not learned.
std::string notLearnedMessage(int64_t trainingId, const LearnedCheck& check);

/// The trained model a PruningNet started from, evaluated as itself (its own batch norm
/// statistics) on the official test set: the reference every pruned network is held against.
struct OriginalModelScore {
    double top1 = 0;     ///< percent
    int64_t images = 0;  ///< test images
    int64_t macs = 0;    ///< the full network's MACs per image
};

struct TrainJob {
    TrainOutcome outcome;
    int64_t trainingId = 0;
    bool resumed = false;
    /// Measured when the training finished (also stored with the training row).
    std::optional<LearnedCheck> check;
    /// A PruningNet started from a trained model (TrainConfig::initFromWeights): that model's
    /// score, measured when the training finished and stored in the project.
    std::optional<OriginalModelScore> original;
};

/// The stored score of training `trainingId`'s original model (TrainJob::original), or nullopt
/// when its PruningNet did not start from a trained model (or has not finished).
std::optional<OriginalModelScore> originalModelScore(const Store& store, int64_t trainingId);

/// Trains (or resumes) a PruningNet and records it in the project: a trainings row (status,
/// steps, checkpoint hash) and one training_log row per progress report. Throws what
/// trainPruningNet() and Store throw; the row is marked failed on an error (a finished training
/// stays finished). A lock file next to the checkpoint keeps a second process from training
/// into it at the same time (CheckpointError naming the other process). With `dist`, this is
/// rank 0 of a data-parallel training (trainPruningNet); the other ranks call trainPruningNet.
TrainJob trainInProject(const std::string& dbPath, const DataBundle& data, const TrainConfig& cfg,
                        const std::string& checkpoint, const TrainCallbacks& callbacks = {},
                        const std::atomic<bool>* cancel = nullptr, const Distributed* dist = nullptr);

struct SearchJob {
    SearchOutcome outcome;
    bool resumed = false; ///< an earlier run with the same settings and checkpoint was continued
};

/// Runs (or resumes) a search with `evaluator` in the project. `trainingId` links the run to
/// its training row (0 = none). A lock file next to the project keeps a second process from
/// running the same run at the same time (StoreError naming the other process). A PruningNet
/// that has not learned (LearnedCheck, measured now and stored when the training row has none)
/// is refused with ConfigError unless `allowUnlearned`: its ranking is not meaningful.
/// With `dist` over several ranks, this is rank 0 of a sharded search: it runs the evolutionary
/// loop and owns the store, each generation's candidates are scored by all ranks
/// (shardedEvaluation; the others run serveSearchShards), and the stored rows are those of a
/// single-process search with the same settings. The other ranks are released when it returns
/// or throws.
SearchJob searchInProject(const std::string& dbPath, const Evaluator& evaluator, const SearchConfig& cfg,
                          int64_t trainingId, const SearchCallbacks& callbacks = {},
                          const std::atomic<bool>* cancel = nullptr, const LatencyTable* latency = nullptr,
                          bool allowUnlearned = false, const Distributed* dist = nullptr);

/// Rank 0 of a sharded search: evaluates a list of encodings over every rank, candidate i on rank
/// i mod ranks, each with its own Evaluator of the same checkpoint and data (EvalSplit::Search),
/// and gathers the results. `stop` is set when any rank's cancel flag was set; a rank's share
/// is finished first, so no result is lost. Throws DistributedError when a rank is lost.
BatchEvaluateFn shardedEvaluation(const Evaluator& evaluator, const Distributed& dist);

/// Ranks other than 0 of a sharded search: scores this rank's share of every list rank 0 sends
/// until rank 0 ends the search (endSearchShards). `cancel` is reported to rank 0, which stops
/// the search. Throws DistributedError when rank 0 is lost.
void serveSearchShards(const Evaluator& evaluator, const Distributed& dist, const std::atomic<bool>* cancel = nullptr);

/// What every rank of a sharded search registers (Distributed::join's `settings`): the search
/// settings as rank 0 wrote them (SearchConfig JSON text) and the checkpoint's SHA-256, so a
/// rank with another PruningNet or other evaluation settings is refused by name.
std::string shardedSearchSettings(const std::string& configJson, const std::string& checkpointSha256);

/// Rank 0: releases the ranks waiting in serveSearchShards.
void endSearchShards(const Distributed& dist);

/// The learned-or-not check of the evaluator's PruningNet: the one stored with training
/// `trainingId` when it has one, else measured now (and stored when `trainingId` > 0).
LearnedCheck learnedCheckFor(const std::string& dbPath, const Evaluator& evaluator, int64_t trainingId,
                             const std::atomic<bool>* cancel = nullptr);

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
/// training's, or when it is missing (checkpointNotFoundMessage).
void verifyCheckpoint(const TrainingRecord& training);

/// Gives runs and trainings that a process ended without closing (killed, crashed) their true
/// status: a search run or training still marked "running" whose lock file no live process
/// holds becomes "cancelled" (everything it committed stays, and the same settings resume it).
/// Returns how many rows changed. Throws StoreError.
int closeInterruptedRuns(const std::string& dbPath);

/// A stored evaluation of canonical `genes` by the PruningNet with this checkpoint hash under
/// these evaluation settings, in any search or probe run of `store` (numbers are the same
/// whichever run made them), so that a structure is never scored twice under the same settings.
/// Damaged rows (CandidateRecord::damage) are never returned. Throws StoreError.
std::optional<CandidateRecord> findStoredEvaluation(const Store& store, const std::string& checkpointSha256,
                                                    const EvalSettings& eval, const Encoding& genes);

/// The uniform baseline with the fewest MACs that is not cheaper than `macs` (the paper's
/// comparison at equal-or-higher MACs), among `candidates` of origin "uniform".
std::optional<CandidateRecord> uniformBaselineAtLeast(const std::vector<CandidateRecord>& candidates, int64_t macs);

} // namespace mp
