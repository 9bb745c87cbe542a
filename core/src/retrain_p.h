#pragma once
// Private to core: the retraining loss, for tests of its arithmetic.

#include <torch/torch.h>

#include "metaprune/retrain.h"

namespace mp::detail {

/// The retraining loss of `student` logits [N, classes] for `labels` [N]: label-smoothed
/// cross-entropy, and with cfg.distill (1 - alpha) times that plus alpha * T^2 *
/// KL(softmax(teacher / T) || softmax(student / T)) averaged over the batch (Hinton et al.
/// 2015); `teacher` [N, classes] is read only with cfg.distill.
torch::Tensor distillationLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                               const RetrainConfig& cfg);

} // namespace mp::detail
