// The desktop app, offscreen: Pareto front logic on hand-made points, a simulated drag on the
// width editor, a click on a scatter point, a probe landing in the store, cancel during
// training, reopening a project, and closing the window during a search.
#include "archfixture.h"
#include "mainwindow.h"
#include "paretoplot.h"
#include "reportpanel.h"
#include "searchpanel.h"
#include "structurepanel.h"
#include "trainingpanel.h"
#include "widtheditor.h"

#include "metaprune/compare.h"
#include "metaprune/pareto.h"
#include "metaprune/project.h"

#include <qcustomplot.h>

#include <QAbstractButton>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include <random>

using namespace mpw;

namespace {

PlotPoint point(int64_t id, int64_t macs, double top1, const char* origin = "random") {
    PlotPoint p;
    p.id = id;
    p.macs = macs;
    p.top1 = top1;
    p.origin = origin;
    return p;
}

std::vector<int64_t> ids(const std::vector<PlotPoint>& v) {
    std::vector<int64_t> out;
    for (const PlotPoint& p : v)
        out.push_back(p.id);
    return out;
}

// Tiny real data: enough for every code path, seconds to train.
mp::TrainConfig tinyConfig(int epochs = 1) {
    mp::TrainConfig c;
    c.dataPath = FASHION_MNIST_DIR;
    c.trainPerClass = 60;
    c.testPerClass = 20;
    c.searchPerClass = 10;
    c.epochs = epochs;
    c.batchSize = 32;
    c.warmupSteps = 5;
    return c;
}

} // namespace

class TestStudio : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;
    QString project; // a project with a trained tiny PruningNet, shared by the window tests

private slots:
    void initTestCase() {
        initResources();
        mp::configureRuntime(2);
        project = tmp.filePath("studio.sqlite");
        const mp::TrainConfig cfg = tinyConfig();
        const mp::DataBundle data = mp::loadTrainingData(cfg);
        const mp::TrainJob job =
            mp::trainInProject(project.toStdString(), data, cfg, mp::defaultCheckpointPath(project.toStdString(), cfg));
        QVERIFY(job.outcome.finished);
    }

    void paretoFrontRules() {
        ParetoModel m;
        QVERIFY(m.add(point(1, 100, 70.0)));
        QVERIFY(!m.add(point(2, 200, 69.0)));  // dominated: more MACs, less accurate
        QVERIFY(m.add(point(3, 200, 75.0)));
        QVERIFY(!m.add(point(4, 200, 75.0)));  // tie with 3: the first stays
        QVERIFY(m.add(point(5, 150, 75.0)));   // equal top-1 at fewer MACs: removes 3
        QVERIFY(!m.add(point(6, 90, 50.0, "uniform"))); // baselines never join the front
        QVERIFY(m.add(point(7, 300, 80.0)));
        QVERIFY(!m.add(point(7, 10, 99.0)));   // a repeated id is ignored
        QCOMPARE(ids(m.front()), (std::vector<int64_t>{1, 5, 7}));
        QCOMPARE(m.points().size(), size_t(7));
        // Band [120, 250]: only 2..5 count; 5 dominates 2, 3 and 4.
        m.setBand(120, 250);
        QCOMPARE(ids(m.front()), (std::vector<int64_t>{5}));
        m.setBand(0, 0);
        QCOMPARE(ids(m.front()), (std::vector<int64_t>{1, 5, 7}));
        QCOMPARE(m.uniformAtLeast(80)->id, int64_t(6));
        QVERIFY(!m.uniformAtLeast(91).has_value());
    }

    void incrementalFrontMatchesCore() {
        // The incremental front equals the core's batch computation on random points.
        std::mt19937 rng(3);
        std::uniform_int_distribution<int> macs(1, 60);
        std::uniform_int_distribution<int> top1(0, 40);
        ParetoModel m;
        std::vector<mp::ParetoPoint> pts;
        for (int i = 0; i < 400; ++i) {
            const PlotPoint p = point(i + 1, macs(rng), 50 + top1(rng) * 0.5);
            m.add(p);
            pts.push_back({p.macs, p.top1});
        }
        std::vector<int64_t> expected;
        for (size_t i : mp::paretoFront(pts))
            expected.push_back(int64_t(i) + 1);
        QCOMPARE(ids(m.front()), expected);
    }

    void dragChangesTheRightGeneAndSnaps() {
        WidthEditor editor;
        editor.resize(800, 500);
        const mp::ArchSpec arch = mp::makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        editor.setArchitecture(arch);
        editor.show();
        QVERIFY(QTest::qWaitForWindowExposed(&editor));
        editor.plotWidget()->replot();
        // Bar of block3.expand: its width is block3's mid gene (max 96 channels).
        int layer = -1;
        for (int l = 0; l < editor.layerCount(); ++l)
            if (arch.ops[size_t(editor.opOfLayer(l))].name == "block3.expand")
                layer = l;
        QVERIFY(layer >= 0);
        const int gene = editor.geneOfLayer(layer);
        QCOMPARE(QString::fromStdString(arch.genes[size_t(gene)].name), QString("block3.mid"));
        QSignalSpy edited(&editor, &WidthEditor::geneEdited);
        QSignalSpy dragged(&editor, &WidthEditor::geneDragged);
        // Drag the top from 96 channels down to the height of 37 channels. The grid offers
        // 96 * 37 / 100 = 35 (index 9) and 96 * 40 / 100 = 38 (index 10): 38 is nearer.
        QWidget* plot = editor.plotWidget();
        QTest::mousePress(plot, Qt::LeftButton, {}, editor.pixelFor(layer, 96).toPoint());
        QTest::mouseMove(plot, editor.pixelFor(layer, 60).toPoint());
        QTest::mouseMove(plot, editor.pixelFor(layer, 37).toPoint());
        QTest::mouseRelease(plot, Qt::LeftButton, {}, editor.pixelFor(layer, 37).toPoint());
        QCOMPARE(edited.count(), 1);
        QCOMPARE(edited[0][0].toInt(), gene);
        QCOMPARE(edited[0][1].toInt(), 30);
        QCOMPARE(edited[0][2].toInt(), 10);
        QVERIFY(dragged.count() >= 2); // live updates while dragging
        for (size_t g = 0; g < arch.genes.size(); ++g)
            QCOMPARE(editor.encoding()[g], int(g) == gene ? 10 : 30);
        QCOMPARE(mp::grid::channels(96, editor.encoding()[size_t(gene)]), 38);
        // The depthwise layer of block3 shares the gene: it moved too.
        for (int l = 0; l < editor.layerCount(); ++l)
            if (arch.ops[size_t(editor.opOfLayer(l))].name == "block3.depthwise")
                QCOMPARE(editor.geneOfLayer(l), gene);
        QCOMPARE(WidthEditor::snap(arch, gene, 37), 10);
        QCOMPARE(WidthEditor::snap(arch, gene, 0), 0);
        QCOMPARE(WidthEditor::snap(arch, gene, 500), 30);
    }

    void clickOnPointSelectsIt() {
        ParetoPlot plot;
        plot.resize(700, 500);
        plot.show();
        QVERIFY(QTest::qWaitForWindowExposed(&plot));
        plot.addPoint(point(11, 1000000, 80));
        plot.addPoint(point(12, 2000000, 85));
        plot.addPoint(point(13, 3000000, 83, "mutation"));
        plot.plotWidget()->replot();
        QSignalSpy clicked(&plot, &ParetoPlot::candidateClicked);
        QTest::mouseClick(plot.plotWidget(), Qt::LeftButton, {}, plot.pixelOf(point(12, 2000000, 85)).toPoint());
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(clicked[0][0].toLongLong(), qint64(12));
        QTest::mouseClick(plot.plotWidget(), Qt::LeftButton, {}, QPoint(5, 5)); // empty space
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(ids(plot.model().front()), (std::vector<int64_t>{11, 12}));
    }

    void probeResultLandsInStoreAndReopenRestores() {
        int64_t probed = 0;
        mp::Encoding probedGenes;
        {
            MainWindow w;
            QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
            QVERIFY(w.openProject(project));
            QVERIFY(loaded.wait(60000));
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            WidthEditor* editor = w.structure()->editor();
            editor->plotWidget()->replot();
            QSignalSpy shown(&w, &MainWindow::probeShown);
            const int gene = editor->geneOfLayer(0); // the stem: stage0, max 24 channels
            const QPoint to = editor->pixelFor(0, 12).toPoint();
            QTest::mousePress(editor->plotWidget(), Qt::LeftButton, {}, editor->pixelFor(0, 24).toPoint());
            QTest::mouseMove(editor->plotWidget(), to);
            QTest::mouseRelease(editor->plotWidget(), Qt::LeftButton, {}, to);
            // A pixel spans about a channel here, so the target is where that pixel row snaps.
            const double at = editor->plotWidget()->yAxis->pixelToCoord(to.y());
            QCOMPARE(editor->encoding()[size_t(gene)], WidthEditor::snap(editor->architecture(), gene, at));
            QVERIFY(std::abs(mp::grid::channels(24, editor->encoding()[size_t(gene)]) - 12) <= 1);
            // The quick estimate, then the refined result, arrive through signals.
            QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && shown.last()[1].toBool(), 60000);
            QVERIFY(!shown.first()[1].toBool());
            probedGenes = mp::canonicalEncoding(editor->architecture(), editor->encoding());
            mp::Store store(project.toStdString());
            std::optional<mp::CandidateRecord> row;
            for (const mp::RunRecord& r : store.runs())
                if (r.kind == "probe")
                    row = store.findCandidate(r.id, probedGenes);
            QVERIFY(row.has_value());
            QCOMPARE(QString::fromStdString(row->origin), QString("probe"));
            QCOMPARE(row->top1, shown.last()[0].toDouble());
            QVERIFY(w.plot()->model().contains(row->id));
            QCOMPARE(w.selectedCandidate(), row->id);
            probed = row->id;
            // Undo brings the full width back and probes it again.
            w.structure()->undoStack()->undo();
            QCOMPARE(editor->encoding()[size_t(gene)], 30);
            QTRY_VERIFY_WITH_TIMEOUT(shown.last()[1].toBool() && shown.count() >= 3, 60000);
            w.selectCandidate(probed);
        }
        // Reopen: the plot holds every stored point, the selection is restored.
        MainWindow again;
        QSignalSpy loaded(&again, &MainWindow::checkpointLoaded);
        QVERIFY(again.openProject(project));
        QVERIFY(loaded.wait(60000));
        size_t stored = 0;
        mp::Store store(project.toStdString());
        for (const mp::RunRecord& r : store.runs())
            stored += store.candidates(r.id).size();
        QCOMPARE(again.plot()->model().points().size(), stored);
        QCOMPARE(again.selectedCandidate(), probed);
        QCOMPARE(again.structure()->editor()->encoding(), probedGenes);
    }

    // A structure already stored in a search run is reused by a probe (undo back to it): no
    // second row, and the stored top-1 is what the panel shows.
    void undoToAStoredStructureReusesItsRow() {
        const QString db = tmp.filePath("reuse.sqlite");
        QVERIFY(QFile::copy(project, db));
        int64_t stored = 0;
        mp::Encoding genes;
        {
            mp::Store store(db.toStdString());
            const mp::TrainingRecord t = store.trainings().at(0);
            mp::RunRecord run;
            run.kind = "search";
            run.config = mp::toJson(mp::SearchConfig{}); // the probe's evaluation settings
            run.dataset = "tiny";
            run.arch = "mobilenetv2/small";
            run.checkpoint = t.checkpoint;
            run.checkpointSha256 = t.sha256;
            run.trainingId = t.id;
            const int64_t id = store.findOrCreateRun(run);
            const mp::ArchSpec a = mp::makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
            mp::CandidateRecord c;
            c.runId = id;
            c.genes = genes = mp::canonicalEncoding(a, mp::uniformEncoding(a, 20));
            c.channels = mp::geneChannels(a, c.genes);
            c.macs = mp::countMacs(a, c.genes);
            c.params = mp::countParams(a, c.genes);
            c.top1 = 42.25; // a value no evaluation of this net would give by chance
            c.loss = 1;
            c.origin = "random";
            stored = store.addCandidate(c).id;
            store.setRunStatus(id, "finished");
        }
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        QVERIFY(w.openProject(db));
        QVERIFY(loaded.wait(60000));
        w.selectCandidate(stored);
        WidthEditor* editor = w.structure()->editor();
        QCOMPARE(editor->encoding(), genes);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        editor->plotWidget()->replot();
        QSignalSpy shown(&w, &MainWindow::probeShown);
        // Drag the stem from its 16 channels (index 20 of 24) down to 8, then undo.
        const QPoint to = editor->pixelFor(0, 8).toPoint();
        QTest::mousePress(editor->plotWidget(), Qt::LeftButton, {}, editor->pixelFor(0, 16).toPoint());
        QTest::mouseMove(editor->plotWidget(), to);
        QTest::mouseRelease(editor->plotWidget(), Qt::LeftButton, {}, to);
        QVERIFY(editor->encoding() != genes);
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && shown.last()[1].toBool(), 60000);
        w.structure()->undoStack()->undo();
        QTRY_VERIFY_WITH_TIMEOUT(shown.last()[1].toBool() && shown.last()[0].toDouble() == 42.25, 60000);
        QCOMPARE(w.selectedCandidate(), stored);
        mp::Store store(db.toStdString());
        int rows = 0;
        for (const mp::RunRecord& r : store.runs())
            rows += store.findCandidate(r.id, genes).has_value();
        QCOMPARE(rows, 1);
    }

    // The Structure panel tests the selected structure against its uniform baseline on the same
    // search-split images (issue 14.2): the text is the paired comparison of exactly that pair.
    void pairedTestAgainstTheUniformBaseline() {
        const QString db = tmp.filePath("paired.sqlite");
        QVERIFY(QFile::copy(project, db));
        const mp::ArchSpec a = mp::makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        const mp::Encoding uniform = mp::canonicalEncoding(a, mp::uniformEncoding(a, 20));
        mp::Encoding searched = mp::uniformEncoding(a, 20);
        searched[0] = 12; // fewer stem channels: fewer MACs than the uniform network
        searched = mp::canonicalEncoding(a, searched);
        int64_t selected = 0;
        std::string checkpoint;
        {
            mp::Store store(db.toStdString());
            const mp::TrainingRecord t = store.trainings().at(0);
            checkpoint = t.checkpoint;
            mp::RunRecord run;
            run.kind = "search";
            run.config = mp::toJson(mp::SearchConfig{});
            run.dataset = "tiny";
            run.arch = "mobilenetv2/small";
            run.checkpoint = t.checkpoint;
            run.checkpointSha256 = t.sha256;
            run.trainingId = t.id;
            const int64_t id = store.findOrCreateRun(run);
            for (const auto& [genes, origin] : {std::make_pair(uniform, "uniform"), std::make_pair(searched, "random")}) {
                mp::CandidateRecord c;
                c.runId = id;
                c.genes = genes;
                c.channels = mp::geneChannels(a, genes);
                c.macs = mp::countMacs(a, genes);
                c.params = mp::countParams(a, genes);
                c.top1 = 50;
                c.loss = 1;
                c.origin = origin;
                selected = store.addCandidate(c).id; // the searched one, added last
            }
            store.setRunStatus(id, "finished");
        }
        QVERIFY(mp::countMacs(a, searched) < mp::countMacs(a, uniform));
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        QVERIFY(w.openProject(db));
        QVERIFY(loaded.wait(60000));
        QSignalSpy paired(&w, &MainWindow::pairedShown);
        w.selectCandidate(selected);
        QVERIFY(w.structure()->baseline().has_value());
        QTRY_VERIFY_WITH_TIMEOUT(!paired.isEmpty(), 60000);

        const mp::DataBundle data = mp::loadTrainingData(tinyConfig());
        const mp::Evaluator ev(checkpoint, data, mp::SearchConfig{}.eval);
        const mp::PairedAccuracy r = mp::comparePaired(ev, searched, uniform, mp::EvalSplit::Search);
        QCOMPARE(r.n, int64_t(10 * 10)); // the whole search split: 10 images per class
        const QString expected = QString::fromStdString(mp::formatDifference(mp::differenceOf(r)));
        QCOMPARE(paired.last()[0].toString(), expected);
        QVERIFY2(w.structure()->pairedText().contains(expected), qPrintable(w.structure()->pairedText()));
        QVERIFY(expected.contains("McNemar"));
    }

    // Damaged rows are named above the plot, kept off it and off the front, and never selected.
    void damagedRowsAreMarkedAndKeptOffThePlot() {
        const QString db = tmp.filePath("damaged.sqlite");
        QVERIFY(QFile::copy(project, db));
        std::vector<int64_t> ids;
        {
            mp::Store store(db.toStdString());
            for (const mp::RunRecord& r : store.runs())
                for (const mp::CandidateRecord& c : store.candidates(r.id))
                    ids.push_back(c.id);
        }
        QVERIFY(ids.size() >= 2);
        {
            QSqlDatabase sql = QSqlDatabase::addDatabase("QSQLITE", "damage");
            sql.setDatabaseName(db);
            QVERIFY(sql.open());
            QSqlQuery q(sql);
            QVERIFY(q.exec(QString("UPDATE candidates SET macs = 0 WHERE id = %1").arg(ids[0])));
            QVERIFY(q.exec(QString("UPDATE candidates SET top1 = 'NaN' WHERE id = %1").arg(ids[1])));
            sql.close();
        }
        QSqlDatabase::removeDatabase("damage");
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        QVERIFY(w.openProject(db));
        QVERIFY(loaded.wait(60000));
        QVERIFY(!w.damageLabel()->isHidden());
        QVERIFY2(w.damageLabel()->text().contains("2 damaged stored rows"), qPrintable(w.damageLabel()->text()));
        QVERIFY(w.damageLabel()->toolTip().contains("top-1 is not a finite number ('NaN')"));
        QVERIFY(!w.plot()->model().contains(ids[0]) && !w.plot()->model().contains(ids[1]));
        QCOMPARE(w.plot()->model().points().size(), ids.size() - 2);
        for (const PlotPoint& p : w.plot()->model().front())
            QVERIFY(p.macs > 0 && std::isfinite(p.top1));
        w.selectCandidate(ids[1]);
        QVERIFY(w.selectedCandidate() != ids[1]);
        QVERIFY(!w.structure()->predictionText().contains("nan"));
    }

    // The probe run ends with the app: finished, not left running.
    void probeRunClosesWithTheApp() {
        {
            MainWindow w;
            QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
            QVERIFY(w.openProject(project));
            QVERIFY(loaded.wait(60000));
            mp::Store store(project.toStdString());
            bool running = false;
            for (const mp::RunRecord& r : store.runs())
                running = running || (r.kind == "probe" && r.status == "running");
            QVERIFY(running);
        }
        mp::Store store(project.toStdString());
        for (const mp::RunRecord& r : store.runs())
            if (r.kind == "probe")
                QCOMPARE(QString::fromStdString(r.status), QString("finished"));
    }

    // A PruningNet that has not learned: the trust line says so, the search asks before it runs.
    void unlearnedPruningNetAsksBeforeSearching() {
        const QString db = tmp.filePath("unlearned.sqlite");
        mp::TrainConfig cfg = tinyConfig();
        cfg.lr = 100;
        cfg.seed = 3;
        const mp::DataBundle data = mp::loadTrainingData(cfg);
        const mp::TrainJob job = mp::trainInProject(db.toStdString(), data, cfg, mp::defaultCheckpointPath(db.toStdString(), cfg));
        QVERIFY(job.check && !job.check->learned());
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        QVERIFY(w.openProject(db));
        QVERIFY(loaded.wait(60000));
        QVERIFY2(w.trustLabel()->text().contains("has not learned"), qPrintable(w.trustLabel()->text()));
        QSignalSpy searched(&w, &MainWindow::searchFinished);
        w.startSearch();
        QVERIFY(searched.wait(60000));
        QVERIFY(!searched.last()[0].toBool());
        QMessageBox* box = w.findChild<QMessageBox*>("notLearnedBox");
        QVERIFY(box);
        QVERIFY(box->text().contains("not meaningful"));
        QAbstractButton* anyway = nullptr;
        for (QAbstractButton* b : box->buttons())
            if (b->text() == "Search anyway")
                anyway = b;
        QVERIFY(anyway);
        QVERIFY(mp::Store(db.toStdString()).runs().size() <= 1); // only the probe run so far
        anyway->click();
        QVERIFY(searched.wait(600000));
        QVERIFY(searched.last()[0].toBool());
        int searches = 0;
        for (const mp::RunRecord& r : mp::Store(db.toStdString()).runs())
            searches += r.kind == "search";
        QCOMPARE(searches, 1);
    }

    // An architecture from a file (here with a Concat, an SE gate and a grouped conv) becomes a
    // project: trained, then probed by dragging a bar of its own layer list.
    void architectureFileProjectTrainsAndProbes() {
        QJsonObject root = QJsonDocument::fromJson(mp::test::kMixArchJson).object();
        QJsonArray ops = root["ops"].toArray();
        // The fixture flattens a fixed-size map; a global pool instead lets it follow 28x28 data.
        while (ops.size() > 13) // through the residual add
            ops.removeLast();
        ops.append(QJsonObject{{"name", "head"}, {"kind", "global_avg_pool"}, {"inputs", QJsonArray{"residual"}}});
        ops.append(QJsonObject{{"name", "classifier"}, {"kind", "linear"}, {"inputs", QJsonArray{"head"}}, {"out", "classes"}});
        root["ops"] = ops;
        QJsonArray genes = root["genes"].toArray();
        genes.removeLast(); // fc
        root["genes"] = genes;
        const QString file = tmp.filePath("mix.arch.json");
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(root).toJson());
        f.close();
        MainWindow w;
        QVERIFY(!w.newProjectFromArchitecture(tmp.filePath("missing.arch.json"), tmp.filePath("none.sqlite")));
        QVERIFY(!QFile::exists(tmp.filePath("none.sqlite")));
        QVERIFY(w.newProjectFromArchitecture(file, tmp.filePath("mix.sqlite")));
        mp::TrainConfig cfg = w.trainingPanel()->config();
        QCOMPARE(QString::fromStdString(cfg.family), QString("mixnet"));
        QVERIFY(!cfg.architecture.empty());
        QVERIFY(w.trainingPanel()->sizeText().contains("PruningNet:"));
        const mp::TrainConfig tiny = tinyConfig();
        cfg.dataPath = tiny.dataPath;
        cfg.trainPerClass = tiny.trainPerClass;
        cfg.testPerClass = tiny.testPerClass;
        cfg.searchPerClass = tiny.searchPerClass;
        cfg.batchSize = tiny.batchSize;
        cfg.warmupSteps = tiny.warmupSteps;
        w.trainingPanel()->setConfig(cfg);
        QSignalSpy trained(&w, &MainWindow::trainingFinished);
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        w.startTraining();
        QVERIFY(trained.wait(600000));
        QVERIFY(trained.last()[0].toBool());
        QVERIFY(loaded.wait(60000));
        WidthEditor* editor = w.structure()->editor();
        const mp::ArchSpec& a = editor->architecture();
        QCOMPARE(QString::fromStdString(a.family), QString("mixnet"));
        QCOMPARE(a.inHeight, 28); // resized to the data
        // A bar per conv whose output one gene sets: stem, a, b, mix, group, squeeze, excite, proj.
        QCOMPARE(editor->layerCount(), 8);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        editor->plotWidget()->replot();
        int layer = -1;
        for (int l = 0; l < editor->layerCount(); ++l)
            if (a.ops[size_t(editor->opOfLayer(l))].name == "a")
                layer = l;
        QVERIFY(layer >= 0);
        QSignalSpy shown(&w, &MainWindow::probeShown);
        const QPoint to = editor->pixelFor(layer, 3).toPoint();
        QTest::mousePress(editor->plotWidget(), Qt::LeftButton, {}, editor->pixelFor(layer, 6).toPoint());
        QTest::mouseMove(editor->plotWidget(), to);
        QTest::mouseRelease(editor->plotWidget(), Qt::LeftButton, {}, to);
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && shown.last()[1].toBool(), 60000);
        const mp::Encoding probed = mp::canonicalEncoding(a, editor->encoding());
        QVERIFY(probed[1] < 30);
        mp::Store store(tmp.filePath("mix.sqlite").toStdString());
        std::optional<mp::CandidateRecord> row;
        for (const mp::RunRecord& r : store.runs())
            if (r.kind == "probe")
                row = store.findCandidate(r.id, probed);
        QVERIFY(row.has_value());
        QCOMPARE(row->macs, mp::countMacs(a, probed));
        QVERIFY(row->damage.empty());
    }

    // The Reports panel: a fidelity study updates the verdict above the Pareto front, and the
    // selected structure is retrained in the background and its result stored and shown.
    void fidelityAndRetrainFromTheWindow() {
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        QVERIFY(w.openProject(project));
        QVERIFY(loaded.wait(60000));
        QVERIFY2(w.trustLabel()->text().contains("not measured"), qPrintable(w.trustLabel()->text()));
        ReportPanel* panel = w.reportPanel();
        panel->samplesBox()->setValue(4);
        QSignalSpy done(&w, &MainWindow::reportFinished);
        QTest::mouseClick(panel->fidelityButton(), Qt::LeftButton);
        QVERIFY(w.isBusy());
        QVERIFY(!panel->fidelityButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(!done.isEmpty(), 300000);
        QVERIFY2(done.last()[0].toBool(), qPrintable(w.lastError()));
        mp::Store store(project.toStdString());
        const std::optional<mp::FidelityReport> rep = mp::storedFidelityReport(store);
        QVERIFY(rep && rep->correlation.n == int(rep->points.size()) && rep->correlation.n >= 3);
        QVERIFY2(w.trustLabel()->text().contains(QString("over %1 structures").arg(rep->correlation.n)),
                 qPrintable(w.trustLabel()->text()));
        // Tiny data may retrain every structure to the same top-1: then the ranking is undefined.
        bool allEqual = true;
        for (const mp::FidelityPoint& p : rep->points)
            allEqual = allEqual && p.retrainedTop1 == rep->points.front().retrainedTop1;
        QCOMPARE(std::isnan(rep->correlation.kendallTau), allEqual);
        QVERIFY2(w.trustLabel()->text().contains(allEqual ? QString("undefined")
                                                          : QString::number(rep->correlation.kendallTau, 'f', 2)),
                 qPrintable(w.trustLabel()->text()));

        // An in-band study of the selected point's search band replaces the whole-range figure
        // (issue 14.3); a point of another run brings the whole-range one back.
        {
            const mp::TrainingRecord t = store.trainings().at(0);
            const mp::CandidateRecord& sampled = rep->points.back().candidate;
            mp::SearchConfig sc;
            sc.minMacs = sampled.macs / 2;
            sc.maxMacs = sampled.macs;
            mp::RunRecord run;
            run.kind = "search";
            run.config = mp::toJson(sc);
            run.dataset = "tiny";
            run.arch = "mobilenetv2/small";
            run.checkpoint = t.checkpoint;
            run.checkpointSha256 = t.sha256;
            run.trainingId = t.id;
            mp::CandidateRecord c = sampled;
            c.runId = store.findOrCreateRun(run);
            c.origin = "random";
            const int64_t inRun = store.addCandidate(c).id;
            store.setRunStatus(c.runId, "finished");
            mp::FidelityReport inBand = *rep;
            inBand.band = mp::CostBand{mp::CostBand::Kind::Macs, double(sc.minMacs) * 1.2, double(sc.maxMacs) * 0.9};
            inBand.correlation.kendallTau = 0.37; // a value the whole-range study above need not have
            inBand.correlation.n = 3;
            mp::storeFidelityReport(store, inBand);
            w.selectCandidate(inRun);
            const QString text = w.trustLabel()->text();
            QVERIFY2(text.contains("inside " + QString::fromStdString(inBand.band->text())), qPrintable(text));
            QVERIFY2(text.contains("\u03c4 = 0.37") && text.contains("over 3 structures"), qPrintable(text));
        }
        const int64_t id = rep->points.front().candidate.id;
        QVERIFY(w.plot()->model().contains(id)); // the sampled structures are on the scatter
        w.selectCandidate(id);
        QVERIFY2(w.trustLabel()->text().contains("over the whole MACs range"), qPrintable(w.trustLabel()->text()));
        QCOMPARE(store.retrains(id).size(), size_t(1));
        panel->modeBox()->setCurrentIndex(1); // fine-tune: a recipe not stored yet
        QTest::mouseClick(panel->retrainButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(done.count() == 2, 300000);
        QVERIFY2(done.last()[0].toBool(), qPrintable(w.lastError()));
        const std::vector<mp::RetrainRecord> runs = store.retrains(id);
        QCOMPARE(runs.size(), size_t(2));
        QVERIFY2(panel->selectedLabel()->text().contains(QString::number(runs[1].testTop1, 'f', 2) + "% test top-1 (fine-tuned"),
                 qPrintable(panel->selectedLabel()->text()));
    }

    void latencyTableAxisAndConstraint() {
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        QVERIFY(w.openProject(project));
        QVERIFY(loaded.wait(60000));
        QSignalSpy ready(&w, &MainWindow::latencyTableReady);
        w.startLatencyTable();
        QVERIFY(w.isBusy());
        QVERIFY(ready.wait(300000));
        QVERIFY(!w.isBusy());
        w.searchPanel()->axisBox()->setCurrentIndex(1);
        QVERIFY(w.plot()->model().latencyAxis());
        for (const PlotPoint& p : w.plot()->model().points())
            QVERIFY(p.latencyMs > 0);
        double last = -1, lastTop1 = -1;
        for (const PlotPoint& p : w.plot()->model().front()) { // a front along latency
            QVERIFY(p.latencyMs > last);
            QVERIFY(p.top1 > lastTop1);
            last = p.latencyMs;
            lastTop1 = p.top1;
        }
        // A short search under a latency bound: every searched point respects it.
        mp::Store store(project.toStdString());
        const auto table = store.latencyTable(mp::latencyArchKey(w.structure()->editor()->architecture()),
                                              mp::currentMachine(1).json());
        QVERIFY(table.has_value());
        const mp::LatencyTable t = mp::LatencyTable::fromJson(table->second);
        const mp::ArchSpec& a = w.structure()->editor()->architecture();
        const double bound = 0.5 * (t.predict(a, mp::uniformEncoding(a, 0)) + t.predict(a, mp::uniformEncoding(a, 30)));
        w.searchPanel()->setPopulationAndGenerations(6, 1);
        mp::SearchConfig cfg = w.searchPanel()->config();
        QVERIFY(cfg.maxLatencyMs == 0);
        w.searchPanel()->setMaxLatency(bound);
        QSignalSpy done(&w, &MainWindow::searchFinished);
        w.startSearch();
        QVERIFY2(w.isBusy(), qPrintable(w.lastError()));
        QVERIFY(done.wait(300000));
        QVERIFY(done[0][0].toBool());
        int checked = 0;
        for (const mp::RunRecord& r : store.runs()) {
            const mp::SearchConfig c = mp::searchConfigFromJson(r.config);
            if (r.kind != "search" || c.maxLatencyMs <= 0)
                continue;
            for (const mp::CandidateRecord& row : store.candidates(r.id))
                if (row.origin != "uniform") {
                    QVERIFY(row.latencyMs > 0 && row.latencyMs <= bound);
                    ++checked;
                }
        }
        QCOMPARE(checked, 6);
    }

    void cancelDuringTrainingLeavesUsableCheckpoint() {
        const QString db = tmp.filePath("cancel.sqlite");
        MainWindow w;
        QVERIFY(w.openProject(db));
        mp::TrainConfig cfg = tinyConfig(400); // long enough to cancel in the middle
        w.trainingPanel()->setConfig(cfg);
        QSignalSpy finished(&w, &MainWindow::trainingFinished);
        w.startTraining();
        QVERIFY(w.isBusy());
        const std::string ckpt = mp::defaultCheckpointPath(db.toStdString(), w.trainingPanel()->config());
        // Wait for progress in the store, then cancel from the GUI thread.
        QTRY_VERIFY_WITH_TIMEOUT(!mp::Store(db.toStdString()).trainings().empty() &&
                                     !mp::Store(db.toStdString()).trainingLog(1).empty(),
                                 60000);
        w.cancelAll();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished[0][0].toBool(), false);
        QVERIFY(!w.isBusy());
        const mp::CheckpointInfo info = mp::readCheckpointInfo(ckpt);
        QVERIFY(info.step > 0);
        QVERIFY(info.step < info.totalSteps);
        QCOMPARE(QString::fromStdString(mp::Store(db.toStdString()).trainings()[0].status), QString("cancelled"));
    }

    void closingDuringSearchCancelsAndWaits() {
        mp::Store before(project.toStdString());
        int64_t searchRun = 0;
        {
            auto* w = new MainWindow;
            QSignalSpy loaded(w, &MainWindow::checkpointLoaded);
            QVERIFY(w->openProject(project));
            QVERIFY(loaded.wait(60000));
            w->searchPanel()->setPopulationAndGenerations(10, 50);
            const size_t shown = w->plot()->model().points().size(); // earlier tests' points
            w->startSearch();
            QVERIFY2(w->isBusy(), qPrintable(w->lastError()));
            QTRY_VERIFY_WITH_TIMEOUT(w->plot()->model().points().size() > shown + 40, 60000);
            QVERIFY(w->close()); // cancels, waits for the worker, then closes
            delete w;
        }
        for (const mp::RunRecord& r : before.runs())
            if (r.kind == "search")
                searchRun = r.id;
        QVERIFY(searchRun > 0);
        QCOMPARE(QString::fromStdString(before.run(searchRun)->status), QString("cancelled"));
        QVERIFY(before.candidates(searchRun).size() < size_t(31 + 10 * 50));
    }

    void badProjectFileShowsError() {
        const QString path = tmp.filePath("not-a-project.sqlite");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is a text file, not an SQLite database at all, and long enough to be read");
        f.close();
        MainWindow w;
        QSignalSpy errors(&w, &MainWindow::errorShown);
        QVERIFY(!w.openProject(path));
        QCOMPARE(errors.count(), 1);
        QVERIFY2(w.lastError().contains(path), qPrintable(w.lastError()));
    }
};

QTEST_MAIN(TestStudio)
#include "tst_studio.moc"
