#pragma once
// The budget view's logic, without widgets: for a budget (MACs or predicted latency, the plot's
// x axis) the best stored structure within it, the uniform baseline within it, and the
// widths-vs-budget heat map. Built only from stored, sound candidates (the plot's points);
// nothing is evaluated.

#include "paretomodel.h"

#include "metaprune/architecture.h"

#include <string>
#include <vector>

namespace mpw {

/// One bar of the width views: a conv or linear layer whose output width one gene sets (a
/// depthwise or grouped conv follows its input's gene). Same list as the width editor's.
struct BarLayer {
    int op = 0;          ///< index in ArchSpec::ops
    int gene = 0;        ///< index in ArchSpec::genes
    std::string name;    ///< the op's name ("block3.expand")
    int maxChannels = 0; ///< the gene's width at scale 1.0
};

/// The bars of `arch`, in op order.
std::vector<BarLayer> barLayers(const mp::ArchSpec& arch);

class BudgetModel {
public:
    /// Slider positions 0..kSteps; heat map column i is the budget of position i.
    static constexpr int kSteps = 200;

    /// Rebuilds from the plot's points: the searched front of run `runId` (0: every run shown)
    /// and the uniform baselines (of that run, or of every run when it has none), along MACs or
    /// predicted latency. Points without a cost on that axis (latency 0) are left out.
    void setPoints(const std::vector<PlotPoint>& points, bool latencyAxis, int64_t runId);
    void setLayers(std::vector<BarLayer> layers) { layers_ = std::move(layers); }

    const ParetoModel& fronts() const { return model_; }
    const std::vector<BarLayer>& layers() const { return layers_; }
    bool latencyAxis() const { return model_.latencyAxis(); }
    bool empty() const { return model_.front().empty(); }
    double cost(const PlotPoint& p) const { return model_.cost(p); }

    /// The slider's range: from the cheapest searched structure to the costliest stored point
    /// (searched or uniform), in MACs or ms.
    double minBudget() const { return min_; }
    double maxBudget() const { return max_; }
    /// Budget of slider position `pos` (0..kSteps, linear in cost) and the nearest position of a
    /// budget.
    double budgetAt(int pos) const;
    int positionOf(double budget) const;

    /// The best searched structure within `budget` (ParetoModel::bestWithin) and the uniform
    /// baseline within it.
    std::optional<PlotPoint> bestWithin(double budget) const {
        return model_.bestWithin(budget, false);
    }
    std::optional<PlotPoint> uniformWithin(double budget) const {
        return model_.bestWithin(budget, true);
    }

    /// Fraction (0..1) of bar `layer`'s channels kept by `p` (its stored channels).
    double keptFraction(const PlotPoint& p, int layer) const;
    /// The heat map: value[column][layer] = keptFraction(bestWithin(budgetAt(column)), layer),
    /// -1 where no structure fits the column's budget. kSteps + 1 columns.
    std::vector<std::vector<double>> heatMap() const;

private:
    ParetoModel model_;
    std::vector<BarLayer> layers_;
    double min_ = 0, max_ = 0;
};

} // namespace mpw
