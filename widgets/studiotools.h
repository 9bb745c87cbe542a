#pragma once
// Non-interactive uses of the desktop app: window screenshots for the README, and the GUI
// benchmark (probe latency from releasing a dragged bar to the top-1 on screen, and event-loop
// stalls while training and searching run). Both drive a real MainWindow.

#include <QString>

namespace mpw {

class MainWindow;

/// What a README screenshot shows.
enum class Shot {
    Pareto,   ///< the front's best point selected, the uniform baseline overlaid
    Training, ///< a training of the panel's settings in progress
    Reports,  ///< as Pareto, with the Reports tab (comparison chart and table) raised
    Budget,   ///< the Budget tab raised, its slider at half of the full network's cost
};

/// The window size of screenshots and of the first-run layout test (README images).
constexpr int kShotWidth = 1280;
constexpr int kShotHeight = 800;

/// Waits until the project's PruningNet is loaded (a project without a finished training is
/// shot as it is), sets up `shot` and saves the window to `path`; a Training shot waits until
/// the curve has `trainingSeconds` of progress. Returns 0, or 1 with a message on stderr.
int saveScreenshot(MainWindow& window, const QString& path, Shot shot, int trainingSeconds);

/// Writes the budget view's widths-vs-budget heat map of the project as PNG or SVG (by the
/// suffix). Returns 0, or 1 with a message on stderr.
int exportHeatMap(MainWindow& window, const QString& path);

/// Prints the budget view's frame and step times over one Play sweep (full -> smallest ->
/// full), probe latency (median, p95 over `probes` simulated drags) and the event loop's
/// longest stall while a short training and a short search run in `scratchProject`.
/// Returns 0, or 1 with a message on stderr.
int runGuiBenchmark(MainWindow& window, int probes, const QString& scratchProject);

} // namespace mpw
