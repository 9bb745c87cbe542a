#pragma once
// Private to core: the training step and PruningNet checkpoints (a LibTorch archive).

#include "batch.h"
#include "distributed_p.h"
#include "pruningnet_module.h"

#include "metaprune/training.h"

#include <functional>

namespace mp::detail {

/// Builds the architecture a config and data shape describe.
ArchSpec architectureFor(const TrainConfig& cfg, int channels, int height, int width, int classes);

/// Writes the checkpoint to `path` + ".tmp" and renames it into place, so a failed write
/// never destroys the previous good file. Throws CheckpointError naming the file.
void saveCheckpoint(const std::string& path, const CheckpointInfo& info, PruningNetModule& net,
                    torch::optim::Optimizer* optimizer);

/// Loads the network. Throws CheckpointError naming the file when it is missing, corrupt, or
/// was not written by MetaPrune.
PruningNetModule loadCheckpoint(const std::string& path, CheckpointInfo& info);

/// Loads a checkpoint into an existing network and optimizer (to resume training). `accept` sees
/// the checkpoint's metadata first and throws to refuse it. Throws CheckpointError.
void loadCheckpointInto(const std::string& path, CheckpointInfo& info, PruningNetModule& net,
                        torch::optim::Optimizer& optimizer, const std::function<void(const CheckpointInfo&)>& accept);

/// Loss and correct predictions of one training step.
struct StepResult {
    double loss = 0;
    int64_t correct = 0;
};

/// One PruningNet training step on batch `x` [N, C, H, W] / labels `y` [N] with encoding
/// `enc`: generate weights, forward, label-smoothed cross-entropy, backward, SGD momentum on
/// the dense parameters and on the generator slices (cfg.update decides sparse or dense).
/// With `group` (a data-parallel run; the net's batch norm synchronised with setRankSum), x/y
/// are this rank's equal shard of the global batch: before any update, the gradients of the
/// generated conv weights and of the dense parameters are averaged over the ranks. That is the
/// whole exchange: every rank has the same generator inputs h, so dL/dW2 = g h^T and the first
/// layers' gradients follow from the averaged g. The result's loss and hits are the global
/// batch's; `stop` (this rank's cancel request) becomes whether any rank asked to stop.
StepResult trainStep(PruningNetModule& net, torch::optim::SGD& sgd, const torch::Tensor& x, const torch::Tensor& y,
                     const Encoding& enc, const TrainConfig& cfg, double lr, ProcessGroupImpl* group = nullptr,
                     bool* stop = nullptr);

/// The structures a sandwich step trains, in order: the full width, the narrowest (every gene
/// at scale index 0) and cfg.sandwichRandom random encodings drawn from `rng`.
std::vector<Encoding> sandwichEncodings(const ArchSpec& arch, const TrainConfig& cfg, std::mt19937_64& rng);

/// In-place distillation loss of `student` logits [N, K] against `teacher` logits [N, K]
/// (detached): T^2 * KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch.
torch::Tensor inplaceDistillationLoss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature);

/// One sandwich step (TrainConfig::sampling): each of `encs` (the first the full width) forward
/// and backward on the same batch, the loss of each 1/encs.size() of the mean: label-smoothed
/// cross-entropy, or with cfg.inplaceDistill for all but the first the in-place distillation
/// loss against the first's logits. Gradients accumulate (the generators' output layers in
/// their momentum buffers, dense semantics: the full width uses every row) and one SGD update
/// follows. One process only. The result: mean cross-entropy and hits over the structures.
StepResult sandwichStep(PruningNetModule& net, torch::optim::SGD& sgd, const torch::Tensor& x, const torch::Tensor& y,
                        const std::vector<Encoding>& encs, const TrainConfig& cfg, double lr);

inline Normalization normalizationOf(const CheckpointInfo& info) { return {info.mean, info.stddev}; }

} // namespace mp::detail
