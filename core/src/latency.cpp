#include <torch/torch.h>

#include "metaprune/latency.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>

namespace mp {

namespace {

using Clock = std::chrono::steady_clock;

/// The genes that set an op's cost, in table-axis order (input first).
std::vector<int> axesOf(const Op& op) {
    std::vector<int> axes;
    switch (op.kind) {
    case OpKind::Conv:
        if (op.in.gene >= 0)
            axes.push_back(op.in.gene);
        if (!op.depthwise && op.out.gene >= 0)
            axes.push_back(op.out.gene);
        break;
    case OpKind::Add:
    case OpKind::MaxPool:
    case OpKind::GlobalAvgPool:
    case OpKind::Linear:
        if (op.in.gene >= 0)
            axes.push_back(op.in.gene);
        break;
    }
    return axes;
}

/// Spatial size of every op's input.
std::vector<std::pair<int, int>> inputSizes(const ArchSpec& arch) {
    std::vector<std::pair<int, int>> value(arch.ops.size() + 1), in(arch.ops.size());
    value[0] = {arch.inHeight, arch.inWidth};
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        const auto [h, w] = value[size_t(op.inputs[0])];
        in[i] = {h, w};
        switch (op.kind) {
        case OpKind::Conv:
        case OpKind::MaxPool: {
            auto out = [&op](int s) { return (s + 2 * (op.kernel / 2) - op.kernel) / op.stride + 1; };
            value[i + 1] = {out(h), out(w)};
            break;
        }
        case OpKind::GlobalAvgPool:
        case OpKind::Linear:
            value[i + 1] = {1, 1};
            break;
        case OpKind::Add:
            value[i + 1] = {h, w};
            break;
        }
    }
    return in;
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

/// Times one op at the given channel counts: `cin` in, `cout` out.
double timeOp(const Op& op, int batch, int h, int w, int cin, int cout, int repeats) {
    torch::NoGradGuard noGrad;
    const auto cl = at::MemoryFormat::ChannelsLast;
    std::function<void()> run;
    torch::Tensor x = torch::randn({batch, cin, h, w}).contiguous(cl);
    torch::Tensor x2, weight, bias;
    switch (op.kind) {
    case OpKind::Conv: {
        const int groups = op.depthwise ? cin : 1;
        const int out = op.depthwise ? cin : cout;
        weight = (torch::randn({out, cin / groups, op.kernel, op.kernel}) * 0.1).contiguous(cl);
        bias = torch::randn({out});
        run = [&, groups] {
            torch::Tensor y = at::conv2d(x, weight, bias, op.stride, op.kernel / 2, 1, groups);
            if (op.act == Activation::ReLU)
                y.relu_();
            else if (op.act == Activation::ReLU6)
                torch::hardtanh_(y, 0, 6);
        };
        break;
    }
    case OpKind::Add:
        x2 = torch::randn_like(x);
        run = [&] {
            torch::Tensor y = x + x2;
            if (op.act == Activation::ReLU)
                y.relu_();
        };
        break;
    case OpKind::MaxPool:
        run = [&] { at::max_pool2d(x, {op.kernel, op.kernel}, {op.stride, op.stride}, {op.kernel / 2, op.kernel / 2}); };
        break;
    case OpKind::GlobalAvgPool:
        run = [&] { x.mean({2, 3}); };
        break;
    case OpKind::Linear:
        x = torch::randn({batch, cin});
        weight = torch::randn({cout, cin});
        bias = torch::randn({cout});
        run = [&] { at::linear(x, weight, bias); };
        break;
    }
    return medianMs(run, repeats);
}

int position(const std::vector<int>& grid, int index, double* frac) {
    // Segment [grid[k], grid[k+1]] holding `index`, and where in it.
    size_t k = 0;
    while (k + 2 < grid.size() && index > grid[k + 1])
        ++k;
    if (grid.size() == 1) {
        *frac = 0;
        return 0;
    }
    *frac = double(index - grid[k]) / double(grid[k + 1] - grid[k]);
    return int(k);
}

} // namespace

std::string latencyArchKey(const ArchSpec& arch) {
    return arch.family + "/" + arch.preset + "/" + std::to_string(arch.inChannels) + "x" +
           std::to_string(arch.inHeight) + "x" + std::to_string(arch.inWidth) + "/" + std::to_string(arch.classes);
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
    LatencyTable t;
    t.arch = latencyArchKey(arch);
    t.machine = currentMachine(batch);
    t.grid = latencyGrid(gridStep);
    const std::vector<std::pair<int, int>> sizes = inputSizes(arch);
    const size_t n = t.grid.size();
    int64_t total = 0, done = 0;
    for (const Op& op : arch.ops)
        total += int64_t(std::pow(double(n), double(axesOf(op).size())));
    Encoding full = uniformEncoding(arch, grid::kSize - 1);
    t.ms.resize(arch.ops.size());
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        const std::vector<int> axes = axesOf(op);
        const auto [h, w] = sizes[i];
        // Channels along each axis; a fixed width stays at its value.
        auto channelsAt = [&](const Width& width, const std::vector<int>& idx) {
            if (width.gene < 0)
                return width.fixed;
            for (size_t a = 0; a < axes.size(); ++a)
                if (axes[a] == width.gene)
                    return grid::channels(arch.genes[size_t(width.gene)].maxChannels, idx[a]);
            return grid::channels(arch.genes[size_t(width.gene)].maxChannels, full[size_t(width.gene)]);
        };
        const size_t cells = size_t(std::pow(double(n), double(axes.size())));
        std::vector<double>& row = t.ms[i];
        row.resize(cells);
        for (size_t c = 0; c < cells; ++c) {
            if (cancel && cancel->load())
                throw Cancelled();
            std::vector<int> idx(axes.size());
            size_t rest = c;
            for (size_t a = axes.size(); a-- > 0;) {
                idx[a] = t.grid[rest % n];
                rest /= n;
            }
            const int cin = channelsAt(op.in, idx);
            const int cout = op.kind == OpKind::Conv && op.depthwise ? cin : channelsAt(op.out, idx);
            row[c] = timeOp(op, batch, h, w, cin, cout, repeats);
            if (progress)
                progress(++done, total);
        }
        // A wider layer never costs less: timer noise made monotone along each axis.
        if (axes.size() == 1) {
            for (size_t k = 1; k < n; ++k)
                row[k] = std::max(row[k], row[k - 1]);
        } else if (axes.size() == 2) {
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
    const size_t n = grid.size();
    double total = overheadMs;
    for (size_t i = 0; i < a.ops.size(); ++i) {
        const std::vector<int> axes = axesOf(a.ops[i]);
        const std::vector<double>& row = ms[i];
        if (axes.empty()) {
            total += row.at(0);
        } else if (axes.size() == 1) {
            double f = 0;
            const int k = position(grid, enc[size_t(axes[0])], &f);
            total += n == 1 ? row[0] : row[size_t(k)] * (1 - f) + row[size_t(k) + 1] * f;
        } else {
            double fa = 0, fb = 0;
            const int ka = position(grid, enc[size_t(axes[0])], &fa);
            const int kb = position(grid, enc[size_t(axes[1])], &fb);
            auto at = [&](int x, int y) { return row[size_t(x) * n + size_t(y)]; };
            total += at(ka, kb) * (1 - fa) * (1 - fb) + at(ka + 1, kb) * fa * (1 - fb) + at(ka, kb + 1) * (1 - fa) * fb +
                     at(ka + 1, kb + 1) * fa * fb;
        }
    }
    return total;
}

double measureNetworkLatency(const ArchSpec& arch, const Encoding& enc, int batch, int repeats) {
    torch::NoGradGuard noGrad;
    const auto cl = at::MemoryFormat::ChannelsLast;
    const std::vector<LayerShape> shapes = layerShapes(arch, enc);
    std::vector<torch::Tensor> weights(arch.ops.size()), biases(arch.ops.size());
    for (const LayerShape& s : shapes) {
        const Op& op = arch.ops[size_t(s.op)];
        if (op.kind == OpKind::Conv)
            weights[size_t(s.op)] =
                (torch::randn({s.outChannels, s.inChannels / s.groups, s.kernel, s.kernel}) * 0.1).contiguous(cl);
        else
            weights[size_t(s.op)] = torch::randn({s.outChannels, s.inChannels});
        biases[size_t(s.op)] = torch::randn({s.outChannels});
    }
    const torch::Tensor x = torch::randn({batch, arch.inChannels, arch.inHeight, arch.inWidth}).contiguous(cl);
    auto run = [&] {
        std::vector<torch::Tensor> v(arch.ops.size() + 1);
        v[0] = x;
        for (size_t i = 0; i < arch.ops.size(); ++i) {
            const Op& op = arch.ops[i];
            const torch::Tensor& in = v[size_t(op.inputs[0])];
            torch::Tensor y;
            switch (op.kind) {
            case OpKind::Conv:
                y = at::conv2d(in, weights[i], biases[i], op.stride, op.kernel / 2, 1, op.depthwise ? in.size(1) : 1);
                break;
            case OpKind::Add:
                y = in + v[size_t(op.inputs[1])];
                break;
            case OpKind::MaxPool:
                y = at::max_pool2d(in, {op.kernel, op.kernel}, {op.stride, op.stride}, {op.kernel / 2, op.kernel / 2});
                break;
            case OpKind::GlobalAvgPool:
                y = in.mean({2, 3});
                break;
            case OpKind::Linear:
                y = at::linear(in, weights[i], biases[i]);
                break;
            }
            if (op.act == Activation::ReLU)
                y.relu_();
            else if (op.act == Activation::ReLU6)
                torch::hardtanh_(y, 0, 6);
            v[i + 1] = y;
        }
    };
    return medianMs(run, repeats);
}

} // namespace mp
