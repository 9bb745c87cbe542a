// Latency lookup tables on a tiny grid: measured, stored and reloaded, exact at grid points,
// monotone in every width; latency-constrained search; the schema upgrade that added latency.
#include "metaprune/latency.h"
#include "metaprune/project.h"
#include "metaprune/search.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace mp;

class TestLatency : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;
    ArchSpec v2 = makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
    LatencyTable table; // measured once, step 15: grid {0, 15, 30}

private slots:
    void initTestCase() {
        configureRuntime(1);
        int64_t last = 0, total = 0;
        table = measureLatencyTable(v2, 1, 15, 2, [&](int64_t done, int64_t all) {
            QVERIFY(done > last); // progress only moves forward
            last = done;
            total = all;
        });
        QCOMPARE(last, total);
        QCOMPARE(table.grid, (std::vector<int>{0, 15, 30}));
        QCOMPARE(table.ms.size(), v2.ops.size());
        QVERIFY(table.overheadMs >= 0);
    }

    void gridShapes() {
        QCOMPARE(latencyGrid(5), (std::vector<int>{0, 5, 10, 15, 20, 25, 30}));
        QCOMPARE(latencyGrid(7), (std::vector<int>{0, 7, 14, 21, 28, 30}));
        QVERIFY_THROWS_EXCEPTION(ConfigError, latencyGrid(0));
        // 2-D entries for convs between two genes, 1-D for depthwise and fixed-width sides.
        for (size_t i = 0; i < v2.ops.size(); ++i) {
            const Op& op = v2.ops[i];
            const Width in = analyzeArchitecture(v2)[size_t(op.inputs[0])].segments.at(0);
            if (op.kind == OpKind::Conv && !op.depthwise() && in.gene >= 0 && op.out.gene >= 0)
                QCOMPARE(table.ms[i].size(), size_t(9));
            if (op.kind == OpKind::Conv && op.depthwise())
                QCOMPARE(table.ms[i].size(), size_t(3));
        }
    }

    void exactAtGridPoints() {
        for (int idx : table.grid) {
            const Encoding e = uniformEncoding(v2, idx);
            const int k = int(std::find(table.grid.begin(), table.grid.end(), idx) - table.grid.begin());
            double sum = table.overheadMs;
            for (size_t i = 0; i < v2.ops.size(); ++i) {
                const std::vector<double>& row = table.ms[i];
                sum += row.size() == 9 ? row[size_t(k * 3 + k)] : row.size() == 3 ? row[size_t(k)] : row[0];
            }
            QVERIFY(std::abs(table.predict(v2, e) - sum) < 1e-9);
        }
    }

    void monotoneInEveryWidth() {
        std::mt19937_64 rng(4);
        for (int trial = 0; trial < 60; ++trial) {
            Encoding e = randomEncoding(v2, rng);
            const size_t g = size_t(trial) % e.size();
            e[g] = std::min(e[g], 29);
            const double before = table.predict(v2, e);
            e[g] += 1;
            QVERIFY2(table.predict(v2, e) >= before - 1e-12, qPrintable(QString("gene %1").arg(g)));
        }
        QVERIFY(table.predict(v2, uniformEncoding(v2, 30)) > table.predict(v2, uniformEncoding(v2, 0)));
    }

    void storedAndReloaded() {
        const std::string db = tmp.filePath("lat.sqlite").toStdString();
        const std::string machine = table.machine.json();
        {
            Store s(db);
            QVERIFY(!s.latencyTable(latencyArchKey(v2), machine).has_value());
            s.addLatencyTable(latencyArchKey(v2), machine, 15, table.toJson());
        }
        Store s(db);
        const auto stored = s.latencyTable(latencyArchKey(v2), machine, 15);
        QVERIFY(stored.has_value());
        QVERIFY(!s.latencyTable(latencyArchKey(v2), machine, 5).has_value()); // another grid step
        QVERIFY(!s.latencyTable("resnet/small/3x32x32/10", machine).has_value());
        const LatencyTable back = LatencyTable::fromJson(stored->second);
        std::mt19937_64 rng(9);
        for (int i = 0; i < 10; ++i) {
            const Encoding e = randomEncoding(v2, rng);
            QCOMPARE(back.predict(v2, e), table.predict(v2, e));
        }
        // The project-level call reuses the stored table instead of measuring again.
        const LatencyJob job = latencyTableFor(db, v2, 1, 15, 2);
        QVERIFY(!job.measured);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, LatencyTable::fromJson("{\"grid\": [0]}"));
        const ArchSpec r20 = makeArchitecture("resnet", "small", 3, 32, 32, 10);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, table.predict(r20, uniformEncoding(r20, 3)));
    }

    void otherFamiliesMeasure() {
        for (const char* family : {"mobilenetv1", "resnet"}) {
            const ArchSpec a = makeArchitecture(family, "small", 1, 28, 28, 10);
            const LatencyTable t = measureLatencyTable(a, 1, 30, 1);
            QVERIFY(t.predict(a, uniformEncoding(a, 30)) >= t.predict(a, uniformEncoding(a, 0)));
            QVERIFY(measureNetworkLatency(a, uniformEncoding(a, 0), 1, 3) > 0);
        }
    }

    void latencyConstrainedSearch() {
        const double fastest = table.predict(v2, uniformEncoding(v2, 0));
        const double slowest = table.predict(v2, uniformEncoding(v2, 30));
        SearchConfig cfg;
        cfg.population = 12;
        cfg.parents = 4;
        cfg.mutations = 4;
        cfg.crossovers = 4;
        cfg.generations = 3;
        cfg.maxLatencyMs = fastest + 0.4 * (slowest - fastest);
        QVERIFY_THROWS_EXCEPTION(ConfigError, checkSearchConfig(v2, cfg)); // no table
        SearchConfig impossible = cfg;
        impossible.maxLatencyMs = fastest * 0.5;
        QVERIFY_THROWS_EXCEPTION(ConfigError, checkSearchConfig(v2, impossible, &table));
        Store store(tmp.filePath("search.sqlite").toStdString());
        RunRecord run;
        run.config = toJson(cfg);
        run.dataset = "synthetic";
        run.arch = "mobilenetv2/small";
        run.checkpoint = "none";
        run.checkpointSha256 = "0";
        const int64_t id = store.findOrCreateRun(run);
        const EvaluateFn fitness = [this](const Encoding& e, const std::atomic<bool>*) {
            EvalResult r;
            r.top1 = 50 + double(countMacs(v2, e)) / 1e5;
            return r;
        };
        const SearchOutcome out = runSearch(v2, fitness, store, id, cfg, {}, nullptr, &table);
        QVERIFY(out.finished);
        int searched = 0;
        for (const CandidateRecord& c : store.candidates(id)) {
            QCOMPARE(c.latencyMs, table.predict(v2, c.genes)); // stored as predicted
            if (c.origin != "uniform") {
                ++searched;
                QVERIFY(c.latencyMs <= cfg.maxLatencyMs);
            }
        }
        QCOMPARE(searched, cfg.population * cfg.generations);
        QVERIFY(searchConfigFromJson(toJson(cfg)).maxLatencyMs == cfg.maxLatencyMs);
    }

    void schemaOneProjectsGainLatency() {
        const QString path = tmp.filePath("v1.sqlite");
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "v1");
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery q(db);
            // The schema-1 candidates table, as the first release wrote it.
            QVERIFY(q.exec("CREATE TABLE runs(id INTEGER PRIMARY KEY, created TEXT NOT NULL, kind TEXT NOT NULL, "
                           "config TEXT NOT NULL, dataset TEXT NOT NULL, seed TEXT NOT NULL, arch TEXT NOT NULL, "
                           "training_id INTEGER, checkpoint TEXT NOT NULL, checkpoint_sha256 TEXT NOT NULL, "
                           "status TEXT NOT NULL, finished TEXT NOT NULL DEFAULT '')"));
            QVERIFY(q.exec("CREATE TABLE candidates(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, genes TEXT NOT "
                           "NULL, channels TEXT NOT NULL, macs INTEGER NOT NULL, params INTEGER NOT NULL, top1 REAL "
                           "NOT NULL, loss REAL NOT NULL, origin TEXT NOT NULL, generation INTEGER NOT NULL, eval_ms "
                           "REAL NOT NULL, created TEXT NOT NULL, UNIQUE(run_id, genes))"));
            QVERIFY(q.exec("INSERT INTO runs VALUES (1, 'now', 'search', '{}', 'd', '1', 'a', NULL, 'c', 'h', "
                           "'finished', '')"));
            QVERIFY(q.exec("INSERT INTO candidates VALUES (1, 1, '1,2', '3,4', 10, 5, 77.5, 0.5, 'random', 0, 1, "
                           "'now')"));
            QVERIFY(q.exec("PRAGMA application_id=1297109809"));
            QVERIFY(q.exec("PRAGMA user_version=1"));
            db.close();
        }
        QSqlDatabase::removeDatabase("v1");
        Store s(path.toStdString());
        const std::vector<CandidateRecord> rows = s.candidates(1);
        QCOMPARE(rows.size(), size_t(1));
        QCOMPARE(rows[0].top1, 77.5);     // kept
        QCOMPARE(rows[0].latencyMs, 0.0); // no prediction for old rows
        CandidateRecord c = rows[0];
        c.genes = {2, 2};
        c.latencyMs = 1.25;
        s.addCandidate(c);
        QCOMPARE(s.candidates(1).back().latencyMs, 1.25);
    }
};

QTEST_GUILESS_MAIN(TestLatency)
#include "tst_latency.moc"
