// Image folders: scan (headers only), bad files, the cache-or-stream decision, the summary line,
// and rendering one image of a set with a crop policy.
#include "image_io.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace mp {

namespace detail {

void parallelFor(int64_t n, int threads, const std::function<void(int64_t)>& fn) {
    threads = int(std::max<int64_t>(1, std::min<int64_t>(threads, n)));
    if (threads <= 1) {
        for (int64_t i = 0; i < n; ++i)
            fn(i);
        return;
    }
    std::atomic<int64_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for (int64_t i = next++; i < n; i = next++)
                fn(i);
        });
    for (std::thread& t : pool)
        t.join();
}

namespace {

bool hasImageExtension(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".pgm" ||
           ext == ".ppm" || ext == ".pnm";
}

/// Names that are never classes or images: hidden entries (".ipynb_checkpoints", AppleDouble
/// "._x.png", ".DS_Store") and macOS archive folders, as torchvision's ImageFolder skips them.
bool hiddenName(const fs::path& p) {
    const std::string n = p.filename().string();
    return n.empty() || n[0] == '.' || n == "__MACOSX";
}

/// The entries of one folder, sorted: sub-folders, and files (a link that cannot be followed,
/// a loop or a dangling target, is listed as a file, so that reading it fails and it is counted
/// with the other unreadable files). Hidden entries are counted in `hidden` and left out.
struct Listing {
    std::vector<fs::path> dirs, files;
};

Listing listFolder(const fs::path& dir, int64_t& hidden) {
    Listing out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (hiddenName(it->path())) {
            ++hidden;
            continue;
        }
        std::error_code kind;
        if (it->is_directory(kind))
            out.dirs.push_back(it->path());
        else if (it->is_regular_file(kind) || kind || it->is_symlink())
            out.files.push_back(it->path());
    }
    if (ec)
        throw DataError(dir.string() + ": cannot list the folder (" + ec.message() + ")");
    std::sort(out.dirs.begin(), out.dirs.end());
    std::sort(out.files.begin(), out.files.end());
    return out;
}

/// Every file of a class folder and of its sub-folders, in path order (torchvision's
/// ImageFolder walks them too); a folder reached twice through links is read once.
void classFiles(const fs::path& dir, int64_t& hidden, std::set<fs::path>& seen, std::vector<fs::path>& out) {
    std::error_code ec;
    if (!seen.insert(fs::canonical(dir, ec)).second || ec)
        return;
    const Listing l = listFolder(dir, hidden);
    out.insert(out.end(), l.files.begin(), l.files.end());
    for (const fs::path& d : l.dirs)
        classFiles(d, hidden, seen, out);
}

// Reads the first 16 KiB (the headers of most files), or the whole file when the header lies
// further in (a large EXIF block).
std::string probeFile(const std::string& path, ImageHeader& h) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return std::string("cannot open (") + std::strerror(errno) + ")";
    std::vector<uint8_t> head(1 << 14);
    const size_t n = std::fread(head.data(), 1, head.size(), f);
    std::fclose(f);
    if (n == 0) return "empty file";
    std::string why = probeImage(head.data(), n, h);
    if (why == "truncated" && n == head.size()) {
        std::vector<uint8_t> all;
        why = readWholeFile(path, all);
        if (why.empty()) why = probeImage(all.data(), all.size(), h);
    }
    if (why == "truncated")
        why = "truncated " + (h.kind.empty() ? std::string("image") : h.kind) + " header";
    return why;
}

std::string mib(double bytes) {
    char s[32];
    std::snprintf(s, sizeof s, "%.0f MiB", bytes / (1 << 20));
    return s;
}

std::string sizeText(int h, int w) {
    return std::to_string(w) + "x" + std::to_string(h);
}

struct Found {
    std::string path;
    int label = 0;
    int split = 0; // 0 train, 1 test
};

struct Scan {
    std::vector<std::string> classNames;
    std::vector<Found> files;
    int64_t ignored = 0;
    int64_t hidden = 0; ///< hidden files and folders skipped (hiddenName)
};

/// "a, b, c" of the names in `a` and not in `b`.
std::string missingFrom(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::string out;
    for (const std::string& n : a)
        if (std::find(b.begin(), b.end(), n) == b.end())
            out += (out.empty() ? "" : ", ") + n;
    return out;
}

void scanRoot(const fs::path& root, int split, Scan& s) {
    const Listing top = listFolder(root, s.hidden);
    const std::vector<fs::path>& classes = top.dirs;
    s.ignored += int64_t(top.files.size()); // files beside the class folders
    if (classes.empty())
        throw DataError(root.string() + ": no class sub-folders (expected one folder per class)");
    std::vector<std::string> names;
    for (const fs::path& c : classes)
        names.push_back(c.filename().string());
    if (split == 0) {
        s.classNames = names;
    } else if (names != s.classNames) {
        const std::string extra = missingFrom(names, s.classNames), lacking = missingFrom(s.classNames, names);
        throw DataError(root.string() + ": class folders differ from the training folder's (" +
                        (extra.empty() ? "" : "only here: " + extra) + (!extra.empty() && !lacking.empty() ? "; " : "") +
                        (lacking.empty() ? "" : "missing here: " + lacking) + ")");
    }
    for (size_t c = 0; c < classes.size(); ++c) {
        int64_t n = 0;
        std::set<fs::path> seen;
        std::vector<fs::path> files;
        classFiles(classes[c], s.hidden, seen, files);
        for (const fs::path& f : files) {
            if (!hasImageExtension(f)) {
                ++s.ignored;
                continue;
            }
            s.files.push_back({f.string(), int(c), split});
            ++n;
        }
        if (n == 0)
            throw DataError(classes[c].string() +
                            ": class folder holds no images (JPEG, PNG, BMP, PGM/PPM)");
    }
}

int64_t defaultCacheBytes() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? int64_t(pages) * page / 4 : int64_t(4) << 30;
}

std::string policyText(ViewPolicy p, int H, int W) {
    if (p == ViewPolicy::TrainAugment)
        return "random-resized crop (area 0.08-1, aspect 3/4-4/3) to " + sizeText(H, W) +
               " + horizontal flip";
    if (p == ViewPolicy::TrainCentre)
        return "shorter side to " + std::to_string(std::min(H, W)) + " + centre crop " +
               sizeText(H, W);
    const int rh = int(std::lround(H / 0.875)), rw = int(std::lround(W / 0.875));
    return (H == W ? "shorter side to " + std::to_string(rh)
                   : "resize to cover " + sizeText(rh, rw)) +
           " + centre crop " + sizeText(H, W);
}

Dataset fileDataset(const std::shared_ptr<const ImageFiles>& files,
                    const std::vector<std::string>& names, const std::vector<int32_t>& idx) {
    Dataset d;
    d.channels = files->channels;
    d.height = files->height;
    d.width = files->width;
    d.classNames = names;
    d.files = files;
    d.fileIndex = idx;
    for (int32_t i : idx)
        d.labels.push_back(files->entries[size_t(i)].label);
    return d;
}

std::vector<int32_t> capPerClass(const std::vector<int32_t>& idx, const std::vector<ImageEntry>& e,
                                 int64_t cap, int classes) {
    if (cap <= 0) return idx;
    std::vector<int64_t> taken(size_t(classes), 0);
    std::vector<int32_t> out;
    for (int32_t i : idx)
        if (taken[size_t(e[size_t(i)].label)]++ < cap) out.push_back(i);
    return out;
}

} // namespace

void loadImageFolder(const std::string& path, const DataOptions& o, DataBundle& b) {
    const fs::path dir(path);
    Scan scan;
    fs::path testRoot;
    if (fs::is_directory(dir / "train")) {
        for (const char* name : {"test", "val"})
            if (testRoot.empty() && fs::is_directory(dir / name)) testRoot = dir / name;
        scanRoot(dir / "train", 0, scan);
        if (!testRoot.empty()) scanRoot(testRoot, 1, scan);
    } else {
        scanRoot(dir, 0, scan);
    }
    b.testHeldOut = testRoot.empty();
    if (!testRoot.empty()) { // what lies beside train/ and test/ is neither
        const Listing top = listFolder(dir, scan.hidden);
        scan.ignored += int64_t(top.files.size()) +
                        int64_t(std::count_if(top.dirs.begin(), top.dirs.end(), [&](const fs::path& d) {
                            return d.filename() != "train" && d != testRoot;
                        }));
    }
    const int classes = int(scan.classNames.size());

    // Headers only: reading every pixel of a 150 GB folder here would take as long as an epoch.
    std::vector<ImageHeader> headers(scan.files.size());
    std::vector<std::string> why(scan.files.size());
    parallelFor(int64_t(scan.files.size()), std::max(2, o.decodeThreads), [&](int64_t i) {
        why[size_t(i)] = probeFile(scan.files[size_t(i)].path, headers[size_t(i)]);
    });

    const int H = o.height > 0 ? o.height : o.folderHeight;
    const int W = o.width > 0 ? o.width : o.folderWidth;
    auto files = std::make_shared<ImageFiles>();
    files->height = H;
    files->width = W;
    files->trainPolicy = o.augment ? ViewPolicy::TrainAugment : ViewPolicy::TrainCentre;
    files->decodeThreads = std::max(1, o.decodeThreads);
    const int needTrain = std::max(neededShorterSide(ViewPolicy::Eval, H, W),
                                   neededShorterSide(files->trainPolicy, H, W));
    const int needTest = neededShorterSide(ViewPolicy::Eval, H, W);

    std::vector<std::pair<std::string, std::string>> bad; // path, reason
    std::vector<int32_t> trainIdx, testIdx;
    std::vector<ImageHeader> entryHeaders; // per entry, for the summary's counts
    bool anyColour = false;
    for (size_t i = 0; i < scan.files.size(); ++i) {
        if (!why[i].empty()) {
            bad.emplace_back(scan.files[i].path, why[i]);
            continue;
        }
        const ImageHeader& h = headers[i];
        ImageEntry e;
        e.path = scan.files[i].path;
        e.width = h.width;
        e.height = h.height;
        e.label = scan.files[i].label;
        e.jpeg = h.kind == "JPEG";
        e.minShorter = scan.files[i].split == 0 ? needTrain : needTest;
        (scan.files[i].split == 0 ? trainIdx : testIdx).push_back(int32_t(files->entries.size()));
        files->entries.push_back(e);
        entryHeaders.push_back(h);
        anyColour = anyColour || h.colour;
    }
    const int64_t total = int64_t(scan.files.size());
    auto checkBad = [&] {
        if (double(bad.size()) <= o.maxBad * double(total)) return;
        std::string list;
        for (size_t i = 0; i < bad.size() && i < 10; ++i)
            list += "\n  " + bad[i].first + ": " + bad[i].second;
        if (bad.size() > 10) list += "\n  ... and " + std::to_string(bad.size() - 10) + " more";
        char share[64];
        std::snprintf(share, sizeof share, "%.2f%%", 100.0 * double(bad.size()) / double(total));
        throw DataError(path + ": " + std::to_string(bad.size()) + " of " + std::to_string(total) +
                        " image files cannot be decoded (" + share + ", more than the " +
                        std::to_string(o.maxBad * 100).substr(0, 4) +
                        "% allowed by --max-bad):" + list);
    };
    files->channels = anyColour ? 3 : 1;
    std::vector<char> failedDecode(files->entries.size(), 0); // headers fine, pixels not

    // The held-out test split (no test folder) and the per-class caps, before any decoding.
    if (b.testHeldOut) {
        std::vector<int> labels;
        for (int32_t i : trainIdx)
            labels.push_back(files->entries[size_t(i)].label);
        std::vector<int64_t> tr, te;
        splitHeldOut(
            labels, classes, [&](int c) { return (dir / scan.classNames[size_t(c)]).string(); }, tr,
            te);
        std::vector<int32_t> all;
        all.swap(trainIdx);
        for (int64_t k : tr)
            trainIdx.push_back(all[size_t(k)]);
        for (int64_t k : te) {
            testIdx.push_back(all[size_t(k)]);
            files->entries[size_t(all[size_t(k)])].minShorter = needTest;
        }
    }
    trainIdx = capPerClass(trainIdx, files->entries, o.trainPerClass, classes);
    testIdx = capPerClass(testIdx, files->entries, o.testPerClass, classes);

    std::vector<int32_t> used = trainIdx;
    used.insert(used.end(), testIdx.begin(), testIdx.end());
    double decodedBytes = 0;
    for (int32_t i : used) {
        const ImageEntry& e = files->entries[size_t(i)];
        int w = e.width, ht = e.height;
        if (e.jpeg) {
            ImageHeader k;
            k.kind = "JPEG";
            k.width = e.width;
            k.height = e.height;
            decodedSize(k, e.minShorter, w, ht);
        }
        decodedBytes += double(w) * ht * files->channels + double(sizeof(Image));
    }
    const int64_t budget = o.cacheBytes >= 0 ? o.cacheBytes : defaultCacheBytes();
    const bool cache = decodedBytes <= double(budget);
    if (!cache) checkBad(); // streamed: the headers are all that is known now
    if (cache) {
        files->cache.resize(files->entries.size());
        std::vector<std::string> fail(files->entries.size());
        parallelFor(int64_t(used.size()), files->decodeThreads, [&](int64_t k) {
            const ImageEntry& e = files->entries[size_t(used[size_t(k)])];
            std::vector<uint8_t> bytes;
            std::string w = readWholeFile(e.path, bytes);
            if (w.empty())
                w = decodeImage(bytes.data(), bytes.size(), files->channels, e.minShorter, true,
                                files->cache[size_t(used[size_t(k)])]);
            fail[size_t(used[size_t(k)])] = w;
        });
        decodedBytes = 0;
        auto keep = [&](std::vector<int32_t>& idx) {
            std::vector<int32_t> out;
            for (int32_t i : idx) {
                if (fail[size_t(i)].empty()) {
                    out.push_back(i);
                    decodedBytes += double(files->cache[size_t(i)].pixels.size());
                } else {
                    bad.emplace_back(files->entries[size_t(i)].path, fail[size_t(i)]);
                    files->cache[size_t(i)] = Image{};
                    failedDecode[size_t(i)] = 1;
                }
            }
            idx.swap(out);
        };
        keep(trainIdx);
        keep(testIdx);
        checkBad();
    }
    files->nextOfClass.assign(files->entries.size(), -1);
    std::map<int, int32_t> firstOf, lastOf;
    for (int32_t i = 0; i < int32_t(files->entries.size()); ++i) {
        const int l = files->entries[size_t(i)].label;
        if (lastOf.count(l))
            files->nextOfClass[size_t(lastOf[l])] = i;
        else
            firstOf[l] = i;
        lastOf[l] = i;
    }
    for (const auto& [l, last] : lastOf)
        files->nextOfClass[size_t(last)] = firstOf[l];
    files->failedFlag.assign(files->entries.size(), 0);

    b.train = fileDataset(files, scan.classNames, trainIdx);
    b.test = fileDataset(files, scan.classNames, testIdx);
    for (int c = 0; c < classes; ++c)
        if (b.train.classCounts()[size_t(c)] == 0)
            throw DataError((dir / scan.classNames[size_t(c)]).string() +
                            ": no decodable training image in this class");

    // The summary line, counting the images that decode (or, streamed, whose headers do).
    int64_t images = 0, colour = 0, gray = 0, cmyk = 0, alpha = 0, deep = 0, rotated = 0;
    int64_t minPixels = -1, maxPixels = -1;
    std::string smallest, largest;
    for (size_t i = 0; i < entryHeaders.size(); ++i) {
        if (failedDecode[i])
            continue;
        const ImageHeader& h = entryHeaders[i];
        ++images;
        (h.colour ? colour : gray) += 1;
        cmyk += h.cmyk;
        alpha += h.alpha;
        deep += h.sixteenBit;
        rotated += h.orientation > 1;
        const int64_t px = int64_t(h.width) * h.height;
        if (minPixels < 0 || px < minPixels) {
            minPixels = px;
            smallest = sizeText(h.height, h.width);
        }
        if (px > maxPixels) {
            maxPixels = px;
            largest = sizeText(h.height, h.width);
        }
    }
    std::string s =
        path + ": image folder, " + std::to_string(images) + " images in " +
        std::to_string(classes) + " classes (training " + std::to_string(b.train.size()) +
        ", test " + std::to_string(b.test.size()) +
        (b.testHeldOut ? ", held out: no test/ or val/ folder, 10% of each class, seed " +
                             std::to_string(kHeldOutSeed)
                       : std::string(", from ") + testRoot.filename().string() + "/") +
        "), " + (smallest == largest ? smallest : smallest + " to " + largest) + ", ";
    if (files->channels == 1) {
        s += "gray";
    } else {
        std::vector<std::string> notes;
        if (gray) notes.push_back(std::to_string(gray) + " gray replicated to RGB");
        if (cmyk) notes.push_back(std::to_string(cmyk) + " CMYK converted");
        s += "colour";
        for (size_t i = 0; i < notes.size(); ++i)
            s += (i ? ", " : " (") + notes[i] + (i + 1 == notes.size() ? ")" : "");
    }
    if (alpha) s += ", alpha dropped from " + std::to_string(alpha);
    if (deep) s += ", " + std::to_string(deep) + " 16-bit reduced to 8";
    if (rotated) s += ", " + std::to_string(rotated) + " EXIF-rotated";
    s += ", " + std::to_string(bad.size()) + " skipped";
    for (size_t i = 0; i < bad.size() && i < 3; ++i)
        s += (i ? "; " : " (") + fs::path(bad[i].first).filename().string() + ": " + bad[i].second;
    if (!bad.empty()) s += bad.size() > 3 ? "; ...)" : ")";
    if (scan.ignored) s += ", " + std::to_string(scan.ignored) + " other files ignored";
    if (scan.hidden)
        s += ", " + std::to_string(scan.hidden) + " hidden files/folders skipped (names starting with '.', __MACOSX)";
    s += "; read at " + sizeText(H, W) + ": training " + policyText(files->trainPolicy, H, W) +
         ", search/recalibration/test " + policyText(ViewPolicy::Eval, H, W) + "; ";
    s += cache ? "decoded once, cached in memory (" + mib(decodedBytes) + ", budget " +
                     mib(double(budget)) + ")"
               : "streamed from disk by " + std::to_string(files->decodeThreads) +
                     " decode thread" + (files->decodeThreads > 1 ? "s" : "") + " (" +
                     mib(decodedBytes) + " decoded > budget " + mib(double(budget)) + ")";
    b.summary = s;
    for (const auto& [file, reason] : bad)
        b.skipped.push_back(file + ": " + reason);
}

} // namespace detail

void renderImage(const Dataset& data, int64_t index, ViewPolicy policy, uint64_t seed,
                 uint8_t* out) {
    const ImageFiles& f = *data.files;
    int32_t e = data.fileIndex[size_t(index)];
    const int32_t first = e;
    std::vector<uint8_t> bytes;
    detail::Image img;
    do {
        const detail::ImageEntry& entry = f.entries[size_t(e)];
        const detail::Image* src = nullptr;
        if (f.cached() && !f.cache[size_t(e)].pixels.empty()) {
            src = &f.cache[size_t(e)];
        } else {
            std::string why = detail::readWholeFile(entry.path, bytes);
            if (why.empty())
                why = detail::decodeImage(bytes.data(), bytes.size(), f.channels, entry.minShorter,
                                          true, img);
            if (why.empty()) {
                src = &img;
            } else {
                std::lock_guard<std::mutex> lock(f.failedMutex);
                if (!f.failedFlag[size_t(e)]) {
                    f.failedFlag[size_t(e)] = 1;
                    f.failed.push_back(entry.path + ": " + why);
                }
            }
        }
        if (src) {
            const CropBox box = cropBox(policy, entry.width, entry.height, f.height, f.width, seed);
            renderCrop(src->pixels.data(), src->width, src->height, f.channels, entry.width,
                       entry.height, box, f.height, f.width, out);
            return;
        }
        e = f.nextOfClass[size_t(e)];
    } while (e != first);
    throw DataError(f.entries[size_t(first)].path + ": no image of its class decodes any more");
}

std::vector<std::string> lateFailures(const Dataset& data) {
    if (!data.files) return {};
    std::lock_guard<std::mutex> lock(data.files->failedMutex);
    return data.files->failed;
}

} // namespace mp
