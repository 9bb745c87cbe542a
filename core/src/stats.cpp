// Statistics for the evaluation reports: intervals, exact and permutation tests, bootstrap.
#include "metaprune/stats.h"

#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <stdexcept>

namespace mp {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void checkConfidence(double confidence) {
    if (!(confidence > 0 && confidence < 1))
        throw std::invalid_argument("a confidence level is in (0, 1), got " + std::to_string(confidence));
}

/// The two-sided normal quantile z of `confidence` (1.96 for 95%).
double normalQuantile(double confidence) {
    checkConfidence(confidence);
    return boost::math::quantile(boost::math::normal(), 1 - (1 - confidence) / 2);
}

/// The mean plus or minus t(df) standard errors; the point itself when se is 0.
MeanDifference tInterval(double difference, double se, double df, double confidence) {
    checkConfidence(confidence);
    MeanDifference d;
    d.difference = difference;
    d.df = df;
    if (se == 0) {
        d.interval = {difference, difference};
        d.pValue = difference == 0 ? 1 : 0;
        return d;
    }
    const boost::math::students_t t(df);
    const double q = boost::math::quantile(t, 1 - (1 - confidence) / 2);
    d.interval = {difference - q * se, difference + q * se};
    d.pValue = 2 * boost::math::cdf(boost::math::complement(t, std::abs(difference) / se));
    return d;
}

/// Average ranks (1-based), ties sharing the mean of their positions.
std::vector<double> ranks(const std::vector<double>& v) {
    std::vector<size_t> idx(v.size());
    std::iota(idx.begin(), idx.end(), size_t(0));
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (size_t i = 0; i < idx.size();) {
        size_t j = i;
        while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]])
            ++j;
        const double mean = (double(i) + double(j)) / 2.0 + 1.0;
        for (size_t k = i; k <= j; ++k)
            r[idx[k]] = mean;
        i = j + 1;
    }
    return r;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const double n = double(a.size());
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
    const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : kNaN;
}

/// tau-b = (concordant - discordant) / sqrt((n0 - ties in a) (n0 - ties in b)).
double kendallTauB(const std::vector<double>& a, const std::vector<double>& b) {
    double concordant = 0, discordant = 0, tiesA = 0, tiesB = 0;
    for (size_t i = 0; i < a.size(); ++i)
        for (size_t j = i + 1; j < a.size(); ++j) {
            const double da = a[i] - a[j], db = b[i] - b[j];
            if (da == 0 && db == 0)
                continue;
            if (da == 0)
                tiesA += 1;
            else if (db == 0)
                tiesB += 1;
            else if ((da > 0) == (db > 0))
                concordant += 1;
            else
                discordant += 1;
        }
    const double denom = std::sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
    return denom > 0 ? (concordant - discordant) / denom : kNaN;
}

void checkPairs(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size())
        throw std::invalid_argument("rank correlation needs two samples of equal length");
    if (a.size() < 3)
        throw std::invalid_argument("rank correlation needs at least 3 pairs, got " + std::to_string(a.size()));
}

/// An unbiased draw from 0..n-1 (rejection sampling): std::uniform_int_distribution's output
/// differs between standard libraries, this one does not.
uint64_t below(std::mt19937_64& rng, uint64_t n) {
    const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
    uint64_t x;
    do
        x = rng();
    while (x >= limit);
    return x % n;
}

/// Whether |c| reaches |observed|, with a tolerance for the rounding of equal coefficients
/// computed from differently ordered sums.
bool atLeastAsExtreme(double c, double observed) {
    return std::abs(c) >= std::abs(observed) - 1e-12;
}

std::string signedPoints(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.2f", x);
    return buf;
}

} // namespace

std::pair<double, double> meanAndSpread(const std::vector<double>& v) {
    if (v.empty())
        return {0, 0};
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    double ss = 0;
    for (double x : v)
        ss += (x - mean) * (x - mean);
    return {mean, v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0.0};
}

Interval wilsonInterval(int64_t correct, int64_t n, double confidence) {
    if (n < 1 || correct < 0 || correct > n)
        throw std::invalid_argument("a Wilson interval needs 0 <= correct <= n and n >= 1, got " +
                                    std::to_string(correct) + " of " + std::to_string(n));
    const double z = normalQuantile(confidence);
    const double p = double(correct) / double(n), nn = double(n);
    const double denom = 1 + z * z / nn;
    const double centre = (p + z * z / (2 * nn)) / denom;
    const double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denom;
    return {100 * std::max(0.0, centre - half), 100 * std::min(1.0, centre + half)};
}

PairedAccuracy pairedAccuracy(const std::vector<bool>& a, const std::vector<bool>& b, double confidence) {
    if (a.size() != b.size())
        throw std::invalid_argument("a paired comparison needs both networks' results on the same images, got " +
                                    std::to_string(a.size()) + " and " + std::to_string(b.size()) + " images");
    if (a.empty())
        throw std::invalid_argument("a paired comparison needs at least one image");
    const double z = normalQuantile(confidence);
    PairedAccuracy r;
    r.n = int64_t(a.size());
    int64_t rightA = 0, rightB = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        rightA += a[i];
        rightB += b[i];
        r.onlyA += a[i] && !b[i];
        r.onlyB += b[i] && !a[i];
        r.both += a[i] && b[i];
    }
    const double n = double(r.n);
    r.top1A = 100 * double(rightA) / n;
    r.top1B = 100 * double(rightB) / n;
    r.difference = 100 * double(r.onlyA - r.onlyB) / n;
    // Agresti & Min (2005): add 1/2 to each cell, then the Wald interval.
    const double nAdj = n + 2, bAdj = double(r.onlyA) + 0.5, cAdj = double(r.onlyB) + 0.5;
    const double centre = (bAdj - cAdj) / nAdj;
    const double half = z * std::sqrt(((bAdj + cAdj) / nAdj - centre * centre) / nAdj);
    r.interval = {100 * std::max(-1.0, centre - half), 100 * std::min(1.0, centre + half)};
    const int64_t discordant = r.onlyA + r.onlyB;
    if (discordant > 0) {
        const boost::math::binomial bin(double(discordant), 0.5);
        r.pValue = std::min(1.0, 2 * boost::math::cdf(bin, double(std::min(r.onlyA, r.onlyB))));
    }
    return r;
}

MeanDifference welchDifference(const std::vector<double>& a, const std::vector<double>& b, double confidence) {
    if (a.size() < 2 || b.size() < 2)
        throw std::invalid_argument("Welch's interval needs at least 2 values per side, got " +
                                    std::to_string(a.size()) + " and " + std::to_string(b.size()));
    const auto [ma, sa] = meanAndSpread(a);
    const auto [mb, sb] = meanAndSpread(b);
    const double na = double(a.size()), nb = double(b.size());
    const double va = sa * sa / na, vb = sb * sb / nb;
    const double se = std::sqrt(va + vb);
    const double df = se > 0 ? (va + vb) * (va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1)) : na + nb - 2;
    MeanDifference d = tInterval(ma - mb, se, df, confidence);
    d.nA = int(a.size());
    d.nB = int(b.size());
    return d;
}

MeanDifference pairedDifference(const std::vector<double>& a, const std::vector<double>& b, double confidence) {
    if (a.size() != b.size())
        throw std::invalid_argument("a paired interval needs two samples of equal length");
    if (a.size() < 2)
        throw std::invalid_argument("a paired interval needs at least 2 pairs, got " + std::to_string(a.size()));
    std::vector<double> d(a.size());
    for (size_t i = 0; i < a.size(); ++i)
        d[i] = a[i] - b[i];
    const auto [mean, sd] = meanAndSpread(d);
    const double n = double(d.size());
    MeanDifference r = tInterval(mean, sd / std::sqrt(n), n - 1, confidence);
    r.nA = r.nB = int(d.size());
    return r;
}

RankCorrelation rankCorrelation(const std::vector<double>& a, const std::vector<double>& b) {
    checkPairs(a, b);
    RankCorrelation r;
    r.n = int(a.size());
    r.spearmanRho = pearson(ranks(a), ranks(b));
    r.kendallTau = kendallTauB(a, b);
    return r;
}

double quantile(std::vector<double> v, double q) {
    if (v.empty())
        throw std::invalid_argument("the quantile of an empty sample is undefined");
    if (!(q >= 0 && q <= 1))
        throw std::invalid_argument("a quantile level is in [0, 1], got " + std::to_string(q));
    std::sort(v.begin(), v.end());
    const double h = double(v.size() - 1) * q;
    const size_t lo = size_t(std::floor(h));
    if (lo + 1 >= v.size())
        return v.back();
    return v[lo] + (h - double(lo)) * (v[lo + 1] - v[lo]);
}

BootstrapCorrelation bootstrapRankCorrelation(const std::vector<double>& a, const std::vector<double>& b,
                                              uint64_t seed, int resamples, double confidence) {
    checkPairs(a, b);
    checkConfidence(confidence);
    if (resamples < 1)
        throw std::invalid_argument("a bootstrap needs at least one resample");
    std::mt19937_64 rng(seed);
    const size_t n = a.size();
    std::vector<double> ra(n), rb(n), taus, rhos;
    BootstrapCorrelation out;
    out.resamples = resamples;
    for (int r = 0; r < resamples; ++r) {
        for (size_t i = 0; i < n; ++i) {
            const size_t j = size_t(below(rng, n));
            ra[i] = a[j];
            rb[i] = b[j];
        }
        const double tau = kendallTauB(ra, rb);
        if (std::isnan(tau)) { // a constant resample: neither coefficient is defined
            ++out.undefined;
            continue;
        }
        taus.push_back(tau);
        rhos.push_back(pearson(ranks(ra), ranks(rb)));
    }
    if (2 * taus.size() >= size_t(resamples)) {
        const double alpha = 1 - confidence;
        out.kendallTau = {quantile(taus, alpha / 2), quantile(taus, 1 - alpha / 2)};
        out.spearmanRho = {quantile(rhos, alpha / 2), quantile(rhos, 1 - alpha / 2)};
    }
    return out;
}

PermutationTest permutationTest(const std::vector<double>& a, const std::vector<double>& b, uint64_t seed,
                                int permutations, int exactUpTo) {
    checkPairs(a, b);
    PermutationTest out;
    const double tau = kendallTauB(a, b);
    const std::vector<double> rankA = ranks(a), rankB = ranks(b);
    const double rho = pearson(rankA, rankB);
    if (std::isnan(tau))
        return out;
    const size_t n = a.size();
    std::vector<size_t> perm(n);
    std::iota(perm.begin(), perm.end(), size_t(0));
    std::vector<double> pb(n), prb(n);
    int64_t tauHits = 0, rhoHits = 0;
    auto count = [&] {
        for (size_t i = 0; i < n; ++i) {
            pb[i] = b[perm[i]];
            prb[i] = rankB[perm[i]];
        }
        tauHits += atLeastAsExtreme(kendallTauB(a, pb), tau);
        rhoHits += atLeastAsExtreme(pearson(rankA, prb), rho);
    };
    if (int(n) <= exactUpTo) {
        out.exact = true;
        do {
            count();
            ++out.permutations;
        } while (std::next_permutation(perm.begin(), perm.end()));
        out.kendallP = double(tauHits) / double(out.permutations);
        out.spearmanP = double(rhoHits) / double(out.permutations);
        return out;
    }
    if (permutations < 1)
        throw std::invalid_argument("a permutation test needs at least one permutation");
    std::mt19937_64 rng(seed);
    for (int p = 0; p < permutations; ++p) {
        for (size_t i = n - 1; i > 0; --i) // Fisher-Yates
            std::swap(perm[i], perm[size_t(below(rng, i + 1))]);
        count();
    }
    out.permutations = permutations;
    out.kendallP = double(1 + tauHits) / double(1 + permutations);
    out.spearmanP = double(1 + rhoHits) / double(1 + permutations);
    return out;
}

int topKOverlap(const std::vector<double>& predicted, const std::vector<double>& actual, int k) {
    if (predicted.size() != actual.size())
        throw std::invalid_argument("top-k overlap needs two samples of equal length");
    if (k < 1 || size_t(k) > predicted.size())
        throw std::invalid_argument("top-k overlap needs k in 1.." + std::to_string(predicted.size()) + ", got " +
                                    std::to_string(k));
    std::vector<size_t> idx(predicted.size());
    std::iota(idx.begin(), idx.end(), size_t(0));
    std::stable_sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return predicted[x] > predicted[y]; });
    std::vector<double> sorted = actual;
    std::sort(sorted.begin(), sorted.end(), std::greater<double>());
    const double kth = sorted[size_t(k - 1)];
    int hits = 0;
    for (int i = 0; i < k; ++i)
        hits += actual[idx[size_t(i)]] >= kth;
    return hits;
}

Verdict Difference::verdict() const {
    if (!interval.defined())
        return Verdict::NoInterval;
    const bool excludesZero = interval.lo > 0 || interval.hi < 0;
    if (std::isnan(pValue))
        return excludesZero ? Verdict::Distinguishable : Verdict::NotDistinguishable;
    const bool significant = pValue < 1 - confidence;
    if (excludesZero == significant)
        return excludesZero ? Verdict::Distinguishable : Verdict::NotDistinguishable;
    return Verdict::Borderline;
}

Difference differenceOf(const PairedAccuracy& p, double confidence) {
    Difference d;
    d.estimate = p.difference;
    d.interval = p.interval;
    d.confidence = confidence;
    d.pValue = p.pValue;
    d.test = "McNemar";
    d.sample = "n = " + std::to_string(p.n);
    return d;
}

Difference differenceOf(const MeanDifference& m, const std::string& test, const std::string& sample,
                        double confidence) {
    Difference d;
    d.estimate = m.difference;
    d.interval = m.interval;
    d.confidence = confidence;
    d.pValue = m.pValue;
    d.test = test;
    d.sample = sample;
    return d;
}

std::string formatPValue(double p) {
    char buf[32];
    if (std::isnan(p))
        return "p undefined";
    if (p < 0.001)
        return "p < 0.001";
    std::snprintf(buf, sizeof buf, p < 0.01 ? "p = %.3f" : "p = %.2f", p);
    return buf;
}

std::string formatDifference(const Difference& d) {
    const std::string points = signedPoints(d.estimate) + " points";
    if (!d.interval.defined())
        return points + " (" + (d.sample.empty() ? std::string("n=1") : d.sample) + ", no interval)";
    char level[16];
    std::snprintf(level, sizeof level, "%g%%", 100 * d.confidence);
    std::string verdict;
    switch (d.verdict()) {
    case Verdict::Distinguishable:
        verdict = "distinguishable from zero";
        break;
    case Verdict::NotDistinguishable:
        verdict = "not distinguishable from zero";
        break;
    default:
        verdict = "borderline: the interval and the test disagree";
        break;
    }
    std::string test = d.test.empty() ? std::string() : d.test + " ";
    return points + " [" + signedPoints(d.interval.lo) + ", " + signedPoints(d.interval.hi) + "] (" + level + "), " +
           verdict + " (" + test + formatPValue(d.pValue) + (d.sample.empty() ? "" : ", " + d.sample) + ")";
}

std::string formatTop1(const std::vector<double>& values) {
    char buf[64];
    if (values.empty())
        return "-";
    const auto [mean, sd] = meanAndSpread(values);
    if (values.size() == 1)
        std::snprintf(buf, sizeof buf, "%.2f%% (n=1)", mean);
    else
        std::snprintf(buf, sizeof buf, "%.2f ± %.2f%% (sd, n=%zu)", mean, sd, values.size());
    return buf;
}

int64_t imagesForInterval(double halfWidthPoints, double top1Percent, double confidence) {
    if (!(halfWidthPoints > 0 && halfWidthPoints < 50))
        throw std::invalid_argument("an interval half-width is between 0 and 50 points");
    if (!(top1Percent >= 0 && top1Percent <= 100))
        throw std::invalid_argument("a top-1 is between 0 and 100 percent");
    checkConfidence(confidence);
    const double z = normalQuantile(confidence), p = top1Percent / 100, h = halfWidthPoints / 100;
    const auto half = [&](double n) { return z / (1 + z * z / n) * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n)); };
    int64_t lo = 1, hi = 1;
    while (half(double(hi)) > h)
        hi *= 2;
    while (lo < hi) { // the half-width falls as n grows
        const int64_t mid = lo + (hi - lo) / 2;
        if (half(double(mid)) <= h)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

double partialKendallTau(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& c) {
    checkPairs(a, b);
    checkPairs(a, c);
    const double ab = kendallTauB(a, b), ac = kendallTauB(a, c), bc = kendallTauB(b, c);
    const double d = (1 - ac * ac) * (1 - bc * bc);
    if (std::isnan(ab) || std::isnan(ac) || std::isnan(bc) || !(d > 0))
        return std::numeric_limits<double>::quiet_NaN();
    return (ab - ac * bc) / std::sqrt(d);
}

Interval bootstrapPartialTau(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& c,
                             uint64_t seed, int resamples, double confidence) {
    checkPairs(a, b);
    checkPairs(a, c);
    checkConfidence(confidence);
    std::mt19937_64 rng(seed);
    const size_t n = a.size();
    std::vector<double> ra(n), rb(n), rc(n), taus;
    for (int r = 0; r < resamples; ++r) {
        for (size_t i = 0; i < n; ++i) {
            const size_t j = size_t(below(rng, n));
            ra[i] = a[j];
            rb[i] = b[j];
            rc[i] = c[j];
        }
        const double t = partialKendallTau(ra, rb, rc);
        if (!std::isnan(t))
            taus.push_back(t);
    }
    if (taus.empty() || 2 * taus.size() < size_t(resamples))
        return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
    const double alpha = 1 - confidence;
    return {quantile(taus, alpha / 2), quantile(taus, 1 - alpha / 2)};
}

SeedNoise seedNoise(const std::vector<std::vector<double>>& bySeed, uint64_t seed, int simulations) {
    if (bySeed.size() < 3)
        throw std::invalid_argument("seed noise needs at least 3 structures");
    const size_t k = bySeed.front().size();
    if (k < 2)
        throw std::invalid_argument("seed noise needs at least 2 retraining seeds per structure");
    SeedNoise out;
    out.seeds = int(k);
    std::vector<double> means, first, second;
    double within = 0;
    for (const std::vector<double>& v : bySeed) {
        if (v.size() != k)
            throw std::invalid_argument("every structure needs the same retraining seeds");
        const double m = std::accumulate(v.begin(), v.end(), 0.0) / double(k);
        for (double x : v)
            within += (x - m) * (x - m);
        means.push_back(m);
        first.push_back(v[0]);
        second.push_back(v[1]);
    }
    out.spread = std::sqrt(within / double(bySeed.size() * (k - 1)));
    out.seedTau = kendallTauB(first, second);
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise(0.0, out.spread / std::sqrt(double(k)));
    std::vector<double> observed(means.size());
    double sum = 0;
    int counted = 0;
    for (int s = 0; s < simulations; ++s) {
        for (size_t i = 0; i < means.size(); ++i)
            observed[i] = means[i] + noise(rng);
        const double t = kendallTauB(means, observed);
        if (!std::isnan(t)) {
            sum += t;
            ++counted;
        }
    }
    out.ceiling = counted ? sum / counted : std::numeric_limits<double>::quiet_NaN();
    return out;
}

} // namespace mp
