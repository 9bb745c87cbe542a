#pragma once
// Private to core: batch norm without affine parameters, fused with the following activation,
// on channels_last tensors seen as [M = N*H*W, C] rows. LibTorch 1.13's CPU batch norm is slow
// on channels_last input with few channels and does not gain from a second thread (a
// 16x44x112x112 forward + backward: 78 ms with 2 threads); these loops stream the tensor the
// minimum number of times and split rows across threads. Tensors on other devices (and CPU
// tensors under setPortableKernels) take plain ATen ops computing the same functions.

#include <torch/torch.h>

#include "distributed_p.h"
#include "generator_kernels.h"
#include "metaprune/architecture.h"

namespace mp::detail {

/// Per-channel mean and biased variance of x [N, C, H, W] (channels_last), accumulated in
/// double. Returns {mean [C], var [C]}. With `sync` over several ranks, the statistics are
/// those of the union of every rank's x (synchronised batch norm, as torch's SyncBatchNorm):
/// equal to one process holding the whole batch.
std::pair<torch::Tensor, torch::Tensor> channelMeanVar(const torch::Tensor& x, const RankSum* sync = nullptr);

/// y = act((x - mean) * invstd), no autograd; x channels_last, result channels_last.
torch::Tensor normalizeAct(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& invstd,
                           Activation act);

/// Training-mode batch norm + activation with autograd: normalises with the batch statistics
/// `mean`/`invstd` (from channelMeanVar, treated as functions of x in the backward pass, as
/// batch norm's gradient requires). With `sync`, mean and invstd are the synchronised ones and
/// the backward pass sums its channel reductions over the ranks too.
torch::Tensor batchNormActTrain(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& invstd,
                                Activation act, const RankSum* sync = nullptr);

} // namespace mp::detail
