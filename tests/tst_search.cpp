// Evolutionary search with a cheap synthetic fitness (the real evaluator is exercised by
// tst_pruningnet and tst_cli): constraints, no double evaluation, resume, Pareto front.
#include "metaprune/pareto.h"
#include "metaprune/search.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <map>
#include <set>

using namespace mp;

namespace {

// Accuracy rising with MACs plus a deterministic per-encoding wobble.
struct Fitness {
    const ArchSpec* arch = nullptr;
    std::map<Encoding, int> calls;
    int violations = 0;
    SearchConfig cfg;
    std::atomic<bool>* cancelAfter = nullptr;
    int cancelAt = -1;

    EvalResult operator()(const Encoding& e, const std::atomic<bool>*) {
        ++calls[e];
        const int64_t macs = countMacs(*arch, e);
        if (!meetsConstraint(cfg, macs))
            ++violations;
        size_t h = 0;
        for (int g : e)
            h = h * 31 + size_t(g);
        EvalResult r;
        r.top1 = 50.0 + 40.0 * (1.0 - std::exp(-double(macs) / 2e6)) + double(h % 200) / 100.0;
        r.loss = 1.0 - r.top1 / 100.0;
        r.milliseconds = 1;
        if (cancelAfter && int(total()) == cancelAt)
            cancelAfter->store(true);
        return r;
    }
    size_t total() const {
        size_t n = 0;
        for (const auto& [e, c] : calls)
            n += size_t(c);
        return n;
    }
};

SearchConfig smallConfig(int64_t maxMacs, int64_t minMacs = 0) {
    SearchConfig c;
    c.population = 20;
    c.parents = 5;
    c.mutations = 8;
    c.crossovers = 8;
    c.generations = 5;
    c.seed = 9;
    c.maxMacs = maxMacs;
    c.minMacs = minMacs;
    return c;
}

RunRecord run(const SearchConfig& cfg) {
    RunRecord r;
    r.config = toJson(cfg);
    r.dataset = "synthetic";
    r.arch = "mobilenetv2/small";
    r.checkpoint = "none";
    r.checkpointSha256 = "0";
    return r;
}

} // namespace

class TestSearch : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;
    ArchSpec arch = makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);

    SearchOutcome search(const QString& db, const SearchConfig& cfg, Fitness& fit, std::atomic<bool>* cancel = nullptr,
                         int64_t* runId = nullptr) {
        Store store(db.toStdString());
        const int64_t id = store.findOrCreateRun(run(cfg));
        if (runId)
            *runId = id;
        fit.arch = &arch;
        fit.cfg = cfg;
        const EvaluateFn f = [&fit](const Encoding& e, const std::atomic<bool>* c) { return fit(e, c); };
        return runSearch(arch, f, store, id, cfg, {}, cancel);
    }

private slots:
    void referenceDefaults() {
        const SearchConfig c;
        QCOMPARE(c.population, 50);
        QCOMPARE(c.parents, 10);
        QCOMPARE(c.mutations, 25);
        QCOMPARE(c.crossovers, 25);
        QCOMPARE(c.mutationProb, 0.1);
        QCOMPARE(c.generations, 20);
        QCOMPARE(searchConfigFromJson(toJson(c)).population, 50);
    }

    void respectsConstraintAndNeverEvaluatesTwice_data() {
        QTest::addColumn<qint64>("maxMacs");
        QTest::addColumn<qint64>("minMacs");
        QTest::newRow("max 2.5M") << qint64(2500000) << qint64(0);
        QTest::newRow("band 1.5M..2.5M") << qint64(2500000) << qint64(1500000);
        QTest::newRow("tight: just above the smallest") << qint64(200000) << qint64(0);
    }
    void respectsConstraintAndNeverEvaluatesTwice() {
        QFETCH(qint64, maxMacs);
        QFETCH(qint64, minMacs);
        const SearchConfig cfg = smallConfig(maxMacs, minMacs);
        Fitness fit;
        int64_t id = 0;
        const QString db = tmp.filePath(QString("c%1-%2.sqlite").arg(maxMacs).arg(minMacs));
        const SearchOutcome out = search(db, cfg, fit, nullptr, &id);
        QVERIFY(out.finished);
        Store store(db.toStdString());
        const std::vector<CandidateRecord> rows = store.candidates(id);
        int uniform = 0;
        std::set<Encoding> seen;
        for (const CandidateRecord& c : rows) {
            QVERIFY(seen.insert(c.genes).second);
            QCOMPARE(c.macs, countMacs(arch, c.genes));
            QCOMPARE(c.genes, canonicalEncoding(arch, c.genes));
            if (c.origin == "uniform")
                ++uniform;
            else
                QVERIFY2(meetsConstraint(cfg, c.macs), qPrintable(QString::number(c.macs)));
        }
        // Only the uniform baselines may lie outside the constraint: they are reference points.
        QCOMPARE(fit.violations, int(std::count_if(rows.begin(), rows.end(), [&](const CandidateRecord& c) {
                     return c.origin == "uniform" && !meetsConstraint(cfg, c.macs);
                 })));
        for (const auto& [e, n] : fit.calls)
            QCOMPARE(n, 1);
        QCOMPARE(fit.total(), rows.size());
        QCOMPARE(uniform, 31);
        QCOMPARE(out.evaluated, int64_t(rows.size()));
        QVERIFY(out.best.has_value());
        QVERIFY(meetsConstraint(cfg, out.best->macs));
        for (const CandidateRecord& c : rows)
            if (c.origin != "uniform" && meetsConstraint(cfg, c.macs))
                QVERIFY(c.top1 <= out.best->top1);
        if (maxMacs >= 2500000) // roomy constraints fill every generation
            QCOMPARE(int(rows.size()) - uniform, cfg.population * cfg.generations);
    }

    void impossibleConstraints() {
        const int64_t smallest = countMacs(arch, uniformEncoding(arch, 0));
        const int64_t full = countMacs(arch, uniformEncoding(arch, 30));
        try {
            checkSearchConfig(arch, smallConfig(smallest - 1));
            QFAIL("accepted a max below the smallest network");
        } catch (const ConfigError& e) {
            QVERIFY2(QString(e.what()).contains("impossible") && QString(e.what()).contains("smallest"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(ConfigError, checkSearchConfig(arch, smallConfig(0, full + 1)));
        QVERIFY_THROWS_EXCEPTION(ConfigError, checkSearchConfig(arch, smallConfig(1000000, 2000000)));
        SearchConfig bad = smallConfig(0);
        bad.parents = 30;
        QVERIFY_THROWS_EXCEPTION(ConfigError, checkSearchConfig(arch, bad));
        // Nothing is stored for a rejected search.
        Fitness fit;
        int64_t id = 0;
        QVERIFY_THROWS_EXCEPTION(ConfigError,
                                 search(tmp.filePath("impossible.sqlite"), smallConfig(smallest - 1), fit, nullptr, &id));
        QCOMPARE(fit.total(), size_t(0));
    }

    /// MACs grow with every gene, so the second smallest achievable MACs is one scale step up
    /// of one gene from the smallest network.
    int64_t secondSmallestMacs() const {
        const Encoding least = uniformEncoding(arch, 0);
        const int64_t smallest = countMacs(arch, least);
        int64_t next = 0;
        for (size_t g = 0; g < least.size(); ++g) {
            Encoding e = least;
            const int c = grid::channels(arch.genes[g].maxChannels, 0);
            while (e[g] < grid::kSize - 1 && grid::channels(arch.genes[g].maxChannels, e[g]) == c)
                ++e[g];
            const int64_t m = countMacs(arch, e);
            if (m > smallest && (next == 0 || m < next))
                next = m;
        }
        return next;
    }

    void bandBetweenAchievableValuesIsRefused() {
        const int64_t smallest = countMacs(arch, uniformEncoding(arch, 0));
        const int64_t next = secondSmallestMacs();
        QVERIFY2(next > smallest + 2, "the preset needs a gap above its smallest network");
        const SearchConfig cfg = smallConfig(next - 1, smallest + 1);
        try {
            checkSearchConfig(arch, cfg);
            QFAIL("accepted a band that holds no encoding");
        } catch (const ConfigError& e) {
            const QString m = e.what();
            QVERIFY2(m.contains("no encoding") && m.contains(QString::number(smallest)) &&
                         m.contains(QString::number(next)),
                     e.what());
        }
        Fitness fit;
        QVERIFY_THROWS_EXCEPTION(ConfigError, search(tmp.filePath("empty-band.sqlite"), cfg, fit));
        QCOMPARE(fit.total(), size_t(0));
    }

    void bandOfOneEncodingEnds() {
        // Only the smallest network meets max = its MACs: one candidate, then the search ends.
        const int64_t smallest = countMacs(arch, uniformEncoding(arch, 0));
        SearchConfig cfg = smallConfig(smallest);
        cfg.uniformBaselines = false;
        cfg.generations = 4;
        Fitness fit;
        int64_t id = 0;
        const SearchOutcome out = search(tmp.filePath("one.sqlite"), cfg, fit, nullptr, &id);
        QVERIFY(out.finished);
        QVERIFY(out.exhausted);
        QCOMPARE(out.endedAfterGeneration, 1);
        QCOMPARE(out.evaluated, int64_t(1));
        const std::vector<CandidateRecord> rows = Store(tmp.filePath("one.sqlite").toStdString()).candidates(id);
        QCOMPARE(rows.size(), size_t(1));
        QCOMPARE(rows[0].genes, canonicalEncoding(arch, uniformEncoding(arch, 0)));
    }

    void narrowFeasibleBandIsLandedIn() {
        // A band of a single MACs value that random sampling almost never hits.
        const int64_t next = secondSmallestMacs();
        SearchConfig cfg = smallConfig(next, next);
        cfg.uniformBaselines = false;
        Fitness fit;
        int64_t id = 0;
        const SearchOutcome out = search(tmp.filePath("narrow.sqlite"), cfg, fit, nullptr, &id);
        QVERIFY(out.finished);
        const std::vector<CandidateRecord> rows = Store(tmp.filePath("narrow.sqlite").toStdString()).candidates(id);
        QVERIFY(!rows.empty());
        for (const CandidateRecord& c : rows)
            QCOMPARE(c.macs, next);
        QVERIFY(out.best.has_value());
    }

    void cancelWhileFillingASparseBand() {
        // Sampling a sparse band polls the cancel flag: a cancelled search returns before its
        // first evaluation, instead of finishing the (bounded, but long) fill first.
        const int64_t smallest = countMacs(arch, uniformEncoding(arch, 0));
        SearchConfig cfg = smallConfig(smallest);
        cfg.uniformBaselines = false;
        cfg.population = 50;
        std::atomic<bool> cancel{true};
        Fitness fit;
        int64_t id = 0;
        const SearchOutcome out = search(tmp.filePath("sparse-cancel.sqlite"), cfg, fit, &cancel, &id);
        QVERIFY(!out.finished);
        QCOMPARE(fit.total(), size_t(0));
        QCOMPARE(QString::fromStdString(Store(tmp.filePath("sparse-cancel.sqlite").toStdString()).run(id)->status),
                 QString("cancelled"));
    }

    void cancelThenResumeMatchesUninterrupted() {
        const SearchConfig cfg = smallConfig(3000000);
        Fitness whole;
        int64_t idA = 0;
        QVERIFY(search(tmp.filePath("whole.sqlite"), cfg, whole, nullptr, &idA).finished);
        std::map<Encoding, double> expected;
        for (const CandidateRecord& c : Store(tmp.filePath("whole.sqlite").toStdString()).candidates(idA))
            expected[c.genes] = c.top1;

        std::atomic<bool> cancel{false};
        Fitness first;
        first.cancelAfter = &cancel;
        first.cancelAt = 57;
        int64_t idB = 0;
        const SearchOutcome stopped = search(tmp.filePath("resumed.sqlite"), cfg, first, &cancel, &idB);
        QVERIFY(!stopped.finished);
        const std::vector<CandidateRecord> before =
            Store(tmp.filePath("resumed.sqlite").toStdString()).candidates(idB);
        QCOMPARE(before.size(), size_t(57));
        QCOMPARE(QString::fromStdString(Store(tmp.filePath("resumed.sqlite").toStdString()).run(idB)->status),
                 QString("cancelled"));

        cancel = false;
        Fitness second;
        int64_t idB2 = 0;
        const SearchOutcome done = search(tmp.filePath("resumed.sqlite"), cfg, second, &cancel, &idB2);
        QCOMPARE(idB2, idB);
        QVERIFY(done.finished);
        QCOMPARE(done.cached, int64_t(57));
        QCOMPARE(second.total(), expected.size() - 57); // nothing evaluated twice across the restart
        const std::vector<CandidateRecord> after = Store(tmp.filePath("resumed.sqlite").toStdString()).candidates(idB);
        QCOMPARE(after.size(), expected.size());
        for (size_t i = 0; i < before.size(); ++i) { // committed rows are untouched
            QCOMPARE(after[i].id, before[i].id);
            QCOMPARE(after[i].top1, before[i].top1);
        }
        for (const CandidateRecord& c : after) { // same candidates as the uninterrupted run
            QVERIFY(expected.count(c.genes));
            QCOMPARE(c.top1, expected[c.genes]);
        }

        // Running a finished search again replays it from the store: nothing evaluated, and
        // the run keeps its status and the time it finished.
        const QString stamp = "2026-01-02T03:04:05";
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "stamp");
            db.setDatabaseName(tmp.filePath("resumed.sqlite"));
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QString("UPDATE runs SET finished = '%1' WHERE id = %2").arg(stamp).arg(idB)));
            db.close();
        }
        QSqlDatabase::removeDatabase("stamp");
        Fitness third;
        const SearchOutcome again = search(tmp.filePath("resumed.sqlite"), cfg, third, &cancel);
        QVERIFY(again.finished);
        QCOMPARE(third.total(), size_t(0));
        QCOMPARE(again.cached, int64_t(expected.size()));
        const std::optional<RunRecord> replayed = Store(tmp.filePath("resumed.sqlite").toStdString()).run(idB);
        QCOMPARE(QString::fromStdString(replayed->status), QString("finished"));
        QCOMPARE(QString::fromStdString(replayed->finished), stamp);
    }

    void paretoDominanceAndTies() {
        const std::vector<ParetoPoint> pts = {
            {100, 70.0}, // 0 front
            {200, 69.0}, // 1 dominated by 0
            {200, 75.0}, // 2 front
            {200, 75.0}, // 3 identical to 2: the first is kept
            {150, 75.0}, // 4 front, makes 2 and 3 dominated (fewer MACs, same top-1)
            {300, 80.0}, // 5 front
            {300, 79.0}, // 6 dominated
            {50, 10.0},  // 7 front (cheapest)
        };
        QCOMPARE(paretoFront(pts), (std::vector<size_t>{7, 0, 4, 5}));
        // Band [120, 250]: only 1..4 qualify; 4 dominates 1, 2, 3.
        QCOMPARE(paretoFront(pts, 120, 250), (std::vector<size_t>{4}));
        QCOMPARE(paretoFront({{10, 5}, {10, 5}}), (std::vector<size_t>{0}));
        QVERIFY(paretoFront({}).empty());
    }

    void uniformInterpolation() {
        const std::vector<ParetoPoint> u = {{300, 90.0}, {100, 70.0}, {200, 80.0}};
        double t = 0;
        QVERIFY(interpolateTop1(u, 150, &t));
        QCOMPARE(t, 75.0);
        QVERIFY(interpolateTop1(u, 300, &t));
        QCOMPARE(t, 90.0);
        QVERIFY(!interpolateTop1(u, 50, &t));
        QVERIFY(!interpolateTop1(u, 301, &t));
    }
};

QTEST_GUILESS_MAIN(TestSearch)
#include "tst_search.moc"
