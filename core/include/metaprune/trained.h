#pragma once
// A trained model the user brings (`metaprune import` of an ONNX file with its weights): its
// tensors per op of its architecture description, and what the product does with them: the
// model evaluated as itself, a batch norm of its own for every conv, every gene's channels
// ordered by importance, and PruningNets and pruned networks started from it. Torch-free API.

#include "metaprune/architecture.h"
#include "metaprune/dataset.h"
#include "metaprune/network.h"

#include <atomic>
#include <string>
#include <vector>

namespace mp {

/// Trained tensors per op of an architecture description (index = op), at full width; empty
/// tensors where an op has none.
struct TrainedWeights {
    std::vector<NetworkTensor> weight; ///< Conv [out, in/groups, kh, kw]; Linear [out, in]
    std::vector<NetworkTensor> bias;   ///< Conv, Linear [out]; empty when the layer has none
    /// The batch norm after a Conv, and a BatchNorm op's: gamma, beta, running mean and
    /// running variance [C], and epsilon. Empty where the graph has none: a conv whose batch
    /// norm the exporter folded into its weight and bias (see withBatchNormOfEveryConv).
    std::vector<NetworkTensor> bnScale, bnShift, bnMean, bnVar;
    std::vector<float> bnEps;
    bool empty() const { return weight.empty(); }
};

/// Throws std::invalid_argument naming the op when `w` does not fit `arch` at full width: a
/// missing or misshapen weight, bias or batch-norm tensor, or one op too many or few.
void checkTrainedWeights(const ArchSpec& arch, const TrainedWeights& w);

/// The full-width network of a trained model, every batch norm folded with its running
/// statistics (the model in eval mode), as an export holds it (PrunedNetwork::metadataJson
/// empty). Throws std::invalid_argument (checkTrainedWeights).
PrunedNetwork trainedNetwork(const ArchSpec& arch, const TrainedWeights& w);

/// `values` (one value, or one per channel) as one value per channel of `channels`. Throws
/// std::invalid_argument for another count.
std::vector<float> perChannel(const std::vector<float>& values, int channels, const char* what);

/// A trained model's top-1 (percent) and mean cross-entropy on every image of `data`, its
/// images scaled to 0..1 and normalised as (x - mean) / std per channel; the logits [classes]
/// of the first `keepLogits` images are kept. Throws DataError when the data's channels or
/// size differ from the model's input, Cancelled when `cancel` is set.
struct ModelScore {
    double top1 = 0, loss = 0;
    int64_t images = 0;
    std::vector<std::vector<float>> logits;
};
ModelScore evaluateTrained(const ArchSpec& arch, const TrainedWeights& w, const Dataset& data,
                           const std::vector<float>& mean, const std::vector<float>& std, int keepLogits = 0,
                           const std::atomic<bool>* cancel = nullptr);

/// The same model with a batch norm (gamma, beta, running mean and variance) for every conv
/// the description gives one, and no conv bias before it. A conv whose batch norm the
/// exporter folded gets the statistics of its output over `images` of `data` (exact averages,
/// the model's own activations feeding each layer) and gamma = sqrt(var + eps), beta = mean +
/// bias, so that it computes the same function; a conv bias before a batch norm moves into
/// its running mean. The PruningNet's recalibrated batch norms and the inherited pruned
/// networks start from these. Throws std::invalid_argument, DataError.
TrainedWeights withBatchNormOfEveryConv(const ArchSpec& arch, const TrainedWeights& w, const Dataset& data,
                                        const std::vector<int64_t>& images, const std::vector<float>& mean,
                                        const std::vector<float>& std);

/// The importance of every channel of every gene, [gene][channel at full width]: the L1 norm
/// of the channel's filter with its batch norm folded in (gamma / sqrt(var + eps) times the
/// conv's output filter), summed over every conv and linear layer that writes the gene's
/// channels: the layers tied by residual adds and SE gating, and the depthwise and grouped
/// convs that follow them (Torch-Pruning's group L1 importance over the producers of a group).
std::vector<std::vector<double>> channelImportance(const ArchSpec& arch, const TrainedWeights& w);

/// The same model with every gene's channels in decreasing importance (channelImportance;
/// ties keep their order), permuted consistently through every layer that writes or reads
/// them (concatenations, depthwise, grouped and linear layers over flattened maps), so the
/// full network computes the same function and every pruned structure's leading channels are
/// the most important ones. A gene with a quantum (grouped convs) moves whole blocks of
/// `quantum` channels, ranked by their summed importance, so groups stay whole.
TrainedWeights orderByImportance(const ArchSpec& arch, const TrainedWeights& w);

} // namespace mp
