// The trained model a user brings: a small CNN (batch norms, a residual add, a depthwise conv,
// an SE gate, a concatenation) trained inside the test by python3-torch on Fashion-MNIST and
// exported to ONNX with its weights (tests/trained_model.py), imported with its weights and
// evaluated as itself against PyTorch's own top-1 and logits; its channels reordered by
// importance without changing its function; broken weight tensors refused by name.
#include "batch.h" // LibTorch first: Qt defines `slots` (platform.md)
#include "pruningnet_module.h"

#include "archfixture.h"

#include "retrain_p.h"

#include "metaprune/compare.h"
#include "metaprune/dataset.h"
#include "metaprune/evaluator.h"
#include "metaprune/onnx_import.h"
#include "metaprune/retrain.h"
#include "metaprune/trained.h"
#include "metaprune/training.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <numeric>
#include <random>

using namespace mp;

namespace {

/// Random weights for every layer of `arch` at full width, batch norms with statistics away
/// from the identity, as a trained model has.
TrainedWeights randomWeights(const ArchSpec& arch, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.3f);
    std::uniform_real_distribution<float> positive(0.5f, 2.0f);
    auto tensor = [&](std::vector<int64_t> shape, bool pos = false) {
        NetworkTensor t;
        t.shape = shape;
        int64_t n = 1;
        for (int64_t d : shape)
            n *= d;
        for (int64_t i = 0; i < n; ++i)
            t.data.push_back(pos ? positive(rng) : normal(rng));
        return t;
    };
    TrainedWeights w;
    const size_t n = arch.ops.size();
    for (auto* list : {&w.weight, &w.bias, &w.bnScale, &w.bnShift, &w.bnMean, &w.bnVar})
        list->assign(n, NetworkTensor{});
    w.bnEps.assign(n, 1e-5f);
    const std::vector<ValueShape> values = analyzeArchitecture(arch);
    for (const LayerShape& s : layerShapes(arch, values, uniformEncoding(arch, grid::kSize - 1))) {
        const size_t i = size_t(s.op);
        const Op& op = arch.ops[i];
        if (op.kind == OpKind::Conv) {
            w.weight[i] = tensor({s.outChannels, s.inChannels / s.groups, s.kernelH, s.kernelW});
            if (op.batchNorm) {
                w.bnScale[i] = tensor({s.outChannels}, true);
                w.bnShift[i] = tensor({s.outChannels});
                w.bnMean[i] = tensor({s.outChannels});
                w.bnVar[i] = tensor({s.outChannels}, true);
            } else {
                w.bias[i] = tensor({s.outChannels});
            }
        } else {
            w.weight[i] = tensor({s.outChannels, s.inChannels});
            w.bias[i] = tensor({s.outChannels});
        }
    }
    for (size_t i = 0; i < n; ++i)
        if (arch.ops[i].kind == OpKind::BatchNorm) {
            const int64_t c = values[size_t(arch.ops[i].inputs[0])].maxChannels;
            w.bnScale[i] = tensor({c}, true);
            w.bnShift[i] = tensor({c});
            w.bnMean[i] = tensor({c});
            w.bnVar[i] = tensor({c}, true);
        }
    return w;
}

torch::Tensor logitsOf(const ArchSpec& arch, const TrainedWeights& w, const torch::Tensor& x) {
    torch::NoGradGuard noGrad;
    return mp::detail::forwardFolded(arch, mp::detail::fromPrunedNetwork(trainedNetwork(arch, w)),
                                 x.contiguous(at::MemoryFormat::ChannelsLast))
        .contiguous();
}

QString errorOf(const QString& path) {
    try {
        TrainedWeights w;
        importOnnx(path.toStdString(), nullptr, &w);
    } catch (const ArchError& e) {
        return QString(e.what());
    }
    return "accepted";
}

} // namespace

class TestTrained : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;
    QJsonObject torchResult; // trained_model.py's report: PyTorch's top-1 and logits
    DataBundle data;

    QString path(const QString& name) const { return tmp.filePath(name); }

    /// One short warm PruningNet training of model.onnx (normalised as trained_model.py does) on
    /// 100 training images per class and `testPerClass` test images, batch 64.
    TrainConfig warmTraining(double lr, int testPerClass) const {
        TrainedWeights w;
        ArchSpec arch = importOnnx(path("model.onnx").toStdString(), nullptr, &w);
        arch.inputMean = {0.286f};
        arch.inputStd = {0.353f};
        TrainConfig cfg;
        cfg.family = arch.family;
        cfg.preset = "file";
        cfg.architecture = QJsonDocument::fromJson(QByteArray::fromStdString(toArchitectureJson(arch)))
                               .toJson(QJsonDocument::Compact)
                               .toStdString(); // as the command line stores it
        cfg.initFromWeights = true;
        cfg.lr = lr;
        cfg.epochs = 1;
        cfg.batchSize = 64;
        cfg.searchPerClass = 20;
        cfg.trainPerClass = 100;
        cfg.testPerClass = testPerClass;
        cfg.dataPath = FASHION_MNIST_DIR;
        return cfg;
    }

private slots:
    void initTestCase() {
        at::set_num_threads(2);
        QProcess py;
        py.start("/usr/bin/python3", {TRAINED_MODEL_SCRIPT, tmp.path(), "--steps", "200", "--threads", "2"});
        QVERIFY2(py.waitForFinished(900000), "trained_model.py did not finish");
        QVERIFY2(py.exitCode() == 0, qPrintable("trained_model.py failed (needs python3-torch, python3-torchvision):\n" +
                                                QString::fromUtf8(py.readAllStandardError())));
        torchResult = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
        QVERIFY(torchResult["top1"].toDouble() > 50); // the model learned something worth checking
        data = loadData(FASHION_MNIST_DIR);
    }

    // The model with its own weights gives PyTorch's top-1 on all 10,000 test images and its
    // logits, whether the exporter folded the batch norms into the convs or kept them.
    void importedModelEvaluatesAsItself_data() {
        QTest::addColumn<QString>("file");
        QTest::newRow("batch norm folded by the exporter") << "model.onnx";
        QTest::newRow("BatchNormalization nodes kept") << "model-bn.onnx";
    }
    void importedModelEvaluatesAsItself() {
        QFETCH(QString, file);
        TrainedWeights w;
        ImportReport report;
        const ArchSpec arch = importOnnx(path(file).toStdString(), &report, &w);
        QCOMPARE(QString::fromStdString(arch.weightsFile), path(file));
        QCOMPARE(arch.weightsSha256.size(), size_t(64));
        QCOMPARE(report.convBatchNorms, file == "model.onnx" ? 0 : 5);
        const float mean = float(torchResult["mean"].toDouble()), stddev = float(torchResult["std"].toDouble());
        const ModelScore s = evaluateTrained(arch, w, data.test, {mean}, {stddev}, 20);
        QCOMPARE(s.images, int64_t(10000));
        QVERIFY2(std::abs(s.top1 - torchResult["top1"].toDouble()) <= 0.05,
                 qPrintable(QString("ours %1%, PyTorch's %2%").arg(s.top1).arg(torchResult["top1"].toDouble())));
        QVERIFY(std::abs(s.loss - torchResult["loss"].toDouble()) < 1e-4);
        const QJsonArray ref = torchResult["logits"].toArray();
        QCOMPARE(int(s.logits.size()), 20);
        double worst = 0;
        for (int r = 0; r < 20; ++r)
            for (int c = 0; c < 10; ++c)
                worst = std::max(worst, std::abs(double(s.logits[size_t(r)][size_t(c)]) - ref[r][c].toDouble()));
        qInfo("%s: top-1 %.2f%% (PyTorch %.2f%%), max logit difference %.2g", qPrintable(file), s.top1,
              torchResult["top1"].toDouble(), worst);
        QVERIFY2(worst < 1e-4, qPrintable(QString::number(worst)));
    }

    // `metaprune evaluate --model` prints the same top-1 and writes the logits as CSV.
    void evaluateCommand() {
        QProcess cli;
        cli.start(METAPRUNE_CLI, {"evaluate", "--model", path("model.onnx"), "--data", FASHION_MNIST_DIR, "--mean",
                                  QString::number(torchResult["mean"].toDouble()), "--std",
                                  QString::number(torchResult["std"].toDouble()), "--logits", path("logits.csv"),
                                  "--logits-images", "5"});
        QVERIFY(cli.waitForFinished(300000));
        const QString out = QString::fromUtf8(cli.readAllStandardOutput());
        QVERIFY2(cli.exitCode() == 0, qPrintable(out + cli.readAllStandardError()));
        QVERIFY2(out.contains(QString("top-1 %1%").arg(torchResult["top1"].toDouble(), 0, 'f', 2)) &&
                     out.contains("on 10000 test images"),
                 qPrintable(out));
        QFile csv(path("logits.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QStringList rows = QString::fromUtf8(csv.readAll()).trimmed().split('\n');
        QCOMPARE(rows.size(), 5);
        const QStringList first = rows[0].split(',');
        QCOMPARE(first.size(), 10);
        for (int c = 0; c < 10; ++c)
            QVERIFY(std::abs(first[c].toDouble() - torchResult["logits"].toArray()[0][c].toDouble()) < 1e-4);
    }

    // Reordering every gene's channels by importance leaves the full network's function as it
    // was, and leaves each gene's channels in decreasing importance: on the trained model, and
    // on the hand-written architecture with every op kind (concatenation, depthwise and grouped
    // convs, SE gate, residual add, a linear layer over a flattened map) with random weights.
    void orderingKeepsTheFunction_data() {
        QTest::addColumn<QString>("which");
        QTest::newRow("trained model") << "trained";
        QTest::newRow("every op kind, random weights") << "mix";
    }
    void orderingKeepsTheFunction() {
        QFETCH(QString, which);
        ArchSpec arch;
        TrainedWeights w;
        torch::Tensor x;
        if (which == "trained") {
            arch = importOnnx(path("model-bn.onnx").toStdString(), nullptr, &w);
            std::vector<int64_t> idx(64);
            std::iota(idx.begin(), idx.end(), int64_t(0));
            x = mp::detail::makeBatch(data.test, idx.data(), 64, {{0.286f}, {0.353f}});
        } else {
            arch = architectureFromJson(test::kMixArchJson);
            w = randomWeights(arch, 3);
            torch::manual_seed(5);
            x = torch::randn({8, arch.inChannels, arch.inHeight, arch.inWidth});
        }
        const TrainedWeights ordered = orderByImportance(arch, w);
        const torch::Tensor before = logitsOf(arch, w, x), after = logitsOf(arch, ordered, x);
        const double diff = (before - after).abs().max().item<double>();
        qInfo("%s: max logit difference after reordering %.2g (logits up to %.3g)", qPrintable(which), diff,
              before.abs().max().item<double>());
        QVERIFY2(diff < 1e-5 * std::max(1.0, before.abs().max().item<double>()), qPrintable(QString::number(diff)));
        int moved = 0;
        const std::vector<std::vector<double>> was = channelImportance(arch, w), now = channelImportance(arch, ordered);
        for (size_t g = 0; g < arch.genes.size(); ++g) {
            const int q = arch.genes[g].quantum;
            std::vector<double> blocks(now[g].size() / size_t(q), 0.0);
            for (size_t c = 0; c < now[g].size(); ++c)
                blocks[c / size_t(q)] += now[g][c];
            QVERIFY2(std::is_sorted(blocks.rbegin(), blocks.rend()), arch.genes[g].name.c_str());
            moved += now[g] != was[g];
            std::vector<double> a = was[g], b = now[g];
            std::sort(a.begin(), a.end());
            std::sort(b.begin(), b.end());
            for (size_t c = 0; c < a.size(); ++c) // the same channels, moved
                QVERIFY(std::abs(a[c] - b[c]) <= 1e-9 * std::max(1.0, a[c]));
        }
        QVERIFY(moved > 0);
        if (which != "trained")
            return;
        // The criterion, computed here: the L1 norm of each output filter with its batch norm
        // folded in. The branch conv writes a gene of its own (16 channels): its first 4 filters
        // after ordering are its 4 of largest norm before (their columns follow the input's
        // order, which leaves their norms as they were).
        const auto branch = std::find_if(arch.ops.begin(), arch.ops.end(),
                                         [](const Op& op) { return op.name.find("branch") != std::string::npos; });
        QVERIFY(branch != arch.ops.end() && branch->kind == OpKind::Conv);
        const size_t i = size_t(branch - arch.ops.begin());
        const auto filterNorms = [&](const TrainedWeights& t) {
            return mp::detail::fromNetworkTensor(trainedNetwork(arch, t).weight[i]).abs().sum({1, 2, 3});
        };
        const torch::Tensor largest = std::get<0>(filterNorms(w).topk(4));
        const torch::Tensor leading = filterNorms(ordered).narrow(0, 0, 4);
        QVERIFY2(torch::allclose(leading, largest), qPrintable(QString("leading filters' norms differ from the 4 largest")));
    }

    // compare --baseline l1 on a PruningNet started at the model: the searched structure and the
    // L1 baseline (the uniform structure with the model's largest channels) fine-tuned with the
    // same recipe, the original model's own top-1 and the differences to it, and the uniform
    // width-multiplier network from scratch beside them.
    void compareWithTheL1Baseline() {
        TrainConfig cfg = warmTraining(kWarmStartLr, 50);
        cfg.warmupSteps = 5;
        const DataBundle small = loadTrainingData(cfg);
        const QString db = path("l1.sqlite");
        const std::string ckpt = path("l1.pt").toStdString();
        const TrainJob job = trainInProject(db.toStdString(), small, cfg, ckpt);
        QVERIFY(job.outcome.finished);
        EvalSettings es;
        es.recalBatches = 2;
        es.recalBatchSize = 64;
        const Evaluator ev(ckpt, small, es);
        CompareConfig cc;
        cc.fractions = {0.5};
        cc.baseline = CompareBaseline::L1;
        cc.alsoUniform = true;
        cc.search.population = 8;
        cc.search.parents = 3;
        cc.search.mutations = 3;
        cc.search.crossovers = 3;
        cc.search.generations = 2;
        cc.search.eval = es;
        cc.recipe.epochs = 1;
        cc.recipe.batchSize = 64;
        cc.recipe.lr = 0.01;
        cc.recipe.warmupSteps = 2;
        cc.seeds = {1, 2};
        cc.recipe.distill = true;
        QVERIFY_THROWS_EXCEPTION(ConfigError, compareWithUniform(db.toStdString(), ev, small, job.trainingId, cc));
        cc.recipe.mode = RetrainMode::Inherit;
        const CompareReport r = compareWithUniform(db.toStdString(), ev, small, job.trainingId, cc);
        QCOMPARE(r.baseline, CompareBaseline::L1);
        QVERIFY(r.originalTop1.has_value());
        const double original =
            evaluateTrained(ev.arch(), checkpointTrainedModel(ckpt), small.test, {0.286f}, {0.353f}).top1;
        QCOMPARE(*r.originalTop1, original);
        QCOMPARE(r.rows.size(), size_t(1));
        const CompareRow& row = r.rows[0];
        QCOMPARE(row.arms.size(), size_t(1));
        const CompareArm& arm = row.arms[0];
        QCOMPARE(arm.searchedTop1.size(), size_t(2));
        QCOMPARE(arm.uniformTop1.size(), size_t(2));
        QCOMPARE(arm.scratchTop1.size(), size_t(2));
        QVERIFY(row.toOriginal.has_value());
        const double mean = (arm.searchedTop1[0] + arm.searchedTop1[1]) / 2;
        QVERIFY(std::abs(row.toOriginal->estimate - (mean - original)) < 1e-9);
        QVERIFY(row.toOriginal->interval.defined());
        const QString md = QString::fromStdString(r.markdown());
        QVERIFY2(md.contains("Baseline: uniform filter pruning by L1 norm") &&
                     md.contains(QString("Original model (the trained model the PruningNet started from, evaluated as "
                                         "itself): top-1 %1%")
                                     .arg(original, 0, 'f', 2)) &&
                     md.contains("searched vs the original model") && md.contains("retrained from scratch"),
                 qPrintable(md));
        // Stored and read back as it was.
        const std::optional<CompareReport> stored = storedCompareReport(Store(db.toStdString(), StoreMode::ReadOnly));
        QVERIFY(stored && stored->baseline == CompareBaseline::L1 && stored->originalTop1 == r.originalTop1);
        QCOMPARE(stored->rows[0].arms[0].scratchTop1, arm.scratchTop1);

        // Fidelity against the workflow's ground truth (inherit + distil), two seeds per
        // structure, with the inherited weights alone as a second baseline beside MACs.
        FidelityConfig fc;
        fc.samples = 4;
        fc.recipe = cc.recipe;
        fc.seeds = {1, 2};
        const FidelityReport f = measureFidelity(db.toStdString(), ev, small, job.trainingId, fc);
        QCOMPARE(f.points.size(), size_t(4));
        QVERIFY(f.inheritedBaseline.has_value());
        for (const FidelityPoint& p : f.points) {
            QCOMPARE(p.retrainedBySeed.size(), size_t(2));
            QCOMPARE(p.retrainedTop1, (p.retrainedBySeed[0] + p.retrainedBySeed[1]) / 2);
            QVERIFY(p.inheritedTop1.has_value());
            QCOMPARE(*p.inheritedTop1, ev.evaluateInherited(p.candidate.genes).top1);
        }
        const QString fmd = QString::fromStdString(f.markdown());
        QVERIFY2(fmd.contains("Baseline, the inherited weights alone") && fmd.contains("inherited top-1") &&
                     fmd.contains("the mean over retraining seeds 1, 2"),
                 qPrintable(fmd));

        // The command line fine-tunes inherited weights at kInheritLr unless --lr says otherwise
        // (the from-scratch rate undoes what they bring): the stored recipe says which.
        const int64_t id = arm.searched.id;
        for (const QStringList& extra : {QStringList{}, QStringList{"--lr", "0.05"}}) {
            QProcess cli;
            cli.start(METAPRUNE_CLI, QStringList{"retrain", "--db", db, "--candidate", QString::number(id), "--mode",
                                                 "inherit", "--epochs", "1", "--batch-size", "64", "--seed", "7",
                                                 "--threads", "1"} +
                                         extra);
            QVERIFY(cli.waitForFinished(300000));
            QVERIFY2(cli.exitCode() == 0, qPrintable(cli.readAllStandardError()));
        }
        std::vector<double> rates;
        for (const RetrainRecord& rec : Store(db.toStdString(), StoreMode::ReadOnly).retrains(id))
            if (rec.seed == 7)
                rates.push_back(retrainConfigFromJson(rec.config, rec.seed).lr);
        QCOMPARE(rates, (std::vector<double>{kInheritLr, 0.05}));
    }

    // Started at the trained model, the full-width PruningNet (BN recalibrated) scores as the
    // model does: within 0.5 point on the same test images. A learning rate of 1e-9 leaves the
    // weights as they started through the one short epoch the checkpoint needs.
    void warmStartReproducesTheModel() {
        TrainedWeights w;
        const ArchSpec arch = importOnnx(path("model.onnx").toStdString(), nullptr, &w);
        const TrainConfig cfg = warmTraining(1e-9, 200);
        const DataBundle small = loadTrainingData(cfg);
        const std::string ckpt = path("warm0.pt").toStdString();
        QVERIFY(trainInProject(path("warm0.sqlite").toStdString(), small, cfg, ckpt).outcome.finished);
        EvalSettings es;
        es.recalBatches = 8;
        es.recalBatchSize = 64;
        es.evalImages = 0;
        const Evaluator ev(ckpt, small, es);
        const double pruningNet = ev.evaluate(uniformEncoding(ev.arch(), grid::kSize - 1), EvalSplit::Test).top1;
        const double model = evaluateTrained(arch, w, small.test, {0.286f}, {0.353f}).top1;
        qInfo("full-width PruningNet at step 0: %.2f%%, the model %.2f%% (%lld test images)", pruningNet, model,
              static_cast<long long>(small.test.size()));
        QVERIFY2(std::abs(pruningNet - model) <= 0.5, qPrintable(QString("%1 vs %2").arg(pruningNet).arg(model)));
    }

    // A trained model sees the data at its own input size, as `evaluate --model` does, unless
    // --size says otherwise; an architecture without weights keeps the IDX data's own size.
    void dataFollowsTheModelsInputSize() {
        TrainedWeights w;
        const ArchSpec at32 = resizeArchitecture(importOnnx(path("model.onnx").toStdString(), nullptr, &w), 1, 32, 32, 10);
        QVERIFY(!at32.weightsFile.empty());
        TrainConfig cfg;
        cfg.dataPath = FASHION_MNIST_DIR;
        cfg.trainPerClass = 5;
        cfg.testPerClass = 5;
        const auto sizeWith = [&](ArchSpec arch, int inputSize) {
            cfg.architecture = toArchitectureJson(arch);
            cfg.inputHeight = cfg.inputWidth = inputSize;
            const DataBundle d = loadTrainingData(cfg);
            return std::make_pair(d.train.height, d.test.width);
        };
        QCOMPARE(sizeWith(at32, 0), std::make_pair(32, 32));
        QCOMPARE(sizeWith(at32, 28), std::make_pair(28, 28));
        ArchSpec bare = at32;
        bare.weightsFile.clear();
        QCOMPARE(sizeWith(bare, 0), std::make_pair(28, 28));
    }

    // The distillation loss on fixed logits, against the formula computed here in doubles:
    // (1 - a) CE(s, y) + a T^2 sum_k p_k (log p_k - log q_k) / N, p = softmax(t / T), q = softmax(s / T).
    void distillationLossByHand() {
        const std::vector<std::vector<double>> s = {{1.0, 2.0, 3.0}, {0.5, -1.0, 0.0}}, t = {{3.0, 2.0, 1.0}, {1.0, 0.0, 0.0}};
        const std::vector<int64_t> y = {2, 0};
        const double T = 2.0, a = 0.3;
        const auto logSoftmax = [](std::vector<double> v, double temp) {
            double m = -1e300, z = 0;
            for (double& x : v)
                m = std::max(m, x /= temp);
            for (double x : v)
                z += std::exp(x - m);
            for (double& x : v)
                x -= m + std::log(z);
            return v;
        };
        double ce = 0, kl = 0;
        for (size_t n = 0; n < 2; ++n) {
            ce -= logSoftmax(s[n], 1)[size_t(y[n])] / 2;
            const std::vector<double> lp = logSoftmax(t[n], T), lq = logSoftmax(s[n], T);
            for (size_t k = 0; k < 3; ++k)
                kl += std::exp(lp[k]) * (lp[k] - lq[k]) / 2;
        }
        const double expected = (1 - a) * ce + a * T * T * kl;
        RetrainConfig cfg;
        cfg.distill = true;
        cfg.distillTemperature = T;
        cfg.distillAlpha = a;
        cfg.labelSmoothing = 0;
        const auto tensor = [](const std::vector<std::vector<double>>& v) {
            return torch::tensor({v[0][0], v[0][1], v[0][2], v[1][0], v[1][1], v[1][2]}, torch::kFloat).view({2, 3});
        };
        const double got =
            mp::detail::distillationLoss(tensor(s), tensor(t), torch::tensor(y, torch::kLong), cfg).item<double>();
        QVERIFY2(std::abs(got - expected) < 1e-6, qPrintable(QString("%1 vs %2").arg(got).arg(expected)));
        cfg.distill = false; // without distillation: the cross-entropy alone
        QVERIFY(std::abs(mp::detail::distillationLoss(tensor(s), tensor(t), torch::tensor(y, torch::kLong), cfg).item<double>() -
                         ce) < 1e-6);
    }

    // Broken weights are refused naming the tensor and its node (or the missing data file).
    void brokenWeightsAreRefusedByName() {
        QProcess py;
        py.start("/usr/bin/python3",
                 {"-c",
                  "import onnx, sys, numpy as np\n"
                  "from onnx import numpy_helper\n"
                  "d = sys.argv[1]\n"
                  "m = onnx.load(d + '/model-bn.onnx')\n"
                  "g = m.graph\n"
                  "conv = [n for n in g.node if n.op_type == 'Conv'][1]\n"
                  "w = [t for t in g.initializer if t.name == conv.input[1]][0]\n"
                  "a = numpy_helper.to_array(w).copy(); a.flat[3] = np.nan\n"
                  "w.CopyFrom(numpy_helper.from_array(a, w.name))\n"
                  "onnx.save(m, d + '/nan.onnx')\n"
                  "m = onnx.load(d + '/model-bn.onnx'); g = m.graph\n"
                  "bn = [n for n in g.node if n.op_type == 'BatchNormalization'][0]\n"
                  "g.initializer.remove([t for t in g.initializer if t.name == bn.input[3]][0])\n"
                  "onnx.save(m, d + '/missing.onnx')\n"
                  "m = onnx.load(d + '/model-bn.onnx')\n"
                  "onnx.save_model(m, d + '/external.onnx', save_as_external_data=True, location='external.data', "
                  "size_threshold=0)\n"
                  "m = onnx.load(d + '/external.onnx', load_external_data=False)\n"
                  "for t in m.graph.initializer:\n"
                  "    for e in t.external_data:\n"
                  "        if e.key == 'location': e.value = '../external.data'\n"
                  "onnx.save(m, d + '/escape.onnx')\n"
                  "import os\n"
                  "for sub, target in (('link', '../external.data'), ('folder', None)):\n"
                  "    os.makedirs(d + '/' + sub)\n"
                  "    m = onnx.load(d + '/external.onnx', load_external_data=False)\n"
                  "    for t in m.graph.initializer:\n"
                  "        for e in t.external_data:\n"
                  "            if e.key == 'location': e.value = sub + '.data'\n"
                  "    onnx.save(m, d + '/' + sub + '/model.onnx')\n"
                  "    if target: os.symlink(target, d + '/' + sub + '/' + sub + '.data')\n"
                  "    else: os.makedirs(d + '/' + sub + '/' + sub + '.data')\n"
                  "m = onnx.load(d + '/model-bn.onnx'); g = m.graph\n"
                  "k3 = [n for n in g.node if n.op_type == 'Conv' and list([a for a in n.attribute "
                  "if a.name == 'kernel_shape'][0].ints) == [3, 3]][0]\n"
                  "t = [t for t in g.initializer if t.name == k3.input[1]][0]\n"
                  "a = numpy_helper.to_array(t); o, i = a.shape[0], a.shape[1]\n"
                  "t.CopyFrom(numpy_helper.from_array(a.reshape(o, i, 9, 1), t.name))\n"
                  "onnx.save(m, d + '/kernel.onnx')\n"
                  "print(conv.name, w.name, bn.name, bn.input[3], k3.name, t.name)\n",
                  tmp.path()});
        QVERIFY(py.waitForFinished(120000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        const QStringList names = QString::fromUtf8(py.readAllStandardOutput()).trimmed().split(' ');
        QCOMPARE(names.size(), 6);
        const QString nan = errorOf(path("nan.onnx"));
        QVERIFY2(nan.contains("node '" + names[0] + "'") && nan.contains("'" + names[1] + "' holds a non-finite value"),
                 qPrintable(nan));
        const QString missing = errorOf(path("missing.onnx"));
        QVERIFY2(missing.contains("node '" + names[2] + "'") &&
                     missing.contains("running mean '" + names[3] + "' is missing"),
                 qPrintable(missing));
        QVERIFY(errorOf(path("external.onnx")) == "accepted");
        const QString escape = errorOf(path("escape.onnx"));
        QVERIFY2(escape.contains("is stored at '../external.data', outside the model's folder"), qPrintable(escape));
        // However the location is spelt: a link out of the folder, a folder instead of a file.
        const QString link = errorOf(path("link/model.onnx"));
        QVERIFY2(link.contains("is stored at 'link.data', a link to '" + QFileInfo(path("external.data")).canonicalFilePath() +
                               "' outside the model's folder"),
                 qPrintable(link));
        const QString folder = errorOf(path("folder/model.onnx"));
        QVERIFY2(folder.contains("is stored in '" + path("folder/folder.data") + "', which is not a file"),
                 qPrintable(folder));
        // The weights do not match the node's kernel_shape: 9x1 where the conv says 3x3.
        const QString kernel = errorOf(path("kernel.onnx"));
        QVERIFY2(kernel.contains("node '" + names[4] + "'") &&
                     kernel.contains("its weight '" + names[5] + "' has a 9x1 kernel, its kernel_shape says 3x3"),
                 qPrintable(kernel));
        // The fingerprint covers the external data: a changed byte there is a changed model.
        TrainedWeights w;
        const ArchSpec before = importOnnx(path("external.onnx").toStdString(), nullptr, &w);
        QVERIFY(before.weightsSha256 != fileSha256(path("external.onnx").toStdString()));
        {
            QFile data(path("external.data"));
            QVERIFY(data.open(QIODevice::ReadWrite));
            QByteArray bytes = data.readAll();
            bytes[7] = char(bytes[7] ^ 0x40);
            QVERIFY(data.seek(0) && data.write(bytes) == bytes.size());
        }
        QVERIFY_THROWS_EXCEPTION(ArchError, readTrainedModel(before));
        try {
            readTrainedModel(before);
        } catch (const ArchError& e) {
            QVERIFY2(QString(e.what()).contains("the trained model or its external data changed since it was imported"),
                     e.what());
        }
        QVERIFY(QFile::remove(path("external.data")));
        const QString absent = errorOf(path("external.onnx"));
        QVERIFY2(absent.contains("is stored in '" + path("external.data") + "', which does not exist"), qPrintable(absent));
        // Without weights the graph alone imports as before.
        QCOMPARE(importOnnx(path("external.onnx").toStdString()).ops.size(),
                 importOnnx(path("model-bn.onnx").toStdString()).ops.size());
    }
};

QTEST_GUILESS_MAIN(TestTrained)
#include "tst_trained.moc"
