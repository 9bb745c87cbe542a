// Benchmarks of the image loader for `metaprune bench --data DIR` (never asserted by tests).
#include "training_p.h"

#include "image_io.h"
#include "metaprune/bench.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <turbojpeg.h>

namespace fs = std::filesystem;

namespace mp {

namespace {
using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}
} // namespace

void writeJpegFolder(const std::string& dir, int count, int classes, uint64_t seed, int threads) {
    for (int c = 0; c < classes; ++c)
        fs::create_directories(fs::path(dir) / ("class" + std::to_string(c)));
    detail::parallelFor(count, threads, [&](int64_t i) {
        std::mt19937_64 rng(seed * 1000003 + uint64_t(i));
        const int longSide = std::uniform_int_distribution<int>(375, 625)(rng);
        const int shortSide = int(longSide * std::uniform_real_distribution<double>(0.6, 0.9)(rng));
        const bool portrait = i % 4 == 3;
        const int w = portrait ? shortSide : longSide, h = portrait ? longSide : shortSide;
        // Smooth colour fields (products of random waves, from 1-D tables) plus fine noise:
        // compresses like a photo.
        std::uniform_real_distribution<double> u(0, 1);
        std::vector<float> tx(size_t(w) * 9), ty(size_t(h) * 9);
        for (int k = 0; k < 9; ++k) {
            const double fx = 0.01 + 0.08 * u(rng), fy = 0.01 + 0.08 * u(rng), px = 6.28 * u(rng),
                         py = 6.28 * u(rng);
            for (int x = 0; x < w; ++x)
                tx[size_t(x) * 9 + size_t(k)] = float(std::sin(fx * x + px));
            for (int y = 0; y < h; ++y)
                ty[size_t(y) * 9 + size_t(k)] = float(40 * std::cos(fy * y + py));
        }
        std::vector<uint8_t> px(size_t(w) * h * 3);
        uint32_t state = uint32_t(rng()) | 1u;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                for (int k = 0; k < 3; ++k) {
                    float v = 128;
                    for (int j = 0; j < 3; ++j)
                        v += tx[size_t(x) * 9 + size_t(k * 3 + j)] *
                             ty[size_t(y) * 9 + size_t(k * 3 + j)];
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    v += float(int(state % 25) - 12);
                    px[(size_t(y) * w + x) * 3 + size_t(k)] = uint8_t(std::clamp(v, 0.0f, 255.0f));
                }
        tjhandle tj = tjInitCompress();
        unsigned char* jpeg = nullptr;
        unsigned long size = 0;
        const int rc =
            tjCompress2(tj, px.data(), w, 0, h, TJPF_RGB, &jpeg, &size, TJSAMP_420, 90, 0);
        const std::string path = (fs::path(dir) / ("class" + std::to_string(i % classes)) /
                                  (std::to_string(100000 + i) + ".jpg"))
                                     .string();
        bool ok = rc == 0;
        if (ok) {
            std::ofstream out(path, std::ios::binary);
            out.write(reinterpret_cast<const char*>(jpeg), std::streamsize(size));
            ok = bool(out);
        }
        tjFree(jpeg);
        tjDestroy(tj);
        if (!ok) throw DataError(path + ": cannot write the generated JPEG");
    });
}

DecodeSpeed benchDecode(const Dataset& data, int images, ViewPolicy policy) {
    DecodeSpeed s;
    const ImageFiles& f = *data.files;
    s.images = int(std::min<int64_t>(images, data.size()));
    std::vector<uint8_t> out(size_t(data.imageBytes()));
    for (bool turbo : {true, false}) {
        const auto start = Clock::now();
        for (int i = 0; i < s.images; ++i) {
            const detail::ImageEntry& e = f.entries[size_t(data.fileIndex[size_t(i)])];
            std::vector<uint8_t> bytes;
            detail::Image img;
            if (!detail::readWholeFile(e.path, bytes).empty() ||
                !detail::decodeImage(bytes.data(), bytes.size(), f.channels, e.minShorter, turbo,
                                     img)
                     .empty())
                continue;
            const CropBox box = cropBox(policy, e.width, e.height, f.height, f.width, uint64_t(i));
            renderCrop(img.pixels.data(), img.width, img.height, f.channels, e.width, e.height, box,
                       f.height, f.width, out.data());
        }
        (turbo ? s.turbo : s.stb) = s.images / (msSince(start) / 1000);
    }
    return s;
}

StreamingSteps benchStreamingSteps(const DataBundle& data, const std::string& family,
                                   const std::string& preset, int batch, int steps, int warm) {
    const Dataset& train = data.train;
    const ArchSpec arch = makeArchitecture(family, preset, train.channels, train.height,
                                           train.width, train.numClasses());
    torch::manual_seed(1);
    detail::PruningNetModule net(arch);
    TrainConfig cfg;
    torch::optim::SGD sgd(net->denseParameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    std::vector<int64_t> order(size_t(train.size()));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(5);
    std::shuffle(order.begin(), order.end(), rng);
    const int total = std::min<int>(warm + steps, int(order.size() / size_t(batch)));
    const detail::Normalization norm{std::vector<float>(size_t(train.channels), 0.5f),
                                     std::vector<float>(size_t(train.channels), 0.25f)};
    detail::BatchPrefetcher pre(train, norm,
                                detail::orderedBatches(order, batch, 0, total,
                                                       train.files->trainPolicy,
                                                       [](int64_t b) { return uint64_t(b); }));
    std::vector<double> waits, times;
    for (int s = 0; s < total; ++s) {
        const double before = pre.waitedMs();
        const torch::Tensor x = pre.next();
        const double waited = pre.waitedMs() - before;
        const torch::Tensor y = detail::makeLabels(train, order.data() + int64_t(s) * batch, batch);
        const auto t = Clock::now();
        detail::trainStep(net, sgd, x, y, randomEncoding(arch, rng), cfg, 0.01);
        if (s >= warm) {
            waits.push_back(waited);
            times.push_back(msSince(t));
        }
    }
    StreamingSteps r;
    r.step = summarize(times, 0);
    if (!waits.empty()) {
        r.waitMedianMs = summarize(waits, 0).median;
        r.waitMaxMs = *std::max_element(waits.begin(), waits.end());
    }
    return r;
}

double streamOnceForPeakRss(const DataBundle& data, int batch) {
    std::vector<int64_t> all(size_t(data.train.size()));
    std::iota(all.begin(), all.end(), 0);
    const detail::Normalization norm{std::vector<float>(size_t(data.train.channels), 0.5f),
                                     std::vector<float>(size_t(data.train.channels), 0.25f)};
    detail::forEachBatch(data.train, all, batch, norm,
                         [](const torch::Tensor&, const int64_t*, int64_t) {});
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

} // namespace mp
