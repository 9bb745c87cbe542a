#pragma once
// Private to core: image file decoding (libjpeg-turbo for JPEG, stb_image for PNG/BMP/PNM) and
// the decoded-folder state shared by the datasets of one image folder. Torch-free.

#include "metaprune/dataset.h"

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace mp::detail {

/// What a file's first bytes tell: format, size after EXIF orientation, colour.
struct ImageHeader {
    std::string kind;          ///< "JPEG", "PNG", "BMP", "PNM"
    int width = 0, height = 0; ///< after the EXIF orientation
    bool colour = false;       ///< RGB/CMYK (else gray)
    bool cmyk = false, alpha = false, sixteenBit = false;
    int orientation = 1; ///< EXIF orientation 1..8 (JPEG only)
};

/// Reads the header of an image held in `data` (possibly only the first bytes of the file).
/// Returns an empty string on success, else why the bytes are no image ("truncated" when
/// more bytes could help).
std::string probeImage(const uint8_t* data, size_t size, ImageHeader& header);

/// Decoded pixels, interleaved H x W x C.
struct Image {
    int width = 0, height = 0, channels = 0;
    std::vector<uint8_t> pixels;
};

/// Decodes the whole file to `channels` (1 or 3) with the conversion rules of loadData(). A
/// JPEG is decoded at the smallest libjpeg-turbo scale (n/8) whose shorter side is still at
/// least `minShorter` (0 = full size); `turbo` false uses stb_image (no scaling, for the
/// benchmark). The EXIF orientation is applied. Returns an empty string or the reason.
std::string decodeImage(const uint8_t* data, size_t size, int channels, int minShorter, bool turbo,
                        Image& out);

/// Width and height decodeImage() will produce for `header` and `minShorter` (turbo on).
void decodedSize(const ImageHeader& header, int minShorter, int& width, int& height);

/// Reads a whole file; empty string or the reason.
std::string readWholeFile(const std::string& path, std::vector<uint8_t>& bytes);

/// Source resolution a policy needs: the shorter side a decode must keep for the crop to be
/// at least the target's resolution (Eval: target / 0.875; TrainAugment: the smallest crop,
/// target / sqrt(0.08 * 3/4)).
int neededShorterSide(ViewPolicy policy, int outHeight, int outWidth);

struct ImageEntry {
    std::string path;
    int width = 0, height = 0; ///< oriented size
    int label = 0;
    bool jpeg = false;
    int minShorter = 0; ///< decode resolution (policies of the sets using the file)
};

/// Runs fn(0..n-1) on `threads` threads (work shared through an atomic counter).
void parallelFor(int64_t n, int threads, const std::function<void(int64_t)>& fn);

/// The held-out test split of a source without test files: 10% of each class (at least one)
/// drawn with kHeldOutSeed; positions into `labels`, sorted. `classWhere(c)` names a class
/// with fewer than 2 images in the DataError.
void splitHeldOut(const std::vector<int>& labels, int classes,
                  const std::function<std::string(int)>& classWhere, std::vector<int64_t>& train,
                  std::vector<int64_t>& test);

/// Scans an image folder (train/ + test/ or val/, or class folders alone) and fills `b`: the
/// datasets, the held-out test split, the skipped files and the summary. Throws DataError.
void loadImageFolder(const std::string& path, const DataOptions& options, DataBundle& b);

} // namespace mp::detail

namespace mp {

/// The files of one image folder source, shared by its training and test Dataset.
struct ImageFiles {
    std::vector<detail::ImageEntry> entries;
    int channels = 0, height = 0, width = 0;
    ViewPolicy trainPolicy = ViewPolicy::TrainCentre;
    int decodeThreads = 1;
    /// Decoded sources, one per entry, when the folder fits the cache budget; empty otherwise.
    std::vector<detail::Image> cache;
    bool cached() const { return !cache.empty(); }
    /// Same-class replacement order: next entry of the same label (cyclic).
    std::vector<int32_t> nextOfClass;

    mutable std::mutex failedMutex;
    mutable std::vector<std::string> failed; ///< "path: reason" of late failures
    mutable std::vector<char> failedFlag;    ///< per entry
};

} // namespace mp
