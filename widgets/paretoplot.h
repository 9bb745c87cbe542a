#pragma once
// The accuracy-vs-MACs scatter: every evaluated candidate as a point (coloured by origin or by
// generation), the uniform width-multiplier baselines as a second series, the Pareto front of
// everything shown as a step line (its searched and its uniform parts in two colours), and the
// gain band: the area between the best uniform and the best searched top-1 within each budget,
// green where the search is ahead, red where the uniform network is, with the gain at the
// cursor's budget. Points are added one by one as they arrive; clicking a point selects it.

#include "paretomodel.h"

#include <QWidget>

#include <map>
#include <optional>

class QCustomPlot;
class QCPErrorBars;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QMouseEvent;
class QResizeEvent;

namespace mpw {

class ParetoPlot : public QWidget {
    Q_OBJECT
public:
    enum class ColorMode { Origin, Generation };

    explicit ParetoPlot(QWidget* parent = nullptr);

    void clear();
    /// Adds one point (queued replot: thousands of adds cost one repaint per frame).
    void addPoint(const PlotPoint& p);
    void setColorMode(ColorMode mode);
    /// x axis: MACs (default) or the latency table's prediction (ms).
    void setLatencyAxis(bool latency);
    ColorMode colorMode() const { return mode_; }
    /// Rings the selected and the compared candidate (0 = none).
    void setSelected(int64_t id);
    void setCompared(int64_t id);
    /// A temporary point for a probe whose refined result is not in yet (nullopt hides it).
    void setPending(std::optional<PlotPoint> p);
    /// The trained model a PruningNet started from: its test-set top-1 as a dashed reference
    /// line across the plot and, on the MACs axis, a star at its MACs (nullopt: none).
    struct Reference {
        int64_t macs = 0;
        double top1 = 0;
    };
    void setOriginalModel(std::optional<Reference> original);
    /// The reference's line and point (tests).
    QCPGraph* originalLineGraph() const { return originalLine_; }
    QCPGraph* originalPointGraph() const { return originalPoint_; }

    const ParetoModel& model() const { return model_; }
    QCustomPlot* plotWidget() const { return plot_; }
    /// Pixel position of a point in plotWidget() coordinates (for tests and tooltips).
    QPointF pixelOf(const PlotPoint& p) const;
    /// The point nearest to `pos` (plotWidget() coordinates) within `radius` pixels.
    std::optional<PlotPoint> pointAt(const QPointF& pos, double radius = 8) const;
    /// Puts the budget cursor at `cost` (MACs or ms, as the model's cost) with the gain there.
    void setCursorBudget(double cost);
    /// The cursor's text ("at 2.10 M MACs: searched 86.05%, uniform 83.50%: +2.55 points"), empty when hidden.
    QString cursorText() const;
    /// Error bars on every point: its top-1's 95% Wilson interval over the images it was
    /// measured on (PlotPoint::images; none for a point without a count).
    void setErrorBars(bool on);
    bool errorBars() const { return errorBarsOn_; }
    /// The bars drawn for a point's graph (tests), nullptr when off.
    QCPErrorBars* errorBarsOf(const QCPGraph* graph) const;
    /// The scatter graph that draws `p`.
    QCPGraph* graphOf(const PlotPoint& p) { return graphFor(p); }
    /// The drawn front of everything: the searched and the uniform parts (NaN separates pieces).
    QCPGraph* searchedFrontGraph() const { return front_; }
    QCPGraph* uniformFrontGraph() const { return uniformFront_; }
    /// The gain band's upper edge where the search is ahead (keys in the x axis's unit).
    QCPGraph* gainAheadGraph() const { return bandAhead_; }

signals:
    void candidateClicked(qint64 id);

protected:
    void resizeEvent(QResizeEvent* e) override;

private:
    void onMousePress(QMouseEvent* e);
    void onMouseMove(QMouseEvent* e);
    /// Shows the legend in its row under the axis rect, or hides it and gives its row back.
    void placeLegend(bool show);
    QCPGraph* graphFor(const PlotPoint& p);
    void redrawFront();
    void redrawMarkers();
    void rebuild();
    void rescale(const PlotPoint& p);
    double xOf(const PlotPoint& p) const;
    /// Recomputes every graph's error bars (before a replot, when points changed).
    void redrawErrorBars();

    QCustomPlot* plot_ = nullptr;
    ParetoModel model_;
    ColorMode mode_ = ColorMode::Origin;
    std::map<std::string, QCPGraph*> byOrigin_;
    std::map<int, QCPGraph*> byGeneration_;
    QCPGraph* uniform_ = nullptr;
    QCPGraph* front_ = nullptr;
    QCPGraph* uniformFront_ = nullptr;
    QCPGraph* bandBase_ = nullptr;
    QCPGraph* bandAhead_ = nullptr;
    QCPGraph* bandBehind_ = nullptr;
    QCPItemStraightLine* cursor_ = nullptr;
    QCPItemText* cursorLabel_ = nullptr;
    uint64_t drawnRevision_ = ~uint64_t(0);
    double lastX_ = 0;      ///< the costliest point's x: the front's last step ends there
    double cursorCost_ = 0;
    QCPGraph* selected_ = nullptr;
    QCPGraph* compared_ = nullptr;
    QCPGraph* pending_ = nullptr;
    QCPGraph* originalLine_ = nullptr;
    QCPGraph* originalPoint_ = nullptr;
    std::optional<Reference> original_;
    int64_t selectedId_ = 0;
    int64_t comparedId_ = 0;
    bool haveRange_ = false;
    bool errorBarsOn_ = false;
    bool errorBarsDirty_ = false;
    std::vector<QCPErrorBars*> errorBars_;
};

} // namespace mpw
