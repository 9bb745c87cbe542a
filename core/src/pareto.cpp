#include "metaprune/pareto.h"

#include <algorithm>
#include <numeric>

namespace mp {

std::vector<size_t> paretoFront(const std::vector<ParetoPoint>& points, int64_t minMacs, int64_t maxMacs) {
    std::vector<size_t> order;
    for (size_t i = 0; i < points.size(); ++i)
        if (points[i].macs >= minMacs && (maxMacs <= 0 || points[i].macs <= maxMacs))
            order.push_back(i);
    // Cheapest first; among equal MACs the most accurate first; then the earliest.
    std::stable_sort(order.begin(), order.end(), [&points](size_t a, size_t b) {
        if (points[a].macs != points[b].macs)
            return points[a].macs < points[b].macs;
        return points[a].top1 > points[b].top1;
    });
    std::vector<size_t> front;
    for (size_t i : order)
        if (front.empty() || points[i].top1 > points[front.back()].top1)
            front.push_back(i);
    return front;
}

bool interpolateTop1(const std::vector<ParetoPoint>& uniform, int64_t macs, double* top1) {
    std::vector<ParetoPoint> u = uniform;
    std::sort(u.begin(), u.end(), [](const ParetoPoint& a, const ParetoPoint& b) { return a.macs < b.macs; });
    for (size_t i = 0; i < u.size(); ++i) {
        if (u[i].macs == macs) {
            *top1 = u[i].top1;
            return true;
        }
        if (i + 1 < u.size() && u[i].macs < macs && macs < u[i + 1].macs) {
            const double t = double(macs - u[i].macs) / double(u[i + 1].macs - u[i].macs);
            *top1 = u[i].top1 + t * (u[i + 1].top1 - u[i].top1);
            return true;
        }
    }
    return false;
}

} // namespace mp
