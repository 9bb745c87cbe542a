#pragma once
// MetaPrune Studio's window: the Pareto plot in the centre, training and search controls on
// the left, the selected structure on the right. Training, search and probes run on worker
// threads; the GUI thread only reads the project database and draws.

#include "metatypes.h"

#include "metaprune/compare.h"
#include "metaprune/latency.h"
#include "paretomodel.h"

#include <QMainWindow>

#include <map>
#include <memory>
#include <optional>

class QDockWidget;
class QLabel;
class QThread;
class QMenu;
class QTimer;

namespace mp {
class Store;
}

namespace mpw {

class BudgetView;
class ParetoPlot;
class ProbeWorker;
class ReportPanel;
class ReportWorker;
class SearchPanel;
class SearchWorker;
class StructurePanel;
class TrainWorker;
class TrainingPanel;

/// Registers the icons (a static library's resources); call once before creating widgets.
void initResources();

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Opens or creates a project file. Shows the error and returns false when it cannot.
    bool openProject(const QString& path);
    /// Opens (or creates) a project to train the architecture of an architecture file or ONNX
    /// model (imported): the Training panel offers it. Shows the error and returns false when
    /// the file cannot be read; no project is opened then.
    bool newProjectFromArchitecture(const QString& archPath, const QString& projectPath);
    /// Opens (or creates) `projectPath` for the trained model `arch` (imported with its weights
    /// and normalisation) on `dataPath`: the training form gets the description, the warm
    /// start and its learning rate; `top1` is the model's own test-set top-1, for the status bar.
    bool newProjectFromTrainedModel(const mp::ArchSpec& arch, const QString& dataPath, const QString& projectPath,
                                    double top1);
    /// The demo: trains with the default settings if the project has no finished training,
    /// then searches at 50% of the full network's MACs with the reference settings.
    void startDemo();

    const QString& projectPath() const { return dbPath_; }
    bool isBusy() const { return training_ || searching_ || measuring_ || reporting_; }
    bool hasCheckpoint() const { return arch_.has_value(); }
    /// The PruningNet is being loaded (checkpointLoaded() follows, or an error).
    bool loadingCheckpoint() const { return loadingCheckpoint_; }
    ParetoPlot* plot() const { return plot_; }
    StructurePanel* structure() const { return structure_; }
    TrainingPanel* trainingPanel() const { return trainingPanel_; }
    SearchPanel* searchPanel() const { return searchPanel_; }
    ReportPanel* reportPanel() const { return reportPanel_; }
    BudgetView* budget() const { return budget_; }
    /// The fidelity verdict above the Pareto front.
    QLabel* trustLabel() const { return trust_; }
    /// Names the damaged stored rows kept off the plot (hidden when there are none).
    QLabel* damageLabel() const { return damage_; }
    int64_t selectedCandidate() const { return selectedId_; }
    /// The last error shown, for tests.
    const QString& lastError() const { return lastError_; }

public slots:
    void startTraining();
    void startSearch();
    /// Measures (or reuses) this machine's latency table for the loaded architecture.
    void startLatencyTable();
    void cancelAll();
    void selectCandidate(qint64 id);
    /// Overlays a candidate's widths on the selected one's (the side-by-side comparison).
    void compareCandidate(qint64 id);
    /// Raises the Reports tab.
    void showReports();
    /// Raises the Budget tab (beside Structure).
    void showBudget();
    /// Retrains the selected structure with the Reports panel's recipe (seed 1), in the background.
    void startRetrain();
    /// Searched vs uniform at 50%, 25% and 12.5% of the full MACs, retrained (compare.h).
    void startCompare();
    /// The proxy-fidelity study with the Reports panel's settings.
    void startFidelity();

signals:
    void projectLoaded();
    void checkpointLoaded();
    void trainingFinished(bool completed);
    void searchFinished(bool completed);
    void latencyTableReady();
    /// A retraining, comparison or fidelity job ended (`completed` false: cancelled or failed).
    void reportFinished(bool completed);
    /// The demo's search ended and its result is on screen: `best` (the best searched structure
    /// within the constraint) selected, `uniform` (equal-or-higher MACs, 0: none) compared.
    void demoFinished(qint64 best, qint64 uniform);
    /// A probe's top-1 is on screen (quick estimate or refined result).
    void probeShown(double top1, bool refined);
    /// The paired test of the selected structure against its uniform baseline is on screen.
    void pairedShown(const QString& text);
    void errorShown(const QString& message);

protected:
    void closeEvent(QCloseEvent* e) override;
    /// Side docks keep their share of the window's width as it grows or shrinks.
    void resizeEvent(QResizeEvent* e) override;

private:
    void buildMenus();
    void shutdown();
    void updateRecentMenu();
    void rememberProject(const QString& path);
    void showError(const QString& message);
    void reloadTrainings();
    void reloadPlot();
    void reloadReports();
    bool reportJobAllowed();
    void loadCheckpoint();
    /// `searchSplitImages` < 0 keeps the count known so far.
    void onCheckpointLoaded(const QString& archJson, qint64 searchSplitImages = -1);
    void onCandidateClicked(qint64 id);
    void onEdited(const mp::Encoding& enc);
    void exportStructure(const mp::Encoding& enc);
    void setSetting(const char* key, const QString& value);
    PlotPoint pointOf(const mp::CandidateRecord& c) const;
    /// Why a stored row cannot be shown (candidateDamage under the loaded architecture), or empty.
    std::string damageOf(const mp::CandidateRecord& c) const;
    /// The line above the plot: the fidelity verdict, led by a warning when the PruningNet has not learned.
    QString trustText() const;
    /// Asks the probe worker for the paired test of the structure in the editor against the
    /// Structure panel's uniform baseline (issue 14.2).
    void requestPairedTest();
    /// The cost band of the selected point's search run (or of the latest search run).
    std::optional<mp::CostBand> selectedRunBand() const;
    /// Starts the search; a PruningNet that has not learned is refused unless `allowUnlearned`
    /// (the user's "Search anyway").
    void runSearch(bool allowUnlearned);
    /// The demo's last step: selects the best structure of search run `runId` within its MACs
    /// constraint, compares it with the uniform network of equal-or-higher MACs and readies the
    /// budget view.
    void finishDemo(qint64 runId);
    /// Hands the plot's points to the budget view now (or, with `later`, once a burst of
    /// arriving candidates has passed).
    void refreshBudget(bool later = false);
    /// Window size and dock widths for a first run (no saved settings): a share of the screen.
    void applyDefaultLayout();

    ParetoPlot* plot_;
    StructurePanel* structure_;
    TrainingPanel* trainingPanel_;
    SearchPanel* searchPanel_;
    ReportPanel* reportPanel_;
    BudgetView* budget_;
    QTimer* budgetTimer_;
    QLabel* trust_;
    QLabel* damage_;
    QMenu* recentMenu_ = nullptr;
    QDockWidget* trainingDock_ = nullptr;
    QDockWidget* searchDock_ = nullptr;
    QDockWidget* reportDock_ = nullptr;
    QDockWidget* structureDock_ = nullptr;
    QDockWidget* budgetDock_ = nullptr;
    bool loadingCheckpoint_ = false;
    bool restoredLayout_ = false; ///< the window's geometry and docks came from saved settings
    bool laidOut_ = false;

    QThread* trainThread_;
    QThread* searchThread_;
    QThread* probeThread_;
    QThread* reportThread_;
    TrainWorker* trainWorker_;
    SearchWorker* searchWorker_;
    ProbeWorker* probeWorker_;
    ReportWorker* reportWorker_;

    QString dbPath_;
    std::unique_ptr<mp::Store> store_;
    std::optional<mp::TrainingRecord> current_;
    std::optional<mp::ArchSpec> arch_;
    int64_t searchSplitImages_ = 0;        ///< of the loaded PruningNet's data (0: not loaded)
    std::map<int64_t, int64_t> runImages_; ///< run id -> its evalImages setting (-1: unreadable)
    bool training_ = false;
    bool searching_ = false;
    bool measuring_ = false;
    bool reporting_ = false;
    std::optional<mp::LatencyTable> latency_;
    QString latencyDescription_;
    bool demo_ = false;
    bool shutDown_ = false;
    quint64 probeSeq_ = 0;
    quint64 pairedSeq_ = 0;
    int64_t selectedId_ = 0;
    int64_t comparedId_ = 0;
    QString lastError_;
};

} // namespace mpw
