#include "paretoplot.h"

#include "metaprune/stats.h"

#include <qcustomplot.h>

#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
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

/// The 95% Wilson interval of a top-1 (percent) measured on `images` images; undefined when
/// the count is unknown (0).
mp::Interval top1Interval(double top1, int64_t images) {
    if (images <= 0)
        return {};
    return mp::wilsonInterval(std::clamp<int64_t>(std::llround(top1 * double(images) / 100.0), 0, images), images);
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
    plot_->xAxis->setLabel(tr("MACs per image (millions, conv + linear)"));
    plot_->yAxis->setLabel(tr("top-1 on the search split (%)"));
    // The legend in a row of its own under the plot, four entries a row: inside the axis rect
    // it covered a third of the points.
    plot_->legend->setVisible(true);
    plot_->legend->setFont(QFont(font().family(), 8));
    plot_->legend->setIconSize(20, 14);
    plot_->legend->setWrap(1); // one entry a row until resizeEvent() knows the width
    plot_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    plot_->legend->setRowSpacing(0);
    plot_->legend->setColumnSpacing(6);
    plot_->axisRect()->insetLayout()->take(plot_->legend);
    placeLegend(true);
    plot_->setMouseTracking(true);
    // Items outlive rebuild()'s clearGraphs().
    cursor_ = new QCPItemStraightLine(plot_);
    cursor_->setPen(QPen(QColor(30, 160, 230), 1, Qt::DashLine));
    cursor_->setVisible(false);
    cursorLabel_ = new QCPItemText(plot_);
    // The readout sits in the top-left corner, which a Pareto plot leaves empty (nothing is
    // both cheap and the most accurate), so that it is never cut at the plot's edges.
    cursorLabel_->position->setType(QCPItemPosition::ptAxisRectRatio);
    cursorLabel_->position->setCoords(0.02, 0.02);
    cursorLabel_->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
    cursorLabel_->setTextAlignment(Qt::AlignLeft);
    cursorLabel_->setBrush(QColor(255, 255, 255, 220));
    cursorLabel_->setPen(QPen(QColor(30, 160, 230)));
    cursorLabel_->setPadding(QMargins(4, 2, 4, 2));
    cursorLabel_->setClipToAxisRect(true);
    cursorLabel_->setVisible(false);
    cursorLabel_->setLayer("legend"); // above the points, which would hide its text
    connect(plot_, &QCustomPlot::beforeReplot, this, [this] {
        if (errorBarsDirty_)
            redrawErrorBars();
    });
    connect(plot_, &QCustomPlot::mousePress, this, &ParetoPlot::onMousePress);
    connect(plot_, &QCustomPlot::mouseMove, this, &ParetoPlot::onMouseMove);
    rebuild();
}

void ParetoPlot::resizeEvent(QResizeEvent* e) {
    QWidget::resizeEvent(e);
    // Up to four legend entries a row, as many as the plot's width holds, so the legend never
    // makes the plot (and the window) wider than the screen.
    const int columns = std::clamp(width() / 135, 1, 4);
    // A plot squeezed to one column's width cannot spare the legend's height (11 rows).
    const bool show = width() >= 2 * 135;
    if (show != plot_->legend->visible()) {
        placeLegend(show);
        plot_->replot(QCustomPlot::rpQueuedReplot);
    }
    if (columns != plot_->legend->wrap()) {
        plot_->legend->setWrap(columns);
        plot_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);
        plot_->replot(QCustomPlot::rpQueuedReplot);
    }
}

void ParetoPlot::placeLegend(bool show) {
    plot_->legend->setVisible(show);
    if (show) {
        plot_->plotLayout()->addElement(1, 0, plot_->legend);
        plot_->plotLayout()->setRowStretchFactor(1, 0.001);
    } else {
        plot_->plotLayout()->take(plot_->legend); // an invisible element keeps its row's height
        plot_->plotLayout()->simplify();
    }
}

double ParetoPlot::xOf(const PlotPoint& p) const {
    return model_.latencyAxis() ? p.latencyMs : double(p.macs) / kMega;
}

void ParetoPlot::setLatencyAxis(bool latency) {
    if (latency == model_.latencyAxis())
        return;
    model_.setLatencyAxis(latency);
    plot_->xAxis->setLabel(latency ? tr("predicted latency per image (ms, latency table)")
                                   : tr("MACs per image (millions, conv + linear)"));
    haveRange_ = false;
    rebuild();
    for (const PlotPoint& p : model_.points())
        rescale(p);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::rebuild() {
    for (QCPErrorBars* b : errorBars_)
        plot_->removePlottable(b);
    errorBars_.clear();
    errorBarsDirty_ = errorBarsOn_;
    plot_->clearGraphs();
    byOrigin_.clear();
    byGeneration_.clear();
    // The gain band first, so that points and fronts are drawn over it.
    bandBase_ = plot_->addGraph();
    bandBase_->setLineStyle(QCPGraph::lsStepLeft);
    bandBase_->setPen(Qt::NoPen);
    bandBase_->removeFromLegend();
    bandAhead_ = plot_->addGraph();
    bandAhead_->setName(tr("gain: search ahead"));
    bandAhead_->setLineStyle(QCPGraph::lsStepLeft);
    bandAhead_->setPen(Qt::NoPen);
    bandAhead_->setBrush(QColor(39, 174, 96, 60));
    bandAhead_->setChannelFillGraph(bandBase_);
    bandBehind_ = plot_->addGraph();
    bandBehind_->setName(tr("gain: uniform ahead"));
    bandBehind_->setLineStyle(QCPGraph::lsStepLeft);
    bandBehind_->setPen(Qt::NoPen);
    bandBehind_->setBrush(QColor(200, 30, 30, 45));
    bandBehind_->setChannelFillGraph(bandBase_);
    front_ = plot_->addGraph();
    front_->setName(tr("front: searched"));
    front_->setLineStyle(QCPGraph::lsLine);
    front_->setPen(QPen(QColor(200, 30, 30), 2));
    uniformFront_ = plot_->addGraph();
    uniformFront_->setName(tr("front: uniform"));
    uniformFront_->setLineStyle(QCPGraph::lsLine);
    uniformFront_->setPen(QPen(QColor(90, 90, 90), 3));
    uniform_ = scatterGraph(plot_, Qt::black, QCPScatterStyle::ssDiamond, 7);
    uniform_->setName(tr("uniform networks"));
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
    originalLine_ = plot_->addGraph();
    originalLine_->setPen(QPen(QColor(120, 60, 160), 1.5, Qt::DashLine));
    originalLine_->removeFromLegend();
    originalPoint_ = scatterGraph(plot_, QColor(120, 60, 160), QCPScatterStyle::ssStar, 14);
    originalPoint_->setName(tr("original model (test set)"));
    originalPoint_->removeFromLegend();
    for (const PlotPoint& p : model_.points())
        graphFor(p)->addData(xOf(p), p.top1);
    redrawFront();
    redrawMarkers();
    setOriginalModel(original_);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::setOriginalModel(std::optional<Reference> original) {
    original_ = original;
    originalLine_->data()->clear();
    originalPoint_->data()->clear();
    originalPoint_->removeFromLegend();
    if (original_) {
        // A line across any x range the plot will show (ten times the model's cost), so that it
        // needs no update on rescale; a far longer one loses its dashes to Qt's clipping.
        originalLine_->addData(0, original_->top1);
        originalLine_->addData(10 * std::max(1.0, double(original_->macs) / kMega), original_->top1);
        if (!model_.latencyAxis()) { // its latency is not known: the line alone then
            originalPoint_->addData(double(original_->macs) / kMega, original_->top1);
            originalPoint_->addToLegend();
        }
        const QCPRange yr = plot_->yAxis->range();
        if (!haveRange_) {
            plot_->yAxis->setRange(original_->top1 - 5, original_->top1 + 5);
            plot_->xAxis->setRange(0, double(original_->macs) / kMega * 1.1);
            haveRange_ = true;
        } else if (original_->top1 > yr.upper - 1 || original_->top1 < yr.lower + 1) {
            plot_->yAxis->setRange(std::max(0.0, std::min(yr.lower, original_->top1 - 2)),
                                   std::min(100.0, std::max(yr.upper, original_->top1 + 2)));
        }
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::clear() {
    model_.clear();
    cursor_->setVisible(false);
    cursorLabel_->setVisible(false);
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
    const double x = xOf(p);
    // Graph data stay sorted by x, so the baseline curve is drawn as a line in cost order.
    graphFor(p)->addData(x, p.top1);
    errorBarsDirty_ = errorBarsOn_;
    if (frontChanged || model_.frontRevision() != drawnRevision_ || x > lastX_)
        redrawFront();
    if (p.id == selectedId_ || p.id == comparedId_)
        redrawMarkers();
    rescale(p);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::rescale(const PlotPoint& p) {
    const double x = xOf(p);
    // The point, or its whole error bar when bars are drawn.
    double lo = p.top1, hi = p.top1;
    if (const mp::Interval ci = top1Interval(p.top1, p.images); errorBarsOn_ && ci.defined()) {
        lo = ci.lo;
        hi = ci.hi;
    }
    if (!haveRange_) {
        plot_->xAxis->setRange(0, x * 1.1 + 1e-3);
        plot_->yAxis->setRange(lo - 5, hi + 5);
        haveRange_ = true;
        return;
    }
    const QCPRange xr = plot_->xAxis->range(), yr = plot_->yAxis->range();
    if (x > xr.upper)
        plot_->xAxis->setRange(0, x * 1.1);
    if (lo < yr.lower || hi > yr.upper)
        plot_->yAxis->setRange(std::max(0.0, std::min(yr.lower, lo - 2)), std::min(100.0, std::max(yr.upper, hi + 2)));
}

void ParetoPlot::redrawFront() {
    drawnRevision_ = model_.frontRevision();
    lastX_ = 0;
    for (const PlotPoint& p : model_.points())
        lastX_ = std::max(lastX_, xOf(p));
    // The front of everything as explicit steps (best top-1 within each budget), each step drawn
    // in the colour of the point that holds it; NaN breaks a colour's line between its steps.
    const std::vector<PlotPoint> all = model_.frontOfAll();
    QVector<double> sx, sy, ux, uy;
    for (size_t i = 0; i < all.size(); ++i) {
        const bool uniform = all[i].origin == "uniform";
        QVector<double>& x = uniform ? ux : sx;
        QVector<double>& y = uniform ? uy : sy;
        const double x0 = xOf(all[i]), x1 = i + 1 < all.size() ? xOf(all[i + 1]) : std::max(lastX_, x0);
        if (i > 0) { // the riser from the previous step
            x << x0;
            y << all[i - 1].top1;
        }
        x << x0 << x1 << x1;
        y << all[i].top1 << all[i].top1 << qQNaN();
    }
    front_->setData(sx, sy, true);
    uniformFront_->setData(ux, uy, true);

    // The gain band: best searched and best uniform top-1 within each budget, as steps over
    // the union of both fronts' costs, up to the costliest searched structure (beyond it the
    // search did not look, so there is no gain to show).
    std::vector<std::pair<double, double>> keys; // (x, cost)
    const double searchedEnd = model_.searchedReach().value_or(-1);
    for (const std::vector<PlotPoint>* f : {&model_.front(), &model_.uniformFront()})
        for (const PlotPoint& p : *f)
            if (model_.cost(p) <= searchedEnd)
                keys.emplace_back(xOf(p), model_.cost(p));
    if (searchedEnd >= 0) // the last step reaches the costliest searched structure
        keys.emplace_back(model_.latencyAxis() ? searchedEnd : searchedEnd / kMega, searchedEnd);
    std::sort(keys.begin(), keys.end());
    QVector<double> bx, base, ahead, behind;
    auto addKey = [&](double x, double cost) {
        const std::optional<PlotPoint> s = model_.bestWithin(cost, false), u = model_.bestWithin(cost, true);
        bx << x;
        base << (s && u ? u->top1 : qQNaN());
        ahead << (s && u ? std::max(s->top1, u->top1) : qQNaN());
        behind << (s && u ? std::min(s->top1, u->top1) : qQNaN());
    };
    for (const auto& [x, cost] : keys)
        addKey(x, cost);
    bandBase_->setData(bx, base, true);
    bandAhead_->setData(bx, ahead, true);
    bandBehind_->setData(bx, behind, true);
    if (cursor_->visible())
        setCursorBudget(cursorCost_);
}

void ParetoPlot::setCursorBudget(double cost) {
    cursorCost_ = cost;
    const bool latency = model_.latencyAxis();
    const double x = latency ? cost : cost / kMega;
    const QString at = latency ? tr("at %1 ms").arg(cost, 0, 'f', 3) : tr("at %1 M MACs").arg(cost / kMega, 0, 'f', 3);
    const std::optional<PlotPoint> s = model_.bestWithin(cost, false), u = model_.bestWithin(cost, true);
    const std::optional<double> reach = model_.searchedReach();
    QString text;
    if (s && u && reach && cost > *reach) // short lines: the readout must not cover the plot's corner
        text = tr("%1: uniform %2%\nsearched only up to %3")
                   .arg(at)
                   .arg(u->top1, 0, 'f', 2)
                   .arg(latency ? tr("%1 ms").arg(*reach, 0, 'f', 3) : tr("%1 M MACs").arg(*reach / kMega, 0, 'f', 3));
    else if (s && u)
        text = tr("%1:\nsearched %2%, uniform %3% (%4%5)")
                   .arg(at)
                   .arg(s->top1, 0, 'f', 2)
                   .arg(u->top1, 0, 'f', 2)
                   .arg(s->top1 >= u->top1 ? "+" : "")
                   .arg(s->top1 - u->top1, 0, 'f', 2);
    else if (s)
        text = tr("%1: searched %2%, no uniform network within").arg(at).arg(s->top1, 0, 'f', 2);
    else if (u)
        text = tr("%1: uniform %2%, no searched structure within").arg(at).arg(u->top1, 0, 'f', 2);
    else
        text = tr("%1: nothing stored within this budget").arg(at);
    cursor_->point1->setCoords(x, 0);
    cursor_->point2->setCoords(x, 1);
    cursorLabel_->setText(text);
    cursor_->setVisible(true);
    cursorLabel_->setVisible(true);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

QString ParetoPlot::cursorText() const { return cursorLabel_->visible() ? cursorLabel_->text() : QString(); }

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

void ParetoPlot::setErrorBars(bool on) {
    if (on == errorBarsOn_)
        return;
    errorBarsOn_ = on;
    redrawErrorBars();
    for (const PlotPoint& p : model_.points())
        rescale(p); // room for the bars
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

QCPErrorBars* ParetoPlot::errorBarsOf(const QCPGraph* graph) const {
    for (QCPErrorBars* b : errorBars_)
        if (b->dataPlottable() == graph)
            return b;
    return nullptr;
}

void ParetoPlot::redrawErrorBars() {
    errorBarsDirty_ = false;
    for (QCPErrorBars* b : errorBars_)
        plot_->removePlottable(b);
    errorBars_.clear();
    if (!errorBarsOn_)
        return;
    // A graph holds (x, top-1) pairs sorted by x; the bars follow that order, so each pair
    // finds its point's image count by value.
    std::map<std::pair<double, double>, int64_t> images;
    for (const PlotPoint& p : model_.points())
        images.emplace(std::make_pair(xOf(p), p.top1), p.images);
    std::vector<QCPGraph*> graphs{uniform_};
    for (const auto& [origin, g] : byOrigin_)
        graphs.push_back(g);
    for (const auto& [generation, g] : byGeneration_)
        graphs.push_back(g);
    for (QCPGraph* g : graphs) {
        auto* bars = new QCPErrorBars(plot_->xAxis, plot_->yAxis);
        bars->removeFromLegend();
        bars->setErrorType(QCPErrorBars::etValueError);
        QColor c = g->scatterStyle().pen().color();
        c.setAlpha(110);
        bars->setPen(QPen(c, 1));
        bars->setWhiskerWidth(4);
        bars->setDataPlottable(g);
        QVector<double> minus, plus;
        for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
            const auto found = images.find({it->key, it->value});
            const mp::Interval ci = top1Interval(it->value, found == images.end() ? 0 : found->second);
            minus << (ci.defined() ? it->value - ci.lo : qQNaN());
            plus << (ci.defined() ? ci.hi - it->value : qQNaN());
        }
        bars->setData(minus, plus);
        errorBars_.push_back(bars);
    }
}

void ParetoPlot::onMouseMove(QMouseEvent* e) {
    if (plot_->axisRect()->rect().contains(e->position().toPoint()) && !model_.points().empty()) {
        const double x = plot_->xAxis->pixelToCoord(e->position().x());
        setCursorBudget(model_.latencyAxis() ? x : x * kMega);
    }
    const auto p = pointAt(e->position());
    if (!p) {
        QToolTip::hideText();
        return;
    }
    QString top1 = tr("top-1 %1%").arg(p->top1, 0, 'f', 2);
    if (const mp::Interval ci = top1Interval(p->top1, p->images); ci.defined()) {
        top1 = tr("top-1 %1% (95% interval %2 to %3%, %4 images)")
                   .arg(p->top1, 0, 'f', 2)
                   .arg(ci.lo, 0, 'f', 2)
                   .arg(ci.hi, 0, 'f', 2)
                   .arg(p->images);
    }
    QToolTip::showText(e->globalPosition().toPoint(),
                       tr("%1 (run %2, generation %3)\n%4\n%5 M MACs\n%6 params\n%7 ms predicted")
                           .arg(QString::fromStdString(p->origin))
                           .arg(p->runId)
                           .arg(p->generation)
                           .arg(top1)
                           .arg(double(p->macs) / kMega, 0, 'f', 3)
                           .arg(p->params)
                           .arg(p->latencyMs, 0, 'f', 3),
                       plot_);
}

} // namespace mpw
