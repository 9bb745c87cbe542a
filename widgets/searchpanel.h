#pragma once
// Search controls: the MACs constraint (max, or a [min, max] band, in percent of the full
// network), the evolutionary settings, start/cancel, progress, and the project's runs.

#include "metatypes.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTreeWidget;

namespace mpw {

class SearchPanel : public QWidget {
    Q_OBJECT
public:
    explicit SearchPanel(QWidget* parent = nullptr);

    /// Full-network MACs, to turn the percentages into MACs.
    void setFullMacs(int64_t macs);
    mp::SearchConfig config() const;
    void setPopulationAndGenerations(int population, int generations);
    /// Processes that score each generation (1: the app alone; more: a sharded search, workers.h).
    int processes() const;
    void setProcesses(int n);
    void setSeed(uint64_t seed);
    void setMaxLatency(double ms);
    void setRunning(bool running);
    void setReady(bool ready); ///< a trained PruningNet is loaded
    void showProgress(int64_t done, int64_t total);
    void setStatus(const QString& text);
    void setRuns(const std::vector<mp::RunRecord>& runs);
    QComboBox* colorModeBox() const { return colorMode_; }
    /// Error bars on the plot's points (95% binomial intervals).
    QCheckBox* errorBarsBox() const { return errorBars_; }
    QComboBox* axisBox() const { return axis_; }
    /// Whether a latency table of this machine is loaded, and which.
    void setLatencyTable(bool available, const QString& description);
    void showLatencyProgress(int64_t done, int64_t total);

signals:
    void searchRequested();
    void cancelRequested();
    void measureLatencyRequested();

private:
    QDoubleSpinBox* maxPct_;
    QDoubleSpinBox* minPct_;
    QSpinBox* population_;
    QSpinBox* generations_;
    QSpinBox* seed_;
    QSpinBox* processes_;
    QComboBox* colorMode_;
    QCheckBox* errorBars_;
    QDoubleSpinBox* maxLatency_;
    QDoubleSpinBox* minLatency_;
    QComboBox* axis_;
    QPushButton* measure_;
    QLabel* latencyStatus_;
    bool haveLatency_ = false;
    QPushButton* search_;
    QPushButton* cancel_;
    QProgressBar* bar_;
    QLabel* status_;
    QTreeWidget* runs_;
    int64_t fullMacs_ = 0;
    bool running_ = false;
    bool ready_ = false;
};

} // namespace mpw
