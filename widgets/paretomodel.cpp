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
    uniformFront_.clear();
    ++revision_;
    ids_.clear();
    reach_.reset();
}

bool ParetoModel::add(const PlotPoint& p) {
    if (!ids_.insert(p.id).second)
        return false;
    points_.push_back(p);
    if (p.origin == "uniform") {
        revision_ += insertIntoFront(uniformFront_, p);
        return false;
    }
    if (!inBand(p.macs))
        return false;
    reach_ = std::max(reach_.value_or(cost(p)), cost(p));
    if (!insertIntoFront(front_, p))
        return false;
    ++revision_;
    return true;
}

bool ParetoModel::insertIntoFront(std::vector<PlotPoint>& front, const PlotPoint& p) const {
    // Dominated (or equalled) by a front point with lower-or-equal cost?
    const double c = cost(p);
    for (const PlotPoint& f : front) {
        if (cost(f) > c)
            break;
        if (f.top1 >= p.top1)
            return false;
    }
    // Remove front points the new one dominates, then insert it in cost order.
    front.erase(std::remove_if(front.begin(), front.end(),
                               [&](const PlotPoint& f) { return cost(f) >= c && f.top1 <= p.top1; }),
                front.end());
    const auto at = std::lower_bound(front.begin(), front.end(), p,
                                     [this](const PlotPoint& a, const PlotPoint& b) { return cost(a) < cost(b); });
    front.insert(at, p);
    return true;
}

std::vector<PlotPoint> ParetoModel::frontOfAll() const {
    // Merge by cost (searched first at equal cost, as they were added to the plot first in a
    // run), keeping each point that beats every cheaper-or-equal one.
    std::vector<PlotPoint> merged = front_;
    merged.insert(merged.end(), uniformFront_.begin(), uniformFront_.end());
    std::stable_sort(merged.begin(), merged.end(),
                     [this](const PlotPoint& a, const PlotPoint& b) { return cost(a) < cost(b); });
    std::vector<PlotPoint> out;
    for (const PlotPoint& p : merged)
        insertIntoFront(out, p);
    return out;
}

std::optional<PlotPoint> ParetoModel::bestWithin(double budget, bool uniform) const {
    const std::vector<PlotPoint>& front = uniform ? uniformFront_ : front_;
    // Top-1 rises along the front, so the best within the budget is the last one that fits.
    const auto end = std::upper_bound(front.begin(), front.end(), budget,
                                      [this](double b, const PlotPoint& p) { return b < cost(p); });
    if (end == front.begin())
        return std::nullopt;
    return *(end - 1);
}

std::optional<double> ParetoModel::gainAt(double budget) const {
    const std::optional<PlotPoint> s = bestWithin(budget, false), u = bestWithin(budget, true);
    if (!s || !u || budget > *reach_)
        return std::nullopt;
    return s->top1 - u->top1;
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

std::optional<PlotPoint> ParetoModel::bestOfRun(int64_t runId, int64_t minMacs, int64_t maxMacs) const {
    std::optional<PlotPoint> best;
    for (const PlotPoint& p : points_) {
        if (p.runId != runId || p.origin == "uniform" || p.macs < minMacs || (maxMacs > 0 && p.macs > maxMacs))
            continue;
        if (!best || p.top1 > best->top1 || (p.top1 == best->top1 && p.macs < best->macs))
            best = p;
    }
    return best;
}

std::optional<PlotPoint> ParetoModel::uniformAtLeast(int64_t macs) const {
    std::optional<PlotPoint> best;
    for (const PlotPoint& p : points_)
        if (p.origin == "uniform" && p.macs >= macs && (!best || p.macs < best->macs))
            best = p;
    return best;
}

} // namespace mpw
