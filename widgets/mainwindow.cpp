#include "mainwindow.h"
#include "trainedmodeldialog.h"

#include "budgetview.h"
#include "paretoplot.h"
#include "reportpanel.h"
#include "searchpanel.h"
#include "structurepanel.h"
#include "trainingpanel.h"
#include "workers.h"

#include "metaprune/compare.h"
#include "metaprune/onnx_import.h"
#include "metaprune/search.h"
#include "metaprune/store.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QGuiApplication>
#include <QFileDialog>
#include <QJsonDocument>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QResizeEvent>
#include <QScreen>
#include <QScrollArea>
#include <QCheckBox>
#include <QSettings>
#include <QStatusBar>
#include <QThread>
#include <QTimer>
#include <QUndoStack>
#include <QVBoxLayout>

// Resources of a static library must be initialised explicitly, from the global namespace.
static void initStudioResources() { Q_INIT_RESOURCE(resources); }

namespace mpw {

void initResources() { initStudioResources(); }

namespace {
constexpr int kMaxRecent = 8;

QDockWidget* dock(const QString& title, const QString& name, QWidget* content, QWidget* parent) {
    auto* d = new QDockWidget(title, parent);
    d->setObjectName(name); // saveState() needs it
    auto* scroll = new QScrollArea;
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    d->setWidget(scroll);
    return d;
}

template <typename W>
QThread* startThread(W* worker, QObject* parent) {
    auto* thread = new QThread(parent);
    worker->moveToThread(thread);
    QObject::connect(thread, &QThread::finished, worker, &QObject::deleteLater);
    thread->start();
    return thread;
}
} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), plot_(new ParetoPlot), structure_(new StructurePanel), trainingPanel_(new TrainingPanel),
      searchPanel_(new SearchPanel), reportPanel_(new ReportPanel), budget_(new BudgetView), budgetTimer_(new QTimer(this)),
      trust_(new QLabel), damage_(new QLabel),
      trainWorker_(new TrainWorker),
      searchWorker_(new SearchWorker), probeWorker_(new ProbeWorker), reportWorker_(new ReportWorker) {
    registerMetaTypes();
    setWindowTitle(tr("MetaPrune Studio"));
    setWindowIcon(QIcon(":/icons/app.png"));
    auto* centre = new QWidget;
    auto* centreLayout = new QVBoxLayout(centre);
    centreLayout->setContentsMargins(4, 4, 4, 0);
    trust_->setWordWrap(true);
    trust_->setText(fidelityText(std::nullopt));
    centreLayout->addWidget(trust_);
    damage_->setWordWrap(true);
    damage_->setStyleSheet("color: #b00020");
    damage_->hide();
    centreLayout->addWidget(damage_);
    centreLayout->addWidget(plot_, 1);
    setCentralWidget(centre);
    QDockWidget* left = dock(tr("Training"), "training", trainingPanel_, this);
    QDockWidget* search = dock(tr("Search"), "search", searchPanel_, this);
    QDockWidget* reports = dock(tr("Reports"), "reports", reportPanel_, this);
    QDockWidget* right = dock(tr("Structure"), "structure", structure_, this);
    QDockWidget* budget = dock(tr("Budget"), "budget", budget_, this);
    addDockWidget(Qt::LeftDockWidgetArea, left);
    addDockWidget(Qt::LeftDockWidgetArea, search);
    addDockWidget(Qt::LeftDockWidgetArea, reports);
    tabifyDockWidget(left, search);
    tabifyDockWidget(search, reports);
    left->raise();
    reportDock_ = reports;
    addDockWidget(Qt::RightDockWidgetArea, right);
    addDockWidget(Qt::RightDockWidgetArea, budget);
    tabifyDockWidget(right, budget);
    right->raise();
    structure_->setMinimumWidth(460);
    budget_->setMinimumWidth(460);
    trainingDock_ = left;
    searchDock_ = search;
    structureDock_ = right;
    budgetDock_ = budget;
    budgetTimer_->setSingleShot(true);
    budgetTimer_->setInterval(400);
    connect(budgetTimer_, &QTimer::timeout, this, [this] { refreshBudget(false); });
    structure_->setUniformBaselines(&plot_->model());

    trainThread_ = startThread(trainWorker_, this);
    searchThread_ = startThread(searchWorker_, this);
    probeThread_ = startThread(probeWorker_, this);
    reportThread_ = startThread(reportWorker_, this);

    // Worker -> GUI: queued (the workers live on other threads).
    connect(trainWorker_, &TrainWorker::progress, this,
            [this](const mp::TrainProgress& p) { trainingPanel_->showProgress(p); }, Qt::QueuedConnection);
    connect(trainWorker_, &TrainWorker::started, this,
            [this](const QString& ckpt) {
                trainingPanel_->setStatus(tr("Loading data; checkpoint %1").arg(ckpt));
                trainingPanel_->clearCurve();
                statusBar()->showMessage(demo_ ? tr("Demo, step 1 of 2: training the PruningNet (progress in the "
                                                    "Training tab); the search at 50% of the full MACs follows.")
                                               : tr("Training the PruningNet (progress in the Training tab)."));
            },
            Qt::QueuedConnection);
    connect(trainWorker_, &TrainWorker::finished, this,
            [this](qint64 trainingId, bool completed, const QString& ckpt) {
                training_ = false;
                trainingPanel_->setRunning(false);
                trainingPanel_->setStatus(completed ? tr("Training %1 finished.").arg(trainingId)
                                                    : tr("Training cancelled; the checkpoint %1 is saved. Train "
                                                         "again with the same settings to resume.")
                                                          .arg(ckpt));
                setSetting("current_training", QString::number(trainingId));
                reloadTrainings();
                if (completed) {
                    loadCheckpoint();
                } else {
                    demo_ = false;
                    statusBar()->showMessage(tr("Training cancelled; its checkpoint is saved."), 15000);
                }
                emit trainingFinished(completed);
            },
            Qt::QueuedConnection);
    connect(trainWorker_, &TrainWorker::failed, this,
            [this](const QString& message) {
                training_ = false;
                demo_ = false;
                trainingPanel_->setRunning(false);
                trainingPanel_->setStatus(tr("Training failed."));
                statusBar()->clearMessage();
                reloadTrainings();
                showError(message);
                emit trainingFinished(false);
            },
            Qt::QueuedConnection);

    connect(searchWorker_, &SearchWorker::candidate, this,
            [this](const mp::CandidateRecord& c) {
                if (damageOf(c).empty()) { // a resumed run reports its stored rows, damaged ones too
                    plot_->addPoint(pointOf(c));
                    refreshBudget(true);
                }
            },
            Qt::QueuedConnection);
    connect(searchWorker_, &SearchWorker::progress, this,
            [this](qint64 done, qint64 total) { searchPanel_->showProgress(done, total); }, Qt::QueuedConnection);
    connect(searchWorker_, &SearchWorker::finished, this,
            [this](qint64 runId, bool completed) {
                searching_ = false;
                const bool demo = demo_;
                demo_ = false;
                searchPanel_->setRunning(false);
                searchPanel_->setStatus(completed ? tr("Search run %1 finished.").arg(runId)
                                                  : tr("Search run %1 cancelled; its candidates are stored. Search "
                                                       "again with the same settings to resume.")
                                                        .arg(runId));
                statusBar()->showMessage(completed ? tr("Search run %1 finished.").arg(runId)
                                                   : tr("Search run %1 cancelled.").arg(runId),
                                         15000);
                if (store_) {
                    searchPanel_->setRuns(store_->runs());
                    budget_->setRuns(store_->runs(), current_ ? current_->sha256 : std::string());
                }
                refreshBudget(false);
                if (completed && demo)
                    finishDemo(runId);
                emit searchFinished(completed);
            },
            Qt::QueuedConnection);
    connect(searchWorker_, &SearchWorker::notLearned, this,
            [this](const QString& message) {
                searching_ = false;
                demo_ = false;
                searchPanel_->setRunning(false);
                searchPanel_->setStatus(tr("Search refused: the PruningNet has not learned."));
                reloadTrainings(); // the check is stored with the training now
                reloadReports();
                // Non-modal, so that neither the event loop nor a headless test waits on it.
                auto* box = new QMessageBox(QMessageBox::Warning, tr("MetaPrune Studio"), message,
                                            QMessageBox::Cancel, this);
                box->setObjectName("notLearnedBox");
                box->setAttribute(Qt::WA_DeleteOnClose);
                QPushButton* anyway = box->addButton(tr("Search anyway"), QMessageBox::AcceptRole);
                connect(anyway, &QPushButton::clicked, this, [this] { runSearch(true); });
                box->open();
                emit searchFinished(false);
            },
            Qt::QueuedConnection);
    connect(searchWorker_, &SearchWorker::latencyProgress, this,
            [this](qint64 done, qint64 total) { searchPanel_->showLatencyProgress(done, total); },
            Qt::QueuedConnection);
    connect(searchWorker_, &SearchWorker::latencyReady, this,
            [this](const QString& json, const QString& description) {
                measuring_ = false;
                searchPanel_->setRunning(false);
                try {
                    latency_ = mp::LatencyTable::fromJson(json.toStdString());
                    latencyDescription_ = description;
                    searchPanel_->setLatencyTable(true, description);
                    reloadPlot();
                } catch (const std::exception& e) {
                    showError(QString::fromStdString(e.what()));
                }
                emit latencyTableReady();
            },
            Qt::QueuedConnection);
    connect(searchWorker_, &SearchWorker::failed, this,
            [this](const QString& message) {
                measuring_ = false;
                searching_ = false;
                demo_ = false;
                searchPanel_->setRunning(false);
                searchPanel_->setStatus(tr("Search failed."));
                statusBar()->clearMessage();
                showError(message);
                emit searchFinished(false);
            },
            Qt::QueuedConnection);

    connect(probeWorker_, &ProbeWorker::loaded, this, &MainWindow::onCheckpointLoaded, Qt::QueuedConnection);
    connect(probeWorker_, &ProbeWorker::quickResult, this,
            [this](quint64 id, const mp::Encoding& enc, double top1, double) {
                if (id != probeSeq_ || !arch_)
                    return; // a newer edit superseded it
                structure_->showPrediction(top1, false, 0);
                PlotPoint p;
                p.macs = mp::countMacs(*arch_, enc);
                p.top1 = top1;
                p.origin = "probe";
                p.latencyMs = latency_ ? latency_->predict(*arch_, enc) : 0;
                plot_->setPending(p);
                emit probeShown(top1, false);
            },
            Qt::QueuedConnection);
    connect(probeWorker_, &ProbeWorker::refinedResult, this,
            [this](quint64 id, const mp::CandidateRecord& c, double) {
                plot_->addPoint(pointOf(c));
                refreshBudget(true);
                if (id != probeSeq_)
                    return;
                plot_->setPending(std::nullopt);
                structure_->showPrediction(c.top1, true, c.id);
                selectedId_ = c.id;
                plot_->setSelected(c.id);
                setSetting("selected_candidate", QString::number(c.id));
                requestPairedTest();
                emit probeShown(c.top1, true);
            },
            Qt::QueuedConnection);
    connect(probeWorker_, &ProbeWorker::pairedResult, this,
            [this](quint64 id, const QString& text) {
                if (id != pairedSeq_)
                    return; // another structure is shown now
                structure_->showPairedDifference(text);
                emit pairedShown(text);
            },
            Qt::QueuedConnection);
    connect(probeWorker_, &ProbeWorker::exported, this,
            [this](const QString& path) { statusBar()->showMessage(tr("Exported %1").arg(path), 10000); },
            Qt::QueuedConnection);
    connect(probeWorker_, &ProbeWorker::failed, this,
            [this](const QString& message) {
                loadingCheckpoint_ = false; // a checkpoint that failed to load is not pending any more
                showError(message);
            },
            Qt::QueuedConnection);

    connect(reportWorker_, &ReportWorker::progress, this,
            [this](const QString& stage, qint64 done, qint64 total) { reportPanel_->showProgress(stage, done, total); },
            Qt::QueuedConnection);
    connect(reportWorker_, &ReportWorker::retrained, this,
            [this](qint64 id, double top1, bool reused) {
                reporting_ = false;
                reportPanel_->setRunning(false);
                reportPanel_->setStatus(reused ? tr("Candidate %1 was already retrained with this recipe: %2% test "
                                                    "top-1.")
                                                     .arg(id)
                                                     .arg(top1, 0, 'f', 2)
                                               : tr("Candidate %1 retrained: %2% test top-1.").arg(id).arg(top1, 0, 'f', 2));
                reloadReports();
                emit reportFinished(true);
            },
            Qt::QueuedConnection);
    connect(reportWorker_, &ReportWorker::compared, this,
            [this](const QString&) {
                reporting_ = false;
                reportPanel_->setRunning(false);
                reportPanel_->setStatus(tr("Comparison finished; the report is stored in the project."));
                reloadPlot(); // the comparison's searches added candidates
                reloadReports();
                emit reportFinished(true);
            },
            Qt::QueuedConnection);
    connect(reportWorker_, &ReportWorker::fidelityMeasured, this,
            [this](double tau, double rho, int n) {
                reporting_ = false;
                reportPanel_->setRunning(false);
                reportPanel_->setStatus(tr("Fidelity over %1 structures: Kendall's tau %2, Spearman's rho %3.")
                                            .arg(n)
                                            .arg(tau, 0, 'f', 2)
                                            .arg(rho, 0, 'f', 2));
                reloadPlot();
                reloadReports();
                emit reportFinished(true);
            },
            Qt::QueuedConnection);
    connect(reportWorker_, &ReportWorker::stopped, this,
            [this](const QString& message, bool failed) {
                reporting_ = false;
                reportPanel_->setRunning(false);
                reportPanel_->setStatus(message);
                if (failed)
                    showError(message);
                reloadReports();
                emit reportFinished(false);
            },
            Qt::QueuedConnection);
    connect(reportPanel_, &ReportPanel::retrainRequested, this, &MainWindow::startRetrain);
    connect(reportPanel_, &ReportPanel::compareRequested, this, &MainWindow::startCompare);
    connect(reportPanel_, &ReportPanel::fidelityRequested, this, &MainWindow::startFidelity);
    connect(reportPanel_, &ReportPanel::cancelRequested, this, [this] { reportWorker_->cancel = true; });

    connect(trainingPanel_, &TrainingPanel::trainRequested, this, &MainWindow::startTraining);
    connect(trainingPanel_, &TrainingPanel::cancelRequested, this, [this] { trainWorker_->cancel = true; });
    connect(searchPanel_, &SearchPanel::searchRequested, this, &MainWindow::startSearch);
    connect(searchPanel_, &SearchPanel::cancelRequested, this, [this] { searchWorker_->cancel = true; });
    connect(searchPanel_, &SearchPanel::measureLatencyRequested, this, &MainWindow::startLatencyTable);
    connect(searchPanel_->axisBox(), &QComboBox::currentIndexChanged, this, [this](int i) {
        plot_->setLatencyAxis(i == 1);
        refreshBudget(false);
        setSetting("x_axis", QString::number(i));
    });
    connect(searchPanel_->colorModeBox(), &QComboBox::currentIndexChanged, this, [this](int i) {
        plot_->setColorMode(i == 1 ? ParetoPlot::ColorMode::Generation : ParetoPlot::ColorMode::Origin);
        setSetting("color_mode", QString::number(i));
    });
    connect(searchPanel_->errorBarsBox(), &QCheckBox::toggled, this, [this](bool on) {
        plot_->setErrorBars(on);
        setSetting("error_bars", on ? "1" : "0");
    });
    connect(plot_, &ParetoPlot::candidateClicked, this, &MainWindow::onCandidateClicked);
    connect(structure_, &StructurePanel::edited, this, &MainWindow::onEdited);
    connect(structure_, &StructurePanel::exportRequested, this, &MainWindow::exportStructure);
    // The plot's selection (and the compared uniform network) follow the budget view.
    connect(budget_, &BudgetView::structureChosen, this, [this](qint64 best, qint64 uniform) {
        if (uniform)
            compareCandidate(uniform);
        if (best)
            selectCandidate(best);
    });
    connect(budget_, &BudgetView::budgetChanged, plot_, &ParetoPlot::setCursorBudget);

    buildMenus();
    QSettings settings;
    restoredLayout_ = restoreGeometry(settings.value("geometry").toByteArray());
    restoredLayout_ = restoreState(settings.value("windowState").toByteArray()) && restoredLayout_;
    if (!restoredLayout_)
        applyDefaultLayout();
    searchPanel_->setProcesses(settings.value("search/processes", 1).toInt());
    statusBar()->showMessage(tr("Open or create a project (File menu) to start."));
}

MainWindow::~MainWindow() { shutdown(); }

void MainWindow::shutdown() {
    if (shutDown_)
        return;
    // Cancel and wait: workers stop at their next step or batch; checkpoints and rows are saved.
    // Finished threads delete their workers, so this runs once.
    cancelAll();
    for (QThread* t : {trainThread_, searchThread_, probeThread_, reportThread_}) {
        t->quit();
        t->wait();
    }
    shutDown_ = true;
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open or New Project..."), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Open or create a project"), dbPath_,
                                                          tr("MetaPrune projects (*.sqlite);;All files (*)"), nullptr,
                                                          QFileDialog::DontConfirmOverwrite);
        if (!path.isEmpty())
            openProject(path);
    });
    open->setShortcut(QKeySequence::Open);
    file->addAction(tr("New Project from &Architecture File or ONNX Model..."), this, [this] {
        const QString arch = QFileDialog::getOpenFileName(
            this, tr("Architecture to prune"), QString(),
            tr("Architecture files and ONNX models (*.arch.json *.json *.onnx);;All files (*)"));
        if (arch.isEmpty())
            return;
        const QString project = QFileDialog::getSaveFileName(this, tr("New project"),
                                                             QFileInfo(arch).completeBaseName() + ".sqlite",
                                                             tr("MetaPrune projects (*.sqlite)"));
        if (!project.isEmpty())
            newProjectFromArchitecture(arch, project);
    });
    file->addAction(tr("New Project from &Trained Model..."), this, [this] {
        TrainedModelDialog dialog(this);
        if (dialog.exec() == QDialog::Accepted)
            newProjectFromTrainedModel(dialog.architecture(), dialog.dataPath(), dialog.projectPath(), dialog.top1());
    });
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    updateRecentMenu();
    file->addAction(QIcon(":/icons/export.png"), tr("&Export Selected Structure..."), this,
                    [this] { exportStructure(structure_->editor()->encoding()); });
    file->addSeparator();
    file->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = structure_->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = structure_->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence::Redo);
    edit->addAction(undo);
    edit->addAction(redo);

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addAction(QIcon(":/icons/train.png"), tr("&Train PruningNet"), this, &MainWindow::startTraining);
    run->addAction(QIcon(":/icons/search.png"), tr("&Search"), this, &MainWindow::startSearch);
    run->addSeparator();
    run->addAction(tr("&Retrain Selected Structure"), this, &MainWindow::startRetrain);
    run->addAction(tr("Compare with &Uniform Baselines"), this, &MainWindow::startCompare);
    run->addAction(tr("Measure &Fidelity of the PruningNet"), this, &MainWindow::startFidelity);
    run->addSeparator();
    run->addAction(QIcon(":/icons/cancel.png"), tr("&Cancel Running Jobs"), this, &MainWindow::cancelAll);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About MetaPrune Studio"), this, [this] {
        QMessageBox::about(this, tr("About MetaPrune Studio"),
                           tr("MetaPrune Studio: MetaPruning channel pruning (Liu et al., ICCV 2019) made visible.\n"
                              "MACs are conv + linear multiply-accumulates per image (the paper's FLOPs)."));
    });
}

void MainWindow::updateRecentMenu() {
    recentMenu_->clear();
    const QStringList recent = QSettings().value("recentProjects").toStringList();
    for (const QString& path : recent)
        recentMenu_->addAction(path, this, [this, path] { openProject(path); });
    recentMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::rememberProject(const QString& path) {
    QSettings settings;
    QStringList recent = settings.value("recentProjects").toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    settings.setValue("recentProjects", recent);
    updateRecentMenu();
}

void MainWindow::showError(const QString& message) {
    lastError_ = message;
    // The status bar clips a long message mid-word: elided there, whole in its tooltip and the box.
    const int room = std::max(200, statusBar()->width() - 24);
    statusBar()->showMessage(statusBar()->fontMetrics().elidedText(message.simplified(), Qt::ElideRight, room), 15000);
    statusBar()->setToolTip(message);
    // Non-modal: a worker's error must never stall the event loop (or a headless test).
    auto* box = new QMessageBox(QMessageBox::Warning, tr("MetaPrune Studio"), message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
    emit errorShown(message);
}

void MainWindow::setSetting(const char* key, const QString& value) {
    if (!store_)
        return;
    try {
        store_->setSetting(key, value.toStdString());
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
    }
}

bool MainWindow::openProject(const QString& path) {
    if (isBusy()) {
        showError(tr("Finish or cancel the running training or search before opening another project."));
        return false;
    }
    const QString absolute = QFileInfo(path).absoluteFilePath();
    try {
        auto store = std::make_unique<mp::Store>(absolute.toStdString());
        probeWorker_->stop();
        QMetaObject::invokeMethod(probeWorker_, &ProbeWorker::unload, Qt::QueuedConnection);
        mp::closeInterruptedRuns(absolute.toStdString());
        store_ = std::move(store);
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return false;
    }
    dbPath_ = absolute;
    setWindowTitle(tr("%1 - MetaPrune Studio").arg(QFileInfo(absolute).fileName()));
    rememberProject(absolute);
    arch_.reset();
    current_.reset();
    loadingCheckpoint_ = false;
    selectedId_ = comparedId_ = 0;
    searchPanel_->setReady(false);
    reportPanel_->setReady(false);
    reloadTrainings();
    reloadReports();
    const QString mode = QString::fromStdString(store_->setting("color_mode").value_or("0"));
    searchPanel_->colorModeBox()->setCurrentIndex(mode.toInt());
    searchPanel_->errorBarsBox()->setChecked(store_->setting("error_bars").value_or("0") == "1");
    reloadPlot();
    if (current_ && current_->status == "finished")
        loadCheckpoint();
    statusBar()->showMessage(current_ ? tr("Project %1 opened.").arg(absolute)
                                      : tr("New project %1: choose the data and press Train.").arg(absolute),
                             current_ ? 10000 : 0);
    emit projectLoaded();
    return true;
}

bool MainWindow::newProjectFromArchitecture(const QString& archPath, const QString& projectPath) {
    mp::ArchSpec arch;
    mp::ImportReport report;
    try {
        // Read first: a file that is not an architecture leaves no project behind.
        arch = archPath.endsWith(".onnx") ? mp::importOnnx(archPath.toStdString(), &report)
                                          : mp::readArchitectureFile(archPath.toStdString());
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return false;
    }
    if (!openProject(projectPath))
        return false;
    trainingPanel_->setArchitecture(arch);
    statusBar()->showMessage(tr("Architecture %1: %2 genes, %3 MACs at full width. Choose the data and press Train.")
                                 .arg(QString::fromStdString(arch.family))
                                 .arg(arch.genes.size())
                                 .arg(QString::fromStdString(mp::formatMacs(mp::countMacs(arch, mp::uniformEncoding(arch, 30))))));
    return true;
}

bool MainWindow::newProjectFromTrainedModel(const mp::ArchSpec& arch, const QString& dataPath,
                                            const QString& projectPath, double top1) {
    if (!openProject(projectPath))
        return false;
    // The description with its weights and normalisation; the PruningNet starts at the model, at
    // the warm-start learning rate.
    mp::TrainConfig c = trainingPanel_->config();
    c.family = arch.family;
    c.preset = arch.preset;
    c.architecture = QJsonDocument::fromJson(QByteArray::fromStdString(mp::toArchitectureJson(arch)))
                         .toJson(QJsonDocument::Compact)
                         .toStdString();
    c.dataPath = dataPath.toStdString();
    c.initFromWeights = true;
    c.lr = mp::kWarmStartLr;
    trainingPanel_->setConfig(c);
    statusBar()->showMessage(tr("Trained model %1: top-1 %2% on the test set, %3 MACs. The PruningNet will start from "
                                "its weights: press Train.")
                                 .arg(QString::fromStdString(arch.family))
                                 .arg(top1, 0, 'f', 2)
                                 .arg(QString::fromStdString(mp::formatMacs(mp::countMacs(arch, mp::uniformEncoding(arch, 30))))));
    return true;
}

void MainWindow::reloadTrainings() {
    if (!store_)
        return;
    try {
        const std::vector<mp::TrainingRecord> all = store_->trainings();
        current_.reset();
        const qint64 wanted = QString::fromStdString(store_->setting("current_training").value_or("0")).toLongLong();
        for (const mp::TrainingRecord& t : all)
            if (t.id == wanted)
                current_ = t;
        if (!current_)
            for (const mp::TrainingRecord& t : all)
                if (t.status == "finished" || !current_)
                    current_ = t;
        if (current_) {
            trainingPanel_->setConfig(mp::trainConfigFromJson(current_->config));
            trainingPanel_->clearCurve();
            for (const mp::TrainingLogEntry& e : store_->trainingLog(current_->id))
                trainingPanel_->addCurvePoint(e);
            QString status = tr("Training %1: %2, %3/%4 steps")
                                 .arg(current_->id)
                                 .arg(QString::fromStdString(current_->status))
                                 .arg(current_->steps)
                                 .arg(current_->totalSteps);
            if (current_->fullTop1) {
                const mp::LearnedCheck check{*current_->fullTop1, *current_->chanceTop1, current_->checkImages};
                status += check.learned() ? tr("; %1.").arg(QString::fromStdString(check.describe()))
                                          : tr("; NOT LEARNED: %1.").arg(QString::fromStdString(check.describe()));
            }
            if (const auto o = mp::originalModelScore(*store_, current_->id))
                status += tr(" Started from a trained model: top-1 %1% on %2 test images, %3 MACs.")
                              .arg(o->top1, 0, 'f', 2)
                              .arg(o->images)
                              .arg(QString::fromStdString(mp::formatMacs(o->macs)));
            trainingPanel_->setStatus(status);
            trust_->setText(trustText());
        }
        // A PruningNet started from a trained model: that model is the plot's reference, and the
        // uniform networks are the L1 baseline.
        const std::optional<mp::OriginalModelScore> original =
            current_ ? mp::originalModelScore(*store_, current_->id) : std::nullopt;
        plot_->setOriginalModel(original ? std::optional<ParetoPlot::Reference>({original->macs, original->top1})
                                         : std::nullopt);
        structure_->setL1Baseline(current_ && mp::trainConfigFromJson(current_->config).initFromWeights);
        searchPanel_->setRuns(store_->runs());
        budget_->setRuns(store_->runs(), current_ ? current_->sha256 : std::string());
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
    }
}

PlotPoint MainWindow::pointOf(const mp::CandidateRecord& c) const {
    PlotPoint p;
    p.id = c.id;
    p.runId = c.runId;
    p.macs = c.macs;
    p.top1 = c.top1;
    p.loss = c.loss;
    p.params = c.params;
    p.origin = c.origin;
    p.generation = c.generation;
    p.latencyMs = c.latencyMs;
    p.channels = c.channels;
    // The run scored min(evalImages, split) images (0 = the whole split); the app's own searches
    // and probes use the default settings, so a run not read yet has those.
    const auto run = runImages_.find(c.runId);
    const int64_t cap = run == runImages_.end() ? mp::EvalSettings{}.evalImages : run->second;
    p.images = cap < 0 || searchSplitImages_ <= 0 ? 0 : cap == 0 ? searchSplitImages_ : std::min(cap, searchSplitImages_);
    if (p.latencyMs <= 0 && latency_ && arch_) {
        try {
            p.latencyMs = latency_->predict(*arch_, c.genes);
        } catch (const std::exception&) {
            p.latencyMs = 0; // a table of another architecture: no latency for this point
        }
    }
    return p;
}

QString MainWindow::trustText() const {
    QString text = fidelityText(std::nullopt);
    if (store_) {
        try {
            const std::optional<mp::CostBand> band = selectedRunBand();
            std::optional<mp::FidelityReport> inBand;
            // The stored in-band study that overlaps the selected run's band, the one nearest its upper bound.
            for (const mp::FidelityReport& r : mp::storedBandFidelityReports(*store_))
                if (band && r.band && r.band->kind == band->kind && r.band->lo <= band->hi && r.band->hi >= band->lo &&
                    (!inBand || std::abs(r.band->hi - band->hi) < std::abs(inBand->band->hi - band->hi)))
                    inBand = r;
            text = inBand ? fidelityText(inBand, QString::fromStdString(inBand->band->text()))
                          : fidelityText(mp::storedFidelityReport(*store_));
        } catch (const std::exception& e) {
            text = tr("Trust in the ranking: the stored study cannot be read (%1).").arg(QString::fromStdString(e.what()));
        }
    }
    if (current_ && current_->fullTop1) {
        const mp::LearnedCheck check{*current_->fullTop1, *current_->chanceTop1, current_->checkImages};
        if (!check.learned())
            text = tr("<b>The PruningNet has not learned</b> (%1): its ranking of structures is not meaningful. ")
                       .arg(QString::fromStdString(check.describe())) +
                   text;
    }
    return text;
}

void MainWindow::requestPairedTest() {
    const std::optional<PlotPoint> u = structure_->baseline();
    if (!u || !store_ || !arch_)
        return;
    const std::optional<mp::CandidateRecord> b = store_->candidate(u->id);
    const mp::Encoding enc = mp::canonicalEncoding(*arch_, structure_->editor()->encoding());
    if (!b || b->genes == enc) {
        structure_->showPairedDifference(tr("this is the uniform network itself"));
        return;
    }
    probeWorker_->requestPaired(++pairedSeq_, enc, b->genes);
}

std::optional<mp::CostBand> MainWindow::selectedRunBand() const {
    std::optional<mp::RunRecord> run;
    const std::optional<mp::CandidateRecord> c = selectedId_ > 0 ? store_->candidate(selectedId_) : std::nullopt;
    for (const mp::RunRecord& r : store_->runs())
        if (r.kind == "search" && (!current_ || r.checkpointSha256 == current_->sha256) &&
            (c ? r.id == c->runId : !run || r.id > run->id))
            run = r;
    if (!run)
        return std::nullopt;
    const mp::SearchConfig cfg = mp::searchConfigFromJson(run->config);
    mp::CostBand band;
    if (cfg.maxLatencyMs > 0 && cfg.maxMacs <= 0) {
        band.kind = mp::CostBand::Kind::Latency;
        band.lo = cfg.minLatencyMs;
        band.hi = cfg.maxLatencyMs;
    } else if (cfg.maxMacs > 0) {
        band.lo = double(cfg.minMacs);
        band.hi = double(cfg.maxMacs);
    } else {
        return std::nullopt;
    }
    return band;
}

std::string MainWindow::damageOf(const mp::CandidateRecord& c) const {
    return arch_ ? mp::candidateDamage(*arch_, c) : c.damage;
}

void MainWindow::reloadPlot() {
    plot_->clear();
    damage_->hide();
    if (!store_) {
        refreshBudget(false);
        return;
    }
    try {
        QStringList damaged, reasons;
        runImages_.clear();
        for (const mp::RunRecord& r : store_->runs()) {
            // Accuracies are only comparable under the same PruningNet.
            if (current_ && r.checkpointSha256 != current_->sha256)
                continue;
            try {
                runImages_[r.id] = mp::searchConfigFromJson(r.config).eval.evalImages;
            } catch (const std::exception&) {
                runImages_[r.id] = -1; // settings that do not parse: no interval for its points
            }
            for (const mp::CandidateRecord& c : store_->candidates(r.id)) {
                const std::string damage = damageOf(c);
                if (damage.empty()) {
                    plot_->addPoint(pointOf(c));
                } else {
                    damaged << QString::number(c.id);
                    reasons << tr("candidate %1: %2").arg(c.id).arg(QString::fromStdString(damage));
                }
            }
        }
        if (!damaged.isEmpty()) {
            // Marked, never drawn: a damaged row's numbers would bend the front.
            const QString ids = damaged.mid(0, 8).join(", ") + (damaged.size() > 8 ? ", ..." : "");
            damage_->setText(damaged.size() == 1
                                 ? tr("1 damaged stored row kept off the plot and the front (candidate %1); "
                                      "hover for the reason.").arg(ids)
                                 : tr("%1 damaged stored rows kept off the plot and the front (candidates %2); "
                                      "hover for the reasons.").arg(damaged.size()).arg(ids));
            damage_->setToolTip(reasons.join("\n"));
            damage_->show();
        }
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
    }
    refreshBudget(false);
}

void MainWindow::refreshBudget(bool later) {
    if (later) {
        if (!budgetTimer_->isActive())
            budgetTimer_->start();
        return;
    }
    budgetTimer_->stop();
    budget_->setPoints(plot_->model().points(), plot_->model().latencyAxis());
}

void MainWindow::loadCheckpoint() {
    if (!current_ || !store_)
        return;
    const QString db = dbPath_, ckpt = QString::fromStdString(current_->checkpoint),
                  sha = QString::fromStdString(current_->sha256);
    statusBar()->showMessage(tr("Loading the PruningNet %1 ...").arg(ckpt));
    loadingCheckpoint_ = true;
    QMetaObject::invokeMethod(probeWorker_, [w = probeWorker_, db, ckpt, sha] { w->load(db, ckpt, sha); },
                              Qt::QueuedConnection);
}

void MainWindow::onCheckpointLoaded(const QString& archJson, qint64 searchSplitImages) {
    loadingCheckpoint_ = false;
    if (searchSplitImages >= 0)
        searchSplitImages_ = searchSplitImages;
    try {
        arch_ = mp::architectureFromJson(archJson.toStdString());
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return;
    }
    structure_->setArchitecture(*arch_);
    budget_->setArchitecture(*arch_);
    searchPanel_->setFullMacs(mp::countMacs(*arch_, mp::uniformEncoding(*arch_, mp::grid::kSize - 1)));
    searchPanel_->setReady(true);
    reportPanel_->setReady(true);
    latency_.reset();
    try {
        if (const auto t = store_->latencyTable(mp::latencyArchKey(*arch_), mp::currentMachine(1).json())) {
            latency_ = mp::LatencyTable::fromJson(t->second);
            latencyDescription_ = tr("table %1 (stored)").arg(t->first);
        }
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
    }
    searchPanel_->setLatencyTable(latency_.has_value(), latencyDescription_);
    if (latency_)
        searchPanel_->axisBox()->setCurrentIndex(
            QString::fromStdString(store_->setting("x_axis").value_or("0")).toInt());
    reloadTrainings();
    reloadPlot(); // the checkpoint hash may have changed with a new training
    statusBar()->showMessage(tr("PruningNet loaded: drag a bar to probe a structure, or run a search."), 10000);
    if (store_) {
        const qint64 selected = QString::fromStdString(store_->setting("selected_candidate").value_or("0")).toLongLong();
        const qint64 compared = QString::fromStdString(store_->setting("compared_candidate").value_or("0")).toLongLong();
        if (compared && plot_->model().contains(compared))
            compareCandidate(compared);
        if (selected && plot_->model().contains(selected))
            selectCandidate(selected);
        else if (!plot_->model().front().empty())
            selectCandidate(plot_->model().front().back().id);
    }
    emit checkpointLoaded();
    if (demo_ && !searching_) {
        int64_t searched = 0; // the latest finished search of this PruningNet
        for (const mp::RunRecord& r : store_->runs())
            if (r.kind == "search" && r.status == "finished" && r.checkpointSha256 == current_->sha256)
                searched = r.id;
        if (searched) {
            // Searched before: the demo opens on that result, ready to play.
            demo_ = false;
            finishDemo(searched);
        } else {
            startSearch();
        }
    }
}

void MainWindow::selectCandidate(qint64 id) {
    if (!store_ || !arch_)
        return;
    try {
        const std::optional<mp::CandidateRecord> c = store_->candidate(id);
        if (!c)
            return;
        if (const std::string damage = damageOf(*c); !damage.empty()) {
            statusBar()->showMessage(
                tr("Candidate %1 is damaged in the project (%2): it is not shown.").arg(id).arg(QString::fromStdString(damage)),
                15000);
            return;
        }
        selectedId_ = id;
        plot_->setSelected(id);
        structure_->showCandidate(pointOf(*c), c->genes);
        reportPanel_->showRetrains(id, store_->retrains(id));
        trust_->setText(trustText()); // the trust line follows the selected run's band
        requestPairedTest();
        setSetting("selected_candidate", QString::number(id));
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
    }
}

void MainWindow::onCandidateClicked(qint64 id) {
    if (!structure_->compareButton()->isChecked()) {
        selectCandidate(id);
        return;
    }
    structure_->compareButton()->setChecked(false);
    compareCandidate(id);
}

void MainWindow::compareCandidate(qint64 id) {
    try {
        const std::optional<mp::CandidateRecord> c = store_ ? store_->candidate(id) : std::nullopt;
        if (!c || !arch_ || !damageOf(*c).empty())
            return;
        comparedId_ = id;
        plot_->setCompared(id);
        structure_->setCompared(pointOf(*c), c->genes);
        setSetting("compared_candidate", QString::number(id));
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
    }
}

void MainWindow::onEdited(const mp::Encoding& enc) {
    if (!arch_)
        return;
    ++probeSeq_;
    probeWorker_->request(probeSeq_, enc);
}

void MainWindow::startTraining() {
    if (!store_) {
        showError(tr("Open or create a project first (File > Open or New Project)."));
        return;
    }
    if (isBusy()) {
        showError(tr("A training or search is already running."));
        return;
    }
    training_ = true;
    trainingDock_->raise();
    statusBar()->showMessage(tr("Training the PruningNet: loading the data..."));
    trainingPanel_->setRunning(true);
    searchPanel_->setReady(false);
    const QString db = dbPath_, cfg = QString::fromStdString(mp::toJson(trainingPanel_->config()));
    QMetaObject::invokeMethod(trainWorker_, [w = trainWorker_, db, cfg] { w->run(db, cfg, QString()); },
                              Qt::QueuedConnection);
}

void MainWindow::startSearch() { runSearch(false); }

void MainWindow::runSearch(bool allowUnlearned) {
    if (!store_ || !current_ || !arch_ || current_->status != "finished") {
        showError(tr("Train a PruningNet first: the search evaluates structures with its generated weights."));
        return;
    }
    if (isBusy()) {
        showError(tr("A training or search is already running."));
        return;
    }
    try {
        mp::SearchConfig cfg = searchPanel_->config();
        if (mp::hasLatencyBound(cfg))
            cfg.latencyTable = latencyDescription_.toStdString();
        mp::checkSearchConfig(*arch_, cfg, latency_ ? &*latency_ : nullptr);
        searching_ = true;
        searchDock_->raise();
        searchPanel_->setRunning(true);
        const int processes = searchPanel_->processes();
        searchPanel_->setStatus((processes > 1 ? tr("Searching on %1 processes: MACs in [%2, %3]").arg(processes)
                                               : tr("Searching: MACs in [%2, %3]"))
                                    .arg(QString::fromStdString(mp::formatMacs(cfg.minMacs)))
                                    .arg(QString::fromStdString(mp::formatMacs(cfg.maxMacs))));
        statusBar()->showMessage(
            (demo_ ? tr("Demo, step 2 of 2: searching structures with MACs in [%1, %2]; every evaluated candidate "
                        "lands on the plot.")
                   : tr("Searching structures with MACs in [%1, %2]; every evaluated candidate lands on the plot."))
                .arg(QString::fromStdString(mp::formatMacs(cfg.minMacs)))
                .arg(QString::fromStdString(mp::formatMacs(cfg.maxMacs))));
        const QString db = dbPath_, ckpt = QString::fromStdString(current_->checkpoint),
                      json = QString::fromStdString(mp::toJson(cfg)), sha = QString::fromStdString(current_->sha256),
                      table = mp::hasLatencyBound(cfg) && latency_ ? QString::fromStdString(latency_->toJson()) : QString();
        const qint64 trainingId = current_->id;
        QSettings().setValue("search/processes", processes);
        QMetaObject::invokeMethod(
            searchWorker_,
            [w = searchWorker_, db, ckpt, trainingId, json, sha, table, allowUnlearned, processes] {
                w->run(db, ckpt, trainingId, json, sha, table, allowUnlearned, processes);
            },
            Qt::QueuedConnection);
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
    }
}

void MainWindow::startLatencyTable() {
    if (!store_ || !arch_) {
        showError(tr("Train a PruningNet first: the latency table is measured for its architecture."));
        return;
    }
    if (isBusy()) {
        showError(tr("A training or search is already running."));
        return;
    }
    measuring_ = true;
    searchDock_->raise();
    searchPanel_->setRunning(true);
    const QString db = dbPath_, arch = QString::fromStdString(mp::toArchitectureJson(*arch_));
    QMetaObject::invokeMethod(
        searchWorker_, [wk = searchWorker_, db, arch] { wk->measureLatency(db, arch); },
        Qt::QueuedConnection);
}

void MainWindow::startDemo() {
    demo_ = true;
    if (!current_ || current_->status != "finished")
        startTraining();
    // Otherwise onCheckpointLoaded() starts the search once the PruningNet is loaded.
    else if (arch_)
        onCheckpointLoaded(QString::fromStdString(mp::toArchitectureJson(*arch_)));
}

void MainWindow::cancelAll() {
    if (shutDown_)
        return;
    demo_ = false;
    trainWorker_->cancel = true;
    searchWorker_->cancel = true;
    reportWorker_->cancel = true;
    probeWorker_->stop();
}

bool MainWindow::reportJobAllowed() {
    if (!store_ || !current_ || !arch_ || current_->status != "finished") {
        showError(tr("Train a PruningNet first: retraining reports compare with its predictions."));
        return false;
    }
    if (isBusy()) {
        showError(tr("A training, search or report is already running."));
        return false;
    }
    return true;
}

void MainWindow::showReports() { reportDock_->raise(); }

void MainWindow::showBudget() { budgetDock_->raise(); }

void MainWindow::finishDemo(qint64 runId) {
    try {
        const std::optional<mp::RunRecord> run = store_ ? store_->run(runId) : std::nullopt;
        if (!run)
            return;
        const mp::SearchConfig cfg = mp::searchConfigFromJson(run->config);
        const std::optional<PlotPoint> best = plot_->model().bestOfRun(runId, cfg.minMacs, cfg.maxMacs);
        if (!best) {
            statusBar()->showMessage(tr("Demo finished: search run %1 has no structure within its constraint.").arg(runId));
            return;
        }
        const std::optional<PlotPoint> uniform = plot_->model().uniformAtLeast(best->macs);
        // The budget view walks this run's front from the constraint; the explicit selection
        // below wins over the one the budget view makes.
        budget_->setRun(runId);
        budget_->setBudget(budget_->model().cost(*best));
        if (uniform)
            compareCandidate(uniform->id);
        selectCandidate(best->id);
        showBudget();
        budget_->playButton()->setFocus();
        QString text = tr("Demo finished: the best structure within %1 MACs is candidate %2, %3 MACs, top-1 %4%")
                           .arg(QString::fromStdString(mp::formatMacs(cfg.maxMacs)))
                           .arg(best->id)
                           .arg(QString::fromStdString(mp::formatMacs(best->macs)))
                           .arg(best->top1, 0, 'f', 2);
        if (uniform)
            text += tr(", against the uniform network's %1% at %2 MACs (%3%4 points)")
                        .arg(uniform->top1, 0, 'f', 2)
                        .arg(QString::fromStdString(mp::formatMacs(uniform->macs)))
                        .arg(best->top1 >= uniform->top1 ? "+" : "")
                        .arg(best->top1 - uniform->top1, 0, 'f', 2);
        statusBar()->showMessage(text + tr(". Press Play in the Budget tab to sweep the budget."));
        emit demoFinished(best->id, uniform ? uniform->id : 0);
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
    }
}

void MainWindow::applyDefaultLayout() {
    // A sensible share of the screen, never more than it: the whole of a small screen, 85% of
    // a large one, and at least 1280x800 where the screen holds it.
    const QScreen* screen = QGuiApplication::primaryScreen();
    const QRect avail = screen ? screen->availableGeometry() : QRect(0, 0, 1280, 800);
    const int w = std::min(avail.width(), std::max(std::min(1280, avail.width()), int(avail.width() * 0.85)));
    const int h = std::min(avail.height(), std::max(std::min(800, avail.height()), int(avail.height() * 0.85)));
    resize(w, h);
    move(avail.x() + (avail.width() - w) / 2, avail.y() + (avail.height() - h) / 2);
}

void MainWindow::resizeEvent(QResizeEvent* e) {
    QMainWindow::resizeEvent(e);
    const int w = width();
    if (!laidOut_ && !restoredLayout_) {
        // First run: the side docks take their share of the window; the plot keeps the rest.
        laidOut_ = true;
        resizeDocks({trainingDock_, structureDock_}, {std::max(330, w * 27 / 100), std::max(500, w * 40 / 100)},
                    Qt::Horizontal);
        return;
    }
    laidOut_ = true;
    const int old = e->oldSize().width();
    if (old <= 0 || old == w)
        return;
    // Docks keep their share of the width, so that growing the window widens them too. Of
    // tabified docks the raised one has the area's current width.
    const double r = double(w) / double(old);
    QDockWidget* left = trainingDock_;
    for (QDockWidget* d : {searchDock_, reportDock_})
        if (!d->visibleRegion().isEmpty())
            left = d;
    QDockWidget* right = budgetDock_->visibleRegion().isEmpty() ? structureDock_ : budgetDock_;
    resizeDocks({left, right}, {int(left->width() * r), int(right->width() * r)}, Qt::Horizontal);
}

void MainWindow::startRetrain() {
    if (!reportJobAllowed())
        return;
    if (selectedId_ == 0) {
        showError(tr("Select a structure on the plot (or probe one) before retraining it."));
        return;
    }
    reporting_ = true;
    reportDock_->raise();
    reportPanel_->setRunning(true);
    reportPanel_->setStatus(tr("Loading data to retrain candidate %1...").arg(selectedId_));
    const QString db = dbPath_, ckpt = QString::fromStdString(current_->checkpoint),
                  sha = QString::fromStdString(current_->sha256),
                  recipe = QString::fromStdString(mp::toJson(reportPanel_->recipe()));
    const qint64 id = selectedId_;
    QMetaObject::invokeMethod(
        reportWorker_, [w = reportWorker_, db, ckpt, sha, id, recipe] { w->retrain(db, ckpt, sha, id, recipe, 1); },
        Qt::QueuedConnection);
}

void MainWindow::startCompare() {
    if (!reportJobAllowed())
        return;
    reporting_ = true;
    reportDock_->raise();
    reportPanel_->setRunning(true);
    reportPanel_->setStatus(tr("Loading data for the comparison..."));
    const QString db = dbPath_, ckpt = QString::fromStdString(current_->checkpoint),
                  sha = QString::fromStdString(current_->sha256);
    const qint64 trainingId = current_->id;
    const mp::CompareConfig cfg = reportPanel_->compareConfig(mp::trainConfigFromJson(current_->config).seed);
    const int jobs = reportPanel_->jobs();
    QMetaObject::invokeMethod(
        reportWorker_,
        [w = reportWorker_, db, ckpt, sha, trainingId, cfg, jobs] { w->compare(db, ckpt, sha, trainingId, cfg, jobs); },
        Qt::QueuedConnection);
}

void MainWindow::startFidelity() {
    if (!reportJobAllowed())
        return;
    reporting_ = true;
    reportDock_->raise();
    reportPanel_->setRunning(true);
    reportPanel_->setStatus(tr("Loading data for the fidelity study..."));
    const QString db = dbPath_, ckpt = QString::fromStdString(current_->checkpoint),
                  sha = QString::fromStdString(current_->sha256),
                  recipe = QString::fromStdString(mp::toJson(reportPanel_->recipe()));
    const qint64 trainingId = current_->id;
    const int samples = reportPanel_->samples(), jobs = reportPanel_->jobs();
    QMetaObject::invokeMethod(
        reportWorker_,
        [w = reportWorker_, db, ckpt, sha, trainingId, samples, recipe, jobs] {
            w->fidelity(db, ckpt, sha, trainingId, samples, recipe, jobs);
        },
        Qt::QueuedConnection);
}

void MainWindow::reloadReports() {
    if (!store_)
        return;
    try {
        reportPanel_->showCompare(mp::storedCompareReport(*store_));
        trust_->setText(trustText());
        reportPanel_->showRetrains(selectedId_, selectedId_ ? store_->retrains(selectedId_)
                                                            : std::vector<mp::RetrainRecord>{});
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
    }
}

void MainWindow::exportStructure(const mp::Encoding& enc) {
    if (!arch_ || enc.empty()) {
        showError(tr("Nothing to export: train a PruningNet and select a structure first."));
        return;
    }
    const QString torchscript = tr("TorchScript (*.pt)"), onnx = tr("ONNX (*.onnx)"),
                  archive = tr("LibTorch tensor archive (*.archive.pt)");
    QString filter;
    const QString path = QFileDialog::getSaveFileName(this, tr("Export pruned network"), "pruned.pt",
                                                      torchscript + ";;" + onnx + ";;" + archive, &filter);
    if (path.isEmpty())
        return;
    const QString format = filter == onnx || path.endsWith(".onnx")              ? "onnx"
                           : filter == archive || path.endsWith(".archive.pt") ? "archive"
                                                                                 : "torchscript";
    const QString json = path + ".json"; // per file: net.onnx and net.pt keep their own metadata
    QMetaObject::invokeMethod(probeWorker_,
                              [w = probeWorker_, enc, format, path, json] { w->exportNetwork(enc, format, path, json); },
                              Qt::QueuedConnection);
}

void MainWindow::closeEvent(QCloseEvent* e) {
    shutdown();
    QSettings settings;
    settings.setValue("geometry", saveGeometry());
    settings.setValue("windowState", saveState());
    e->accept();
}

} // namespace mpw
