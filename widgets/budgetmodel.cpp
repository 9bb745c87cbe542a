#include "budgetmodel.h"

#include <algorithm>
#include <cmath>

namespace mpw {

std::vector<BarLayer> barLayers(const mp::ArchSpec& arch) {
    std::vector<BarLayer> out;
    const std::vector<mp::ValueShape> values = mp::analyzeArchitecture(arch);
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const mp::Op& op = arch.ops[i];
        if (op.kind != mp::OpKind::Conv && op.kind != mp::OpKind::Linear) continue;
        const std::vector<mp::Width>& w = values[i + 1].segments;
        if (w.size() == 1 && w[0].gene >= 0)
            out.push_back({int(i), w[0].gene, op.name, arch.genes[size_t(w[0].gene)].maxChannels});
    }
    return out;
}

void BudgetModel::setPoints(const std::vector<PlotPoint>& points, bool latencyAxis, int64_t runId) {
    model_.clear();
    model_.setLatencyAxis(latencyAxis);
    bool runHasUniform = false;
    for (const PlotPoint& p : points)
        runHasUniform = runHasUniform || (p.origin == "uniform" && p.runId == runId);
    for (const PlotPoint& p : points) {
        const bool uniform = p.origin == "uniform";
        if (runId != 0 && p.runId != runId && (!uniform || runHasUniform)) continue;
        if (model_.cost(p) <= 0 || p.channels.empty()) continue;
        model_.add(p);
    }
    min_ = max_ = 0;
    if (model_.front().empty()) return;
    min_ = max_ = model_.cost(model_.front().front());
    for (const PlotPoint& p : model_.points())
        max_ = std::max(max_, model_.cost(p));
}

double BudgetModel::budgetAt(int pos) const {
    pos = std::clamp(pos, 0, kSteps);
    if (pos == kSteps) return max_; // exactly: the costliest point is within the full budget
    return min_ + (max_ - min_) * double(pos) / kSteps;
}

int BudgetModel::positionOf(double budget) const {
    if (max_ <= min_) return kSteps;
    return std::clamp(int(std::lround((budget - min_) / (max_ - min_) * kSteps)), 0, kSteps);
}

double BudgetModel::keptFraction(const PlotPoint& p, int layer) const {
    const BarLayer& l = layers_.at(size_t(layer));
    if (size_t(l.gene) >= p.channels.size() || l.maxChannels <= 0) return -1;
    return double(p.channels[size_t(l.gene)]) / double(l.maxChannels);
}

std::vector<std::vector<double>> BudgetModel::heatMap() const {
    std::vector<std::vector<double>> out(size_t(kSteps + 1),
                                         std::vector<double>(layers_.size(), -1.0));
    if (empty()) return out;
    for (int c = 0; c <= kSteps; ++c)
        if (const std::optional<PlotPoint> p = bestWithin(budgetAt(c)))
            for (size_t l = 0; l < layers_.size(); ++l)
                out[size_t(c)][l] = keptFraction(*p, int(l));
    return out;
}

} // namespace mpw
