#include "reportchart.h"

#include <qcustomplot.h>

#include <algorithm>

void drawCompareChart(QCustomPlot* plot, const mp::CompareReport& report, bool compact) {
    plot->clearPlottables();
    plot->clearItems();
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    auto* searched = new QCPBars(plot->xAxis, plot->yAxis);
    auto* uniform = new QCPBars(plot->xAxis, plot->yAxis);
    searched->setName(compact ? QCoreApplication::translate("ReportChart", "searched")
                              : QCoreApplication::translate("ReportChart", "searched (MetaPruning)"));
    uniform->setName(compact ? QCoreApplication::translate("ReportChart", "uniform")
                             : QCoreApplication::translate("ReportChart", "uniform width multiplier"));
    searched->setBrush(QColor(31, 119, 180));
    uniform->setBrush(QColor(190, 190, 190));
    searched->setPen(Qt::NoPen);
    uniform->setPen(Qt::NoPen);
    auto* group = new QCPBarsGroup(plot);
    searched->setBarsGroup(group);
    uniform->setBarsGroup(group);
    searched->setWidth(0.35);
    uniform->setWidth(0.35);
    auto* searchedErr = new QCPErrorBars(plot->xAxis, plot->yAxis);
    auto* uniformErr = new QCPErrorBars(plot->xAxis, plot->yAxis);
    searchedErr->setDataPlottable(searched);
    uniformErr->setDataPlottable(uniform);
    searchedErr->removeFromLegend();
    uniformErr->removeFromLegend();
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
                QCoreApplication::translate("ReportChart", "%1: searched vs uniform, one result each (n=1)").arg(arch));
        } else if (searchedN == uniformN) {
            title->setText(QCoreApplication::translate("ReportChart", "%1: searched vs uniform, mean ± sd over %2 results")
                               .arg(arch)
                               .arg(searchedN));
        } else {
            title->setText(QCoreApplication::translate("ReportChart", "%1: searched vs uniform, mean ± sd (n = %2 vs %3)")
                               .arg(arch)
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
