#include "reportchart.h"

#include <qcustomplot.h>

#include <algorithm>
#include <tuple>

void drawCompareChart(QCustomPlot* plot, const mp::CompareReport& report, bool compact) {
    plot->clearPlottables();
    plot->clearItems();
    const bool l1 = report.baseline == mp::CompareBaseline::L1;
    bool withScratch = false; // --also-uniform: the width-multiplier network from scratch as a third bar
    for (const mp::CompareRow& r : report.rows)
        for (const mp::CompareArm& a : r.arms)
            withScratch = withScratch || !a.scratchTop1.empty();
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    auto* group = new QCPBarsGroup(plot);
    const double width = withScratch ? 0.26 : 0.35;
    const auto addBars = [&](const QString& name, const QColor& colour) {
        auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
        bars->setName(name);
        bars->setBrush(colour);
        bars->setPen(Qt::NoPen);
        bars->setBarsGroup(group);
        bars->setWidth(width);
        auto* err = new QCPErrorBars(plot->xAxis, plot->yAxis);
        err->setDataPlottable(bars);
        err->removeFromLegend();
        return std::make_pair(bars, err);
    };
    const auto [searched, searchedErr] =
        addBars(compact ? QCoreApplication::translate("ReportChart", "searched")
                        : QCoreApplication::translate("ReportChart", "searched (MetaPruning)"),
                QColor(31, 119, 180));
    const auto [uniform, uniformErr] =
        addBars(l1 ? (compact ? QCoreApplication::translate("ReportChart", "L1")
                              : QCoreApplication::translate("ReportChart", "L1 filter pruning"))
                   : (compact ? QCoreApplication::translate("ReportChart", "uniform")
                              : QCoreApplication::translate("ReportChart", "uniform width multiplier")),
                QColor(190, 190, 190));
    QCPBars* scratch = nullptr;
    QCPErrorBars* scratchErr = nullptr;
    if (withScratch)
        std::tie(scratch, scratchErr) =
            addBars(compact ? QCoreApplication::translate("ReportChart", "uniform, scratch")
                            : QCoreApplication::translate("ReportChart", "uniform width multiplier, from scratch"),
                    QColor(225, 225, 225));
    double lo = 100, hi = 0;
    for (size_t i = 0; i < report.rows.size(); ++i) {
        const mp::CompareRow& r = report.rows[i];
        if (r.arms.empty()) // a damaged stored report: nothing to draw for this target
            continue;
        const auto [sm, ss] = mp::meanAndSpread(r.searchedTop1());
        const auto [um, us] = mp::meanAndSpread(r.uniformTop1());
        const double x = double(i + 1);
        searched->addData(x, sm);
        uniform->addData(x, um);
        searchedErr->addData(ss);
        uniformErr->addData(us);
        lo = std::min({lo, sm - ss, um - us});
        hi = std::max({hi, sm + ss, um + us});
        if (scratch) {
            std::vector<double> all;
            for (const mp::CompareArm& a : r.arms)
                all.insert(all.end(), a.scratchTop1.begin(), a.scratchTop1.end());
            const auto [cm, cs] = mp::meanAndSpread(all);
            scratch->addData(x, cm);
            scratchErr->addData(cs);
            lo = std::min(lo, cm - cs);
            hi = std::max(hi, cm + cs);
        }
        // Several searches give several structures: their MACs as a range, not the first one's.
        const auto [fewest, most] = std::minmax_element(
            r.arms.begin(), r.arms.end(),
            [](const mp::CompareArm& a, const mp::CompareArm& b) { return a.searched.macs < b.searched.macs; });
        const QString cheapest = QString::fromStdString(mp::formatMacs(fewest->searched.macs));
        const QString dearest = QString::fromStdString(mp::formatMacs(most->searched.macs));
        const QString target = QStringLiteral("%1% MACs").arg(100 * r.fraction, 0, 'g', 3);
        // Compact: the target alone (the table under the chart gives both sides' MACs), so that
        // three targets fit a narrow panel.
        ticker->addTick(x, compact ? target
                                   : QStringLiteral("%1\n%2 vs %3")
                                         .arg(target,
                                              cheapest == dearest ? cheapest : cheapest + QStringLiteral("-") + dearest,
                                              QString::fromStdString(mp::formatMacs(r.arms.front().uniform.macs))));
    }
    if (report.originalTop1) {
        // The model the user brought, as itself: what every pruned network is measured against.
        auto* line = new QCPItemStraightLine(plot);
        line->point1->setCoords(0, *report.originalTop1);
        line->point2->setCoords(1, *report.originalTop1);
        line->setPen(QPen(QColor(128, 0, 128), 1.5, Qt::DashLine));
        auto* label = new QCPItemText(plot);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        label->position->setCoords(0.45, *report.originalTop1);
        label->setColor(QColor(128, 0, 128));
        label->setText(QCoreApplication::translate("ReportChart", "original model %1%")
                           .arg(*report.originalTop1, 0, 'f', 2));
        hi = std::max(hi, *report.originalTop1);
    }
    plot->xAxis->setTicker(ticker);
    plot->xAxis->setRange(0.4, double(report.rows.size()) + 0.6);
    // The axis starts just under the lowest value so that differences of tenths show; the
    // headroom above keeps the legend off the bars (compact: the legend is above the axis rect).
    const double floor = std::max(0.0, std::floor(lo - 2));
    plot->yAxis->setRange(floor, hi + (compact ? 0.1 : 0.35) * (hi - floor) + 0.5);
    // Compact: the axis is short, so where it starts goes into the title.
    plot->yAxis->setLabel(compact ? QCoreApplication::translate("ReportChart", "test top-1 (%)")
                                  : QCoreApplication::translate("ReportChart", "test top-1 after retraining (%; axis from %1)")
                                        .arg(floor));
    plot->legend->setVisible(true);
    if (plot->plotLayout()->rowCount() == 1) {
        plot->plotLayout()->insertRow(0);
        plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, QString(), QFont("sans", 11, QFont::Bold)));
    }
    if (!compact) {
        plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    } else if (plot->legend->layout() != plot->plotLayout()) {
        // Narrow: inside the axis rect the legend would cover the bars; one row under the title.
        plot->plotLayout()->insertRow(1);
        plot->plotLayout()->addElement(1, 0, plot->legend);
        plot->plotLayout()->setRowStretchFactor(1, 0.001);
        plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
        plot->legend->setBorderPen(Qt::NoPen);
    }
    if (auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0))) {
        // The uniform network is one per PruningNet seed, the searched ones one per search too:
        // the two sides can have different counts, and the title says both.
        const size_t searchedN = report.rows.empty() ? 0 : report.rows.front().searchedTop1().size();
        const size_t uniformN = report.rows.empty() ? 0 : report.rows.front().uniformTop1().size();
        const QString arch = QString::fromStdString(report.arch);
        const QString versus = l1 ? QCoreApplication::translate("ReportChart", "searched vs L1 filter pruning")
                                  : QCoreApplication::translate("ReportChart", "searched vs uniform");
        title->setFont(QFont("sans", compact ? 10 : 11, QFont::Bold));
        if (compact) {
            // The legend names the two sides; the title keeps what it alone says.
            const QString counts =
                searchedN <= 1 && uniformN <= 1
                    ? QCoreApplication::translate("ReportChart", "one result each (n = 1)")
                : searchedN == uniformN
                    ? QCoreApplication::translate("ReportChart", "mean ± sd over %1 results").arg(searchedN)
                    : QCoreApplication::translate("ReportChart", "mean ± sd (n = %1 vs %2)").arg(searchedN).arg(uniformN);
            title->setText(arch + QLatin1Char('\n') +
                           QCoreApplication::translate("ReportChart", "%1, axis from %2%").arg(counts).arg(floor));
        } else if (searchedN <= 1 && uniformN <= 1) {
            title->setText(
                QCoreApplication::translate("ReportChart", "%1: %2, one result each (n=1)").arg(arch, versus));
        } else if (searchedN == uniformN) {
            title->setText(QCoreApplication::translate("ReportChart", "%1: %2, mean ± sd over %3 results")
                               .arg(arch, versus)
                               .arg(searchedN));
        } else {
            title->setText(QCoreApplication::translate("ReportChart", "%1: %2, mean ± sd (n = %3 vs %4)")
                               .arg(arch, versus)
                               .arg(searchedN)
                               .arg(uniformN));
        }
    }
    plot->replot();
}

bool saveCompareChart(const mp::CompareReport& report, const QString& pngPath, int width, int height, QString* error) {
    QCustomPlot plot;
    plot.resize(width, height);
    drawCompareChart(&plot, report);
    if (!plot.savePng(pngPath, width, height)) {
        if (error)
            *error = QCoreApplication::translate("ReportChart", "%1: cannot write the PNG file").arg(pngPath);
        return false;
    }
    return true;
}
