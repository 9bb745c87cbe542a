#include "paretoplot.h"

#include <qcustomplot.h>

#include <QToolTip>
#include <QVBoxLayout>

#include <cmath>

namespace mpw {

namespace {
constexpr double kMega = 1e6;

QColor originColor(const std::string& origin) {
    if (origin == "mutation")
        return QColor(230, 126, 34);
    if (origin == "crossover")
        return QColor(39, 174, 96);
    if (origin == "probe")
        return QColor(192, 57, 180);
    return QColor(52, 101, 164); // random
}

QCPGraph* scatterGraph(QCustomPlot* plot, const QColor& color, QCPScatterStyle::ScatterShape shape, double size) {
    QCPGraph* g = plot->addGraph();
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(shape, color, color.lighter(130), size));
    g->setPen(QPen(color));
    return g;
}
} // namespace

ParetoPlot::ParetoPlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->xAxis->setLabel(tr("MACs per image (millions; conv + linear multiply-accumulates)"));
    plot_->yAxis->setLabel(tr("top-1 on the search split (%)"));
    plot_->legend->setVisible(true);
    plot_->legend->setFont(QFont(font().family(), 8));
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    plot_->setMouseTracking(true);
    connect(plot_, &QCustomPlot::mousePress, this, &ParetoPlot::onMousePress);
    connect(plot_, &QCustomPlot::mouseMove, this, &ParetoPlot::onMouseMove);
    rebuild();
}

double ParetoPlot::xOf(const PlotPoint& p) const {
    return model_.latencyAxis() ? p.latencyMs : double(p.macs) / kMega;
}

void ParetoPlot::setLatencyAxis(bool latency) {
    if (latency == model_.latencyAxis())
        return;
    model_.setLatencyAxis(latency);
    plot_->xAxis->setLabel(latency ? tr("predicted latency per forward pass (ms, this machine's latency table)")
                                   : tr("MACs per image (millions; conv + linear multiply-accumulates)"));
    haveRange_ = false;
    rebuild();
    for (const PlotPoint& p : model_.points())
        rescale(p);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::rebuild() {
    plot_->clearGraphs();
    byOrigin_.clear();
    byGeneration_.clear();
    front_ = plot_->addGraph();
    front_->setName(tr("Pareto front"));
    front_->setLineStyle(QCPGraph::lsStepLeft);
    front_->setPen(QPen(QColor(200, 30, 30), 2));
    uniform_ = scatterGraph(plot_, Qt::black, QCPScatterStyle::ssDiamond, 7);
    uniform_->setName(tr("uniform width multiplier"));
    uniform_->setLineStyle(QCPGraph::lsLine);
    uniform_->setPen(QPen(Qt::black, 1, Qt::DashLine));
    selected_ = scatterGraph(plot_, QColor(200, 30, 30), QCPScatterStyle::ssCircle, 16);
    selected_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(200, 30, 30), 2.5), Qt::NoBrush, 16));
    selected_->setName(tr("selected"));
    compared_ = scatterGraph(plot_, QColor(30, 120, 200), QCPScatterStyle::ssCircle, 16);
    compared_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(30, 120, 200), 2.5), Qt::NoBrush, 16));
    compared_->setName(tr("compared"));
    pending_ = scatterGraph(plot_, originColor("probe"), QCPScatterStyle::ssCross, 12);
    pending_->setName(tr("probe (refining)"));
    for (const PlotPoint& p : model_.points())
        graphFor(p)->addData(xOf(p), p.top1);
    redrawFront();
    redrawMarkers();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::clear() {
    model_.clear();
    haveRange_ = false;
    selectedId_ = comparedId_ = 0;
    rebuild();
}

QCPGraph* ParetoPlot::graphFor(const PlotPoint& p) {
    if (p.origin == "uniform")
        return uniform_;
    if (mode_ == ColorMode::Origin || p.origin == "probe") {
        auto it = byOrigin_.find(p.origin);
        if (it != byOrigin_.end())
            return it->second;
        QCPGraph* g = scatterGraph(plot_, originColor(p.origin), QCPScatterStyle::ssDisc, 5);
        g->setName(QString::fromStdString(p.origin));
        return byOrigin_[p.origin] = g;
    }
    auto it = byGeneration_.find(p.generation);
    if (it != byGeneration_.end())
        return it->second;
    QCPColorGradient gradient(QCPColorGradient::gpSpectrum);
    const QColor c = QColor::fromRgb(gradient.color(std::min(p.generation, 20), QCPRange(0, 20)));
    QCPGraph* g = scatterGraph(plot_, c, QCPScatterStyle::ssDisc, 5);
    g->setName(tr("generation %1").arg(p.generation));
    return byGeneration_[p.generation] = g;
}

void ParetoPlot::addPoint(const PlotPoint& p) {
    if (model_.contains(p.id))
        return;
    const bool frontChanged = model_.add(p);
    // Graph data stay sorted by x, so the baseline curve is drawn as a line in cost order.
    graphFor(p)->addData(xOf(p), p.top1);
    if (frontChanged)
        redrawFront();
    if (p.id == selectedId_ || p.id == comparedId_)
        redrawMarkers();
    rescale(p);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::rescale(const PlotPoint& p) {
    const double x = xOf(p);
    if (!haveRange_) {
        plot_->xAxis->setRange(0, x * 1.1 + 1e-3);
        plot_->yAxis->setRange(p.top1 - 5, p.top1 + 5);
        haveRange_ = true;
        return;
    }
    const QCPRange xr = plot_->xAxis->range(), yr = plot_->yAxis->range();
    if (x > xr.upper)
        plot_->xAxis->setRange(0, x * 1.1);
    if (p.top1 < yr.lower || p.top1 > yr.upper)
        plot_->yAxis->setRange(std::max(0.0, std::min(yr.lower, p.top1 - 2)), std::min(100.0, std::max(yr.upper, p.top1 + 2)));
}

void ParetoPlot::redrawFront() {
    QVector<double> x, y;
    for (const PlotPoint& p : model_.front()) {
        x.push_back(xOf(p));
        y.push_back(p.top1);
    }
    front_->setData(x, y, true);
}

void ParetoPlot::redrawMarkers() {
    auto place = [this](QCPGraph* g, int64_t id) {
        g->data()->clear();
        if (const auto p = model_.find(id))
            g->addData(xOf(*p), p->top1);
    };
    place(selected_, selectedId_);
    place(compared_, comparedId_);
}

void ParetoPlot::setColorMode(ColorMode mode) {
    if (mode == mode_)
        return;
    mode_ = mode;
    rebuild();
}

void ParetoPlot::setSelected(int64_t id) {
    selectedId_ = id;
    redrawMarkers();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::setCompared(int64_t id) {
    comparedId_ = id;
    redrawMarkers();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::setPending(std::optional<PlotPoint> p) {
    pending_->data()->clear();
    if (p) {
        pending_->addData(xOf(*p), p->top1);
        rescale(*p);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

QPointF ParetoPlot::pixelOf(const PlotPoint& p) const {
    return {plot_->xAxis->coordToPixel(xOf(p)), plot_->yAxis->coordToPixel(p.top1)};
}

std::optional<PlotPoint> ParetoPlot::pointAt(const QPointF& pos, double radius) const {
    std::optional<PlotPoint> best;
    double bestD = radius * radius;
    for (const PlotPoint& p : model_.points()) {
        const QPointF q = pixelOf(p);
        const double d = (q.x() - pos.x()) * (q.x() - pos.x()) + (q.y() - pos.y()) * (q.y() - pos.y());
        if (d <= bestD) {
            bestD = d;
            best = p;
        }
    }
    return best;
}

void ParetoPlot::onMousePress(QMouseEvent* e) {
    if (e->button() != Qt::LeftButton)
        return;
    if (const auto p = pointAt(e->position()))
        emit candidateClicked(p->id);
}

void ParetoPlot::onMouseMove(QMouseEvent* e) {
    const auto p = pointAt(e->position());
    if (!p) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(e->globalPosition().toPoint(),
                       tr("%1 (run %2, generation %3)\ntop-1 %4%\n%5 M MACs\n%6 params\n%7 ms predicted")
                           .arg(QString::fromStdString(p->origin))
                           .arg(p->runId)
                           .arg(p->generation)
                           .arg(p->top1, 0, 'f', 2)
                           .arg(double(p->macs) / kMega, 0, 'f', 3)
                           .arg(p->params)
                           .arg(p->latencyMs, 0, 'f', 3),
                       plot_);
}

} // namespace mpw
