#pragma once
// Data-parallel runs over several processes and machines on PyTorch's c10d: a TCPStore for the
// rendezvous and a Gloo process group for the collectives (allreduce, broadcast), as
// torch.distributed does. Torch-free API; the c10d code stays in core/src/distributed.cpp.

#include "metaprune/errors.h"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace mp {

/// A rendezvous that failed (port in use, a rank that never arrived, ranks with other
/// settings) or a collective that lost a rank. The message names this rank and the cause.
class DistributedError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Where this process stands in a run of several processes: torchrun's environment variables.
struct DistEnv {
    int rank = 0;      ///< RANK: 0 .. worldSize-1; rank 0 owns the project and writes checkpoints
    int worldSize = 1; ///< WORLD_SIZE: processes in the run, over all machines
    int localRank = 0; ///< LOCAL_RANK: index on this machine
    std::string masterAddr = "127.0.0.1"; ///< MASTER_ADDR: the machine of the rendezvous store
    int masterPort = 29500;               ///< MASTER_PORT
    /// TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent already serves the store, so no rank
    /// hosts it (every rank connects as a client).
    bool agentStore = false;
    /// TORCHELASTIC_RUN_ID (torchrun's --rdzv-id; "none" when unset, as torchrun): the run this
    /// process belongs to. The store records its run's id; a process of another run that
    /// reaches it is turned away before it writes anything. `--nproc` and the app draw a fresh
    /// one per run (newRunId).
    std::string runId = "none";
};

/// A fresh random run id (16 hex digits) for a run started on this machine.
std::string newRunId();

/// The run this process belongs to according to the environment, or nullopt when RANK and
/// WORLD_SIZE are not set (a plain single-process run). Throws ConfigError naming the variable
/// when one is malformed or out of range, or when only some of them are set.
std::optional<DistEnv> distEnvFromEnvironment();

/// A TCP port on the loopback interface that is free now, for a local run's rendezvous store
/// (the kernel picks it). Throws std::runtime_error with the system's reason when none is.
int freeLocalPort();

namespace detail {
class ProcessGroupImpl;
}

/// One process's membership in a data-parallel run. Training (trainPruningNet) and search
/// (searchInProject, serveSearchShards) take it to split their work across the ranks.
class Distributed {
public:
    /// Joins the run: rank 0 hosts the TCPStore on MASTER_ADDR:MASTER_PORT (unless the agent
    /// serves it) and records the run id there; every other rank first reads that id and stops
    /// when it is another run's, touching nothing ("port P is held by another run"). Then every
    /// rank registers under `job` with the SHA-256 of `settings` (the run's
    /// settings as JSON), waits at most `timeoutSeconds` for all ranks, checks that every rank
    /// has the same settings, then connects the Gloo process group. Collectives wait at most
    /// `collectiveSeconds` for a slow rank; a rank that exits or is killed ends them at once.
    /// Throws DistributedError naming this rank and the cause: the port in use (by another run,
    /// with its id, or another program), the store not reachable, a rank that did not arrive
    /// in time (which), a rank with other settings (which).
    /// `abandon`, when given, is asked every 100 ms while ranks are missing; true ends the wait
    /// at once (a launcher that sees one of its ranks exit need not wait out the timeout).
    /// `cancel` (Ctrl-C) set while waiting ends it too, as interrupted.
    static std::unique_ptr<Distributed> join(const DistEnv& env, const std::string& job, const std::string& settings,
                                             double timeoutSeconds = 60, double collectiveSeconds = 1800,
                                             const std::function<bool()>& abandon = {},
                                             const std::atomic<bool>* cancel = nullptr);
    ~Distributed();
    Distributed(const Distributed&) = delete;
    Distributed& operator=(const Distributed&) = delete;

    int rank() const;
    int worldSize() const;
    const DistEnv& env() const;
    /// Private to core.
    detail::ProcessGroupImpl& impl() const { return *d; }

private:
    explicit Distributed(std::unique_ptr<detail::ProcessGroupImpl> impl);
    std::unique_ptr<detail::ProcessGroupImpl> d;
};

} // namespace mp
