#include "paretomodel.h"

#include <algorithm>

namespace mpw {

void ParetoModel::setBand(int64_t minMacs, int64_t maxMacs) {
    minMacs_ = minMacs;
    maxMacs_ = maxMacs;
    rebuildFront();
}

void ParetoModel::setLatencyAxis(bool latency) {
    latencyAxis_ = latency;
    rebuildFront();
}

void ParetoModel::clear() {
    points_.clear();
    front_.clear();
    ids_.clear();
}

bool ParetoModel::add(const PlotPoint& p) {
    if (!ids_.insert(p.id).second)
        return false;
    points_.push_back(p);
    if (p.origin == "uniform" || !inBand(p.macs))
        return false;
    // Dominated (or equalled) by a front point with lower-or-equal cost?
    const double c = cost(p);
    for (const PlotPoint& f : front_) {
        if (cost(f) > c)
            break;
        if (f.top1 >= p.top1)
            return false;
    }
    // Remove front points the new one dominates, then insert it in cost order.
    front_.erase(std::remove_if(front_.begin(), front_.end(),
                                [&](const PlotPoint& f) { return cost(f) >= c && f.top1 <= p.top1; }),
                 front_.end());
    const auto at = std::lower_bound(front_.begin(), front_.end(), p,
                                     [this](const PlotPoint& a, const PlotPoint& b) { return cost(a) < cost(b); });
    front_.insert(at, p);
    return true;
}

void ParetoModel::rebuildFront() {
    const std::vector<PlotPoint> all = points_;
    clear();
    for (const PlotPoint& p : all)
        add(p);
}

std::optional<PlotPoint> ParetoModel::find(int64_t id) const {
    for (const PlotPoint& p : points_)
        if (p.id == id)
            return p;
    return std::nullopt;
}

std::optional<PlotPoint> ParetoModel::uniformAtLeast(int64_t macs) const {
    std::optional<PlotPoint> best;
    for (const PlotPoint& p : points_)
        if (p.origin == "uniform" && p.macs >= macs && (!best || p.macs < best->macs))
            best = p;
    return best;
}

} // namespace mpw
