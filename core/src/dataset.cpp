#include "metaprune/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
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

std::string findIdx(const std::string& dir, const std::string& stem) {
    for (const char* ext : {"", ".gz"}) {
        const fs::path p = fs::path(dir) / (stem + ext);
        if (fs::exists(p))
            return p.string();
    }
    return (fs::path(dir) / (stem + ".gz")).string();
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

bool isImageFile(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".pgm" ||
           ext == ".ppm";
}

std::vector<fs::path> sortedEntries(const fs::path& dir, bool dirs) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (dirs ? e.is_directory() : e.is_regular_file())
            out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

Dataset select(const Dataset& data, const std::vector<int64_t>& idx) {
    Dataset out;
    out.channels = data.channels;
    out.height = data.height;
    out.width = data.width;
    out.classNames = data.classNames;
    const int64_t bytes = data.imageBytes();
    out.pixels.resize(size_t(bytes) * idx.size());
    out.labels.resize(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) {
        std::copy_n(data.pixels.begin() + idx[i] * bytes, bytes, out.pixels.begin() + int64_t(i) * bytes);
        out.labels[i] = data.labels[size_t(idx[i])];
    }
    return out;
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

Dataset readImageFolder(const std::string& folder) {
    if (!fs::is_directory(folder))
        throw DataError(folder + ": folder not found");
    const std::vector<fs::path> classes = sortedEntries(folder, true);
    if (classes.empty())
        throw DataError(folder + ": no class sub-folders (expected one folder per class)");
    Dataset d;
    for (size_t c = 0; c < classes.size(); ++c) {
        d.classNames.push_back(classes[c].filename().string());
        std::vector<fs::path> files;
        for (const fs::path& f : sortedEntries(classes[c], false))
            if (isImageFile(f))
                files.push_back(f);
        if (files.empty())
            throw DataError(classes[c].string() + ": class folder holds no images (PNG, JPEG, BMP, PGM/PPM)");
        for (const fs::path& f : files) {
            int w = 0, h = 0, comp = 0;
            if (!stbi_info(f.string().c_str(), &w, &h, &comp))
                throw DataError(f.string() + ": cannot decode image (" + stbi_failure_reason() + ")");
            if (d.channels == 0) {
                d.height = h;
                d.width = w;
            }
            d.channels = std::max(d.channels, comp >= 3 ? 3 : 1);
        }
    }
    // Second pass now that the channel count of the whole folder is known.
    const int C = d.channels;
    for (size_t c = 0; c < classes.size(); ++c) {
        for (const fs::path& f : sortedEntries(classes[c], false)) {
            if (!isImageFile(f))
                continue;
            int w = 0, h = 0, comp = 0;
            uint8_t* px = stbi_load(f.string().c_str(), &w, &h, &comp, C);
            if (!px)
                throw DataError(f.string() + ": cannot decode image (" + stbi_failure_reason() + ")");
            std::vector<uint8_t> hwc(px, px + int64_t(w) * h * C);
            stbi_image_free(px);
            if (w != d.width || h != d.height) {
                std::vector<uint8_t> resized(size_t(d.width) * d.height * C);
                stbir_resize_uint8(hwc.data(), w, h, 0, resized.data(), d.width, d.height, 0, C);
                hwc.swap(resized);
            }
            const size_t base = d.pixels.size();
            d.pixels.resize(base + hwc.size());
            const int64_t plane = int64_t(d.width) * d.height;
            for (int64_t p = 0; p < plane; ++p)
                for (int ch = 0; ch < C; ++ch)
                    d.pixels[base + size_t(ch * plane + p)] = hwc[size_t(p * C + ch)];
            d.labels.push_back(int(c));
        }
    }
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

DataBundle loadData(const std::string& path, DataFormat format) {
    if (!fs::exists(path))
        throw DataError(path + ": data path not found");
    if (!fs::is_directory(path))
        throw DataError(path + ": expected a folder (IDX files, CIFAR batches, or class folders)");
    const fs::path dir(path);
    auto has = [&dir](const std::string& name) { return fs::exists(dir / name); };
    if (format == DataFormat::Auto) {
        if (has("train-images-idx3-ubyte.gz") || has("train-images-idx3-ubyte"))
            format = DataFormat::Idx;
        else if (has("data_batch_1.bin") || has("train.bin"))
            format = DataFormat::Cifar;
        else
            format = DataFormat::Folder;
    }
    DataBundle b;
    b.path = path;
    switch (format) {
    case DataFormat::Idx:
        b.format = "idx";
        b.train = readIdx(findIdx(path, "train-images-idx3-ubyte"), findIdx(path, "train-labels-idx1-ubyte"));
        b.test = readIdx(findIdx(path, "t10k-images-idx3-ubyte"), findIdx(path, "t10k-labels-idx1-ubyte"));
        break;
    case DataFormat::Cifar: {
        if (has("train.bin")) {
            b.format = "cifar100";
            b.train = readCifar({(dir / "train.bin").string()}, true);
            b.test = readCifar({(dir / "test.bin").string()}, true);
            const auto names = readLines((dir / "fine_label_names.txt").string());
            if (names.size() == 100)
                b.train.classNames = b.test.classNames = names;
        } else {
            b.format = "cifar10";
            std::vector<std::string> files;
            for (int i = 1; i <= 5; ++i)
                files.push_back((dir / ("data_batch_" + std::to_string(i) + ".bin")).string());
            b.train = readCifar(files, false);
            b.test = readCifar({(dir / "test_batch.bin").string()}, false);
            const auto names = readLines((dir / "batches.meta.txt").string());
            if (names.size() == 10)
                b.train.classNames = b.test.classNames = names;
        }
        break;
    }
    case DataFormat::Folder: {
        b.format = "folder";
        if (fs::is_directory(dir / "train") && fs::is_directory(dir / "test")) {
            b.train = readImageFolder((dir / "train").string());
            b.test = readImageFolder((dir / "test").string());
            if (b.train.classNames != b.test.classNames)
                throw DataError((dir / "test").string() + ": class folders differ from " +
                                (dir / "train").string());
            if (b.train.height != b.test.height || b.train.width != b.test.width ||
                b.train.channels != b.test.channels)
                throw DataError((dir / "test").string() + ": images differ in size or channels from " +
                                (dir / "train").string());
        } else {
            const Dataset all = readImageFolder(path);
            // 10% of each class (at least one image) becomes the test set, fixed seed.
            std::vector<std::vector<int64_t>> byClass(size_t(all.numClasses()));
            for (int64_t i = 0; i < all.size(); ++i)
                byClass[size_t(all.labels[size_t(i)])].push_back(i);
            std::mt19937_64 rng(20190318);
            std::vector<int64_t> tr, te;
            for (size_t c = 0; c < byClass.size(); ++c) {
                auto& v = byClass[c];
                if (v.size() < 2)
                    throw DataError((dir / all.classNames[c]).string() +
                                    ": needs at least 2 images to hold one out for testing");
                std::shuffle(v.begin(), v.end(), rng);
                const size_t nTest = std::max<size_t>(1, v.size() / 10);
                te.insert(te.end(), v.begin(), v.begin() + int64_t(nTest));
                tr.insert(tr.end(), v.begin() + int64_t(nTest), v.end());
            }
            std::sort(tr.begin(), tr.end());
            std::sort(te.begin(), te.end());
            b.train = select(all, tr);
            b.test = select(all, te);
        }
        break;
    }
    case DataFormat::Auto:
        break;
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
    return b;
}

SearchSplit makeSearchSplit(const Dataset& train, int perClass, uint64_t seed) {
    if (perClass <= 0)
        throw DataError("search split needs at least 1 image per class, got " + std::to_string(perClass));
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
