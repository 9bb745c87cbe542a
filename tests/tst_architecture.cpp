// The architecture description: scale grid, gene layout, MACs/params against hand-computed
// values (depthwise, grouped, concatenated and gated layers included), canonical encodings,
// encoding text, and the architecture file: round trips and every kind of malformed file.
#include "archfixture.h"

#include "metaprune/architecture.h"
#include "metaprune/search.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <map>

using namespace mp;

class TestArchitecture : public QObject {
    Q_OBJECT
private slots:
    void gridChannels_data() {
        QTest::addColumn<int>("maxChannels");
        QTest::addColumn<int>("index");
        QTest::addColumn<int>("expected");
        QTest::newRow("44 at 0.10") << 44 << 0 << 4;       // 4.4 floored
        QTest::newRow("44 at 1.00") << 44 << 30 << 44;
        QTest::newRow("448 at 0.55") << 448 << 15 << 246;  // 246.4
        QTest::newRow("24 at 0.10") << 24 << 0 << 2;       // 2.4
        QTest::newRow("16 at 0.10") << 16 << 0 << 1;       // 1.6
        QTest::newRow("5 at 0.10 clamps") << 5 << 0 << 1;  // 0.5 -> at least one channel
        QTest::newRow("100 at 0.70") << 100 << 20 << 70;   // exact, no float rounding down to 69
        QTest::newRow("1280 at 0.28") << 1280 << 6 << 358; // 358.4
    }
    void gridChannels() {
        QFETCH(int, maxChannels);
        QFETCH(int, index);
        QFETCH(int, expected);
        QCOMPARE(grid::channels(maxChannels, index), expected);
    }

    void gridRange() {
        QCOMPARE(grid::kSize, 31);
        QCOMPARE(grid::scale(0), 0.10);
        QCOMPARE(grid::scale(30), 1.00);
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, grid::scale(31));
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, grid::channels(10, -1));
    }

    void paperGeneLayout() {
        const ArchSpec a = makeArchitecture("mobilenetv2", "paper", 3, 224, 224, 1000);
        // 8 stage genes (stem + 7 stages) + 17 mid genes, as in the reference code.
        QCOMPARE(int(a.genes.size()), 25);
        const std::vector<int> stageMax = {44, 22, 33, 44, 88, 132, 224, 448};
        for (int s = 0; s < 8; ++s) {
            QCOMPARE(a.genes[size_t(s)].kind, GeneKind::Stage);
            QCOMPARE(a.genes[size_t(s)].maxChannels, stageMax[size_t(s)]);
        }
        // Mid width = block input width x expansion: block1 44x1, block2 22x6, block3 33x6.
        QCOMPARE(a.genes[8].maxChannels, 44);
        QCOMPARE(a.genes[9].maxChannels, 132);
        QCOMPARE(a.genes[10].maxChannels, 198);
        QCOMPARE(a.genes[24].maxChannels, 224 * 6);
    }

    void paperFullMacs() {
        // 569,521,240 MACs: computed independently with a Python walk of the reference layer list.
        const ArchSpec a = makeArchitecture("mobilenetv2", "paper", 3, 224, 224, 1000);
        QCOMPARE(countMacs(a, uniformEncoding(a, 30)), int64_t(569521240));
        // Conv weights 5,265,838 (same walk) + classifier bias 1000.
        QCOMPARE(countParams(a, uniformEncoding(a, 30)), int64_t(5265838 + 1000));
    }

    void smallFullMacs() {
        // 4,467,520 MACs: the same independent Python walk as for the paper preset.
        const ArchSpec a = makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        QCOMPARE(countMacs(a, uniformEncoding(a, 30)), int64_t(4467520));
    }

    void otherFamiliesFullMacs_data() {
        QTest::addColumn<QString>("family");
        QTest::addColumn<QString>("preset");
        QTest::addColumn<int>("channels");
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("classes");
        QTest::addColumn<qint64>("macs");
        // Independent Python walks of the layer lists; ResNet-50's 4,089,184,256 is also the
        // figure commonly quoted for torchvision's resnet50, MobileNetV1's 569 M the paper's.
        QTest::newRow("mobilenetv1 paper") << "mobilenetv1" << "paper" << 3 << 224 << 1000 << qint64(568740352);
        QTest::newRow("mobilenetv1 small") << "mobilenetv1" << "small" << 1 << 28 << 10 << qint64(4567424);
        QTest::newRow("resnet paper (ResNet-50)") << "resnet" << "paper" << 3 << 224 << 1000 << qint64(4089184256);
        QTest::newRow("resnet small (ResNet-20)") << "resnet" << "small" << 3 << 32 << 10 << qint64(41075328);
    }
    void otherFamiliesFullMacs() {
        QFETCH(QString, family);
        QFETCH(QString, preset);
        QFETCH(int, channels);
        QFETCH(int, size);
        QFETCH(int, classes);
        QFETCH(qint64, macs);
        const ArchSpec a = makeArchitecture(family.toStdString(), preset.toStdString(), channels, size, size, classes);
        QCOMPARE(countMacs(a, uniformEncoding(a, 30)), int64_t(macs));
    }

    void geneLayouts() {
        // MobileNetV1: the stem and 12 pointwise outputs (the last block stays 1024 wide).
        const ArchSpec v1 = makeArchitecture("mobilenetv1", "paper", 3, 224, 224, 1000);
        QCOMPARE(int(v1.genes.size()), 13);
        // ResNet-50: stem + 4 stage genes + 16 mid genes (3 + 4 + 6 + 3 blocks).
        const ArchSpec r50 = makeArchitecture("resnet", "paper", 3, 224, 224, 1000);
        QCOMPARE(int(r50.genes.size()), 21);
        QCOMPARE(r50.genes[4].maxChannels, 2048);
        QCOMPARE(r50.genes[5].maxChannels, 64); // block1.mid = 256 / 4
        const ArchSpec r20 = makeArchitecture("resnet", "small", 3, 32, 32, 10);
        QCOMPARE(int(r20.genes.size()), 4 + 9);
    }

    void resnet20AllMinByHand() {
        // Index 0 everywhere: stem 16 -> 1, stages 16/32/64 -> 1/3/6, mids 1, 3, 6 per stage.
        const ArchSpec a = makeArchitecture("resnet", "small", 3, 32, 32, 10);
        const Encoding e = uniformEncoding(a, 0);
        const std::vector<LayerShape> s = layerShapes(a, e);
        QCOMPARE(s[0].macs, int64_t(32 * 32 * 9 * 3 * 1));       // stem
        QCOMPARE(s[1].macs, int64_t(32 * 32 * 9 * 1 * 1));       // block1.conv1 (16 -> mid 1)
        QCOMPARE(s[3].macs, int64_t(32 * 32 * 1 * 1 * 1));       // block1.shortcut, 1x1
        // Shapes run stem, then per block conv1, conv2 (and the stage's first block's shortcut).
        QCOMPARE(s[8].macs, int64_t(16 * 16 * 9 * 1 * 3));       // block4.conv1, stride 2: 1 -> 3
        QCOMPARE(s[9].macs, int64_t(16 * 16 * 9 * 3 * 3));       // block4.conv2
        QCOMPARE(s[10].macs, int64_t(16 * 16 * 1 * 3));          // block4.shortcut, stride 2
        QCOMPARE(s.back().macs, int64_t(6 * 10));                 // classifier on the pruned last stage
        QCOMPARE(s.back().params, int64_t(6 * 10 + 10));
    }

    void residualAddsNeverMismatch_data() {
        QTest::addColumn<QString>("family");
        QTest::addColumn<QString>("preset");
        for (const char* f : {"mobilenetv2", "resnet"})
            for (const char* p : {"small", "paper"})
                QTest::newRow((std::string(f) + " " + p).c_str()) << f << p;
    }
    void residualAddsNeverMismatch() {
        QFETCH(QString, family);
        QFETCH(QString, preset);
        const ArchSpec a = makeArchitecture(family.toStdString(), preset.toStdString(), 3, 64, 64, 10);
        std::mt19937_64 rng(19);
        for (int trial = 0; trial < 50; ++trial) {
            const Encoding e = trial == 0 ? uniformEncoding(a, 0) : randomEncoding(a, rng);
            // Channels of every value, walked independently of layerShapes().
            std::vector<int> ch(a.ops.size() + 1);
            ch[0] = a.inChannels;
            std::map<int, LayerShape> shape;
            for (const LayerShape& s : layerShapes(a, e))
                shape[s.op] = s;
            int adds = 0;
            for (size_t i = 0; i < a.ops.size(); ++i) {
                const Op& op = a.ops[i];
                const int in = ch[size_t(op.inputs[0])];
                if (op.kind == OpKind::Conv) {
                    QCOMPARE(shape.at(int(i)).inChannels, in); // a conv reads what its input holds
                    ch[i + 1] = op.depthwise() ? in : widthChannels(a, op.out, e);
                    QCOMPARE(shape.at(int(i)).outChannels, ch[i + 1]);
                } else if (op.kind == OpKind::Add) {
                    QCOMPARE(ch[size_t(op.inputs[1])], in);
                    ch[i + 1] = in;
                    ++adds;
                } else if (op.kind == OpKind::Linear) {
                    QCOMPARE(shape.at(int(i)).inChannels, in); // after a global pool: 1x1
                    ch[i + 1] = a.classes;
                } else {
                    ch[i + 1] = in;
                }
            }
            QVERIFY(adds > 0);
        }
    }

    void smallAllMinByHand() {
        // Every gene at index 0: stage widths 2,1,2,3,4,6,9; mid widths 2,6,9,9,12,12,19,19,25,25.
        // 28x28 input, stride-2 stem -> 14x14; strides 2 at block2 (7x7) and block6 (4x4).
        const ArchSpec a = makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        const Encoding e = uniformEncoding(a, 0);
        const std::vector<int64_t> expected = {
            14 * 14 * 9 * 1 * 2,                      // stem
            196 * 2 * 2,  196 * 9 * 2,  196 * 2 * 1,  // block1
            196 * 1 * 6,  49 * 9 * 6,   49 * 6 * 2,   // block2 (stride 2)
            49 * 2 * 9,   49 * 9 * 9,   49 * 9 * 2,   // block3
            49 * 2 * 9,   49 * 9 * 9,   49 * 9 * 3,   // block4
            49 * 3 * 12,  49 * 9 * 12,  49 * 12 * 3,  // block5
            49 * 3 * 12,  16 * 9 * 12,  16 * 12 * 4,  // block6 (stride 2)
            16 * 4 * 19,  16 * 9 * 19,  16 * 19 * 4,  // block7
            16 * 4 * 19,  16 * 9 * 19,  16 * 19 * 6,  // block8
            16 * 6 * 25,  16 * 9 * 25,  16 * 25 * 6,  // block9
            16 * 6 * 25,  16 * 9 * 25,  16 * 25 * 9,  // block10
            16 * 9 * 384,                             // last 1x1
            384 * 10,                                 // classifier
        };
        const std::vector<LayerShape> shapes = layerShapes(a, e);
        QCOMPARE(shapes.size(), expected.size());
        int64_t total = 0;
        for (size_t i = 0; i < shapes.size(); ++i) {
            QCOMPARE(shapes[i].macs, expected[i]);
            total += expected[i];
        }
        QCOMPARE(countMacs(a, e), total);
        QCOMPARE(total, int64_t(125709));
        // Params: conv weights are MACs / (Hout*Wout); classifier 384*10 + 10 bias.
        int64_t params = 0;
        for (const LayerShape& s : shapes)
            params += s.params;
        QCOMPARE(countParams(a, e), params);
        QCOMPARE(shapes.back().params, int64_t(384 * 10 + 10));
        QCOMPARE(shapes[0].params, int64_t(9 * 1 * 2));
    }

    void depthwiseCountsKkCHW() {
        const ArchSpec a = makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        const Encoding full = uniformEncoding(a, 30);
        for (const LayerShape& s : layerShapes(a, full)) {
            const Op& op = a.ops[size_t(s.op)];
            if (!op.depthwise())
                continue;
            QCOMPARE(s.groups, s.inChannels);
            QCOMPARE(s.outChannels, s.inChannels);
            QCOMPARE(s.macs, int64_t(s.kernelH) * s.kernelW * s.inChannels * s.outHeight * s.outWidth);
            QCOMPARE(s.params, int64_t(s.kernelH) * s.kernelW * s.inChannels);
        }
        // block2.depthwise at full width: 64 channels, stride 2 -> 7x7: 9*64*49.
        const std::vector<LayerShape> shapes = layerShapes(a, full);
        QCOMPARE(shapes[5].macs, int64_t(9 * 64 * 49));
    }

    void residualAddsShareStageGene() {
        for (const char* preset : {"small", "paper"}) {
            const ArchSpec a = makeArchitecture("mobilenetv2", preset, 3, 32, 32, 10);
            int adds = 0;
            const std::vector<ValueShape> values = analyzeArchitecture(a);
            for (const Op& op : a.ops) {
                if (op.kind != OpKind::Add)
                    continue;
                ++adds;
                // Both inputs of an add hold the same stage gene's channels.
                const std::vector<Width>& first = values[size_t(op.inputs[0])].segments;
                QCOMPARE(first.size(), size_t(1));
                QVERIFY(first[0].gene >= 0);
                QCOMPARE(a.genes[size_t(first[0].gene)].kind, GeneKind::Stage);
                QCOMPARE(values[size_t(op.inputs[1])].segments[0].gene, first[0].gene);
            }
            QVERIFY(adds > 0);
        }
    }

    void macsMonotoneInEveryGene() {
        const ArchSpec a = makeArchitecture("mobilenetv2", "small", 3, 32, 32, 100);
        std::mt19937_64 rng(11);
        for (int trial = 0; trial < 20; ++trial) {
            Encoding e = randomEncoding(a, rng);
            const size_t g = size_t(trial) % e.size();
            if (e[g] == 30)
                e[g] = 29;
            const int64_t before = countMacs(a, e);
            Encoding up = e;
            up[g] += 1;
            QVERIFY(countMacs(a, up) >= before);
        }
    }

    void canonicalEncoding() {
        const ArchSpec a = makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        // stage1 has max 16 channels: indices 0 (1.6) and 1 (2.08) give 1 and 2 channels;
        // indices 1 and 2 (2.56) both give 2 channels, so index 2 canonicalises to 1.
        Encoding e = uniformEncoding(a, 30);
        e[1] = 2;
        const Encoding c = mp::canonicalEncoding(a, e);
        QCOMPARE(c[1], 1);
        QCOMPARE(geneChannels(a, c), geneChannels(a, e));
        QCOMPARE(countMacs(a, c), countMacs(a, e));
        QCOMPARE(mp::canonicalEncoding(a, c), c);
    }

    void encodingText() {
        const ArchSpec a = makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        std::mt19937_64 rng(3);
        const Encoding e = randomEncoding(a, rng);
        QCOMPARE(parseEncoding(a, encodingToString(e)), e);
        QCOMPARE(parseEncoding(a, " 1, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17")[16], 17);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parseEncoding(a, "1,2,3"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parseEncoding(a, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,31"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parseEncoding(a, "1,2,x,4,5,6,7,8,9,10,11,12,13,14,15,16,17"));
        try {
            validateEncoding(a, Encoding(17, 40));
            QFAIL("no error for an out-of-range gene");
        } catch (const std::invalid_argument& err) {
            QVERIFY(QString(err.what()).contains("stage0"));
        }
    }

    void inputFollowsData() {
        const ArchSpec a = makeArchitecture("mobilenetv2", "small", 3, 32, 32, 100);
        const std::vector<LayerShape> s = layerShapes(a, uniformEncoding(a, 30));
        QCOMPARE(s.front().inChannels, 3);
        QCOMPARE(s.front().outHeight, 16);
        QCOMPARE(s.back().outChannels, 100);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, makeArchitecture("mobilenetv2", "huge", 3, 32, 32, 10));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, makeArchitecture("mobilenetv2", "small", 0, 32, 32, 10));
    }

    void fileRoundTripsEveryBuiltIn_data() {
        QTest::addColumn<QString>("family");
        QTest::addColumn<QString>("preset");
        for (const auto& [family, presets] : availableArchitectures())
            for (const std::string& preset : presets)
                QTest::newRow((family + "/" + preset).c_str())
                    << QString::fromStdString(family) << QString::fromStdString(preset);
    }
    void fileRoundTripsEveryBuiltIn() {
        QFETCH(QString, family);
        QFETCH(QString, preset);
        const ArchSpec a = makeArchitecture(family.toStdString(), preset.toStdString(), 3, 64, 64, 10);
        const std::string text = toArchitectureJson(a);
        const ArchSpec b = architectureFromJson(text);
        QCOMPARE(toArchitectureJson(b), text); // byte for byte
        QCOMPARE(b.genes.size(), a.genes.size());
        for (size_t g = 0; g < a.genes.size(); ++g) {
            QCOMPARE(b.genes[g].name, a.genes[g].name);
            QCOMPARE(b.genes[g].maxChannels, a.genes[g].maxChannels);
            QCOMPARE(b.genes[g].kind, a.genes[g].kind);
        }
        std::mt19937_64 rng(3);
        for (int i = 0; i < 20; ++i) {
            const Encoding e = randomEncoding(a, rng);
            QCOMPARE(countMacs(b, e), countMacs(a, e));
            QCOMPARE(countParams(b, e), countParams(a, e));
        }
    }

    void mixedOpsByHand() {
        const ArchSpec a = architectureFromJson(test::kMixArchJson);
        QCOMPARE(countMacs(a, uniformEncoding(a, 30)), int64_t(test::kMixFullMacs));
        QCOMPARE(countParams(a, uniformEncoding(a, 30)), int64_t(test::kMixFullParams));
        // All minimum: 1 channel per gene, but the grouped conv's gene keeps a whole group of 2.
        const Encoding least = uniformEncoding(a, 0);
        QCOMPARE(geneChannels(a, least), (std::vector<int>{1, 1, 1, 2, 1, 1}));
        QCOMPARE(countMacs(a, least), int64_t(test::kMixMinMacs));
        // The depthwise conv over the concatenation reads both branches' leading channels.
        Encoding e = uniformEncoding(a, 30);
        e[1] = 15; // a: floor(6 * 0.55) = 3 of 6
        e[2] = 0;  // b: 1 of 4
        std::map<std::string, LayerShape> by;
        for (const LayerShape& s : layerShapes(a, e))
            by[a.ops[size_t(s.op)].name] = s;
        QCOMPARE(by["dw"].inChannels, 4);
        QCOMPARE(by["dw"].groups, 4);
        QCOMPARE(by["dw"].inRanges, (std::vector<ChannelRange>{{0, 3}, {6, 1}}));
        QCOMPARE(by["dw"].outRanges, by["dw"].inRanges);
        QCOMPARE(by["mix"].inRanges, (std::vector<ChannelRange>{{0, 3}, {6, 1}}));
        QCOMPARE(by["group"].groups, 4); // 8 channels in groups of 2
        // fc1 reads the 8 x 2 x 2 pooled map flattened: channel c covers features [4c, 4c + 4).
        e = uniformEncoding(a, 30);
        e[3] = 10; // mix: floor(8 * 0.4) = 3 -> 2, a whole group
        for (const LayerShape& s : layerShapes(a, e))
            if (a.ops[size_t(s.op)].name == "fc1") {
                QCOMPARE(s.inChannels, 2 * 4);
                QCOMPARE(s.inRanges, (std::vector<ChannelRange>{{0, 8}}));
            }
        QCOMPARE(mp::canonicalEncoding(a, e)[3], 0); // 2 channels already at index 0
    }

    void resizeFollowsTheDataUnlessAMapIsFlattened() {
        const ArchSpec a = architectureFromJson(test::kMixArchJson);
        // fc1 flattens a 2x2 map: the input size is fixed.
        try {
            resizeArchitecture(a, 1, 32, 32, 10);
            QFAIL("resized a description that flattens a map");
        } catch (const ArchError& e) {
            QVERIFY2(QString(e.what()).contains("op 'fc1' flattens a 2x2 map") &&
                         QString(e.what()).contains("needs 16x16 input"),
                     e.what());
        }
        const ArchSpec c = resizeArchitecture(a, 1, 16, 16, 10); // channels and classes may follow the data
        QCOMPARE(layerShapes(c, uniformEncoding(c, 30)).back().outChannels, 10);
        QCOMPARE(layerShapes(c, uniformEncoding(c, 30)).front().inChannels, 1);
        // A global pool before the classifier lets the size follow the data.
        const ArchSpec r = makeArchitecture("resnet", "small", 3, 32, 32, 10);
        QCOMPARE(countMacs(resizeArchitecture(r, 3, 64, 64, 10), uniformEncoding(r, 30)),
                 countMacs(makeArchitecture("resnet", "small", 3, 64, 64, 10), uniformEncoding(r, 30)));
    }

    void malformedFilesAreRefused_data() {
        QTest::addColumn<QString>("edit");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown op") << "ops[3].kind=shuffle" << "op 'cat': unknown op kind 'shuffle'";
        QTest::newRow("width tied to a missing gene") << "ops[1].out=nothing"
                                                       << "op 'a': output width 'nothing' names no gene";
        QTest::newRow("shapes that do not chain") << "ops[5].in=[\"b\"]"
                                                   << "op 'mix': states an input width that its input 'dw' does not have";
        QTest::newRow("a cycle") << "ops[1].inputs=[\"cat\"]" << "op 'a': input 'cat' is no earlier op";
        QTest::newRow("residual add of unequal widths")
            << "ops[12].inputs=[\"a\", \"proj\"]"
            << "op 'residual' (add): its inputs have widths gene a and gene mix, which cannot be equal";
        QTest::newRow("grouped conv over an odd gene") << "genes[3].quantum=1"
                                                        << "op 'group' (conv): groups of 2 channels need";
        QTest::newRow("unknown field") << "ops[0].kernal=3" << "op 'stem': unknown field 'kernal'";
        QTest::newRow("missing field") << "ops[0].inputs=DELETE" << "op 'stem': field 'inputs' is missing";
        QTest::newRow("newer version") << "version=2" << "version 2: this build reads version 1";
        QTest::newRow("input too small") << "input.height=2"
                                          << "op 'avg' (avg_pool): its 1x8 input is too small";
        QTest::newRow("unused output") << "ops[16].inputs=[\"max\"]" << "op 'fc1': its output is never used";
        QTest::newRow("classifier not fixed") << "ops[16].out=fc" << "the last op must output the classes";
        QTest::newRow("unknown activation") << "ops[0].act=gelu" << "op 'stem': unknown activation 'gelu'";
        QTest::newRow("not JSON") << "TRUNCATE" << "not a JSON object";
    }
    void malformedFilesAreRefused() {
        QFETCH(QString, edit);
        QFETCH(QString, message);
        QJsonObject root = QJsonDocument::fromJson(test::kMixArchJson).object();
        std::string text;
        if (edit == "TRUNCATE") {
            text = std::string(test::kMixArchJson).substr(0, 200);
        } else {
            // "path=value": path is key, key.key or list[i].key; value is JSON, a bare word, or DELETE.
            const QString path = edit.section('=', 0, 0), value = edit.section('=', 1);
            const QJsonDocument parsed = QJsonDocument::fromJson(("[" + value + "]").toUtf8());
            const QJsonValue v = parsed.isArray() ? parsed.array().at(0) : QJsonValue(value);
            const QStringList parts = path.split('.');
            auto set = [&](QJsonObject o, const QString& key) {
                if (value == "DELETE")
                    o.remove(key);
                else
                    o[key] = value.toInt() || value == "0" ? QJsonValue(value.toInt()) : v;
                return o;
            };
            if (parts.size() == 1) {
                root = set(root, parts[0]);
            } else {
                const QString head = parts[0].section('[', 0, 0);
                if (parts[0].contains('[')) {
                    const int i = parts[0].section('[', 1).chopped(1).toInt();
                    QJsonArray list = root[head].toArray();
                    list[i] = set(list[i].toObject(), parts[1]);
                    root[head] = list;
                } else {
                    root[head] = set(root[head].toObject(), parts[1]);
                }
            }
            text = QJsonDocument(root).toJson().toStdString();
        }
        try {
            architectureFromJson(text);
            QFAIL("a malformed description was accepted");
        } catch (const ArchError& e) {
            QVERIFY2(QString(e.what()).contains(message), e.what());
        }
    }

    void macsText_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("expected");
        QTest::newRow("mega") << "3.5M" << qint64(3500000);
        QTest::newRow("kilo") << "800k" << qint64(800000);
        QTest::newRow("plain") << "1234" << qint64(1234);
        QTest::newRow("percent of 7131232") << "50%" << qint64(3565616);
    }
    void macsText() {
        QFETCH(QString, text);
        QFETCH(qint64, expected);
        QCOMPARE(parseMacs(text.toStdString(), 7131232), int64_t(expected));
    }
    void macsTextErrors() {
        QVERIFY_THROWS_EXCEPTION(ConfigError, parseMacs("abc", 100));
        QVERIFY_THROWS_EXCEPTION(ConfigError, parseMacs("5X", 100));
        QVERIFY_THROWS_EXCEPTION(ConfigError, parseMacs("-5M", 100));
    }
};

QTEST_GUILESS_MAIN(TestArchitecture)
#include "tst_architecture.moc"
