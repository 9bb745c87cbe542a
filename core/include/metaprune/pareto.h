#pragma once
// Pareto front of accuracy vs cost: a point belongs to the front when no other point has
// lower-or-equal MACs and higher-or-equal top-1 with at least one strictly better.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mp {

struct ParetoPoint {
    int64_t macs = 0;
    double top1 = 0; ///< percent
};

/// Indices of the front, sorted by MACs ascending (top-1 then strictly increases). Of several
/// identical points the first one is kept. Points outside [minMacs, maxMacs] are ignored
/// (maxMacs <= 0: no upper bound).
std::vector<size_t> paretoFront(const std::vector<ParetoPoint>& points, int64_t minMacs = 0, int64_t maxMacs = 0);

/// Top-1 of the uniform baseline curve at `macs`, linearly interpolated between the two
/// uniform points around it (points need not be sorted). Returns false when `macs` lies
/// outside the curve's MACs range.
bool interpolateTop1(const std::vector<ParetoPoint>& uniform, int64_t macs, double* top1);

} // namespace mp
