#pragma once
// Readers for the image-classification formats users have: IDX (MNIST family, raw or .gz),
// CIFAR-10/100 binary batches, and an image folder (one sub-folder per class, PNG/JPEG/BMP).
// Every reader throws mp::DataError whose message names the file and the problem.

#include "metaprune/errors.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mp {

/// Images kept as 8-bit pixels, N x C x H x W (planar per image), with labels 0..classes-1.
struct Dataset {
    int channels = 0;
    int height = 0;
    int width = 0;
    std::vector<uint8_t> pixels;
    std::vector<int> labels;
    std::vector<std::string> classNames;

    int64_t size() const { return int64_t(labels.size()); }
    int numClasses() const { return int(classNames.size()); }
    int64_t imageBytes() const { return int64_t(channels) * height * width; }
    /// Images per class, index = label.
    std::vector<int64_t> classCounts() const;
};

/// A training set and the official test set of one data source.
struct DataBundle {
    std::string path;   ///< what the user named
    std::string format; ///< "idx", "cifar10", "cifar100", "folder"
    Dataset train;
    Dataset test;
};

enum class DataFormat { Auto, Idx, Cifar, Folder };

/// Default data set: Debian's dataset-fashion-mnist.
constexpr const char* kDefaultDataPath = "/usr/share/datasets/fashion-mnist";

/// Parses "auto", "idx", "cifar", "folder"; throws DataError otherwise.
DataFormat parseDataFormat(const std::string& name);

/// Loads train and test sets from `path`:
/// - IDX: a folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz];
/// - CIFAR: a folder holding data_batch_1..5.bin + test_batch.bin (CIFAR-10) or
///   train.bin + test.bin (CIFAR-100, fine labels);
/// - folder: <path>/train/<class>/* and <path>/test/<class>/*; or <path>/<class>/* alone, in
///   which case 10% of each class (fixed seed) becomes the test set.
/// Auto picks by the files present. Throws DataError naming the file and the problem.
DataBundle loadData(const std::string& path, DataFormat format = DataFormat::Auto);

/// IDX pair (magic 0x00000803 images, 0x00000801 labels; gzip or raw). Throws DataError on a
/// missing file, wrong magic number, truncated data or an image/label count mismatch.
Dataset readIdx(const std::string& imagesPath, const std::string& labelsPath);

/// CIFAR binary batches: records of 1 label byte (CIFAR-10) or 2 (CIFAR-100: coarse, fine;
/// the fine label is used) followed by 3x32x32 pixels. Throws DataError on a missing file or a
/// size that is not a whole number of records.
Dataset readCifar(const std::vector<std::string>& files, bool cifar100);

/// One sub-folder per class (sorted by name = label order), images decoded with stb_image and
/// resized to the first image's size. Grayscale if every image is, else RGB. Throws DataError
/// on a missing folder, an empty class folder or an undecodable image.
Dataset readImageFolder(const std::string& folder);

/// Class-balanced subset: at most `perClass` images of each class, in file order.
Dataset subsetPerClass(const Dataset& data, int64_t perClass);

/// A class-balanced held-out split of the training set (the paper's search split): `perClass`
/// images of each class chosen with `seed`; the rest stays for training and BN recalibration.
struct SearchSplit {
    std::vector<int64_t> train;
    std::vector<int64_t> search;
};

/// Throws DataError when a class has no more than `perClass` images.
SearchSplit makeSearchSplit(const Dataset& train, int perClass, uint64_t seed);

/// Per-channel mean and standard deviation of the pixels (scaled to 0..1) of `indices`.
void channelStats(const Dataset& data, const std::vector<int64_t>& indices,
                  std::vector<float>& mean, std::vector<float>& stddev);

} // namespace mp
