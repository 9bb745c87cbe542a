#include "budgetview.h"

#include "widtheditor.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSvgGenerator>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>
#include <QVariantAnimation>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace mpw {

namespace {
double threadCpuMs() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

QString describe(const PlotPoint& p, double unit, bool latency) {
    const QString cost = latency ? QObject::tr("%1 ms").arg(p.latencyMs, 0, 'f', 3)
                                 : QObject::tr("%1 M MACs").arg(double(p.macs) / unit, 0, 'f', 3);
    return QObject::tr("candidate %1 (%2), %3, top-1 %4%")
        .arg(p.id)
        .arg(QString::fromStdString(p.origin))
        .arg(cost)
        .arg(p.top1, 0, 'f', 2);
}
} // namespace

BudgetView::BudgetView(QWidget* parent)
    : QWidget(parent), runs_(new QComboBox), slider_(new QSlider(Qt::Horizontal)),
      box_(new QDoubleSpinBox), play_(new QPushButton(tr("Play"))),
      export_(new QPushButton(tr("Export heat map..."))), summary_(new QLabel),
      bars_(new QCustomPlot), heat_(new QCustomPlot), morph_(new QVariantAnimation(this)),
      playTimer_(new QTimer(this)) {
    runs_->addItem(tr("All runs"), qint64(0));
    runs_->setToolTip(
        tr("Whose Pareto front the slider walks: every run shown on the plot, or one search run"));
    slider_->setRange(0, BudgetModel::kSteps);
    slider_->setValue(BudgetModel::kSteps);
    slider_->setToolTip(tr("Budget: the best stored structure that costs at most this much"));
    box_->setDecimals(3);
    box_->setKeyboardTracking(false);
    play_->setCheckable(true);
    play_->setToolTip(
        tr("Sweep the budget from the full network to the smallest structure and back"));
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    summary_->setText(
        tr("No searched structures yet: run a search, and the best structure within each budget "
           "appears here."));

    auto* controls = new QGridLayout;
    controls->addWidget(new QLabel(tr("Front of")), 0, 0);
    controls->addWidget(runs_, 0, 1, 1, 3);
    controls->addWidget(new QLabel(tr("Budget")), 1, 0);
    controls->addWidget(slider_, 1, 1);
    controls->addWidget(box_, 1, 2);
    controls->addWidget(play_, 1, 3);
    controls->setColumnStretch(1, 1);

    maxBars_ = new QCPBars(bars_->xAxis, bars_->yAxis);
    maxBars_->setName(tr("maximum width"));
    maxBars_->setPen(Qt::NoPen);
    maxBars_->setBrush(QColor(0, 0, 0, 28));
    maxBars_->setWidth(0.8);
    bestBars_ = new QCPBars(bars_->xAxis, bars_->yAxis);
    bestBars_->setName(tr("best searched"));
    bestBars_->setPen(QPen(QColor(40, 80, 140)));
    bestBars_->setBrush(QColor(52, 101, 164, 210));
    uniformBars_ = new QCPBars(bars_->xAxis, bars_->yAxis);
    uniformBars_->setName(tr("uniform"));
    uniformBars_->setPen(QPen(QColor(60, 60, 60)));
    uniformBars_->setBrush(QColor(120, 120, 120, 170));
    // The morphing bars on a buffered layer of their own: a frame redraws them alone, not the
    // axes, the rotated layer names and the legend.
    bars_->addLayer("morph", bars_->layer("main"), QCustomPlot::limAbove);
    morphLayer_ = bars_->layer("morph");
    morphLayer_->setMode(QCPLayer::lmBuffered);
    for (QCPBars* b : {bestBars_, uniformBars_}) {
        b->setWidth(0.4);
        b->setLayer(morphLayer_);
    }
    bars_->yAxis->setLabel(tr("channels"));
    bars_->xAxis->setTickLabelRotation(90);
    bars_->xAxis->setTickLabelFont(QFont(font().family(), 7));
    // The legend in a row of its own above the bars, which it would otherwise cover.
    bars_->legend->setVisible(true);
    bars_->legend->setFont(QFont(font().family(), 8));
    bars_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    bars_->legend->setBorderPen(Qt::NoPen); // a frame as wide as the widget lost its right edge
    bars_->plotLayout()->insertRow(0);
    bars_->plotLayout()->addElement(0, 0, bars_->legend);
    bars_->plotLayout()->setRowStretchFactor(0, 0.001);
    bars_->setMinimumHeight(220);

    map_ = new QCPColorMap(heat_->xAxis, heat_->yAxis);
    auto* scale = new QCPColorScale(heat_);
    heat_->plotLayout()->addElement(0, 1, scale);
    scale->setType(QCPAxis::atRight);
    scale->axis()->setLabel(tr("fraction of channels kept"));
    map_->setColorScale(scale);
    QCPColorGradient gradient(QCPColorGradient::gpThermal);
    gradient.setNanHandling(QCPColorGradient::nhTransparent);
    map_->setGradient(gradient);
    map_->setDataRange(QCPRange(0, 1));
    map_->setInterpolate(false);
    auto* margins = new QCPMarginGroup(heat_);
    heat_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    heat_->yAxis->setLabel(tr("layer"));
    heat_->yAxis->setRangeReversed(true); // the first layer on top, as read
    heat_->yAxis->setTickLabelFont(QFont(font().family(), 7));
    cursor_ = new QCPItemStraightLine(heat_);
    cursor_->setPen(QPen(QColor(30, 160, 230), 2));
    // Same for the heat map's cursor: a step redraws the line, not the colour map.
    heat_->addLayer("cursor", heat_->layer("main"), QCustomPlot::limAbove);
    cursorLayer_ = heat_->layer("cursor");
    cursorLayer_->setMode(QCPLayer::lmBuffered);
    cursor_->setLayer(cursorLayer_);
    heat_->setMouseTracking(true);
    heat_->setMinimumHeight(240);
    connect(heat_, &QCustomPlot::mouseMove, this, &BudgetView::onHeatMove);
    connect(heat_, &QCustomPlot::mousePress, this, &BudgetView::onHeatPress);

    auto* exportRow = new QHBoxLayout;
    exportRow->addStretch(1);
    exportRow->addWidget(export_);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(summary_);
    layout->addWidget(bars_, 2);
    layout->addWidget(heat_, 3);
    layout->addLayout(exportRow);

    morph_->setDuration(kMorphMs);
    morph_->setStartValue(0.0);
    morph_->setEndValue(1.0);
    morph_->setEasingCurve(QEasingCurve::InOutCubic);
    connect(morph_, &QVariantAnimation::valueChanged, this,
            [this](const QVariant& v) { drawFrame(v.toDouble()); });

    playTimer_->setInterval(kPlayStepMs);
    connect(playTimer_, &QTimer::timeout, this, &BudgetView::playStep);
    connect(play_, &QPushButton::toggled, this, &BudgetView::setPlaying);

    connect(slider_, &QSlider::valueChanged, this, [this](int pos) {
        budget_ = model_.budgetAt(pos);
        haveBudget_ = true;
        apply(true, true);
    });
    connect(box_, &QDoubleSpinBox::valueChanged, this, [this](double v) {
        if (model_.empty()) return;
        budget_ = std::clamp(v * unit(), model_.minBudget(), model_.maxBudget());
        haveBudget_ = true;
        apply(true, true);
    });
    connect(runs_, &QComboBox::currentIndexChanged, this, [this](int i) {
        runId_ = runs_->itemData(i).toLongLong();
        setPoints(points_, model_.latencyAxis());
    });
    connect(export_, &QPushButton::clicked, this, [this] {
        const QString png = tr("PNG image (*.png)"), svg = tr("SVG drawing (*.svg)");
        QString filter;
        QString path =
            QFileDialog::getSaveFileName(this, tr("Export the widths-vs-budget heat map"),
                                         "widths-vs-budget.png", png + ";;" + svg, &filter);
        if (path.isEmpty()) return;
        if (QFileInfo(path).suffix().isEmpty()) path += filter == svg ? ".svg" : ".png";
        QString error;
        if (!exportHeatMap(path, &error))
            QToolTip::showText(export_->mapToGlobal(QPoint(0, 0)), error, export_);
    });
    setControlsEnabled(false);
}

void BudgetView::setControlsEnabled(bool enabled) {
    // The run box stays enabled: a run without a front must not lock the user in.
    for (QWidget* w : std::initializer_list<QWidget*>{slider_, box_, play_, export_})
        w->setEnabled(enabled);
}

double BudgetView::unit() const {
    return model_.latencyAxis() ? 1.0 : 1e6;
}

void BudgetView::setArchitecture(const mp::ArchSpec& arch) {
    model_.setLayers(barLayers(arch));
    const std::vector<BarLayer>& layers = model_.layers();
    QSharedPointer<QCPAxisTickerText> barTicks(new QCPAxisTickerText),
        heatTicks(new QCPAxisTickerText);
    QVector<double> keys, maxima;
    int widest = 1;
    // The heat map's rows are a few pixels high: name every few layers so labels never overlap.
    const int every = std::max(1, int(layers.size()) / 16);
    for (size_t l = 0; l < layers.size(); ++l) {
        const QString name = WidthEditor::shortName(layers[l].name);
        barTicks->addTick(double(l + 1), name);
        if (int(l) % every == 0) heatTicks->addTick(double(l), name);
        keys.push_back(double(l + 1));
        maxima.push_back(layers[l].maxChannels);
        widest = std::max(widest, layers[l].maxChannels);
    }
    bars_->xAxis->setTicker(barTicks);
    bars_->xAxis->setRange(0.3, double(layers.size()) + 0.7);
    bars_->yAxis->setRange(0, widest * 1.05);
    maxBars_->setData(keys, maxima, true);
    heat_->yAxis->setTicker(heatTicks);
    shown_.assign(layers.size(), 0);
    shownU_.assign(layers.size(), 0);
    from_ = to_ = shown_;
    fromU_ = toU_ = shownU_;
    best_.reset();
    uniform_.reset();
    setPoints(points_, model_.latencyAxis());
}

void BudgetView::setRuns(const std::vector<mp::RunRecord>& runs,
                         const std::string& checkpointSha256) {
    const QSignalBlocker block(runs_);
    runs_->clear();
    runs_->addItem(tr("All runs"), qint64(0));
    int current = 0;
    for (const mp::RunRecord& r : runs) {
        if (r.kind != "search" || r.checkpointSha256 != checkpointSha256) continue;
        QString bound;
        try {
            const mp::SearchConfig c = mp::searchConfigFromJson(r.config);
            bound =
                c.maxLatencyMs > 0
                    ? tr("at most %1 ms").arg(c.maxLatencyMs, 0, 'f', 3)
                    : tr("at most %1 MACs").arg(QString::fromStdString(mp::formatMacs(c.maxMacs)));
        } catch (const std::exception&) {
            bound = tr("settings unreadable");
        }
        runs_->addItem(
            tr("Search run %1 (%2, %3)").arg(r.id).arg(bound).arg(QString::fromStdString(r.status)),
            qint64(r.id));
        if (r.id == runId_) current = runs_->count() - 1;
    }
    runs_->setCurrentIndex(current);
    if (current == 0 && runId_ != 0) {
        runId_ = 0;
        setPoints(points_, model_.latencyAxis());
    }
}

void BudgetView::setRun(int64_t runId) {
    const int i = runs_->findData(qint64(runId));
    runs_->setCurrentIndex(std::max(0, i)); // rebuilds through currentIndexChanged when it moved
    if (runs_->itemData(runs_->currentIndex()).toLongLong() != runId_) {
        runId_ = runs_->itemData(runs_->currentIndex()).toLongLong();
        setPoints(points_, model_.latencyAxis());
    }
}

void BudgetView::setPoints(const std::vector<PlotPoint>& points, bool latencyAxis) {
    if (&points != &points_) points_ = points;
    const bool axisChanged = latencyAxis != model_.latencyAxis();
    model_.setPoints(points_, latencyAxis, runId_);
    setControlsEnabled(!model_.empty() && !model_.layers().empty());
    {
        const QSignalBlocker b(box_);
        box_->setRange(model_.minBudget() / unit(), model_.maxBudget() / unit());
        box_->setSuffix(latencyAxis ? tr(" ms") : tr(" M MACs"));
        box_->setSingleStep((model_.maxBudget() - model_.minBudget()) / unit() /
                            BudgetModel::kSteps);
    }
    heat_->xAxis->setLabel(latencyAxis ? tr("budget: predicted latency (ms)")
                                       : tr("budget: MACs (millions)"));
    if (model_.empty()) {
        best_.reset();
        uniform_.reset();
        summary_->setText(tr(
            "No searched structures yet: run a search, and the best structure within each budget "
            "appears here."));
        rebuildHeatMap();
        return;
    }
    if (!haveBudget_ || axisChanged) budget_ = model_.maxBudget();
    budget_ = std::clamp(budget_, model_.minBudget(), model_.maxBudget());
    rebuildHeatMap();
    apply(false, false);
}

QString BudgetView::summaryText() const { return summary_->text(); }

void BudgetView::setBudget(double cost) {
    if (model_.empty()) return;
    budget_ = std::clamp(cost, model_.minBudget(), model_.maxBudget());
    haveBudget_ = true;
    apply(true, true);
}

void BudgetView::apply(bool animate, bool user) {
    QElapsedTimer timer;
    timer.start();
    {
        const QSignalBlocker a(slider_), b(box_);
        slider_->setValue(model_.positionOf(budget_));
        box_->setValue(budget_ / unit());
    }
    const std::optional<PlotPoint> best = model_.bestWithin(budget_),
                                   uniform = model_.uniformWithin(budget_);
    const bool changed = (best ? best->id : 0) != (best_ ? best_->id : 0) ||
                         (uniform ? uniform->id : 0) != (uniform_ ? uniform_->id : 0);
    best_ = best;
    uniform_ = uniform;
    const bool latency = model_.latencyAxis();
    QString text = latency ? tr("Budget %1 ms: ").arg(budget_, 0, 'f', 3)
                           : tr("Budget %1 M MACs: ").arg(budget_ / 1e6, 0, 'f', 3);
    text += best ? tr("<b>best searched</b> %1").arg(describe(*best, 1e6, latency))
                 : tr("no searched structure fits");
    text += uniform ? tr("<br><b>uniform</b> %1").arg(describe(*uniform, 1e6, latency))
                    : tr("<br>no uniform baseline fits");
    const std::optional<double> gain = model_.fronts().gainAt(budget_);
    if (gain)
        text += tr("<br>searched %1 uniform by <b>%2%3 points</b>")
                    .arg(*gain >= 0 ? tr("ahead of") : tr("behind"))
                    .arg(*gain >= 0 ? "+" : "")
                    .arg(*gain, 0, 'f', 2);
    else if (best && uniform) // beyond the costliest searched structure: budgets not comparable
        text += tr("<br>the search did not go beyond %1: no difference at this budget")
                    .arg(latency ? tr("%1 ms").arg(*model_.fronts().searchedReach(), 0, 'f', 3)
                                 : tr("%1 M MACs").arg(*model_.fronts().searchedReach() / 1e6, 0, 'f', 3));
    summary_->setText(text);
    cursor_->point1->setCoords(budget_ / unit(), 0);
    cursor_->point2->setCoords(budget_ / unit(), 1);
    cursorLayer_->replot();

    to_.assign(model_.layers().size(), 0);
    toU_.assign(model_.layers().size(), 0);
    for (size_t l = 0; l < model_.layers().size(); ++l) {
        if (best)
            to_[l] =
                std::max(0.0, model_.keptFraction(*best, int(l))) * model_.layers()[l].maxChannels;
        if (uniform)
            toU_[l] = std::max(0.0, model_.keptFraction(*uniform, int(l))) *
                      model_.layers()[l].maxChannels;
    }
    if (animate && changed)
        startMorph();
    else if (!animate) {
        morph_->stop();
        drawFrame(1.0);
        from_ = to_;
        fromU_ = toU_;
    }
    emit budgetChanged(budget_);
    // Only the user's moves select: a rebuild while a search adds points leaves the selection be.
    const qint64 bestId = best ? best->id : 0, uniformId = uniform ? uniform->id : 0;
    if (user && (bestId != chosenBest_ || uniformId != chosenUniform_)) {
        chosenBest_ = bestId;
        chosenUniform_ = uniformId;
        emit structureChosen(bestId, uniformId);
    }
    if (log_) log_->step.push_back(double(timer.nsecsElapsed()) / 1e6);
}

void BudgetView::startMorph() {
    // From what is on screen now, so a morph interrupted by the next step stays continuous.
    from_ = shown_;
    fromU_ = shownU_;
    morph_->stop();
    morph_->start();
}

void BudgetView::drawFrame(double t) {
    QElapsedTimer timer;
    timer.start();
    const double cpu0 = threadCpuMs();
    const size_t n = model_.layers().size();
    shown_.resize(n);
    shownU_.resize(n);
    from_.resize(n);
    fromU_.resize(n);
    const qsizetype count = qsizetype(n);
    QVector<double> keysBest(count), keysUniform(count), best(count), uniform(count);
    for (size_t l = 0; l < n; ++l) {
        // The last frame lands exactly on the target (no rounding left in the bars).
        shown_[l] = t >= 1 ? to_[l] : from_[l] + (to_[l] - from_[l]) * t;
        shownU_[l] = t >= 1 ? toU_[l] : fromU_[l] + (toU_[l] - fromU_[l]) * t;
        keysBest[int(l)] = double(l + 1) - 0.2;
        keysUniform[int(l)] = double(l + 1) + 0.2;
        best[int(l)] = shown_[l];
        uniform[int(l)] = shownU_[l];
    }
    bestBars_->setData(keysBest, best, true);
    uniformBars_->setData(keysUniform, uniform, true);
    // Drawn now, not queued: the frame time the benchmark reports is the real drawing cost.
    morphLayer_->replot();
    if (log_) {
        log_->frameWall.push_back(double(timer.nsecsElapsed()) / 1e6);
        log_->frameCpu.push_back(threadCpuMs() - cpu0);
    }
}

void BudgetView::rebuildHeatMap() {
    const std::vector<BarLayer>& layers = model_.layers();
    QCPColorMapData* data = map_->data();
    if (model_.empty() || layers.empty()) {
        data->clear();
        heat_->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    const std::vector<std::vector<double>> values = model_.heatMap();
    data->setSize(BudgetModel::kSteps + 1, int(layers.size()));
    data->setRange(QCPRange(model_.minBudget() / unit(), model_.maxBudget() / unit()),
                   QCPRange(0, double(layers.size()) - 1));
    for (int c = 0; c <= BudgetModel::kSteps; ++c)
        for (size_t l = 0; l < layers.size(); ++l) {
            const double v = values[size_t(c)][l];
            data->setCell(c, int(l), v < 0 ? qQNaN() : v);
        }
    const double half =
        (model_.maxBudget() - model_.minBudget()) / unit() / BudgetModel::kSteps / 2;
    heat_->xAxis->setRange(model_.minBudget() / unit() - half, model_.maxBudget() / unit() + half);
    heat_->yAxis->setRange(-0.5, double(layers.size()) - 0.5);
    heat_->replot(QCustomPlot::rpQueuedReplot);
}

QPointF BudgetView::heatMapPixel(int column, int layer) const {
    double x = 0, y = 0;
    map_->data()->cellToCoord(column, layer, &x, &y);
    return {heat_->xAxis->coordToPixel(x), heat_->yAxis->coordToPixel(y)};
}

bool BudgetView::cellAt(const QPointF& pos, int* column, int* layer) const {
    if (model_.empty() || !heat_->axisRect()->rect().contains(pos.toPoint())) return false;
    map_->data()->coordToCell(heat_->xAxis->pixelToCoord(pos.x()),
                              heat_->yAxis->pixelToCoord(pos.y()), column, layer);
    return *column >= 0 && *column <= BudgetModel::kSteps && *layer >= 0 &&
           *layer < int(model_.layers().size());
}

void BudgetView::onHeatMove(QMouseEvent* e) {
    int column = 0, layer = 0;
    if (!cellAt(e->position(), &column, &layer)) {
        QToolTip::hideText();
        return;
    }
    const double b = model_.budgetAt(column);
    const BarLayer& l = model_.layers()[size_t(layer)];
    const std::optional<PlotPoint> p = model_.bestWithin(b);
    const QString budget = model_.latencyAxis() ? tr("%1 ms").arg(b, 0, 'f', 3)
                                                : tr("%1 M MACs").arg(b / 1e6, 0, 'f', 3);
    QString text = tr("%1 (layer %2 of %3)\nbudget %4")
                       .arg(QString::fromStdString(l.name))
                       .arg(layer + 1)
                       .arg(model_.layers().size())
                       .arg(budget);
    if (p)
        text += tr("\n%1 of %2 channels (%3%) in candidate %4\nclick to select it")
                    .arg(p->channels.at(size_t(l.gene)))
                    .arg(l.maxChannels)
                    .arg(100.0 * model_.keptFraction(*p, layer), 0, 'f', 0)
                    .arg(p->id);
    QToolTip::showText(e->globalPosition().toPoint(), text, heat_);
}

void BudgetView::onHeatPress(QMouseEvent* e) {
    int column = 0, layer = 0;
    if (e->button() != Qt::LeftButton || !cellAt(e->position(), &column, &layer)) return;
    setPlaying(false);
    setBudget(model_.budgetAt(column));
}

void BudgetView::setPlaying(bool playing) {
    if (playing && model_.empty()) playing = false;
    {
        const QSignalBlocker b(play_);
        play_->setChecked(playing);
        play_->setText(playing ? tr("Stop") : tr("Play"));
    }
    if (playing == playTimer_->isActive()) return;
    if (playing) {
        // Start from the full budget unless the slider was left part-way.
        if (slider_->value() == 0 || slider_->value() == BudgetModel::kSteps)
            setBudget(model_.maxBudget());
        playDirection_ = -1;
        playReturned_ = false;
        playTimer_->start();
    } else {
        playTimer_->stop();
    }
}

bool BudgetView::isPlaying() const {
    return playTimer_->isActive();
}

void BudgetView::playStep() {
    int pos = slider_->value() + playDirection_;
    if (pos < 0) {
        playDirection_ = 1;
        pos = 1;
        playReturned_ = true;
    }
    if (pos > BudgetModel::kSteps) {
        setPlaying(false);
        return;
    }
    slider_->setValue(pos); // applies through valueChanged
    if (playReturned_ && pos == BudgetModel::kSteps) setPlaying(false);
}

bool BudgetView::exportHeatMap(const QString& path, QString* error) {
    const int w = std::max(heat_->width(), 900), h = std::max(heat_->height(), 520);
    const QString suffix = QFileInfo(path).suffix().toLower();
    bool ok = false;
    if (suffix == "png") {
        ok = heat_->savePng(path, w, h);
    } else if (suffix == "svg") {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(QSize(w, h));
        svg.setViewBox(QRect(0, 0, w, h));
        svg.setTitle(tr("Widths vs budget"));
        svg.setDescription(tr("Fraction of each layer's channels kept by the best stored structure "
                              "within each budget"));
        QCPPainter painter;
        ok = painter.begin(&svg);
        if (ok) {
            heat_->toPainter(&painter, w, h);
            ok = painter.end();
        }
        ok = ok && QFileInfo(path).size() > 0;
    } else {
        if (error) *error = tr("%1: the heat map exports as .png or .svg").arg(path);
        return false;
    }
    if (!ok && error) *error = tr("%1: cannot write the heat map").arg(path);
    return ok;
}

} // namespace mpw
