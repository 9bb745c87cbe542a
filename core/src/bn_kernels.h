#pragma once
// Private to core: batch norm without affine parameters, fused with the following activation,
// on channels_last tensors seen as [M = N*H*W, C] rows. LibTorch 1.13's CPU batch norm is slow
// on channels_last input with few channels and does not gain from a second thread (a
// 16x44x112x112 forward + backward: 78 ms with 2 threads); these loops stream the tensor the
// minimum number of times and split rows across threads.

#include <torch/torch.h>

#include "metaprune/architecture.h"

namespace mp::detail {

/// Per-channel mean and biased variance of x [N, C, H, W] (channels_last), accumulated in
/// double. Returns {mean [C], var [C]}.
std::pair<torch::Tensor, torch::Tensor> channelMeanVar(const torch::Tensor& x);

/// y = act((x - mean) * invstd), no autograd; x channels_last, result channels_last.
torch::Tensor normalizeAct(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& invstd,
                           Activation act);

/// Training-mode batch norm + activation with autograd: normalises with the batch statistics
/// `mean`/`invstd` (from channelMeanVar, treated as functions of x in the backward pass, as
/// batch norm's gradient requires).
torch::Tensor batchNormActTrain(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& invstd,
                                Activation act);

} // namespace mp::detail
