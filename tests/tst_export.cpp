// Export to TorchScript and ONNX, checked by runtimes that share no code with the core: Debian's
// python3-torch (torch.jit.load), python3-onnx (onnx.checker) and OpenCV's DNN module run the
// exported files on the same input as the core's own forward pass, for each architecture family
// and for edge encodings.
#include "pruningnet_module.h" // LibTorch first: Qt defines `slots` (platform.md)

#include <torch/script.h>

#include "metaprune/export.h"

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

struct Case {
    QString name;
    ArchSpec arch;
    Encoding enc;
    PrunedNetwork net;
    torch::Tensor input, reference; // [N, C, H, W] NCHW, [N, classes]
};

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

void writeRaw(const torch::Tensor& t, const QString& path) {
    const torch::Tensor c = t.contiguous();
    std::ofstream(path.toStdString(), std::ios::binary)
        .write(reinterpret_cast<const char*>(c.data_ptr<float>()), std::streamsize(c.numel() * sizeof(float)));
}

torch::Tensor readRaw(const QString& path, const torch::Tensor& like) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray bytes = f.readAll();
    if (bytes.size() != like.numel() * qsizetype(sizeof(float)))
        return {};
    return torch::from_blob(const_cast<char*>(bytes.data()), like.sizes(), torch::kFloat).clone();
}

double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>();
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
    }

    // Exports every case in both formats, runs them with python3-torch and OpenCV DNN, and
    // compares with the core's forward pass.
    void independentRuntimesReproduceTheCore() {
        QJsonArray manifest;
        for (const Case& c : cases) {
            const QString base = tmp.filePath(c.name);
            writeNetwork(c.net, ExportFormat::TorchScript, (base + ".pt").toStdString());
            writeNetwork(c.net, ExportFormat::Onnx, (base + ".onnx").toStdString());
            writeRaw(c.input, base + ".in");
            QJsonObject m;
            m["torchscript"] = base + ".pt";
            m["onnx"] = base + ".onnx";
            m["input"] = base + ".in";
            m["shape"] = QJsonArray{int(c.input.size(0)), int(c.input.size(1)), int(c.input.size(2)),
                                    int(c.input.size(3))};
            m["torch_out"] = base + ".torch.out";
            m["opencv_out"] = base + ".opencv.out";
            m["meta_out"] = base + ".meta.json";
            manifest.append(m);
        }
        QFile mf(tmp.filePath("manifest.json"));
        QVERIFY(mf.open(QIODevice::WriteOnly));
        mf.write(QJsonDocument(manifest).toJson());
        mf.close();

        QProcess py;
        py.setProcessChannelMode(QProcess::MergedChannels);
        py.start("/usr/bin/python3", {QStringLiteral(EXPORT_CHECK_SCRIPT), mf.fileName()});
        QVERIFY2(py.waitForFinished(600000), "python3 did not finish");
        QVERIFY2(py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0,
                 qPrintable("export_check.py failed (needs python3-torch, python3-onnx, python3-opencv):\n" +
                            QString::fromUtf8(py.readAll())));

        for (const Case& c : cases) {
            const QString base = tmp.filePath(c.name);
            const torch::Tensor viaTorch = readRaw(base + ".torch.out", c.reference);
            const torch::Tensor viaOpenCv = readRaw(base + ".opencv.out", c.reference);
            QVERIFY2(viaTorch.defined(), qPrintable(c.name + ": no TorchScript output"));
            QVERIFY2(viaOpenCv.defined(), qPrintable(c.name + ": no OpenCV output"));
            const double dTorch = maxAbsDiff(viaTorch, c.reference);
            const double dCv = maxAbsDiff(viaOpenCv, c.reference);
            QVERIFY2(dTorch < 1e-4, qPrintable(QString("%1: torch.jit.load differs by %2").arg(c.name).arg(dTorch)));
            QVERIFY2(dCv < 1e-4, qPrintable(QString("%1: OpenCV DNN differs by %2").arg(c.name).arg(dCv)));
            // The reference is not degenerate: outputs differ between images and classes.
            QVERIFY2(c.reference.std().item<double>() > 1e-3, qPrintable(c.name));

            QFile meta(base + ".meta.json");
            QVERIFY(meta.open(QIODevice::ReadOnly));
            const QJsonObject m = QJsonDocument::fromJson(meta.readAll()).object();
            QCOMPARE(m["onnx_opset"].toInt(), 13);
            const QJsonArray ops = m["onnx_ops"].toArray();
            QVERIFY(ops.contains("Conv") && ops.contains("Gemm") && ops.contains("GlobalAveragePool"));
            QCOMPARE(ops.contains("Clip"), c.arch.family == "mobilenetv2");
            QCOMPARE(ops.contains("Add"), c.arch.family != "mobilenetv1");
            for (const QJsonValue v : {m["torchscript"], m["onnx"]["metaprune"]}) {
                const QJsonObject d = QJsonDocument::fromJson(v.toString().toUtf8()).object();
                QCOMPARE(d["macs"].toInteger(), qint64(countMacs(c.arch, c.enc)));
                QCOMPARE(d["params"].toInteger(), qint64(countParams(c.arch, c.enc)));
                QCOMPARE(d["encoding"].toArray().size(), qsizetype(c.enc.size()));
                QCOMPARE(d["class_names"].toArray().size(), qsizetype(10));
                QCOMPARE(d["normalization"]["std"].toArray().at(0).toDouble(), 0.25);
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
            QVERIFY2(maxAbsDiff(out, c.reference) < 1e-4, qPrintable(c.name));
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
