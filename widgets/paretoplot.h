#pragma once
// The accuracy-vs-MACs scatter: every evaluated candidate as a point (coloured by origin or by
// generation), the uniform width-multiplier baselines as a second series, and the Pareto front
// as a step line. Points are added one by one as they arrive; clicking a point selects it.

#include "paretomodel.h"

#include <QWidget>

#include <map>

class QCustomPlot;
class QCPGraph;
class QMouseEvent;

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

    const ParetoModel& model() const { return model_; }
    QCustomPlot* plotWidget() const { return plot_; }
    /// Pixel position of a point in plotWidget() coordinates (for tests and tooltips).
    QPointF pixelOf(const PlotPoint& p) const;
    /// The point nearest to `pos` (plotWidget() coordinates) within `radius` pixels.
    std::optional<PlotPoint> pointAt(const QPointF& pos, double radius = 8) const;

signals:
    void candidateClicked(qint64 id);

private:
    void onMousePress(QMouseEvent* e);
    void onMouseMove(QMouseEvent* e);
    QCPGraph* graphFor(const PlotPoint& p);
    void redrawFront();
    void redrawMarkers();
    void rebuild();
    void rescale(const PlotPoint& p);
    double xOf(const PlotPoint& p) const;

    QCustomPlot* plot_ = nullptr;
    ParetoModel model_;
    ColorMode mode_ = ColorMode::Origin;
    std::map<std::string, QCPGraph*> byOrigin_;
    std::map<int, QCPGraph*> byGeneration_;
    QCPGraph* uniform_ = nullptr;
    QCPGraph* front_ = nullptr;
    QCPGraph* selected_ = nullptr;
    QCPGraph* compared_ = nullptr;
    QCPGraph* pending_ = nullptr;
    int64_t selectedId_ = 0;
    int64_t comparedId_ = 0;
    bool haveRange_ = false;
};

} // namespace mpw
