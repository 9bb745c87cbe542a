// Image decoding (conversion rules, DCT scaling, EXIF orientation), the prefetching batch
// loader (the same batches with 1 and 4 decode threads, cached or streamed) and deterministic
// training and resume on an image folder.
#include "batch.h" // LibTorch first: Qt defines `slots` (platform.md)
#include "image_io.h"
#include "training_p.h"

#include <QBuffer>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <stb/stb_image_write.h>
#include <turbojpeg.h>
#include <zlib.h>

#include <fstream>

using namespace mp;
using namespace mp::detail;

namespace {

std::vector<uint8_t> fileBytes(const QString& path) {
    std::ifstream in(path.toStdString(), std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
}

void writeBytes(const QString& path, const std::vector<uint8_t>& b) {
    std::ofstream out(path.toStdString(), std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

std::vector<uint8_t> jpegOf(const QImage& img, int quality = 100) {
    QByteArray a;
    QBuffer buf(&a);
    buf.open(QIODevice::WriteOnly);
    img.save(&buf, "JPEG", quality);
    return std::vector<uint8_t>(a.begin(), a.end());
}

// An APP1 segment holding a big-endian TIFF IFD with one entry: Orientation (0x0112) = o.
std::vector<uint8_t> exifSegment(int o) {
    std::vector<uint8_t> p = {
        'E',  'x',  'i', 'f', 0, 0, 'M', 'M', 0, 42,         0, 0, 0, 8, // TIFF header, IFD at 8
        0,    1,                                                         // one entry
        0x01, 0x12, 0,   3,   0, 0, 0,   1,   0, uint8_t(o), 0, 0,       // SHORT, count 1
        0,    0,    0,   0};                                             // no next IFD
    std::vector<uint8_t> seg = {0xFF, 0xE1, uint8_t((p.size() + 2) >> 8),
                                uint8_t((p.size() + 2) & 0xFF)};
    seg.insert(seg.end(), p.begin(), p.end());
    return seg;
}

void chunk(std::vector<uint8_t>& png, const char* type, const std::vector<uint8_t>& data) {
    const uint32_t n = uint32_t(data.size());
    png.insert(png.end(), {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)});
    const size_t start = png.size();
    png.insert(png.end(), type, type + 4);
    png.insert(png.end(), data.begin(), data.end());
    const uLong crc = crc32(0, png.data() + start, uInt(png.size() - start));
    png.insert(png.end(), {uint8_t(crc >> 24), uint8_t(crc >> 16), uint8_t(crc >> 8), uint8_t(crc)});
}

/// A valid, all-black PNG of `side` x `side` with colour type `colourType` (0 gray, 2 RGB,
/// 3 palette, 6 RGBA; 8 bits), its rows deflated one at a time (a few MB for 20000x20000).
std::vector<uint8_t> blackPng(int side, int colourType) {
    const int channels = colourType == 2 ? 3 : colourType == 6 ? 4 : 1;
    std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const uint8_t s3 = uint8_t(side >> 24), s2 = uint8_t(side >> 16), s1 = uint8_t(side >> 8), s0 = uint8_t(side);
    chunk(png, "IHDR", {s3, s2, s1, s0, s3, s2, s1, s0, 8, uint8_t(colourType), 0, 0, 0});
    if (colourType == 3)
        chunk(png, "PLTE", {0, 0, 0});
    z_stream z{};
    deflateInit(&z, 1);
    std::vector<uint8_t> row(size_t(side) * channels + 1, 0), idat, buf(1 << 16);
    for (int y = 0; y <= side; ++y) {
        z.next_in = row.data();
        z.avail_in = y < side ? uInt(row.size()) : 0;
        const int flush = y < side ? Z_NO_FLUSH : Z_FINISH;
        do {
            z.next_out = buf.data();
            z.avail_out = uInt(buf.size());
            deflate(&z, flush);
            idat.insert(idat.end(), buf.data(), buf.data() + (buf.size() - z.avail_out));
        } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    chunk(png, "IDAT", idat);
    chunk(png, "IEND", {});
    return png;
}

// A folder of `perClass` images per class of mixed sizes (JPEG and PNG), learnable: class k
// is a bright quadrant k.
void makeFolder(const QString& dir, int perClass, int classes = 4) {
    for (int c = 0; c < classes; ++c) {
        QDir().mkpath(dir + QString("/class%1").arg(c));
        for (int i = 0; i < perClass; ++i) {
            const int w = 16 + (i * 7) % 30, h = 16 + (i * 5) % 20;
            QImage img(w, h, QImage::Format_RGB32);
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) {
                    const bool on = (y * 2 / h) == (c / 2) && (x * 2 / w) == (c % 2);
                    img.setPixel(x, y,
                                 qRgb(on ? 220 : (x * 13 + i) % 60, on ? 200 : (y * 7) % 60,
                                      (x + y + i) % 90));
                }
            const QString name = dir + QString("/class%1/%2.%3")
                                           .arg(c)
                                           .arg(i, 3, 10, QChar('0'))
                                           .arg(i % 3 ? "jpg" : "png");
            QVERIFY(img.save(name));
        }
    }
}

} // namespace

class TestLoader : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;

private slots:
    void initTestCase() { at::set_num_threads(1); }

    // Each conversion rule on a file with a known colour: the decoded size and one pixel.
    void conversions_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("channels");
        QTest::addColumn<int>("width");
        QTest::addColumn<int>("height");
        QTest::addColumn<int>("x");
        QTest::addColumn<int>("y");
        QTest::addColumn<QList<int>>("expected");

        QImage g16(6, 4, QImage::Format_Grayscale16);
        g16.fill(QColor::fromRgba64(0x8040, 0x8040, 0x8040)); // high byte 0x80
        QVERIFY(g16.save(tmp.filePath("gray16.png")));
        QImage rgba(6, 4, QImage::Format_ARGB32);
        rgba.fill(qRgba(10, 20, 30, 128));
        QVERIFY(rgba.save(tmp.filePath("rgba.png")));
        const std::vector<uint8_t> ga = {77, 200, 77, 200, 77, 200, 77, 200}; // 2x2 gray + alpha
        QVERIFY(stbi_write_png(tmp.filePath("gray-alpha.png").toStdString().c_str(), 2, 2, 2,
                               ga.data(), 4));

        // CMYK as Photoshop writes it (Adobe marker, inverted): red ink M = Y = 255.
        std::vector<uint8_t> cmyk;
        for (int i = 0; i < 16 * 16; ++i)
            cmyk.insert(cmyk.end(), {255, 0, 0, 255});
        tjhandle tj = tjInitCompress();
        unsigned char* jpeg = nullptr;
        unsigned long size = 0;
        QCOMPARE(
            tjCompress2(tj, cmyk.data(), 16, 0, 16, TJPF_CMYK, &jpeg, &size, TJSAMP_444, 100, 0),
            0);
        writeBytes(tmp.filePath("cmyk.jpg"), std::vector<uint8_t>(jpeg, jpeg + size));
        tjFree(jpeg);
        tjDestroy(tj);
        // A plain CMYK JPEG (no colour transform) without the Adobe marker, written by PIL with
        // its APP14 segment removed; PIL's own RGB and gray readings of it are the reference:
        // every CMYK JPEG is read as Adobe's inverted CMYK, marker or not, as PIL does.
        QProcess py;
        py.start("/usr/bin/python3",
                 {"-c", "import io, sys\n"
                        "from PIL import Image\n"
                        "b = io.BytesIO()\n"
                        "Image.new('CMYK', (16, 16), (55, 155, 205, 105)).save(b, 'JPEG', quality=100)\n"
                        "d = b.getvalue(); i = d.find(b'\\xff\\xee'); assert d[i + 4:i + 9] == b'Adobe'\n"
                        "d = d[:i] + d[i + 2 + (d[i + 2] << 8 | d[i + 3]):]\n"
                        "open(sys.argv[1], 'wb').write(d)\n"
                        "im = Image.open(io.BytesIO(d)); assert 'adobe' not in im.info\n"
                        "print(*im.convert('RGB').getpixel((8, 8)), im.convert('L').getpixel((8, 8)))\n",
                  tmp.filePath("cmyk-no-adobe.jpg")});
        QVERIFY2(py.waitForFinished(60000) && py.exitCode() == 0,
                 qPrintable("python3 with PIL (python3-pil) failed: " + QString::fromUtf8(py.readAllStandardError())));
        const QStringList pil = QString::fromUtf8(py.readAllStandardOutput()).split(' ', Qt::SkipEmptyParts);
        QCOMPARE(pil.size(), 4);

        // A landscape photo stored with EXIF orientation 6 (rotate 90 degrees clockwise to view):
        // its left half (red) becomes the top half.
        QImage land(16, 8, QImage::Format_RGB32);
        for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 16; ++x)
                land.setPixel(x, y, x < 8 ? qRgb(255, 0, 0) : qRgb(0, 0, 255));
        std::vector<uint8_t> j = jpegOf(land);
        const std::vector<uint8_t> app1 = exifSegment(6);
        j.insert(j.begin() + 2, app1.begin(), app1.end());
        writeBytes(tmp.filePath("rotated.jpg"), j);

        QImage gray(8, 8, QImage::Format_Grayscale8);
        gray.fill(90);
        QVERIFY(gray.save(tmp.filePath("gray.jpg"), "JPEG", 100));

        QTest::newRow("16-bit gray PNG: high byte")
            << "gray16.png" << 1 << 6 << 4 << 2 << 2 << QList<int>{128};
        QTest::newRow("RGBA PNG: alpha dropped")
            << "rgba.png" << 3 << 6 << 4 << 1 << 1 << QList<int>{10, 20, 30};
        QTest::newRow("gray+alpha PNG: alpha dropped")
            << "gray-alpha.png" << 1 << 2 << 2 << 1 << 1 << QList<int>{77};
        QTest::newRow("gray PNG in an RGB set: replicated")
            << "gray-alpha.png" << 3 << 2 << 2 << 0 << 0 << QList<int>{77, 77, 77};
        QTest::newRow("Adobe CMYK JPEG: (255-C)(255-K)/255")
            << "cmyk.jpg" << 3 << 16 << 16 << 8 << 8 << QList<int>{255, 0, 0};
        QTest::newRow("CMYK JPEG without Adobe marker: as PIL")
            << "cmyk-no-adobe.jpg" << 3 << 16 << 16 << 8 << 8
            << QList<int>{pil[0].toInt(), pil[1].toInt(), pil[2].toInt()};
        QTest::newRow("CMYK JPEG without Adobe marker, gray set: as PIL")
            << "cmyk-no-adobe.jpg" << 1 << 16 << 16 << 8 << 8 << QList<int>{pil[3].trimmed().toInt()};
        QTest::newRow("EXIF orientation 6: top red")
            << "rotated.jpg" << 3 << 8 << 16 << 4 << 2 << QList<int>{255, 0, 0};
        QTest::newRow("EXIF orientation 6: bottom blue")
            << "rotated.jpg" << 3 << 8 << 16 << 4 << 13 << QList<int>{0, 0, 255};
        QTest::newRow("gray JPEG in an RGB set")
            << "gray.jpg" << 3 << 8 << 8 << 3 << 3 << QList<int>{90, 90, 90};
    }
    void conversions() {
        QFETCH(QString, file);
        QFETCH(int, channels);
        QFETCH(int, width);
        QFETCH(int, height);
        QFETCH(int, x);
        QFETCH(int, y);
        QFETCH(QList<int>, expected);
        const std::vector<uint8_t> bytes = fileBytes(tmp.filePath(file));
        ImageHeader h;
        QCOMPARE(QString::fromStdString(probeImage(bytes.data(), bytes.size(), h)), QString());
        QCOMPARE(h.width, width); // the header already tells the oriented size
        QCOMPARE(h.height, height);
        if (file == "gray16.png") QVERIFY(h.sixteenBit);
        if (file.startsWith("cmyk")) QVERIFY(h.cmyk && h.colour);
        Image img;
        for (bool turbo : {true, false}) {
            if (!turbo && file.startsWith("cmyk")) continue; // stb_image reads no CMYK
            QCOMPARE(QString::fromStdString(
                         decodeImage(bytes.data(), bytes.size(), channels, 0, turbo, img)),
                     QString());
            QCOMPARE(img.width, width);
            QCOMPARE(img.height, height);
            QCOMPARE(img.channels, channels);
            for (int c = 0; c < channels; ++c) {
                const int v = img.pixels[size_t((y * width + x) * channels + c)];
                QVERIFY2(std::abs(v - expected[c]) <= 3,
                         qPrintable(QString("channel %1: %2 vs %3 (%4)")
                                        .arg(c)
                                        .arg(v)
                                        .arg(expected[c])
                                        .arg(turbo ? "turbo" : "stb")));
            }
        }
    }

    // An image too large to decode is refused from its header, for every colour type and
    // format, with its size and the limit (a 20000x20000 RGB PNG was called a truncated header).
    void tooLargeNamedFromTheHeader_data() {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QString>("size");
        for (const auto& [type, name] : {std::pair{2, "RGB"}, std::pair{0, "gray"}, std::pair{3, "palette"}}) {
            const std::vector<uint8_t> png = blackPng(20000, type);
            QTest::addRow("%s PNG", name) << QByteArray(reinterpret_cast<const char*>(png.data()), int(png.size()))
                                          << "20000x20000";
        }
        // The same size in a BMP header (BITMAPINFOHEADER, 24 bits, rows bottom-up) and a JPEG
        // frame of 65000x65000.
        std::vector<uint8_t> bmp(54, 0);
        bmp[0] = 'B';
        bmp[1] = 'M';
        bmp[10] = 54;
        bmp[14] = 40;
        bmp[18] = bmp[22] = 0x20;
        bmp[19] = bmp[23] = 0x4E; // 20000
        bmp[26] = 1;
        bmp[28] = 24;
        QTest::newRow("BMP header") << QByteArray(reinterpret_cast<const char*>(bmp.data()), int(bmp.size()))
                                    << "20000x20000";
        QImage small(8, 8, QImage::Format_RGB32);
        small.fill(Qt::gray);
        std::vector<uint8_t> j = jpegOf(small);
        const uint8_t sof[] = {0xFF, 0xC0};
        auto at = std::search(j.begin(), j.end(), std::begin(sof), std::end(sof));
        QVERIFY(at != j.end());
        at[5] = at[7] = 0xFD;
        at[6] = at[8] = 0xE8; // 65000
        QTest::newRow("JPEG frame") << QByteArray(reinterpret_cast<const char*>(j.data()), int(j.size()))
                                    << "65000x65000";
    }
    void tooLargeNamedFromTheHeader() {
        QFETCH(QByteArray, file);
        QFETCH(QString, size);
        const auto* d = reinterpret_cast<const uint8_t*>(file.constData());
        ImageHeader h;
        const QString why = QString::fromStdString(probeImage(d, size_t(file.size()), h));
        const QStringList wh = size.split('x');
        QCOMPARE(why, "image of " + size + " is too large (" + QString::number(wh[0].toLongLong() * wh[1].toLongLong()) +
                          " pixels; the limit is 268435456)");
        Image img;
        QCOMPARE(QString::fromStdString(decodeImage(d, size_t(file.size()), 3, 0, true, img)), why);
        // In a folder, the file is skipped with that reason.
        const QString dir = tmp.filePath("large-" + QString(QTest::currentDataTag()).replace(' ', '-'));
        makeFolder(dir, 60, 2);
        const QString ext = file.startsWith("BM") ? "bmp" : file.startsWith("\x89PNG") ? "png" : "jpg";
        writeBytes(dir + "/class0/huge." + ext, std::vector<uint8_t>(d, d + file.size()));
        DataOptions o;
        o.height = o.width = 16;
        const DataBundle b = loadData(dir.toStdString(), DataFormat::Folder, o);
        QCOMPARE(int(b.skipped.size()), 1);
        QVERIFY2(QString::fromStdString(b.skipped[0]).endsWith(": " + why), b.skipped[0].c_str());
    }

    // libjpeg-turbo decodes at the smallest n/8 scale that keeps the shorter side: 400x300 with
    // 70 needed -> 2/8 = 100x75 (1/8 would give 38).
    void dctScaling() {
        QImage img(400, 300, QImage::Format_RGB32);
        img.fill(QColor(40, 80, 120));
        const std::vector<uint8_t> j = jpegOf(img, 90);
        ImageHeader h;
        QVERIFY(probeImage(j.data(), j.size(), h).empty());
        int w = 0, ht = 0;
        decodedSize(h, 70, w, ht);
        QCOMPARE(w, 100);
        QCOMPARE(ht, 75);
        Image out;
        QVERIFY(decodeImage(j.data(), j.size(), 3, 70, true, out).empty());
        QCOMPARE(out.width, 100);
        QCOMPARE(out.height, 75);
        QVERIFY(std::abs(int(out.pixels[3 * (40 * 100 + 50) + 2]) - 120) <= 3);
        QCOMPARE(neededShorterSide(ViewPolicy::Eval, 224, 224), 256);
        QCOMPARE(neededShorterSide(ViewPolicy::TrainCentre, 224, 224), 224);
        QCOMPARE(neededShorterSide(ViewPolicy::TrainAugment, 28, 28), 115); // 28 / sqrt(0.06)
    }

    // The batches depend on the request only: 1 and 4 decode threads, cached or streamed.
    void sameBatchesWhateverThreads() {
        const QString dir = tmp.filePath("mixed");
        makeFolder(dir, 12);
        std::vector<torch::Tensor> reference;
        for (const auto& [threads, cacheBytes] :
             {std::pair{1, int64_t(0)}, std::pair{4, int64_t(0)}, std::pair{4, int64_t(-1)},
              std::pair{1, int64_t(-1)}}) {
            DataOptions o;
            o.height = o.width = 20;
            o.augment = true;
            o.decodeThreads = threads;
            o.cacheBytes = cacheBytes;
            const DataBundle b = loadData(dir.toStdString(), DataFormat::Folder, o);
            QVERIFY2(
                QString::fromStdString(b.summary).contains(cacheBytes == 0 ? "streamed" : "cached"),
                b.summary.c_str());
            std::vector<int64_t> order(size_t(b.train.size()));
            std::iota(order.begin(), order.end(), 0);
            std::reverse(order.begin(), order.end());
            const Normalization norm{{0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f}};
            BatchPrefetcher pre(b.train, norm,
                                orderedBatches(order, 8, 0, int64_t(order.size()) / 8,
                                               ViewPolicy::TrainAugment,
                                               [](int64_t k) { return uint64_t(1000 + k); }),
                                threads, 2);
            std::vector<torch::Tensor> got;
            for (int64_t k = 0; k < int64_t(order.size()) / 8; ++k) {
                got.push_back(pre.next());
                QCOMPARE(got.back().sizes().vec(), (std::vector<int64_t>{8, 3, 20, 20}));
                QVERIFY(got.back().is_contiguous(at::MemoryFormat::ChannelsLast));
            }
            if (reference.empty()) {
                reference = got;
                // Other seeds give other crops.
                BatchRequest r;
                r.indices.assign(order.begin(), order.begin() + 8);
                r.policy = ViewPolicy::TrainAugment;
                r.seed = 1;
                QVERIFY(!torch::equal(makeFolderBatch(b.train, r, norm), reference[0]));
                continue;
            }
            QCOMPARE(got.size(), reference.size());
            for (size_t k = 0; k < got.size(); ++k)
                QVERIFY2(torch::equal(got[k], reference[k]),
                         qPrintable(QString("batch %1, %2 threads, cache %3")
                                        .arg(k)
                                        .arg(threads)
                                        .arg(cacheBytes)));
        }
    }

    // A file whose header reads but whose data is cut off, streamed: replaced by the next image
    // of its class, listed; training goes on.
    void lateFailureIsReplacedAndListed() {
        const QString dir = tmp.filePath("late");
        makeFolder(dir, 6, 2);
        QImage texture(64, 64, QImage::Format_RGB32);
        for (int y = 0; y < 64; ++y)
            for (int x = 0; x < 64; ++x)
                texture.setPixel(x, y,
                                 qRgb((x * 37 + y * 11) % 256, (x * y) % 256, (x ^ y) * 4 % 256));
        std::vector<uint8_t> j = jpegOf(texture, 95);
        j.resize(j.size() * 3 / 4);
        writeBytes(dir + "/class0/000.jpg", j); // replaces a good PNG... of the same sort position
        QFile::remove(dir + "/class0/000.png");
        DataOptions o;
        o.height = o.width = 16;
        o.cacheBytes = 0;
        o.maxBad = 0; // the header is fine: loading cannot know
        const DataBundle b = loadData(dir.toStdString(), DataFormat::Folder, o);
        QVERIFY2(QString::fromStdString(b.summary).contains("0 skipped"), b.summary.c_str());
        std::vector<uint8_t> px(16 * 16 * 3);
        for (const Dataset* d : {&b.train, &b.test})
            for (int64_t i = 0; i < d->size(); ++i)
                renderImage(*d, i, ViewPolicy::Eval, 0, px.data());
        const std::vector<std::string> late = lateFailures(b.train);
        QCOMPARE(int(late.size()), 1);
        QVERIFY2(late[0].find("000.jpg: corrupt JPEG") != std::string::npos, late[0].c_str());
    }

    // Training on an image folder with augmentation: the same result with 1 and 4 decode threads,
    // and a run cancelled mid-epoch and resumed equals the uninterrupted one.
    void trainingIsDeterministic() {
        const QString dir = tmp.filePath("train");
        makeFolder(dir, 40);
        TrainConfig cfg;
        cfg.dataPath = dir.toStdString();
        cfg.dataFormat = "folder";
        cfg.inputHeight = cfg.inputWidth = 16;
        cfg.augment = true;
        cfg.searchPerClass = 4;
        cfg.epochs = 2;
        cfg.batchSize = 8;
        cfg.warmupSteps = 5;
        cfg.lr = 0.1;
        LoaderSettings one, four;
        one.decodeThreads = 1;
        one.cacheBytes = 0;
        four.decodeThreads = 4;
        four.cacheBytes = 0;
        const DataBundle a = loadTrainingData(cfg, one), b = loadTrainingData(cfg, four);
        QCOMPARE(a.train.size(), int64_t(4 * 36)); // 4 held out for testing per class
        const std::string whole = tmp.filePath("whole.pt").toStdString();
        std::vector<double> lossA, lossB;
        TrainCallbacks ca;
        ca.epochEnd = [&](const TrainProgress& p) { lossA.push_back(p.loss); };
        QVERIFY(trainPruningNet(a, cfg, whole, ca).finished);

        const std::string parts = tmp.filePath("parts.pt").toStdString();
        std::atomic<bool> cancel{false};
        TrainCallbacks cb;
        cb.progress = [&](const TrainProgress& p) {
            if (p.step >= 20) cancel = true;
        };
        cb.epochEnd = [&](const TrainProgress& p) { lossB.push_back(p.loss); };
        const TrainOutcome first = trainPruningNet(b, cfg, parts, cb, &cancel);
        QCOMPARE(first.steps, int64_t(20)); // epoch 2 of 16-step epochs, mid-way
        cancel = false;
        QVERIFY(trainPruningNet(b, cfg, parts, {}, &cancel).finished);
        QCOMPARE(lossB.size(), size_t(1));
        QCOMPARE(lossB[0], lossA[0]); // the first epoch, bit for bit

        CheckpointInfo ia, ib;
        PruningNetModule na = loadCheckpoint(whole, ia);
        PruningNetModule nb = loadCheckpoint(parts, ib);
        QCOMPARE(ia.step, ib.step);
        QCOMPARE(ia.mean, ib.mean);
        QVERIFY2(QString::fromStdString(ia.dataSummary).contains("random-resized crop"),
                 ia.dataSummary.c_str());
        const Encoding e = uniformEncoding(na->arch(), 20);
        const PrunedWeights wa = na->generate(e), wb = nb->generate(e);
        for (size_t i = 0; i < wa.conv.size(); ++i)
            if (wa.conv[i].defined()) QVERIFY(torch::allclose(wa.conv[i], wb.conv[i], 1e-4, 1e-6));
    }
};

QTEST_GUILESS_MAIN(TestLoader)
#include "tst_loader.moc"
