#include "pruningnet_module.h" // LibTorch first: Qt defines `slots` (platform.md)

#include "metaprune/latency.h"

#include <QCryptographicHash>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>

namespace mp {

namespace {

using Clock = std::chrono::steady_clock;

/// The values whose channel count sets an op's cost, in table-axis order: its input, and for
/// a dense conv or linear layer with a pruned output, its output.
struct Axes {
    bool input = false, output = false;
    size_t count() const { return size_t(input) + size_t(output); }
};

bool pruned(const ValueShape& v) {
    for (const Width& w : v.segments)
        if (w.gene >= 0)
            return true;
    return false;
}

Axes axesOf(const Op& op, const ValueShape& in, const ValueShape& out) {
    Axes a;
    const bool weighted = (op.kind == OpKind::Conv && !op.followsInput()) || op.kind == OpKind::Linear;
    a.input = pruned(op.kind == OpKind::Concat ? out : in);
    a.output = weighted && op.out.gene >= 0;
    return a;
}

/// Channels of a value with every gene at grid index `level`.
int channelsAtLevel(const ArchSpec& arch, const ValueShape& v, int level) {
    return valueChannels(arch, v, uniformEncoding(arch, level));
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

/// Median wall time (ms) of `repeats` calls of `run`, after two untimed calls: oneDNN builds its
/// kernels for a new shape on the first.
double medianMs(const std::function<void()>& run, int repeats) {
    for (int i = 0; i < 2; ++i)
        run();
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        const auto t = Clock::now();
        run();
        times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    }
    return median(times);
}

/// Random weights of every Conv/Linear layer and BatchNorm op of the pruned network `enc`, as an
/// export holds them (BN folded into a bias, or a per-channel scale and shift).
detail::PrunedWeights randomWeights(const ArchSpec& arch, const std::vector<ValueShape>& values, const Encoding& enc) {
    const std::vector<LayerShape> shapes = layerShapes(arch, values, enc);
    detail::PrunedWeights w;
    w.conv.resize(arch.ops.size());
    w.convBias.resize(arch.ops.size());
    w.linWeight.resize(arch.ops.size());
    w.linBias.resize(arch.ops.size());
    w.normScale.resize(arch.ops.size());
    w.normShift.resize(arch.ops.size());
    for (size_t i = 0; i < arch.ops.size(); ++i)
        if (arch.ops[i].kind == OpKind::BatchNorm) {
            const int c = valueChannels(arch, values[size_t(arch.ops[i].inputs[0])], enc);
            w.normScale[i] = torch::rand({c}) + 0.5;
            w.normShift[i] = torch::randn({c});
        }
    for (const LayerShape& s : shapes) {
        const size_t i = size_t(s.op);
        if (arch.ops[i].kind == OpKind::Conv) {
            w.conv[i] = (torch::randn({s.outChannels, s.inChannels / s.groups, s.kernelH, s.kernelW}) * 0.1)
                            .contiguous(at::MemoryFormat::ChannelsLast);
            w.convBias[i] = torch::randn({s.outChannels});
        } else {
            w.linWeight[i] = torch::randn({s.outChannels, s.inChannels}) * 0.1;
            w.linBias[i] = torch::randn({s.outChannels});
        }
    }
    return w;
}

/// A random input batch for a value of the pruned network.
torch::Tensor randomValue(const ArchSpec& arch, const ValueShape& v, const Encoding& enc, int batch) {
    return torch::randn({batch, valueChannels(arch, v, enc), v.height, v.width}).contiguous(at::MemoryFormat::ChannelsLast);
}

/// Median time of op `i` alone with its input values at grid level `inLevel` and its pruned
/// output (if any) at `outLevel`.
double timeOp(const ArchSpec& arch, const std::vector<ValueShape>& values, size_t i, int inLevel, int outLevel,
              int batch, int repeats) {
    torch::NoGradGuard noGrad;
    const Op& op = arch.ops[i];
    // Genes of the input at inLevel, the output gene at outLevel; the rest at full width.
    Encoding enc = uniformEncoding(arch, grid::kSize - 1);
    for (int id : op.inputs)
        for (const Width& s : values[size_t(id)].segments)
            if (s.gene >= 0)
                enc[size_t(s.gene)] = inLevel;
    if (op.out.gene >= 0 && (op.kind == OpKind::Linear || (op.kind == OpKind::Conv && !op.followsInput())))
        enc[size_t(op.out.gene)] = outLevel;
    std::vector<torch::Tensor> inputs;
    for (int id : op.inputs)
        inputs.push_back(randomValue(arch, values[size_t(id)], enc, batch));
    std::vector<const torch::Tensor*> in;
    for (const torch::Tensor& t : inputs)
        in.push_back(&t);
    const detail::PrunedWeights w = randomWeights(arch, values, enc);
    return medianMs([&] { detail::runFoldedOp(op, i, in, w); }, repeats);
}

/// Where `c` lies on the non-decreasing axis `values`: the segment k and the fraction in it.
int position(const std::vector<int>& values, int c, double* frac) {
    size_t k = 0;
    while (k + 2 < values.size() && c > values[k + 1])
        ++k;
    const int span = values[k + 1] - values[k];
    *frac = span > 0 ? std::clamp(double(c - values[k]) / double(span), 0.0, 1.0) : 0.0;
    return int(k);
}

} // namespace

std::string latencyArchKey(const ArchSpec& arch) {
    std::string name = arch.family + "/" + arch.preset;
    if (arch.preset == "file") // descriptions from files are told apart by their content
        name += "-" + QCryptographicHash::hash(QByteArray::fromStdString(toArchitectureJson(arch)),
                                               QCryptographicHash::Sha256)
                          .toHex()
                          .left(12)
                          .toStdString();
    return name + "/" + std::to_string(arch.inChannels) + "x" + std::to_string(arch.inHeight) + "x" +
           std::to_string(arch.inWidth) + "/" + std::to_string(arch.classes);
}

std::vector<int> latencyGrid(int step) {
    if (step < 1)
        throw ConfigError("latency grid step must be at least 1");
    std::vector<int> g;
    for (int i = 0; i < grid::kSize - 1; i += step)
        g.push_back(i);
    g.push_back(grid::kSize - 1);
    return g;
}

MachineInfo currentMachine(int batch) {
    MachineInfo m;
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line))
        if (line.rfind("model name", 0) == 0) {
            m.cpu = line.substr(line.find(':') + 2);
            break;
        }
    m.threads = at::get_num_threads();
    m.libtorch = TORCH_VERSION;
    m.batch = batch;
    return m;
}

LatencyTable measureLatencyTable(const ArchSpec& arch, int batch, int gridStep, int repeats,
                                 const std::function<void(int64_t, int64_t)>& progress,
                                 const std::atomic<bool>* cancel) {
    if (batch < 1 || repeats < 1)
        throw ConfigError("latency measurement needs a batch and repeats of at least 1");
    const std::vector<ValueShape> values = analyzeArchitecture(arch);
    LatencyTable t;
    t.arch = latencyArchKey(arch);
    t.machine = currentMachine(batch);
    t.grid = latencyGrid(gridStep);
    const size_t n = t.grid.size();
    int64_t total = 0, done = 0;
    for (size_t i = 0; i < arch.ops.size(); ++i)
        total += int64_t(std::pow(double(n), double(axesOf(arch.ops[i], values[size_t(arch.ops[i].inputs[0])],
                                                           values[i + 1])
                                                       .count())));
    t.ms.resize(arch.ops.size());
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        const Axes axes = axesOf(op, values[size_t(op.inputs[0])], values[i + 1]);
        const size_t cells = size_t(std::pow(double(n), double(axes.count())));
        std::vector<double>& row = t.ms[i];
        row.resize(cells);
        for (size_t c = 0; c < cells; ++c) {
            if (cancel && cancel->load())
                throw Cancelled();
            // Row-major over (input level, output level) for two axes.
            int inLevel = grid::kSize - 1, outLevel = grid::kSize - 1;
            if (axes.count() == 2) {
                inLevel = t.grid[c / n];
                outLevel = t.grid[c % n];
            } else if (axes.input) {
                inLevel = t.grid[c];
            } else if (axes.output) {
                outLevel = t.grid[c];
            }
            row[c] = timeOp(arch, values, i, inLevel, outLevel, batch, repeats);
            if (progress)
                progress(++done, total);
        }
        // A wider layer never costs less: timer noise made monotone along each axis.
        if (axes.count() == 1) {
            for (size_t k = 1; k < n; ++k)
                row[k] = std::max(row[k], row[k - 1]);
        } else if (axes.count() == 2) {
            for (size_t a = 0; a < n; ++a)
                for (size_t b = 0; b < n; ++b) {
                    double& v = row[a * n + b];
                    if (a > 0)
                        v = std::max(v, row[(a - 1) * n + b]);
                    if (b > 0)
                        v = std::max(v, row[a * n + b - 1]);
                }
        }
    }
    // Calibrate the per-network overhead on uniform networks; random networks stay unseen for
    // the error the benchmark reports.
    double gap = 0;
    const int calibration[] = {0, 15, grid::kSize - 1};
    for (int idx : calibration) {
        if (cancel && cancel->load())
            throw Cancelled();
        const Encoding e = uniformEncoding(arch, idx);
        gap += measureNetworkLatency(arch, e, batch, std::max(3, repeats)) - t.predict(arch, e);
    }
    t.overheadMs = std::max(0.0, gap / 3);
    return t;
}

double LatencyTable::predict(const ArchSpec& a, const Encoding& enc) const {
    if (latencyArchKey(a) != arch || ms.size() != a.ops.size())
        throw std::invalid_argument("latency table for " + arch + " used with " + latencyArchKey(a));
    validateEncoding(a, enc);
    const std::vector<ValueShape> values = analyzeArchitecture(a);
    const size_t n = grid.size();
    double total = overheadMs;
    // Interpolation happens on channel counts, which also serves values joined by a Concat
    // (several genes): each axis holds the channels of its value at the measured grid levels.
    auto axis = [&](const ValueShape& v, std::vector<int>& points) {
        points.clear();
        for (int level : grid)
            points.push_back(channelsAtLevel(a, v, level));
        return valueChannels(a, v, enc);
    };
    std::vector<int> pa, pb;
    for (size_t i = 0; i < a.ops.size(); ++i) {
        const Op& op = a.ops[i];
        const ValueShape& in = values[size_t(op.inputs[0])];
        const ValueShape& out = values[i + 1];
        const Axes axes = axesOf(op, in, out);
        const std::vector<double>& row = ms[i];
        if (axes.count() == 0) {
            total += row.at(0);
        } else if (axes.count() == 1) {
            const int c = axes.input ? axis(op.kind == OpKind::Concat ? out : in, pa) : axis(out, pa);
            double f = 0;
            const int k = position(pa, c, &f);
            total += n == 1 ? row[0] : row[size_t(k)] * (1 - f) + row[size_t(k) + 1] * f;
        } else {
            const int ca = axis(in, pa), cb = axis(out, pb);
            double fa = 0, fb = 0;
            const int ka = position(pa, ca, &fa), kb = position(pb, cb, &fb);
            auto at = [&](int x, int y) { return row[size_t(x) * n + size_t(y)]; };
            total += at(ka, kb) * (1 - fa) * (1 - fb) + at(ka + 1, kb) * fa * (1 - fb) + at(ka, kb + 1) * (1 - fa) * fb +
                     at(ka + 1, kb + 1) * fa * fb;
        }
    }
    return total;
}

double measureNetworkLatency(const ArchSpec& arch, const Encoding& enc, int batch, int repeats) {
    torch::NoGradGuard noGrad;
    const std::vector<ValueShape> values = analyzeArchitecture(arch);
    const detail::PrunedWeights w = randomWeights(arch, values, enc);
    const torch::Tensor x = randomValue(arch, values[0], enc, batch);
    const auto run = [&] { detail::forwardFolded(arch, w, x); };
    return medianMs(run, repeats);
}

} // namespace mp
