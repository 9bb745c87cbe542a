#pragma once
// Private to core: the loops over a generator's used slice. A PruningNet's generators hold most
// of its parameters (242 M for the paper MobileNetV2), so a training step is bound by how often
// it streams the used rows through memory: these loops read each row once for the forward pass
// and once more for backward + momentum update, where composing LibTorch ops takes 8-9 passes.

#include <torch/torch.h>

#include "metaprune/architecture.h"

#include <cstdint>
#include <vector>

namespace mp::detail {

/// The used slice of one generator: W2 is [maxOut, cols, hidden] row-major (cols =
/// maxInPerGroup * kh * kw) and b2 is [maxOut, cols], of which output channels `rows` and
/// columns `colRanges` are used. A plain network uses one leading range of each; a value joined
/// by a Concat contributes one range per part. The used weight is [sum rows, sum columns].
struct SliceShape {
    std::vector<ChannelRange> rows;
    std::vector<ChannelRange> colRanges;
    int64_t cols = 0;
    int64_t hidden = 0;
    int64_t outCount() const;
    int64_t usedCount() const;
};

/// weight[o', u'] = b2[o, u] + W2[o, u, :] . h over the used rows o and columns u, written
/// compactly: weight [outCount, usedCount] contiguous.
void generateSlice(const SliceShape& s, const float* W2, const float* b2, const float* h, float* weight);

/// Backward and momentum SGD of the used rows in one pass, given g = dL/dweight [outCount,
/// usedCount]: dh += sum g[o',u'] W2[o,u,:] (with W2 before the update); then for every used
/// row, mom = beta * mom + g h^T (+ wd * W2) and, if lr != 0, W2 -= lr * mom; same for b2/bmom
/// with g. beta = momentum for the row-sparse update; the dense update decays all rows first and
/// passes beta = 1, lr = 0 here.
void backwardUpdateSlice(const SliceShape& s, float* W2, float* mom, float* b2, float* bmom, const float* h,
                         const float* g, float beta, float wd, float lr, float* dh);

/// The same on tensors (W2 [maxOut * cols, hidden], b2 [maxOut * cols], h [hidden]): the loops
/// above for CPU tensors, plain ATen ops (index_select, matmul, index_put_) for any other device
/// or when portableKernels() is on. generateSlice returns the weight [outCount * usedCount];
/// backwardUpdateSlice updates W2/mom/b2/bmom in place and returns dh [hidden].
torch::Tensor generateSlice(const SliceShape& s, const torch::Tensor& W2, const torch::Tensor& b2,
                            const torch::Tensor& h);
torch::Tensor backwardUpdateSlice(const SliceShape& s, torch::Tensor& W2, torch::Tensor& mom, torch::Tensor& b2,
                                  torch::Tensor& bmom, const torch::Tensor& h, const torch::Tensor& g, float beta,
                                  float wd, float lr);

/// Uses the ATen fallbacks of the custom kernels (generator slices, batch norm) for CPU tensors
/// too: how the tests check the path other devices take against the fast loops.
void setPortableKernels(bool on);
/// Whether `t` takes the ATen fallback: not a CPU tensor, or setPortableKernels(true).
bool portableKernels(const torch::Tensor& t);

} // namespace mp::detail
