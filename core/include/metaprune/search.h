#pragma once
// Evolutionary search over encodings under a MACs constraint (metapruning.md, "Search";
// reference settings as defaults). Every evaluated candidate is committed to the Store as it is
// evaluated; re-running the same search replays it from the store and continues where it
// stopped. Torch-free: the fitness comes through a callback (normally Evaluator::evaluate).

#include "metaprune/architecture.h"
#include "metaprune/evaluator.h"
#include "metaprune/latency.h"
#include "metaprune/store.h"

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace mp {

/// What ranks candidates in a search (issue 22): both are measured on the search split after BN
/// recalibration; each breaks the other's ties.
enum class SearchScore {
    Top1, ///< top-1, the reference's fitness
    Loss, ///< cross-entropy (no label smoothing): a graded score, less tied than top-1 on few images
};

/// "top1" / "loss"; parse throws std::invalid_argument.
std::string searchScoreName(SearchScore s);
SearchScore parseSearchScore(const std::string& name);

struct SearchConfig {
    int population = 50;       ///< candidates per generation, and size of the kept pool
    int parents = 10;          ///< top-k of the pool that breed
    int mutations = 25;        ///< mutants per generation
    int crossovers = 25;       ///< uniform crossovers per generation (the rest is random)
    double mutationProb = 0.1; ///< per gene; a mutated gene takes a different scale index
    int generations = 20;
    uint64_t seed = 1;
    int64_t maxMacs = 0; ///< upper MACs bound per image (0 = none)
    int64_t minMacs = 0; ///< lower bound of a [min, max] band (0 = none)
    double maxLatencyMs = 0; ///< upper bound on the latency table's prediction (0 = none)
    double minLatencyMs = 0; ///< lower bound of a latency band (0 = none)
    /// Which latency table the bounds refer to (machine, batch, grid), recorded with the run.
    std::string latencyTable;
    bool uniformBaselines = true; ///< also evaluate the 31 uniform width-multiplier networks
    SearchScore score = SearchScore::Top1; ///< recorded with the run
    EvalSettings eval;            ///< recorded with the run: candidates are only comparable under equal settings
};

/// JSON of evaluation settings, as the "eval" object of a search config (stable key order), and
/// back (missing keys keep their defaults).
std::string toJson(const EvalSettings& eval);
EvalSettings evalSettingsFromJson(const std::string& json);

/// JSON of a search config (stable key order) and back; fromJson throws std::invalid_argument.
std::string toJson(const SearchConfig& cfg);
SearchConfig searchConfigFromJson(const std::string& json);

/// Throws ConfigError when the settings are out of range or no encoding of `arch` can meet the
/// MACs or latency constraint (naming the smallest/largest possible), when a band lies between
/// two achievable values (no encoding found in kFeasibilityAttempts repaired random encodings;
/// the closest MACs reached on either side are named), or when a latency bound is set without a
/// latency table. Deterministic: the repairs are seeded from cfg.seed.
void checkSearchConfig(const ArchSpec& arch, const SearchConfig& cfg, const LatencyTable* latency = nullptr);

/// Bounds of the search's candidate generation (design.md example 9: every sampling loop has a
/// bound and a message when it is reached).
constexpr int kFeasibilityAttempts = 50;      ///< repaired random encodings before a band is called empty
constexpr int kRejectionAttemptsPerSlot = 100; ///< plain random draws per missing random candidate
constexpr int kRepairAttemptsPerSlot = 100;    ///< repaired draws per missing random candidate
constexpr int kRepairMisses = 200;             ///< repairs in a row finding nothing new end a fill
constexpr int64_t kRepairEvaluations = 400000; ///< cost evaluations (MACs/latency) per fill

/// Moves an encoding into the MACs / latency constraint of a search by single scale steps:
/// down while over an upper bound, up while under a lower bound (both costs grow with every
/// width). A random gene moves each step; where that step would jump across the band, every
/// gene's step is tried first, so narrow bands are landed in. Bounded by 2 x genes x 31 steps.
class BandRepair {
public:
    BandRepair(const ArchSpec& arch, const SearchConfig& cfg, const LatencyTable* latency);
    /// The repaired encoding (canonical genes where moved), or nullopt when the bound was reached
    /// or the encoding is over one bound and under another.
    std::optional<Encoding> repair(Encoding e, std::mt19937_64& rng);
    /// Cost evaluations so far (each one MACs count, plus a latency prediction with a table).
    int64_t evaluations() const { return evaluations_; }
    /// "MACs in [a, b] (the closest reached below has x MACs, ...)" for messages.
    std::string describeBand() const;

private:
    enum class Side { Inside, Over, Under, Both };
    Side side(const Encoding& e);
    const ArchSpec& arch_;
    std::vector<ValueShape> values_; ///< analyzeArchitecture(arch_), once
    SearchConfig cfg_;
    const LatencyTable* latency_;
    int64_t evaluations_ = 0;
    std::optional<int64_t> closestBelow_, closestAbove_;
};

/// Whether an encoding's MACs and predicted latency (ms) satisfy the constraints.
bool meetsConstraint(const SearchConfig& cfg, int64_t macs, double latencyMs = 0);

/// Whether the settings constrain latency.
inline bool hasLatencyBound(const SearchConfig& cfg) { return cfg.maxLatencyMs > 0 || cfg.minLatencyMs > 0; }

/// Parses "12.5M", "300k", "7131232" or "50%" (of `fullMacs`) into MACs; throws ConfigError.
int64_t parseMacs(const std::string& text, int64_t fullMacs);

/// "7.13M" style.
std::string formatMacs(int64_t macs);

using EvaluateFn = std::function<EvalResult(const Encoding&, const std::atomic<bool>* cancel)>;

/// Results of several candidates evaluated together (sharded search).
struct BatchEvaluation {
    std::vector<EvalResult> results; ///< one per encoding, in order
    bool stop = false;               ///< a cancel was asked meanwhile (here or on another rank)
};
/// Evaluates a generation's new candidates at once, in order (normally split over the ranks of
/// a data-parallel run: shardedEvaluation in project.h). Must not throw Cancelled: the results
/// of work done are kept, and `stop` ends the search after they are stored.
using BatchEvaluateFn = std::function<BatchEvaluation(const std::vector<Encoding>&, const std::atomic<bool>* cancel)>;

struct SearchCallbacks {
    /// Each candidate as it is settled; `cached` when it came from the store.
    std::function<void(const CandidateRecord&, bool cached)> candidate;
    /// done / total candidate slots (uniform baselines + population x generations).
    std::function<void(int64_t done, int64_t total)> progress;
    /// After each generation: the kept pool, best first.
    std::function<void(int generation, const std::vector<CandidateRecord>& pool)> generationEnd;
};

struct SearchOutcome {
    int64_t runId = 0;
    bool finished = false;
    /// The operators found no new encoding within the constraint (a band holding few
    /// encodings): the search ended after `endedAfterGeneration` generations, finished.
    bool exhausted = false;
    int endedAfterGeneration = 0;
    int64_t evaluated = 0; ///< evaluated now
    int64_t cached = 0;    ///< taken from the store
    std::optional<CandidateRecord> best; ///< best searched (non-uniform) candidate
    double seconds = 0;
};

/// Runs (or resumes) the search of run `runId`. Returns with finished = false when `cancel`
/// was set; everything evaluated so far stays committed. A run stored as finished is replayed
/// from its rows and keeps its status and finishing time. Throws ConfigError for bad settings,
/// StoreError when the database fails, and whatever `evaluate` throws other than Cancelled.
/// With `latency`, every candidate's predicted latency is stored, and latency bounds apply.
/// With `batch`, the new candidates of each generation (and the uniform baselines) are evaluated
/// together by it, then stored in the same order as one by one: the rows are the same as with
/// `evaluate` alone, only the evaluation times differ.
SearchOutcome runSearch(const ArchSpec& arch, const EvaluateFn& evaluate, Store& store, int64_t runId,
                        const SearchConfig& cfg, const SearchCallbacks& callbacks = {},
                        const std::atomic<bool>* cancel = nullptr, const LatencyTable* latency = nullptr,
                        const BatchEvaluateFn* batch = nullptr);

/// The run record of a search with `evaluator`'s checkpoint and data.
RunRecord searchRunRecord(const Evaluator& evaluator, const SearchConfig& cfg, int64_t trainingId);

} // namespace mp
