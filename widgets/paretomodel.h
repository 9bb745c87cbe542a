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

    /// Adds a point; returns true when the front changed. Uniform baselines never join the
    /// front (they are the reference it is compared with). A point joins when no front point
    /// has lower-or-equal MACs and higher-or-equal top-1; of identical points the first stays.
    /// A point whose id is already present is ignored (a resumed search reports its stored rows).
    bool add(const PlotPoint& p);
    bool contains(int64_t id) const { return ids_.count(id) > 0; }

    const std::vector<PlotPoint>& points() const { return points_; }
    /// The front by increasing MACs (top-1 strictly increasing).
    const std::vector<PlotPoint>& front() const { return front_; }
    std::optional<PlotPoint> find(int64_t id) const;
    /// The uniform baseline with the fewest MACs not below `macs` (equal-or-higher MACs).
    std::optional<PlotPoint> uniformAtLeast(int64_t macs) const;

private:
    bool inBand(int64_t macs) const { return macs >= minMacs_ && (maxMacs_ <= 0 || macs <= maxMacs_); }
    void rebuildFront();
    std::vector<PlotPoint> points_;
    std::vector<PlotPoint> front_;
    std::unordered_set<int64_t> ids_;
    int64_t minMacs_ = 0;
    int64_t maxMacs_ = 0;
    bool latencyAxis_ = false;
};

} // namespace mpw
