// The desktop app, offscreen: Pareto front logic on hand-made points, a simulated drag on the
// width editor, a click on a scatter point, a probe landing in the store, the budget view and
// its heat map against stored rows, the demo's final selection, the first-run layout at
// 1280x800, cancel during training, reopening a project, and closing the window during a search.
#include "archfixture.h"
#include "budgetview.h"
#include "mainwindow.h"
#include "paretoplot.h"
#include "reportchart.h"
#include "reportpanel.h"
#include "searchpanel.h"
#include "structurepanel.h"
#include "studiotools.h"
#include "trainedmodeldialog.h"
#include "trainingpanel.h"
#include "widtheditor.h"
#include "workers.h"

#include "metaprune/compare.h"
#include "metaprune/pareto.h"
#include "metaprune/onnx_import.h"
#include "metaprune/project.h"
#include "metaprune/trained.h"

#include <qcustomplot.h>

#include <QAbstractButton>
#include <QComboBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QGuiApplication>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QStatusBar>
#include <QTabBar>
#include <QToolTip>
#include <QTreeWidget>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
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

// The stored rows a view of `db` may show: sound rows of runs of the project's first training.
std::vector<mp::CandidateRecord> soundRows(const QString& db, const mp::ArchSpec& a, int64_t runId = 0) {
    mp::Store store(db.toStdString());
    const std::string sha = store.trainings().at(0).sha256;
    std::vector<mp::CandidateRecord> out;
    for (const mp::RunRecord& r : store.runs())
        if (r.checkpointSha256 == sha && (runId == 0 || r.id == runId))
            for (const mp::CandidateRecord& c : store.candidates(r.id))
                if (mp::candidateDamage(a, c).empty())
                    out.push_back(c);
    return out;
}

// Of `rows` (uniform or not, as `uniform`) costing at most `budget` MACs: the highest top-1,
// then the fewest MACs, then the lowest id (the row stored first). nullopt when none fits.
std::optional<mp::CandidateRecord> bestRowWithin(const std::vector<mp::CandidateRecord>& rows, double budget,
                                                 bool uniform) {
    std::optional<mp::CandidateRecord> best;
    for (const mp::CandidateRecord& c : rows) {
        if ((c.origin == "uniform") != uniform || double(c.macs) > budget)
            continue;
        if (!best || c.top1 > best->top1 || (c.top1 == best->top1 && (c.macs < best->macs ||
                                                                      (c.macs == best->macs && c.id < best->id))))
            best = c;
    }
    return best;
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
    QString budgetDb; // a copy of it with two search runs of stored rows (budgetProject())
    int64_t budgetRunA = 0;

    // A copy of the project with stored rows to walk: run A (random structures with top-1
    // rising with MACs plus noise, a tie, and the 31 uniform networks) and run B (random
    // structures). The rows are made up, not evaluated: the views only read stored rows.
    // Returns run A's id.
    int64_t budgetProject() {
        if (budgetRunA)
            return budgetRunA;
        budgetDb = tmp.filePath("budget.sqlite");
        if (!QFile::copy(project, budgetDb))
            return 0;
        mp::Store store(budgetDb.toStdString());
        const mp::TrainingRecord t = store.trainings().at(0);
        const mp::ArchSpec a = mp::makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        const double full = double(mp::countMacs(a, mp::uniformEncoding(a, 30)));
        std::mt19937 rng(13);
        std::uniform_int_distribution<int> index(0, 30);
        std::normal_distribution<double> noise(0, 2.5);
        auto addRun = [&](uint64_t seed, int count, bool uniforms) {
            mp::RunRecord run;
            run.kind = "search";
            mp::SearchConfig cfg;
            cfg.seed = seed;
            run.config = mp::toJson(cfg);
            run.seed = seed;
            run.dataset = "tiny";
            run.arch = "mobilenetv2/small";
            run.checkpoint = t.checkpoint;
            run.checkpointSha256 = t.sha256;
            run.trainingId = t.id;
            const int64_t id = store.findOrCreateRun(run);
            auto add = [&](const mp::Encoding& e, double top1, const char* origin) {
                mp::CandidateRecord c;
                c.runId = id;
                c.genes = mp::canonicalEncoding(a, e);
                if (store.findCandidate(id, c.genes))
                    return;
                c.channels = mp::geneChannels(a, c.genes);
                c.macs = mp::countMacs(a, c.genes);
                c.params = mp::countParams(a, c.genes);
                c.top1 = top1 < 0 ? 50 + 40 * double(c.macs) / full + noise(rng) : top1;
                c.loss = 1;
                c.origin = origin;
                c.generation = std::string(origin) == "uniform" ? -1 : 0;
                store.addCandidate(c);
            };
            if (uniforms)
                for (int k = 0; k <= 30; ++k)
                    add(mp::uniformEncoding(a, k), 48 + 40 * double(mp::countMacs(a, mp::uniformEncoding(a, k))) / full, "uniform");
            for (int i = 0; i < count; ++i) {
                mp::Encoding e(a.genes.size());
                const int centre = index(rng);
                for (int& g : e)
                    g = std::clamp(centre + index(rng) / 4 - 4, 0, 30);
                add(e, -1, i % 2 ? "mutation" : "random");
            }
            // A tie: the same top-1 as the run's best row, at more MACs (the cheaper one wins).
            std::optional<mp::CandidateRecord> top;
            for (const mp::CandidateRecord& c : store.candidates(id))
                if (c.origin != "uniform" && (!top || c.top1 > top->top1))
                    top = c;
            mp::Encoding wider = top->genes;
            for (int& g : wider)
                g = std::min(30, g + 1);
            add(wider, top->top1, "crossover");
            store.setRunStatus(id, "finished");
            return id;
        };
        budgetRunA = addRun(101, 70, true);
        addRun(102, 40, false);
        return budgetRunA;
    }

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

    // The front of everything (searched and uniform) and the gain band's values, by hand.
    void frontOfAllAndGainBand() {
        ParetoModel m;
        m.add(point(1, 100, 60.0, "uniform"));
        m.add(point(2, 200, 70.0, "uniform"));
        m.add(point(3, 400, 80.0, "uniform"));
        m.add(point(4, 150, 58.0));  // below the uniform 100-MACs network: not on the front of all
        m.add(point(5, 250, 75.0));  // beats the uniform 200 at a little more
        m.add(point(6, 390, 79.0));
        m.add(point(7, 120, 62.0, "probe"));
        QCOMPARE(ids(m.front()), (std::vector<int64_t>{7, 5, 6}));
        QCOMPARE(ids(m.uniformFront()), (std::vector<int64_t>{1, 2, 3}));
        QCOMPARE(ids(m.frontOfAll()), (std::vector<int64_t>{1, 7, 2, 5, 6, 3}));
        QVERIFY(!m.bestWithin(99).has_value());
        QVERIFY(!m.bestWithin(119).has_value());
        QCOMPARE(m.bestWithin(120)->id, int64_t(7));
        QCOMPARE(m.bestWithin(249.9)->id, int64_t(7));
        QCOMPARE(m.bestWithin(1e9)->id, int64_t(6));
        QCOMPARE(m.bestWithin(399, true)->id, int64_t(2));
        QVERIFY(!m.gainAt(110).has_value());          // no searched structure within 110
        QCOMPARE(*m.gainAt(150), 62.0 - 60.0);        // 7 against uniform 1
        QCOMPARE(*m.gainAt(200), 62.0 - 70.0);        // uniform 2 ahead
        QCOMPARE(*m.gainAt(300), 75.0 - 70.0);
        // Beyond the costliest searched structure the search did not look: no difference there
        // (a budget of 400 would set 6 at 390 against uniform 3 at 400).
        QCOMPARE(*m.searchedReach(), 390.0);
        QCOMPARE(*m.gainAt(390), 79.0 - 70.0);
        QVERIFY(!m.gainAt(400).has_value());
        m.add(point(8, 395, 50.0)); // searched further, found nothing better: reach, not front
        QCOMPARE(ids(m.front()), (std::vector<int64_t>{7, 5, 6}));
        QCOMPARE(*m.searchedReach(), 395.0);
        QCOMPARE(*m.gainAt(395), 79.0 - 70.0);
        QCOMPARE(m.bestOfRun(0, 200, 300)->id, int64_t(5));
        QVERIFY(!m.bestOfRun(0, 260, 300).has_value());
    }

    // The drawn front of everything: searched and uniform steps apart, NaN between pieces.
    void plotDrawsTheFrontOfEverything() {
        ParetoPlot plot;
        plot.resize(700, 500);
        plot.addPoint(point(1, 1000000, 60.0, "uniform"));
        plot.addPoint(point(2, 2000000, 70.0, "uniform"));
        plot.addPoint(point(4, 1500000, 58.0));
        plot.addPoint(point(5, 2500000, 75.0));
        // Uniform 1 holds [1, 2.5) M (4 is below it) ... as steps: (1, 60) -> (2, 60), riser to 70 at 2 by uniform 2.
        QCPGraph* u = plot.uniformFrontGraph();
        QCPGraph* s = plot.searchedFrontGraph();
        QCOMPARE(u->data()->size(), 7); // 1: 3 points; 2: riser + 3 points
        QCOMPARE(u->data()->at(0)->key, 1.0);
        QCOMPARE(u->data()->at(1)->key, 2.0);
        QCOMPARE(u->data()->at(1)->value, 60.0);
        QVERIFY(std::isnan(u->data()->at(2)->value));
        QCOMPARE(u->data()->at(3)->value, 60.0); // riser from 60 ...
        QCOMPARE(u->data()->at(4)->value, 70.0); // ... to 70 at 2 M
        QCOMPARE(u->data()->at(5)->key, 2.5);
        QCOMPARE(s->data()->size(), 4);           // 5: riser from 70 at 2.5 M, holds to the costliest point
        QCOMPARE(s->data()->at(0)->value, 70.0);
        QCOMPARE(s->data()->at(1)->value, 75.0);
        plot.setCursorBudget(2200000);
        QVERIFY2(plot.cursorText().contains("at 2.200 M MACs:\nsearched 58.00%, uniform 70.00% (-12.00)"), qPrintable(plot.cursorText()));
        // The gain band's last step reaches the costliest searched structure, 2.5 M, and no further.
        QCOMPARE(plot.gainAheadGraph()->data()->at(plot.gainAheadGraph()->data()->size() - 1)->key, 2.5);
        plot.addPoint(point(3, 4000000, 85.0, "uniform"));
        plot.setCursorBudget(4000000); // 5 (2.5 M) is the costliest searched structure
        QVERIFY2(plot.cursorText() == "at 4.000 M MACs: uniform 85.00%\nsearched only up to 2.500 M MACs",
                 qPrintable(plot.cursorText()));
    }

    // The plot's error bars: each point's 95% Wilson interval over its images, against the
    // closed form computed here; a point without an image count gets none.
    void errorBarsAreWilsonIntervals() {
        ParetoPlot plot;
        plot.resize(700, 500);
        PlotPoint a = point(1, 1000000, 80.0), b = point(2, 2000000, 90.0), u = point(3, 1500000, 70.0, "uniform");
        PlotPoint unknown = point(4, 3000000, 91.0);
        a.images = 2000;
        b.images = 50;
        u.images = 2000;
        for (const PlotPoint& p : {a, b, u, unknown})
            plot.addPoint(p);
        QVERIFY(!plot.errorBarsOf(plot.graphOf(a)));
        plot.setErrorBars(true);
        const auto wilson = [](double top1, double n) { // Wilson (1927), z = 1.959964
            const double z = 1.959963984540054, p = top1 / 100;
            const double centre = (p + z * z / (2 * n)) / (1 + z * z / n);
            const double half = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n);
            return std::make_pair(100 * (centre - half), 100 * (centre + half));
        };
        for (const PlotPoint& p : {a, b, u}) {
            QCPErrorBars* bars = plot.errorBarsOf(plot.graphOf(p));
            QVERIFY(bars);
            const QCPGraph* g = plot.graphOf(p);
            int at = -1;
            for (int i = 0; i < g->data()->size(); ++i)
                if (g->data()->at(i)->value == p.top1)
                    at = i;
            QVERIFY(at >= 0);
            const auto [lo, hi] = wilson(p.top1, double(p.images));
            QVERIFY2(std::abs(p.top1 - bars->data()->at(at).errorMinus - lo) < 1e-9 &&
                         std::abs(p.top1 + bars->data()->at(at).errorPlus - hi) < 1e-9,
                     qPrintable(QString("%1%: [%2, %3] drawn, [%4, %5] expected")
                                    .arg(p.top1)
                                    .arg(p.top1 - bars->data()->at(at).errorMinus)
                                    .arg(p.top1 + bars->data()->at(at).errorPlus)
                                    .arg(lo)
                                    .arg(hi)));
        }
        // 80% of 2000 images: about +-1.75 points.
        QVERIFY(std::abs(wilson(80, 2000).second - wilson(80, 2000).first - 3.50) < 0.02);
        QCPErrorBars* random = plot.errorBarsOf(plot.graphOf(unknown));
        QCOMPARE(random, plot.errorBarsOf(plot.graphOf(a))); // same origin, same graph
        for (int i = 0; i < random->dataCount(); ++i)
            if (plot.graphOf(unknown)->data()->at(i)->value == 91.0)
                QVERIFY(std::isnan(random->data()->at(i).errorMinus));
        // The y axis holds every whole bar: 90% of 50 images reaches up to 95.7%, above the
        // 2-point margin kept around the points themselves.
        QVERIFY(plot.plotWidget()->yAxis->range().upper >= wilson(b.top1, double(b.images)).second);
        plot.addPoint(point(5, 500000, 50.0)); // bars follow new points
        plot.plotWidget()->replot();
        QCOMPARE(plot.errorBarsOf(plot.graphOf(a))->dataCount(), plot.graphOf(a)->dataCount());
        plot.setErrorBars(false);
        QVERIFY(!plot.errorBarsOf(plot.graphOf(a)));
    }

    // A comparison at 50%, 25% and 12.5% of the MACs: two searches with one PruningNet, each
    // structure retrained with seeds 1 and 2; the uniform network once per PruningNet.
    static mp::CompareReport sampleCompareReport() {
        mp::CompareReport report;
        report.arch = "mobilenetv2/small";
        for (const double fraction : {0.5, 0.25, 0.125}) {
            mp::CompareRow row;
            mp::CompareArm arm;
            arm.searchedTop1 = {90.0, 91.0};
            arm.uniformTop1 = {89.0, 90.0};
            arm.searched.macs = int64_t(4100000 * fraction);
            arm.uniform.macs = int64_t(4380000 * fraction);
            mp::CompareArm other = arm; // a second search with the same PruningNet: same uniform network
            other.searched.macs = int64_t(4320000 * fraction);
            row.fraction = fraction;
            row.arms = {arm, other};
            report.rows.push_back(row);
        }
        return report;
    }

    // The compare chart's title names the architecture, then the number of results.
    void compareChartTitle() {
        QCustomPlot plot;
        drawCompareChart(&plot, sampleCompareReport());
        auto* title = qobject_cast<QCPTextElement*>(plot.plotLayout()->element(0, 0));
        QVERIFY(title);
        // 2 searches x 2 retraining seeds; the uniform network once per PruningNet: 2 results.
        QCOMPARE(title->text(), QString("mobilenetv2/small: searched vs uniform, mean ± sd (n = 4 vs 2)"));
        drawCompareChart(&plot, sampleCompareReport(), true); // the Reports panel's
        // Lowest bar end: uniform 89.5 - sd 0.71 = 88.79; the axis starts 2 under it, floored: 86.
        QCOMPARE(title->text(), QString("mobilenetv2/small\nmean ± sd (n = 4 vs 2), axis from 86%"));
        QCOMPARE(plot.xAxis->ticker().dynamicCast<QCPAxisTickerText>()->ticks().value(3.0), QString("12.5% MACs"));
        drawCompareChart(&plot, sampleCompareReport());
        auto ticker = plot.xAxis->ticker().dynamicCast<QCPAxisTickerText>();
        QVERIFY(ticker);
        QCOMPARE(ticker->ticks().value(1.0), QString("50% MACs\n2.05M-2.16M vs 2.19M"));
    }

    // Against the L1 baseline the chart names it, adds the uniform network from scratch as a
    // third bar and draws the original model as a line above which the axis reaches.
    void compareChartOfTheL1Baseline() {
        mp::CompareReport report = sampleCompareReport();
        report.baseline = mp::CompareBaseline::L1;
        report.originalTop1 = 93.25;
        for (mp::CompareRow& row : report.rows)
            for (mp::CompareArm& arm : row.arms)
                arm.scratchTop1 = {85.0, 86.0};
        QCustomPlot plot;
        drawCompareChart(&plot, report);
        auto* title = qobject_cast<QCPTextElement*>(plot.plotLayout()->element(0, 0));
        QVERIFY(title);
        QCOMPARE(title->text(), QString("mobilenetv2/small: searched vs L1 filter pruning, mean ± sd (n = 4 vs 2)"));
        QStringList names;
        for (int i = 0; i < plot.legend->itemCount(); ++i)
            if (auto* item = qobject_cast<QCPPlottableLegendItem*>(plot.legend->item(i)))
                names << item->plottable()->name();
        QCOMPARE(names, (QStringList{"searched (MetaPruning)", "L1 filter pruning",
                                     "uniform width multiplier, from scratch"}));
        auto* scratch = qobject_cast<QCPBars*>(plot.plottable(4)); // bars and error bars, in pairs
        QVERIFY(scratch);
        QCOMPARE(scratch->data()->size(), 3);
        QCOMPARE(scratch->data()->at(0)->value, 85.5); // both searches' results: 85, 86, 85, 86
        auto* line = qobject_cast<QCPItemStraightLine*>(plot.item(0));
        QVERIFY(line);
        QCOMPARE(line->point1->coords().y(), 93.25);
        QVERIFY(plot.yAxis->range().upper > 93.25);
        // Lowest bar end: 85.5 - sd 0.58 (four results) = 84.92; 2 under it, floored: 82.
        QCOMPARE(plot.yAxis->range().lower, 82.0);
    }

    // The Reports panel's controls become the comparison the CLI's compare runs.
    void comparePanelDescribesTheComparison() {
        ReportPanel panel;
        mp::CompareConfig c = panel.compareConfig(7);
        QCOMPARE(int(c.pairing), int(mp::ComparePairing::EqualCost)); // the paper's protocol by default
        QCOMPARE(c.pruningnetSeeds, (std::vector<uint64_t>{7}));
        QCOMPARE(c.searchSeeds, (std::vector<uint64_t>{1}));
        QCOMPARE(c.seeds, (std::vector<uint64_t>{1, 2}));
        QCOMPARE(c.fractions, (std::vector<double>{0.5, 0.25, 0.125}));
        panel.pairingBox()->setCurrentIndex(1);
        panel.epochsBox()->setValue(4);
        panel.seedsBox()->setValue(3);
        panel.searchSeedsBox()->setValue(2);
        panel.pruningnetsBox()->setValue(2);
        c = panel.compareConfig(7);
        QCOMPARE(int(c.pairing), int(mp::ComparePairing::AtLeast));
        QCOMPARE(c.recipe.epochs, 4);
        QCOMPARE(c.seeds, (std::vector<uint64_t>{1, 2, 3}));
        QCOMPARE(c.searchSeeds, (std::vector<uint64_t>{1, 2}));
        QCOMPARE(c.pruningnetSeeds, (std::vector<uint64_t>{7, 8}));
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
        // Nor in the budget view, which reads the plot's points.
        QVERIFY(!w.budget()->model().fronts().contains(ids[0]) && !w.budget()->model().fronts().contains(ids[1]));
        QCOMPARE(w.budget()->model().fronts().points().size(), w.plot()->model().points().size());
        QCOMPARE(w.plot()->model().points().size(), ids.size() - 2);
        for (const PlotPoint& p : w.plot()->model().front())
            QVERIFY(p.macs > 0 && std::isfinite(p.top1));
        w.selectCandidate(ids[1]);
        QVERIFY(w.selectedCandidate() != ids[1]);
        QVERIFY(!w.structure()->predictionText().contains("nan"));
    }

    // The budget view against stored rows: each slider position shows the best stored structure
    // within its budget and the best uniform network within it (expectations from the rows);
    // the plot's selection follows; the bars morph to the chosen structure's stored channels.
    void budgetSliderMapsToBestStructure_data() {
        QTest::addColumn<bool>("oneRun");
        QTest::newRow("front of all runs") << false;
        QTest::newRow("front of one run") << true;
    }
    void budgetSliderMapsToBestStructure() {
        QFETCH(bool, oneRun);
        const mp::ArchSpec a = mp::makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        const int64_t runA = budgetProject();
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        QVERIFY(w.openProject(budgetDb));
        QVERIFY(loaded.wait(60000));
        w.resize(kShotWidth, kShotHeight);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.showBudget();
        BudgetView* b = w.budget();
        QVERIFY(b->slider()->isEnabled() && b->playButton()->isEnabled());
        if (oneRun)
            b->setRun(runA);
        QCOMPARE(b->run(), oneRun ? runA : int64_t(0));
        const std::vector<mp::CandidateRecord> rows = soundRows(budgetDb, a, oneRun ? runA : 0);
        QVERIFY(rows.size() > 60);
        // The slider spans the cheapest searched structure to the costliest stored point.
        std::optional<int64_t> cheapest, costliest;
        for (const mp::CandidateRecord& c : rows) {
            if (c.origin != "uniform" && (!cheapest || c.macs < *cheapest))
                cheapest = c.macs;
            if (!costliest || c.macs > *costliest)
                costliest = c.macs;
        }
        QCOMPARE(b->model().minBudget(), double(*cheapest));
        QCOMPARE(b->model().maxBudget(), double(*costliest));
        int changes = 0, beyond = 0;
        qint64 last = -1;
        b->setBudget(b->model().maxBudget()); // a user's move: from here on the selection follows
        for (int pos = BudgetModel::kSteps; pos >= 0; --pos) {
            b->slider()->setValue(pos);
            const double budget = b->budget();
            QCOMPARE(budget, b->model().budgetAt(pos));
            const std::optional<mp::CandidateRecord> best = bestRowWithin(rows, budget, false);
            const std::optional<mp::CandidateRecord> uniform = bestRowWithin(rows, budget, true);
            QVERIFY(best.has_value());
            QVERIFY2(b->currentBest() && b->currentBest()->id == best->id,
                     qPrintable(QString("position %1, budget %2: expected candidate %3").arg(pos).arg(budget).arg(best->id)));
            QCOMPARE(b->currentUniform().has_value(), uniform.has_value());
            if (uniform)
                QCOMPARE(b->currentUniform()->id, uniform->id);
            QCOMPARE(w.selectedCandidate(), best->id); // the plot's selection follows
            // A difference only where the search looked: beyond its costliest structure the
            // uniform network of the budget is not compared with a cheaper searched one.
            const QString summary = b->summaryText();
            if (uniform && budget > *b->model().fronts().searchedReach()) {
                ++beyond;
                QVERIFY2(summary.contains("the search did not go beyond") && !summary.contains("uniform by"),
                         qPrintable(summary));
                if (!oneRun) // the plot shows every run, so it reaches as far as the view
                    QVERIFY2(w.plot()->cursorText().contains("searched only up to"),
                             qPrintable(w.plot()->cursorText()));
            } else if (uniform) {
                QVERIFY2(summary.contains(QString("uniform by <b>%1%2 points</b>")
                                              .arg(best->top1 >= uniform->top1 ? "+" : "")
                                              .arg(best->top1 - uniform->top1, 0, 'f', 2)),
                         qPrintable(summary));
            }
            QVERIFY2(b->budgetBox()->value() == QString::number(budget / 1e6, 'f', 3).toDouble(),
                     qPrintable(QString::number(b->budgetBox()->value())));
            changes += best->id != last;
            last = best->id;
        }
        QVERIFY(changes >= 5); // the sweep walks through several structures
        qInfo("%d of %d slider positions lie beyond the costliest searched structure", beyond,
              BudgetModel::kSteps + 1);
        // The bars morph to the chosen structure's stored channels: from the smallest structure
        // (the slider is at 0) to the full budget's, not there at once, there after the animation.
        const WidthEditor* editor = w.structure()->editor();
        auto storedBars = [&](const mp::CandidateRecord& c) {
            std::vector<double> out;
            for (int l = 0; l < editor->layerCount(); ++l)
                out.push_back(c.channels[size_t(editor->geneOfLayer(l))]);
            return out;
        };
        const std::vector<double> smallest = storedBars(*bestRowWithin(rows, b->budget(), false));
        QTRY_COMPARE_WITH_TIMEOUT(b->displayedChannels(), smallest, 5000);
        b->slider()->setValue(BudgetModel::kSteps);
        const std::vector<double> expected = storedBars(*bestRowWithin(rows, b->budget(), false));
        QVERIFY(expected != smallest);
        QVERIFY(b->displayedChannels() != expected);
        QTRY_COMPARE_WITH_TIMEOUT(b->displayedChannels(), expected, 5000);
        // The spin box sets the budget too (in M MACs, clamped to the slider's range).
        b->budgetBox()->setValue(b->budgetBox()->minimum());
        QCOMPARE(b->budget(), std::clamp(b->budgetBox()->value() * 1e6, b->model().minBudget(), b->model().maxBudget()));
        QCOMPARE(b->currentBest()->id, bestRowWithin(rows, b->budget(), false)->id);
        QCOMPARE(w.selectedCandidate(), b->currentBest()->id);
    }

    // A project searched at 50%: at the full network's budget the view says that the search
    // did not go there, instead of setting the best searched structure (1.6 M MACs) against the
    // full-width uniform network (4.5 M); within the search's reach it gives the difference.
    void budgetViewComparesOnlyWhereTheSearchLooked() {
        const mp::ArchSpec a = mp::makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        std::vector<PlotPoint> points;
        auto add = [&](const mp::Encoding& e, double top1, const char* origin) {
            PlotPoint p = point(int64_t(points.size()) + 1, mp::countMacs(a, e), top1, origin);
            p.channels = mp::geneChannels(a, e);
            points.push_back(p);
        };
        for (int k : {0, 15, 30})
            add(mp::uniformEncoding(a, k), 70 + k / 2.0, "uniform");
        add(mp::uniformEncoding(a, 12), 84.0, "mutation"); // stands in for a searched structure
        mp::Encoding e = mp::uniformEncoding(a, 14);
        e[0] = 3;
        add(e, 80.0, "random");
        const double full = double(points[2].macs), reach = double(std::max(points[3].macs, points[4].macs));
        QVERIFY(reach < full / 2);
        BudgetView view;
        view.setArchitecture(a);
        view.setPoints(points, false);
        QCOMPARE(*view.model().fronts().searchedReach(), reach);
        view.setBudget(full);
        QVERIFY2(view.summaryText().contains(QString("<b>uniform</b>")) &&
                     view.summaryText().endsWith(
                         QString("the search did not go beyond %1 M MACs: no difference at this budget").arg(reach / 1e6, 0, 'f', 3)),
                 qPrintable(view.summaryText()));
        view.setBudget(reach);
        QVERIFY2(view.summaryText().endsWith("searched ahead of uniform by <b>+14.00 points</b>"),
                 qPrintable(view.summaryText())); // 84% against the 0.10x network's 70%
    }

    // The heat map: column = a slider position's budget, row = a bar; the value is the stored
    // channels of that budget's best structure over the layer's maximum. Hover names it, a click
    // selects it, it exports as PNG and SVG.
    void heatMapMatchesStoredChannels() {
        const mp::ArchSpec a = mp::makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        budgetProject();
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        QVERIFY(w.openProject(budgetDb));
        QVERIFY(loaded.wait(60000));
        w.resize(kShotWidth, kShotHeight);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.showBudget();
        BudgetView* b = w.budget();
        const std::vector<mp::CandidateRecord> rows = soundRows(budgetDb, a);
        const WidthEditor* editor = w.structure()->editor();
        QCPColorMapData* data = b->heatMap()->data();
        QCOMPARE(data->keySize(), BudgetModel::kSteps + 1);
        QCOMPARE(data->valueSize(), editor->layerCount());
        int checked = 0;
        for (int c = 0; c <= BudgetModel::kSteps; ++c) {
            const std::optional<mp::CandidateRecord> best = bestRowWithin(rows, b->model().budgetAt(c), false);
            QVERIFY(best.has_value());
            for (int l = 0; l < editor->layerCount(); ++l) {
                const mp::Gene& g = a.genes[size_t(editor->geneOfLayer(l))];
                const double want = double(best->channels[size_t(editor->geneOfLayer(l))]) / g.maxChannels;
                QCOMPARE(data->cell(c, l), want);
                ++checked;
            }
        }
        QCOMPARE(checked, (BudgetModel::kSteps + 1) * editor->layerCount());
        b->heatMapPlot()->replot();
        // A click on column 40 selects the best structure within that column's budget.
        const int column = 40, layer = 3;
        const std::optional<mp::CandidateRecord> at = bestRowWithin(rows, b->model().budgetAt(column), false);
        // Hovering names the layer, the budget and the channels kept.
        const mp::Op& op = a.ops[size_t(editor->opOfLayer(layer))];
        const mp::Gene& g = a.genes[size_t(editor->geneOfLayer(layer))];
        QTest::mouseMove(b->heatMapPlot(), b->heatMapPixel(column, layer).toPoint());
        const QString tip = QToolTip::text();
        QVERIFY2(tip.contains(QString::fromStdString(op.name)) &&
                     tip.contains(QString::number(b->model().budgetAt(column) / 1e6, 'f', 3)) &&
                     tip.contains(QString("%1 of %2 channels").arg(at->channels[size_t(editor->geneOfLayer(layer))])
                                      .arg(g.maxChannels)) &&
                     tip.contains(QString("candidate %1").arg(at->id)),
                 qPrintable(tip));
        QTest::mouseClick(b->heatMapPlot(), Qt::LeftButton, {}, b->heatMapPixel(column, layer).toPoint());
        QCOMPARE(b->slider()->value(), column);
        QCOMPARE(w.selectedCandidate(), at->id);
        QVERIFY2(w.plot()->cursorText().contains(QString::number(b->model().budgetAt(column) / 1e6, 'f', 3)),
                 qPrintable(w.plot()->cursorText()));
        // Exports.
        QString error;
        const QString png = tmp.filePath("heat.png"), svg = tmp.filePath("heat.svg");
        QVERIFY2(b->exportHeatMap(png, &error), qPrintable(error));
        QVERIFY2(b->exportHeatMap(svg, &error), qPrintable(error));
        QImage image(png);
        QVERIFY(image.width() >= 900 && image.height() >= 520);
        QFile f(svg);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray text = f.readAll();
        QVERIFY(text.contains("<svg") && text.contains("</svg>"));
        QVERIFY(text.contains("fraction of channels kept"));
        QVERIFY(!b->exportHeatMap(tmp.filePath("heat.pdf"), &error));
        QVERIFY2(error.contains("heat.pdf") && error.contains(".svg"), qPrintable(error));
    }

    // The demo's search ends on its result: the best searched structure within the constraint
    // selected, the uniform network of equal-or-higher MACs compared, the budget view raised on
    // that run and ready to play; the status bar said what was happening.
    void demoEndsOnItsResult() {
        const QString db = tmp.filePath("demo.sqlite");
        QVERIFY(QFile::copy(project, db));
        const mp::ArchSpec a = mp::makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        QVERIFY(w.openProject(db));
        QVERIFY(loaded.wait(60000));
        w.resize(kShotWidth, kShotHeight);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.searchPanel()->setPopulationAndGenerations(8, 2);
        QSignalSpy finished(&w, &MainWindow::demoFinished);
        w.startDemo();
        QVERIFY2(w.isBusy(), qPrintable(w.lastError()));
        QVERIFY2(w.statusBar()->currentMessage().contains("Demo, step 2 of 2: searching"),
                 qPrintable(w.statusBar()->currentMessage()));
        QVERIFY(finished.wait(600000));
        mp::Store store(db.toStdString());
        int64_t runId = 0;
        for (const mp::RunRecord& r : store.runs())
            if (r.kind == "search")
                runId = r.id;
        QVERIFY(runId > 0);
        const mp::SearchConfig cfg = mp::searchConfigFromJson(store.run(runId)->config);
        QVERIFY(cfg.maxMacs > 0);
        std::vector<mp::CandidateRecord> inBand;
        for (const mp::CandidateRecord& c : soundRows(db, a, runId))
            if (c.origin != "uniform" && c.macs >= cfg.minMacs && c.macs <= cfg.maxMacs)
                inBand.push_back(c);
        const std::optional<mp::CandidateRecord> best = bestRowWithin(inBand, double(cfg.maxMacs), false);
        QVERIFY(best.has_value());
        std::optional<mp::CandidateRecord> uniform;
        for (const mp::CandidateRecord& c : soundRows(db, a))
            if (c.origin == "uniform" && c.macs >= best->macs && (!uniform || c.macs < uniform->macs))
                uniform = c;
        QVERIFY(uniform.has_value());
        QCOMPARE(finished[0][0].toLongLong(), best->id);
        QCOMPARE(finished[0][1].toLongLong(), uniform->id);
        QCOMPARE(w.selectedCandidate(), best->id);
        QCOMPARE(w.structure()->editor()->encoding(), best->genes);
        QVERIFY(w.budget()->isVisible()); // the Budget tab is raised
        QCOMPARE(w.budget()->run(), runId);
        QCOMPARE(w.budget()->currentBest()->id, best->id);
        QVERIFY(w.budget()->playButton()->isEnabled());
        const QString status = w.statusBar()->currentMessage();
        QVERIFY2(status.contains(QString("candidate %1").arg(best->id)) && status.contains("Play"), qPrintable(status));
        QVERIFY2(status.contains(QString::number(uniform->top1, 'f', 2)), qPrintable(status));
        QVERIFY(!w.isBusy());
        // The demo again on the searched project: no new search, the same result at once.
        MainWindow again;
        QSignalSpy reloaded(&again, &MainWindow::checkpointLoaded);
        QVERIFY(again.openProject(db));
        QVERIFY(reloaded.wait(60000));
        QSignalSpy shown(&again, &MainWindow::demoFinished);
        again.startDemo();
        QCOMPARE(shown.count(), 1);
        QCOMPARE(shown[0][0].toLongLong(), best->id);
        QCOMPARE(again.selectedCandidate(), best->id);
        QVERIFY(!again.isBusy());
    }

    // The probe run appears with the first stored probe and ends with the app: finished, not
    // left running.
    void probeRunClosesWithTheApp() {
        const auto runningProbes = [this] {
            int n = 0;
            for (const mp::RunRecord& r : mp::Store(project.toStdString()).runs())
                n += r.kind == "probe" && r.status == "running";
            return n;
        };
        {
            MainWindow w;
            QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
            QVERIFY(w.openProject(project));
            QVERIFY(loaded.wait(60000));
            QCOMPARE(runningProbes(), 0); // opening a project writes no run
            // A structure no test stored: the narrowest network with a full-width stem.
            const mp::ArchSpec arch = mp::makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
            mp::Encoding enc = mp::uniformEncoding(arch, 0);
            enc[size_t(w.structure()->editor()->geneOfLayer(0))] = mp::grid::kSize - 1;
            QSignalSpy shown(&w, &MainWindow::probeShown);
            w.structure()->applyEdit(enc);
            QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && shown.last()[1].toBool(), 60000);
            QCOMPARE(runningProbes(), 1);
        }
        QCOMPARE(runningProbes(), 0);
        for (const mp::RunRecord& r : mp::Store(project.toStdString()).runs())
            if (r.kind == "probe")
                QCOMPARE(QString::fromStdString(r.status), QString("finished"));
    }

    // A PruningNet that has not learned: the trust line says so, the search asks before it runs.
    void unlearnedPruningNetAsksBeforeSearching() {
        const QString db = tmp.filePath("unlearned.sqlite");
        mp::TrainConfig cfg = tinyConfig();
        cfg.lr = 1e-8; // never leaves its initialisation: stays at chance
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
    // File > New Project from Trained Model: the dialog reads an ONNX model with its weights,
    // scores it on the data's test set in the background (the top-1 evaluateTrained gives),
    // refuses a normalisation that does not fit the model, and the project it creates trains a
    // PruningNet that starts from the model. The plot draws a stored original model as a
    // reference; the Structure panel names the L1 baseline.
    void trainedModelProject() {
        // A "trained" model written by the exporter: deterministic weights, batch norm folded.
        const mp::ArchSpec a = mp::makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        mp::PrunedNetwork net;
        net.arch = a;
        net.encoding = mp::uniformEncoding(a, 30);
        net.metadataJson = "{}";
        net.weight.resize(a.ops.size());
        net.bias.resize(a.ops.size());
        std::mt19937 rng(3);
        std::normal_distribution<float> normal(0.0f, 0.2f);
        for (const mp::LayerShape& l : mp::layerShapes(a, net.encoding)) {
            const bool conv = a.ops[size_t(l.op)].kind == mp::OpKind::Conv;
            mp::NetworkTensor w;
            w.shape = conv ? std::vector<int64_t>{l.outChannels, l.inChannels / l.groups, l.kernelH, l.kernelW}
                           : std::vector<int64_t>{l.outChannels, l.inChannels};
            int64_t n = 1;
            for (int64_t d : w.shape)
                n *= d;
            for (int64_t i = 0; i < n; ++i)
                w.data.push_back(normal(rng));
            net.weight[size_t(l.op)] = w;
            mp::NetworkTensor b{{l.outChannels}, {}};
            for (int i = 0; i < l.outChannels; ++i)
                b.data.push_back(normal(rng));
            net.bias[size_t(l.op)] = b;
        }
        const QString onnx = tmp.filePath("trained-model.onnx");
        mp::writeNetwork(net, mp::ExportFormat::Onnx, onnx.toStdString());

        TrainedModelDialog dialog;
        dialog.modelEdit()->setText(onnx);
        dialog.dataEdit()->setText(FASHION_MNIST_DIR);
        QCOMPARE(dialog.projectEdit()->text(), tmp.filePath("trained-model.sqlite")); // follows the model
        dialog.meanEdit()->setText("0.2,0.3");
        QSignalSpy done(&dialog, &TrainedModelDialog::evaluated);
        dialog.evaluateButton()->click();
        QVERIFY(done.wait(120000));
        QVERIFY(!done.last()[0].toBool());
        QVERIFY2(dialog.resultLabel()->text().contains("'0.2,0.3' has 2 values; the model reads 1 channels"),
                 qPrintable(dialog.resultLabel()->text()));
        QVERIFY(!dialog.createButton()->isEnabled());
        dialog.meanEdit()->setText("0.286");
        dialog.stdEdit()->setText("0.353");
        dialog.evaluateButton()->click();
        QVERIFY(done.wait(300000));
        QVERIFY2(done.last()[0].toBool(), qPrintable(dialog.resultLabel()->text()));
        QVERIFY(dialog.createButton()->isEnabled());
        mp::TrainedWeights weights;
        const mp::ArchSpec imported = mp::importOnnx(onnx.toStdString(), nullptr, &weights);
        const mp::ModelScore expected =
            mp::evaluateTrained(imported, weights, mp::loadData(FASHION_MNIST_DIR).test, {0.286f}, {0.353f});
        QVERIFY2(dialog.resultLabel()->text().startsWith(
                     QString("Original model: top-1 %1% on 10000 test images").arg(expected.top1, 0, 'f', 2)),
                 qPrintable(dialog.resultLabel()->text()));
        QCOMPARE(dialog.architecture().inputMean, std::vector<float>{0.286f});
        QCOMPARE(QString::fromStdString(dialog.architecture().weightsFile), onnx);

        MainWindow w;
        QVERIFY(w.newProjectFromTrainedModel(dialog.architecture(), dialog.dataPath(), dialog.projectPath(),
                                             dialog.top1()));
        const mp::TrainConfig cfg = w.trainingPanel()->config();
        QVERIFY(cfg.initFromWeights);
        QCOMPARE(cfg.lr, mp::kWarmStartLr);
        QCOMPARE(QString::fromStdString(mp::architectureFromJson(cfg.architecture).weightsFile), onnx);
        QVERIFY2(w.statusBar()->currentMessage().contains(QString("top-1 %1%").arg(expected.top1, 0, 'f', 2)),
                 qPrintable(w.statusBar()->currentMessage()));

        // A stored original model is the plot's reference line and point.
        const QString db = tmp.filePath("reference.sqlite");
        QVERIFY(QFile::copy(project, db));
        {
            mp::Store store(db.toStdString());
            store.setSetting("original_model." + std::to_string(store.trainings().at(0).id),
                             R"({"top1": 81.5, "images": 400, "macs": 4467520})");
        }
        MainWindow r;
        QVERIFY(r.openProject(db));
        const QCPGraph* line = r.plot()->originalLineGraph();
        QCOMPARE(line->data()->size(), 2);
        QCOMPARE(line->data()->at(0)->value, 81.5);
        QCOMPARE(r.plot()->originalPointGraph()->data()->at(0)->key, 4467520 / 1e6);
        QVERIFY(r.trainingPanel()->statusText().contains("Started from a trained model: top-1 81.50% on 400 test images"));
        StructurePanel panel;
        panel.setL1Baseline(true);
        QVERIFY(panel.baselineLabel()->toolTip().contains("L1 norm"));
    }

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
        QVERIFY(w.budget()->model().latencyAxis()); // the budget view follows the plot's axis
        QCOMPARE(w.budget()->budgetBox()->suffix(), QString(" ms"));
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
        QVERIFY(w.statusBar()->currentMessage().contains("press Train"));
        w.startTraining();
        QVERIFY(w.isBusy());
        // The status bar says what runs now, not the new project's hint.
        QTRY_VERIFY_WITH_TIMEOUT(w.statusBar()->currentMessage().startsWith("Training the PruningNet"), 60000);
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

    // The Search panel's "processes" setting: a search on 2 processes (the app as rank 0 and one
    // `metaprune search-rank`) stores, row for row, what a one-process search with the same seed
    // stores, and the plot shows every row as it arrives.
    void searchOnTwoProcessesStoresTheOneProcessRows() {
        SearchWorker::setRankProgram(METAPRUNE_CLI);
        std::vector<std::vector<std::tuple<std::string, double, std::string, int>>> rows;
        for (int processes : {1, 2}) {
            const QString db = tmp.filePath(QString("processes%1.sqlite").arg(processes));
            QVERIFY(QFile::copy(project, db));
            MainWindow w;
            QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
            QVERIFY(w.openProject(db));
            QVERIFY(loaded.wait(60000));
            w.searchPanel()->setPopulationAndGenerations(8, 2);
            w.searchPanel()->setProcesses(processes);
            w.searchPanel()->setSeed(4242); // no earlier test searched with it: a new run, not a resumed one
            QCOMPARE(w.searchPanel()->config().seed, uint64_t(4242));
            QSignalSpy done(&w, &MainWindow::searchFinished);
            w.startSearch();
            QVERIFY2(w.isBusy(), qPrintable(w.lastError()));
            QVERIFY2(done.wait(300000), qPrintable(w.lastError()));
            QVERIFY2(done[0][0].toBool(), qPrintable(w.lastError()));
            mp::Store store(db.toStdString());
            const mp::RunRecord run = store.runs().back();
            QCOMPARE(mp::searchConfigFromJson(run.config).seed, uint64_t(4242));
            // The Search tab lists the run that just finished, with its status.
            const auto* runs = w.searchPanel()->findChild<QTreeWidget*>();
            QVERIFY(runs && runs->topLevelItemCount() > 0);
            QTreeWidgetItem* last = runs->topLevelItem(runs->topLevelItemCount() - 1);
            QCOMPARE(last->text(0), QString::number(run.id));
            QCOMPARE(last->text(3), QString("finished"));
            std::vector<std::tuple<std::string, double, std::string, int>> mine;
            for (const mp::CandidateRecord& c : store.candidates(run.id)) {
                mine.emplace_back(mp::encodingToString(c.genes), c.top1, c.origin, c.generation);
                QVERIFY2(w.plot()->model().contains(c.id), qPrintable(QString("row %1 is not on the plot").arg(c.id)));
            }
            QVERIFY(mine.size() >= 8);
            rows.push_back(mine);
            // Every point knows its n for the error bars: the search split's 10 images per class
            // (tinyConfig), under the default 2000-image cap.
            for (const PlotPoint& p : w.plot()->model().points())
                QCOMPARE(p.images, int64_t(10 * 10));
        }
        QSettings().remove("search/processes");
        QCOMPARE(rows[1].size(), rows[0].size());
        for (size_t i = 0; i < rows[0].size(); ++i)
            QVERIFY2(rows[1][i] == rows[0][i],
                     qPrintable(QString("row %1: %2 %3% on 2 processes, %4 %5% on 1")
                                    .arg(i)
                                    .arg(QString::fromStdString(std::get<0>(rows[1][i])))
                                    .arg(std::get<1>(rows[1][i]))
                                    .arg(QString::fromStdString(std::get<0>(rows[0][i])))
                                    .arg(std::get<1>(rows[0][i]))));
    }

    // A rank that cannot start its work (here: a program that is no metaprune) ends the search
    // with a message naming the rank, and the window is usable again.
    void searchRankThatFailsIsNamed() {
        SearchWorker::setRankProgram("/bin/false");
        const QString db = tmp.filePath("rankfails.sqlite");
        QVERIFY(QFile::copy(project, db));
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        QVERIFY(w.openProject(db));
        QVERIFY(loaded.wait(60000));
        w.searchPanel()->setPopulationAndGenerations(4, 1);
        w.searchPanel()->setProcesses(2);
        QSignalSpy done(&w, &MainWindow::searchFinished);
        w.startSearch();
        QVERIFY(done.wait(120000));
        SearchWorker::setRankProgram(METAPRUNE_CLI);
        QSettings().remove("search/processes");
        QVERIFY(!done[0][0].toBool());
        QVERIFY(!w.isBusy());
        QVERIFY2(w.lastError().contains("rank 1 exited with code 1"), qPrintable(w.lastError()));
        // Ended when the rank exited, not after the 60 s rendezvous timeout.
        QVERIFY2(w.lastError().contains("a rank ended before it arrived"), qPrintable(w.lastError()));
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

    // First run (no saved settings): the window fits the screen; at 1280x800 no dock needs a
    // horizontal scroll bar, no button is narrower than it asks, no tab title or axis title is
    // cut, and the side docks widen when the window does.
    void firstRunLayoutFitsAt1280x800() {
        {
            QSettings settings;
            settings.remove("geometry");
            settings.remove("windowState");
        }
        MainWindow w;
        const QRect avail = QGuiApplication::primaryScreen()->availableGeometry();
        QVERIFY2(w.width() <= avail.width() && w.height() <= avail.height(),
                 qPrintable(QString("window %1x%2 (minimum %3x%4) on a %5x%6 screen")
                                .arg(w.width())
                                .arg(w.height())
                                .arg(w.minimumSizeHint().width())
                                .arg(w.minimumSizeHint().height())
                                .arg(avail.width())
                                .arg(avail.height())));
        QSignalSpy loaded(&w, &MainWindow::checkpointLoaded);
        QVERIFY(w.openProject(project));
        QVERIFY(loaded.wait(60000));
        w.resize(kShotWidth, kShotHeight);
        // A finished comparison shows its chart and table in the Reports dock.
        w.reportPanel()->showCompare(sampleCompareReport());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QTest::qWait(200);
        const QStringList names = {"training", "search", "reports", "structure", "budget"};
        for (const QString& name : names) {
            auto* dock = w.findChild<QDockWidget*>(name);
            QVERIFY(dock);
            dock->raise();
            QTest::qWait(100);
            QVERIFY2(dock->isVisible(), qPrintable(name));
            auto* scroll = qobject_cast<QScrollArea*>(dock->widget());
            QVERIFY(scroll);
            // The dock keeps its share: the Pareto plot in the middle is never squeezed.
            QVERIFY2(w.plot()->width() >= w.width() / 4,
                     qPrintable(QString("%1 raised: the Pareto plot is %2 px of %3").arg(name)
                                    .arg(w.plot()->width()).arg(w.width())));
            QVERIFY2(!scroll->horizontalScrollBar()->isVisible(),
                     qPrintable(QString("%1: content %2 px wide in %3 px").arg(name)
                                    .arg(scroll->widget()->minimumSizeHint().width()).arg(scroll->viewport()->width())));
            for (QAbstractButton* button : dock->findChildren<QAbstractButton*>()) {
                // The dock's own title-bar buttons (float, close) are drawn by the style at its size.
                if (!button->isVisible() || button->parentWidget() == dock || qobject_cast<QTabBar*>(button->parentWidget()))
                    continue;
                QVERIFY2(button->width() >= button->sizeHint().width() && button->height() >= button->sizeHint().height(),
                         qPrintable(QString("%1: button '%2' is %3x%4, asks %5x%6").arg(name).arg(button->text())
                                        .arg(button->width()).arg(button->height())
                                        .arg(button->sizeHint().width()).arg(button->sizeHint().height())));
            }
        }
        // Tabs of the tabified docks show their whole titles.
        int tabs = 0;
        for (QTabBar* bar : w.findChildren<QTabBar*>()) {
            if (!bar->isVisible())
                continue;
            for (int i = 0; i < bar->count(); ++i, ++tabs)
                QVERIFY2(bar->fontMetrics().horizontalAdvance(bar->tabText(i)) < bar->tabRect(i).width(),
                         qPrintable(QString("tab '%1' is %2 px").arg(bar->tabText(i)).arg(bar->tabRect(i).width())));
        }
        QCOMPARE(tabs, 5);
        // The comparison chart in the Reports dock: its axis title fits, its target labels do not overlap.
        w.showReports();
        QTest::qWait(100);
        QCustomPlot* chart = w.reportPanel()->chartWidget();
        chart->replot();
        QVERIFY(QFontMetrics(chart->yAxis->labelFont()).horizontalAdvance(chart->yAxis->label()) <= chart->axisRect()->height());
        const auto targets = chart->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
        QVERIFY(targets && targets->ticks().size() == 3);
        for (const QString& label : targets->ticks())
            for (const QString& line : label.split('\n'))
                QVERIFY2(QFontMetrics(chart->xAxis->tickLabelFont()).horizontalAdvance(line) < chart->axisRect()->width() / 3,
                         qPrintable(QString("target label '%1' wider than its third of %2 px").arg(line).arg(chart->axisRect()->width())));
        // Axis titles fit their axes.
        w.showBudget();
        QTest::qWait(100);
        for (QCustomPlot* plot : {w.plot()->plotWidget(), w.budget()->barsPlot(), w.budget()->heatMapPlot()}) {
            plot->replot();
            for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {
                const int length = axis->orientation() == Qt::Horizontal ? axis->axisRect()->width() : axis->axisRect()->height();
                QVERIFY2(QFontMetrics(axis->labelFont()).horizontalAdvance(axis->label()) <= length,
                         qPrintable(QString("axis title '%1' longer than its %2 px axis").arg(axis->label()).arg(length)));
            }
        }
        w.findChild<QDockWidget*>("structure")->raise();
        QTest::qWait(100);
        QCustomPlot* editor = w.structure()->editor()->plotWidget();
        editor->replot();
        QVERIFY(QFontMetrics(editor->xAxis->labelFont()).horizontalAdvance(editor->xAxis->label()) <= editor->axisRect()->width());
        // The baseline line is whole (wrapped, never cut).
        QLabel* baseline = w.structure()->baselineLabel();
        QVERIFY(baseline->isVisible());
        QVERIFY(baseline->height() >= baseline->heightForWidth(baseline->width()));
        // Growing the window widens the side docks.
        auto* left = w.findChild<QDockWidget*>("training");
        auto* right = w.findChild<QDockWidget*>("structure");
        left->raise();
        QTest::qWait(100);
        const int leftBefore = left->width(), rightBefore = right->width();
        w.resize(1800, 1000);
        QTest::qWait(300);
        QVERIFY2(left->width() > leftBefore * 1.2 && right->width() > rightBefore * 1.2,
                 qPrintable(QString("left %1 -> %2, right %3 -> %4").arg(leftBefore).arg(left->width())
                                .arg(rightBefore).arg(right->width())));
    }

    // A new, empty project is shot as it is (this waited for a PruningNet that never came).
    void screenshotOfAnEmptyProject() {
        MainWindow w;
        QVERIFY(w.openProject(tmp.filePath("empty.sqlite")));
        const QString shot = tmp.filePath("empty.png");
        QCOMPARE(saveScreenshot(w, shot, Shot::Pareto, 0), 0);
        QImage image(shot);
        QCOMPARE(image.size(), QSize(kShotWidth, kShotHeight));
        QVERIFY2(w.statusBar()->currentMessage().contains("press Train"), qPrintable(w.statusBar()->currentMessage()));
    }

    void badProjectFileShowsError() {
        // In a folder with a long name: the message is wider than the window.
        const QString dir = tmp.filePath(QString("projects-kept-in-a-folder-with-a-long-name-").repeated(4));
        QVERIFY(QDir().mkpath(dir));
        const QString path = dir + "/not-a-project.sqlite";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is a text file, not an SQLite database at all, and long enough to be read");
        f.close();
        MainWindow w;
        w.resize(900, 600);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy errors(&w, &MainWindow::errorShown);
        QVERIFY(!w.openProject(path));
        QCOMPARE(errors.count(), 1);
        QVERIFY2(w.lastError().contains(path), qPrintable(w.lastError()));
        // The status bar shows what fits, elided; the tooltip has it whole.
        const QString shown = w.statusBar()->currentMessage();
        QVERIFY2(shown.endsWith(QChar(0x2026)) && w.statusBar()->fontMetrics().horizontalAdvance(shown) <= w.statusBar()->width(),
                 qPrintable(shown));
        QCOMPARE(w.statusBar()->toolTip(), w.lastError());
    }
};

QTEST_MAIN(TestStudio)
#include "tst_studio.moc"
