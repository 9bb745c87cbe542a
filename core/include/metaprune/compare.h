#pragma once
// The paper's evaluation step inside a project: retrain stored candidates, compare searched
// structures with uniform width-multiplier baselines at MACs targets, and measure how well the
// PruningNet's predicted accuracy ranks structures (proxy fidelity). Torch-free API.

#include "metaprune/evaluator.h"
#include "metaprune/project.h"
#include "metaprune/retrain.h"

#include <functional>

namespace mp {

/// What a long job is doing, for progress lines and the app's status.
struct JobProgress {
    std::string stage; ///< "search 25%", "retrain candidate 12 (seed 2)", ...
    int64_t done = 0, total = 0; ///< steps of the stage
    double loss = 0;             ///< running training loss, when retraining
};
using JobProgressFn = std::function<void(const JobProgress&)>;

/// Retrains stored candidate `candidateId` with `cfg` and commits the result (purpose: user,
/// compare or fidelity). When the project already holds this candidate, recipe and seed, it is
/// returned without training again (`reused`). `exportPath`, when set, receives the retrained
/// network in `format` (and `exportJsonPath` its metadata), written after the result is stored.
/// Throws Cancelled (nothing stored), StoreError, std::invalid_argument for an unknown
/// candidate, std::runtime_error naming an export file that cannot be written.
RetrainRecord retrainCandidate(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                               int64_t candidateId, const RetrainConfig& cfg, const std::string& purpose,
                               const JobProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr,
                               bool* reused = nullptr, const std::string& exportPath = {},
                               ExportFormat format = ExportFormat::TorchScript,
                               const std::string& exportJsonPath = {});

/// One MACs target of a comparison: the best searched structure within the target and the
/// uniform baseline with equal-or-higher MACs, each retrained once per seed.
struct CompareRow {
    double fraction = 0;  ///< target as a fraction of the full network's MACs
    int64_t targetMacs = 0;
    int64_t runId = 0;
    CandidateRecord searched, uniform;
    std::vector<double> searchedTop1, uniformTop1; ///< test top-1 (percent) per seed
};

struct CompareReport {
    std::string arch;    ///< family/preset
    int64_t fullMacs = 0;
    RetrainConfig recipe;
    std::vector<uint64_t> seeds;
    std::vector<CompareRow> rows;
    /// The report as a Markdown document (table of mean ± standard deviation per target).
    std::string markdown() const;
    std::string toJson() const;
};

/// Mean and sample standard deviation (0 for one value).
std::pair<double, double> meanAndSpread(const std::vector<double>& v);

/// For each fraction of the full MACs: reuses the project's finished search of the evaluator's
/// training at exactly that MACs bound (or runs one with `search`, its maxMacs replaced), takes
/// its best candidate and the uniform baseline of equal-or-higher MACs, and retrains both for
/// every seed (stored results are reused). The report is stored in the project (setting
/// "compare.report"). Throws Cancelled (everything finished so far is kept), ConfigError for
/// a target below the smallest network, StoreError.
CompareReport compareWithUniform(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                                 int64_t trainingId, const std::vector<double>& fractions,
                                 const SearchConfig& search, const RetrainConfig& recipe,
                                 const std::vector<uint64_t>& seeds, const JobProgressFn& progress = {},
                                 const std::atomic<bool>* cancel = nullptr);

/// One sampled structure of a fidelity study.
struct FidelityPoint {
    CandidateRecord candidate; ///< top1: the PruningNet's prediction (search split)
    double retrainedTop1 = 0;  ///< test top-1 after the short retraining
};

struct FidelityReport {
    std::vector<FidelityPoint> points;
    RankCorrelation correlation;
    /// MACs alone against retrained top-1: across a wide MACs range, size predicts accuracy
    /// too, so the PruningNet only adds information where it beats this.
    RankCorrelation macsBaseline;
    RetrainConfig recipe;
    std::string markdown() const;
    std::string toJson() const;
};

/// Samples `samples` structures spread over the MACs range (sample i: every gene at the grid
/// level i/(samples-1) plus a random offset of up to 8 steps; seeded), scores each with the PruningNet (BN
/// recalibration, search split; stored as a probe run), retrains each with `recipe` and
/// reports Kendall's tau and Spearman's rho between predicted and retrained top-1, and between
/// MACs and retrained top-1 as the baseline any proxy must beat. Stored
/// results are reused; the report is stored (setting "fidelity.report"). Throws Cancelled,
/// std::invalid_argument for fewer than 3 samples.
FidelityReport measureFidelity(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                               int64_t trainingId, int samples, uint64_t seed, const RetrainConfig& recipe,
                               const JobProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr);

/// The stored reports of a project, if any ("compare.report" / "fidelity.report" JSON).
std::optional<CompareReport> storedCompareReport(const Store& store);
std::optional<FidelityReport> storedFidelityReport(const Store& store);

} // namespace mp
