#pragma once
// Private to core: the LibTorch PruningNet. Include this before any Qt header (platform.md:
// LibTorch uses the identifier `slots`, which Qt defines as a macro).

#include <torch/torch.h>

#include "bn_kernels.h"
#include "generator_kernels.h"
#include "metaprune/architecture.h"
#include "metaprune/export.h"

#include <vector>

namespace mp::detail {

/// Weight generator of one conv (reference design, metapruning.md "PruningNet block"):
/// cond [k] -> Linear(k, hidden) -> ReLU -> Linear(hidden, numel) -> max-size weight
/// [maxOut, maxIn/groups, kh, kw], of which the leading [:out, :in] slice is used.
/// The second Linear is stored as raw tensors (W2 [numel, hidden], b2 [numel]) so that only
/// the rows of the slice are computed and updated.
struct Generator {
    /// The used slice's shape for an (out, inPerGroup) pair (generator_kernels.h).
    SliceShape slice(int out, int inPerGroup) const {
        return {out, int64_t(inPerGroup) * kk, int64_t(maxInPerGroup) * kk, hidden};
    }
    int op = -1;
    int maxOut = 0;
    int maxInPerGroup = 0;
    int kk = 1;
    int hidden = 32;
    torch::nn::Linear fc1{nullptr};
    torch::Tensor W2, b2;       // registered as buffers: updated by our own SGD step
    torch::Tensor W2mom, b2mom; // momentum buffers of W2, b2
};

/// Weights of one pruned network: conv weights [out, in/groups, k, k] (channels_last) in op
/// order (undefined for non-conv ops), and the classifier. convBias is only set once BN has
/// been folded into the convs (foldBatchNorm).
struct PrunedWeights {
    std::vector<torch::Tensor> conv;
    std::vector<torch::Tensor> convBias;
    torch::Tensor fcWeight; // [classes, in]
    torch::Tensor fcBias;   // [classes]
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
    int out = 0;
    int inPerGroup = 0;
    torch::Tensor h;      ///< [hidden], still attached to the generator's first layer
    torch::Tensor weight; ///< [out * inPerGroup * kk] leaf that requires grad
};

enum class BnMode {
    Train, ///< batch statistics, EMA (momentum 0.1) into the per-(position, scale) buffers
    Recal, ///< batch statistics, exact cumulative average into a BnStats (BN recalibration)
    Eval,  ///< normalise with a BnStats
    Folded, ///< BN already folded into conv weights and biases (foldBatchNorm)
};

/// Folds BN statistics into the conv weights: w' = w * invstd, b' = -mean * invstd per output
/// channel, invstd = 1 / sqrt(var + eps). Evaluating the result in Folded mode equals Eval mode.
PrunedWeights foldBatchNorm(const PrunedWeights& w, const BnStats& stats);

/// A tensor as a plain row-major float array, and back (a copy either way).
NetworkTensor toNetworkTensor(const torch::Tensor& t);
torch::Tensor fromNetworkTensor(const NetworkTensor& t);

/// The folded weights as plain arrays for the exporters (conv weights made contiguous NCHW).
PrunedNetwork toPrunedNetwork(const ArchSpec& arch, const Encoding& enc, const PrunedWeights& folded,
                              const std::string& metadataJson);

class PruningNetModuleImpl : public torch::nn::Module {
public:
    explicit PruningNetModuleImpl(const ArchSpec& arch);

    const ArchSpec& arch() const { return arch_; }

    /// Generator input of a conv: channel ratio (channels / max channels) of each condition
    /// gene. Ratios rather than nominal scales make two encodings of the same network generate
    /// the same weights.
    torch::Tensor condition(const Op& op, const Encoding& enc) const;

    /// Generates every weight of the pruned network `enc` (no autograd).
    PrunedWeights generate(const Encoding& enc);

    /// Same, for training: conv weights are autograd leaves (see SliceLeaf). Only the rows of
    /// W2 that produce the used slice are read.
    PrunedWeights generateForTraining(const Encoding& enc, std::vector<SliceLeaf>& leaves);

    /// Runs the backbone. `x` [N, C, H, W] channels_last float; returns logits [N, classes].
    /// In Recal mode `stats` receives cumulative averages, `recalStep` is the 0-based batch.
    torch::Tensor forward(const torch::Tensor& x, const Encoding& enc, const PrunedWeights& w,
                          BnMode mode, BnStats* stats = nullptr, int recalStep = 0);

    /// Per-(position, scale index) BN buffers learnt during training (used in Eval mode only
    /// when evaluating without recalibration, to show why recalibration is needed).
    BnStats trainingStats(const Encoding& enc) const;

    /// Zeroed statistics sized for `enc`.
    BnStats emptyStats(const Encoding& enc) const;

    std::vector<Generator>& generators() { return gens_; }
    /// Parameters updated by torch::optim::SGD: generator first layers and the classifier.
    std::vector<torch::Tensor> denseParameters();
    int64_t generatorParameterCount() const;

    torch::Tensor fcWeight, fcBias; // [classes, maxIn], [classes]

private:
    int bnKey(const Op& op, const Encoding& enc) const;
    ArchSpec arch_;
    std::vector<Generator> gens_;
    std::vector<int> genOfOp_; // op index -> generator index or -1
    std::vector<torch::Tensor> bnMean_, bnVar_; // per op: [31, maxOut]
};
TORCH_MODULE(PruningNetModule);

} // namespace mp::detail
