#include "searchpanel.h"

#include "metaprune/search.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace mpw {

SearchPanel::SearchPanel(QWidget* parent)
    : QWidget(parent), maxPct_(new QDoubleSpinBox), minPct_(new QDoubleSpinBox), population_(new QSpinBox),
      generations_(new QSpinBox), seed_(new QSpinBox), processes_(new QSpinBox), colorMode_(new QComboBox),
      errorBars_(new QCheckBox(tr("95% intervals"))), maxLatency_(new QDoubleSpinBox),
      minLatency_(new QDoubleSpinBox), axis_(new QComboBox),
      measure_(new QPushButton(tr("Measure latency table"))), latencyStatus_(new QLabel),
      search_(new QPushButton(QIcon(":/icons/search.png"), tr("&Search"))),
      cancel_(new QPushButton(QIcon(":/icons/cancel.png"), tr("Cancel"))), bar_(new QProgressBar), status_(new QLabel),
      runs_(new QTreeWidget) {
    const mp::SearchConfig d;
    maxPct_->setRange(0.1, 100);
    maxPct_->setValue(50);
    maxPct_->setSuffix(" %");
    maxPct_->setToolTip(tr("Largest MACs allowed, in percent of the full-width network"));
    minPct_->setRange(0, 100);
    minPct_->setValue(0);
    minPct_->setSuffix(" %");
    minPct_->setToolTip(tr("Smallest MACs allowed (0 = no lower bound): together with the maximum, a band"));
    population_->setRange(2, 10000);
    population_->setValue(d.population);
    generations_->setRange(1, 10000);
    generations_->setValue(d.generations);
    seed_->setRange(0, 1 << 30);
    seed_->setValue(int(d.seed));
    processes_->setRange(1, 64);
    processes_->setValue(1);
    processes_->setToolTip(tr("Processes that score each generation's candidates: the app and %1 search-rank "
                              "processes on this machine, each with the app's thread count. The stored results "
                              "are those of a one-process search with the same seed.")
                               .arg(tr("processes - 1")));
    colorMode_->addItems({tr("by origin"), tr("by generation")});
    for (QDoubleSpinBox* b : {maxLatency_, minLatency_}) {
        b->setRange(0, 1e6);
        b->setDecimals(3);
        b->setSuffix(" ms");
        b->setSpecialValueText(tr("off"));
    }
    maxLatency_->setToolTip(tr("Largest predicted latency allowed, from this machine's per-layer latency table"));
    axis_->addItems({tr("MACs"), tr("predicted latency")});
    measure_->setToolTip(tr("Time every layer at a grid of widths on this machine (a background job); needed for "
                            "latency constraints and the latency axis"));
    connect(measure_, &QPushButton::clicked, this, &SearchPanel::measureLatencyRequested);
    latencyStatus_->setWordWrap(true);

    auto* form = new QFormLayout;
    form->addRow(tr("Max MACs"), maxPct_);
    form->addRow(tr("Min MACs"), minPct_);
    form->addRow(tr("Population"), population_);
    form->addRow(tr("Generations"), generations_);
    form->addRow(tr("Seed"), seed_);
    form->addRow(tr("Processes"), processes_);
    form->addRow(tr("Max latency"), maxLatency_);
    form->addRow(tr("Min latency"), minLatency_);
    form->addRow(tr("Colour points"), colorMode_);
    errorBars_->setToolTip(tr("Error bars on every point: the 95% Wilson interval of its top-1 over the "
                              "search-split images it was measured on. Points whose bars overlap may not "
                              "differ at all."));
    form->addRow(tr("Error bars"), errorBars_);
    form->addRow(tr("x axis"), axis_);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(search_);
    buttons->addWidget(cancel_);
    connect(search_, &QPushButton::clicked, this, &SearchPanel::searchRequested);
    connect(cancel_, &QPushButton::clicked, this, &SearchPanel::cancelRequested);
    runs_->setHeaderLabels({tr("run"), tr("kind"), tr("MACs"), tr("status"), tr("points")});
    runs_->setRootIsDecorated(false);
    runs_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    status_->setWordWrap(true);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(measure_);
    layout->addWidget(latencyStatus_);
    layout->addWidget(bar_);
    layout->addWidget(status_);
    layout->addWidget(runs_, 1);
    setLatencyTable(false, QString());
    setRunning(false);
}

void SearchPanel::setLatencyTable(bool available, const QString& description) {
    haveLatency_ = available;
    maxLatency_->setEnabled(available);
    minLatency_->setEnabled(available);
    axis_->setEnabled(available);
    latencyStatus_->setText(available ? tr("Latency table: %1").arg(description)
                                      : tr("No latency table for this machine yet."));
}

void SearchPanel::showLatencyProgress(int64_t done, int64_t total) {
    bar_->setRange(0, int(total));
    bar_->setValue(int(done));
    latencyStatus_->setText(tr("Measuring layer latencies: %1 of %2").arg(done).arg(total));
}

void SearchPanel::setFullMacs(int64_t macs) { fullMacs_ = macs; }

mp::SearchConfig SearchPanel::config() const {
    mp::SearchConfig c;
    c.maxMacs = int64_t(double(fullMacs_) * maxPct_->value() / 100.0);
    c.minMacs = int64_t(double(fullMacs_) * minPct_->value() / 100.0);
    c.population = population_->value();
    c.parents = std::min(c.parents, c.population);
    c.mutations = c.population / 2;
    c.crossovers = c.population / 2;
    c.generations = generations_->value();
    c.seed = uint64_t(seed_->value());
    if (haveLatency_) {
        c.maxLatencyMs = maxLatency_->value();
        c.minLatencyMs = minLatency_->value();
    }
    return c;
}

void SearchPanel::setPopulationAndGenerations(int population, int generations) {
    population_->setValue(population);
    generations_->setValue(generations);
}

int SearchPanel::processes() const { return processes_->value(); }

void SearchPanel::setProcesses(int n) { processes_->setValue(n); }

void SearchPanel::setSeed(uint64_t seed) { seed_->setValue(int(seed)); }

void SearchPanel::setMaxLatency(double ms) { maxLatency_->setValue(ms); }

void SearchPanel::setRunning(bool running) {
    running_ = running;
    search_->setEnabled(!running && ready_);
    processes_->setEnabled(!running);
    measure_->setEnabled(!running && ready_);
    cancel_->setEnabled(running);
}

void SearchPanel::setReady(bool ready) {
    ready_ = ready;
    setRunning(running_);
}

void SearchPanel::showProgress(int64_t done, int64_t total) {
    bar_->setRange(0, int(total));
    bar_->setValue(int(done));
}

void SearchPanel::setStatus(const QString& text) { status_->setText(text); }

void SearchPanel::setRuns(const std::vector<mp::RunRecord>& runs) {
    runs_->clear();
    for (const mp::RunRecord& r : runs) {
        const mp::SearchConfig c = mp::searchConfigFromJson(r.config);
        const QString band = r.kind == "probe" ? QString("-")
                                               : QString("%1 .. %2")
                                                     .arg(QString::fromStdString(mp::formatMacs(c.minMacs)))
                                                     .arg(c.maxMacs > 0 ? QString::fromStdString(mp::formatMacs(c.maxMacs))
                                                                        : QString("inf"));
        const QString status = r.kind == "probe" ? QString("-") : QString::fromStdString(r.status);
        runs_->addTopLevelItem(new QTreeWidgetItem(
            {QString::number(r.id), QString::fromStdString(r.kind), band, status, QString::number(r.candidates)}));
    }
}

} // namespace mpw
