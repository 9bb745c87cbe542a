// Data readers on tiny generated files in the standard formats, every bad-input case, and the
// class-balanced search split.
#include "metaprune/dataset.h"
#include "metaprune/training.h"

#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

#include <zlib.h>

#include <fstream>
#include <set>

using namespace mp;

namespace {

std::vector<uint8_t> be32(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }

// IDX images: magic 0x00000803, count, rows, cols, pixels; pixel value = image index * 10 + row.
std::vector<uint8_t> idxImages(uint32_t n, uint32_t h, uint32_t w, uint32_t magic = 0x00000803) {
    std::vector<uint8_t> b = be32(magic);
    for (uint32_t v : {n, h, w}) {
        const auto x = be32(v);
        b.insert(b.end(), x.begin(), x.end());
    }
    for (uint32_t i = 0; i < n; ++i)
        for (uint32_t r = 0; r < h; ++r)
            for (uint32_t c = 0; c < w; ++c)
                b.push_back(uint8_t(i * 10 + r));
    return b;
}

std::vector<uint8_t> idxLabels(const std::vector<uint8_t>& labels, uint32_t magic = 0x00000801) {
    std::vector<uint8_t> b = be32(magic);
    const auto n = be32(uint32_t(labels.size()));
    b.insert(b.end(), n.begin(), n.end());
    b.insert(b.end(), labels.begin(), labels.end());
    return b;
}

void writeFile(const QString& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path.toStdString(), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void writeGzip(const QString& path, const std::vector<uint8_t>& bytes) {
    gzFile f = gzopen(path.toStdString().c_str(), "wb");
    gzwrite(f, bytes.data(), unsigned(bytes.size()));
    gzclose(f);
}

std::vector<uint8_t> readFile(const QString& path) {
    std::ifstream in(path.toStdString(), std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

template <typename F>
QString errorOf(F&& f) {
    try {
        f();
    } catch (const DataError& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

} // namespace

class TestDataset : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;

    QString path(const QString& name) const { return tmp.filePath(name); }

private slots:
    void idxRawAndGzip() {
        const std::vector<uint8_t> labels = {2, 0, 1, 0, 2};
        writeFile(path("raw-images"), idxImages(5, 4, 3));
        writeFile(path("raw-labels"), idxLabels(labels));
        writeGzip(path("images.gz"), idxImages(5, 4, 3));
        writeGzip(path("labels.gz"), idxLabels(labels));
        for (const auto& [img, lab] : {std::pair{path("raw-images"), path("raw-labels")},
                                       std::pair{path("images.gz"), path("labels.gz")}}) {
            const Dataset d = readIdx(img.toStdString(), lab.toStdString());
            QCOMPARE(d.size(), int64_t(5));
            QCOMPARE(d.channels, 1);
            QCOMPARE(d.height, 4);
            QCOMPARE(d.width, 3);
            QCOMPARE(d.labels[2], 1);
            QCOMPARE(d.numClasses(), 3); // labels 0..2
            QCOMPARE(int(d.pixels[size_t(2 * 12 + 3 * 3)]), 2 * 10 + 3); // image 2, row 3
        }
    }

    void idxBadInput_data() {
        QTest::addColumn<QString>("images");
        QTest::addColumn<QString>("labels");
        QTest::addColumn<QString>("fragment");
        QTest::addColumn<QString>("file");

        writeFile(path("good-images"), idxImages(4, 2, 2));
        writeFile(path("good-labels"), idxLabels({0, 1, 0, 1}));
        writeFile(path("magic-images"), idxImages(4, 2, 2, 0x00000801));
        writeFile(path("magic-labels"), idxLabels({0, 1, 0, 1}, 0x00000803));
        std::vector<uint8_t> cut = idxImages(4, 2, 2);
        cut.resize(cut.size() - 3);
        writeFile(path("cut-images"), cut);
        std::vector<uint8_t> cutLabels = idxLabels({0, 1, 0, 1});
        cutLabels.resize(cutLabels.size() - 1);
        writeFile(path("cut-labels"), cutLabels);
        writeFile(path("three-labels"), idxLabels({0, 1, 0}));
        writeFile(path("gap-labels"), idxLabels({0, 1, 255, 1}));
        writeFile(path("header-only"), {0, 0, 8});
        writeGzip(path("full.gz"), idxImages(50, 8, 8));
        std::vector<uint8_t> gz = readFile(path("full.gz"));
        gz.resize(gz.size() / 2);
        writeFile(path("cut.gz"), gz);

        QTest::newRow("missing images") << path("nope") << path("good-labels") << "file not found" << path("nope");
        QTest::newRow("missing labels") << path("good-images") << path("nope") << "file not found" << path("nope");
        QTest::newRow("wrong image magic") << path("magic-images") << path("good-labels") << "wrong magic number"
                                           << path("magic-images");
        QTest::newRow("wrong label magic") << path("good-images") << path("magic-labels") << "wrong magic number"
                                           << path("magic-labels");
        QTest::newRow("truncated images") << path("cut-images") << path("good-labels") << "truncated"
                                          << path("cut-images");
        QTest::newRow("truncated labels") << path("good-images") << path("cut-labels") << "truncated"
                                          << path("cut-labels");
        QTest::newRow("count mismatch") << path("good-images") << path("three-labels") << "has 4 images but"
                                        << path("three-labels");
        QTest::newRow("damaged label") << path("good-images") << path("gap-labels") << "label 2 has no image"
                                       << path("gap-labels");
        QTest::newRow("truncated header") << path("header-only") << path("good-labels") << "truncated IDX header"
                                          << path("header-only");
        QTest::newRow("truncated gzip") << path("cut.gz") << path("good-labels") << "truncated" << path("cut.gz");
    }
    void idxBadInput() {
        QFETCH(QString, images);
        QFETCH(QString, labels);
        QFETCH(QString, fragment);
        QFETCH(QString, file);
        const QString err = errorOf([&] { readIdx(images.toStdString(), labels.toStdString()); });
        QVERIFY2(err.contains(fragment), qPrintable(err));
        QVERIFY2(err.contains(file), qPrintable(err));
    }

    void idxFolderAutoDetect() {
        QDir(tmp.path()).mkdir("fashion");
        const QString dir = path("fashion");
        writeGzip(dir + "/train-images-idx3-ubyte.gz", idxImages(6, 5, 5));
        writeGzip(dir + "/train-labels-idx1-ubyte.gz", idxLabels({0, 1, 2, 0, 1, 2}));
        writeFile(dir + "/t10k-images-idx3-ubyte", idxImages(3, 5, 5)); // raw works next to gzip
        writeFile(dir + "/t10k-labels-idx1-ubyte", idxLabels({2, 1, 0}));
        const DataBundle b = loadData(dir.toStdString());
        QCOMPARE(QString::fromStdString(b.format), QString("idx"));
        QCOMPARE(b.train.size(), int64_t(6));
        QCOMPARE(b.test.size(), int64_t(3));
        QCOMPARE(b.train.numClasses(), 3);
    }

    void cifar10AndCifar100() {
        QDir(tmp.path()).mkdir("cifar10");
        const QString dir = path("cifar10");
        auto batch = [](int n, int labelBytes, int label) {
            std::vector<uint8_t> b;
            for (int i = 0; i < n; ++i) {
                for (int k = 0; k < labelBytes - 1; ++k)
                    b.push_back(uint8_t(label / 5)); // CIFAR-100 coarse label
                b.push_back(uint8_t((label + i) % (labelBytes == 1 ? 10 : 100)));
                for (int p = 0; p < 3072; ++p)
                    b.push_back(uint8_t(p / 1024 * 100 + i)); // channel-major planes
            }
            return b;
        };
        for (int i = 1; i <= 5; ++i)
            writeFile(dir + QString("/data_batch_%1.bin").arg(i), batch(4, 1, i));
        writeFile(dir + "/test_batch.bin", batch(3, 1, 0));
        const DataBundle b = loadData(dir.toStdString());
        QCOMPARE(QString::fromStdString(b.format), QString("cifar10"));
        QCOMPARE(b.train.size(), int64_t(20));
        QCOMPARE(b.train.channels, 3);
        QCOMPARE(b.train.height, 32);
        QCOMPARE(b.train.labels[0], 1);   // batch 1, image 0
        QCOMPARE(b.train.labels[5], 3);   // batch 2, image 1
        QCOMPARE(int(b.train.pixels[size_t(3072 * 1 + 1024 * 2)]), 201); // image 1, blue plane
        QCOMPARE(b.train.numClasses(), 10);

        QDir(tmp.path()).mkdir("cifar100");
        const QString d100 = path("cifar100");
        writeFile(d100 + "/train.bin", batch(5, 2, 42));
        writeFile(d100 + "/test.bin", batch(2, 2, 7));
        const DataBundle c = loadData(d100.toStdString());
        QCOMPARE(QString::fromStdString(c.format), QString("cifar100"));
        QCOMPARE(c.train.labels[1], 43); // fine label, not the coarse one
        QCOMPARE(c.train.numClasses(), 100);

        std::vector<uint8_t> cut = batch(2, 1, 0);
        cut.pop_back();
        writeFile(dir + "/test_batch.bin", cut);
        const QString err = errorOf([&] { loadData(dir.toStdString()); });
        QVERIFY2(err.contains("test_batch.bin") && err.contains("not a whole number"), qPrintable(err));
    }

    void imageFolder() {
        QDir root(tmp.path());
        root.mkpath("folder/train/cat");
        root.mkpath("folder/train/dog");
        root.mkpath("folder/test/cat");
        root.mkpath("folder/test/dog");
        auto save = [&](const QString& rel, QColor color, int size = 8) {
            QImage img(size, size, QImage::Format_RGB32);
            img.fill(color);
            QVERIFY(img.save(path(rel)));
        };
        save("folder/train/cat/a.png", QColor(255, 0, 0));
        save("folder/train/cat/b.jpg", QColor(250, 0, 0));
        save("folder/train/dog/a.png", QColor(0, 0, 255), 16); // read at 8x8 like the rest
        save("folder/test/cat/c.png", QColor(255, 0, 0));
        save("folder/test/dog/d.bmp", QColor(0, 0, 255));
        DataOptions o;
        o.height = o.width = 8;
        const DataBundle b = loadData(path("folder").toStdString(), DataFormat::Auto, o);
        QCOMPARE(QString::fromStdString(b.format), QString("folder"));
        QCOMPARE(b.train.size(), int64_t(3));
        QCOMPARE(b.test.size(), int64_t(2));
        QVERIFY(!b.testHeldOut);
        QCOMPARE(b.train.channels, 3);
        QCOMPARE(b.train.height, 8);
        QCOMPARE(b.train.classNames, (std::vector<std::string>{"cat", "dog"}));
        QCOMPARE(b.train.labels[2], 1);
        std::vector<uint8_t> px(8 * 8 * 3);
        renderImage(b.train, 0, ViewPolicy::Eval, 0, px.data());
        QCOMPARE(int(px[0]), 255); // cat: red, interleaved H x W x C
        QCOMPARE(int(px[2]), 0);
        renderImage(b.train, 2, ViewPolicy::Eval, 0, px.data());
        QCOMPARE(int(px[size_t((3 * 8 + 5) * 3 + 2)]), 255); // dog: blue
        QVERIFY2(QString::fromStdString(b.summary).contains("5 images in 2 classes"),
                 b.summary.c_str());

        root.mkpath("folder/train/empty");
        const QString err =
            errorOf([&] { loadData(path("folder").toStdString(), DataFormat::Auto, o); });
        QVERIFY2(err.contains("empty") && err.contains("holds no images"), qPrintable(err));
        QDir(path("folder/train/empty")).removeRecursively();

        // One bad file of six is more than the default 1%: loading stops and names it.
        writeFile(path("folder/train/cat/broken.png"), {0x89, 'P', 'N', 'G', 0, 1, 2});
        const QString bad =
            errorOf([&] { loadData(path("folder").toStdString(), DataFormat::Auto, o); });
        QVERIFY2(bad.contains("broken.png") && bad.contains("cannot be decoded") &&
                     bad.contains("1 of 6"),
                 qPrintable(bad));
        QFile::remove(path("folder/train/cat/broken.png"));
    }

    // A folder of 28x28 images with one 300x200 and one 10x10 among them is read at the input
    // size (not the first image's), whatever the sort order.
    void mixedSizesReadAtInputSize_data() {
        QTest::addColumn<int>("size");
        QTest::newRow("preset default 28") << 0;
        QTest::newRow("--size 16") << 16;
    }
    void mixedSizesReadAtInputSize() {
        QFETCH(int, size);
        const QString dir = path(QString("mixed%1").arg(size));
        for (const char* c : {"a", "b"}) {
            QDir().mkpath(dir + "/" + c);
            for (int i = 0; i < 10; ++i) {
                QImage img(28, 28, QImage::Format_Grayscale8);
                img.fill(i * 20);
                QVERIFY(img.save(dir + QString("/%1/%2.png").arg(c).arg(i)));
            }
        }
        QImage big(300, 200, QImage::Format_Grayscale8), tiny(10, 10, QImage::Format_Grayscale8);
        big.fill(100);
        tiny.fill(210);
        QVERIFY(big.save(dir + "/a/!big.png")); // first in sort order: it once set the size
        QVERIFY(tiny.save(dir + "/b/!tiny.png"));
        DataOptions o;
        o.height = o.width = size;
        const DataBundle b = loadData(dir.toStdString(), DataFormat::Auto, o);
        const int expected = size ? size : 28;
        QCOMPARE(b.train.height, expected);
        QCOMPARE(b.train.width, expected);
        QCOMPARE(b.train.channels, 1);
        QCOMPARE(b.train.size() + b.test.size(), int64_t(22));
        const QString summary = QString::fromStdString(b.summary);
        QVERIFY2(summary.contains("10x10 to 300x200") && summary.contains("gray") &&
                     summary.contains("0 skipped") &&
                     summary.contains(QString("read at %1x%1").arg(expected)) &&
                     summary.contains("cached in memory"),
                 qPrintable(summary));
        // Every image renders at the input size; flat images stay flat (the big one 100, the tiny
        // 210).
        std::set<int> values;
        std::vector<uint8_t> px(size_t(expected * expected));
        for (const Dataset* d : {&b.train, &b.test})
            for (int64_t i = 0; i < d->size(); ++i) {
                renderImage(*d, i, ViewPolicy::Eval, 0, px.data());
                QCOMPARE(int(px.front()), int(px[px.size() / 2]));
                values.insert(px.front());
            }
        QVERIFY(values.count(100) && values.count(210) && values.count(180));
    }

    // The crop of each policy on a known image (40x20 and 20x40), computed by hand:
    // Eval scales by max(8 / (0.875 * 20), 8 / (0.875 * 40)) = 0.457, a 17.5-pixel square box;
    // TrainCentre by max(8/20, 8/40) = 0.4, a 20-pixel box.
    void cropBoxOfEachPolicy_data() {
        QTest::addColumn<int>("policy");
        QTest::addColumn<int>("w");
        QTest::addColumn<int>("h");
        QTest::addColumn<int>("outH");
        QTest::addColumn<int>("outW");
        QTest::addColumn<double>("x");
        QTest::addColumn<double>("y");
        QTest::addColumn<double>("bw");
        QTest::addColumn<double>("bh");
        QTest::newRow("eval landscape")
            << int(ViewPolicy::Eval) << 40 << 20 << 8 << 8 << 11.25 << 1.25 << 17.5 << 17.5;
        QTest::newRow("eval portrait")
            << int(ViewPolicy::Eval) << 20 << 40 << 8 << 8 << 1.25 << 11.25 << 17.5 << 17.5;
        QTest::newRow("eval 8x16 target")
            << int(ViewPolicy::Eval) << 40 << 20 << 8 << 16 << 2.5 << 1.25 << 35.0 << 17.5;
        QTest::newRow("train centre")
            << int(ViewPolicy::TrainCentre) << 40 << 20 << 8 << 8 << 10.0 << 0.0 << 20.0 << 20.0;
        // 224 from 500x375, the reference: shorter side to 256, centre 224 = a 328.1-pixel box.
        QTest::newRow("eval imagenet") << int(ViewPolicy::Eval) << 500 << 375 << 224 << 224
                                       << 85.9375 << 23.4375 << 328.125 << 328.125;
    }
    void cropBoxOfEachPolicy() {
        QFETCH(int, policy);
        QFETCH(int, w);
        QFETCH(int, h);
        QFETCH(int, outH);
        QFETCH(int, outW);
        QFETCH(double, x);
        QFETCH(double, y);
        QFETCH(double, bw);
        QFETCH(double, bh);
        const CropBox b = cropBox(ViewPolicy(policy), w, h, outH, outW, 7);
        QVERIFY(std::abs(b.x - x) < 1e-9 && std::abs(b.y - y) < 1e-9);
        QVERIFY(std::abs(b.w - bw) < 1e-9 && std::abs(b.h - bh) < 1e-9);
        QVERIFY(!b.flip);

        // The pixels: a horizontal ramp v = 6 x (x = pixel index) resamples to the box's ramp.
        std::vector<uint8_t> ramp(size_t(w * h));
        for (int yy = 0; yy < h; ++yy)
            for (int xx = 0; xx < w; ++xx)
                ramp[size_t(yy * w + xx)] = uint8_t(std::min(255, 6 * xx));
        if (6 * (w - 1) > 255) return; // the ImageNet row checks the box only
        std::vector<uint8_t> out(size_t(outH * outW));
        renderCrop(ramp.data(), w, h, 1, w, h, b, outH, outW, out.data());
        for (int j = 0; j < outW; ++j) {
            const double centre = b.x + (j + 0.5) * b.w / outW - 0.5;
            QVERIFY2(std::abs(out[size_t(outW + j)] - 6 * centre) <= 2.5,
                     qPrintable(QString("column %1: %2 vs %3")
                                    .arg(j)
                                    .arg(out[size_t(outW + j)])
                                    .arg(6 * centre)));
        }
        // The same crop of an image decoded at half size (JPEG DCT scaling) samples the same ramp.
        std::vector<uint8_t> half(size_t(w / 2 * (h / 2)));
        for (int yy = 0; yy < h / 2; ++yy)
            for (int xx = 0; xx < w / 2; ++xx)
                half[size_t(yy * (w / 2) + xx)] = uint8_t(std::min(255, 12 * xx + 3));
        std::vector<uint8_t> fromHalf(out.size());
        renderCrop(half.data(), w / 2, h / 2, 1, w, h, b, outH, outW, fromHalf.data());
        for (int j = 1; j + 1 < outW; ++j)
            QVERIFY(std::abs(int(fromHalf[size_t(outW + j)]) - int(out[size_t(outW + j)])) <= 3);
    }

    // Random-resized crop: every box inside the image with area 8-100% and aspect 3/4-4/3
    // (or torchvision's centre fallback), the same for the same seed, flipped about half the
    // time, and a flipped crop is the mirror image of the unflipped one.
    void augmentCrop() {
        const int W = 60, H = 40;
        int flips = 0;
        double areaSum = 0;
        for (uint64_t seed = 0; seed < 400; ++seed) {
            const CropBox b = cropBox(ViewPolicy::TrainAugment, W, H, 16, 16, seed);
            QVERIFY(b.x >= 0 && b.y >= 0 && b.x + b.w <= W && b.y + b.h <= H);
            QCOMPARE(b.x, std::floor(b.x)); // integer boxes, as torchvision's
            const double area = b.w * b.h / (W * H), aspect = b.w / b.h;
            QVERIFY2(area >= 0.08 - 0.02 && area <= 1.0, qPrintable(QString::number(area)));
            QVERIFY2(aspect >= 0.75 * 0.95 && aspect <= 4.0 / 3 * 1.05,
                     qPrintable(QString::number(aspect)));
            flips += b.flip;
            areaSum += area;
            const CropBox again = cropBox(ViewPolicy::TrainAugment, W, H, 16, 16, seed);
            QVERIFY(again.x == b.x && again.y == b.y && again.w == b.w && again.flip == b.flip);
        }
        QVERIFY2(flips > 150 && flips < 250, qPrintable(QString::number(flips)));
        // Mean area of U(0.08, 1) is 0.54, less the rejected large-aspect draws.
        QVERIFY2(areaSum / 400 > 0.4 && areaSum / 400 < 0.6,
                 qPrintable(QString::number(areaSum / 400)));

        std::vector<uint8_t> img(size_t(W * H * 3));
        for (size_t i = 0; i < img.size(); ++i)
            img[i] = uint8_t((i * 37) % 251);
        CropBox b{5, 3, 30, 24, false};
        std::vector<uint8_t> plain(16 * 16 * 3), mirrored(16 * 16 * 3);
        renderCrop(img.data(), W, H, 3, W, H, b, 16, 16, plain.data());
        b.flip = true;
        renderCrop(img.data(), W, H, 3, W, H, b, 16, 16, mirrored.data());
        for (int y = 0; y < 16; ++y)
            for (int x = 0; x < 16; ++x)
                for (int c = 0; c < 3; ++c)
                    QCOMPARE(mirrored[size_t((y * 16 + x) * 3 + c)],
                             plain[size_t((y * 16 + 15 - x) * 3 + c)]);
    }

    // Bad files: skipped and listed up to --max-bad (1%), stopped with the list beyond it.
    void badFiles_data() {
        QTest::addColumn<int>("bad");
        QTest::addColumn<bool>("stops");
        QTest::newRow("1 of 151: skipped") << 1 << false;
        QTest::newRow("3 of 153: stopped") << 3 << true;
    }
    void badFiles() {
        QFETCH(int, bad);
        QFETCH(bool, stops);
        const QString dir = path(QString("bad%1").arg(bad));
        for (int c = 0; c < 3; ++c) {
            QDir().mkpath(dir + QString("/c%1").arg(c));
            for (int i = 0; i < 50; ++i) {
                QImage img(12, 10, QImage::Format_RGB32);
                img.fill(QColor(c * 100, i * 5, 50));
                QVERIFY(img.save(dir + QString("/c%1/%2.jpg").arg(c).arg(i, 2, 10, QChar('0'))));
            }
        }
        QImage texture(64, 64, QImage::Format_RGB32);
        for (int y = 0; y < 64; ++y)
            for (int x = 0; x < 64; ++x)
                texture.setPixel(x, y,
                                 qRgb((x * 37 + y * 11) % 256, (x * y) % 256, (x ^ y) * 4 % 256));
        QVERIFY(texture.save(dir + "/c0/whole.jpg.tmp", "JPEG", 95));
        std::vector<uint8_t> jpeg = readFile(dir + "/c0/whole.jpg.tmp");
        QFile::remove(dir + "/c0/whole.jpg.tmp");
        jpeg.resize(jpeg.size() * 3 / 4);
        writeFile(dir + "/c0/cut.jpg", jpeg); // a cut-off JPEG: header fine, data missing
        if (bad > 1) {
            writeFile(dir + "/c1/text.jpg", {'h', 'e', 'l', 'l', 'o'});
            writeFile(dir + "/c2/empty.jpeg", {});
        }
        writeFile(dir + "/c2/notes.txt", {'x'}); // not an image name: ignored, not bad
        DataOptions o;
        o.height = o.width = 8;
        if (stops) {
            const QString err = errorOf([&] { loadData(dir.toStdString(), DataFormat::Auto, o); });
            QVERIFY2(err.contains("3 of 153") && err.contains("cut.jpg") &&
                         err.contains("text.jpg") && err.contains("empty.jpeg") &&
                         err.contains("--max-bad"),
                     qPrintable(err));
            o.maxBad = 0.05; // a higher bound lets it through
        }
        const DataBundle b = loadData(dir.toStdString(), DataFormat::Auto, o);
        QCOMPARE(b.train.size() + b.test.size(), int64_t(150));
        QCOMPARE(int(b.skipped.size()), bad);
        const auto cut = std::find_if(b.skipped.begin(), b.skipped.end(), [](const std::string& f) {
            return f.find("cut.jpg: ") != std::string::npos;
        });
        QVERIFY(cut != b.skipped.end());
        QVERIFY2(cut->find("Premature end") != std::string::npos, cut->c_str());
        const QString summary = QString::fromStdString(b.summary);
        // The cut-off JPEG's header reads, its pixels do not: it is not among the images.
        QVERIFY2(summary.contains(QString("%1 skipped (").arg(bad)) && summary.contains("150 images in 3 classes") &&
                     summary.contains("cut.jpg") && summary.contains("1 other files ignored"),
                 qPrintable(summary));
    }

    // Held-out test split and format detection without test files (issue 9, items 8 and 9).
    void idxWithoutTestFilesHoldsOut() {
        const QString dir = path("idx-train-only");
        QDir().mkpath(dir);
        std::vector<uint8_t> labels;
        for (int i = 0; i < 60; ++i)
            labels.push_back(uint8_t(i % 3)); // 20 per class
        writeGzip(dir + "/train-images-idx3-ubyte.gz", idxImages(60, 4, 4));
        writeFile(dir + "/train-labels-idx1-ubyte", idxLabels(labels));
        const DataBundle b = loadData(dir.toStdString());
        QCOMPARE(QString::fromStdString(b.format), QString("idx"));
        QVERIFY(b.testHeldOut);
        QCOMPARE(b.test.classCounts(), (std::vector<int64_t>{2, 2, 2})); // 10% of 20 each
        QCOMPARE(b.train.size(), int64_t(54));
        QVERIFY2(QString::fromStdString(b.summary).contains("no official test set") &&
                     QString::fromStdString(b.summary).contains("t10k-images-idx3-ubyte"),
                 b.summary.c_str());
        QCOMPARE(loadData(dir.toStdString()).test.labels, b.test.labels); // fixed seed
    }

    void cifarWithoutTestBatchHoldsOut() {
        const QString dir = path("cifar-train-only");
        QDir().mkpath(dir);
        for (int i = 1; i <= 5; ++i) {
            std::vector<uint8_t> batch;
            for (int k = 0; k < 20; ++k) {
                batch.push_back(uint8_t(k % 10));
                batch.insert(batch.end(), 3072, uint8_t(k));
            }
            writeFile(dir + QString("/data_batch_%1.bin").arg(i), batch);
        }
        const DataBundle b = loadData(dir.toStdString());
        QCOMPARE(QString::fromStdString(b.format), QString("cifar10"));
        QVERIFY(b.testHeldOut);
        QCOMPARE(b.test.size(), int64_t(10 * 1)); // 10 per class -> 1 held out each
        QCOMPARE(b.train.size(), int64_t(90));
        QVERIFY2(QString::fromStdString(b.summary).contains("test_batch.bin absent"),
                 b.summary.c_str());
    }

    void idxDetectionNamesFoundAndMissing_data() {
        QTest::addColumn<QStringList>("present");
        QTest::addColumn<QStringList>("missing");
        QTest::newRow("labels only")
            << QStringList{"train-labels-idx1-ubyte"}
            << QStringList{"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"};
        QTest::newRow("one test file")
            << QStringList{"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte"}
            << QStringList{"t10k-labels-idx1-ubyte"};
    }
    void idxDetectionNamesFoundAndMissing() {
        QFETCH(QStringList, present);
        QFETCH(QStringList, missing);
        const QString dir = path("idx-partial-" + QString::number(present.size()));
        QDir().mkpath(dir);
        for (const QString& f : present)
            writeFile(dir + "/" + f,
                      f.contains("labels") ? idxLabels({0, 1, 0, 1}) : idxImages(4, 2, 2));
        const QString err = errorOf([&] { loadData(dir.toStdString()); });
        QVERIFY2(err.contains("IDX") && !err.contains("class sub-folders"), qPrintable(err));
        for (const QString& f : present)
            QVERIFY2(err.contains("found") && err.contains(f), qPrintable(err));
        for (const QString& f : missing)
            QVERIFY2(err.contains("missing") && err.contains(f), qPrintable(err));
    }

    void idxReadAtAnotherSize() {
        const QString dir = path("fashion");
        DataOptions o;
        o.height = o.width = 10;
        const DataBundle b =
            loadData(dir.toStdString(), DataFormat::Auto, o); // written by idxFolderAutoDetect
        QCOMPARE(b.train.height, 10);
        QCOMPARE(b.train.pixels.size(), size_t(6 * 100));
        QVERIFY2(QString::fromStdString(b.summary).contains("resized to 10x10"), b.summary.c_str());
        // Image 1 is a vertical ramp 10..14 over 5 rows: the middle row stays 12.
        QVERIFY(std::abs(int(b.train.pixels[size_t(100 + 5 * 10 + 5)]) - 12) <= 1);
    }

    void imageFolderWithoutSplit() {
        QDir root(tmp.path());
        for (const char* c : {"flat/a", "flat/b"}) {
            root.mkpath(c);
            for (int i = 0; i < 20; ++i) {
                QImage img(4, 4, QImage::Format_Grayscale8);
                img.fill(i);
                QVERIFY(img.save(path(QString("%1/%2.png").arg(c).arg(i, 2, 10, QChar('0')))));
            }
        }
        const DataBundle b = loadData(path("flat").toStdString());
        QCOMPARE(b.train.channels, 1); // every image grayscale
        QCOMPARE(b.test.size(), int64_t(4)); // 10% of each class of 20
        QCOMPARE(b.train.size(), int64_t(36));
        QCOMPARE(b.test.classCounts(), (std::vector<int64_t>{2, 2}));
    }

    // Hidden folders and files (Jupyter's checkpoints, macOS archives, AppleDouble "._" files)
    // are never classes or images, as torchvision's ImageFolder; a link that loops is an
    // unreadable file like others, not a stop.
    void hiddenEntriesAreNotClassesOrImages() {
        QDir root(tmp.path());
        auto save = [&](const QString& rel, int value) {
            QImage img(4, 4, QImage::Format_Grayscale8);
            img.fill(value);
            QVERIFY(img.save(path(rel)));
        };
        for (const char* c : {"hid/a", "hid/b", "hid/.ipynb_checkpoints", "hid/__MACOSX/a"})
            root.mkpath(c);
        for (int i = 0; i < 30; ++i) {
            save(QString("hid/a/%1.png").arg(i, 2, 10, QChar('0')), i);
            save(QString("hid/b/%1.png").arg(i, 2, 10, QChar('0')), 100 + i);
        }
        for (int i = 0; i < 3; ++i)
            save(QString("hid/.ipynb_checkpoints/%1.png").arg(i), 200);
        // AppleDouble resource forks: named like images, not images.
        writeFile(path("hid/a/._00.png"), {0, 5, 22, 7, 0, 2, 0, 0});
        writeFile(path("hid/__MACOSX/a/._01.png"), {0, 5, 22, 7, 0, 2, 0, 0});
        writeFile(path("hid/b/.DS_Store"), {0, 0, 0, 1});
        QVERIFY(QFile::link("loop.png", path("hid/b/loop.png"))); // links to itself
        // Images in a class's sub-folders belong to it, as in ImageFolder; a link back to the
        // class folder is read once; a file beside the class folders is no image.
        root.mkpath("hid/a/more");
        for (int i = 0; i < 5; ++i)
            save(QString("hid/a/more/%1.png").arg(i), 50 + i);
        QVERIFY(QFile::link(path("hid/a"), path("hid/a/more/back")));
        writeFile(path("hid/README.txt"), {'x'});
        DataOptions o;
        o.maxBad = 0.05;
        const DataBundle b = loadData(path("hid").toStdString(), DataFormat::Auto, o);
        QCOMPARE(b.train.classNames, (std::vector<std::string>{"a", "b"}));
        QCOMPARE(b.train.size() + b.test.size(), int64_t(65));
        QCOMPARE(b.train.classCounts()[0] + b.test.classCounts()[0], int64_t(35));
        QCOMPARE(int(b.skipped.size()), 1);
        QVERIFY2(QString::fromStdString(b.skipped[0]).contains("loop.png: cannot open (Too many levels of symbolic links)"),
                 b.skipped[0].c_str());
        // Counted at every level: .ipynb_checkpoints, __MACOSX, a/._00.png, b/.DS_Store.
        const QString summary = QString::fromStdString(b.summary);
        QVERIFY2(summary.contains("65 images in 2 classes") && summary.contains("1 skipped (loop.png") &&
                     summary.contains("1 other files ignored") &&
                     summary.contains("4 hidden files/folders skipped (names starting with '.', __MACOSX)"),
                 qPrintable(summary));

        // With train/ and test/ folders: what lies beside them is counted too, and a test folder
        // whose classes differ says which.
        for (const char* c : {"split/train/a", "split/train/b", "split/test/a", "split/test/b", "split/.git"})
            root.mkpath(c);
        for (int i = 0; i < 4; ++i)
            for (const char* c : {"split/train/a", "split/train/b", "split/test/a", "split/test/b"})
                save(QString("%1/%2.png").arg(c).arg(i), 10 * i);
        writeFile(path("split/notes.txt"), {'x'});
        const QString splitSummary = QString::fromStdString(loadData(path("split").toStdString()).summary);
        QVERIFY2(splitSummary.contains("1 other files ignored") && splitSummary.contains("1 hidden files/folders skipped"),
                 qPrintable(splitSummary));
        root.mkpath("split/test/c");
        save("split/test/c/0.png", 1);
        const QString differ = errorOf([&] { loadData(path("split").toStdString()); });
        QVERIFY2(differ.contains("class folders differ from the training folder's (only here: c)"), qPrintable(differ));
    }

    void singleClassRefused() {
        QDir(tmp.path()).mkpath("one/only");
        QImage img(4, 4, QImage::Format_Grayscale8);
        for (int i = 0; i < 12; ++i) {
            img.fill(i);
            QVERIFY(img.save(path(QString("one/only/%1.png").arg(i))));
        }
        const QString err = errorOf([&] { loadData(path("one").toStdString()); });
        QVERIFY2(err.contains("single class"), qPrintable(err));
    }

    void missingFolder() {
        const QString err = errorOf([&] { loadData(path("does-not-exist").toStdString()); });
        QVERIFY2(err.contains("does-not-exist") && err.contains("not found"), qPrintable(err));
        QVERIFY(errorOf([] { parseDataFormat("png"); }).contains("png"));
    }

    void searchSplitIsBalancedAndDisjoint() {
        Dataset d;
        d.channels = d.height = d.width = 1;
        d.classNames = {"a", "b", "c"};
        for (int i = 0; i < 90; ++i) {
            d.labels.push_back(i % 3);
            d.pixels.push_back(uint8_t(i));
        }
        const SearchSplit s = makeSearchSplit(d, 7, 42);
        QCOMPARE(s.search.size(), size_t(21));
        QCOMPARE(s.train.size(), size_t(69));
        std::vector<int> perClass(3, 0);
        for (int64_t i : s.search)
            ++perClass[size_t(d.labels[size_t(i)])];
        QCOMPARE(perClass, (std::vector<int>{7, 7, 7}));
        std::set<int64_t> all(s.search.begin(), s.search.end());
        for (int64_t i : s.train)
            QVERIFY(all.insert(i).second); // disjoint
        QCOMPARE(all.size(), size_t(90));
        QCOMPARE(makeSearchSplit(d, 7, 42).search, s.search); // fixed seed
        QVERIFY(makeSearchSplit(d, 7, 43).search != s.search);
        const QString err = errorOf([&] { makeSearchSplit(d, 30, 1); });
        QVERIFY2(err.contains("class 'a'") && err.contains("30"), qPrintable(err));
    }

    void statsAndSubset() {
        Dataset d;
        d.channels = 1;
        d.height = 1;
        d.width = 2;
        d.classNames = {"a", "b"};
        d.pixels = {0, 255, 255, 255, 0, 0};
        d.labels = {0, 1, 0};
        std::vector<float> mean, sd;
        channelStats(d, {0, 1}, mean, sd);
        // Pixels 0, 1, 1, 1 (0..1 scale): mean 0.75, std sqrt(0.1875).
        QCOMPARE(mean[0], 0.75f);
        QVERIFY(std::abs(sd[0] - std::sqrt(0.1875f)) < 1e-6f);
        const Dataset s = subsetPerClass(d, 1);
        QCOMPARE(s.size(), int64_t(2));
        QCOMPARE(s.labels, (std::vector<int>{0, 1}));
        QCOMPARE(int(s.pixels[2]), 255);
    }

    // New settings are written only when set: a project's config text, and so its checkpoint
    // name, stays what it was before input sizes and --max-bad existed.
    void trainConfigJsonCompatible() {
        const std::string old =
            R"({"augment":false,"batch_size":128,"data_format":"auto","data_path":"/usr/share/datasets/fashion-mnist",)"
            R"("epochs":4,"family":"mobilenetv2","full_width_prob":0.5,"generator_update":"sparse",)"
            R"("label_smoothing":0.1,"lr":0.4,"momentum":0.9,"preset":"small","search_per_class":500,"seed":"1",)"
            R"("test_per_class":0,"train_per_class":0,"warmup_steps":200,"weight_decay":0})";
        TrainConfig before; // the defaults of that time: a search split of 500 per class
        before.searchPerClass = 500;
        QCOMPARE(toJson(before), old);
        // Today's default split is sized automatically (0); sampling, in-place distillation and
        // synchronised batch norm appear only when set.
        const std::string now = toJson(TrainConfig{});
        QVERIFY2(now.find(R"("search_per_class":0)") != std::string::npos &&
                     now.find("sampling") == std::string::npos && now.find("inplace") == std::string::npos &&
                     now.find("bn_ranks") == std::string::npos,
                 now.c_str());
        TrainConfig sandwich;
        sandwich.sampling = Sampling::Sandwich;
        sandwich.inplaceDistill = true;
        sandwich.batchNormRanks = 2;
        const TrainConfig sw = trainConfigFromJson(toJson(sandwich));
        QVERIFY(sw.sampling == Sampling::Sandwich && sw.inplaceDistill && sw.batchNormRanks == 2);
        QCOMPARE(sw.sandwichRandom, 2);
        const TrainConfig read = trainConfigFromJson(old);
        QCOMPARE(read.inputHeight, 0);
        QCOMPARE(read.maxBad, 0.01);
        QCOMPARE(toJson(read), old);
        TrainConfig c;
        c.inputHeight = 224;
        c.inputWidth = 192;
        c.maxBad = 0.05;
        const std::string json = toJson(c);
        QVERIFY2(json.find(R"("input_size":"224x192")") != std::string::npos &&
                     json.find(R"("max_bad":0.05)") != std::string::npos,
                 json.c_str());
        const TrainConfig back = trainConfigFromJson(json);
        QCOMPARE(back.inputHeight, 224);
        QCOMPARE(back.inputWidth, 192);
        QCOMPARE(back.maxBad, 0.05);
        int h = 0, w = 0;
        folderInputSize(TrainConfig{}, h, w);
        QCOMPARE(h, 28);
        c = TrainConfig{};
        c.preset = "paper";
        folderInputSize(c, h, w);
        QCOMPARE(w, 224);
        c.preset = "small";
        c.family = "resnet";
        folderInputSize(c, h, w);
        QCOMPARE(h, 32);
    }

    void realFashionMnist() {
        const DataBundle b = loadData(FASHION_MNIST_DIR);
        QCOMPARE(b.train.size(), int64_t(60000));
        QCOMPARE(b.test.size(), int64_t(10000));
        QCOMPARE(b.train.height, 28);
        QCOMPARE(b.train.classNames.front(), std::string("T-shirt/top"));
        QCOMPARE(b.train.classCounts(), std::vector<int64_t>(10, 6000));
    }
};

QTEST_GUILESS_MAIN(TestDataset)
#include "tst_dataset.moc"
