#include "image_io.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <random>

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <zlib.h>

namespace fs = std::filesystem;

namespace mp {

std::vector<int64_t> Dataset::classCounts() const {
    std::vector<int64_t> counts(size_t(numClasses()), 0);
    for (int l : labels)
        if (l >= 0 && l < numClasses())
            ++counts[size_t(l)];
    return counts;
}

namespace {

// Reads a whole file; gzip data is inflated (zlib reads uncompressed files transparently).
std::vector<uint8_t> readMaybeGzip(const std::string& path) {
    if (!fs::exists(path))
        throw DataError(path + ": file not found");
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f)
        throw DataError(path + ": cannot open");
    std::vector<uint8_t> out;
    std::vector<uint8_t> buf(1 << 20);
    for (;;) {
        const int n = gzread(f, buf.data(), unsigned(buf.size()));
        if (n < 0) {
            int err = 0;
            const std::string msg = gzerror(f, &err);
            gzclose(f);
            throw DataError(path + ": corrupt or truncated gzip data (" + msg + ")");
        }
        if (n == 0)
            break;
        out.insert(out.end(), buf.begin(), buf.begin() + n);
    }
    // gzread returns 0 at a cut-off gzip stream too; zlib reports it through gzerror.
    int err = 0;
    const char* msg = gzerror(f, &err);
    if (err != Z_OK && err != Z_STREAM_END) {
        const std::string m = msg;
        gzclose(f);
        throw DataError(path + ": corrupt or truncated gzip data (" + m + ")");
    }
    gzclose(f);
    return out;
}

uint32_t bigEndian32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::string hex(uint32_t v) {
    char s[16];
    std::snprintf(s, sizeof s, "0x%08X", v);
    return s;
}

std::vector<std::string> fashionNames() {
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
}

std::vector<std::string> numberedNames(int n) {
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i)
        names.push_back(std::to_string(i));
    return names;
}

std::vector<std::string> readLines(const std::string& path) {
    std::vector<std::string> lines;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        if (!line.empty())
            lines.push_back(line);
    }
    return lines;
}

Dataset select(const Dataset& data, const std::vector<int64_t>& idx) {
    Dataset out;
    out.channels = data.channels;
    out.height = data.height;
    out.width = data.width;
    out.classNames = data.classNames;
    out.files = data.files;
    out.labels.resize(idx.size());
    for (size_t i = 0; i < idx.size(); ++i)
        out.labels[i] = data.labels[size_t(idx[i])];
    if (!data.inMemory()) {
        for (int64_t i : idx)
            out.fileIndex.push_back(data.fileIndex[size_t(i)]);
        return out;
    }
    const int64_t bytes = data.imageBytes();
    out.pixels.resize(size_t(bytes) * idx.size());
    for (size_t i = 0; i < idx.size(); ++i)
        std::copy_n(data.pixels.begin() + idx[i] * bytes, bytes,
                    out.pixels.begin() + int64_t(i) * bytes);
    return out;
}

// Resizes every image of an in-memory set (IDX/CIFAR read at another input size).
void resizeInMemory(Dataset& d, int height, int width) {
    const int64_t n = d.size(), inPlane = int64_t(d.height) * d.width,
                  outPlane = int64_t(height) * width;
    std::vector<uint8_t> out(size_t(n * d.channels * outPlane));
    for (int64_t i = 0; i < n * d.channels; ++i)
        stbir_resize_uint8(d.pixels.data() + i * inPlane, d.width, d.height, 0,
                           out.data() + i * outPlane, width, height, 0, 1);
    d.pixels.swap(out);
    d.height = height;
    d.width = width;
}

std::string idxFile(const fs::path& dir, const std::string& stem) {
    for (const char* ext : {"", ".gz"})
        if (fs::exists(dir / (stem + ext))) return stem + ext;
    return {};
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + v[i];
    return s;
}

} // namespace

DataFormat parseDataFormat(const std::string& name) {
    if (name == "auto")
        return DataFormat::Auto;
    if (name == "idx")
        return DataFormat::Idx;
    if (name == "cifar")
        return DataFormat::Cifar;
    if (name == "folder")
        return DataFormat::Folder;
    throw DataError("unknown data format '" + name + "' (auto, idx, cifar, folder)");
}

Dataset readIdx(const std::string& imagesPath, const std::string& labelsPath) {
    const std::vector<uint8_t> img = readMaybeGzip(imagesPath);
    const std::vector<uint8_t> lab = readMaybeGzip(labelsPath);
    if (img.size() < 16)
        throw DataError(imagesPath + ": truncated IDX header (" + std::to_string(img.size()) +
                        " bytes, need 16)");
    if (bigEndian32(img.data()) != 0x00000803u)
        throw DataError(imagesPath + ": wrong magic number " + hex(bigEndian32(img.data())) +
                        ", expected 0x00000803 (IDX unsigned-byte 3-D images)");
    if (lab.size() < 8)
        throw DataError(labelsPath + ": truncated IDX header (" + std::to_string(lab.size()) +
                        " bytes, need 8)");
    if (bigEndian32(lab.data()) != 0x00000801u)
        throw DataError(labelsPath + ": wrong magic number " + hex(bigEndian32(lab.data())) +
                        ", expected 0x00000801 (IDX unsigned-byte labels)");
    const uint64_t n = bigEndian32(img.data() + 4);
    const uint64_t h = bigEndian32(img.data() + 8);
    const uint64_t w = bigEndian32(img.data() + 12);
    const uint64_t nl = bigEndian32(lab.data() + 4);
    if (h == 0 || w == 0 || h > 4096 || w > 4096)
        throw DataError(imagesPath + ": implausible image size " + std::to_string(h) + "x" +
                        std::to_string(w));
    if (img.size() - 16 < n * h * w)
        throw DataError(imagesPath + ": truncated: header says " + std::to_string(n) +
                        " images of " + std::to_string(h) + "x" + std::to_string(w) + " but " +
                        std::to_string(img.size() - 16) + " pixel bytes are present");
    if (lab.size() - 8 < nl)
        throw DataError(labelsPath + ": truncated: header says " + std::to_string(nl) +
                        " labels but " + std::to_string(lab.size() - 8) + " are present");
    if (n != nl)
        throw DataError(imagesPath + " has " + std::to_string(n) + " images but " + labelsPath +
                        " has " + std::to_string(nl) + " labels");
    if (n == 0)
        throw DataError(imagesPath + ": holds no images");
    Dataset d;
    d.channels = 1;
    d.height = int(h);
    d.width = int(w);
    d.pixels.assign(img.begin() + 16, img.begin() + 16 + int64_t(n * h * w));
    d.labels.resize(n);
    int maxLabel = 0;
    for (uint64_t i = 0; i < n; ++i) {
        d.labels[i] = lab[8 + i];
        maxLabel = std::max(maxLabel, d.labels[i]);
    }
    std::vector<int64_t> perLabel(size_t(maxLabel) + 1, 0);
    for (int l : d.labels)
        ++perLabel[size_t(l)];
    const auto missing = std::find(perLabel.begin(), perLabel.end(), 0);
    if (missing != perLabel.end())
        throw DataError(labelsPath + ": labels run up to " + std::to_string(maxLabel) + " but label " +
                        std::to_string(missing - perLabel.begin()) + " has no image (" +
                        std::to_string(std::count(perLabel.begin(), perLabel.end(), 0)) +
                        " unused label values): the file is damaged or not an IDX label file");
    const bool fashion = imagesPath.find("fashion") != std::string::npos && maxLabel == 9;
    d.classNames = fashion ? fashionNames() : numberedNames(maxLabel + 1);
    return d;
}

Dataset readCifar(const std::vector<std::string>& files, bool cifar100) {
    const int64_t labelBytes = cifar100 ? 2 : 1;
    const int64_t record = labelBytes + 3 * 32 * 32;
    Dataset d;
    d.channels = 3;
    d.height = d.width = 32;
    int maxLabel = 0;
    for (const std::string& path : files) {
        if (!fs::exists(path))
            throw DataError(path + ": file not found");
        std::ifstream in(path, std::ios::binary);
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (bytes.empty())
            throw DataError(path + ": empty file");
        if (int64_t(bytes.size()) % record != 0)
            throw DataError(path + ": " + std::to_string(bytes.size()) +
                            " bytes is not a whole number of " + std::to_string(record) +
                            "-byte CIFAR" + (cifar100 ? "-100" : "-10") +
                            " records (truncated or wrong format)");
        const int64_t n = int64_t(bytes.size()) / record;
        for (int64_t i = 0; i < n; ++i) {
            const uint8_t* r = bytes.data() + i * record;
            const int label = r[labelBytes - 1];
            if (label >= (cifar100 ? 100 : 10))
                throw DataError(path + ": record " + std::to_string(i) + " has label " +
                                std::to_string(label) + ", outside the " +
                                (cifar100 ? "100" : "10") + " classes");
            maxLabel = std::max(maxLabel, label);
            d.labels.push_back(label);
            d.pixels.insert(d.pixels.end(), r + labelBytes, r + record);
        }
    }
    d.classNames = numberedNames(cifar100 ? 100 : 10);
    return d;
}

Dataset subsetPerClass(const Dataset& data, int64_t perClass) {
    std::vector<int64_t> taken(size_t(data.numClasses()), 0);
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < data.size(); ++i) {
        int64_t& t = taken[size_t(data.labels[size_t(i)])];
        if (t < perClass) {
            ++t;
            idx.push_back(i);
        }
    }
    return select(data, idx);
}

namespace detail {

void splitHeldOut(const std::vector<int>& labels, int classes,
                  const std::function<std::string(int)>& classWhere, std::vector<int64_t>& train,
                  std::vector<int64_t>& test) {
    std::vector<std::vector<int64_t>> byClass(static_cast<size_t>(classes));
    for (size_t i = 0; i < labels.size(); ++i)
        byClass[size_t(labels[i])].push_back(int64_t(i));
    std::mt19937_64 rng(kHeldOutSeed);
    train.clear();
    test.clear();
    for (size_t c = 0; c < byClass.size(); ++c) {
        auto& v = byClass[c];
        if (v.empty()) continue;
        if (v.size() < 2)
            throw DataError(classWhere(int(c)) +
                            ": needs at least 2 images to hold one out for testing");
        std::shuffle(v.begin(), v.end(), rng);
        const size_t nTest = std::max<size_t>(1, v.size() / 10);
        test.insert(test.end(), v.begin(), v.begin() + int64_t(nTest));
        train.insert(train.end(), v.begin() + int64_t(nTest), v.end());
    }
    std::sort(train.begin(), train.end());
    std::sort(test.begin(), test.end());
}

} // namespace detail

namespace {

// IDX: the four files by name; any of them present makes the folder an IDX set, and a missing
// one is named rather than taken for an image folder.
void loadIdx(const fs::path& dir, DataBundle& b, std::string& note) {
    const std::vector<std::pair<std::string, std::string>> stems = {
        {"train-images-idx3-ubyte", "training images"},
        {"train-labels-idx1-ubyte", "training labels"},
        {"t10k-images-idx3-ubyte", "test images"},
        {"t10k-labels-idx1-ubyte", "test labels"}};
    std::vector<std::string> name(4), found, missing;
    for (size_t i = 0; i < 4; ++i) {
        name[i] = idxFile(dir, stems[i].first);
        (name[i].empty() ? missing : found)
            .push_back(name[i].empty() ? stems[i].first + "[.gz] (" + stems[i].second + ")"
                                       : name[i]);
    }
    const bool trainComplete = !name[0].empty() && !name[1].empty();
    const bool testNone = name[2].empty() && name[3].empty();
    if (!trainComplete || (!testNone && (name[2].empty() || name[3].empty())))
        throw DataError(dir.string() + ": incomplete IDX data set: found " + joined(found) +
                        "; missing " + joined(missing));
    b.format = "idx";
    b.train = readIdx((dir / name[0]).string(), (dir / name[1]).string());
    if (testNone)
        note = "no official test set (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte absent)";
    else
        b.test = readIdx((dir / name[2]).string(), (dir / name[3]).string());
}

void loadCifar(const fs::path& dir, DataBundle& b, std::string& note) {
    auto has = [&dir](const std::string& n) { return fs::exists(dir / n); };
    if (has("train.bin") || (has("test.bin") && !has("data_batch_1.bin"))) {
        if (!has("train.bin"))
            throw DataError(dir.string() +
                            ": incomplete CIFAR-100 data set: found test.bin; missing train.bin");
        b.format = "cifar100";
        b.train = readCifar({(dir / "train.bin").string()}, true);
        if (has("test.bin"))
            b.test = readCifar({(dir / "test.bin").string()}, true);
        else
            note = "no official test set (test.bin absent)";
        const auto names = readLines((dir / "fine_label_names.txt").string());
        if (names.size() == 100) b.train.classNames = b.test.classNames = names;
        return;
    }
    std::vector<std::string> files, found, missing;
    for (int i = 1; i <= 5; ++i) {
        const std::string n = "data_batch_" + std::to_string(i) + ".bin";
        (has(n) ? found : missing).push_back(n);
        files.push_back((dir / n).string());
    }
    if (!missing.empty()) {
        if (has("test_batch.bin")) found.push_back("test_batch.bin");
        throw DataError(dir.string() + ": incomplete CIFAR-10 data set: found " + joined(found) +
                        "; missing " + joined(missing));
    }
    b.format = "cifar10";
    b.train = readCifar(files, false);
    if (has("test_batch.bin"))
        b.test = readCifar({(dir / "test_batch.bin").string()}, false);
    else
        note = "no official test set (test_batch.bin absent)";
    const auto names = readLines((dir / "batches.meta.txt").string());
    if (names.size() == 10) b.train.classNames = b.test.classNames = names;
}

bool anyCifar(const fs::path& dir) {
    for (const char* n : {"train.bin", "test.bin", "test_batch.bin"})
        if (fs::exists(dir / n)) return true;
    for (int i = 1; i <= 5; ++i)
        if (fs::exists(dir / ("data_batch_" + std::to_string(i) + ".bin"))) return true;
    return false;
}

bool anyIdx(const fs::path& dir) {
    for (const char* stem : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
        if (!idxFile(dir, stem).empty()) return true;
    return false;
}

} // namespace

DataBundle loadData(const std::string& path, DataFormat format, const DataOptions& o) {
    if (!fs::exists(path))
        throw DataError(path + ": data path not found");
    if (!fs::is_directory(path))
        throw DataError(path + ": expected a folder (IDX files, CIFAR batches, or class folders)");
    const fs::path dir(path);
    if (format == DataFormat::Auto)
        format = anyIdx(dir)     ? DataFormat::Idx
                 : anyCifar(dir) ? DataFormat::Cifar
                                 : DataFormat::Folder;
    DataBundle b;
    b.path = path;
    std::string note;
    if (format == DataFormat::Folder) {
        b.format = "folder";
        detail::loadImageFolder(path, o, b);
    } else {
        if (format == DataFormat::Idx)
            loadIdx(dir, b, note);
        else
            loadCifar(dir, b, note);
        if (!note.empty()) {
            // The same rule as image folders without a test folder.
            const Dataset all = b.train;
            std::vector<int64_t> tr, te;
            detail::splitHeldOut(
                all.labels, all.numClasses(),
                [&](int c) { return path + ": class " + all.classNames[size_t(c)]; }, tr, te);
            b.train = select(all, tr);
            b.test = select(all, te);
            b.testHeldOut = true;
        }
        if (o.trainPerClass > 0) b.train = subsetPerClass(b.train, o.trainPerClass);
        if (o.testPerClass > 0) b.test = subsetPerClass(b.test, o.testPerClass);
    }
    if (b.train.channels != b.test.channels || b.train.height != b.test.height ||
        b.train.width != b.test.width)
        throw DataError(path + ": training and test images differ in size or channels");
    if (std::max(b.train.numClasses(), b.test.numClasses()) < 2)
        throw DataError(path + ": holds a single class; classification needs at least 2");
    // Both halves share one label space; the larger class count wins.
    if (b.test.numClasses() > b.train.numClasses())
        b.train.classNames = b.test.classNames;
    else
        b.test.classNames = b.train.classNames;
    if (format != DataFormat::Folder) {
        const int native = b.train.height, nativeW = b.train.width;
        const int H = o.height > 0 ? o.height : native, W = o.width > 0 ? o.width : nativeW;
        if (H != native || W != nativeW) {
            resizeInMemory(b.train, H, W);
            resizeInMemory(b.test, H, W);
        }
        b.summary = path + ": " +
                    (b.format == "idx"       ? std::string("IDX")
                     : b.format == "cifar10" ? "CIFAR-10"
                                             : "CIFAR-100") +
                    ", " + std::to_string(b.train.size()) + " training + " +
                    std::to_string(b.test.size()) + " test images, " +
                    std::to_string(b.train.numClasses()) + " classes, " + std::to_string(nativeW) +
                    "x" + std::to_string(native) + " " +
                    (b.train.channels == 1 ? "gray" : "colour") +
                    (H != native || W != nativeW
                         ? ", resized to " + std::to_string(W) + "x" + std::to_string(H)
                         : std::string()) +
                    ", in memory" +
                    (note.empty() ? std::string()
                                  : "; " + note + ": test = 10% of each class held out, seed " +
                                        std::to_string(kHeldOutSeed));
    }
    return b;
}

int searchPerClassFor(const Dataset& train, int perClass) {
    if (perClass > 0)
        return perClass;
    if (perClass < 0)
        throw DataError("search split needs at least 1 image per class, got " + std::to_string(perClass));
    const int classes = std::max(1, train.numClasses());
    std::vector<int64_t> counts(size_t(classes), 0);
    for (int64_t i = 0; i < train.size(); ++i)
        ++counts[size_t(train.labels[size_t(i)])];
    const int64_t smallest = *std::min_element(counts.begin(), counts.end());
    const int64_t wanted = (kSearchSplitImages + classes - 1) / classes;
    return int(std::max<int64_t>(1, std::min(wanted, smallest / 6)));
}

SearchSplit makeSearchSplit(const Dataset& train, int perClass, uint64_t seed) {
    perClass = searchPerClassFor(train, perClass);
    std::vector<std::vector<int64_t>> byClass(size_t(train.numClasses()));
    for (int64_t i = 0; i < train.size(); ++i)
        byClass[size_t(train.labels[size_t(i)])].push_back(i);
    std::mt19937_64 rng(seed);
    SearchSplit s;
    for (size_t c = 0; c < byClass.size(); ++c) {
        auto& v = byClass[c];
        if (int64_t(v.size()) <= perClass)
            throw DataError("class '" + train.classNames[c] + "' has " + std::to_string(v.size()) +
                            " training images; the search split takes " + std::to_string(perClass) +
                            " per class and must leave some for training");
        std::shuffle(v.begin(), v.end(), rng);
        s.search.insert(s.search.end(), v.begin(), v.begin() + perClass);
        s.train.insert(s.train.end(), v.begin() + perClass, v.end());
    }
    std::sort(s.search.begin(), s.search.end());
    std::sort(s.train.begin(), s.train.end());
    return s;
}

void channelStats(const Dataset& data, const std::vector<int64_t>& indices, std::vector<float>& mean,
                  std::vector<float>& stddev) {
    const int C = data.channels;
    const int64_t plane = int64_t(data.height) * data.width;
    std::vector<double> sum(size_t(C), 0.0), sq(size_t(C), 0.0);
    if (!data.inMemory()) {
        std::vector<int64_t> sample = indices;
        std::mt19937_64 rng(kHeldOutSeed + 1);
        std::shuffle(sample.begin(), sample.end(), rng);
        sample.resize(std::min<size_t>(sample.size(), 500));
        std::vector<double> sums(sample.size() * size_t(C) * 2, 0.0);
        detail::parallelFor(int64_t(sample.size()), data.files->decodeThreads, [&](int64_t k) {
            std::vector<uint8_t> px(size_t(data.imageBytes()));
            renderImage(data, sample[size_t(k)], ViewPolicy::Eval, 0, px.data());
            for (int64_t p = 0; p < plane; ++p)
                for (int c = 0; c < C; ++c) {
                    const double v = px[size_t(p * C + c)] / 255.0;
                    sums[size_t(k) * 2 * C + 2 * c] += v;
                    sums[size_t(k) * 2 * C + 2 * c + 1] += v * v;
                }
        });
        for (size_t k = 0; k < sample.size(); ++k)
            for (int c = 0; c < C; ++c) {
                sum[size_t(c)] += sums[k * 2 * C + 2 * c];
                sq[size_t(c)] += sums[k * 2 * C + 2 * c + 1];
            }
        mean.assign(size_t(C), 0.f);
        stddev.assign(size_t(C), 1.f);
        const double n = double(sample.size()) * double(plane);
        for (int c = 0; c < C && n > 0; ++c) {
            const double m = sum[size_t(c)] / n;
            mean[size_t(c)] = float(m);
            stddev[size_t(c)] = float(std::sqrt(std::max(sq[size_t(c)] / n - m * m, 1e-12)));
        }
        return;
    }
    for (int64_t i : indices) {
        const uint8_t* img = data.pixels.data() + i * data.imageBytes();
        for (int c = 0; c < C; ++c) {
            double s = 0, q = 0;
            for (int64_t p = 0; p < plane; ++p) {
                const double v = img[c * plane + p] / 255.0;
                s += v;
                q += v * v;
            }
            sum[size_t(c)] += s;
            sq[size_t(c)] += q;
        }
    }
    const double n = double(indices.size()) * double(plane);
    mean.assign(size_t(C), 0.f);
    stddev.assign(size_t(C), 1.f);
    if (n == 0)
        return;
    for (int c = 0; c < C; ++c) {
        const double m = sum[size_t(c)] / n;
        const double var = std::max(sq[size_t(c)] / n - m * m, 1e-12);
        mean[size_t(c)] = float(m);
        stddev[size_t(c)] = float(std::sqrt(var));
    }
}

} // namespace mp
