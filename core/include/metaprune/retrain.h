#pragma once
// Retraining a chosen pruned network as a standalone model (metapruning.md, "Evaluation": the
// paper retrains the searched structure before reporting its accuracy). Torch-free API.

#include "metaprune/architecture.h"
#include "metaprune/dataset.h"
#include "metaprune/export.h"
#include "metaprune/training.h"

#include <atomic>
#include <functional>

namespace mp {

enum class RetrainMode {
    Scratch,  ///< fresh initialisation (Kaiming for convs), the paper's protocol
    FineTune, ///< start from the PruningNet's generated weights with recalibrated BN
    /// Start from the trained model's leading channels (its channels ordered by importance, as
    /// the PruningNet started from it keeps them) with recalibrated BN: the structure inherits
    /// the model's weights, as EagleEye and the pruning libraries start.
    Inherit,
};

/// The retraining recipe. Every structure compared with another is retrained with the same one.
struct RetrainConfig {
    RetrainMode mode = RetrainMode::Scratch;
    int epochs = 2;
    int batchSize = 128;
    /// Peak learning rate: lr(step) = lr * min(1, (step+1)/warm-up) * (1 - step/total).
    double lr = 0.2;
    int warmupSteps = 100; ///< at most a quarter of the run's steps (short runs on small data)
    double momentum = 0.9;
    double weightDecay = 1e-4; ///< on conv and linear weights, not on BN or biases
    double labelSmoothing = 0.1;
    bool augment = false;      ///< random shifts and flips, as in PruningNet training
    uint64_t seed = 1;         ///< initialisation and data order
    /// Knowledge distillation from the trained full model (Hinton et al. 2015): the loss is
    /// (1 - alpha) * label-smoothed cross-entropy + alpha * T^2 * KL(softmax(teacher / T) ||
    /// softmax(student / T)), the teacher's logits from the same batch. Any mode.
    bool distill = false;
    double distillTemperature = 4.0;
    double distillAlpha = 0.9;
};

/// Peak learning rate of a retraining from inherited weights (--mode inherit) when none is
/// given: a tenth of the from-scratch rate, which undoes most of what the inherited weights
/// bring (mobilenet_v2 at 50% of the MACs, 1 epoch: 85.95% at 0.2, 88.37% at 0.02; README,
/// "Prune the model you trained").
constexpr double kInheritLr = 0.02;

/// "scratch" / "finetune" / "inherit"; parse throws std::invalid_argument.
std::string retrainModeName(RetrainMode mode);
RetrainMode parseRetrainMode(const std::string& name);

/// JSON text of a recipe (stable key order, without the seed: runs differing only in seed
/// share it) and back; fromJson throws std::invalid_argument.
std::string toJson(const RetrainConfig& cfg);
RetrainConfig retrainConfigFromJson(const std::string& json, uint64_t seed);

/// One point of a retraining curve.
struct RetrainEpoch {
    int epoch = 0;         ///< 1-based
    double loss = 0;       ///< mean training loss of the epoch (label-smoothed)
    double trainTop1 = 0;  ///< percent, on the epoch's batches
    double testTop1 = 0;   ///< percent, official test set after the epoch
    double seconds = 0;    ///< since the start
};

struct RetrainResult {
    bool finished = false; ///< false when cancelled (nothing is kept of a cancelled run)
    double testTop1 = 0;   ///< percent, official test set, after the last epoch
    double testLoss = 0;   ///< mean cross-entropy without smoothing
    int64_t testImages = 0;
    std::vector<RetrainEpoch> curve;
    double seconds = 0;
    PrunedNetwork network; ///< the retrained weights, BN folded, ready for writeNetwork()
};

struct RetrainCallbacks {
    /// Steps done / total, and the running loss of the epoch; about every 20 steps.
    std::function<void(int64_t step, int64_t total, double loss)> progress;
    std::function<void(const RetrainEpoch&)> epochEnd;
};

/// Trains the pruned network `enc` of `arch` as a standalone model: conv + BN (affine) +
/// activation per op of the architecture description, SGD with momentum, label smoothing.
/// It trains on `data.train` without the search split (`checkpoint.config` says which, so the
/// split stays held out) and reports top-1 on `data.test`, normalised like the PruningNet.
/// FineTune needs `generated` (Evaluator::prunedNetwork(enc)); Inherit and distillation need
/// `trained` (checkpointTrainedModel: channels in importance order, a batch norm for every
/// conv). Checks `cancel` every step and returns finished = false. Throws
/// std::invalid_argument for a bad encoding or a missing `generated` or `trained`, DataError
/// when the data does not fit the architecture.
RetrainResult retrainNetwork(const ArchSpec& arch, const Encoding& enc, const DataBundle& data,
                             const CheckpointInfo& checkpoint, const RetrainConfig& cfg,
                             const PrunedNetwork* generated = nullptr, const RetrainCallbacks& callbacks = {},
                             const std::atomic<bool>* cancel = nullptr, const TrainedWeights* trained = nullptr);

} // namespace mp
