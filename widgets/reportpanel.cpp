#include "reportpanel.h"

#include "reportchart.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <qcustomplot.h>

namespace mpw {

ReportPanel::ReportPanel(QWidget* parent)
    : QWidget(parent), mode_(new QComboBox), epochs_(new QSpinBox), seeds_(new QSpinBox), searchSeeds_(new QSpinBox),
      pruningnets_(new QSpinBox), pairing_(new QComboBox), samples_(new QSpinBox), jobs_(new QSpinBox),
      retrain_(new QPushButton(tr("&Retrain selected"))), compare_(new QPushButton(tr("Compare with &uniform"))),
      fidelity_(new QPushButton(tr("Measure &fidelity"))),
      cancel_(new QPushButton(QIcon(":/icons/cancel.png"), tr("Cancel"))), bar_(new QProgressBar),
      status_(new QLabel), selected_(new QLabel), chart_(new QCustomPlot), report_(new QTextBrowser) {
    const mp::RetrainConfig d;
    mode_->addItem(tr("from scratch (paper)"), "scratch");
    mode_->addItem(tr("fine-tune generated weights"), "finetune");
    mode_->setToolTip(tr("Retrain with a fresh initialisation, as the paper does, or start from the PruningNet's "
                         "generated weights"));
    epochs_->setRange(1, 1000);
    epochs_->setValue(d.epochs);
    seeds_->setRange(1, 20);
    seeds_->setValue(2);
    seeds_->setToolTip(tr("Each structure of the comparison is retrained once per seed (1..n): mean and spread"));
    searchSeeds_->setRange(1, 10);
    searchSeeds_->setValue(1);
    searchSeeds_->setToolTip(tr("One search per target and seed (1..n): the interval then covers how much the "
                                "searched structure depends on the search"));
    pruningnets_->setRange(1, 5);
    pruningnets_->setValue(1);
    pruningnets_->setToolTip(tr("The loaded PruningNet, and n - 1 more trained with its settings and the next "
                                "seeds (each as long as the first; reused once trained): the interval then covers "
                                "the PruningNet's training too"));
    pairing_->addItem(tr("equal cost (paper)"), "equal-cost");
    pairing_->addItem(tr("uniform at least as costly"), "at-least");
    pairing_->setToolTip(tr("Equal cost: the uniform network nearest each target, and a search under its MACs, so "
                            "that the searched structure never costs more. At least: a search under the target, "
                            "against the cheapest uniform network with at least its MACs"));
    samples_->setRange(3, 200);
    samples_->setValue(12);
    samples_->setToolTip(tr("Structures sampled across the MACs range for the fidelity study"));
    jobs_->setRange(1, std::max(1, QThread::idealThreadCount()));
    jobs_->setValue(1);
    jobs_->setToolTip(tr("Run the comparison's and the fidelity study's trainings, searches and retrainings on this "
                         "many processes, the machine's cores shared among them: the same results, sooner"));
    // The combo boxes may elide their longest item (the tooltips say it whole): the dock is narrow.
    for (QComboBox* box : {mode_, pairing_}) {
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(16);
    }
    auto* form = new QFormLayout;
    form->addRow(tr("Retraining"), mode_);
    form->addRow(tr("Epochs"), epochs_);
    form->addRow(tr("Retraining seeds"), seeds_);
    form->addRow(tr("Search seeds"), searchSeeds_);
    form->addRow(tr("PruningNets"), pruningnets_);
    form->addRow(tr("Pairing"), pairing_);
    form->addRow(tr("Structures (fidelity)"), samples_);
    form->addRow(tr("Processes"), jobs_);
    auto* buttons = new QGridLayout; // two by two: the dock is narrow by default
    buttons->addWidget(retrain_, 0, 0);
    buttons->addWidget(compare_, 0, 1);
    buttons->addWidget(fidelity_, 1, 0);
    buttons->addWidget(cancel_, 1, 1);
    compare_->setToolTip(tr("Best searched structure vs uniform width multiplier at 50%, 25% and 12.5% of the full "
                            "MACs, both retrained with the same recipe and seeds"));
    fidelity_->setToolTip(tr("Rank correlation between the PruningNet's predicted top-1 and top-1 after a short "
                             "retraining"));
    status_->setWordWrap(true);
    selected_->setWordWrap(true);
    chart_->setMinimumHeight(220);
    report_->setMinimumHeight(160);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(bar_);
    layout->addWidget(status_);
    layout->addWidget(selected_);
    layout->addWidget(chart_, 1);
    layout->addWidget(report_, 1);
    connect(retrain_, &QPushButton::clicked, this, &ReportPanel::retrainRequested);
    connect(compare_, &QPushButton::clicked, this, &ReportPanel::compareRequested);
    connect(fidelity_, &QPushButton::clicked, this, &ReportPanel::fidelityRequested);
    connect(cancel_, &QPushButton::clicked, this, &ReportPanel::cancelRequested);
    bar_->setRange(0, 1);
    bar_->setValue(0);
    showCompare(std::nullopt);
    setReady(false);
}

mp::RetrainConfig ReportPanel::recipe() const {
    mp::RetrainConfig r;
    r.mode = mp::parseRetrainMode(mode_->currentData().toString().toStdString());
    r.epochs = epochs_->value();
    r.seed = 0;
    return r;
}

mp::CompareConfig ReportPanel::compareConfig(uint64_t pruningnetSeed) const {
    const auto seedsFrom = [](uint64_t first, int count) {
        std::vector<uint64_t> s(static_cast<size_t>(count));
        std::iota(s.begin(), s.end(), first);
        return s;
    };
    mp::CompareConfig c;
    c.pairing = mp::parseComparePairing(pairing_->currentData().toString().toStdString());
    c.recipe = recipe();
    c.seeds = seedsFrom(1, seeds_->value());
    c.searchSeeds = seedsFrom(1, searchSeeds_->value());
    c.pruningnetSeeds = seedsFrom(pruningnetSeed, pruningnets_->value());
    return c;
}

int ReportPanel::samples() const { return samples_->value(); }

int ReportPanel::jobs() const { return jobs_->value(); }

void ReportPanel::setReady(bool ready) {
    ready_ = ready;
    setRunning(running_);
}

void ReportPanel::setRunning(bool running) {
    running_ = running;
    for (QPushButton* b : {retrain_, compare_, fidelity_})
        b->setEnabled(ready_ && !running);
    cancel_->setEnabled(running);
}

void ReportPanel::showProgress(const QString& stage, qint64 done, qint64 total) {
    bar_->setRange(0, int(std::max<qint64>(total, 1)));
    bar_->setValue(int(done));
    status_->setText(tr("%1: %2 of %3").arg(stage).arg(done).arg(total));
}

void ReportPanel::setStatus(const QString& text) { status_->setText(text); }

void ReportPanel::showCompare(const std::optional<mp::CompareReport>& report) {
    chart_->setVisible(report.has_value());
    if (!report) {
        report_->setMarkdown(tr("No comparison yet. *Compare with uniform* searches at 50%, 25% and 12.5% of the full "
                                "MACs (or reuses those searches), then retrains the best searched structure and its "
                                "uniform partner (by default the uniform network nearest the target, the search "
                                "held to its MACs) with the same recipe and seeds."));
        return;
    }
    drawCompareChart(chart_, *report, true);
    // The document's top-level title would dwarf the panel; the chart carries it already.
    QString md = QString::fromStdString(report->markdown(true));
    md.remove(0, md.indexOf('\n') + 1);
    report_->setMarkdown(md);
}

void ReportPanel::showRetrains(int64_t candidateId, const std::vector<mp::RetrainRecord>& runs) {
    if (candidateId == 0) {
        selected_->clear();
        return;
    }
    if (runs.empty()) {
        selected_->setText(tr("Candidate %1 has not been retrained.").arg(candidateId));
        return;
    }
    QStringList lines;
    for (const mp::RetrainRecord& r : runs) {
        const mp::RetrainConfig c = mp::retrainConfigFromJson(r.config, r.seed);
        lines << tr("%1% test top-1 (%2, %3, seed %4, %5)")
                     .arg(r.testTop1, 0, 'f', 2)
                     .arg(c.mode == mp::RetrainMode::FineTune ? tr("fine-tuned") : tr("from scratch"))
                     .arg(c.epochs == 1 ? tr("1 epoch") : tr("%1 epochs").arg(c.epochs))
                     .arg(r.seed)
                     .arg(QString::fromStdString(r.purpose));
    }
    selected_->setText(tr("Candidate %1 retrained: %2").arg(candidateId).arg(lines.join("; ")));
}

QString fidelityText(const std::optional<mp::FidelityReport>& report, const QString& band) {
    if (!report || report->correlation.n == 0)
        return ReportPanel::tr("Trust in the ranking: not measured (Reports > Measure fidelity retrains a sample "
                               "of structures and compares; `metaprune fidelity --band` measures inside a band).");
    const QString where = band.isEmpty() ? ReportPanel::tr("over the whole MACs range")
                                         : ReportPanel::tr("inside %1").arg(band);
    const mp::RankCorrelation& c = report->correlation;
    if (std::isnan(c.kendallTau))
        return ReportPanel::tr("Trust in the ranking %1: undefined over %2 structures, their retrained accuracies are "
                               "all equal (retrain longer: more epochs in the Reports tab).")
            .arg(where)
            .arg(c.n);
    auto value = [](double v) { return std::isnan(v) ? QStringLiteral("-") : QString::number(v, 'f', 2); };
    auto interval = [&](const mp::Interval& i) {
        return i.defined() ? QStringLiteral(" [%1, %2]").arg(value(i.lo), value(i.hi)) : QString();
    };
    QString text =
        ReportPanel::tr("Trust in the ranking %1: PruningNet top-1 vs retrained top-1 over %2 structures: "
                        "Kendall's \u03c4 = %3%4, Spearman's \u03c1 = %5 (MACs alone: \u03c4 = %6%7, \u03c1 = %8; "
                        "95% intervals)")
            .arg(where)
            .arg(c.n)
            .arg(value(c.kendallTau), interval(report->correlationInterval.kendallTau), value(c.spearmanRho),
                 value(report->macsBaseline.kendallTau), interval(report->macsInterval.kendallTau),
                 value(report->macsBaseline.spearmanRho));
    if (!std::isnan(report->partialTau))
        text += ReportPanel::tr("; beyond cost (partial \u03c4 given MACs) %1%2")
                    .arg(value(report->partialTau), interval(report->partialInterval));
    if (report->noise)
        text += ReportPanel::tr("; retraining noise allows \u03c4 up to about %1").arg(value(report->noise->ceiling));
    const mp::Interval& tau = report->correlationInterval.kendallTau;
    // What the ranking is worth: the plot's differences inside the band are predictions only.
    if (tau.defined() && tau.lo <= 0)
        text += ReportPanel::tr(". Its ranking is not distinguishable from chance here: read differences between "
                                "structures of similar cost as unconfirmed.");
    else if (tau.defined())
        text += ReportPanel::tr(". Its ranking agrees with retraining better than chance.");
    return text;
}

} // namespace mpw
