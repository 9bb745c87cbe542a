#pragma once
// Latency lookup tables measured on the machine the tool runs on (the paper's latency
// constraint, whose table code was never released): for each layer position, the median time
// of that layer's forward pass (conv with folded BN bias + activation, as an exported network
// runs it) on a grid of channel counts, interpolated between grid points. The predicted
// latency of an encoding is the sum over its layers. Torch-free API.

#include "metaprune/architecture.h"
#include "metaprune/errors.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace mp {

/// What a latency table was measured on: it is only valid there.
struct MachineInfo {
    std::string cpu;      ///< model name from /proc/cpuinfo
    int threads = 1;      ///< LibTorch intra-op threads during the measurement
    std::string libtorch; ///< LibTorch version
    int batch = 1;        ///< images per forward pass
    /// One-line JSON, the key a stored table is reused by.
    std::string json() const;
};

/// The machine as it is now, for measurements at `batch` images.
MachineInfo currentMachine(int batch);

/// Per-layer latencies (ms) on a subsampled grid of scale indices.
struct LatencyTable {
    std::string arch; ///< latencyArchKey() of the architecture it was measured for
    MachineInfo machine;
    std::vector<int> grid; ///< measured scale indices, ascending, ending at 30
    /// Per op: measurements with its input value's genes at each grid level and, for a dense
    /// conv or linear layer with a pruned output, its output gene at each grid level: row-major
    /// [grid x grid]; ops whose cost follows one value (depthwise, pooling, adds, a fixed input
    /// or output) have [grid] entries; ops without gene-dependent width have one entry.
    std::vector<std::vector<double>> ms;
    /// Per-network cost outside the layers (dispatch, buffers between layers), the mean gap
    /// between measured end-to-end latency and the layer sum on three uniform networks
    /// (scale indices 0, 15, 30) measured with the table.
    double overheadMs = 0;

    /// Predicted latency of `enc` (ms): the per-network overhead plus the sum of every layer's
    /// latency, bilinearly interpolated between grid points on the channel counts of its input
    /// and output (so that values a Concat joins from several genes interpolate too). Throws
    /// std::invalid_argument for an encoding of another architecture.
    double predict(const ArchSpec& arch, const Encoding& enc) const;
    std::string toJson() const;
    /// Throws std::invalid_argument on malformed JSON or a table of an older format.
    static LatencyTable fromJson(const std::string& json);
};

/// The key of an architecture in latency tables: "family/preset/CxHxW/classes"; descriptions
/// from files add the first 12 hex digits of their JSON's SHA-256 to the preset.
std::string latencyArchKey(const ArchSpec& arch);

/// The grid of scale indices measured with a step: 0, step, 2 step, ..., always ending at 30.
std::vector<int> latencyGrid(int step);

/// Measures a table for `arch` at `batch` images with `repeats` timed runs per entry (after
/// warm-up; the median is kept), using the calling thread's LibTorch thread count. `progress`
/// gets (done, total) entries; throws Cancelled when `cancel` becomes true.
LatencyTable measureLatencyTable(const ArchSpec& arch, int batch, int gridStep, int repeats,
                                 const std::function<void(int64_t, int64_t)>& progress = {},
                                 const std::atomic<bool>* cancel = nullptr);

/// Median end-to-end latency (ms) of the real pruned network `enc` (random weights, BN folded,
/// the same ops an export runs) over `repeats` runs after warm-up.
double measureNetworkLatency(const ArchSpec& arch, const Encoding& enc, int batch, int repeats);

} // namespace mp
