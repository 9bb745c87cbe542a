// Export to TorchScript and ONNX, checked by runtimes that share no code with the core: Debian's
// python3-torch (torch.jit.load), python3-onnx (onnx.checker) and OpenCV's DNN module run the
// exported files on the same input as the core's own forward pass, for each architecture family
// and for edge encodings.
#include "pruningnet_module.h" // LibTorch first: Qt defines `slots` (platform.md)

#include <torch/script.h>

#include "archfixture.h"
#include "exportcheck.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace mp;
using namespace mp::detail;

namespace {

using Case = test::ExportCase;

Encoding mixedEncoding(const ArchSpec& a) {
    Encoding e(a.genes.size());
    for (size_t g = 0; g < e.size(); ++g)
        e[g] = g % 2 ? 0 : 30;
    return e;
}

// The core's pruned network with PruningNet weights, BN recalibrated on random batches and folded.
Case makeCase(const QString& name, const ArchSpec& a, const Encoding& e, uint64_t seed) {
    torch::manual_seed(int64_t(seed));
    PruningNetModule net(a);
    torch::NoGradGuard noGrad;
    const PrunedWeights w = net->generate(e);
    BnStats stats = net->emptyStats(e);
    for (int b = 0; b < 2; ++b) {
        const torch::Tensor x = torch::randn({16, a.inChannels, a.inHeight, a.inWidth});
        net->forward(x.contiguous(at::MemoryFormat::ChannelsLast), e, w, BnMode::Recal, &stats, b);
    }
    const PrunedWeights folded = foldBatchNorm(w, stats);
    CheckpointInfo info;
    info.mean.assign(size_t(a.inChannels), 0.5f);
    info.stddev.assign(size_t(a.inChannels), 0.25f);
    for (int c = 0; c < a.classes; ++c)
        info.classNames.push_back("class" + std::to_string(c));
    Case c;
    c.name = name;
    c.arch = a;
    c.enc = e;
    c.net = toPrunedNetwork(a, e, folded, describeExport(a, info, e).json);
    c.input = torch::randn({3, a.inChannels, a.inHeight, a.inWidth});
    c.reference = net->forward(c.input.contiguous(at::MemoryFormat::ChannelsLast), e, folded, BnMode::Folded)
                      .contiguous();
    return c;
}

} // namespace

class TestExport : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;
    std::vector<Case> cases;

private slots:
    void initTestCase() {
        at::set_num_threads(2);
        QVERIFY(tmp.isValid());
        const struct {
            const char* family;
            int c, hw;
        } families[] = {{"mobilenetv2", 1, 28}, {"mobilenetv1", 1, 28}, {"resnet", 3, 32}};
        uint64_t seed = 1;
        for (const auto& f : families) {
            const ArchSpec a = makeArchitecture(f.family, "small", f.c, f.hw, f.hw, 10);
            std::mt19937_64 rng(seed);
            const QString fam = QString::fromLatin1(f.family);
            cases.push_back(makeCase(fam + "-min", a, uniformEncoding(a, 0), seed++));
            cases.push_back(makeCase(fam + "-max", a, uniformEncoding(a, 30), seed++));
            cases.push_back(makeCase(fam + "-mixed", a, mixedEncoding(a), seed++));
            cases.push_back(makeCase(fam + "-random", a, randomEncoding(a, rng), seed++));
        }
        // Concat, SE gate, grouped conv, pools, HardSwish/SiLU: the ops of imported models.
        const ArchSpec mix = architectureFromJson(test::kMixArchJson);
        std::mt19937_64 rng(seed);
        cases.push_back(makeCase("mixnet-max", mix, uniformEncoding(mix, 30), seed++));
        cases.push_back(makeCase("mixnet-random", mix, randomEncoding(mix, rng), seed++));
        cases.push_back(makeCase("mixnet-min", mix, uniformEncoding(mix, 0), seed++));
    }

    // Exports every case in both formats, runs them with python3-torch and OpenCV DNN, and
    // compares with the core's forward pass.
    void independentRuntimesReproduceTheCore() {
        const QString failure = test::runIndependentRuntimes(cases, tmp.path());
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        for (const Case& c : cases) {
            QVERIFY2(c.viaTorch.defined(), qPrintable(c.name + ": no TorchScript output"));
            QVERIFY2(c.viaOpenCv.defined(), qPrintable(c.name + ": no OpenCV output"));
            const double dTorch = test::maxAbsDiff(c.viaTorch, c.reference);
            const double dCv = test::maxAbsDiff(c.viaOpenCv, c.reference);
            QVERIFY2(dTorch < 1e-4, qPrintable(QString("%1: torch.jit.load differs by %2").arg(c.name).arg(dTorch)));
            QVERIFY2(dCv < 1e-4, qPrintable(QString("%1: OpenCV DNN differs by %2").arg(c.name).arg(dCv)));
            // The reference is not degenerate: outputs differ between images and classes.
            QVERIFY2(c.reference.std().item<double>() > 1e-3, qPrintable(c.name));
            const QJsonObject& m = c.meta;
            QCOMPARE(m["onnx_opset"].toInt(), 13);
            const QJsonArray ops = m["onnx_ops"].toArray();
            QVERIFY(ops.contains("Conv") && ops.contains("Gemm"));
            if (c.arch.family == "mixnet") { // every op kind the import produces
                for (const char* op : {"Concat", "Mul", "Add", "AveragePool", "MaxPool", "HardSigmoid", "Sigmoid",
                                       "Clip", "Relu", "GlobalAveragePool", "Flatten"})
                    QVERIFY2(ops.contains(op), op);
            } else {
                QVERIFY(ops.contains("GlobalAveragePool"));
                QCOMPARE(ops.contains("Clip"), c.arch.family == "mobilenetv2");
                QCOMPARE(ops.contains("Add"), c.arch.family != "mobilenetv1");
            }
            for (const QJsonValue v : {m["torchscript"], m["onnx"]["metaprune"]}) {
                const QJsonObject d = QJsonDocument::fromJson(v.toString().toUtf8()).object();
                QCOMPARE(d["macs"].toInteger(), qint64(countMacs(c.arch, c.enc)));
                QCOMPARE(d["params"].toInteger(), qint64(countParams(c.arch, c.enc)));
                QCOMPARE(d["encoding"].toArray().size(), qsizetype(c.enc.size()));
                QCOMPARE(d["class_names"].toArray().size(), qsizetype(c.arch.classes));
                QCOMPARE(d["normalization"]["std"].toArray().at(0).toDouble(), 0.25);
                // Each gene's channels are the network's: the output rows of every dense conv
                // or linear layer that the gene sets (whole groups for the grouped conv's
                // gene, quantum 2: "mixnet-min" has 2 where the grid alone gives 1).
                const QJsonArray genes = d["genes"].toArray();
                QCOMPARE(genes.size(), qsizetype(c.arch.genes.size()));
                for (const LayerShape& s : layerShapes(c.arch, c.enc)) {
                    const Op& op = c.arch.ops[size_t(s.op)];
                    if (op.out.gene >= 0 && !op.followsInput())
                        QCOMPARE(genes[op.out.gene]["channels"].toInt(), int(c.net.weight[size_t(s.op)].shape[0]));
                }
                if (c.name == "mixnet-min")
                    QCOMPARE(genes[3]["channels"].toInt(), 2);
            }
        }
    }

    // LibTorch's own loader reads the TorchScript file as a standalone module: the parameters it
    // holds are exactly the pruned network's (conv + linear weights and biases).
    void libTorchLoadsTheModule() {
        for (const Case& c : {cases[1], cases[7], cases[11]}) {
            const std::string path = tmp.filePath(c.name + "-cpp.pt").toStdString();
            writeNetwork(c.net, ExportFormat::TorchScript, path);
            torch::jit::Module m = torch::jit::load(path);
            m.eval();
            torch::NoGradGuard noGrad;
            const torch::Tensor out = m.forward({c.input}).toTensor();
            QVERIFY2(test::maxAbsDiff(out, c.reference) < 1e-4, qPrintable(c.name));
            int64_t weights = 0;
            for (const torch::Tensor& p : m.parameters())
                weights += p.numel();
            int64_t convBiases = 0;
            for (const LayerShape& s : layerShapes(c.arch, c.enc))
                if (c.arch.ops[size_t(s.op)].kind == OpKind::Conv)
                    convBiases += s.outChannels; // folded BN
            QCOMPARE(weights, countParams(c.arch, c.enc) + convBiases);
        }
    }

    void badFormatsAndPathsAreNamed() {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parseExportFormat("tflite"));
        QCOMPARE(int(parseExportFormat("onnx")), int(ExportFormat::Onnx));
        QCOMPARE(exportExtension(ExportFormat::Onnx), std::string(".onnx"));
        const std::string bad = tmp.filePath("no-such-dir/net.onnx").toStdString();
        for (ExportFormat f : {ExportFormat::Onnx, ExportFormat::TorchScript}) {
            try {
                writeNetwork(cases[0].net, f, bad);
                QFAIL("writing into a missing folder must throw");
            } catch (const std::runtime_error& e) {
                QVERIFY2(std::string(e.what()).find(bad) != std::string::npos, e.what());
            }
        }
        PrunedNetwork broken = cases[0].net;
        broken.weight.pop_back();
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 writeNetwork(broken, ExportFormat::Onnx, tmp.filePath("x.onnx").toStdString()));
    }
};

QTEST_GUILESS_MAIN(TestExport)
#include "tst_export.moc"
