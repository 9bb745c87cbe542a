#pragma once
// The evaluation step in the app: retrain the selected structure, compare searched structures
// with uniform baselines at MACs targets (chart + table), and measure how far the PruningNet's
// ranking agrees with retrained accuracy (Kendall's tau, Spearman's rho).

#include "metaprune/compare.h"

#include <QWidget>

class QComboBox;
class QCustomPlot;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTextBrowser;

namespace mpw {

class ReportPanel : public QWidget {
    Q_OBJECT
public:
    explicit ReportPanel(QWidget* parent = nullptr);

    /// The retraining recipe the controls describe (seed 0: each job sets its own).
    mp::RetrainConfig recipe() const;
    /// The comparison the controls describe (compare.h, the CLI's `compare`): targets 50%, 25%
    /// and 12.5% of the full MACs, the pairing, the recipe, retraining seeds 1..n, search seeds
    /// 1..m and the PruningNet seeds `pruningnetSeed`.. (the loaded PruningNet's own seed first,
    /// the others trained with its settings); the searches use the reference settings.
    mp::CompareConfig compareConfig(uint64_t pruningnetSeed) const;
    int samples() const;
    /// Processes the comparison and the fidelity study run their units on (--jobs).
    int jobs() const;

    void setReady(bool ready); ///< a trained PruningNet is loaded
    void setRunning(bool running);
    void showProgress(const QString& stage, qint64 done, qint64 total);
    void setStatus(const QString& text);
    void showCompare(const std::optional<mp::CompareReport>& report);
    /// Retraining results of the selected candidate (none: candidateId 0).
    void showRetrains(int64_t candidateId, const std::vector<mp::RetrainRecord>& runs);
    QPushButton* retrainButton() const { return retrain_; }
    QPushButton* fidelityButton() const { return fidelity_; }
    QComboBox* modeBox() const { return mode_; }
    QComboBox* pairingBox() const { return pairing_; }
    QSpinBox* epochsBox() const { return epochs_; }
    QSpinBox* seedsBox() const { return seeds_; }
    QSpinBox* searchSeedsBox() const { return searchSeeds_; }
    QSpinBox* pruningnetsBox() const { return pruningnets_; }
    QSpinBox* samplesBox() const { return samples_; }
    QLabel* selectedLabel() const { return selected_; }
    QCustomPlot* chartWidget() const { return chart_; }

signals:
    void retrainRequested();
    void compareRequested();
    void fidelityRequested();
    void cancelRequested();

private:
    QComboBox* mode_;
    QSpinBox* epochs_;
    QSpinBox* seeds_;
    QSpinBox* searchSeeds_;
    QSpinBox* pruningnets_;
    QComboBox* pairing_;
    QSpinBox* samples_;
    QSpinBox* jobs_;
    QPushButton* retrain_;
    QPushButton* compare_;
    QPushButton* fidelity_;
    QPushButton* cancel_;
    QProgressBar* bar_;
    QLabel* status_;
    QLabel* selected_;
    QCustomPlot* chart_;
    QTextBrowser* report_;
    bool ready_ = false;
    bool running_ = false;
};

/// The one-line verdict shown above the Pareto front: Kendall's tau (with its 95% bootstrap
/// interval) and Spearman's rho of a fidelity study, MACs alone beside them, or how to run one.
/// `band`: the study is the in-band one of this band (issue 14.3), not the whole-range one.
QString fidelityText(const std::optional<mp::FidelityReport>& report, const QString& band = QString());

} // namespace mpw
