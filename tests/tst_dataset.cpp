// Data readers on tiny generated files in the standard formats, every bad-input case, and the
// class-balanced search split.
#include "metaprune/dataset.h"

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
        save("folder/train/dog/a.png", QColor(0, 0, 255), 16); // resized to 8x8
        save("folder/test/cat/c.png", QColor(255, 0, 0));
        save("folder/test/dog/d.bmp", QColor(0, 0, 255));
        const DataBundle b = loadData(path("folder").toStdString());
        QCOMPARE(QString::fromStdString(b.format), QString("folder"));
        QCOMPARE(b.train.size(), int64_t(3));
        QCOMPARE(b.test.size(), int64_t(2));
        QCOMPARE(b.train.channels, 3);
        QCOMPARE(b.train.height, 8);
        QCOMPARE(b.train.classNames, (std::vector<std::string>{"cat", "dog"}));
        QCOMPARE(b.train.labels[2], 1);
        QCOMPARE(int(b.train.pixels[0]), 255);                              // cat: red plane
        QCOMPARE(int(b.train.pixels[size_t(2 * 192 + 2 * 64 + 10)]), 255); // dog: blue plane

        root.mkpath("folder/train/empty");
        const QString err = errorOf([&] { loadData(path("folder").toStdString()); });
        QVERIFY2(err.contains("empty") && err.contains("holds no images"), qPrintable(err));
        QDir(path("folder/train/empty")).removeRecursively();

        writeFile(path("folder/train/cat/broken.png"), {0x89, 'P', 'N', 'G', 0, 1, 2});
        const QString bad = errorOf([&] { loadData(path("folder").toStdString()); });
        QVERIFY2(bad.contains("broken.png") && bad.contains("cannot decode"), qPrintable(bad));
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
