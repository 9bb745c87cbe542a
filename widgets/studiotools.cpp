#include "studiotools.h"

#include "mainwindow.h"
#include "budgetview.h"
#include "paretoplot.h"
#include "searchpanel.h"
#include "structurepanel.h"
#include "trainingpanel.h"

#include "metaprune/search.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QMouseEvent>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <random>

namespace mpw {

namespace {

/// Runs the event loop until `signal` fires or `ms` pass; true when it fired.
template <typename Sender, typename Signal>
bool waitFor(Sender* sender, Signal signal, int ms) {
    QEventLoop loop;
    bool fired = false;
    const QMetaObject::Connection c = QObject::connect(sender, signal, &loop, [&] {
        fired = true;
        loop.quit();
    });
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
    QObject::disconnect(c);
    return fired;
}

void settle(int ms) {
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms)
        QApplication::processEvents(QEventLoop::AllEvents, 20);
}

bool waitForCheckpoint(MainWindow& w) {
    return w.hasCheckpoint() || (w.loadingCheckpoint() && waitFor(&w, &MainWindow::checkpointLoaded, 120000));
}

void sendMouse(QWidget* target, QEvent::Type type, const QPointF& pos, Qt::MouseButton button, Qt::MouseButtons buttons) {
    QMouseEvent e(type, pos, target->mapToGlobal(pos), button, buttons, Qt::NoModifier);
    QApplication::sendEvent(target, &e);
}

struct Stats {
    double median = 0, p95 = 0, max = 0;
};

Stats stats(std::vector<double> v) {
    Stats s;
    if (v.empty())
        return s;
    std::sort(v.begin(), v.end());
    s.median = v[v.size() / 2];
    s.p95 = v[std::min(v.size() - 1, size_t(0.95 * double(v.size())))];
    s.max = v.back();
    return s;
}

/// The gaps (ms) between the ticks of a 5 ms timer while this lives: how long the event loop
/// stalls while other work runs.
class EventLoopGaps {
public:
    EventLoopGaps() {
        tick_.setInterval(5);
        QObject::connect(&tick_, &QTimer::timeout, [this] {
            const qint64 now = clock_.nsecsElapsed();
            gaps_.push_back(double(now - last_) / 1e6);
            last_ = now;
        });
        clock_.start();
        last_ = clock_.nsecsElapsed();
        tick_.start();
    }
    /// The gaps so far; the next call counts from here.
    Stats take() {
        const Stats s = stats(gaps_);
        gaps_.clear();
        return s;
    }

private:
    QTimer tick_;
    QElapsedTimer clock_;
    qint64 last_ = 0;
    std::vector<double> gaps_;
};

} // namespace

int saveScreenshot(MainWindow& window, const QString& path, Shot shot, int trainingSeconds) {
    const bool training = shot == Shot::Training;
    window.resize(kShotWidth, kShotHeight);
    window.show();
    if (training) {
        window.startTraining();
        settle(trainingSeconds * 1000);
    } else if (!window.loadingCheckpoint() && !window.hasCheckpoint()) {
        settle(500); // a project without a trained PruningNet: the window as it is
    } else {
        if (!waitForCheckpoint(window)) {
            std::fprintf(stderr, "metaprune-studio: the project's PruningNet could not be loaded: %s\n",
                         qPrintable(window.lastError()));
            return 1;
        }
        const auto& front = window.plot()->model().front();
        if (!front.empty()) {
            window.selectCandidate(front.back().id);
            if (const auto u = window.plot()->model().uniformAtLeast(front.back().macs))
                window.compareCandidate(u->id);
            if (window.structure()->baseline()) // the paired test's line, not "computing..."
                waitFor(&window, &MainWindow::pairedShown, 60000);
        }
        if (shot == Shot::Budget) {
            window.showBudget();
            BudgetView* budget = window.budget();
            budget->setBudget(budget->model().minBudget() +
                              0.5 * (budget->model().maxBudget() - budget->model().minBudget()));
        }
        if (shot == Shot::Reports)
            window.showReports();
        settle(1500);
    }
    const bool ok = window.grab().save(path);
    if (training)
        window.cancelAll();
    if (!ok) {
        std::fprintf(stderr, "metaprune-studio: cannot write %s\n", qPrintable(path));
        return 1;
    }
    std::printf("saved %s\n", qPrintable(path));
    return 0;
}

int exportHeatMap(MainWindow& window, const QString& path) {
    window.resize(kShotWidth, kShotHeight);
    window.show();
    if (!waitForCheckpoint(window)) {
        std::fprintf(stderr, "metaprune-studio: the project has no trained PruningNet: no heat map to export\n");
        return 1;
    }
    window.showBudget();
    settle(300);
    if (window.budget()->model().empty()) {
        std::fprintf(stderr, "metaprune-studio: the project has no searched structures: no heat map to export\n");
        return 1;
    }
    QString error;
    if (!window.budget()->exportHeatMap(path, &error)) {
        std::fprintf(stderr, "metaprune-studio: %s\n", qPrintable(error));
        return 1;
    }
    std::printf("saved %s\n", qPrintable(path));
    return 0;
}

int runGuiBenchmark(MainWindow& window, int probes, const QString& scratchProject) {
    window.resize(kShotWidth, kShotHeight);
    window.show();
    if (!waitForCheckpoint(window)) {
        std::fprintf(stderr, "metaprune-studio: the project has no trained PruningNet to probe\n");
        return 1;
    }
    // The budget view over one Play sweep: each morph frame (bars updated and drawn) and each
    // slider step (best structure looked up, heat map cursor, the plot's selection following).
    BudgetView* budget = window.budget();
    if (!budget->model().empty()) {
        window.showBudget();
        settle(300);
        BudgetView::FrameLog log;
        budget->setFrameLog(&log);
        QElapsedTimer sweep;
        sweep.start();
        // Everything else the event loop does meanwhile (queued replots of the plot and the
        // Structure panel following the selection).
        EventLoopGaps gaps;
        budget->setPlaying(true);
        while (budget->isPlaying() && sweep.elapsed() < 120000)
            QApplication::processEvents(QEventLoop::AllEvents, 20);
        settle(2 * BudgetView::kMorphMs);
        const Stats g = gaps.take();
        budget->setFrameLog(nullptr);
        const Stats f = stats(log.frameWall), c = stats(log.frameCpu), st = stats(log.step);
        const auto over = std::count_if(log.frameWall.begin(), log.frameWall.end(), [](double ms) { return ms >= 16; });
        std::printf("budget view while playing (one sweep, %.1f s, %zu structures on the front): %zu morph frames, "
                    "wall clock median %.1f ms, p95 %.1f ms, max %.1f ms, %td of them 16 ms or more (target every "
                    "frame < 16 ms: %s); thread CPU per frame median %.1f ms, max %.1f ms; %zu slider steps (heat map "
                    "cursor, plot selection following) median %.1f ms, p95 %.1f ms, max %.1f ms; event loop longest "
                    "gap %.0f ms (p95 %.0f ms)\n",
                    double(sweep.elapsed()) / 1000, budget->model().fronts().front().size(), log.frameWall.size(),
                    f.median, f.p95, f.max, over, f.max < 16 ? "met" : "MISSED", c.median, c.max, log.step.size(),
                    st.median, st.p95, st.max, g.max, g.p95);
        std::fflush(stdout);
    } else {
        std::printf("budget view: the project has no searched structures, not measured\n");
    }
    // Probe latency: a real drag of a bar's top to another height, released; timed until the
    // quick top-1 is on screen, then until the refined one is.
    WidthEditor* editor = window.structure()->editor();
    QCustomPlot* plot = editor->plotWidget();
    std::mt19937 rng(5);
    std::vector<double> quick, refined;
    for (int i = 0; i < probes; ++i) {
        const int layer = std::uniform_int_distribution<int>(0, editor->layerCount() - 1)(rng);
        const int gene = editor->geneOfLayer(layer);
        const mp::ArchSpec& a = editor->architecture();
        const int now = editor->encoding()[size_t(gene)];
        int target = std::uniform_int_distribution<int>(0, mp::grid::kSize - 1)(rng);
        if (mp::geneChannelsAt(a.genes[size_t(gene)], target) ==
            mp::geneChannelsAt(a.genes[size_t(gene)], now))
            target = now > 15 ? 0 : mp::grid::kSize - 1;
        const QPointF from = editor->pixelFor(layer, mp::geneChannelsAt(a.genes[size_t(gene)], now));
        const QPointF to = editor->pixelFor(layer, mp::geneChannelsAt(a.genes[size_t(gene)], target));
        sendMouse(plot, QEvent::MouseButtonPress, from, Qt::LeftButton, Qt::LeftButton);
        sendMouse(plot, QEvent::MouseMove, to, Qt::NoButton, Qt::LeftButton);
        QElapsedTimer t;
        bool gotQuick = false, gotRefined = false;
        QEventLoop loop;
        const auto c = QObject::connect(&window, &MainWindow::probeShown, &loop, [&](double, bool isRefined) {
            if (!gotQuick) {
                quick.push_back(double(t.nsecsElapsed()) / 1e6);
                gotQuick = true;
            }
            if (isRefined) {
                refined.push_back(double(t.nsecsElapsed()) / 1e6);
                gotRefined = true;
                loop.quit();
            }
        });
        QTimer::singleShot(30000, &loop, &QEventLoop::quit);
        t.start();
        sendMouse(plot, QEvent::MouseButtonRelease, to, Qt::LeftButton, Qt::NoButton);
        if (!gotRefined)
            loop.exec();
        QObject::disconnect(c);
    }
    const Stats q = stats(quick), r = stats(refined);
    std::printf("probe latency, release -> top-1 on screen (%zu drags): quick estimate median %.0f ms, p95 %.0f ms "
                "(target p95 < 150 ms: %s); refined median %.0f ms, p95 %.0f ms\n",
                quick.size(), q.median, q.p95, q.p95 < 150 ? "met" : "MISSED", r.median, r.p95);
    std::fflush(stdout);

    // Event-loop stalls: a 5 ms timer's gaps while a short training, then a short search run.
    if (!window.openProject(scratchProject))
        return 1;
    mp::TrainConfig cfg = window.trainingPanel()->config();
    cfg.epochs = 1;
    window.trainingPanel()->setConfig(cfg);
    EventLoopGaps gaps;
    window.startTraining();
    if (!waitFor(&window, &MainWindow::trainingFinished, 1800000) || !waitForCheckpoint(window)) {
        std::fprintf(stderr, "metaprune-studio: the benchmark's training did not finish\n");
        return 1;
    }
    const Stats trainGaps = gaps.take();
    window.searchPanel()->setPopulationAndGenerations(20, 3);
    window.startSearch();
    if (!waitFor(&window, &MainWindow::searchFinished, 1800000)) {
        std::fprintf(stderr, "metaprune-studio: the benchmark's search did not finish\n");
        return 1;
    }
    const Stats searchGaps = gaps.take();
    std::printf("event loop while training: longest stall %.0f ms (p95 gap %.0f ms; target < 50 ms: %s)\n",
                trainGaps.max, trainGaps.p95, trainGaps.max < 50 ? "met" : "MISSED");
    std::printf("event loop while searching: longest stall %.0f ms (p95 gap %.0f ms; target < 50 ms: %s)\n",
                searchGaps.max, searchGaps.p95, searchGaps.max < 50 ? "met" : "MISSED");
    return 0;
}

} // namespace mpw
