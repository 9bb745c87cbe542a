#pragma once
// Charts of the evaluation reports, rendered with QCustomPlot (used by the CLI for PNG files
// and by the app's report view).

#include "metaprune/compare.h"

#include <QString>

class QCustomPlot;

/// Draws `report` into `plot`: per MACs target, the searched structure's and the uniform
/// baseline's mean test top-1 (percent) as grouped bars with a ±1 standard deviation error bar.
/// `compact`: a two-line title (architecture, then the counts) for a narrow panel; the one-line
/// title of the saved charts is the plot's minimum width.
void drawCompareChart(QCustomPlot* plot, const mp::CompareReport& report, bool compact = false);

/// Renders the comparison chart to a PNG file of `width` x `height` pixels. Needs a
/// QApplication (any platform plugin, offscreen included). Returns false with `error` set when
/// the file cannot be written.
bool saveCompareChart(const mp::CompareReport& report, const QString& pngPath, int width, int height, QString* error);
