#pragma once
// Studies on several local processes (--jobs N): a study (compare, fidelity, several
// retrainings) lists its independent units of work (PruningNet trainings, searches,
// retrainings), a StudyPool runs them elsewhere, each storing its result in the project as it
// finishes, and the study's own sequential loop then finds every result stored and reuses it.
// So the stored rows and the report are those of a run on one process, by construction.
// Torch-free.

#include "metaprune/retrain.h"
#include "metaprune/search.h"
#include "metaprune/training.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace mp {

/// What a long job is doing, for progress lines and the app's status.
struct JobProgress {
    std::string stage; ///< "search 25%", "retrain candidate 12 (seed 2)", ...
    int64_t done = 0, total = 0; ///< steps of the stage
    double loss = 0;             ///< running training loss, when retraining
};
using JobProgressFn = std::function<void(const JobProgress&)>;

/// One independent unit of a study: everything a fresh process needs to do it (with the
/// study's data, see ProcessPool) and to store its result where the study will look for it.
struct StudyUnit {
    enum class Kind { Train, Search, Retrain } kind = Kind::Retrain;
    std::string db;         ///< the project
    std::string checkpoint; ///< Train: the checkpoint to write; else the PruningNet to use
    int64_t trainingId = 0; ///< Search: the run's training row
    EvalSettings eval;      ///< Search and Retrain: the evaluator's settings (BN recalibration)
    TrainConfig train;      ///< Train
    SearchConfig search;    ///< Search
    bool allowUnlearned = false;
    int64_t candidateId = 0; ///< Retrain
    RetrainConfig recipe;    ///< Retrain, with its seed
    std::string purpose;     ///< Retrain: "compare", "fidelity", "user"
    /// "retrain candidate 12 (seed 2)", "search 50.0% (seed 1)", "train PruningNet (seed 2)".
    std::string label() const;
    /// Identity of the unit's stored result: units with equal keys are one unit.
    std::string key() const;
};

/// JSON of a unit and back (what a study passes to its worker processes); fromJson throws
/// std::invalid_argument.
std::string toJson(const StudyUnit& unit);
StudyUnit studyUnitFromJson(const std::string& json);

/// Does `unit` in this process: trainInProject / searchInProject / retrainCandidate with an
/// Evaluator of the unit's checkpoint on `data`, storing the result. Throws Cancelled and
/// whatever those throw.
void runStudyUnit(const StudyUnit& unit, const DataBundle& data, const JobProgressFn& progress = {},
                  const std::atomic<bool>* cancel = nullptr);

/// Runs units somewhere (every result stored in the project when it returns). Progress reports
/// the overall figure: units done of all. Throws Cancelled (finished units are stored) and
/// std::runtime_error naming the first unit that failed.
using StudyPool = std::function<void(const std::vector<StudyUnit>&, const JobProgressFn&, const std::atomic<bool>*)>;

/// A StudyPool of at most `jobs` local worker processes of `program` (the metaprune command
/// line), each started as `program study-unit --worker --threads T` plus `dataArgs` (how it finds
/// the study's data: --data-checkpoint CKPT [--data DIR] ...), T = `threadsPerJob`: a worker
/// loads the data once and does the units it is sent one at a time (one JSON line each on its
/// stdin, "unit-ok" or "unit-error: why" on its stdout). Units with equal keys run once. A unit
/// that fails lets the running ones finish (their results are kept) and starts no other; the
/// error names the unit and why (its message, or its exit code and last stderr line). On cancel
/// the workers get SIGTERM (they stop at their next step, storing nothing unfinished), then
/// SIGKILL after 10 s.
StudyPool processPool(const std::string& program, int jobs, int threadsPerJob, const std::vector<std::string>& dataArgs);

/// Threads per job when `jobs` processes share this machine: its cores divided among them, at
/// least 1.
int threadsPerJob(int jobs);

} // namespace mp
