#pragma once
// Private to core: the collectives of a data-parallel run on tensors. The c10d objects stay in
// distributed.cpp (ProcessGroupGloo.hpp needs USE_C10D_GLOO and the Gloo headers).

#include <torch/torch.h>

#include "metaprune/distributed.h"

#include <memory>
#include <string>
#include <vector>

namespace mp::detail {

class ProcessGroupImpl {
public:
    struct State;
    ProcessGroupImpl(const DistEnv& env, std::unique_ptr<State> state);
    ~ProcessGroupImpl();

    int rank() const { return env_.rank; }
    int worldSize() const { return env_.worldSize; }
    const DistEnv& env() const { return env_; }

    /// Sums every tensor over the ranks, in place (contiguous CPU float, double or int64; any
    /// sizes, the same on every rank). The transfers of all tensors overlap. Throws
    /// DistributedError naming this rank and `what` when a rank is lost or times out.
    void allreduceSum(std::vector<torch::Tensor>& tensors, const std::string& what);
    /// Sends `t` from rank 0 to every rank (in place; same shape and type everywhere).
    void broadcast(torch::Tensor& t, const std::string& what);
    /// Bytes from rank 0 to every rank (their count is sent first).
    std::string broadcastBytes(const std::string& bytes, const std::string& what);

private:
    DistEnv env_;
    std::unique_ptr<State> s_;
};

/// Sums double vectors over the ranks (synchronised batch norm), or nothing in a single process.
struct RankSum {
    ProcessGroupImpl* group = nullptr;
    int ranks() const { return group ? group->worldSize() : 1; }
    void operator()(std::vector<double>& v) const;
};

/// Buckets of at most this many floats: a few large transfers per step instead of one per
/// tensor, without doubling the memory of a paper-size gradient at once.
constexpr int64_t kBucketFloats = int64_t(16) << 20;

/// Averages `tensors` over the ranks (each divided by the rank count after the sum), through
/// flat float buckets; `extra` (this rank's loss sum, hit count, cancel flag) is summed, not
/// averaged, in the same transfer. Undefined tensors are skipped.
void averageOverRanks(ProcessGroupImpl& group, const std::vector<torch::Tensor>& tensors, std::vector<double>& extra,
                      const std::string& what);

} // namespace mp::detail
