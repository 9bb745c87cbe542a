// ONNX import on real architectures nobody here wrote: torchvision's models, exported to ONNX
// inside the test with python3-torchvision (random weights, nothing downloaded). Their MACs are
// checked against an independent counter (forward hooks in Python), each imported network is
// trained as a PruningNet for a few steps on tiny data, searched and exported, and the exports
// run in python3-torch and OpenCV. Also: ShuffleNet's channel shuffle is refused by name, the
// built-in families survive an export/import round trip, and a PruningNet too large for the
// machine is refused before anything is allocated.
#include "pruningnet_module.h" // LibTorch first: Qt defines `slots` (platform.md)

#include "archfixture.h"
#include "exportcheck.h"
#include "toydata.h"

#include "metaprune/evaluator.h"
#include "metaprune/onnx_import.h"
#include "metaprune/search.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <numeric>
#include <set>

using namespace mp;

namespace {

// One model of every classification CNN family of torchvision 0.14 (ShuffleNet to check that
// its channel shuffle is refused, ConvNeXt that its channels-last LayerNorm blocks are), DenseNet
// at three opsets, and a pre-activation network with external data (onnx_corpus.py).
const char* const kCorpus[] = {"resnet18",        "mobilenet_v2",      "mobilenet_v3_small", "efficientnet_b0",
                               "squeezenet1_0",   "regnet_x_400mf",    "vgg11_bn",           "shufflenet_v2_x1_0",
                               "alexnet",         "densenet121",       "densenet121@11",     "densenet121@17",
                               "efficientnet_v2_s", "googlenet",       "inception_v3",       "mnasnet0_5",
                               "resnext50_32x4d", "wide_resnet50_2",   "regnet_y_400mf",     "convnext_tiny",
                               "preact"};

/// The families the import refuses (their messages are checked on their own).
bool refused(const QString& name) { return name == "shufflenet_v2_x1_0" || name == "convnext_tiny"; }

/// The zero-weight full-width network of `arch`, for writing its graph.
PrunedNetwork zeroNetwork(const ArchSpec& arch) {
    PrunedNetwork net;
    net.arch = arch;
    net.encoding = uniformEncoding(arch, grid::kSize - 1);
    net.metadataJson = "{}";
    net.weight.resize(arch.ops.size());
    net.bias.resize(arch.ops.size());
    for (const LayerShape& s : layerShapes(arch, net.encoding)) {
        const bool conv = arch.ops[size_t(s.op)].kind == OpKind::Conv;
        NetworkTensor w;
        w.shape = conv ? std::vector<int64_t>{s.outChannels, s.inChannels / s.groups, s.kernelH, s.kernelW}
                       : std::vector<int64_t>{s.outChannels, s.inChannels};
        w.data.assign(size_t(std::accumulate(w.shape.begin(), w.shape.end(), int64_t(1), std::multiplies<>())), 0.0f);
        net.weight[size_t(s.op)] = w;
        net.bias[size_t(s.op)] = NetworkTensor{{s.outChannels}, std::vector<float>(size_t(s.outChannels), 0.0f)};
    }
    return net;
}

/// The names of the ops whose outputs hold gene `g`'s channels: what a gene ties together.
std::set<std::string> producers(const ArchSpec& a, int g) {
    const std::vector<ValueShape> values = analyzeArchitecture(a);
    std::set<std::string> ops;
    for (size_t i = 0; i < a.ops.size(); ++i)
        for (const Width& w : values[i + 1].segments)
            if (w.gene == g)
                ops.insert(a.ops[i].name);
    return ops;
}

/// Why importOnnx refuses `path` (its ArchError's message), or "accepted".
QString importMessage(const QString& path) {
    try {
        importOnnx(path.toStdString());
    } catch (const ArchError& e) {
        return QString(e.what());
    }
    return QString("accepted");
}

/// The core's own forward pass of an exported network's tensors (BN folded), for comparing
/// with the runtimes that read the files.
torch::Tensor coreForward(const PrunedNetwork& net, const torch::Tensor& input) {
    torch::NoGradGuard noGrad;
    return mp::detail::forwardFolded(net.arch, mp::detail::fromPrunedNetwork(net),
                                     input.contiguous(at::MemoryFormat::ChannelsLast))
        .contiguous();
}

} // namespace

class TestImport : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;
    QJsonObject reference; // per model: macs, conv_weights, linear_params (onnx_corpus.py)

    QString model(const QString& name) const { return tmp.filePath(QString(name).replace('@', '_') + ".onnx"); }

private slots:
    void initTestCase() {
        at::set_num_threads(2);
        QStringList args{QStringLiteral(ONNX_CORPUS_SCRIPT), tmp.path()};
        for (const char* m : kCorpus)
            args << m;
        QProcess py;
        py.start("/usr/bin/python3", args);
        QVERIFY2(py.waitForFinished(900000), "onnx_corpus.py did not finish");
        QVERIFY2(py.exitCode() == 0, qPrintable("onnx_corpus.py failed (needs python3-torchvision):\n" +
                                                QString::fromUtf8(py.readAllStandardError())));
        reference = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
        QCOMPARE(reference.size(), qsizetype(std::size(kCorpus)));
    }

    void macsMatchAnIndependentCounter_data() {
        QTest::addColumn<QString>("name");
        for (const char* m : kCorpus)
            if (!refused(m))
                QTest::newRow(m) << m;
    }
    void macsMatchAnIndependentCounter() {
        QFETCH(QString, name);
        ImportReport report;
        const ArchSpec a = importOnnx(model(name).toStdString(), &report);
        const QJsonObject ref = reference[name].toObject();
        QCOMPARE(qint64(countMacs(a, uniformEncoding(a, 30))), ref["macs"].toInteger());
        QCOMPARE(a.inChannels, 3);
        QCOMPARE(a.inHeight, ref["height"].toInt());
        QCOMPARE(a.classes, ref["classes"].toInt());
        QVERIFY(a.genes.size() >= (name == "preact" ? 3 : 5));
        QVERIFY(countMacs(a, uniformEncoding(a, 0)) < countMacs(a, uniformEncoding(a, 30)) / 10);
        QVERIFY(!report.notes.empty() && QString::fromStdString(report.notes[0]).contains("weights in the file are not used"));
        // A graph without batch norm after its convs may never have had one (alexnet): the note
        // does not claim that the exporter folded it.
        if (name == "alexnet") {
            QCOMPARE(report.convBatchNorms, 0);
            QVERIFY2(QString::fromStdString(report.notes.back())
                         .startsWith("the graph has no batch norm after its convs (the model has none, or the exporter "
                                     "folded it into the convs)"),
                     report.notes.back().c_str());
        }
        // The description is a file like any other: it round-trips.
        QCOMPARE(toArchitectureJson(architectureFromJson(toArchitectureJson(a))), toArchitectureJson(a));
    }

    void tiesFollowTheGraph() {
        // ResNet-18: the stem and every stage's residual adds share one gene per stage (4),
        // each block's first conv its own (8): 12 genes, 4 of them tied by adds.
        const ArchSpec r = importOnnx(model("resnet18").toStdString());
        QCOMPARE(r.genes.size(), size_t(12));
        QCOMPARE(std::count_if(r.genes.begin(), r.genes.end(), [](const Gene& g) { return g.kind == GeneKind::Stage; }),
                 4L);
        // MobileNetV3: every SE block's expand conv is tied to the tensor it gates and its
        // squeeze gets a gene of its own; SE convs keep a bias instead of batch norm.
        const ArchSpec m = importOnnx(model("mobilenet_v3_small").toStdString());
        const std::vector<ValueShape> values = analyzeArchitecture(m);
        int gates = 0;
        for (size_t i = 0; i < m.ops.size(); ++i) {
            const Op& op = m.ops[i];
            if (op.kind != OpKind::Mul)
                continue;
            ++gates;
            const Op& excite = m.ops[size_t(op.inputs[1] - 1)];
            QCOMPARE(excite.kind, OpKind::Conv);
            QVERIFY(!excite.batchNorm);
            QCOMPARE(excite.act, Activation::HardSigmoid);
            QCOMPARE(values[size_t(op.inputs[1])].segments, values[size_t(op.inputs[0])].segments);
        }
        QCOMPARE(gates, 9); // mobilenet_v3_small has 9 SE blocks
        // RegNet's grouped convs keep whole groups: their genes come in multiples of 16.
        const ArchSpec g = importOnnx(model("regnet_x_400mf").toStdString());
        int grouped = 0;
        for (const Op& op : g.ops)
            if (op.kind == OpKind::Conv && op.groupWidth > 1) {
                ++grouped;
                QCOMPARE(op.groupWidth, 16);
            }
        QVERIFY(grouped > 0);
        for (const Gene& gene : g.genes)
            for (int i = 0; i < grid::kSize; ++i)
                QCOMPARE(geneChannelsAt(gene, i) % gene.quantum, 0);
        // SqueezeNet's Concat joins the two expand widths; its classifier conv keeps a bias.
        const ArchSpec s = importOnnx(model("squeezenet1_0").toStdString());
        QVERIFY(std::any_of(s.ops.begin(), s.ops.end(), [](const Op& op) { return op.kind == OpKind::Concat; }));
        const auto classifier = std::find_if(s.ops.begin(), s.ops.end(),
                                             [](const Op& op) { return op.kind == OpKind::Conv && op.out.fixed == kClassesWidth; });
        QVERIFY(classifier != s.ops.end() && !classifier->batchNorm);
    }

    // DenseNet at three opsets: every norm1 after a concatenation, the transitions' norms and
    // norm5 are batch norms of their own over each part's gene (58 + 3 + 1); the convs' norms
    // were folded by the exporter; the transitions' zero Pads (opsets 11, 17) are no ops. The
    // pre-activation network: BN -> ReLU before a conv, a BN after the residual add, and a
    // constant Pad of 0.5.
    void batchNormsAndPadsOfTheirOwn_data() {
        QTest::addColumn<QString>("name");
        for (const char* m : {"densenet121", "densenet121@11", "densenet121@17"})
            QTest::newRow(m) << m;
    }
    void batchNormsAndPadsOfTheirOwn() {
        QFETCH(QString, name);
        ImportReport report;
        const ArchSpec d = importOnnx(model(name).toStdString(), &report);
        const std::vector<ValueShape> values = analyzeArchitecture(d);
        int norms = 0, multi = 0;
        for (size_t i = 0; i < d.ops.size(); ++i) {
            const Op& op = d.ops[i];
            QVERIFY2(op.kind != OpKind::Pad, op.name.c_str());
            if (op.kind != OpKind::BatchNorm)
                continue;
            ++norms;
            QCOMPARE(op.act, Activation::ReLU); // BN -> ReLU, fused
            QCOMPARE(values[i + 1].segments, values[size_t(op.inputs[0])].segments);
            multi += values[i + 1].segments.size() > 1;
        }
        QCOMPARE(norms, 62);
        QCOMPARE(report.standaloneBatchNorms, 62);
        QCOMPARE(multi, 58); // all but the first layer of each of the 4 blocks, which reads one value
        // denselayer3 of block 1 normalises the stem's 64 channels and two growth genes of 32.
        const auto l3 = std::find_if(d.ops.begin(), d.ops.end(), [](const Op& op) {
            return op.kind == OpKind::BatchNorm && op.name.find("denseblock1.denselayer3") != std::string::npos;
        });
        QVERIFY(l3 != d.ops.end());
        const ValueShape& in3 = values[size_t(l3->inputs[0])];
        QCOMPARE(in3.segments.size(), size_t(3));
        QCOMPARE(in3.maxChannels, 64 + 32 + 32);

        const ArchSpec p = importOnnx(model("preact").toStdString(), &report);
        std::vector<OpKind> kinds;
        for (const Op& op : p.ops)
            kinds.push_back(op.kind);
        const std::vector<OpKind> expected = {OpKind::Conv,      OpKind::BatchNorm, OpKind::Conv,    OpKind::Conv,
                                              OpKind::Add,       OpKind::BatchNorm, OpKind::Conv,    OpKind::Pad,
                                              OpKind::MaxPool,   OpKind::Linear};
        QVERIFY(kinds == expected);
        QCOMPARE(p.ops[7].padH, 1);
        QCOMPARE(p.ops[7].padW, 1);
        QCOMPARE(p.ops[7].padValue, 0.5f);
    }

    // Tensors stored beside the model (ONNX external data) are read from the model's folder,
    // the Reshape's shape among them; a missing or cut-off data file is named with its tensor.
    void externalDataIsReadAndAMissingFileNamed() {
        QVERIFY(QFile::exists(tmp.filePath("preact.onnx.data")));
        QDir().mkpath(tmp.filePath("moved"));
        const QString moved = tmp.filePath("moved/preact.onnx");
        QVERIFY(QFile::copy(model("preact"), moved));
        const QString missing = importMessage(moved);
        QVERIFY2(missing.contains("tensor '") && missing.contains("is stored in '" +
                                                                 tmp.filePath("moved/preact.onnx.data") +
                                                                 "', which does not exist"),
                 qPrintable(missing));
        QFile cut(tmp.filePath("moved/preact.onnx.data"));
        QVERIFY(cut.open(QIODevice::WriteOnly));
        cut.write(QByteArray(100, '\0'));
        cut.close();
        const QString truncated = importMessage(moved);
        QVERIFY2(truncated.contains("which holds 100 (a truncated external data file?)"), qPrintable(truncated));
    }

    void convNeXtIsRefusedByName() {
        const QString m = importMessage(model("convnext_tiny"));
        QVERIFY2(m.contains("node '/features/features.0/features.0.1/Transpose' (Transpose: channel shuffle or a "
                            "layout change"),
                 qPrintable(m));
    }

    void channelShuffleIsRefusedByName() {
        try {
            importOnnx(model("shufflenet_v2_x1_0").toStdString());
            QFAIL("ShuffleNet's channel shuffle was accepted");
        } catch (const ArchError& e) {
            const QString m = e.what();
            QVERIFY2(m.contains("node '/stage2/stage2.0/Transpose' (Transpose") && m.contains("supported ops: Conv"),
                     e.what());
        }
    }

    void vggSizeIsReportedAndItsSizeIsFixed() {
        const ArchSpec v = importOnnx(model("vgg11_bn").toStdString());
        const PruningNetSize size = pruningNetSize(v, 128);
        // Linear layers are shared weights sliced to their pruned widths (not generated).
        QCOMPARE(qint64(size.parameters - size.generatorParameters), reference["vgg11_bn"].toObject()["linear_params"].toInteger());
        // Every conv weight has a generator row of 32 hidden weights and a bias, plus the
        // generator's first layer (condition genes + 1 bias) x 32.
        int64_t first = 0;
        for (const Op& op : v.ops)
            if (op.kind == OpKind::Conv)
                first += (int64_t(std::max<size_t>(1, op.condition.size())) + 1) * 32;
        QCOMPARE(qint64(size.generatorParameters), 33 * reference["vgg11_bn"].toObject()["conv_weights"].toInteger() + first);
        QCOMPARE(size.weightBytes, 4 * size.parameters);
        try {
            resizeArchitecture(v, 3, 32, 32, 10);
            QFAIL("VGG's classifier flattens a 7x7 map: another size must be refused");
        } catch (const ArchError& e) {
            QVERIFY2(QString(e.what()).contains("needs 224x224 input"), e.what());
        }
    }

    void tooLargeAPruningNetIsRefusedBeforeAllocating() {
        QJsonObject root = QJsonDocument::fromJson(test::kMixArchJson).object();
        QJsonArray genes = root["genes"].toArray();
        QJsonObject b = genes[2].toObject();
        b["max_channels"] = 2000000; // the b conv's generator alone: 2e6 x 8 x 9 x 33 floats
        genes[2] = b;
        root["genes"] = genes;
        TrainConfig cfg = test::toyConfig();
        cfg.family = "mixnet";
        cfg.preset = "file";
        cfg.architecture = QJsonDocument(root).toJson(QJsonDocument::Compact).toStdString();
        const ArchSpec big = architectureOf(cfg, 1, 16, 16, 4);
        QVERIFY(pruningNetSize(big, cfg.batchSize).trainingBytes() > availableMemoryBytes());
        const DataBundle data = test::toyBundle();
        try {
            trainPruningNet(data, cfg, tmp.filePath("big.pt").toStdString());
            QFAIL("a PruningNet larger than the machine was trained");
        } catch (const ConfigError& e) {
            QVERIFY2(QString(e.what()).contains("will not fit") && QString(e.what()).contains("MiB available"), e.what());
        }
        QVERIFY(!QFile::exists(tmp.filePath("big.pt")));
    }

    void builtInFamiliesRoundTrip_data() {
        QTest::addColumn<QString>("family");
        QTest::addColumn<int>("extra"); // widths the built-in keeps fixed, which an import prunes
        QTest::newRow("mobilenetv2") << "mobilenetv2" << 1; // the last 1x1 conv (384)
        QTest::newRow("mobilenetv1") << "mobilenetv1" << 1; // the last block's pointwise conv
        QTest::newRow("resnet") << "resnet" << 0;
    }
    void builtInFamiliesRoundTrip() {
        QFETCH(QString, family);
        QFETCH(int, extra);
        const ArchSpec a = makeArchitecture(family.toStdString(), "small", 3, 32, 32, 10);
        const QString path = tmp.filePath(family + "-builtin.onnx");
        writeNetwork(zeroNetwork(a), ExportFormat::Onnx, path.toStdString());
        const ArchSpec b = importOnnx(path.toStdString());
        QCOMPARE(b.genes.size(), a.genes.size() + size_t(extra));
        // The same genes up to names: each built-in gene ties the same ops as one imported gene;
        // the imported genes left over are the widths the built-in keeps fixed.
        std::vector<int> map(a.genes.size(), -1);
        std::vector<bool> mapped(b.genes.size(), false);
        for (size_t g = 0; g < a.genes.size(); ++g) {
            const std::set<std::string> ops = producers(a, int(g));
            for (size_t h = 0; h < b.genes.size(); ++h)
                if (producers(b, int(h)) == ops) {
                    map[g] = int(h);
                    mapped[h] = true;
                }
            QVERIFY2(map[g] >= 0, a.genes[g].name.c_str());
            QCOMPARE(b.genes[size_t(map[g])].maxChannels, a.genes[g].maxChannels);
        }
        QCOMPARE(int(std::count(mapped.begin(), mapped.end(), false)), extra);
        std::mt19937_64 rng(7);
        for (int i = 0; i < 20; ++i) {
            const Encoding ea = randomEncoding(a, rng);
            Encoding eb(b.genes.size(), grid::kSize - 1); // widths the built-in keeps fixed: full
            for (size_t g = 0; g < a.genes.size(); ++g)
                eb[size_t(map[g])] = ea[g];
            QCOMPARE(countMacs(b, eb), countMacs(a, ea));
        }
    }

    // The corpus end to end at the data's size (3x32x32 toy images): a PruningNet trained for a
    // few steps, a search at 50% MACs, the best structure exported and run by python3-torch and
    // OpenCV DNN.
    void endToEnd_data() {
        QTest::addColumn<QString>("name");
        for (const char* m : {"resnet18", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "squeezenet1_0",
                              "regnet_x_400mf", "densenet121", "preact"})
            QTest::newRow(m) << m;
    }
    void endToEnd() {
        QFETCH(QString, name);
        const ArchSpec imported = importOnnx(model(name).toStdString());
        TrainConfig cfg = test::toyConfig();
        cfg.family = imported.family;
        cfg.preset = "file";
        cfg.architecture =
            QJsonDocument::fromJson(QByteArray::fromStdString(toArchitectureJson(imported))).toJson(QJsonDocument::Compact).toStdString();
        cfg.epochs = 1;
        cfg.batchSize = 16;
        cfg.searchPerClass = 4;
        cfg.warmupSteps = 2;
        DataBundle data;
        data.path = "toy";
        data.format = "toy";
        data.train = test::toyData(24, 1, 3, 32);
        data.test = test::toyData(6, 2, 3, 32);
        const std::string ckpt = tmp.filePath(name + ".pt").toStdString();
        const TrainOutcome trained = trainPruningNet(data, cfg, ckpt);
        QVERIFY(trained.finished);
        QCOMPARE(trained.steps, int64_t((24 - 4) * 4 / 16));

        EvalSettings eval;
        eval.recalBatches = 2;
        eval.recalBatchSize = 16;
        eval.evalImages = 16;
        eval.batchSize = 16;
        const Evaluator ev(ckpt, data, eval);
        QCOMPARE(ev.arch().inHeight, 32);
        SearchConfig search;
        search.population = 4;
        search.parents = 2;
        search.mutations = 1;
        search.crossovers = 1;
        search.generations = 2;
        search.uniformBaselines = false;
        search.maxMacs = countMacs(ev.arch(), uniformEncoding(ev.arch(), 30)) / 2;
        search.eval = eval;
        Store store(tmp.filePath(name + ".sqlite").toStdString());
        const int64_t run = store.findOrCreateRun(searchRunRecord(ev, search, 0));
        const EvaluateFn evaluate = [&ev](const Encoding& e, const std::atomic<bool>* c) {
            return ev.evaluate(e, EvalSplit::Search, c);
        };
        const SearchOutcome out = runSearch(ev.arch(), evaluate, store, run, search);
        QVERIFY(out.finished);
        QVERIFY(out.best.has_value());
        QVERIFY(out.best->macs <= search.maxMacs);

        test::ExportCase c;
        c.name = name + "-best";
        c.arch = ev.arch();
        c.enc = out.best->genes;
        c.net = ev.prunedNetwork(c.enc);
        c.input = torch::randn({2, 3, 32, 32});
        c.reference = coreForward(c.net, c.input);
        c.opencvOptional = true; // OpenCV 4.6 cannot read every valid graph (a one-channel SE gate)
        std::vector<test::ExportCase> cases{c};
        const QString failure = test::runIndependentRuntimes(cases, tmp.path());
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        const test::ExportCase& r = cases[0];
        QVERIFY(r.viaTorch.defined());
        const double scale = std::max(1.0, r.reference.abs().max().item<double>());
        const double dTorch = test::maxAbsDiff(r.viaTorch, r.reference);
        QVERIFY2(dTorch < 1e-4 * scale, qPrintable(QString("%1: torch.jit.load differs by %2").arg(name).arg(dTorch)));
        if (r.viaOpenCv.defined()) {
            const double dCv = test::maxAbsDiff(r.viaOpenCv, r.reference);
            QVERIFY2(dCv < 1e-4 * scale, qPrintable(QString("%1: OpenCV DNN differs by %2").arg(name).arg(dCv)));
        } else {
            QVERIFY(r.meta["opencv_error"].toString().contains("OpenCV(4.6.0)"));
            qInfo("%s: OpenCV 4.6 cannot read this graph: %s", qPrintable(name),
                  qPrintable(r.meta["opencv_error"].toString()));
        }
        const QJsonObject meta =
            QJsonDocument::fromJson(cases[0].meta["onnx"].toObject()["metaprune"].toString().toUtf8()).object();
        QCOMPARE(meta["macs"].toInteger(), qint64(out.best->macs));
        QCOMPARE(meta["macs"].toInteger(), qint64(countMacs(ev.arch(), c.enc)));
    }

    void damagedFilesAreNamed() {
        const QString junk = tmp.filePath("junk.onnx");
        QFile f(junk);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("definitely not a protobuf");
        f.close();
        try {
            importOnnx(junk.toStdString());
            QFAIL("accepted a file that is not ONNX");
        } catch (const ArchError& e) {
            QVERIFY2(QString(e.what()).contains("junk.onnx") && QString(e.what()).contains("not an ONNX model"), e.what());
        }
        QCOMPARE(importMessage(tmp.filePath("missing.onnx")), tmp.filePath("missing.onnx") + ": no such file");
        QCOMPARE(importMessage(tmp.path()), tmp.path() + ": is a folder, not an ONNX model file");
    }
};

QTEST_GUILESS_MAIN(TestImport)
#include "tst_import.moc"
