#pragma once
// PruningNet training with stochastic structure sampling (metapruning.md, "Training"):
// a new random encoding every mini-batch, SGD momentum, label smoothing, linear LR decay,
// atomic checkpoints and deterministic resume. Torch-free API.

#include "metaprune/architecture.h"
#include "metaprune/dataset.h"
#include "metaprune/distributed.h"
#include "metaprune/errors.h"
#include "metaprune/trained.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mp {

/// How the generators' output layers (the bulk of the PruningNet's parameters) are updated.
enum class GeneratorUpdate {
    /// Only the rows of this step's weight slice get momentum, like PyTorch's sparse
    /// embeddings (rows outside the slice keep their momentum until next used). Fast.
    Sparse,
    /// Every row gets momentum every step, exactly as the reference's dense torch SGD.
    Dense,
};

/// Which structures a training step trains (issue 22; metapruning.md, "Training").
enum class Sampling {
    /// The reference: one random encoding per step (or the full width, fullWidthProb).
    Random,
    /// The sandwich rule (Yu & Huang, US-Nets 2019; BigNAS): every step trains the full width,
    /// the narrowest structure and TrainConfig::sandwichRandom random ones on the same batch,
    /// their gradients accumulated (the mean of their losses) before one update.
    Sandwich,
};

/// "random" / "sandwich"; parse throws std::invalid_argument.
std::string samplingName(Sampling s);
Sampling parseSampling(const std::string& name);

/// Everything that decides a training run; stored as JSON in the checkpoint and the project.
struct TrainConfig {
    std::string family = "mobilenetv2";
    std::string preset = "small";
    /// An architecture description (architecture JSON, compact) for files and imported models;
    /// empty for the built-in families, which `family` and `preset` name. Its input channels,
    /// size and classes follow the data (resizeArchitecture).
    std::string architecture;
    std::string dataPath = kDefaultDataPath;
    std::string dataFormat = "auto";
    int64_t trainPerClass = 0; ///< cap on training images per class (0 = all)
    int64_t testPerClass = 0;  ///< cap on test images per class (0 = all)
    /// Held-out search split taken from the training set, images per class; 0 = automatic
    /// (searchPerClassFor: about 9,600 images in all, for a +-0.8 point interval).
    int searchPerClass = 0;
    int epochs = 4; // the demo's budget: about 5 minutes on one core
    int batchSize = 128;
    double lr = 0.4;            ///< peak learning rate, decayed linearly to 0 per step
    int warmupSteps = 200;      ///< linear warm-up from 0 to lr, at most a quarter of the run
    double momentum = 0.9;
    double weightDecay = 0.0; ///< reference PruningNet training uses 0
    double labelSmoothing = 0.1;
    /// Random shift (padding = size/8) and horizontal flip. Off by default: on short budgets it
    /// slows learning more than it helps (Fashion-MNIST, 1 epoch: 83.3% with, 88.3% without).
    bool augment = false;
    /// Probability that a step trains the full-width encoding instead of a random one (0 = the
    /// reference's pure uniform sampling). Keeps the largest network, which every pruned one
    /// shares its leading channels with, well trained on short budgets (like the sandwich rule
    /// of slimmable networks). Fashion-MNIST, 2 epochs: full-width top-1 85.0% at 0.5 against
    /// 81.8% at 0.25.
    double fullWidthProb = 0.5;
    GeneratorUpdate update = GeneratorUpdate::Sparse;
    Sampling sampling = Sampling::Random;
    int sandwichRandom = 2; ///< random structures per sandwich step besides the full and narrowest (BigNAS: 2)
    /// In-place distillation (US-Nets, BigNAS; sandwich only): the structures other than the
    /// full width learn from the full width's predictions on the same batch (detached), loss
    /// T^2 KL(softmax(teacher / T) || softmax(student / T)) instead of the labels.
    bool inplaceDistill = false;
    /// Data-parallel runs: batch norm statistics summed over the ranks every layer (synchronised
    /// BN: the run equals one process with the global batch) instead of each rank's own batch,
    /// as PyTorch's DistributedDataParallel does by default. Local statistics spare two small
    /// collectives per batch norm and step (issue 24); no effect in one process.
    bool syncBatchNorm = false;
    /// The ranks whose batch norms normalise their own shards (per-rank batch norm over more than
    /// one rank), 1 otherwise: part of the run's identity, so that such a PruningNet gets a
    /// checkpoint of its own (one process and synchronised ranks train the same network and
    /// share one). Set by the command from the rank count.
    int batchNormRanks = 1;
    double inplaceTemperature = 1.0; ///< US-Nets and BigNAS use the soft labels as they are
    uint64_t seed = 1;
    /// Input (tensor) size; 0 = the data's own size for IDX/CIFAR, the preset's for image
    /// folders (an architecture file's own size; paper 224x224; small 32x32 for resnet, else
    /// 28x28). `--size H[xW]`.
    int inputHeight = 0, inputWidth = 0;
    /// Loading an image folder stops when more than this fraction of its files cannot be decoded.
    double maxBad = 0.01;
    /// Start the PruningNet at the trained model of an imported description with weights
    /// (trained.h; `train --init weights`, the default for such a description): its channels
    /// ordered by importance, every structure's weights its leading channels, and its batch
    /// norms affine. false: random generators, as the reference.
    bool initFromWeights = false;
};

/// Peak learning rate of a PruningNet started at a trained model, when none is given: a tenth
/// of the from-scratch rate, which would first wreck the trained weights (README, "Prune the
/// model you trained").
constexpr double kWarmStartLr = 0.04;

/// How data is read rather than what is learnt, so not part of TrainConfig (or of the
/// checkpoint's name): the results are the same for any value.
struct LoaderSettings {
    int64_t cacheBytes = -1; ///< image folders decoded up to this size are cached; -1 = a quarter of the memory
    int decodeThreads = 1;   ///< image decoding threads
};

/// JSON text of a config (stable key order) and back. fromJson throws std::invalid_argument.
std::string toJson(const TrainConfig& cfg);
TrainConfig trainConfigFromJson(const std::string& json);

/// The architecture a config trains on data of this shape (a built-in family, or the config's
/// description resized to the data). Throws std::invalid_argument / ArchError.
ArchSpec architectureOf(const TrainConfig& cfg, int channels, int height, int width, int classes);

/// Size of a PruningNet and the memory its training needs, computed from the description
/// without allocating it. Bytes are float32: weights (generators, conv biases, linear layers),
/// their momentum, the dense parameters' gradients, and the activations of one training batch
/// of the full-width network (each value kept for the backward pass, about three tensors of
/// its size per op).
struct PruningNetSize {
    int64_t parameters = 0;          ///< everything training updates
    int64_t generatorParameters = 0; ///< of which the conv weight generators (W2, b2, first layers)
    int64_t weightBytes = 0, momentumBytes = 0, gradientBytes = 0, activationBytes = 0;
    int batch = 1;
    int64_t trainingBytes() const { return weightBytes + momentumBytes + gradientBytes + activationBytes; }
};
PruningNetSize pruningNetSize(const ArchSpec& arch, int batchSize);
/// "the PruningNet of resnet18 has 360.3 M parameters (...); training it at batch 128 needs about 2.9 GiB (...)".
std::string describePruningNetSize(const ArchSpec& arch, const PruningNetSize& size);

/// Memory this process can use now (MemAvailable of /proc/meminfo, bytes; 0 when unknown).
int64_t availableMemoryBytes();

/// The size an image folder is read at under `cfg` (see TrainConfig::inputHeight).
void folderInputSize(const TrainConfig& cfg, int& height, int& width);

/// Loads the data a config names at its input size, applying its per-class caps. Throws DataError.
DataBundle loadTrainingData(const TrainConfig& cfg, const LoaderSettings& loader = {});

/// Reported about every 50 steps and at the end of an epoch.
struct TrainProgress {
    int64_t step = 0;       ///< steps done
    int64_t totalSteps = 0; ///< steps of the whole run
    int epoch = 0;          ///< 0-based epoch in progress
    double loss = 0;        ///< mean training loss of this epoch so far
    double top1 = 0;        ///< training top-1 (percent) of sampled structures, this epoch
    double lr = 0;
    double elapsedSeconds = 0; ///< this session
    double etaSeconds = 0;
};

struct TrainCallbacks {
    std::function<void(const TrainProgress&)> progress;
    std::function<void(const TrainProgress&)> epochEnd;
};

struct TrainOutcome {
    bool finished = false; ///< all epochs done (false when cancelled)
    int64_t steps = 0;
    std::string checkpoint;
    double seconds = 0;
};

/// Throws ConfigError when a global batch of `batchSize` does not split evenly over `ranks`
/// processes (each rank trains on an equal shard of every batch).
void checkBatchSplits(int batchSize, int ranks);

/// Everything checkBatchSplits checks, and that the sampling can run on `ranks` processes
/// (sandwich sampling cannot yet). Throws ConfigError; called before any rank starts.
void checkDataParallel(const TrainConfig& cfg, int ranks);

/// The trained model of a description with weights (ArchSpec::weightsFile), read from its ONNX
/// file: checked against the SHA-256 the import recorded and against the description's ops.
/// Throws ArchError naming the file (missing, changed since the import, another graph).
TrainedWeights readTrainedModel(const ArchSpec& arch);

/// The trained model a PruningNet checkpoint started from (train --init weights), channels in
/// the checkpoint's importance order, a batch norm for every conv. Throws CheckpointError when
/// the checkpoint holds none (a PruningNet trained from random weights) or cannot be read.
TrainedWeights checkpointTrainedModel(const std::string& checkpoint);

/// Checks, before anything is written or allocated, that a training of `cfg` on `data` over
/// `ranks` processes can run: the global batch splits evenly over the ranks (ConfigError), a
/// whole batch is left after the search split (DataError), the PruningNet fits the machine's
/// memory (ConfigError). trainPruningNet calls it; trainInProject calls it before it opens the
/// project, so a refused command leaves no training row and no checkpoints folder.
void checkTrainingFits(const DataBundle& data, const TrainConfig& cfg, int ranks);

/// Trains the PruningNet described by `cfg` on `data`, writing `checkpointPath` atomically at
/// each epoch end, every `checkpointSeconds`, on cancel and at the end. If the checkpoint
/// exists with the same config it resumes from its step (same data order and encodings as an
/// uninterrupted run); with another config it throws CheckpointError. `cancel` is polled every
/// step. Throws DataError for data that does not fit the config.
///
/// With `dist` over several ranks (data-parallel training, each rank calling this with the same
/// config and data): every rank samples the same encoding each step and trains on its equal
/// shard of the global batch cfg.batchSize (ConfigError when it does not split evenly); batch
/// norm statistics and the gradients are those of the whole batch (synchronised batch norm,
/// gradients averaged with Gloo allreduce), so the run follows the single-process one with the
/// same global batch and learning-rate schedule. Rank 0 alone reads and writes the checkpoint and
/// broadcasts its state at the start, so a run resumes with any number of ranks. A cancel on any
/// rank stops all of them after the same step. Throws DistributedError when a rank is lost.
TrainOutcome trainPruningNet(const DataBundle& data, const TrainConfig& cfg, const std::string& checkpointPath,
                             const TrainCallbacks& callbacks = {}, const std::atomic<bool>* cancel = nullptr,
                             double checkpointSeconds = 60.0, const Distributed* dist = nullptr);

/// What a checkpoint holds, read without building the network.
struct CheckpointInfo {
    std::string path;
    std::string sha256;
    TrainConfig config;
    int64_t step = 0;
    int64_t totalSteps = 0;
    int inChannels = 0, inHeight = 0, inWidth = 0, classes = 0;
    std::vector<float> mean, stddev; ///< input normalisation (per channel, 0..1 pixel scale)
    std::vector<std::string> classNames;
    /// The data's summary line (crop policy, cached or streamed) and the skipped files, one
    /// "skipped path: reason" line each.
    std::string dataSummary;
    bool finished() const { return step >= totalSteps; }
};

/// Throws CheckpointError naming the file when it is missing or not a MetaPrune checkpoint.
CheckpointInfo readCheckpointInfo(const std::string& path);

/// The error text for a checkpoint `path` that does not exist: "<path>: checkpoint not found",
/// and, where its `<name>.checkpoints` folder is missing (a project copied or renamed without
/// it), which folder, and a sibling `*.checkpoints` folder that holds a file of that name.
std::string checkpointNotFoundMessage(const std::string& path);

/// The architecture a checkpoint's PruningNet generates weights for.
ArchSpec checkpointArchitecture(const CheckpointInfo& info);

/// SHA-256 of a file, hex. Throws std::runtime_error naming the file if it cannot be read.
std::string fileSha256(const std::string& path);

/// Sets LibTorch's intra-op thread count (0 = hardware threads) and lets glibc keep freed
/// large buffers for reuse: by default every activation tensor over 128 KiB is a fresh mmap
/// whose page faults cost 20-30% of a paper-preset training step. Call once at start-up.
/// One thread is the safe default on shared machines: with 2 threads, OpenMP's spinning
/// barriers made an evaluation 10x slower while another process used a core (platform.md).
void configureRuntime(int threads);

/// Checks the compute device a command asks for: "cpu" passes. Throws ConfigError naming the
/// setting for anything else: "cuda" / "cuda:N" when this LibTorch build has no CUDA (Debian's
/// libtorch-dev is CPU-only) or no device is visible, and, with CUDA, because only the
/// engine's kernels (batch norm, generator slices) have device-generic paths so far, not its
/// data and network placement.
void checkDevice(const std::string& device);

/// Applies the configured thread count to the calling thread (OpenMP keeps the count per
/// thread): worker threads call it before their LibTorch work.
void applyThreadCount();
int threads();

} // namespace mp
