#pragma once
// Accuracy-vs-MACs points of a project and their Pareto front, kept incrementally as candidates
// arrive. Pure logic (no widgets), so the front's rules are tested on hand-made points.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace mpw {

/// One evaluated structure as the plot sees it.
struct PlotPoint {
    int64_t id = 0;
    int64_t runId = 0;
    int64_t macs = 0;   ///< multiply-accumulates per image
    double top1 = 0;    ///< percent
    double loss = 0;
    int64_t params = 0;
    std::string origin; ///< random, mutation, crossover, probe, uniform
    int generation = 0;
    double latencyMs = 0; ///< predicted by the project's latency table (0: none)
    std::vector<int> channels; ///< stored channels per gene (empty for a pending probe)
    int64_t images = 0;        ///< search-split images the top-1 was measured on (0: unknown)
};

class ParetoModel {
public:
    /// Points outside [minMacs, maxMacs] (maxMacs <= 0: unbounded) are kept but never on the front.
    void setBand(int64_t minMacs, int64_t maxMacs);
    /// The front's cost axis: MACs (default) or predicted latency.
    void setLatencyAxis(bool latency);
    bool latencyAxis() const { return latencyAxis_; }
    double cost(const PlotPoint& p) const { return latencyAxis_ ? p.latencyMs : double(p.macs); }
    void clear();

    /// Adds a point; returns true when the searched front changed. Uniform baselines never join
    /// that front (they are the reference it is compared with); they form their own front. A point
    /// joins when no front point has lower-or-equal cost and higher-or-equal top-1; of identical
    /// points the first stays. A point whose id is already present is ignored (a resumed search
    /// reports its stored rows).
    bool add(const PlotPoint& p);
    bool contains(int64_t id) const { return ids_.count(id) > 0; }

    const std::vector<PlotPoint>& points() const { return points_; }
    /// The front of the searched candidates (and probes) by increasing cost (top-1 strictly increasing).
    const std::vector<PlotPoint>& front() const { return front_; }
    /// The front of the uniform width-multiplier baselines, same rules.
    const std::vector<PlotPoint>& uniformFront() const { return uniformFront_; }
    /// The front of everything on the plot (searched and uniform): a uniform network that no
    /// searched one beats at its cost or less is on it. By increasing cost.
    std::vector<PlotPoint> frontOfAll() const;
    /// Counts changes of any of the fronts (the plot redraws when it moved).
    uint64_t frontRevision() const { return revision_; }
    /// The most accurate searched structure (or uniform baseline) costing at most `cost` (MACs
    /// or ms, as cost()): the last front point within it, i.e. of the points within the budget
    /// the highest top-1, ties to the cheaper, then the first added. nullopt when none fits.
    std::optional<PlotPoint> bestWithin(double cost, bool uniform = false) const;
    /// The cost of the costliest searched structure (or probe) within the band: how far the
    /// search looked. nullopt before any. Beyond it, the best searched structure within a budget
    /// stops growing while the uniform ones go on, so no difference is shown there.
    std::optional<double> searchedReach() const { return reach_; }
    /// Searched minus uniform top-1 (points) of bestWithin(cost); nullopt when either is missing
    /// or `cost` lies beyond searchedReach().
    std::optional<double> gainAt(double cost) const;
    std::optional<PlotPoint> find(int64_t id) const;
    /// The most accurate searched candidate of run `runId` with MACs in [minMacs, maxMacs]
    /// (maxMacs <= 0: unbounded); ties to fewer MACs, then the first added. nullopt when none.
    std::optional<PlotPoint> bestOfRun(int64_t runId, int64_t minMacs, int64_t maxMacs) const;
    /// The uniform baseline with the fewest MACs not below `macs` (equal-or-higher MACs).
    std::optional<PlotPoint> uniformAtLeast(int64_t macs) const;

private:
    bool inBand(int64_t macs) const { return macs >= minMacs_ && (maxMacs_ <= 0 || macs <= maxMacs_); }
    void rebuildFront();
    /// Inserts `p` into `front` (sorted by cost) unless dominated; true when it joined.
    bool insertIntoFront(std::vector<PlotPoint>& front, const PlotPoint& p) const;
    std::vector<PlotPoint> points_;
    std::vector<PlotPoint> front_;
    std::vector<PlotPoint> uniformFront_;
    uint64_t revision_ = 0;
    std::unordered_set<int64_t> ids_;
    int64_t minMacs_ = 0;
    int64_t maxMacs_ = 0;
    bool latencyAxis_ = false;
    std::optional<double> reach_;
};

} // namespace mpw
