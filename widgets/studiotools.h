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
};

/// Waits until the project's PruningNet is loaded, sets up `shot` and saves the window to
/// `path`; a Training shot waits until the curve has `trainingSeconds` of progress. Returns 0,
/// or 1 with a message on stderr.
int saveScreenshot(MainWindow& window, const QString& path, Shot shot, int trainingSeconds);

/// Prints probe latency (median, p95 over `probes` simulated drags) and the event loop's
/// longest stall while a short training and a short search run in `scratchProject`.
/// Returns 0, or 1 with a message on stderr.
int runGuiBenchmark(MainWindow& window, int probes, const QString& scratchProject);

} // namespace mpw
