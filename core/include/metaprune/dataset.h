#pragma once
// Readers for the image-classification formats users have: IDX (MNIST family, raw or .gz),
// CIFAR-10/100 binary batches, and an image folder (one sub-folder per class, JPEG/PNG/BMP/PNM
// of any sizes, read at the architecture's input size, cached in memory or streamed from disk).
// Every reader throws mp::DataError whose message names the file and the problem.

#include "metaprune/errors.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mp {

/// The decoded files of an image folder (file list, sizes, the decode cache); private to core.
struct ImageFiles;

/// N images of C x H x W (the tensor size) with labels 0..classes-1. IDX and CIFAR sets hold
/// 8-bit pixels in memory, planar per image; an image folder holds its files (`files`, one
/// entry per image in `fileIndex`), decoded and cropped to H x W when a batch is made.
struct Dataset {
    int channels = 0;
    int height = 0;
    int width = 0;
    std::vector<uint8_t> pixels; ///< in-memory sets: N x C x H x W
    std::vector<int> labels;
    std::vector<std::string> classNames;
    std::shared_ptr<const ImageFiles> files; ///< image folders only
    std::vector<int32_t> fileIndex;          ///< image folders: entry of `files` per image

    int64_t size() const { return int64_t(labels.size()); }
    int numClasses() const { return int(classNames.size()); }
    int64_t imageBytes() const { return int64_t(channels) * height * width; }
    /// True for IDX/CIFAR (pixels in memory); false for an image folder.
    bool inMemory() const { return files == nullptr; }
    /// Images per class, index = label.
    std::vector<int64_t> classCounts() const;
};

/// A training set and the test set of one data source.
struct DataBundle {
    std::string path;   ///< what the user named
    std::string format; ///< "idx", "cifar10", "cifar100", "folder"
    Dataset train;
    Dataset test;
    /// True when the source has no official test set and `test` was held out of its training
    /// images (10% of each class, at least one, seed kHeldOutSeed).
    bool testHeldOut = false;
    /// One line: images, classes, size range, gray/colour, skipped files, the crop policy, whether
    /// images are cached or streamed, and a note when the official test set is absent.
    std::string summary;
    /// Image folders: the files skipped because they cannot be decoded, "path: reason".
    std::vector<std::string> skipped;
};

enum class DataFormat { Auto, Idx, Cifar, Folder };

/// Default data set: Debian's dataset-fashion-mnist.
constexpr const char* kDefaultDataPath = "/usr/share/datasets/fashion-mnist";

/// Seed of the held-out test split of sources without an official test set.
constexpr uint64_t kHeldOutSeed = 20190318;

/// How an image file becomes an H x W tensor (the reference PyTorch ImageNet pipeline).
enum class ViewPolicy {
    /// Search, BN recalibration and test: scale the image so that it covers H/0.875 x W/0.875
    /// (the reference's resize 256 -> centre crop 224), then the centred H x W.
    Eval,
    /// Training without augmentation: scale the shorter side to the target, centre crop.
    TrainCentre,
    /// Training with augmentation: random-resized crop (area 0.08-1 of the image, aspect
    /// 3/4-4/3, torchvision's 10 tries then a centre fallback) and a horizontal flip with
    /// probability 1/2.
    TrainAugment,
};

/// A crop in the coordinates of the (EXIF-oriented) image, in pixels, resized to the target.
struct CropBox {
    double x = 0, y = 0, w = 0, h = 0;
    bool flip = false;
};

/// The crop of `policy` for an image of `imageWidth` x `imageHeight` and an `outHeight` x
/// `outWidth` target. TrainAugment draws from `seed` (one seed per image and step, so the crop
/// does not depend on which thread decodes it).
CropBox cropBox(ViewPolicy policy, int imageWidth, int imageHeight, int outHeight, int outWidth,
                uint64_t seed);

/// Resizes `box` of an 8-bit interleaved image (`width` x `height` x `channels`, which may be a
/// reduced decode of an `imageWidth` x `imageHeight` original: the box is scaled along) to
/// `outHeight` x `outWidth` in one resampling step (stb_image_resize, Mitchell filter when
/// shrinking, Catmull-Rom when enlarging), mirrored when box.flip. `out` receives H x W x C.
void renderCrop(const uint8_t* pixels, int width, int height, int channels, int imageWidth,
                int imageHeight, const CropBox& box, int outHeight, int outWidth, uint8_t* out);

/// What loading may do besides reading: input size, caps, the memory budget, decode threads.
struct DataOptions {
    /// Tensor size. 0 = the data's own size for IDX/CIFAR (resized when set and different),
    /// `folderHeight` x `folderWidth` for image folders.
    int height = 0, width = 0;
    int folderHeight = 28, folderWidth = 28;
    /// Training images are also read with TrainAugment (decides how much of a JPEG to decode).
    bool augment = false;
    int64_t trainPerClass =
        0; ///< cap on training images per class (0 = all), applied before decoding
    int64_t testPerClass = 0; ///< cap on test images per class (0 = all)
    /// Decoded image folders up to this size are cached in memory, larger ones streamed from
    /// disk; -1 = a quarter of the machine's memory.
    int64_t cacheBytes = -1;
    int decodeThreads = 1; ///< threads decoding images (loading and every batch of a folder)
    /// Loading stops when more than this fraction of an image folder cannot be decoded.
    double maxBad = 0.01;
};

/// Parses "auto", "idx", "cifar", "folder"; throws DataError otherwise.
DataFormat parseDataFormat(const std::string& name);

/// Loads train and test sets from `path`:
/// - IDX: a folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz];
/// - CIFAR: a folder holding data_batch_1..5.bin + test_batch.bin (CIFAR-10) or
///   train.bin + test.bin (CIFAR-100, fine labels);
/// - folder: <path>/train/<class>/* and <path>/test/<class>/*, or <path>/<class>/* alone.
/// Without test files (IDX t10k-*, test_batch.bin, test.bin, test/) 10% of each class (at least
/// one image, seed kHeldOutSeed) becomes the test set. Auto picks by the files present: any
/// IDX file makes it IDX (a missing one is named), any CIFAR batch CIFAR, else a folder.
/// Image folders: files are recognised by content; a file that cannot be decoded is skipped
/// and named in the summary unless more than options.maxBad of the folder is bad. The set is
/// gray if every image is, else RGB (gray replicated); alpha is dropped, 16-bit samples keep
/// their high byte, CMYK JPEGs become RGB = (255-C)(255-K)/255 (Adobe-inverted CMYK read as
/// such), the EXIF orientation of JPEGs is applied. Throws DataError naming the file and the
/// problem.
DataBundle loadData(const std::string& path, DataFormat format = DataFormat::Auto,
                    const DataOptions& options = {});

/// IDX pair (magic 0x00000803 images, 0x00000801 labels; gzip or raw). Throws DataError on a
/// missing file, wrong magic number, truncated data or an image/label count mismatch.
Dataset readIdx(const std::string& imagesPath, const std::string& labelsPath);

/// CIFAR binary batches: records of 1 label byte (CIFAR-10) or 2 (CIFAR-100: coarse, fine;
/// the fine label is used) followed by 3x32x32 pixels. Throws DataError on a missing file or a
/// size that is not a whole number of records.
Dataset readCifar(const std::vector<std::string>& files, bool cifar100);

/// Class-balanced subset: at most `perClass` images of each class, in file order.
Dataset subsetPerClass(const Dataset& data, int64_t perClass);

/// A class-balanced held-out split of the training set (the paper's search split): `perClass`
/// images of each class chosen with `seed`; the rest stays for training and BN recalibration.
struct SearchSplit {
    std::vector<int64_t> train;
    std::vector<int64_t> search;
};

/// Images the automatic search split aims for: a top-1 near 80% then has a 95% interval of
/// +-0.8 points (imagesForInterval(0.8, 80) = 9,602; issue 22), where 2,000 images gave +-1.6,
/// wider than the differences a search must tell inside a MACs band.
constexpr int64_t kSearchSplitImages = 9602;

/// Images per class of the search split: `perClass` when positive; 0 (automatic) takes
/// kSearchSplitImages over the classes, rounded up, but at most a sixth of the smallest class,
/// so that training keeps most of its images (Fashion-MNIST: 961 per class, 9,610 images,
/// 16% of the training set).
int searchPerClassFor(const Dataset& train, int perClass);

/// `perClass` 0: searchPerClassFor's automatic size. Throws DataError when a class has no
/// more than `perClass` images.
SearchSplit makeSearchSplit(const Dataset& train, int perClass, uint64_t seed);

/// Per-channel mean and standard deviation of the pixels (scaled to 0..1) of `indices`. Image
/// folders use the Eval view of a seeded sample of at most 500 of them (decoding all would take
/// as long as an epoch).
void channelStats(const Dataset& data, const std::vector<int64_t>& indices,
                  std::vector<float>& mean, std::vector<float>& stddev);

/// Renders image `index` of an image folder `data` with `policy` (H x W x C, 8-bit) into `out`.
/// A file that fails to decode now (its header read fine) is replaced by the next image of the
/// same class that decodes and is listed in lateFailures(). Throws DataError when none does.
void renderImage(const Dataset& data, int64_t index, ViewPolicy policy, uint64_t seed,
                 uint8_t* out);

/// Files of an image folder that failed to decode while streaming (after loading accepted their
/// headers), "path: reason", thread-safe.
std::vector<std::string> lateFailures(const Dataset& data);

} // namespace mp
