// The LibTorch PruningNet: generated weight shapes for edge encodings, slice gradients against
// plain autograd, the training step, BN recalibration (exact averaging, restores accuracy),
// checkpoints and deterministic resume.
#include "training_p.h" // LibTorch first: Qt defines `slots` (platform.md)

#include "archfixture.h"
#include "metaprune/evaluator.h"
#include "toydata.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <numeric>

using namespace mp;
using namespace mp::detail;
using namespace mp::test;

namespace {

ArchSpec smallArch(int c = 1, int hw = 28, int classes = 10) {
    return makeArchitecture("mobilenetv2", "small", c, hw, hw, classes);
}

torch::Tensor input(const ArchSpec& a, int n) {
    torch::manual_seed(3);
    return torch::randn({n, a.inChannels, a.inHeight, a.inWidth}).contiguous(at::MemoryFormat::ChannelsLast);
}

} // namespace

class TestPruningNet : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;

private slots:
    void initTestCase() { at::set_num_threads(2); }

    void generatedShapes_data() {
        QTest::addColumn<QString>("family");
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("channels");
        QTest::addColumn<int>("size");
        for (const char* f : {"mobilenetv2", "mobilenetv1", "resnet"}) {
            const std::string fs(f);
            QTest::newRow((fs + " all-min 28x28x1").c_str()) << f << "min" << 1 << 28;
            QTest::newRow((fs + " all-max 28x28x1").c_str()) << f << "max" << 1 << 28;
            QTest::newRow((fs + " mixed 32x32x3").c_str()) << f << "mixed" << 3 << 32;
            QTest::newRow((fs + " tied stages, alternating mids").c_str()) << f << "tied" << 1 << 28;
        }
    }
    void generatedShapes() {
        QFETCH(QString, family);
        QFETCH(QString, name);
        QFETCH(int, channels);
        QFETCH(int, size);
        const ArchSpec a = makeArchitecture(family.toStdString(), "small", channels, size, size, 7);
        Encoding e = uniformEncoding(a, name == "min" ? 0 : 30);
        if (name == "mixed") {
            std::mt19937_64 rng(17);
            e = randomEncoding(a, rng);
        } else if (name == "tied") {
            for (size_t g = 0; g < e.size(); ++g)
                e[g] = a.genes[g].kind == GeneKind::Stage ? int(g * 4 % 31) : (g % 2 ? 0 : 30);
        }
        PruningNetModule net(a);
        const PrunedWeights w = net->generate(e);
        for (const LayerShape& s : layerShapes(a, e)) {
            const Op& op = a.ops[size_t(s.op)];
            if (op.kind != OpKind::Conv)
                continue;
            const std::vector<int64_t> expected = {s.outChannels, s.inChannels / s.groups, s.kernelH, s.kernelW};
            QCOMPARE(w.conv[size_t(s.op)].sizes().vec(), expected);
        }
        const size_t classifier = a.ops.size() - 1;
        QCOMPARE(w.linWeight[classifier].sizes().vec(), (std::vector<int64_t>{7, layerShapes(a, e).back().inChannels}));
        torch::NoGradGuard noGrad;
        BnStats stats = net->emptyStats(e);
        net->forward(input(a, 4), e, w, BnMode::Recal, &stats, 0);
        const torch::Tensor out = net->forward(input(a, 4), e, w, BnMode::Eval, &stats);
        QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{4, 7}));
        QVERIFY(torch::isfinite(out).all().item<bool>());
    }

    void generatorKernelsMatchAutograd() {
        // The training path generates and updates only the used rows of a generator with its
        // own loops; plain autograd through the full max-size weight must agree: same weight,
        // dL/dW2 = g h^T on the slice and zero elsewhere, same dL/dh, and the momentum step.
        const ArchSpec a = smallArch();
        torch::manual_seed(1);
        PruningNetModule net(a);
        Encoding e = uniformEncoding(a, 15);
        e[2] = 20; // block3's input (stage2) and mid widths differ
        const torch::Tensor x = input(a, 8);
        const torch::Tensor y = torch::arange(8, torch::kLong) % 10;
        const size_t gi = 7; // generators follow the convs: stem, then 3 per block -> block3.expand
        Generator& g = net->generators()[gi];
        const Op& op = a.ops[size_t(g.op)];
        QCOMPARE(QString::fromStdString(op.name), QString("block3.expand"));
        const int out = widthChannels(a, op.out, e), in = widthChannels(a, Width{2, 0}, e); // reads stage2
        QVERIFY(out < g.maxOut && in < g.maxInPerGroup);

        // Reference: autograd through W2 [numel, hidden] and h.
        const torch::Tensor W2 = g.W2.clone().requires_grad_(true);
        const torch::Tensor b2 = g.b2.clone().requires_grad_(true);
        const torch::Tensor h = torch::relu(g.fc1->forward(net->condition(op, e))).detach().requires_grad_(true);
        const torch::Tensor full = (torch::matmul(W2, h) + b2).view({g.maxOut, g.maxInPerGroup, 1, 1});
        PrunedWeights ref = net->generate(e);
        // Forward values exactly the kernel's (the loss is sensitive enough that summation order
        // shows in the gradients); the gradient flows through W2.
        const torch::Tensor slice = full.narrow(0, 0, out).narrow(1, 0, in);
        ref.conv[size_t(g.op)] = (slice + (ref.conv[size_t(g.op)] - slice).detach()).contiguous(at::MemoryFormat::ChannelsLast);
        torch::nn::functional::cross_entropy(net->forward(x, e, ref, BnMode::Train), y).backward();

        // The training path.
        std::vector<SliceLeaf> leaves;
        const PrunedWeights w = net->generateForTraining(e, leaves);
        QVERIFY(torch::allclose(w.conv[size_t(g.op)], ref.conv[size_t(g.op)].detach(), 1e-5, 1e-6));
        torch::nn::functional::cross_entropy(net->forward(x, e, w, BnMode::Train), y).backward();
        const torch::Tensor grad = leaves[gi].weight.grad().view({out, in});
        const torch::Tensor W2grad = W2.grad().view({g.maxOut, g.maxInPerGroup, g.hidden});
        QVERIFY(torch::allclose(W2grad.narrow(0, 0, out).narrow(1, 0, in), grad.unsqueeze(2) * h.detach(), 1e-4, 1e-6));
        QCOMPARE(W2grad.narrow(0, out, g.maxOut - out).abs().max().item<float>(), 0.0f);
        QCOMPARE(W2grad.narrow(1, in, g.maxInPerGroup - in).abs().max().item<float>(), 0.0f);

        // Fused backward + momentum step on copies, against the same step written with torch ops.
        torch::Tensor Wc = g.W2.clone(), bc = g.b2.clone();
        torch::Tensor mom = torch::randn_like(Wc), bmom = torch::randn_like(bc);
        const torch::Tensor mom0 = mom.clone(), bmom0 = bmom.clone();
        torch::Tensor dh = torch::zeros({g.hidden});
        const torch::Tensor hc = h.detach().contiguous(), gc = grad.contiguous();
        backwardUpdateSlice(leaves[gi].shape, Wc.data_ptr<float>(), mom.data_ptr<float>(), bc.data_ptr<float>(),
                            bmom.data_ptr<float>(), hc.data_ptr<float>(), gc.data_ptr<float>(), 0.9f, 0.01f, 0.1f,
                            dh.data_ptr<float>());
        QVERIFY(torch::allclose(dh, h.grad(), 1e-4, 1e-6));
        const torch::Tensor used = torch::zeros({g.maxOut, g.maxInPerGroup, 1});
        used.narrow(0, 0, out).narrow(1, 0, in).fill_(1);
        const torch::Tensor usedRows = used.view({-1, 1});
        const torch::Tensor expMom =
            usedRows * (0.9 * mom0 + W2.grad() + 0.01 * g.W2) + (1 - usedRows) * mom0;
        QVERIFY(torch::allclose(mom, expMom, 1e-4, 1e-6));
        QVERIFY(torch::allclose(Wc, g.W2 - 0.1 * usedRows * expMom, 1e-5, 1e-6));
        const torch::Tensor expBmom = usedRows.view({-1}) * (0.9 * bmom0 + b2.grad() + 0.01 * g.b2) +
                                      (1 - usedRows.view({-1})) * bmom0;
        QVERIFY(torch::allclose(bmom, expBmom, 1e-4, 1e-6));
    }

    // The ops of imported models in the PruningNet: a dense conv over a concatenation reads its
    // generator's columns in two ranges; the kernels match the full weight and plain autograd.
    void concatenatedSlicesMatchTheFullWeight() {
        const ArchSpec a = architectureFromJson(kMixArchJson);
        torch::manual_seed(2);
        PruningNetModule net(a);
        Encoding e = uniformEncoding(a, 30);
        e[1] = 15; // a: 3 of 6 channels
        e[2] = 10; // b: 1 of 4 channels
        size_t mixOp = 0;
        while (a.ops[mixOp].name != "mix")
            ++mixOp;
        std::vector<SliceLeaf> leaves;
        const PrunedWeights w = net->generateForTraining(e, leaves);
        const auto leaf = std::find_if(leaves.begin(), leaves.end(),
                                       [&](const SliceLeaf& l) { return net->generators()[size_t(l.gen)].op == int(mixOp); });
        QVERIFY(leaf != leaves.end());
        Generator& g = net->generators()[size_t(leaf->gen)];
        QCOMPARE(leaf->shape.colRanges, (std::vector<ChannelRange>{{0, 3}, {6, 1}}));
        // The full max-size weight, generated with plain torch ops, and its used channels.
        const torch::Tensor h = torch::relu(g.fc1->forward(net->condition(a.ops[mixOp], e))).detach();
        const torch::Tensor full = (torch::matmul(g.W2, h) + g.b2).view({g.maxOut, g.maxInPerGroup});
        const torch::Tensor cols = torch::tensor(std::vector<int64_t>{0, 1, 2, 6});
        const torch::Tensor expected = full.index_select(1, cols);
        QVERIFY(torch::allclose(w.conv[mixOp].reshape({g.maxOut, 4}), expected, 1e-5, 1e-6));
        // Backward: dh = sum g * W2 over the used rows only; momentum moves only those rows.
        torch::manual_seed(5);
        const torch::Tensor grad = torch::randn({g.maxOut, 4});
        torch::Tensor W2 = g.W2.clone(), b2 = g.b2.clone(), mom = torch::zeros_like(W2), bmom = torch::zeros_like(b2);
        torch::Tensor dh = torch::zeros({g.hidden});
        const torch::Tensor hc = h.contiguous(), gc = grad.contiguous();
        backwardUpdateSlice(leaf->shape, W2.data_ptr<float>(), mom.data_ptr<float>(), b2.data_ptr<float>(),
                            bmom.data_ptr<float>(), hc.data_ptr<float>(), gc.data_ptr<float>(), 0.9f, 0.0f, 0.0f,
                            dh.data_ptr<float>());
        const torch::Tensor rows = g.W2.view({g.maxOut, g.maxInPerGroup, g.hidden}).index_select(1, cols);
        QVERIFY(torch::allclose(dh, (rows * grad.unsqueeze(2)).sum(std::vector<int64_t>{0, 1}), 1e-4, 1e-6));
        const torch::Tensor moved = mom.view({g.maxOut, g.maxInPerGroup, g.hidden}).abs().sum(std::vector<int64_t>{0, 2});
        for (int64_t c = 0; c < g.maxInPerGroup; ++c)
            QCOMPARE(moved[c].item<float>() > 0, c < 3 || c == 6);
    }

    void mixedOpsTrain() {
        // Every op kind of the import trains: the loss falls on the toy problem at 16x16.
        const ArchSpec a = architectureOf(
            [] {
                TrainConfig c;
                c.architecture = QJsonDocument::fromJson(kMixArchJson).toJson(QJsonDocument::Compact).toStdString();
                return c;
            }(),
            1, 16, 16, 4);
        torch::manual_seed(4);
        PruningNetModule net(a);
        torch::optim::SGD sgd(net->denseParameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
        const DataBundle data = toyBundle();
        std::vector<int64_t> idx(64);
        std::iota(idx.begin(), idx.end(), 0);
        const Normalization norm{{0.3f}, {0.3f}};
        const torch::Tensor x = makeBatch(data.train, idx.data(), 64, norm);
        const torch::Tensor y = makeLabels(data.train, idx.data(), 64);
        TrainConfig cfg;
        std::mt19937_64 rng(1);
        double first = 0, last = 0;
        for (int step = 0; step < 60; ++step) {
            const Encoding e = step % 2 ? randomEncoding(a, rng) : uniformEncoding(a, 30);
            const StepResult r = trainStep(net, sgd, x, y, e, cfg, 0.05);
            QVERIFY(std::isfinite(r.loss));
            if (step < 2)
                first += r.loss;
            if (step >= 58)
                last += r.loss;
        }
        QVERIFY2(last < first * 0.8, qPrintable(QString("loss %1 -> %2").arg(first / 2).arg(last / 2)));
        // Recalibrated evaluation at a random encoding gives logits of the right shape.
        torch::NoGradGuard noGrad;
        const Encoding e = randomEncoding(a, rng);
        const PrunedWeights w = net->generate(e);
        BnStats stats = net->emptyStats(e);
        net->forward(x, e, w, BnMode::Recal, &stats, 0);
        QCOMPARE(net->forward(x, e, foldBatchNorm(w, stats), BnMode::Folded).sizes().vec(),
                 (std::vector<int64_t>{64, 4}));
    }

    void batchNormKernelsMatchLibTorch_data() {
        QTest::addColumn<int>("act");
        QTest::newRow("none") << int(Activation::None);
        QTest::newRow("ReLU") << int(Activation::ReLU);
        QTest::newRow("ReLU6") << int(Activation::ReLU6);
    }
    void batchNormKernelsMatchLibTorch() {
        QFETCH(int, act);
        torch::manual_seed(6);
        // Offset mean and a wide spread exercise the shifted variance and the ReLU6 clamp.
        const torch::Tensor base = (torch::randn({4, 5, 6, 7}) * 3 + 2).contiguous(at::MemoryFormat::ChannelsLast);
        const torch::Tensor dy = torch::randn({4, 5, 6, 7}).contiguous(at::MemoryFormat::ChannelsLast);
        const torch::Tensor x1 = base.clone().requires_grad_(true);
        torch::Tensor ref = at::batch_norm(x1, {}, {}, {}, {}, true, 0.1, 1e-5, false);
        if (Activation(act) == Activation::ReLU)
            ref = torch::relu(ref);
        else if (Activation(act) == Activation::ReLU6)
            ref = torch::hardtanh(ref, 0, 6);
        ref.backward(dy);

        const torch::Tensor x2 = base.clone().requires_grad_(true);
        const auto [mean, var] = channelMeanVar(x2.detach());
        const auto [rv, rm] = torch::var_mean(base, {0, 2, 3}, false);
        QVERIFY(torch::allclose(mean, rm, 1e-5, 1e-5));
        QVERIFY(torch::allclose(var, rv, 1e-4, 1e-5));
        const torch::Tensor out = batchNormActTrain(x2, mean, torch::rsqrt(var + 1e-5), Activation(act));
        QVERIFY(out.is_contiguous(at::MemoryFormat::ChannelsLast));
        QVERIFY(torch::allclose(out, ref.detach(), 1e-4, 1e-5));
        out.backward(dy);
        QVERIFY(torch::allclose(x2.grad(), x1.grad(), 1e-4, 1e-5));
    }

    void foldedBatchNormEqualsEval() {
        const ArchSpec a = smallArch(3, 32, 5);
        torch::manual_seed(7);
        PruningNetModule net(a);
        std::mt19937_64 rng(12);
        const Encoding e = randomEncoding(a, rng);
        torch::NoGradGuard noGrad;
        const PrunedWeights w = net->generate(e);
        BnStats stats = net->emptyStats(e);
        for (int b = 0; b < 2; ++b)
            net->forward(input(a, 16), e, w, BnMode::Recal, &stats, b);
        const torch::Tensor x = input(a, 6);
        const torch::Tensor eval = net->forward(x, e, w, BnMode::Eval, &stats);
        const torch::Tensor folded = net->forward(x, e, foldBatchNorm(w, stats), BnMode::Folded);
        QVERIFY(torch::allclose(eval, folded, 1e-3, 1e-4));
    }

    void trainingStepLowersLoss_data() {
        QTest::addColumn<QString>("family");
        QTest::addColumn<bool>("dense");
        QTest::newRow("mobilenetv2, sparse generator update") << "mobilenetv2" << false;
        QTest::newRow("mobilenetv2, dense generator update") << "mobilenetv2" << true;
        QTest::newRow("mobilenetv1") << "mobilenetv1" << false;
        QTest::newRow("resnet") << "resnet" << false;
        // Every stage below 8 channels: the stride-2 1x1 projection shortcuts read inputs
        // narrower than oneDNN's 8-channel block (oneDNN#6035 crashed or hung here).
        QTest::newRow("resnet, narrowest encoding") << "resnet-min" << false;
    }
    void trainingStepLowersLoss() {
        QFETCH(QString, family);
        QFETCH(bool, dense);
        const bool narrowest = family.endsWith("-min");
        const ArchSpec a = makeArchitecture(family.section('-', 0, 0).toStdString(), "small", 1, 28, 28, 10);
        torch::manual_seed(2);
        PruningNetModule net(a);
        TrainConfig cfg;
        cfg.update = dense ? GeneratorUpdate::Dense : GeneratorUpdate::Sparse;
        cfg.labelSmoothing = 0;
        torch::optim::SGD sgd(net->denseParameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
        std::mt19937_64 rng(8);
        const Encoding e = narrowest ? uniformEncoding(a, 0) : randomEncoding(a, rng);
        if (narrowest)
            for (const LayerShape& s : layerShapes(a, e))
                QVERIFY2(s.inChannels < 8 || a.ops[size_t(s.op)].kind != OpKind::Conv || s.kernelH != 1 ||
                             s.strideH == 1,
                         "the narrowest encoding should put every strided 1x1 conv below 8 input channels");
        const torch::Tensor x = input(a, 32);
        const torch::Tensor y = torch::arange(32, torch::kLong) % 10;
        auto lossNow = [&] {
            torch::NoGradGuard noGrad;
            return torch::nn::functional::cross_entropy(net->forward(x, e, net->generate(e), BnMode::Train), y)
                .item<double>();
        };
        const double before = lossNow();
        const StepResult r = trainStep(net, sgd, x, y, e, cfg, 0.05);
        QVERIFY(std::abs(r.loss - before) < 1e-4); // the step saw the same loss
        const double after = lossNow();
        QVERIFY2(after < before, qPrintable(QString("%1 -> %2").arg(before).arg(after)));
    }

    // A strided 1x1 conv runs as a subsample then a stride-1 conv (detail::conv2d, oneDNN#6035):
    // output and both gradients against plain double-precision conv2d, for inputs narrower and
    // wider than oneDNN's 8-channel block, with and without padding.
    void stridedOneByOneConvMatchesPlainConv_data() {
        QTest::addColumn<int>("inChannels");
        QTest::addColumn<int>("stride");
        QTest::addColumn<int>("padding");
        for (int c : {1, 4, 7, 8, 12})
            QTest::addRow("%d channels, stride 2", c) << c << 2 << 0;
        QTest::newRow("4 channels, stride 3, padding 1") << 4 << 3 << 1;
        QTest::newRow("4 channels, 3x3 stride 2 (plain path)") << 4 << -2 << 1;
    }
    void stridedOneByOneConvMatchesPlainConv() {
        QFETCH(int, inChannels);
        QFETCH(int, stride);
        QFETCH(int, padding);
        const int k = stride < 0 ? 3 : 1;
        stride = std::abs(stride);
        torch::manual_seed(5);
        const torch::Tensor x0 = torch::randn({32, inChannels, 16, 16});
        // No bias, as a conv followed by BN: with one, oneDNN picks another kernel.
        const torch::Tensor w0 = torch::randn({8, inChannels, k, k});
        const auto run = [&](bool reference) {
            // Fresh leaves each run (contiguous() may return the very tensor it was given).
            const auto leaf = [&](const torch::Tensor& t) {
                const bool nhwc = t.dim() == 4 && !reference;
                return t.to(reference ? torch::kDouble : torch::kFloat)
                    .clone(nhwc ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous)
                    .set_requires_grad(true);
            };
            torch::Tensor x = leaf(x0), w = leaf(w0);
            const torch::Tensor y = reference ? at::conv2d(x, w, {}, {stride, stride}, {padding, padding})
                                              : mp::detail::conv2d(x, w, {}, {stride, stride}, {padding, padding}, 1, 1);
            (y * y).sum().backward();
            return std::vector<torch::Tensor>{y, x.grad(), w.grad()};
        };
        const std::vector<torch::Tensor> got = run(false), want = run(true);
        const char* names[] = {"output", "input gradient", "weight gradient"};
        for (size_t i = 0; i < got.size(); ++i) {
            QCOMPARE(got[i].sizes().vec(), want[i].sizes().vec());
            const double err = (got[i].to(torch::kDouble) - want[i]).abs().max().item<double>() /
                               (1 + want[i].abs().max().item<double>());
            QVERIFY2(err < 1e-5, qPrintable(QString("%1: relative error %2").arg(names[i]).arg(err)));
        }
    }

    // The ATen fallbacks that non-CPU tensors take compute what the fast CPU loops compute, each
    // kernel on its own: batch norm (statistics, output, input gradient), the generator slice
    // (weights; gradient dh and the momentum update), and a whole training step's loss. (A
    // whole network's gradients are compared only through the loss: batch norm's scale
    // invariance makes them amplify rounding differences, see README "Several processes".)
    void portableKernelsMatchFast_data() {
        QTest::addColumn<int>("act");
        QTest::newRow("none") << int(Activation::None);
        QTest::newRow("ReLU") << int(Activation::ReLU);
        QTest::newRow("ReLU6") << int(Activation::ReLU6);
    }
    void portableKernelsMatchFast() {
        QFETCH(int, act);
        const auto worst = [](const torch::Tensor& a, const torch::Tensor& b) {
            return (a - b).abs().max().item<double>();
        };
        torch::manual_seed(6);
        const torch::Tensor base = (torch::randn({4, 5, 6, 7}) * 3 + 2).contiguous(at::MemoryFormat::ChannelsLast);
        const torch::Tensor dy = torch::randn({4, 5, 6, 7}).contiguous(at::MemoryFormat::ChannelsLast);
        std::vector<torch::Tensor> bn[2];
        for (int portable = 0; portable < 2; ++portable) {
            setPortableKernels(portable);
            const torch::Tensor x = base.clone().requires_grad_(true);
            const auto [mean, var] = channelMeanVar(x.detach());
            const torch::Tensor out = batchNormActTrain(x, mean, torch::rsqrt(var + 1e-5), Activation(act));
            out.backward(dy);
            bn[portable] = {mean, var, out.detach(), x.grad()};
        }
        setPortableKernels(false);
        double dBn = 0;
        for (size_t i = 0; i < bn[0].size(); ++i)
            dBn = std::max(dBn, worst(bn[0][i], bn[1][i]));

        // A generator slice with two row ranges and two column ranges (a Concat's layout).
        SliceShape shape;
        shape.rows = {{0, 3}, {5, 2}};
        shape.colRanges = {{0, 4}, {6, 3}};
        shape.cols = 10;
        shape.hidden = 8;
        const torch::Tensor W2 = torch::randn({8 * 10, 8}), b2 = torch::randn({8 * 10}), h = torch::rand({8});
        const torch::Tensor g = torch::randn({5 * 7});
        std::vector<torch::Tensor> gen[2];
        for (int portable = 0; portable < 2; ++portable) {
            setPortableKernels(portable);
            torch::manual_seed(8); // the same momentum on both paths
            torch::Tensor w = W2.clone(), b = b2.clone();
            torch::Tensor m = torch::randn_like(W2).mul_(0.1), bm = torch::randn_like(b2).mul_(0.1);
            const torch::Tensor weight = generateSlice(shape, w, b, h);
            const torch::Tensor dh = backwardUpdateSlice(shape, w, m, b, bm, h, g, 0.9f, 1e-3f, 0.05f);
            gen[portable] = {weight, dh, w, m, b, bm};
        }
        setPortableKernels(false);
        double dGen = 0;
        for (size_t i = 0; i < gen[0].size(); ++i)
            dGen = std::max(dGen, worst(gen[0][i], gen[1][i]));

        const ArchSpec a = smallArch();
        const torch::Tensor x = input(a, 16);
        const torch::Tensor y = torch::arange(16, torch::kLong) % 10;
        std::mt19937_64 rng(7);
        const Encoding e = randomEncoding(a, rng);
        double loss[2];
        for (int portable = 0; portable < 2; ++portable) {
            setPortableKernels(portable);
            torch::manual_seed(3);
            PruningNetModule net(a);
            torch::optim::SGD sgd(net->denseParameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
            loss[portable] = trainStep(net, sgd, x, y, e, TrainConfig{}, 0.05).loss;
        }
        setPortableKernels(false);
        qInfo("ATen fallback vs fast kernels: batch norm %.3g, generator slice %.3g, training-step loss %.3g", dBn,
              dGen, std::abs(loss[0] - loss[1]));
        QVERIFY2(dBn < 1e-5, qPrintable(QString::number(dBn)));
        QVERIFY2(dGen < 1e-5, qPrintable(QString::number(dGen)));
        QVERIFY(std::abs(loss[0] - loss[1]) < 1e-5);
        // The gradients compared are not zero.
        QVERIFY(bn[0][3].abs().max().item<double>() > 1e-2 && gen[0][1].abs().max().item<double>() > 1e-2);
    }

    void denseMomentumMovesRowsOutsideTheSlice() {
        const ArchSpec a = smallArch();
        TrainConfig sparse, dense;
        dense.update = GeneratorUpdate::Dense;
        torch::manual_seed(3);
        PruningNetModule ns(a);
        torch::manual_seed(3);
        PruningNetModule nd(a);
        torch::optim::SGD ss(ns->denseParameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
        torch::optim::SGD sd(nd->denseParameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
        const torch::Tensor x = input(a, 16);
        const torch::Tensor y = torch::arange(16, torch::kLong) % 10;
        const Encoding wide = uniformEncoding(a, 30), narrow = uniformEncoding(a, 0);
        trainStep(ns, ss, x, y, wide, sparse, 0.05);
        trainStep(nd, sd, x, y, wide, dense, 0.05);
        // First step from zero momentum: both updates are the same (up to fused multiply-add).
        QVERIFY(torch::allclose(ns->generators()[4].W2, nd->generators()[4].W2, 1e-6, 1e-7));
        const torch::Tensor sBefore = ns->generators()[4].W2.clone(), dBefore = nd->generators()[4].W2.clone();
        trainStep(ns, ss, x, y, narrow, sparse, 0.05);
        trainStep(nd, sd, x, y, narrow, dense, 0.05);
        // The last row is outside the narrow slice: dense keeps moving it by momentum, sparse not.
        const int64_t last = ns->generators()[4].W2.size(0) - 1;
        QVERIFY(torch::equal(ns->generators()[4].W2[last], sBefore[last]));
        QVERIFY(!torch::equal(nd->generators()[4].W2[last], dBefore[last]));
    }

    // Sandwich sampling (issue 22): every step's structures are the full width, then the
    // narrowest, then the random ones.
    void sandwichDrawsFullAndNarrowest() {
        const ArchSpec a = smallArch();
        TrainConfig cfg;
        cfg.sampling = Sampling::Sandwich;
        for (int n : {0, 2, 5}) {
            cfg.sandwichRandom = n;
            for (uint64_t step = 0; step < 20; ++step) {
                std::mt19937_64 rng(step);
                const std::vector<Encoding> encs = sandwichEncodings(a, cfg, rng);
                QCOMPARE(int(encs.size()), 2 + n);
                QCOMPARE(encs[0], uniformEncoding(a, grid::kSize - 1));
                QCOMPARE(encs[1], uniformEncoding(a, 0));
                for (size_t i = 2; i < encs.size(); ++i)
                    for (int g : encs[i])
                        QVERIFY(g >= 0 && g < grid::kSize);
            }
        }
    }

    // T^2 KL(softmax(teacher/T) || softmax(student/T)), batch mean, against the sums written out
    // (Python: sum(pt * log(pt / ps)) * T * T).
    void inplaceDistillationLossByHand() {
        const torch::Tensor student = torch::zeros({1, 2}), teacher = torch::tensor({{std::log(3.0f), 0.0f}});
        QVERIFY(std::abs(inplaceDistillationLoss(student, teacher, 1.0).item<double>() - 0.13081203594113713) < 1e-6);
        QVERIFY(std::abs(inplaceDistillationLoss(student, teacher, 2.0).item<double>() - 0.145363131481894) < 1e-6);
        const torch::Tensor s2 = torch::tensor({{1.0f, 0.0f, -1.0f}, {0.0f, 0.0f, 0.0f}});
        const torch::Tensor t2 = torch::tensor({{0.0f, 2.0f, 0.0f}, {0.0f, 0.0f, 3.0f}});
        QVERIFY(std::abs(inplaceDistillationLoss(s2, t2, 1.0).item<double>() - 0.7370258051655336) < 1e-6);
    }

    // A sandwich step accumulates the structures' gradients and updates once: with one
    // structure it is a dense training step, and with the same structure twice (each half of
    // the loss) the same step again.
    void sandwichStepAccumulatesGradients() {
        const ArchSpec a = smallArch();
        TrainConfig dense;
        dense.update = GeneratorUpdate::Dense;
        const torch::Tensor x = input(a, 16);
        const torch::Tensor y = torch::arange(16, torch::kLong) % 10;
        const Encoding e = uniformEncoding(a, 17);
        std::vector<torch::Tensor> after;
        for (int variant = 0; variant < 3; ++variant) {
            torch::manual_seed(5);
            PruningNetModule net(a);
            torch::optim::SGD sgd(net->denseParameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
            if (variant == 0)
                trainStep(net, sgd, x, y, e, dense, 0.05);
            else
                sandwichStep(net, sgd, x, y, variant == 1 ? std::vector<Encoding>{e} : std::vector<Encoding>{e, e},
                             dense, 0.05);
            after.push_back(net->generators()[4].W2.clone());
            after.push_back(net->denseParameters().front().clone());
        }
        QVERIFY(torch::allclose(after[2], after[0], 1e-5, 1e-7));
        QVERIFY(torch::allclose(after[3], after[1], 1e-5, 1e-7));
        QVERIFY(torch::allclose(after[4], after[0], 1e-5, 1e-7));
        QVERIFY(torch::allclose(after[5], after[1], 1e-5, 1e-7));
    }

    void recalibrationAveragesExactly() {
        const ArchSpec a = smallArch();
        torch::manual_seed(4);
        PruningNetModule net(a);
        std::mt19937_64 rng(1);
        const Encoding e = randomEncoding(a, rng);
        torch::NoGradGuard noGrad;
        const PrunedWeights w = net->generate(e);
        BnStats stats = net->emptyStats(e);
        torch::Tensor meanSum = torch::zeros_like(stats.mean[0]), varSum = torch::zeros_like(stats.var[0]);
        for (int b = 0; b < 3; ++b) {
            torch::manual_seed(100 + b);
            const torch::Tensor x = (torch::randn({16, 1, 28, 28}) * (1 + b) + b).contiguous(at::MemoryFormat::ChannelsLast);
            net->forward(x, e, w, BnMode::Recal, &stats, b);
            const torch::Tensor stem = at::conv2d(x, w.conv[0], {}, 2, 1);
            meanSum += stem.mean({0, 2, 3});
            varSum += stem.var({0, 2, 3}, /*unbiased=*/true);
        }
        QVERIFY(stats.mean[0].abs().sum().item<float>() > 0); // changed from the reset value
        QVERIFY(torch::allclose(stats.mean[0], meanSum / 3, 1e-4, 1e-5));
        QVERIFY(torch::allclose(stats.var[0], varSum / 3, 1e-4, 1e-5));
    }

    void recalibrationRestoresAccuracy() {
        const DataBundle data = toyBundle();
        const std::string ckpt = tmp.filePath("toy.pt").toStdString();
        const TrainOutcome out = trainPruningNet(data, toyConfig(), ckpt);
        QVERIFY(out.finished);
        EvalSettings s;
        s.recalBatches = 4;
        s.recalBatchSize = 32;
        s.evalImages = 0;
        const Evaluator withRecal(ckpt, data, s);
        const ArchSpec& a = withRecal.arch();
        const Encoding full = uniformEncoding(a, 30);
        const EvalResult good = withRecal.evaluate(full, EvalSplit::Test);
        QCOMPARE(good.images, int64_t(200));
        QVERIFY2(good.top1 > 90, qPrintable(QString::number(good.top1)));

        // Reset statistics without recalibration (mean 0, variance 1) break the network.
        CheckpointInfo info;
        PruningNetModule net = loadCheckpoint(ckpt, info);
        torch::NoGradGuard noGrad;
        const PrunedWeights w = net->generate(full);
        BnStats reset = net->emptyStats(full);
        const Normalization norm = normalizationOf(info);
        std::vector<int64_t> idx(200);
        std::iota(idx.begin(), idx.end(), 0);
        const torch::Tensor x = makeBatch(data.test, idx.data(), 200, norm);
        const torch::Tensor y = makeLabels(data.test, idx.data(), 200);
        const double resetTop1 =
            100.0 * net->forward(x, full, w, BnMode::Eval, &reset).argmax(1).eq(y).sum().item<double>() / 200;
        QVERIFY2(resetTop1 < good.top1 - 20,
                 qPrintable(QString("reset %1 vs recalibrated %2").arg(resetTop1).arg(good.top1)));
    }

    void exportedNetworkReproducesTheEvaluator() {
        const DataBundle data = toyBundle();
        const std::string ckpt = tmp.filePath("export.pt").toStdString();
        TrainConfig cfg = toyConfig();
        cfg.epochs = 2;
        trainPruningNet(data, cfg, ckpt);
        EvalSettings s;
        s.recalBatches = 3;
        s.recalBatchSize = 32;
        const Evaluator ev(ckpt, data, s);
        std::mt19937_64 rng(21);
        const Encoding enc = randomEncoding(ev.arch(), rng);
        const std::string path = tmp.filePath("pruned.pt").toStdString();
        const std::string json = tmp.filePath("pruned.json").toStdString();
        ev.exportNetwork(enc, ExportFormat::Archive, path, json);

        torch::serialize::InputArchive ar;
        ar.load_from(path);
        c10::IValue meta;
        ar.read("metadata", meta);
        const QJsonObject m = QJsonDocument::fromJson(QByteArray::fromStdString(meta.toStringRef())).object();
        QCOMPARE(m["macs"].toInteger(), qint64(countMacs(ev.arch(), enc)));
        QCOMPARE(m["bn"].toString(), QString("folded"));
        QCOMPARE(m["encoding"].toArray().size(), int(enc.size()));
        QCOMPARE(m["encoding"].toArray()[3].toInt(), enc[3]);
        QFile side(QString::fromStdString(json));
        QVERIFY(side.open(QIODevice::ReadOnly));
        QCOMPARE(QJsonDocument::fromJson(side.readAll()).object()["params"].toInteger(),
                 qint64(countParams(ev.arch(), enc)));

        // Run the exported tensors with plain LibTorch ops, independent of the PruningNet code.
        const ArchSpec& a = ev.arch();
        std::vector<int64_t> idx(200);
        std::iota(idx.begin(), idx.end(), 0);
        CheckpointInfo info;
        loadCheckpoint(ckpt, info);
        std::vector<torch::Tensor> v = {makeBatch(data.test, idx.data(), 200, normalizationOf(info))};
        const std::vector<LayerShape> shapes = layerShapes(a, enc);
        size_t shape = 0;
        for (const Op& op : a.ops) {
            std::string name = op.name;
            std::replace(name.begin(), name.end(), '.', '_');
            const torch::Tensor& in = v[size_t(op.inputs[0])];
            torch::Tensor y;
            if (op.kind == OpKind::Conv) {
                torch::Tensor w, b;
                ar.read(name + "_weight", w, true);
                ar.read(name + "_bias", b, true);
                const LayerShape& s = shapes[shape++];
                QCOMPARE(w.sizes().vec(), (std::vector<int64_t>{s.outChannels, s.inChannels / s.groups, s.kernelH, s.kernelW}));
                y = torch::conv2d(in, w, b, op.strideH, op.kernelH / 2, 1, op.depthwise() ? w.size(0) : 1);
                if (op.act == Activation::ReLU6)
                    y = torch::clamp(y, 0, 6);
            } else if (op.kind == OpKind::Add) {
                y = in + v[size_t(op.inputs[1])];
            } else if (op.kind == OpKind::GlobalAvgPool) {
                y = in.mean({2, 3});
            } else {
                torch::Tensor w, b;
                ar.read("classifier_weight", w, true);
                ar.read("classifier_bias", b, true);
                y = torch::linear(in, w, b);
            }
            v.push_back(y);
        }
        const torch::Tensor y = makeLabels(data.test, idx.data(), 200);
        const double top1 = 100.0 * v.back().argmax(1).eq(y).sum().item<double>() / 200;
        QCOMPARE(top1, ev.evaluate(enc, EvalSplit::Test).top1);
    }

    void checkpointRoundTripAndDamage() {
        const DataBundle data = toyBundle();
        const std::string ckpt = tmp.filePath("round.pt").toStdString();
        TrainConfig cfg = toyConfig();
        cfg.epochs = 1;
        trainPruningNet(data, cfg, ckpt);
        CheckpointInfo a, b;
        PruningNetModule n1 = loadCheckpoint(ckpt, a);
        PruningNetModule n2 = loadCheckpoint(ckpt, b);
        QCOMPARE(a.sha256, fileSha256(ckpt));
        QCOMPARE(a.sha256.size(), size_t(64));
        QCOMPARE(a.classes, 4);
        QCOMPARE(a.inHeight, 16);
        QVERIFY(a.finished());
        QCOMPARE(QString::fromStdString(toJson(a.config)), QString::fromStdString(toJson(cfg)));
        std::mt19937_64 rng(2);
        const Encoding e = randomEncoding(n1->arch(), rng);
        QVERIFY(torch::equal(n1->generate(e).conv[5], n2->generate(e).conv[5]));

        // Truncated and garbage files give an error naming the file.
        std::ifstream in(ckpt, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const std::string cut = tmp.filePath("cut.pt").toStdString();
        std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
        const std::string junk = tmp.filePath("junk.pt").toStdString();
        std::ofstream(junk, std::ios::binary) << "not a checkpoint";
        for (const std::string& bad : {cut, junk, tmp.filePath("missing.pt").toStdString()}) {
            try {
                readCheckpointInfo(bad);
                QFAIL("no error for a bad checkpoint");
            } catch (const CheckpointError& err) {
                QVERIFY2(QString(err.what()).contains(QString::fromStdString(bad)), err.what());
            }
        }
        // A checkpoint of other settings is not silently resumed.
        TrainConfig other = cfg;
        other.lr = 0.01;
        QVERIFY_THROWS_EXCEPTION(CheckpointError, trainPruningNet(data, other, ckpt));
    }

    void cancelAndResumeIsDeterministic() {
        const DataBundle data = toyBundle();
        const TrainConfig cfg = toyConfig();
        const std::string whole = tmp.filePath("whole.pt").toStdString();
        trainPruningNet(data, cfg, whole);

        const std::string parts = tmp.filePath("parts.pt").toStdString();
        std::atomic<bool> cancel{false};
        TrainCallbacks cb;
        int64_t cancelledAt = 0; // the first progress report at or after step 20
        cb.progress = [&cancel, &cancelledAt](const TrainProgress& p) {
            if (p.step >= 20 && !cancel) {
                cancel = true;
                cancelledAt = p.step;
            }
        };
        const TrainOutcome first = trainPruningNet(data, cfg, parts, cb, &cancel);
        QVERIFY(!first.finished);
        QVERIFY(cancelledAt >= 20 && cancelledAt < 40);
        QCOMPARE(first.steps, cancelledAt);
        QCOMPARE(readCheckpointInfo(parts).step, cancelledAt); // a usable checkpoint at the cancel point
        cancel = false;
        const TrainOutcome second = trainPruningNet(data, cfg, parts, {}, &cancel);
        QVERIFY(second.finished);

        CheckpointInfo ia, ib;
        PruningNetModule a = loadCheckpoint(whole, ia);
        PruningNetModule b = loadCheckpoint(parts, ib);
        QCOMPARE(ia.step, ib.step);
        const Encoding e = uniformEncoding(a->arch(), 20);
        const PrunedWeights wa = a->generate(e), wb = b->generate(e);
        for (size_t i = 0; i < wa.conv.size(); ++i)
            if (wa.conv[i].defined())
                QVERIFY(torch::allclose(wa.conv[i], wb.conv[i], 1e-4, 1e-6));
    }
};

QTEST_GUILESS_MAIN(TestPruningNet)
#include "tst_pruningnet.moc"
