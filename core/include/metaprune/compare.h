#pragma once
// The paper's evaluation step inside a project: retrain stored candidates, compare searched
// structures with uniform width-multiplier baselines at MACs targets, and measure how well the
// PruningNet's predicted accuracy ranks structures (proxy fidelity). Torch-free API.

#include "metaprune/evaluator.h"
#include "metaprune/jobs.h"
#include "metaprune/project.h"
#include "metaprune/retrain.h"
#include "metaprune/stats.h"

#include <functional>
#include <optional>

namespace mp {

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

/// How a comparison chooses the uniform width-multiplier network a searched structure is
/// compared with.
enum class ComparePairing {
    /// The paper's protocol: the uniform network nearest the MACs target, and a search under
    /// that network's MACs, so that both sides cost nearly the same (searched <= uniform).
    EqualCost,
    /// A search under the target itself, against the cheapest uniform network with at least the
    /// searched structure's MACs (which can cost up to a grid step, about 14%, more).
    AtLeast,
};

/// "equal-cost" / "at-least"; parse throws std::invalid_argument.
std::string comparePairingName(ComparePairing pairing);
ComparePairing parseComparePairing(const std::string& name);

/// What the searched structure is compared with at each target: the same uniform structure
/// either way (every layer at the same fraction), named by how it is made.
enum class CompareBaseline {
    /// The paper's uniform width-multiplier network, retrained with the recipe.
    Uniform,
    /// Uniform filter pruning by L1 norm (Li et al., ICLR 2017; Torch-Pruning's default): the
    /// same fraction of every layer, the channels of largest group L1 norm of the trained model
    /// kept (its importance order), fine-tuned with the same recipe (which must inherit).
    L1,
};

/// "uniform" / "l1"; parse throws std::invalid_argument.
std::string compareBaselineName(CompareBaseline baseline);
CompareBaseline parseCompareBaseline(const std::string& name);

/// The scale index (0..30) of the uniform network whose MACs are nearest `macs` (the cheaper
/// one on a tie).
int nearestUniformIndex(const ArchSpec& arch, int64_t macs);

/// What a comparison runs. Seeds where the variance is (issue 15): PruningNet training,
/// search and retraining each have their own list.
struct CompareConfig {
    std::vector<double> fractions{0.5, 0.25, 0.125}; ///< MACs targets, fractions of the full network
    ComparePairing pairing = ComparePairing::EqualCost;
    SearchConfig search; ///< per search: maxMacs from the pairing, minMacs 0, seed from searchSeeds
    std::vector<uint64_t> searchSeeds{1};
    /// PruningNet training seeds (the training config's seed); empty: only the given PruningNet.
    /// Other seeds are trained with the given PruningNet's config (trainInProject, reused when
    /// finished).
    std::vector<uint64_t> pruningnetSeeds;
    RetrainConfig recipe;
    std::vector<uint64_t> seeds{1, 2}; ///< retraining seeds, the same for both sides
    /// Search with a PruningNet that has not learned (searchInProject throws NotLearnedError otherwise).
    bool allowUnlearned = false;
    CompareBaseline baseline = CompareBaseline::Uniform;
    /// With the L1 baseline: also retrain the uniform width-multiplier network from scratch
    /// (the recipe in scratch mode, at the from-scratch rate RetrainConfig{}.lr), as the
    /// paper's baseline.
    bool alsoUniform = false;
    /// --jobs: the missing PruningNets, then the searches, then the retrainings run on it
    /// first (each phase before the next needs it); the report is the same as without.
    StudyPool pool;
};

/// One searched structure of a comparison (one PruningNet, one search seed) and the uniform
/// network it is compared with, both retrained with every seed.
struct CompareArm {
    uint64_t pruningnetSeed = 0; ///< its training config's seed
    int64_t trainingId = 0;
    uint64_t searchSeed = 0;
    int64_t runId = 0;
    CandidateRecord searched, uniform;
    std::vector<double> searchedTop1, uniformTop1; ///< test top-1 (percent) per retraining seed
    /// With the L1 baseline and alsoUniform: the uniform structure retrained from scratch.
    std::vector<double> scratchTop1;
};

/// One MACs target of a comparison.
struct CompareRow {
    double fraction = 0; ///< target as a fraction of the full network's MACs
    int64_t targetMacs = 0;
    int64_t boundMacs = 0;         ///< the searches' MACs bound (EqualCost: the uniform network's MACs)
    std::vector<CompareArm> arms;  ///< by PruningNet seed, then search seed
    Difference difference;         ///< compareDifference() of the arms
    /// With a trained model: searched minus the original model's top-1 (points), a one-sample
    /// t interval over the same pairs as `difference`.
    std::optional<Difference> toOriginal;

    /// Every searched result; every uniform result once per (PruningNet, uniform network).
    std::vector<double> searchedTop1() const;
    std::vector<double> uniformTop1() const;
};

/// The searched-minus-uniform difference of a row (percentage points) with its interval: one
/// value per (PruningNet seed, retraining seed) pair, the searched side averaged over the
/// search seeds and paired with the uniform network retrained from the same PruningNet's data
/// split with the same seed; a paired t interval over the pairs when there are at least 2, the
/// value alone ("n=1") otherwise. The interval is conditional on the structures the searches
/// found: it measures retraining noise (and PruningNet noise through the pairs), not how
/// another search would fare.
Difference compareDifference(const CompareRow& row);

struct CompareReport {
    std::string arch; ///< family/preset
    int64_t fullMacs = 0;
    ComparePairing pairing = ComparePairing::AtLeast; ///< reports stored before version 2 paired "at least"
    CompareBaseline baseline = CompareBaseline::Uniform;
    /// The trained model the PruningNet started from, evaluated as itself on the test set.
    std::optional<double> originalTop1;
    RetrainConfig recipe;
    std::vector<uint64_t> seeds, searchSeeds, pruningnetSeeds;
    std::vector<CompareRow> rows;
    /// The report as a Markdown document: per target both costs and their ratio, both top-1s,
    /// the difference with its interval, n and the verdict; then every searched structure.
    /// `narrow`: one list item per target instead of the nine-column table (the app's dock).
    std::string markdown(bool narrow = false) const;
    /// JSON, "version": 3 (versions 1 and 2 are still read).
    std::string toJson() const;
};

/// For each target and PruningNet seed (training the missing PruningNets first): reuses the
/// project's finished search of that PruningNet at exactly the pairing's MACs bound and seed
/// (or runs one with `cfg.search`), takes its best candidate and the uniform partner, and
/// retrains both for every seed (stored results are reused). The report is stored in the
/// project (setting "compare.report"). Throws Cancelled (everything finished so far is kept),
/// ConfigError for a target below the smallest network or an empty seed list, StoreError.
CompareReport compareWithUniform(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                                 int64_t trainingId, const CompareConfig& cfg, const JobProgressFn& progress = {},
                                 const std::atomic<bool>* cancel = nullptr);

/// The at-least comparison with one PruningNet and one search (`search.seed`): AtLeast pairing.
CompareReport compareWithUniform(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                                 int64_t trainingId, const std::vector<double>& fractions,
                                 const SearchConfig& search, const RetrainConfig& recipe,
                                 const std::vector<uint64_t>& seeds, const JobProgressFn& progress = {},
                                 const std::atomic<bool>* cancel = nullptr);

/// Two structures scored by the PruningNet on the same images of `split` (BN recalibrated):
/// a minus b with the exact McNemar test and the Agresti-Min interval (stats.h). Throws what
/// Evaluator::evaluate throws.
PairedAccuracy comparePaired(const Evaluator& evaluator, const Encoding& a, const Encoding& b,
                             EvalSplit split = EvalSplit::Search, const std::atomic<bool>* cancel = nullptr);

/// A cost band of an in-band fidelity study: MACs per image, or latency (ms) predicted by the
/// project's latency table.
struct CostBand {
    enum class Kind { Macs, Latency } kind = Kind::Macs;
    double lo = 0, hi = 0;
    /// "macs:2010000..2234000" / "latency:1.2..1.4": the band's key among stored reports.
    std::string key() const;
    /// "2.01M..2.23M MACs" / "1.20..1.40 ms".
    std::string text() const;
};

/// Structures inside `band` for an in-band fidelity study: random encodings around the uniform
/// levels that bracket the band (each gene up to 8 steps off a random level), kept when inside
/// the band (MACs, or `latency`'s prediction) and new by channels, at most 2000 draws per
/// structure asked; of those, the ones nearest to `samples` evenly spaced points of the band.
/// Fewer than `samples` when the band holds fewer distinct structures (never padded).
/// `attempts` receives the number of draws. Throws ConfigError for a latency band without a
/// table.
std::vector<Encoding> sampleStructuresInBand(const ArchSpec& arch, const CostBand& band, int samples, uint64_t seed,
                                             int64_t* attempts, const LatencyTable* latency = nullptr);

/// One sampled structure of a fidelity study.
struct FidelityPoint {
    CandidateRecord candidate; ///< top1: the PruningNet's prediction (search split)
    double retrainedTop1 = 0;  ///< test top-1 after the short retraining, mean over the seeds
    std::vector<double> retrainedBySeed; ///< one per retraining seed
    /// With a PruningNet started from a trained model: the trained model's own leading channels
    /// for this structure, BN recalibrated, on the search split (Evaluator::evaluateInherited).
    std::optional<double> inheritedTop1;
};

/// What a fidelity study runs.
struct FidelityConfig {
    int samples = 12;
    uint64_t seed = 1; ///< of the sampling, the bootstrap and the permutations
    RetrainConfig recipe;
    /// Retraining seeds of every structure (its retrained top-1 is their mean: the ground truth
    /// has noise of its own); empty: the recipe's seed alone.
    std::vector<uint64_t> seeds;
    /// Inside a band: structures spread over it, de-duplicated by channels. Without one: over
    /// the whole MACs range.
    std::optional<CostBand> band;
    int topK = 3;
    int bootstrapResamples = 2000;
    int permutations = 9999; ///< Monte Carlo permutations (exact enumeration up to 8 structures)
    /// --jobs: the retrainings run on it once every structure is scored; the report is the same
    /// as without.
    StudyPool pool;
    /// The PruningNet's prediction that is ranked: top-1, or the loss (lower is better) as
    /// `search --score loss` ranks candidates.
    SearchScore score = SearchScore::Top1;
};

struct FidelityReport {
    std::vector<FidelityPoint> points;
    SearchScore score = SearchScore::Top1; ///< the prediction ranked: top-1 or minus the loss
    /// The prediction of a point as ranked: its top-1, or minus its loss.
    double predicted(const FidelityPoint& p) const {
        return score == SearchScore::Loss ? -p.candidate.loss : p.candidate.top1;
    }
    RankCorrelation correlation;
    /// MACs alone against retrained top-1: across a wide MACs range, size predicts accuracy
    /// too, so the PruningNet only adds information where it beats this.
    RankCorrelation macsBaseline;
    BootstrapCorrelation correlationInterval, macsInterval; ///< 95% percentile bootstrap
    PermutationTest correlationTest, macsTest;
    int topK = 0;            ///< k of the overlap (at most the number of structures)
    int topKOverlap = 0;     ///< of the PruningNet's k best, how many are among the retrained k best
    int macsTopKOverlap = 0; ///< the same for the k largest by MACs
    std::optional<CostBand> band;
    int requested = 0;    ///< structures asked for
    int64_t attempts = 0; ///< encodings drawn to find them (in a band)
    RetrainConfig recipe;
    std::vector<uint64_t> seeds; ///< retraining seeds (one value: reports before seed lists)
    /// With a PruningNet started from a trained model: the inherited weights alone against
    /// retrained top-1, the proxy the PruningNet must beat besides MACs.
    std::optional<RankCorrelation> inheritedBaseline;
    BootstrapCorrelation inheritedInterval;
    PermutationTest inheritedTest;
    int inheritedTopKOverlap = 0;
    /// The proxy's ranking beyond cost: Kendall's partial tau of predicted and retrained top-1
    /// given MACs, with its 95% bootstrap interval (stats.h; NaN when undefined).
    double partialTau = std::numeric_limits<double>::quiet_NaN();
    Interval partialInterval;
    /// The same for the inherited weights alone, with a trained model.
    double inheritedPartialTau = std::numeric_limits<double>::quiet_NaN();
    /// With 2 or more retraining seeds: their spread and the largest tau that noise allows.
    std::optional<SeedNoise> noise;
    /// Fills partialTau, partialInterval, inheritedPartialTau and noise from the points (also
    /// for reports stored before they existed).
    void addRankingStatistics(int resamples = 2000);
    std::string markdown() const;
    std::string toJson() const;
};

/// Samples structures (whole range: sample i puts every gene at the grid level i/(samples-1)
/// plus a random offset of up to 8 steps; in a band: sampleStructuresInBand()), scores each
/// with the PruningNet (BN recalibration, search split; stored as a probe run of its own),
/// retrains each with the recipe and reports Kendall's tau-b and Spearman's rho between
/// predicted and retrained top-1 with bootstrap intervals and permutation p-values, the same
/// for MACs alone, and the top-k overlap. A band holding fewer distinct structures than asked
/// is reported with the number found. Stored results are reused; the report is stored
/// (setting "fidelity.report", or per band in "fidelity.bands"). Throws Cancelled,
/// std::invalid_argument for fewer than 3 samples, ConfigError for a band with fewer than 3
/// distinct structures or a latency band without `latency`.
FidelityReport measureFidelity(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                               int64_t trainingId, const FidelityConfig& cfg, const JobProgressFn& progress = {},
                               const std::atomic<bool>* cancel = nullptr, const LatencyTable* latency = nullptr);

/// The whole-range study as the app runs it (top-3 overlap, default resampling).
FidelityReport measureFidelity(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                               int64_t trainingId, int samples, uint64_t seed, const RetrainConfig& recipe,
                               const JobProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr);

/// The stored reports of a project, if any ("compare.report" / "fidelity.report" JSON).
std::optional<CompareReport> storedCompareReport(const Store& store);
std::optional<FidelityReport> storedFidelityReport(const Store& store);
/// The stored in-band study of `band`, and every stored in-band study ("fidelity.bands").
std::optional<FidelityReport> storedFidelityReport(const Store& store, const CostBand& band);
std::vector<FidelityReport> storedBandFidelityReports(const Store& store);
/// Stores `report` as the whole-range study, or as the study of its band (replacing one of the
/// same band). Throws StoreError.
void storeFidelityReport(Store& store, const FidelityReport& report);

} // namespace mp
