#pragma once
// Private to core: the LibTorch PruningNet. Include this before any Qt header (platform.md:
// LibTorch uses the identifier `slots`, which Qt defines as a macro).

#include <torch/torch.h>

#include "bn_kernels.h"
#include "generator_kernels.h"
#include "metaprune/architecture.h"
#include "metaprune/export.h"
#include "metaprune/trained.h"

#include <array>
#include <vector>

namespace mp::detail {

/// The channels of `ranges` as an index tensor (for index_select / index_copy_).
torch::Tensor channelIndex(const std::vector<ChannelRange>& ranges);
/// The channels of `ranges` along `dim`: a narrow() view for one range, a copy otherwise.
torch::Tensor take(const torch::Tensor& t, int64_t dim, const std::vector<ChannelRange>& ranges);

/// Weight generator of one conv (reference design, metapruning.md "PruningNet block"):
/// cond [k] -> Linear(k, hidden) -> ReLU -> Linear(hidden, numel) -> max-size weight
/// [maxOut, maxIn/groups, kh, kw], of which the used output channels and input columns are
/// taken (a leading slice, or several ranges after a Concat). The second Linear is stored as
/// raw tensors (W2 [numel, hidden], b2 [numel]) so that only the rows of the slice are computed
/// and updated.
struct Generator {
    int op = -1;
    int maxOut = 0;
    int maxInPerGroup = 0;
    int kk = 1;
    int hidden = 32;
    torch::nn::Linear fc1{nullptr};
    torch::Tensor W2, b2;       // registered as buffers: updated by our own SGD step
    torch::Tensor W2mom, b2mom; // momentum buffers of W2, b2
};

/// Weights of one pruned network, in op order (undefined where an op has none): conv weights
/// [out, in/groups, kh, kw] (channels_last), conv biases (of bias convs; after foldBatchNorm of
/// every conv), linear weights [out, in] and biases.
struct PrunedWeights {
    std::vector<torch::Tensor> conv;
    std::vector<torch::Tensor> convBias;
    std::vector<torch::Tensor> linWeight, linBias;
    /// Per BatchNorm op, after foldBatchNorm only: y = x * normScale + normShift, per channel [C].
    std::vector<torch::Tensor> normScale, normShift;
    /// Per op with a batch norm, in a PruningNet started from a trained model: the used slice
    /// of its affine parameters (gamma, beta) [C]; undefined otherwise (no affine, as the
    /// reference PruningNet).
    std::vector<torch::Tensor> bnGamma, bnBeta;
    /// Per Conv/Linear op: its output channels within the full-width layout; per BatchNorm op:
    /// the channels it normalises (its input's). Index the BN buffers.
    std::vector<std::vector<ChannelRange>> outRanges;
};

/// Running statistics of every BN of one pruned network (undefined for ops without BN).
struct BnStats {
    std::vector<torch::Tensor> mean, var;
};

/// For the training step: one conv's generated weight as an autograd leaf. Its gradient g and
/// the generator's hidden activation h give everything else: dL/dW2 on the used slice is the
/// outer product g h^T (rows outside the slice get zero), dL/db2 = g, dL/dh = W2_slice^T g.
struct SliceLeaf {
    int gen = -1;
    SliceShape shape;
    torch::Tensor h;      ///< [hidden], still attached to the generator's first layer
    torch::Tensor weight; ///< [outCount * usedCount] leaf that requires grad
};

enum class BnMode {
    Train, ///< batch statistics, EMA (momentum 0.1) into the per-(position, scale) buffers
    Recal, ///< batch statistics, exact cumulative average into a BnStats (BN recalibration)
    Eval,  ///< normalise with a BnStats
    Folded, ///< BN already folded into conv weights and biases (foldBatchNorm)
};

/// A folded BatchNorm op: x [N, C, H, W] * scale [C] + shift [C], per channel.
torch::Tensor scaleShift(const torch::Tensor& x, const torch::Tensor& scale, const torch::Tensor& shift);

/// Applies an activation (no autograd: in place on a fresh tensor).
torch::Tensor activate(torch::Tensor y, Activation act);

/// Folds BN statistics into the conv weights: w' = w * invstd, b' = -mean * invstd per output
/// channel, invstd = 1 / sqrt(var + eps); bias convs keep their bias. A BatchNorm op becomes the
/// per-channel affine map normScale = invstd, normShift = -mean * invstd. Evaluating the result
/// in Folded mode equals Eval mode.
PrunedWeights foldBatchNorm(const PrunedWeights& w, const BnStats& stats);

/// A tensor as a plain row-major float array, and back (a copy either way).
NetworkTensor toNetworkTensor(const torch::Tensor& t);
torch::Tensor fromNetworkTensor(const NetworkTensor& t);

/// One op of a pruned network with folded weights (foldBatchNorm, or an export's): conv with
/// its bias, linear layer, BatchNorm op as scale and shift, each with its activation, or the
/// shared non-parametric op. The PruningNet's Folded mode, latency timing and exported networks
/// run through here.
torch::Tensor runFoldedOp(const Op& op, size_t i, const std::vector<const torch::Tensor*>& in, const PrunedWeights& w);

/// The whole pruned network with folded weights: x [N, C, H, W] channels_last -> logits
/// [N, classes] (no autograd is needed; the caller sets NoGradGuard where it wants none).
torch::Tensor forwardFolded(const ArchSpec& arch, const PrunedWeights& w, const torch::Tensor& x);

/// An export's tensors as folded weights (the inverse of toPrunedNetwork).
PrunedWeights fromPrunedNetwork(const PrunedNetwork& net);

/// The folded weights as plain arrays for the exporters (conv weights made contiguous NCHW).
PrunedNetwork toPrunedNetwork(const ArchSpec& arch, const Encoding& enc, const PrunedWeights& folded,
                              const std::string& metadataJson);

/// Runs one non-parametric op of the graph (Add, Mul, Concat, pools, Act) on `inputs` (the
/// values it reads, in order), with its activation. Shared by the PruningNet, the retrained
/// network and the latency timing, so every path computes the same function.
torch::Tensor applyOp(const Op& op, const std::vector<const torch::Tensor*>& inputs);

/// at::conv2d (x: [N, C, H, W], weight: [out, C / groups, kH, kW]), except that a strided 1x1
/// conv runs as a subsample then a stride-1 conv, the same function, which keeps oneDNN 2.6
/// off its faulty strided 1x1 backward kernel (oneDNN#6035). Every conv of the engine (the
/// PruningNet, retraining, latency timing) goes through here.
torch::Tensor conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     std::array<int64_t, 2> stride, std::array<int64_t, 2> padding, int64_t dilation,
                     int64_t groups);

/// conv2d with an op's stride, padding, dilation and groups (`channels` = the conv's output
/// channels, for depthwise and grouped convs).
torch::Tensor convolve(const Op& op, const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

class PruningNetModuleImpl : public torch::nn::Module {
public:
    /// `fromTrained`: a PruningNet that starts at a trained model (startFrom): its batch norms
    /// get affine parameters (the model's gamma and beta, then trained) and it keeps the
    /// trained model it started from (trained()), the reference of inherited weights and
    /// distillation. Otherwise the reference design: batch norm without affine parameters.
    explicit PruningNetModuleImpl(const ArchSpec& arch, bool fromTrained = false);

    bool fromTrained() const { return fromTrained_; }
    /// Sets the generators so that every structure's weights are the trained model's leading
    /// channels: each output layer's bias holds the model's weight tensor and its matrix starts
    /// at zero; conv biases, linear layers, the batch norms' gamma and beta and their running
    /// statistics (every scale's row) are the model's; the model itself is kept. `w` is the
    /// model with a batch norm for every conv and its channels ordered by importance
    /// (withBatchNormOfEveryConv, orderByImportance). Throws std::logic_error without
    /// fromTrained, std::invalid_argument when `w` does not fit.
    void startFrom(const TrainedWeights& w);
    /// The trained model this PruningNet started from (after startFrom, or as its checkpoint
    /// kept it). Throws std::logic_error without fromTrained.
    TrainedWeights trained() const;
    /// The trained model's own weights for `enc`: the leading channels (the same slices the
    /// generators give), batch norms with the model's gamma and beta, to be recalibrated like
    /// generated weights. Throws std::logic_error without fromTrained.
    PrunedWeights inherit(const Encoding& enc) const;

    const ArchSpec& arch() const { return arch_; }
    const std::vector<ValueShape>& values() const { return values_; }

    /// Generator input of a conv: channel ratio (channels / max channels) of each condition
    /// gene. Ratios rather than nominal scales make two encodings of the same network generate
    /// the same weights. A conv without condition genes sees [1].
    torch::Tensor condition(const Op& op, const Encoding& enc) const;

    /// Generates every weight of the pruned network `enc` (no autograd).
    PrunedWeights generate(const Encoding& enc);

    /// Same, for training: conv weights are autograd leaves (see SliceLeaf), other weights are
    /// views of the dense parameters. Only the rows of W2 that produce the used slice are read.
    PrunedWeights generateForTraining(const Encoding& enc, std::vector<SliceLeaf>& leaves);

    /// Runs the graph. `x` [N, C, H, W] channels_last float; returns logits [N, classes].
    /// In Recal mode `stats` receives cumulative averages, `recalStep` is the 0-based batch.
    torch::Tensor forward(const torch::Tensor& x, const Encoding& enc, const PrunedWeights& w,
                          BnMode mode, BnStats* stats = nullptr, int recalStep = 0);

    /// The channels each batch norm (of a conv or a BatchNorm op) normalises under `enc`, per op
    /// (empty for ops without one).
    std::vector<std::vector<ChannelRange>> normRanges(const Encoding& enc) const;

    /// Per-(position, scale index) BN buffers learnt during training (used in Eval mode only
    /// when evaluating without recalibration, to show why recalibration is needed).
    BnStats trainingStats(const Encoding& enc) const;

    /// Zeroed statistics sized for `enc`.
    BnStats emptyStats(const Encoding& enc) const;

    std::vector<Generator>& generators() { return gens_; }
    /// Parameters updated by torch::optim::SGD: generator first layers, conv biases, linear
    /// layers, batch norms' gamma and beta (fromTrained).
    std::vector<torch::Tensor> denseParameters();
    /// The dense parameters the loss reaches without the generators (conv biases, linear
    /// layers, gamma and beta): their gradients are complete after loss.backward().
    std::vector<torch::Tensor> lossParameters() const;

    /// Training-mode batch norm over the ranks of a data-parallel run (null: this process's
    /// batch only). The caller keeps `sync` alive while training.
    void setRankSum(const RankSum* sync) { sync_ = sync; }
    int64_t generatorParameterCount() const;

private:
    int bnKey(size_t op, const Encoding& enc) const;
    /// Batch norm of op i's output y (a conv's, or a BatchNorm op's input) in `mode`, with the
    /// activation `act` where the kernels fuse it (`fused` says which ran).
    torch::Tensor batchNorm(size_t i, const torch::Tensor& y, const Encoding& enc, const PrunedWeights& w,
                            BnMode mode, BnStats* stats, int recalStep, Activation act, Activation& fused);

    ArchSpec arch_;
    std::vector<ValueShape> values_;
    std::vector<Generator> gens_;
    std::vector<int> genOfOp_;                  // op index -> generator index or -1
    std::vector<torch::Tensor> bnMean_, bnVar_; // per op: [31, maxOut]
    std::vector<torch::Tensor> convBias_;       // per op: [maxOut] for bias convs
    std::vector<torch::Tensor> linWeight_, linBias_; // per op: [maxOut, maxIn], [maxOut]
    bool fromTrained_ = false;
    std::vector<torch::Tensor> bnWeight_, bnBias_; // per op with BN, fromTrained: affine [maxC]
    /// The trained model (fromTrained), per op: weight, bias (bias convs, linear layers) and
    /// batch norm, as buffers so that checkpoints keep it; its epsilons [ops].
    std::vector<torch::Tensor> tWeight_, tBias_, tBnScale_, tBnShift_, tBnMean_, tBnVar_;
    torch::Tensor tBnEps_;
    const RankSum* sync_ = nullptr;
};
TORCH_MODULE(PruningNetModule);

} // namespace mp::detail
