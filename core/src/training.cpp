#include "training_p.h"

#include "metaprune/onnx_import.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <malloc.h>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace mp {

namespace detail {

ArchSpec architectureFor(const TrainConfig& cfg, int channels, int height, int width, int classes) {
    if (cfg.architecture.empty())
        return makeArchitecture(cfg.family, cfg.preset, channels, height, width, classes);
    return resizeArchitecture(architectureFromJson(cfg.architecture), channels, height, width, classes);
}

namespace {
constexpr const char* kFormat = "metaprune-pruningnet-1";

std::string joinLines(const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? "\n" : "") + v[i];
    return s;
}

std::vector<std::string> splitLines(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string line;
    while (std::getline(ss, line))
        out.push_back(line);
    return out;
}

torch::Tensor floats(const std::vector<float>& v) { return torch::tensor(v); }

std::vector<float> toFloats(const torch::Tensor& t) {
    const torch::Tensor c = t.contiguous().to(torch::kFloat);
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Reads the metadata entries; the network itself is read by the caller.
void readInfo(torch::serialize::InputArchive& ar, CheckpointInfo& info) {
    c10::IValue v;
    if (!ar.try_read("format", v) || !v.isString() || v.toStringRef() != kFormat)
        throw CheckpointError(info.path + ": not a MetaPrune PruningNet checkpoint (no '" +
                              std::string(kFormat) + "' marker)");
    ar.read("config", v);
    info.config = trainConfigFromJson(v.toStringRef());
    ar.read("step", v);
    info.step = v.toInt();
    ar.read("total_steps", v);
    info.totalSteps = v.toInt();
    ar.read("input_shape", v);
    const auto shape = v.toIntVector();
    if (shape.size() != 4)
        throw CheckpointError(info.path + ": bad input_shape entry");
    info.inChannels = int(shape[0]);
    info.inHeight = int(shape[1]);
    info.inWidth = int(shape[2]);
    info.classes = int(shape[3]);
    ar.read("class_names", v);
    info.classNames = splitLines(v.toStringRef());
    torch::Tensor t;
    ar.read("mean", t);
    info.mean = toFloats(t);
    ar.read("std", t);
    info.stddev = toFloats(t);
    if (ar.try_read("data_summary", v) && v.isString()) // written since image folders are streamed
        info.dataSummary = v.toStringRef();
}
} // namespace

void saveCheckpoint(const std::string& path, const CheckpointInfo& info, PruningNetModule& net,
                    torch::optim::Optimizer* optimizer) {
    const std::string tmp = path + ".tmp";
    try {
        torch::serialize::OutputArchive ar;
        ar.write("format", c10::IValue(std::string(kFormat)));
        ar.write("config", c10::IValue(toJson(info.config)));
        ar.write("step", c10::IValue(info.step));
        ar.write("total_steps", c10::IValue(info.totalSteps));
        ar.write("input_shape", c10::IValue(std::vector<int64_t>{info.inChannels, info.inHeight, info.inWidth,
                                                                 info.classes}));
        ar.write("class_names", c10::IValue(joinLines(info.classNames)));
        ar.write("mean", floats(info.mean), true);
        ar.write("std", floats(info.stddev), true);
        ar.write("data_summary", c10::IValue(info.dataSummary));
        torch::serialize::OutputArchive netAr;
        net->save(netAr);
        ar.write("net", netAr);
        if (optimizer) {
            torch::serialize::OutputArchive optAr;
            optimizer->save(optAr);
            ar.write("optimizer", optAr);
        }
        if (!fs::path(path).parent_path().empty())
            fs::create_directories(fs::path(path).parent_path());
        ar.save_to(tmp);
        fs::rename(tmp, path);
    } catch (const std::exception& e) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw CheckpointError(path + ": cannot write checkpoint: " + e.what());
    }
}

namespace {
// Opens a checkpoint, reads its metadata, then lets `load` read the rest; every failure becomes
// a CheckpointError naming the file.
template <typename F>
void withCheckpoint(const std::string& path, CheckpointInfo& info, F&& load) {
    if (!fs::exists(path))
        throw CheckpointError(checkpointNotFoundMessage(path));
    info.path = path;
    try {
        torch::serialize::InputArchive ar;
        ar.load_from(path);
        readInfo(ar, info);
        load(ar);
        info.sha256 = fileSha256(path);
    } catch (const CheckpointError&) {
        throw;
    } catch (const std::exception& e) {
        std::string what = e.what();
        what = what.substr(0, what.find('\n'));
        throw CheckpointError(path + ": corrupt or incompatible checkpoint: " + what);
    }
}
} // namespace

PruningNetModule loadCheckpoint(const std::string& path, CheckpointInfo& info) {
    PruningNetModule net(nullptr);
    withCheckpoint(path, info, [&](torch::serialize::InputArchive& ar) {
        net = PruningNetModule(architectureFor(info.config, info.inChannels, info.inHeight, info.inWidth, info.classes),
                               info.config.initFromWeights);
        torch::serialize::InputArchive netAr;
        ar.read("net", netAr);
        net->load(netAr);
    });
    return net;
}

void loadCheckpointInto(const std::string& path, CheckpointInfo& info, PruningNetModule& net,
                        torch::optim::Optimizer& optimizer, const std::function<void(const CheckpointInfo&)>& accept) {
    withCheckpoint(path, info, [&](torch::serialize::InputArchive& ar) {
        accept(info);
        torch::serialize::InputArchive netAr, optAr;
        ar.read("net", netAr);
        net->load(netAr);
        if (ar.try_read("optimizer", optAr))
            optimizer.load(optAr);
    });
}

namespace {
/// Backward into the generators and their momentum SGD (reference semantics, dampening 0:
/// buf = m * buf + (grad + wd * p); p -= lr * buf). Sparse: only the used rows, in one fused
/// pass each. Dense: every row decays and moves, as the reference's torch SGD does.
void backwardAndUpdateGenerators(PruningNetModuleImpl& net, const std::vector<SliceLeaf>& leaves,
                                 const TrainConfig& cfg, double lr) {
    const bool dense = cfg.update == GeneratorUpdate::Dense;
    const float m = float(cfg.momentum), wd = float(cfg.weightDecay);
    std::vector<torch::Tensor> hs, dhs;
    {
        torch::NoGradGuard noGrad;
        for (const SliceLeaf& leaf : leaves) {
            Generator& g = net.generators()[size_t(leaf.gen)];
            if (dense) {
                g.W2mom.mul_(m);
                g.b2mom.mul_(m);
                if (wd != 0) {
                    g.W2mom.add_(g.W2, wd);
                    g.b2mom.add_(g.b2, wd);
                }
            }
            const torch::Tensor dh =
                backwardUpdateSlice(leaf.shape, g.W2, g.W2mom, g.b2, g.b2mom, leaf.h.detach(), leaf.weight.grad(),
                                    dense ? 1.0f : m, dense ? 0.0f : wd, dense ? 0.0f : float(lr));
            if (dense) {
                g.W2.add_(g.W2mom, -lr);
                g.b2.add_(g.b2mom, -lr);
            }
            hs.push_back(leaf.h);
            dhs.push_back(dh);
        }
    }
    torch::autograd::backward(hs, dhs);
}

} // namespace

StepResult trainStep(PruningNetModule& net, torch::optim::SGD& sgd, const torch::Tensor& x, const torch::Tensor& y,
                     const Encoding& enc, const TrainConfig& cfg, double lr, ProcessGroupImpl* group, bool* stop) {
    std::vector<SliceLeaf> leaves;
    const PrunedWeights w = net->generateForTraining(enc, leaves);
    const torch::Tensor logits = net->forward(x, enc, w, BnMode::Train);
    const torch::Tensor loss = torch::nn::functional::cross_entropy(
        logits, y, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(cfg.labelSmoothing));
    sgd.zero_grad();
    loss.backward();
    StepResult r;
    r.loss = loss.item<double>();
    r.correct = logits.argmax(1).eq(y).sum().item<int64_t>();
    if (group && group->worldSize() > 1) {
        std::vector<torch::Tensor> grads;
        for (const SliceLeaf& leaf : leaves)
            grads.push_back(leaf.weight.grad());
        for (const torch::Tensor& p : net->lossParameters())
            grads.push_back(p.grad());
        std::vector<double> extra{r.loss * double(y.size(0)), double(r.correct), stop && *stop ? 1.0 : 0.0};
        averageOverRanks(*group, grads, extra, "a training step's gradient exchange");
        r.loss = extra[0] / double(y.size(0) * group->worldSize());
        r.correct = int64_t(std::llround(extra[1]));
        if (stop)
            *stop = extra[2] > 0;
    }
    backwardAndUpdateGenerators(*net, leaves, cfg, lr);
    for (auto& g : sgd.param_groups())
        static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
    sgd.step();
    return r;
}

std::vector<Encoding> sandwichEncodings(const ArchSpec& arch, const TrainConfig& cfg, std::mt19937_64& rng) {
    std::vector<Encoding> encs{uniformEncoding(arch, grid::kSize - 1), uniformEncoding(arch, 0)};
    for (int i = 0; i < cfg.sandwichRandom; ++i)
        encs.push_back(randomEncoding(arch, rng));
    return encs;
}

torch::Tensor inplaceDistillationLoss(const torch::Tensor& student, const torch::Tensor& teacher, double temperature) {
    namespace F = torch::nn::functional;
    const double t = temperature;
    return t * t *
           F::kl_div(F::log_softmax(student / t, F::LogSoftmaxFuncOptions(1)),
                     F::log_softmax(teacher.detach() / t, F::LogSoftmaxFuncOptions(1)),
                     F::KLDivFuncOptions().reduction(torch::kBatchMean).log_target(true));
}

StepResult sandwichStep(PruningNetModule& net, torch::optim::SGD& sgd, const torch::Tensor& x, const torch::Tensor& y,
                        const std::vector<Encoding>& encs, const TrainConfig& cfg, double lr) {
    namespace F = torch::nn::functional;
    const float m = float(cfg.momentum), wd = float(cfg.weightDecay);
    sgd.zero_grad();
    {
        torch::NoGradGuard noGrad; // momentum decays once per step; each structure adds its gradient
        for (Generator& g : net->generators()) {
            g.W2mom.mul_(m);
            g.b2mom.mul_(m);
            if (wd != 0) {
                g.W2mom.add_(g.W2, wd);
                g.b2mom.add_(g.b2, wd);
            }
        }
    }
    StepResult r;
    torch::Tensor teacher;
    const double share = 1.0 / double(encs.size());
    for (size_t i = 0; i < encs.size(); ++i) {
        std::vector<SliceLeaf> leaves;
        const PrunedWeights w = net->generateForTraining(encs[i], leaves);
        const torch::Tensor logits = net->forward(x, encs[i], w, BnMode::Train);
        const torch::Tensor hard =
            F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().label_smoothing(cfg.labelSmoothing));
        const torch::Tensor loss =
            cfg.inplaceDistill && i > 0 ? inplaceDistillationLoss(logits, teacher, cfg.inplaceTemperature) : hard;
        (loss * share).backward();
        if (i == 0)
            teacher = logits.detach();
        r.loss += hard.item<double>() * share;
        r.correct += logits.argmax(1).eq(y).sum().item<int64_t>();
        std::vector<torch::Tensor> hs, dhs;
        {
            torch::NoGradGuard noGrad;
            for (const SliceLeaf& leaf : leaves) {
                Generator& g = net->generators()[size_t(leaf.gen)];
                dhs.push_back(backwardUpdateSlice(leaf.shape, g.W2, g.W2mom, g.b2, g.b2mom, leaf.h.detach(),
                                                  leaf.weight.grad(), 1.0f, 0.0f, 0.0f));
                hs.push_back(leaf.h);
            }
        }
        torch::autograd::backward(hs, dhs);
    }
    r.correct = int64_t(std::llround(double(r.correct) * share));
    {
        torch::NoGradGuard noGrad;
        for (Generator& g : net->generators()) {
            g.W2.add_(g.W2mom, -lr);
            g.b2.add_(g.b2mom, -lr);
        }
    }
    for (auto& g : sgd.param_groups())
        static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
    sgd.step();
    return r;
}

} // namespace detail

std::string checkpointNotFoundMessage(const std::string& path) {
    const fs::path file(path), folder = file.parent_path();
    std::error_code ec;
    const auto isCheckpointFolder = [](const std::string& name) {
        const std::string suffix = ".checkpoints";
        return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    const std::string name = folder.filename().string();
    if (fs::exists(folder, ec) || !isCheckpointFolder(name))
        return path + ": checkpoint not found";
    // The folder keeps the name of the project file the training ran in.
    std::string msg = path + ": checkpoint not found: its folder " + name + " is missing beside the project";
    for (const fs::directory_entry& e : fs::directory_iterator(folder.parent_path(), ec)) {
        const std::string other = e.path().filename().string();
        if (isCheckpointFolder(other) && fs::exists(e.path() / file.filename(), ec)) {
            msg += " (" + other + " beside it holds a file of that name: rename that folder to " + name + ")";
            break;
        }
    }
    return msg + "; a copied or renamed project needs its checkpoint folder beside it, under the name it was "
                 "trained with";
}

TrainedWeights readTrainedModel(const ArchSpec& arch) {
    if (arch.weightsFile.empty())
        throw ArchError("the architecture '" + arch.family + "' has no trained weights (import an ONNX model with "
                        "its weights: metaprune import model.onnx)");
    if (!fs::exists(arch.weightsFile))
        throw ArchError(arch.weightsFile + ": the trained model is missing (the architecture was imported from it; "
                                           "import it again from where it is now)");
    const auto changed = [&] {
        return ArchError(arch.weightsFile + ": the trained model or its external data changed since it was imported "
                         "(SHA-256 " + arch.weightsSha256.substr(0, 12) + " then); import it again");
    };
    TrainedWeights w;
    ArchSpec imported;
    try {
        imported = importOnnx(arch.weightsFile, nullptr, &w);
    } catch (const ArchError&) {
        if (fileSha256(arch.weightsFile) != arch.weightsSha256)
            throw changed();
        throw;
    }
    if (imported.weightsSha256 != arch.weightsSha256)
        throw changed();
    bool same = imported.ops.size() == arch.ops.size();
    for (size_t i = 0; same && i < arch.ops.size(); ++i)
        same = imported.ops[i].name == arch.ops[i].name && imported.ops[i].kind == arch.ops[i].kind;
    if (!same)
        throw ArchError(arch.weightsFile + ": its graph is not the architecture's ('" + arch.family + "')");
    return w;
}

TrainedWeights checkpointTrainedModel(const std::string& checkpoint) {
    CheckpointInfo info;
    const detail::PruningNetModule net = detail::loadCheckpoint(checkpoint, info);
    if (!net->fromTrained())
        throw CheckpointError(checkpoint + ": this PruningNet was trained from random weights, not started from a "
                                           "trained model (train --init weights on an imported model with weights)");
    return net->trained();
}

ArchSpec architectureOf(const TrainConfig& cfg, int channels, int height, int width, int classes) {
    return detail::architectureFor(cfg, channels, height, width, classes);
}

ArchSpec checkpointArchitecture(const CheckpointInfo& info) {
    return detail::architectureFor(info.config, info.inChannels, info.inHeight, info.inWidth, info.classes);
}

PruningNetSize pruningNetSize(const ArchSpec& arch, int batchSize) {
    const std::vector<ValueShape> values = analyzeArchitecture(arch);
    PruningNetSize s;
    int64_t dense = 0, firstLayers = 0, activations = 0; // dense: conv biases and linear layers
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        const ValueShape& in = values[size_t(op.inputs[0])];
        const ValueShape& out = values[i + 1];
        activations += int64_t(out.maxChannels) * out.height * out.width;
        if (op.kind == OpKind::Conv) {
            const int64_t inPerGroup = op.followsInput() ? op.groupWidth : in.maxChannels;
            const int64_t numel = int64_t(out.maxChannels) * inPerGroup * op.kernelH * op.kernelW;
            const int64_t first = (std::max<int64_t>(1, int64_t(op.condition.size())) + 1) * op.hidden;
            s.generatorParameters += numel * op.hidden + numel + first;
            firstLayers += first;
            dense += op.batchNorm ? 0 : out.maxChannels;
        } else if (op.kind == OpKind::Linear) {
            dense += int64_t(out.maxChannels) * in.maxChannels * in.height * in.width + out.maxChannels;
        }
    }
    s.batch = std::max(1, batchSize);
    s.parameters = s.generatorParameters + dense;
    s.weightBytes = 4 * s.parameters;
    s.momentumBytes = 4 * s.parameters; // W2mom/b2mom, and SGD's buffers of the dense parameters
    s.gradientBytes = 4 * (dense + firstLayers); // W2/b2 take their gradient slice by slice
    s.activationBytes = 4 * 3 * activations * s.batch;
    return s;
}

namespace {
std::string gib(int64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GiB", double(bytes) / double(int64_t(1) << 30));
    return buf;
}
} // namespace

std::string describePruningNetSize(const ArchSpec& arch, const PruningNetSize& s) {
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "the PruningNet of %s has %.1f M parameters (%.1f M in its weight generators); training it at "
                  "batch %d needs about %s (weights %s, momentum %s, gradients %s: the generators' last layers "
                  "take theirs one used slice at a time, activations %s)",
                  arch.family.c_str(), double(s.parameters) / 1e6, double(s.generatorParameters) / 1e6, s.batch,
                  gib(s.trainingBytes()).c_str(), gib(s.weightBytes).c_str(), gib(s.momentumBytes).c_str(),
                  gib(s.gradientBytes).c_str(), gib(s.activationBytes).c_str());
    return buf;
}

int64_t availableMemoryBytes() {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    int64_t kb = 0;
    std::string unit;
    while (meminfo >> key >> kb >> unit)
        if (key == "MemAvailable:")
            return kb * 1024;
    return 0;
}

CheckpointInfo readCheckpointInfo(const std::string& path) {
    CheckpointInfo info;
    detail::loadCheckpoint(path, info);
    return info;
}

namespace {
std::atomic<int> gThreads{1};
} // namespace

void configureRuntime(int n) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    if (n <= 0)
        n = int(std::max(1u, std::thread::hardware_concurrency()));
    gThreads = n;
    applyThreadCount();
}

void applyThreadCount() { at::set_num_threads(gThreads.load()); }

void checkDevice(const std::string& device) {
    if (device == "cpu")
        return;
    if (device.rfind("cuda", 0) != 0)
        throw ConfigError("--device " + device + ": unknown device (cpu or cuda)");
    if (!torch::cuda::is_available())
        throw ConfigError("--device " + device +
                          ": this LibTorch build has no CUDA support (Debian's libtorch-dev is CPU-only) or no CUDA "
                          "device is visible; build against a CUDA-enabled LibTorch (cmake -DCMAKE_PREFIX_PATH="
                          "/path/to/libtorch) on a machine with a GPU, or use --device cpu");
    throw ConfigError("--device " + device +
                      ": CUDA is available, but only the engine's kernels have device-generic paths so far; training "
                      "and search still place their data and PruningNet on the CPU: use --device cpu");
}

int threads() { return at::get_num_threads(); }

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double learningRate(const TrainConfig& cfg, int64_t step, int64_t total) {
    // Capped at a quarter of the run, as in retraining: a short run on a small data set (an
    // imported network tried on a few thousand images) would otherwise end before its
    // learning rate ever reached a useful value.
    const int64_t warmup = std::min<int64_t>(cfg.warmupSteps, std::max<int64_t>(1, total / 4));
    const double warm = warmup > 0 ? std::min(1.0, double(step + 1) / double(warmup)) : 1.0;
    return cfg.lr * warm * std::max(0.0, 1.0 - double(step) / double(total));
}

/// This rank's part [first, first + count) of every batch request, keeping each image's crop seed
/// (its position in the whole batch).
std::vector<detail::BatchRequest> shardOf(std::vector<detail::BatchRequest> requests, int64_t first, int64_t count) {
    for (detail::BatchRequest& r : requests) {
        if (first == 0 && count == int64_t(r.indices.size()))
            break;
        r.indices = std::vector<int64_t>(r.indices.begin() + first, r.indices.begin() + first + count);
        r.firstPosition = first;
    }
    return requests;
}

/// Makes every rank start from rank 0's state: the step, every parameter and buffer (generator
/// rows and their momentum, BN statistics) and SGD's momentum of the dense parameters. Missing
/// momentum buffers are created as zeros first: SGD's first update (buffer = gradient) equals
/// one from a zero buffer, so every rank holds the same list of tensors.
void shareInitialState(detail::ProcessGroupImpl& group, detail::PruningNetModule& net, torch::optim::SGD& sgd,
                       int64_t& step) {
    torch::NoGradGuard noGrad;
    const std::string what = "the start of training (rank 0's weights and step)";
    torch::Tensor s = torch::tensor({step}, torch::kLong);
    group.broadcast(s, what);
    step = s.item<int64_t>();
    for (const torch::Tensor& p : net->parameters()) {
        torch::Tensor t = p.detach();
        group.broadcast(t, what);
    }
    for (torch::Tensor b : net->buffers())
        group.broadcast(b, what);
    auto& state = sgd.state();
    for (const torch::Tensor& p : net->denseParameters()) {
        const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
        if (!state.count(key)) {
            auto fresh = std::make_unique<torch::optim::SGDParamState>();
            fresh->momentum_buffer(torch::zeros_like(p));
            state[key] = std::move(fresh);
        }
        torch::Tensor buf = static_cast<torch::optim::SGDParamState&>(*state[key]).momentum_buffer();
        group.broadcast(buf, what);
    }
}

uint64_t mix(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + a * 0xBF58476D1CE4E5B9ull + b * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

} // namespace

void checkBatchSplits(int batchSize, int ranks) {
    if (batchSize % ranks != 0)
        throw ConfigError("batch size " + std::to_string(batchSize) + " does not split evenly over " +
                          std::to_string(ranks) + " processes: choose a multiple of " + std::to_string(ranks) +
                          " (the batch size is the global batch, the same for any number of processes)");
}

void checkDataParallel(const TrainConfig& cfg, int ranks) {
    checkBatchSplits(cfg.batchSize, ranks);
    if (cfg.sampling == Sampling::Sandwich && ranks > 1)
        throw ConfigError("sandwich sampling trains in one process: its gradients are accumulated over several "
                          "structures before the update, which the data-parallel exchange does not do yet; train "
                          "with --sampling random, or without --nproc");
}

void checkTrainingFits(const DataBundle& data, const TrainConfig& cfg, int ranks) {
    checkDataParallel(cfg, ranks);
    if (cfg.sampling == Sampling::Sandwich && !(cfg.sandwichRandom >= 0 && cfg.sandwichRandom <= 16))
        throw ConfigError("--sandwich-random must be 0..16, got " + std::to_string(cfg.sandwichRandom));
    if (cfg.inplaceDistill && cfg.sampling != Sampling::Sandwich)
        throw ConfigError("in-place distillation needs the full width in every step: use it with --sampling sandwich");
    if (cfg.inplaceDistill && !(cfg.inplaceTemperature > 0))
        throw ConfigError("the in-place distillation temperature must be positive");
    if (cfg.initFromWeights) {
        const ArchSpec model = cfg.architecture.empty() ? ArchSpec{} : architectureFromJson(cfg.architecture);
        if (model.weightsFile.empty())
            throw ConfigError("--init weights needs an architecture with trained weights: import an ONNX model with "
                              "its weights (metaprune import model.onnx), or train with --init random");
        if (model.inChannels != data.train.channels || model.classes != data.train.numClasses())
            throw DataError(data.path + ": the trained model reads " + std::to_string(model.inChannels) +
                            "-channel images into " + std::to_string(model.classes) + " classes; the data has " +
                            std::to_string(data.train.channels) + "-channel images in " +
                            std::to_string(data.train.numClasses()) + " classes");
    }
    const SearchSplit split = makeSearchSplit(data.train, cfg.searchPerClass, cfg.seed);
    if (int64_t(split.train.size()) < cfg.batchSize)
        throw DataError(data.path + ": " + std::to_string(split.train.size()) +
                        " training images left after the search split, fewer than one batch of " +
                        std::to_string(cfg.batchSize));
    // An imported network can need more memory than the machine has.
    const ArchSpec arch = detail::architectureFor(cfg, data.train.channels, data.train.height, data.train.width,
                                                  data.train.numClasses());
    const PruningNetSize size = pruningNetSize(arch, cfg.batchSize / ranks);
    if (const int64_t available = availableMemoryBytes(); available > 0 && size.trainingBytes() > available)
        throw ConfigError(describePruningNetSize(arch, size) + "; this machine has " +
                          std::to_string(available >> 20) +
                          " MiB available: the PruningNet will not fit (prune a smaller model, lower --batch-size, "
                          "or use a machine with more memory)");
}

TrainOutcome trainPruningNet(const DataBundle& data, const TrainConfig& cfg, const std::string& checkpointPath,
                             const TrainCallbacks& callbacks, const std::atomic<bool>* cancel,
                             double checkpointSeconds, const Distributed* dist) {
    const Clock::time_point start = Clock::now();
    detail::ProcessGroupImpl* group = dist && dist->worldSize() > 1 ? &dist->impl() : nullptr;
    const int world = group ? group->worldSize() : 1, rank = group ? group->rank() : 0;
    checkTrainingFits(data, cfg, world);
    const int64_t local = cfg.batchSize / world; // this rank's shard of every global batch
    const Dataset& train = data.train;
    const SearchSplit split = makeSearchSplit(train, cfg.searchPerClass, cfg.seed);
    const int64_t stepsPerEpoch = int64_t(split.train.size()) / cfg.batchSize;
    const int64_t totalSteps = stepsPerEpoch * cfg.epochs;
    // Progress every 20 steps, or often enough for a short run to draw a curve (~20 points).
    const int64_t progressEvery = std::clamp<int64_t>(totalSteps / 20, 1, 20);

    CheckpointInfo info;
    info.path = checkpointPath;
    info.config = cfg;
    info.totalSteps = totalSteps;
    info.inChannels = train.channels;
    info.inHeight = train.height;
    info.inWidth = train.width;
    info.classes = train.numClasses();
    info.classNames = train.classNames;
    info.dataSummary = data.summary;
    for (const std::string& f : data.skipped)
        info.dataSummary += "\nskipped " + f;
    const ArchSpec arch = detail::architectureFor(cfg, info.inChannels, info.inHeight, info.inWidth, info.classes);
    // A trained model's own normalisation, else the training data's.
    if (!arch.inputMean.empty()) {
        info.mean = perChannel(arch.inputMean, arch.inChannels, "preprocessing mean");
        info.stddev = perChannel(arch.inputStd, arch.inChannels, "preprocessing std");
    } else {
        channelStats(train, split.train, info.mean, info.stddev);
    }
    torch::manual_seed(int64_t(cfg.seed));
    detail::PruningNetModule net(arch, cfg.initFromWeights);
    torch::optim::SGD sgd(net->denseParameters(),
                          torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum).weight_decay(cfg.weightDecay));
    if (rank == 0 && fs::exists(checkpointPath)) { // only rank 0 reads and writes the checkpoint
        CheckpointInfo old;
        detail::loadCheckpointInto(checkpointPath, old, net, sgd, [&](const CheckpointInfo& found) {
            if (toJson(found.config) != toJson(cfg))
                throw CheckpointError(checkpointPath + ": exists but was trained with other settings (" +
                                      toJson(found.config) + "); choose another checkpoint path");
            if (found.inChannels != info.inChannels || found.inHeight != info.inHeight ||
                found.inWidth != info.inWidth || found.classes != info.classes)
                throw CheckpointError(checkpointPath + ": was trained on data of another shape");
        });
        info.step = old.step;
    } else if (rank == 0 && cfg.initFromWeights) {
        // The trained model with a batch norm for every conv (statistics of its own activations
        // on training images where the exporter folded it) and its channels by importance.
        std::vector<int64_t> sample;
        const int64_t every = std::max<int64_t>(1, int64_t(split.train.size()) / 4096);
        for (size_t k = 0; k < split.train.size(); k += size_t(every))
            sample.push_back(split.train[k]);
        net->startFrom(orderByImportance(
            arch, withBatchNormOfEveryConv(arch, readTrainedModel(arch), train, sample, info.mean, info.stddev)));
    }
    const detail::RankSum rankSum{group};
    if (group && cfg.syncBatchNorm)
        net->setRankSum(&rankSum);
    if (group) {
        shareInitialState(*group, net, sgd, info.step);
    }
    net->train();

    TrainOutcome outcome;
    outcome.checkpoint = checkpointPath;
    const int pad = cfg.augment ? std::max(1, train.height / 8) : 0;
    const detail::Normalization norm{info.mean, info.stddev};

    Clock::time_point lastSave = Clock::now();
    const int64_t firstStep = info.step;
    std::vector<int64_t> order;
    std::unique_ptr<detail::BatchPrefetcher> prefetch; // image folders: this epoch's batches
    int currentEpoch = -1;
    double lossSum = 0;
    int64_t correct = 0, seen = 0;

    auto report = [&](int64_t step) {
        TrainProgress p;
        p.step = step;
        p.totalSteps = totalSteps;
        p.epoch = currentEpoch;
        p.loss = seen ? lossSum / double(seen) : 0;
        p.top1 = seen ? 100.0 * double(correct) / double(seen) : 0;
        p.lr = learningRate(cfg, std::min(step, totalSteps - 1), totalSteps);
        p.elapsedSeconds = seconds(start, Clock::now());
        const int64_t doneHere = step - firstStep;
        p.etaSeconds = doneHere > 0 ? p.elapsedSeconds / double(doneHere) * double(totalSteps - step) : 0;
        return p;
    };

    bool anyStop = false; // a data-parallel run stops when any rank asked, at the same step on all
    for (int64_t step = info.step; step < totalSteps; ++step) {
        if (group ? anyStop : cancel && cancel->load()) {
            info.step = step;
            if (rank == 0)
                detail::saveCheckpoint(checkpointPath, info, net, &sgd);
            outcome.steps = step;
            outcome.seconds = seconds(start, Clock::now());
            return outcome;
        }
        const int epoch = int(step / stepsPerEpoch);
        if (epoch != currentEpoch) {
            currentEpoch = epoch;
            order = split.train;
            std::mt19937_64 shuffleRng(mix(cfg.seed, 1, uint64_t(epoch)));
            std::shuffle(order.begin(), order.end(), shuffleRng);
            if (!train.inMemory())
                prefetch = std::make_unique<detail::BatchPrefetcher>(
                    train, norm,
                    shardOf(detail::orderedBatches(order, cfg.batchSize, step % stepsPerEpoch, stepsPerEpoch,
                                                   cfg.augment ? ViewPolicy::TrainAugment : ViewPolicy::TrainCentre,
                                                   [&](int64_t b) {
                                                       return mix(cfg.seed, 3, uint64_t(epoch * stepsPerEpoch + b));
                                                   }),
                            rank * local, local));
            lossSum = 0;
            correct = seen = 0;
        }
        const int64_t offset = (step % stepsPerEpoch) * cfg.batchSize;
        std::mt19937_64 rng(mix(cfg.seed, 2, uint64_t(step)));
        const bool sandwich = cfg.sampling == Sampling::Sandwich;
        Encoding enc;
        std::vector<Encoding> encs;
        if (sandwich) {
            encs = detail::sandwichEncodings(arch, cfg, rng);
        } else {
            enc = randomEncoding(arch, rng);
            if (cfg.fullWidthProb > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < cfg.fullWidthProb)
                enc = uniformEncoding(arch, grid::kSize - 1);
        }
        // Augmentation draws from the step's generator image by image: a shard is cut from the
        // whole batch so that it gets the same shifts and flips as in a single process.
        const int64_t first = offset + rank * local;
        const torch::Tensor x =
            prefetch      ? prefetch->next()
            : cfg.augment ? detail::makeBatch(train, order.data() + offset, cfg.batchSize, norm, &rng, pad, true)
                                .narrow(0, rank * local, local)
                          : detail::makeBatch(train, order.data() + first, local, norm);
        const torch::Tensor y = detail::makeLabels(train, order.data() + first, local);

        bool stop = cancel && cancel->load();
        detail::StepResult r;
        try {
            r = sandwich ? detail::sandwichStep(net, sgd, x, y, encs, cfg, learningRate(cfg, step, totalSteps))
                         : detail::trainStep(net, sgd, x, y, enc, cfg, learningRate(cfg, step, totalSteps), group, &stop);
        } catch (const DistributedError& e) {
            throw DistributedError(std::string(e.what()) + "; training stopped at step " + std::to_string(step) +
                                   (rank == 0 ? " of " + std::to_string(totalSteps) + ", the last checkpoint " +
                                                    checkpointPath + " is kept"
                                              : std::string()));
        }
        anyStop = stop;
        lossSum += r.loss * double(cfg.batchSize);
        correct += r.correct;
        seen += cfg.batchSize;

        const int64_t done = step + 1;
        const bool epochDone = done % stepsPerEpoch == 0;
        if (callbacks.progress && (done % progressEvery == 0 || epochDone || done == totalSteps))
            callbacks.progress(report(done));
        if (rank == 0 && (epochDone || done == totalSteps || seconds(lastSave, Clock::now()) > checkpointSeconds)) {
            info.step = done;
            detail::saveCheckpoint(checkpointPath, info, net, &sgd);
            lastSave = Clock::now();
        }
        if (epochDone && callbacks.epochEnd)
            callbacks.epochEnd(report(done));
    }
    outcome.finished = true;
    outcome.steps = totalSteps;
    outcome.seconds = seconds(start, Clock::now());
    if (rank == 0 && info.step != totalSteps) {
        info.step = totalSteps;
        detail::saveCheckpoint(checkpointPath, info, net, &sgd);
    }
    return outcome;
}

} // namespace mp
