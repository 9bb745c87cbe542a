// Retraining of pruned networks and the evaluation reports built on it: a retrained network that
// learns a toy problem and exports to exactly the accuracy it reports, cancel, the retrains
// table, the compare jobs (equal-cost pairing, seeds of every kind, the interval over seeds on
// fixed inputs, the n=1 display, stored and reused) and the fidelity studies over the whole
// range and inside a band (stored per band, reused, a band with too few structures reported).
#include <torch/script.h> // LibTorch first: Qt defines `slots` (platform.md)

#include "metaprune/compare.h"
#include "metaprune/search.h"
#include "toydata.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace mp;
using namespace mp::test;

namespace {

SearchConfig tinySearch() {
    SearchConfig s;
    s.population = 4;
    s.parents = 2;
    s.mutations = 1;
    s.crossovers = 1;
    s.generations = 1;
    s.eval.evalImages = 40;
    s.eval.recalBatches = 2;
    s.eval.recalBatchSize = 32;
    return s;
}

RetrainConfig quickRecipe() {
    RetrainConfig r;
    r.epochs = 1;
    r.batchSize = 32;
    r.warmupSteps = 5;
    return r;
}

CompareArm arm(uint64_t net, uint64_t search, int64_t uniformId, std::vector<double> searched,
               std::vector<double> uniform) {
    CompareArm a;
    a.pruningnetSeed = net;
    a.searchSeed = search;
    a.searched.id = 100 + int64_t(net) * 10 + int64_t(search);
    a.uniform.id = uniformId;
    a.searchedTop1 = std::move(searched);
    a.uniformTop1 = std::move(uniform);
    return a;
}

} // namespace

class TestRetrain : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;
    DataBundle data = toyBundle();
    std::string ckpt, db;

private slots:
    void initTestCase() {
        at::set_num_threads(2);
        ckpt = tmp.filePath("toy.pt").toStdString();
        db = tmp.filePath("toy.sqlite").toStdString();
        QVERIFY(trainInProject(db, data, toyConfig(), ckpt).outcome.finished);
    }

    // A half-width network learns the toy problem from scratch; its exported (BN-folded) form,
    // run by LibTorch's TorchScript loader, scores exactly the test top-1 the retraining reports.
    void retrainedNetworkLearnsAndExportsFaithfully() {
        const Evaluator ev(ckpt, data);
        const Encoding enc = uniformEncoding(ev.arch(), 15);
        RetrainConfig cfg = quickRecipe();
        cfg.epochs = 3;
        int epochsSeen = 0;
        int64_t lastStep = 0, total = 0;
        RetrainCallbacks cb;
        cb.epochEnd = [&](const RetrainEpoch& e) { QCOMPARE(e.epoch, ++epochsSeen); };
        cb.progress = [&](int64_t step, int64_t t, double) {
            lastStep = step;
            total = t;
        };
        const RetrainResult r = retrainNetwork(ev.arch(), enc, data, ev.checkpoint(), cfg, nullptr, cb);
        QVERIFY(r.finished);
        QCOMPARE(int(r.curve.size()), 3);
        QCOMPARE(epochsSeen, 3);
        QCOMPARE(total, int64_t((200 - 10) * 4 / 32) * 3); // search split held out, batch 32, 3 epochs
        QCOMPARE(lastStep, total);
        QCOMPARE(r.testImages, int64_t(200));
        QVERIFY2(r.testTop1 > 90, qPrintable(QString::number(r.testTop1)));
        QVERIFY(r.curve.back().loss < r.curve.front().loss);

        const std::string path = tmp.filePath("retrained.pt").toStdString();
        writeNetwork(r.network, ExportFormat::TorchScript, path);
        torch::jit::Module m = torch::jit::load(path);
        torch::NoGradGuard noGrad;
        const CheckpointInfo& info = ev.checkpoint();
        const torch::Tensor pixels =
            torch::from_blob(const_cast<uint8_t*>(data.test.pixels.data()), {200, 1, 16, 16}, torch::kUInt8)
                .to(torch::kFloat)
                .div(255.0);
        const torch::Tensor x = (pixels - info.mean[0]) / info.stddev[0];
        const torch::Tensor labels = torch::tensor(std::vector<int64_t>(data.test.labels.begin(), data.test.labels.end()));
        const torch::Tensor pred = m.forward({x}).toTensor().argmax(1);
        const double top1 = 100.0 * pred.eq(labels).sum().item<double>() / 200.0;
        QCOMPARE(top1, r.testTop1);
    }

    void badRequestsAndCancel() {
        const Evaluator ev(ckpt, data);
        const Encoding enc = uniformEncoding(ev.arch(), 10);
        RetrainConfig ft = quickRecipe();
        ft.mode = RetrainMode::FineTune;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, retrainNetwork(ev.arch(), enc, data, ev.checkpoint(), ft));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 retrainNetwork(ev.arch(), Encoding{1, 2}, data, ev.checkpoint(), quickRecipe()));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parseRetrainMode("distill"));

        std::atomic<bool> cancel{false};
        RetrainCallbacks cb;
        cb.progress = [&](int64_t step, int64_t, double) {
            if (step >= 2)
                cancel = true;
        };
        const RetrainResult r = retrainNetwork(ev.arch(), enc, data, ev.checkpoint(), quickRecipe(), nullptr, cb, &cancel);
        QVERIFY(!r.finished);
        QVERIFY(r.curve.empty());

        // Through the project: a cancelled retraining stores nothing.
        Store store(db);
        CandidateRecord c;
        c.runId = store.findOrCreateRun(searchRunRecord(ev, tinySearch(), 0));
        c.genes = canonicalEncoding(ev.arch(), enc);
        c.channels = geneChannels(ev.arch(), enc);
        c.macs = countMacs(ev.arch(), enc);
        c.params = countParams(ev.arch(), enc);
        c.origin = "probe";
        c = store.addCandidate(c);
        cancel = true;
        QVERIFY_THROWS_EXCEPTION(Cancelled, retrainCandidate(db, ev, data, c.id, quickRecipe(), "user", {}, &cancel));
        QVERIFY(store.retrains(c.id).empty());
        // A damaged row (MACs that disagree with its encoding) is refused before any work.
        CandidateRecord bad = c;
        bad.genes = canonicalEncoding(ev.arch(), uniformEncoding(ev.arch(), 7));
        bad.channels = geneChannels(ev.arch(), bad.genes);
        bad.macs = 0;
        bad = store.addCandidate(bad);
        cancel = false;
        try {
            retrainCandidate(db, ev, data, bad.id, quickRecipe(), "user");
            QFAIL("a damaged candidate was retrained");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(QString(e.what()).contains("is damaged (MACs"), e.what());
        }
        QVERIFY(store.retrains(bad.id).empty());

        // Fine-tuning from the generated weights; the second call returns the stored row.
        bool reused = true;
        const RetrainRecord first = retrainCandidate(db, ev, data, c.id, ft, "user", {}, nullptr, &reused);
        QVERIFY(!reused);
        QCOMPARE(store.retrains(c.id).size(), size_t(1));
        const RetrainRecord again = retrainCandidate(db, ev, data, c.id, ft, "user", {}, nullptr, &reused);
        QVERIFY(reused);
        QCOMPARE(again.id, first.id);
        QCOMPARE(again.testTop1, first.testTop1);
        QCOMPARE(retrainConfigFromJson(first.config, 7).mode, RetrainMode::FineTune);
        RetrainRecord dup = first;
        QVERIFY_THROWS_EXCEPTION(StoreError, store.addRetrain(dup));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 retrainCandidate(db, ev, data, 999999, quickRecipe(), "user"));
    }

    void compareAndFidelityAreStoredAndReused() {
        const SearchConfig search = tinySearch();
        const Evaluator ev(ckpt, data, search.eval);
        const int64_t full = countMacs(ev.arch(), uniformEncoding(ev.arch(), grid::kSize - 1));
        const CompareReport rep =
            compareWithUniform(db, ev, data, 1, {0.5, 0.25}, search, quickRecipe(), {1, 2});
        QCOMPARE(rep.rows.size(), size_t(2));
        for (const CompareRow& row : rep.rows) {
            QCOMPARE(row.targetMacs, int64_t(std::llround(row.fraction * double(full))));
            QCOMPARE(row.arms.size(), size_t(1));
            const CompareArm& arm = row.arms[0];
            QVERIFY(arm.searched.macs <= row.targetMacs);
            QVERIFY(arm.uniform.macs >= arm.searched.macs);
            QCOMPARE(QString::fromStdString(arm.uniform.origin), QString("uniform"));
            QCOMPARE(arm.searchedTop1.size(), size_t(2));
            QCOMPARE(arm.uniformTop1.size(), size_t(2));
        }
        Store store(db);
        size_t compareRows = 0;
        for (const RetrainRecord& r : store.retrains())
            compareRows += r.purpose == "compare";
        QCOMPARE(compareRows, size_t(2 * 2 * 2));
        const std::string md = rep.markdown();
        QVERIFY(md.find("| 50.0% (") != std::string::npos && md.find("| 25.0% (") != std::string::npos);

        const size_t stored0 = store.retrains().size();
        const CompareReport again = compareWithUniform(db, ev, data, 1, {0.5, 0.25}, search, quickRecipe(), {1, 2});
        QCOMPARE(store.retrains().size(), stored0); // every result reused
        QCOMPARE(again.rows[1].searchedTop1(), rep.rows[1].searchedTop1());
        const std::optional<CompareReport> stored = storedCompareReport(store);
        QVERIFY(stored);
        QCOMPARE(stored->rows[0].uniformTop1(), rep.rows[0].uniformTop1());
        QCOMPARE(stored->rows[0].arms[0].searched.genes, rep.rows[0].arms[0].searched.genes);
        QCOMPARE(stored->rows[0].difference.estimate, rep.rows[0].difference.estimate);
        QCOMPARE(stored->pairing, ComparePairing::AtLeast);
        QVERIFY_THROWS_EXCEPTION(ConfigError, compareWithUniform(db, ev, data, 1, {0.0001}, search, quickRecipe(), {1}));

        const FidelityReport fid = measureFidelity(db, ev, data, 1, 4, 3, quickRecipe());
        QCOMPARE(fid.points.size(), size_t(4));
        std::vector<double> predicted, retrained;
        for (size_t i = 0; i < fid.points.size(); ++i) {
            if (i > 0)
                QVERIFY(fid.points[i].candidate.macs >= fid.points[i - 1].candidate.macs);
            predicted.push_back(fid.points[i].candidate.top1);
            retrained.push_back(fid.points[i].retrainedTop1);
            QCOMPARE(store.retrains(fid.points[i].candidate.id).size(), size_t(1));
        }
        const RankCorrelation expected = rankCorrelation(predicted, retrained);
        QCOMPARE(fid.correlation.kendallTau, expected.kendallTau);
        std::vector<double> macs;
        for (const FidelityPoint& p : fid.points)
            macs.push_back(double(p.candidate.macs));
        QCOMPARE(fid.macsBaseline.spearmanRho, rankCorrelation(macs, retrained).spearmanRho);
        QCOMPARE(fid.correlation.n, 4);
        // The spread covers the range: the sampled MACs span well over half of it.
        QVERIFY(fid.points.back().candidate.macs - fid.points.front().candidate.macs >
                (full - countMacs(ev.arch(), uniformEncoding(ev.arch(), 0))) / 2);
        const size_t before = store.retrains().size();
        const FidelityReport fid2 = measureFidelity(db, ev, data, 1, 4, 3, quickRecipe());
        QCOMPARE(store.retrains().size(), before);
        QCOMPARE(fid2.correlation.spearmanRho, fid.correlation.spearmanRho);
        const std::optional<FidelityReport> s = storedFidelityReport(store);
        QVERIFY(s);
        QCOMPARE(s->correlation.n, 4);
        QCOMPARE(s->macsBaseline.kendallTau, fid.macsBaseline.kendallTau);
        QCOMPARE(s->points[2].retrainedTop1, fid.points[2].retrainedTop1);
    }

    // The interval over seeds on fixed inputs: one pair per (PruningNet seed, retraining seed),
    // the searched side averaged over the search seeds. Expected values:
    // scipy.stats.ttest_rel on the averaged pairs, interval mean -+ t.ppf(0.975, n-1) * se.
    void compareDifferenceOnFixedInputs() {
        CompareRow row;
        // One PruningNet, two search seeds, three retraining seeds; both searches share the
        // uniform network (id 7): pairs (88.1, 87.5), (88.2, 87.6), (88.1, 87.7).
        row.arms = {arm(1, 1, 7, {88.0, 88.4, 87.9}, {87.5, 87.6, 87.7}),
                    arm(1, 2, 7, {88.2, 88.0, 88.3}, {87.5, 87.6, 87.7})};
        Difference d = compareDifference(row);
        QVERIFY(std::abs(d.estimate - 0.5333333333333314) < 1e-9);
        QVERIFY(std::abs(d.interval.lo - 0.24648981800589886) < 1e-8);
        QVERIFY(std::abs(d.interval.hi - 0.820176848660764) < 1e-8);
        QVERIFY(std::abs(d.pValue - 0.015268072165339727) < 1e-9);
        QCOMPARE(d.verdict(), Verdict::Distinguishable);
        QCOMPARE(QString::fromStdString(d.sample), QString("n = 3 seeds"));
        QCOMPARE(row.searchedTop1().size(), size_t(6));
        QCOMPARE(row.uniformTop1().size(), size_t(3)); // the shared uniform network counted once

        // Two PruningNets, one search each, two retraining seeds: four independent pairs.
        row.arms = {arm(1, 1, 7, {88.0, 89.0}, {87.0, 87.5}), arm(2, 1, 9, {86.0, 86.5}, {86.2, 86.1})};
        d = compareDifference(row);
        QVERIFY(std::abs(d.estimate - 0.675) < 1e-9);
        QVERIFY(std::abs(d.interval.lo - -0.49700903725872236) < 1e-8);
        QVERIFY(std::abs(d.interval.hi - 1.8470090372587238) < 1e-8);
        QVERIFY(std::abs(d.pValue - 0.16419795226146336) < 1e-9);
        QCOMPARE(d.verdict(), Verdict::NotDistinguishable);
        QCOMPARE(QString::fromStdString(d.sample), QString("n = 4 PruningNet x retraining seed pairs"));

        // One seed: the value and n=1, never "± 0.00".
        CompareReport rep;
        rep.arch = "mobilenetv2/small";
        rep.pairing = ComparePairing::EqualCost;
        rep.seeds = rep.searchSeeds = rep.pruningnetSeeds = {1};
        row.fraction = 0.125;
        row.arms = {arm(1, 1, 7, {86.78}, {87.42})};
        row.arms[0].searched.macs = 535500;
        row.arms[0].uniform.macs = 609000;
        row.difference = compareDifference(row);
        QCOMPARE(row.difference.verdict(), Verdict::NoInterval);
        QVERIFY(std::abs(row.difference.estimate - -0.64) < 1e-9);
        rep.rows = {row};
        const QString md = QString::fromStdString(rep.markdown());
        QVERIFY2(md.contains("86.78% (n=1)") && md.contains("87.42% (n=1)"), qPrintable(md));
        QVERIFY2(md.contains("| -0.64 | 1 | no interval (n=1) |"), qPrintable(md));
        QVERIFY2(md.contains("-0.64 points (n=1, no interval)"), qPrintable(md));
        QVERIFY2(md.contains("| 0.879 |"), qPrintable(md)); // MACs ratio 535.5k / 609.0k
        QVERIFY(!md.contains("± 0.00"));
    }

    // Equal cost: the uniform network nearest the target, a search under its MACs; two
    // PruningNets (the second trained here), two search seeds, one retraining seed; all reused
    // on a second call; the stored report reads back (version 2).
    void equalCostCompareWithSeeds() {
        SearchConfig search = tinySearch();
        const Evaluator ev(ckpt, data, search.eval);
        const ArchSpec& a = ev.arch();
        CompareConfig cfg;
        cfg.fractions = {0.3};
        cfg.search = search;
        cfg.searchSeeds = {1, 2};
        const uint64_t own = toyConfig().seed;
        cfg.pruningnetSeeds = {own, own + 1};
        cfg.recipe = quickRecipe();
        cfg.seeds = {1}; // one retraining seed: the two PruningNets still give two pairs
        const CompareReport rep = compareWithUniform(db, ev, data, 1, cfg);
        QCOMPARE(rep.pairing, ComparePairing::EqualCost);
        QCOMPARE(rep.rows.size(), size_t(1));
        const CompareRow& row = rep.rows[0];
        QCOMPARE(row.arms.size(), size_t(4));
        for (const CompareArm& x : row.arms) {
            QCOMPARE(row.boundMacs, x.uniform.macs);
            QVERIFY(x.searched.macs <= x.uniform.macs);
            QCOMPARE(QString::fromStdString(x.uniform.origin), QString("uniform"));
            // No other uniform network is nearer the target.
            for (int i = 0; i < grid::kSize; ++i)
                QVERIFY(std::llabs(countMacs(a, uniformEncoding(a, i)) - row.targetMacs) >=
                        std::llabs(x.uniform.macs - row.targetMacs));
            QCOMPARE(x.searchedTop1.size(), size_t(1));
        }
        QCOMPARE(row.arms[0].pruningnetSeed, own);
        QCOMPARE(row.arms[2].pruningnetSeed, own + 1);
        QCOMPARE(row.arms[0].uniform.id, row.arms[1].uniform.id); // shared across search seeds
        QCOMPARE(row.arms[0].uniformTop1, row.arms[1].uniformTop1);
        QVERIFY(row.arms[0].trainingId != row.arms[2].trainingId);
        // The difference over the 2 (PruningNet, retraining seed) pairs, search seeds averaged.
        std::vector<double> s, u;
        for (size_t net = 0; net < 2; ++net) {
            s.push_back((row.arms[2 * net].searchedTop1[0] + row.arms[2 * net + 1].searchedTop1[0]) / 2);
            u.push_back(row.arms[2 * net].uniformTop1[0]);
        }
        const MeanDifference expected = pairedDifference(s, u);
        QVERIFY(std::abs(row.difference.estimate - expected.difference) < 1e-9);
        QCOMPARE(row.difference.interval.lo, expected.interval.lo);
        const QString md = QString::fromStdString(rep.markdown());
        QVERIFY(md.contains("Pairing: equal cost"));
        // The MACs column: one value per structure in the arms' order (the list's order), or one
        // value when every structure has the same MACs.
        QStringList macs;
        for (const CompareArm& x : row.arms)
            macs << QString::fromStdString(formatMacs(x.searched.macs));
        const QString cell = QSet<QString>(macs.begin(), macs.end()).size() == 1 ? macs.front() : macs.join(" / ");
        QVERIFY2(md.contains("| " + cell + " |"), qPrintable(md));
        // The narrow form (the app's dock): no table, one item per target with the same cells.
        const QString narrow = QString::fromStdString(rep.markdown(true));
        QVERIFY2(!narrow.contains("|---") && narrow.contains(" at " + cell + " MACs vs uniform "), qPrintable(narrow));
        QCOMPARE(narrow.count("\n- **"), int(rep.rows.size()));

        Store store(db);
        const size_t trainings = store.trainings().size(), retrains = store.retrains().size();
        const CompareReport again = compareWithUniform(db, ev, data, 1, cfg);
        QCOMPARE(store.trainings().size(), trainings);
        QCOMPARE(store.retrains().size(), retrains);
        QCOMPARE(again.rows[0].searchedTop1(), row.searchedTop1());
        const std::optional<CompareReport> stored = storedCompareReport(store);
        QVERIFY(stored);
        QCOMPARE(stored->pairing, ComparePairing::EqualCost);
        QCOMPARE(stored->pruningnetSeeds, cfg.pruningnetSeeds);
        QCOMPARE(stored->searchSeeds, cfg.searchSeeds);
        QCOMPARE(stored->rows[0].arms.size(), size_t(4));
        QCOMPARE(stored->rows[0].boundMacs, row.boundMacs);
        QCOMPARE(stored->rows[0].arms[3].uniformTop1, row.arms[3].uniformTop1);
        QCOMPARE(stored->rows[0].difference.interval.hi, row.difference.interval.hi);
    }

    // A report stored before version 2 (one search per target, no version key) still reads.
    void storedVersion1CompareReport() {
        Store store(tmp.filePath("v1.sqlite").toStdString());
        store.setSetting("compare.report",
                         R"({"arch":"mobilenetv2/small","full_macs":4467520,"recipe":)" + toJson(RetrainConfig{}) +
                             R"(,"seeds":["1"],"rows":[)"
                         R"({"fraction":0.125,"target_macs":558440,"run":3,"searched":{"id":5,"macs":535500},)"
                         R"("uniform":{"id":6,"macs":609000,"origin":"uniform"},"searched_top1":[86.78],)"
                         R"("uniform_top1":[87.42]}]})");
        const std::optional<CompareReport> r = storedCompareReport(store);
        QVERIFY(r);
        QCOMPARE(r->pairing, ComparePairing::AtLeast);
        QCOMPARE(r->rows.size(), size_t(1));
        QCOMPARE(r->rows[0].boundMacs, int64_t(558440));
        QCOMPARE(r->rows[0].arms.size(), size_t(1));
        QCOMPARE(r->rows[0].arms[0].uniform.macs, int64_t(609000));
        QVERIFY(std::abs(r->rows[0].difference.estimate - -0.64) < 1e-9);
        QCOMPARE(r->rows[0].difference.verdict(), Verdict::NoInterval);
    }

    // In-band fidelity: structures inside the band, distinct by channels, scored, retrained,
    // with intervals and p-values; stored under the band's key and reused; a band holding
    // fewer structures than asked is reported, one holding fewer than 3 refused.
    void bandFidelity() {
        const SearchConfig search = tinySearch();
        const Evaluator ev(ckpt, data, search.eval);
        const ArchSpec& a = ev.arch();
        const double full = double(countMacs(a, uniformEncoding(a, grid::kSize - 1)));
        FidelityConfig cfg;
        cfg.samples = 4;
        cfg.seed = 3;
        cfg.recipe = quickRecipe();
        cfg.band = CostBand{CostBand::Kind::Macs, 0.45 * full, 0.50 * full};
        Store store(db);
        const std::optional<FidelityReport> wholeBefore = storedFidelityReport(store);
        const FidelityReport rep = measureFidelity(db, ev, data, 1, cfg);
        QCOMPARE(rep.points.size(), size_t(4));
        std::vector<std::vector<int>> channels;
        std::vector<double> predicted, retrained;
        for (const FidelityPoint& p : rep.points) {
            QVERIFY(p.candidate.macs >= cfg.band->lo && p.candidate.macs <= cfg.band->hi);
            QVERIFY(std::find(channels.begin(), channels.end(), p.candidate.channels) == channels.end());
            channels.push_back(p.candidate.channels);
            predicted.push_back(p.candidate.top1);
            retrained.push_back(p.retrainedTop1);
        }
        QCOMPARE(rep.correlation.kendallTau, rankCorrelation(predicted, retrained).kendallTau);
        QCOMPARE(rep.correlationInterval.resamples, 2000);
        if (std::isnan(rep.correlation.kendallTau)) { // toy data can retrain every structure to one top-1
            QVERIFY(std::isnan(rep.correlationTest.kendallP) && !rep.correlationInterval.kendallTau.defined());
        } else {
            QVERIFY(rep.correlationTest.exact); // 4 structures: all 24 orderings
            QCOMPARE(rep.correlationTest.permutations, int64_t(24));
        }
        QCOMPARE(rep.topK, 3);
        QCOMPARE(rep.topKOverlap, topKOverlap(predicted, retrained, 3));
        const QString md = QString::fromStdString(rep.markdown());
        QVERIFY2(md.contains("spread over the band") && md.contains("(n = 4)") && md.contains("Top-3 overlap"),
                 qPrintable(md));

        const size_t before = store.retrains().size();
        const FidelityReport again = measureFidelity(db, ev, data, 1, cfg);
        QCOMPARE(store.retrains().size(), before);
        QCOMPARE(again.correlation.spearmanRho, rep.correlation.spearmanRho);
        const std::optional<FidelityReport> stored = storedFidelityReport(store, *cfg.band);
        QVERIFY(stored && stored->band);
        QCOMPARE(stored->band->key(), cfg.band->key());
        QCOMPARE(stored->points.size(), size_t(4));
        QCOMPARE(stored->correlationTest.kendallP, rep.correlationTest.kendallP);
        QCOMPARE(stored->correlationInterval.kendallTau.lo, rep.correlationInterval.kendallTau.lo);
        QCOMPARE(storedBandFidelityReports(store).size(), size_t(1));
        // The whole-range study keeps its own setting.
        const std::optional<FidelityReport> wholeAfter = storedFidelityReport(store);
        QCOMPARE(bool(wholeAfter), bool(wholeBefore));
        if (wholeBefore)
            QCOMPARE(wholeAfter->points.size(), wholeBefore->points.size());

        // A narrower band around a uniform network, narrowed until it holds fewer than 8.
        const double centre = double(countMacs(a, uniformEncoding(a, 15)));
        CostBand narrow;
        std::vector<Encoding> found;
        for (double w = 0.05 * full; w > 1; w /= 2) {
            narrow = CostBand{CostBand::Kind::Macs, centre - w, centre + w};
            int64_t attempts = 0;
            found = sampleStructuresInBand(a, narrow, 8, 3, &attempts);
            QVERIFY(attempts <= 2000 * 8);
            if (found.size() < 8)
                break;
        }
        QVERIFY2(found.size() >= 3 && found.size() < 8, qPrintable(QString::number(found.size())));
        FidelityConfig few = cfg;
        few.samples = 8;
        few.band = narrow;
        const FidelityReport small = measureFidelity(db, ev, data, 1, few);
        QCOMPARE(small.points.size(), found.size()); // reported, not padded
        QCOMPARE(small.requested, 8);
        QVERIFY2(QString::fromStdString(small.markdown()).contains(QString("holds only %1 distinct").arg(found.size())),
                 small.markdown().c_str());
        // Only the uniform network itself costs exactly its MACs here: too few to rank.
        few.band = CostBand{CostBand::Kind::Macs, centre - 0.5, centre + 0.5};
        QVERIFY(sampleStructuresInBand(a, *few.band, 8, 3, nullptr).size() < 3);
        QVERIFY_THROWS_EXCEPTION(ConfigError, measureFidelity(db, ev, data, 1, few));
        few.band = CostBand{CostBand::Kind::Latency, 1, 2};
        QVERIFY_THROWS_EXCEPTION(ConfigError, measureFidelity(db, ev, data, 1, few)); // no latency table
    }
};

QTEST_GUILESS_MAIN(TestRetrain)
#include "tst_retrain.moc"
