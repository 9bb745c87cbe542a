#pragma once
// The budget view, for showing a room how widths shift as the budget tightens: a slider (and
// spin box) over the budget in MACs or predicted latency (the plot's x axis); for each position
// the best stored structure within it beside the uniform baseline within it, as bars that morph
// from one structure to the next; a Play button that sweeps full -> smallest -> full; and the
// widths-vs-budget heat map (layers x budget, colour = fraction of channels kept). Everything
// comes from the stored candidates the plot shows; nothing is evaluated.

#include "budgetmodel.h"
#include "metatypes.h"

#include <QWidget>

#include <optional>

class QAbstractButton;
class QComboBox;
class QCPColorMap;
class QCPItemStraightLine;
class QCPBars;
class QCPLayer;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QMouseEvent;
class QPushButton;
class QSlider;
class QTimer;
class QVariantAnimation;

namespace mpw {

class BudgetView : public QWidget {
    Q_OBJECT
public:
    /// Morph duration (ms) and the Play sweep's time per slider step (ms): a full sweep down
    /// and back takes 2 * BudgetModel::kSteps steps, 24 s.
    static constexpr int kMorphMs = 220;
    static constexpr int kPlayStepMs = 60;

    explicit BudgetView(QWidget* parent = nullptr);

    void setArchitecture(const mp::ArchSpec& arch);
    /// Rebuilds from the plot's points (stored, sound candidates) along MACs or latency; keeps
    /// the budget where it was (clamped to the new range).
    void setPoints(const std::vector<PlotPoint>& points, bool latencyAxis);
    /// The runs offered besides "all runs" (search runs of the loaded PruningNet).
    void setRuns(const std::vector<mp::RunRecord>& runs, const std::string& checkpointSha256);
    /// Restricts the view to one run's front (0: all runs).
    void setRun(int64_t runId);
    int64_t run() const { return runId_; }

    const BudgetModel& model() const { return model_; }
    /// The budget in MACs or ms (as the model's cost).
    double budget() const { return budget_; }
    /// Moves the slider to `cost` (clamped), updates the bars and emits the chosen structure.
    void setBudget(double cost);
    std::optional<PlotPoint> currentBest() const { return best_; }
    std::optional<PlotPoint> currentUniform() const { return uniform_; }

    void setPlaying(bool playing);
    bool isPlaying() const;

    /// Writes the heat map as PNG or SVG (by the file's suffix). False with `error` set when
    /// the suffix is neither or the file cannot be written.
    bool exportHeatMap(const QString& path, QString* error);

    /// Times (ms) the app's --bench reads: each morph frame's wall-clock and thread CPU time
    /// (on a shared machine the wall clock includes time the thread waited for a core), and
    /// each slider step's wall-clock time.
    struct FrameLog {
        std::vector<double> frameWall, frameCpu, step;
    };
    /// Starts (a log) or stops (nullptr) recording.
    void setFrameLog(FrameLog* log) { log_ = log; }

    /// The summary above the bars (rich text): the best searched and uniform structures within
    /// the budget and their difference.
    QString summaryText() const;
    QSlider* slider() const { return slider_; }
    QDoubleSpinBox* budgetBox() const { return box_; }
    QPushButton* playButton() const { return play_; }
    QComboBox* runBox() const { return runs_; }
    QCustomPlot* barsPlot() const { return bars_; }
    QCustomPlot* heatMapPlot() const { return heat_; }
    QCPColorMap* heatMap() const { return map_; }
    /// Pixel (heatMapPlot() coordinates) of heat map column `column`, bar `layer`.
    QPointF heatMapPixel(int column, int layer) const;
    /// The displayed (possibly mid-morph) channels of the best structure's bars.
    std::vector<double> displayedChannels() const { return shown_; }

signals:
    /// The best structure and the uniform baseline within the budget changed (0: none).
    void structureChosen(qint64 best, qint64 uniform);
    void budgetChanged(double cost);

private:
    double unit() const; ///< model cost per displayed unit (1e6 MACs, or 1 ms)
    void setControlsEnabled(bool enabled);
    /// Shows the structures within budget_; `user`: a move of the user's (or Play's), which
    /// emits structureChosen when they changed.
    void apply(bool animate, bool user);
    void rebuildHeatMap();
    void startMorph();
    void drawFrame(double t);
    void playStep();
    void onHeatMove(QMouseEvent* e);
    void onHeatPress(QMouseEvent* e);
    /// Heat map column and layer under a pixel, or false.
    bool cellAt(const QPointF& pos, int* column, int* layer) const;

    BudgetModel model_;
    std::vector<PlotPoint> points_;
    int64_t runId_ = 0;
    double budget_ = 0;
    bool haveBudget_ = false;
    std::optional<PlotPoint> best_, uniform_;
    qint64 chosenBest_ = -1, chosenUniform_ = -1; ///< last emitted by structureChosen

    QComboBox* runs_;
    QSlider* slider_;
    QDoubleSpinBox* box_;
    QPushButton* play_;
    QPushButton* export_;
    QLabel* summary_;
    QCustomPlot* bars_;
    QCPBars* maxBars_ = nullptr;
    QCPBars* bestBars_ = nullptr;
    QCPBars* uniformBars_ = nullptr;
    QCPLayer* morphLayer_ = nullptr;
    QCPLayer* cursorLayer_ = nullptr;
    QCustomPlot* heat_;
    QCPColorMap* map_ = nullptr;
    QCPItemStraightLine* cursor_ = nullptr;
    QVariantAnimation* morph_;
    QTimer* playTimer_;
    int playDirection_ = -1;
    bool playReturned_ = false;

    // Morph: bars move from `from` to `to` (channels per layer); `shown` is on screen.
    std::vector<double> from_, to_, shown_, fromU_, toU_, shownU_;
    FrameLog* log_ = nullptr;
};

} // namespace mpw
