// Retraining of pruned networks and the evaluation reports built on it: rank correlations
// against hand-computed values, a retrained network that learns a toy problem and exports to
// exactly the accuracy it reports, cancel, the retrains table, and the compare / fidelity jobs
// (stored, reused on a second call).
#include <torch/script.h> // LibTorch first: Qt defines `slots` (platform.md)

#include "metaprune/compare.h"
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

    void rankCorrelationByHand() {
        // Pairs of (1,2,3,4) vs (1,3,2,4): 5 concordant, 1 discordant -> tau = 4/6;
        // rank differences 0,1,1,0 -> rho = 1 - 6*2 / (4*15) = 0.8.
        RankCorrelation r = rankCorrelation({1, 2, 3, 4}, {1, 3, 2, 4});
        QCOMPARE(r.n, 4);
        QVERIFY(std::abs(r.kendallTau - 4.0 / 6.0) < 1e-12);
        QVERIFY(std::abs(r.spearmanRho - 0.8) < 1e-12);
        // Ties: (1,2,2,3) vs (1,2,3,3): 4 concordant, one pair tied in each -> tau-b = 4/sqrt(5*5);
        // average ranks (1,2.5,2.5,4) and (1,2,3.5,3.5) -> rho = 3.75 / 4.5.
        r = rankCorrelation({1, 2, 2, 3}, {1, 2, 3, 3});
        QVERIFY(std::abs(r.kendallTau - 0.8) < 1e-12);
        QVERIFY(std::abs(r.spearmanRho - 3.75 / 4.5) < 1e-12);
        r = rankCorrelation({3, 2, 1}, {10, 20, 30});
        QCOMPARE(r.kendallTau, -1.0);
        QCOMPARE(r.spearmanRho, -1.0);
        r = rankCorrelation({1, 2, 3}, {10, 10, 10}); // a constant sample has no ranking
        QVERIFY(std::isnan(r.kendallTau) && std::isnan(r.spearmanRho));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, rankCorrelation({1, 2}, {1, 2}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, rankCorrelation({1, 2, 3}, {1, 2}));
        const auto [mean, sd] = meanAndSpread({1, 2, 3, 4});
        QCOMPARE(mean, 2.5);
        QVERIFY(std::abs(sd - std::sqrt(5.0 / 3.0)) < 1e-12);
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
        c.origin = "probe";
        c = store.addCandidate(c);
        cancel = true;
        QVERIFY_THROWS_EXCEPTION(Cancelled, retrainCandidate(db, ev, data, c.id, quickRecipe(), "user", {}, &cancel));
        QVERIFY(store.retrains(c.id).empty());

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
            QVERIFY(row.searched.macs <= row.targetMacs);
            QVERIFY(row.uniform.macs >= row.searched.macs);
            QCOMPARE(QString::fromStdString(row.uniform.origin), QString("uniform"));
            QCOMPARE(row.searchedTop1.size(), size_t(2));
            QCOMPARE(row.uniformTop1.size(), size_t(2));
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
        QCOMPARE(again.rows[1].searchedTop1, rep.rows[1].searchedTop1);
        const std::optional<CompareReport> stored = storedCompareReport(store);
        QVERIFY(stored);
        QCOMPARE(stored->rows[0].uniformTop1, rep.rows[0].uniformTop1);
        QCOMPARE(stored->rows[0].searched.genes, rep.rows[0].searched.genes);
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
};

QTEST_GUILESS_MAIN(TestRetrain)
#include "tst_retrain.moc"
