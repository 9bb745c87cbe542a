#pragma once
// Statistics for the evaluation reports (issues 14 and 15): intervals for accuracies and for
// differences of accuracies, rank correlations with bootstrap intervals and permutation
// p-values, top-k overlap, and the one text form every report uses for a difference.
// Torch-free and Qt-free; distribution quantiles come from Boost.Math.

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace mp {

/// A two-sided confidence interval [lo, hi]; both NaN when it cannot be computed.
struct Interval {
    double lo = std::numeric_limits<double>::quiet_NaN();
    double hi = std::numeric_limits<double>::quiet_NaN();
    bool defined() const { return lo == lo && hi == hi; }
    bool contains(double x) const { return defined() && lo <= x && x <= hi; }
};

/// Mean and sample standard deviation (n - 1 in the denominator; 0 for one value, {0, 0} for
/// none).
std::pair<double, double> meanAndSpread(const std::vector<double>& v);

/// Wilson score interval of a top-1 of `correct` out of `n` images, in percent (Wilson 1927;
/// the interval Agresti and Coull recommend for a binomial proportion). Throws
/// std::invalid_argument unless 0 <= correct <= n, n >= 1 and 0 < confidence < 1.
Interval wilsonInterval(int64_t correct, int64_t n, double confidence = 0.95);

/// The fewest images whose Wilson interval (at `confidence`) around a top-1 of `top1Percent`
/// is at most +-`halfWidthPoints` percentage points wide: how large a search split must be for
/// the differences it has to tell (issue 22: +-0.8 points at 80% takes 9,600 images). The
/// half-width is the closed form z/(1 + z^2/n) sqrt(p(1-p)/n + z^2/(4n^2)). Throws
/// std::invalid_argument for a half-width outside (0, 50) or a top-1 outside [0, 100].
int64_t imagesForInterval(double halfWidthPoints, double top1Percent, double confidence = 0.95);

/// Two networks scored on the same images: which each got right.
struct PairedAccuracy {
    int64_t n = 0;       ///< images
    int64_t onlyA = 0;   ///< A right, B wrong (discordant)
    int64_t onlyB = 0;   ///< B right, A wrong (discordant)
    int64_t both = 0;    ///< both right
    double top1A = 0, top1B = 0; ///< percent
    double difference = 0;       ///< top1A - top1B, percentage points
    /// Agresti-Min (2005) interval for the paired difference, in points: the Wald interval of
    /// the 2x2 table after adding 1/2 to each of its four cells.
    Interval interval;
    /// Exact McNemar test: two-sided binomial test of onlyA against Bin(onlyA + onlyB, 1/2);
    /// 1 when there is no discordant image.
    double pValue = 1;
};

/// Paired comparison of two per-image correctness vectors of equal length (the same images in
/// the same order). Throws std::invalid_argument for different lengths, no image, or a
/// confidence outside (0, 1).
PairedAccuracy pairedAccuracy(const std::vector<bool>& a, const std::vector<bool>& b, double confidence = 0.95);

/// A difference of two means (percentage points) with its t interval.
struct MeanDifference {
    double difference = 0; ///< mean(a) - mean(b)
    Interval interval;
    double df = 0;         ///< degrees of freedom (Welch-Satterthwaite for the unpaired case)
    double pValue = 1;     ///< two-sided t test of a zero difference
    int nA = 0, nB = 0;
};

/// Welch's interval for mean(a) - mean(b) of two independent samples (unequal variances,
/// Welch-Satterthwaite degrees of freedom, Student t quantile). With both variances 0 the
/// interval is the point and p is 0 (a non-zero difference) or 1. Throws std::invalid_argument
/// for fewer than 2 values on a side.
MeanDifference welchDifference(const std::vector<double>& a, const std::vector<double>& b, double confidence = 0.95);

/// The paired t interval of mean(a[i] - b[i]) (n - 1 degrees of freedom). With all differences
/// equal the interval is the point. Throws std::invalid_argument for different lengths or
/// fewer than 2 pairs.
MeanDifference pairedDifference(const std::vector<double>& a, const std::vector<double>& b, double confidence = 0.95);

/// Kendall's tau-b and Spearman's rho (average ranks for ties) of two equally long samples:
/// how well the PruningNet's predicted accuracy ranks structures like their retrained accuracy.
/// Both are NaN when a sample is constant (no ranking to compare).
struct RankCorrelation {
    double kendallTau = 0;
    double spearmanRho = 0;
    int n = 0;
};

/// Throws std::invalid_argument for fewer than 3 pairs or different lengths.
RankCorrelation rankCorrelation(const std::vector<double>& a, const std::vector<double>& b);

/// The q-th quantile (0..1) of `v` with linear interpolation between order statistics
/// (Hyndman-Fan type 7, numpy.percentile's default). Throws std::invalid_argument when `v` is
/// empty or q is outside [0, 1].
double quantile(std::vector<double> v, double q);

/// Percentile bootstrap intervals of Kendall's tau-b and Spearman's rho: `resamples` draws of
/// n pairs with replacement (mt19937_64 seeded with `seed`: the same inputs and seed give the
/// same interval). A resample in which either sample is constant has no ranking and is left
/// out; an interval needs at least half of the resamples.
struct BootstrapCorrelation {
    Interval kendallTau, spearmanRho;
    int resamples = 0; ///< drawn
    int undefined = 0; ///< left out because a resampled sample was constant
};
BootstrapCorrelation bootstrapRankCorrelation(const std::vector<double>& a, const std::vector<double>& b,
                                              uint64_t seed, int resamples = 2000, double confidence = 0.95);

/// Two-sided permutation p-values of Kendall's tau-b and Spearman's rho against "no
/// association": the share of permutations of `b` whose |coefficient| reaches the observed
/// one. Exact (all n! permutations) for n <= `exactUpTo`; otherwise `permutations` seeded
/// random permutations with the +1 correction, p = (1 + hits) / (1 + permutations), so p is
/// never 0. NaN when the observed coefficient is undefined.
struct PermutationTest {
    double kendallP = std::numeric_limits<double>::quiet_NaN();
    double spearmanP = std::numeric_limits<double>::quiet_NaN();
    bool exact = false;
    int64_t permutations = 0; ///< enumerated or drawn
};
PermutationTest permutationTest(const std::vector<double>& a, const std::vector<double>& b, uint64_t seed,
                                int permutations = 9999, int exactUpTo = 8);

/// Of the `k` structures with the highest `predicted` value, how many are among the `k` best by
/// `actual`. Ties: the predicted top-k takes the earlier index first; a structure counts as
/// among the actual best when its actual value reaches the k-th highest (so ties there never
/// cost a hit). Throws std::invalid_argument for different lengths or k outside 1..n.
int topKOverlap(const std::vector<double>& predicted, const std::vector<double>& actual, int k);

/// Kendall's partial tau of a and b given c (Kendall 1942): (t_ab - t_ac t_bc) /
/// sqrt((1 - t_ac^2)(1 - t_bc^2)), the tau-b of each pair. How a proxy ranks structures beyond
/// what their cost (c = MACs) explains. NaN when a sample is constant or c orders a or b
/// perfectly. Throws std::invalid_argument for different lengths or fewer than 3 values.
double partialKendallTau(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& c);

/// Percentile bootstrap interval of partialKendallTau (as bootstrapRankCorrelation; undefined
/// resamples left out, an interval needs at least half of them; NaN ends otherwise).
Interval bootstrapPartialTau(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& c,
                             uint64_t seed, int resamples = 2000, double confidence = 0.95);

/// How much of a ranking the retraining noise leaves: `bySeed[i]` holds structure i's retrained
/// top-1 per seed (every structure the same seeds, at least 2).
struct SeedNoise {
    double spread = 0;  ///< pooled within-structure standard deviation over seeds (points)
    double seedTau = 0; ///< Kendall tau-b between the first two seeds' rankings (NaN when constant)
    /// The tau an exact proxy could reach against the mean over seeds: the mean tau-b between
    /// the structures' means and the means plus Gaussian noise of sd spread / sqrt(seeds),
    /// over `simulations` seeded draws. An estimate (the means carry that noise too).
    double ceiling = 0;
    int seeds = 0;
};
/// Throws std::invalid_argument for fewer than 3 structures, fewer than 2 seeds or unequal
/// seed counts.
SeedNoise seedNoise(const std::vector<std::vector<double>>& bySeed, uint64_t seed, int simulations = 2000);

/// Whether a difference can be told apart from zero at the interval's confidence.
enum class Verdict {
    Distinguishable,    ///< the interval excludes 0 and the test's p is below 1 - confidence
    NotDistinguishable, ///< the interval holds 0 and p is at least 1 - confidence
    Borderline,         ///< the interval and the test disagree (possible for McNemar + Agresti-Min)
    NoInterval,         ///< one sample: no spread to judge from
};

/// A difference (percentage points) as every report prints it.
struct Difference {
    double estimate = 0;
    Interval interval;
    double confidence = 0.95;
    double pValue = std::numeric_limits<double>::quiet_NaN();
    std::string test;   ///< "McNemar", "paired t", "Welch"; empty without an interval
    std::string sample; ///< "n = 2000", "n = 3 seeds", ...
    Verdict verdict() const;
};

/// From a paired image comparison (McNemar p, Agresti-Min interval, n = images).
Difference differenceOf(const PairedAccuracy& p, double confidence = 0.95);
/// From a t interval; `sample` says what the n counts ("3 seeds").
Difference differenceOf(const MeanDifference& d, const std::string& test, const std::string& sample,
                        double confidence = 0.95);

/// "+1.20 points [-0.31, +2.71] (95%), not distinguishable from zero (McNemar p = 0.12,
/// n = 2000)"; without an interval "-0.64 points (n=1, no interval)".
std::string formatDifference(const Difference& d);

/// A p-value as printed: "0.12", "0.003", "< 0.001".
std::string formatPValue(double p);

/// A top-1 (percent) over seeds: "86.78% (n=1)" for one value, "86.78 ± 0.31% (sd, n=3)"
/// otherwise; "-" for none.
std::string formatTop1(const std::vector<double>& values);

} // namespace mp
