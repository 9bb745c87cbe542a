#include "metaprune/architecture.h"

#include "export_names.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace mp {

namespace grid {
double scale(int index) {
    if (index < 0 || index >= kSize)
        throw std::out_of_range("scale index " + std::to_string(index) + " outside 0.." +
                                std::to_string(kSize - 1));
    return (10 + 3 * index) / 100.0;
}

int channels(int maxChannels, int index) {
    if (index < 0 || index >= kSize)
        throw std::out_of_range("scale index " + std::to_string(index) + " outside 0.." +
                                std::to_string(kSize - 1));
    const int c = maxChannels * (10 + 3 * index) / 100;
    return c < 1 ? 1 : c;
}
} // namespace grid

int geneChannelsAt(const Gene& gene, int index) {
    const int c = grid::channels(gene.maxChannels, index);
    if (gene.quantum <= 1)
        return c;
    return std::max(gene.quantum, c / gene.quantum * gene.quantum);
}

namespace {
const std::pair<OpKind, const char*> kOpNames[] = {
    {OpKind::Conv, "conv"},         {OpKind::Linear, "linear"},   {OpKind::Add, "add"},
    {OpKind::Mul, "mul"},           {OpKind::Concat, "concat"},   {OpKind::GlobalAvgPool, "global_avg_pool"},
    {OpKind::MaxPool, "max_pool"}, {OpKind::AvgPool, "avg_pool"}, {OpKind::Act, "act"},
    {OpKind::BatchNorm, "batch_norm"}, {OpKind::Pad, "pad"},
};
const std::pair<Activation, const char*> kActNames[] = {
    {Activation::None, "none"},       {Activation::ReLU, "relu"},           {Activation::ReLU6, "relu6"},
    {Activation::Sigmoid, "sigmoid"}, {Activation::HardSigmoid, "hardsigmoid"}, {Activation::HardSwish, "hardswish"},
    {Activation::SiLU, "silu"},
};
} // namespace

std::string opKindName(OpKind kind) {
    for (const auto& [k, n] : kOpNames)
        if (k == kind)
            return n;
    return "?";
}

OpKind parseOpKind(const std::string& name) {
    std::string known;
    for (const auto& [k, n] : kOpNames) {
        if (name == n)
            return k;
        known += std::string(known.empty() ? "" : ", ") + n;
    }
    throw ArchError("unknown op kind '" + name + "' (known: " + known + ")");
}

std::string activationName(Activation act) {
    for (const auto& [a, n] : kActNames)
        if (a == act)
            return n;
    return "?";
}

Activation parseActivation(const std::string& name) {
    std::string known;
    for (const auto& [a, n] : kActNames) {
        if (name == n)
            return a;
        known += std::string(known.empty() ? "" : ", ") + n;
    }
    throw ArchError("unknown activation '" + name + "' (known: " + known + ")");
}

namespace {

struct StageConfig {
    int repeat;
    int width;
    int stride;
    int expand;
};

struct MobileNetV2Config {
    int stemWidth;
    int stemStride;
    std::vector<StageConfig> stages;
    int lastWidth;
};

// Reference (metapruning.md): stage repeats [1,1,2,3,4,3,3,1] counting the stem as stage 0,
// widths about 1.4x MobileNetV2, last 1x1 conv 1280.
MobileNetV2Config paperV2() {
    return {44,
            2,
            {{1, 22, 1, 1},
             {2, 33, 2, 6},
             {3, 44, 2, 6},
             {4, 88, 2, 6},
             {3, 132, 1, 6},
             {3, 224, 2, 6},
             {1, 448, 1, 6}},
            1280};
}

// Sized for 28x28 / 32x32 data on a 2-core CPU: stride-2 stem, expansion 4, six bottleneck
// stages at 14x14, 7x7 and 4x4 (28x28 input), 4.47 M MACs at full width.
MobileNetV2Config smallV2() {
    return {24,
            2,
            {{1, 16, 1, 1}, {2, 24, 2, 4}, {2, 32, 1, 4}, {2, 48, 2, 4}, {2, 64, 1, 4}, {1, 96, 1, 4}},
            384};
}

Width geneWidth(int gene) { return Width{gene, 0}; }
Width fixedWidth(int c) { return Width{-1, c}; }

/// Square window with "same" padding (kernel / 2), as every built-in family uses.
void setWindow(Op& op, int kernel, int stride) {
    op.kernelH = op.kernelW = kernel;
    op.strideH = op.strideW = stride;
    op.padH = op.padW = kernel / 2;
}

// Global average pooling and the classifier; the classifier's input width may be a gene.
void addHead(ArchSpec& arch, int x) {
    Op pool;
    pool.kind = OpKind::GlobalAvgPool;
    pool.name = "pool";
    pool.inputs = {x};
    pool.batchNorm = false;
    arch.ops.push_back(pool);
    Op fc;
    fc.kind = OpKind::Linear;
    fc.name = "classifier";
    fc.inputs = {int(arch.ops.size())};
    fc.out = fixedWidth(kClassesWidth);
    fc.batchNorm = false;
    arch.ops.push_back(fc);
}


ArchSpec buildMobileNetV2(const MobileNetV2Config& cfg, ArchSpec arch) {
    // Stage genes first (stem = stage 0), then one mid gene per block, in network order.
    arch.genes.push_back({"stage0", GeneKind::Stage, cfg.stemWidth, 0});
    for (size_t s = 0; s < cfg.stages.size(); ++s)
        arch.genes.push_back({"stage" + std::to_string(s + 1), GeneKind::Stage,
                              cfg.stages[s].width, int(s + 1)});

    auto addOp = [&arch](Op op) {
        arch.ops.push_back(std::move(op));
        return int(arch.ops.size()); // value id of its output
    };

    Op stem;
    stem.kind = OpKind::Conv;
    stem.name = "stem";
    stem.inputs = {0};
    stem.out = geneWidth(0);
    setWindow(stem, 3, cfg.stemStride);
    stem.act = Activation::ReLU6;
    stem.condition = {0};
    stem.hidden = 32;
    stem.stage = 0;
    stem.block = 0;
    int x = addOp(stem);

    int inGene = 0;
    int inMax = cfg.stemWidth;
    int block = 0;
    for (size_t s = 0; s < cfg.stages.size(); ++s) {
        const StageConfig& st = cfg.stages[s];
        const int outGene = int(s + 1);
        for (int r = 0; r < st.repeat; ++r) {
            ++block;
            const std::string b = "block" + std::to_string(block);
            const int midGene = int(arch.genes.size());
            arch.genes.push_back({b + ".mid", GeneKind::Mid, inMax * st.expand, int(s + 1)});
            const std::vector<int> cond = {midGene, inGene, outGene};
            const int blockInput = x;

            Op expand;
            expand.name = b + ".expand";
            expand.inputs = {x};
            expand.out = geneWidth(midGene);
            expand.act = Activation::ReLU6;
            expand.condition = cond;
            expand.hidden = 64;
            expand.stage = int(s + 1);
            expand.block = block;
            x = addOp(expand);

            Op dw = expand;
            dw.name = b + ".depthwise";
            dw.inputs = {x};
            setWindow(dw, 3, r == 0 ? st.stride : 1);
            dw.groupWidth = 1;
            x = addOp(dw);

            Op project = expand;
            project.name = b + ".project";
            project.inputs = {x};
            project.out = geneWidth(outGene);
            project.act = Activation::None;
            x = addOp(project);

            // Blocks after the first of a stage share the stage gene on both sides of the add.
            if (r > 0) {
                Op add;
                add.kind = OpKind::Add;
                add.name = b + ".add";
                add.inputs = {blockInput, x};
                add.batchNorm = false;
                add.stage = int(s + 1);
                add.block = block;
                x = addOp(add);
            }
            inGene = outGene;
            inMax = st.width;
        }
    }

    Op last;
    last.name = "last";
    last.inputs = {x};
    last.out = fixedWidth(cfg.lastWidth);
    last.act = Activation::ReLU6;
    last.condition = {inGene};
    last.hidden = 32;
    last.stage = int(cfg.stages.size());
    last.block = block + 1;
    x = addOp(last);
    addHead(arch, x);
    return arch;
}

Op conv(const std::string& name, int input, Width out, int kernel, int stride, Activation act,
        std::vector<int> cond, int hidden, int stage, int block) {
    Op op;
    op.kind = OpKind::Conv;
    op.name = name;
    op.inputs = {input};
    op.out = out;
    setWindow(op, kernel, stride);
    op.act = act;
    op.condition = std::move(cond);
    op.hidden = hidden;
    op.stage = stage;
    op.block = block;
    return op;
}


struct V1Block {
    int width;
    int stride;
};

// Reference MobileNetV1 PruningNet (metapruning.md): one gene per conv output (the stem and
// each pointwise conv); depthwise convs follow their input; the last block's width is fixed.
ArchSpec buildMobileNetV1(int stemWidth, int stemStride, const std::vector<V1Block>& blocks, ArchSpec arch) {
    arch.genes.push_back({"stem", GeneKind::Stage, stemWidth, 0});
    for (size_t b = 0; b + 1 < blocks.size(); ++b)
        arch.genes.push_back({"block" + std::to_string(b + 1), GeneKind::Stage, blocks[b].width, int(b + 1)});
    auto add = [&arch](Op op) {
        arch.ops.push_back(std::move(op));
        return int(arch.ops.size());
    };
    int x = add(conv("stem", 0, geneWidth(0), 3, stemStride, Activation::ReLU, {0}, 32, 0, 0));
    Width in = geneWidth(0);
    for (size_t b = 0; b < blocks.size(); ++b) {
        const std::string name = "block" + std::to_string(b + 1);
        const bool last = b + 1 == blocks.size();
        const Width out = last ? fixedWidth(blocks[b].width) : geneWidth(int(b + 1));
        std::vector<int> cond;
        if (in.gene >= 0)
            cond.push_back(in.gene);
        if (out.gene >= 0)
            cond.push_back(out.gene);
        Op dw = conv(name + ".depthwise", x, in, 3, blocks[b].stride, Activation::ReLU, cond, 32, int(b + 1), int(b + 1));
        dw.groupWidth = 1;
        x = add(dw);
        x = add(conv(name + ".pointwise", x, out, 1, 1, Activation::ReLU, cond, 32, int(b + 1), int(b + 1)));
        in = out;
    }
    addHead(arch, x);
    return arch;
}

struct ResNetStage {
    int repeat;
    int width;
    int stride;
};

// ResNet PruningNets: a stem gene, one output gene per stage shared by every residual add and
// the stage's projection shortcut (so shortcut channels are pruned with the stage), one mid
// gene per block. Bottleneck blocks (ResNet-50, reference design: mid = width / 4, 7x7 stem and
// max pool) or basic blocks (CIFAR ResNet-20: two 3x3 convs, mid = width).
ArchSpec buildResNet(int stemWidth, int stemKernel, int stemStride, bool maxPool, bool bottleneck,
                     const std::vector<ResNetStage>& stages, ArchSpec arch) {
    arch.genes.push_back({"stem", GeneKind::Stage, stemWidth, 0});
    for (size_t s = 0; s < stages.size(); ++s)
        arch.genes.push_back({"stage" + std::to_string(s + 1), GeneKind::Stage, stages[s].width, int(s + 1)});
    auto add = [&arch](Op op) {
        arch.ops.push_back(std::move(op));
        return int(arch.ops.size());
    };
    int x = add(conv("stem", 0, geneWidth(0), stemKernel, stemStride, Activation::ReLU,
                     {0}, 32, 0, 0));
    if (maxPool) {
        Op pool;
        pool.kind = OpKind::MaxPool;
        pool.name = "stem.maxpool";
        pool.inputs = {x};
        setWindow(pool, 3, 2);
        pool.batchNorm = false;
        pool.stage = pool.block = 0;
        x = add(pool);
    }
    int inGene = 0;
    int block = 0;
    for (size_t s = 0; s < stages.size(); ++s) {
        const int outGene = int(s + 1);
        for (int r = 0; r < stages[s].repeat; ++r) {
            ++block;
            const std::string b = "block" + std::to_string(block);
            const int midGene = int(arch.genes.size());
            const int midMax = bottleneck ? stages[s].width / 4 : stages[s].width;
            arch.genes.push_back({b + ".mid", GeneKind::Mid, midMax, int(s + 1)});
            const std::vector<int> cond = {midGene, inGene, outGene};
            const int stride = r == 0 ? stages[s].stride : 1;
            const int blockInput = x;
            const int st = int(s + 1);
            if (bottleneck) {
                x = add(conv(b + ".conv1", x, geneWidth(midGene), 1, 1, Activation::ReLU, cond, 32, st, block));
                x = add(conv(b + ".conv2", x, geneWidth(midGene), 3, stride, Activation::ReLU, cond, 32, st, block));
                x = add(conv(b + ".conv3", x, geneWidth(outGene), 1, 1, Activation::None, cond, 32, st, block));
            } else {
                x = add(conv(b + ".conv1", x, geneWidth(midGene), 3, stride, Activation::ReLU, cond, 32, st, block));
                x = add(conv(b + ".conv2", x, geneWidth(outGene), 3, 1, Activation::None, cond, 32, st, block));
            }
            int shortcut = blockInput;
            if (r == 0) // the stage's projection shortcut carries the stage gene too
                shortcut = add(conv(b + ".shortcut", blockInput, geneWidth(outGene), 1, stride,
                                    Activation::None, cond, 32, st, block));
            Op sum;
            sum.kind = OpKind::Add;
            sum.name = b + ".add";
            sum.inputs = {shortcut, x};
            sum.act = Activation::ReLU;
            sum.batchNorm = false;
            sum.stage = st;
            sum.block = block;
            x = add(sum);
            inGene = outGene;
        }
    }
    addHead(arch, x);
    return arch;
}




int maxOf(const ArchSpec& a, const Width& w) {
    if (w.gene >= 0)
        return a.genes[size_t(w.gene)].maxChannels;
    return w.fixed == kClassesWidth ? a.classes : w.fixed;
}

std::string widthText(const ArchSpec& a, const Width& w) {
    if (w.gene >= 0)
        return "gene " + a.genes[size_t(w.gene)].name;
    return w.fixed == kClassesWidth ? std::string("the classes") : std::to_string(w.fixed);
}

std::string layoutText(const ArchSpec& a, const std::vector<Width>& segments) {
    std::string s;
    for (const Width& w : segments)
        s += (s.empty() ? "" : " + ") + widthText(a, w);
    return s;
}

/// Output size of a sliding window, as PyTorch computes it (ceil mode never starts a window in
/// the right padding).
int windowOut(int size, int kernel, int stride, int pad, int dilation, bool ceil) {
    const int span = size + 2 * pad - dilation * (kernel - 1) - 1;
    if (span < 0)
        return 0;
    int out = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
    if (ceil && (out - 1) * stride >= size + pad)
        --out;
    return out;
}

} // namespace

std::vector<std::pair<std::string, std::vector<std::string>>> availableArchitectures() {
    return {{"mobilenetv2", {"small", "paper"}}, {"mobilenetv1", {"small", "paper"}}, {"resnet", {"small", "paper"}}};
}

ArchSpec makeArchitecture(const std::string& family, const std::string& preset, int inChannels,
                          int inHeight, int inWidth, int classes) {
    if (inChannels <= 0 || inHeight <= 0 || inWidth <= 0 || classes <= 0)
        throw std::invalid_argument("architecture input must be positive, got " +
                                    std::to_string(inChannels) + "x" + std::to_string(inHeight) +
                                    "x" + std::to_string(inWidth) + " with " +
                                    std::to_string(classes) + " classes");
    ArchSpec arch;
    arch.family = family;
    arch.preset = preset;
    arch.inChannels = inChannels;
    arch.inHeight = inHeight;
    arch.inWidth = inWidth;
    arch.classes = classes;
    if (family == "mobilenetv2") {
        if (preset == "paper")
            return buildMobileNetV2(paperV2(), arch);
        if (preset == "small")
            return buildMobileNetV2(smallV2(), arch);
    } else if (family == "mobilenetv1") {
        if (preset == "paper") {
            std::vector<V1Block> b = {{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}};
            for (int i = 0; i < 5; ++i)
                b.push_back({512, 1});
            b.push_back({1024, 2});
            b.push_back({1024, 1});
            return buildMobileNetV1(32, 2, b, arch);
        }
        if (preset == "small") // 28x28: 14x14, 7x7, 4x4; 4.57 M MACs at full width
            return buildMobileNetV1(16, 2,
                                    {{32, 1}, {64, 2}, {64, 1}, {96, 1}, {96, 1}, {128, 2}, {128, 1}, {128, 1},
                                     {128, 1}, {128, 1}, {128, 1}, {256, 1}, {256, 1}},
                                    arch);
    } else if (family == "resnet") {
        if (preset == "paper") // ResNet-50
            return buildResNet(64, 7, 2, true, true, {{3, 256, 1}, {4, 512, 2}, {6, 1024, 2}, {3, 2048, 2}}, arch);
        if (preset == "small") // CIFAR ResNet-20
            return buildResNet(16, 3, 1, false, false, {{3, 16, 1}, {3, 32, 2}, {3, 64, 2}}, arch);
    }
    throw std::invalid_argument("unknown architecture '" + family + "' preset '" + preset +
                                "' (known: mobilenetv2, mobilenetv1, resnet; presets small, paper)");
}

std::vector<ValueShape> analyzeArchitecture(const ArchSpec& a) {
    if (a.inChannels <= 0 || a.inHeight <= 0 || a.inWidth <= 0 || a.classes <= 0)
        throw ArchError("input " + std::to_string(a.inChannels) + "x" + std::to_string(a.inHeight) + "x" +
                        std::to_string(a.inWidth) + " with " + std::to_string(a.classes) +
                        " classes: every size must be positive");
    if (a.ops.empty())
        throw ArchError("the architecture has no ops");
    if (a.inputMean.size() != a.inputStd.size() ||
        (!a.inputMean.empty() && a.inputMean.size() != 1 && int(a.inputMean.size()) != a.inChannels))
        throw ArchError("preprocessing: " + std::to_string(a.inputMean.size()) + " mean and " +
                        std::to_string(a.inputStd.size()) + " std values for " + std::to_string(a.inChannels) +
                        " input channels (give one value, or one per channel, of each)");
    for (size_t c = 0; c < a.inputStd.size(); ++c)
        if (!std::isfinite(a.inputMean[c]) || !std::isfinite(a.inputStd[c]) || !(a.inputStd[c] > 0))
            throw ArchError("preprocessing: mean " + std::to_string(a.inputMean[c]) + " and std " +
                            std::to_string(a.inputStd[c]) + " of channel " + std::to_string(c) +
                            ": the std must be positive and both finite");
    std::set<std::string> geneNames;
    for (const Gene& g : a.genes) {
        if (g.name.empty() || !geneNames.insert(g.name).second)
            throw ArchError("gene '" + g.name + "': gene names must be unique and not empty");
        if (g.maxChannels < 1)
            throw ArchError("gene '" + g.name + "': max channels " + std::to_string(g.maxChannels) +
                            " must be at least 1");
        if (g.quantum < 1 || g.maxChannels % g.quantum != 0)
            throw ArchError("gene '" + g.name + "': channel quantum " + std::to_string(g.quantum) +
                            " must divide its max channels " + std::to_string(g.maxChannels));
    }
    std::map<std::string, std::string> exported; // exported tensor names must stay distinct
    std::set<std::string> opNames;
    std::vector<ValueShape> v(a.ops.size() + 1);
    v[0].segments = {Width{-1, a.inChannels}};
    v[0].maxChannels = a.inChannels;
    v[0].height = a.inHeight;
    v[0].width = a.inWidth;
    std::vector<bool> used(a.ops.size() + 1, false);
    std::vector<bool> flat(a.ops.size() + 1, false); // [N, features] values: a Linear's output
    for (size_t i = 0; i < a.ops.size(); ++i) {
        const Op& op = a.ops[i];
        const std::string at = "op '" + op.name + "' (" + opKindName(op.kind) + ")";
        if (op.name.empty() || !opNames.insert(op.name).second)
            throw ArchError(at + ": op names must be unique and not empty");
        if (const auto [it, fresh] = exported.emplace(detail::exportParamName(op.name), op.name); !fresh)
            throw ArchError(at + ": its name and op '" + it->second + "' both become '" + it->first +
                            "' in exported files; rename one");
        const size_t wanted = op.kind == OpKind::Add || op.kind == OpKind::Mul ? 2 : op.kind == OpKind::Concat ? 0 : 1;
        if (wanted && op.inputs.size() != wanted)
            throw ArchError(at + ": takes " + std::to_string(wanted) + " input" + (wanted == 1 ? "" : "s") + ", has " +
                            std::to_string(op.inputs.size()));
        if (op.kind == OpKind::Concat && op.inputs.size() < 2)
            throw ArchError(at + ": joins at least 2 inputs, has " + std::to_string(op.inputs.size()));
        for (int in : op.inputs) {
            if (in < 0 || in > int(i))
                throw ArchError(at + ": reads value " + std::to_string(in) +
                                ", which no earlier op makes (a cycle, or an op listed before its input)");
            used[size_t(in)] = true;
        }
        auto checkWidth = [&](const Width& w, const char* what) {
            if (w.gene >= int(a.genes.size()) || w.gene < -1)
                throw ArchError(at + ": " + what + " width is tied to gene #" + std::to_string(w.gene) +
                                ", which does not exist (" + std::to_string(a.genes.size()) + " genes)");
            if (w.gene < 0 && w.fixed <= 0 && w.fixed != kClassesWidth)
                throw ArchError(at + ": " + what + " width " + std::to_string(w.fixed) + " must be positive");
        };
        for (int g : op.condition)
            if (g < 0 || g >= int(a.genes.size()))
                throw ArchError(at + ": its generator is conditioned on gene #" + std::to_string(g) +
                                ", which does not exist");
        const ValueShape& in = v[size_t(op.inputs.at(0))];
        ValueShape& out = v[i + 1];
        out = in;
        auto window = [&](int dilation) {
            if (op.kernelH < 1 || op.kernelW < 1 || op.strideH < 1 || op.strideW < 1 || op.padH < 0 || op.padW < 0 ||
                dilation < 1)
                throw ArchError(at + ": kernel, stride and dilation must be at least 1 and padding not negative");
            const bool ceil = op.ceilMode && op.kind != OpKind::Conv;
            out.height = windowOut(in.height, op.kernelH, op.strideH, op.padH, dilation, ceil);
            out.width = windowOut(in.width, op.kernelW, op.strideW, op.padW, dilation, ceil);
            if (out.height < 1 || out.width < 1)
                throw ArchError(at + ": its " + std::to_string(in.height) + "x" + std::to_string(in.width) +
                                " input is too small for a " + std::to_string(op.kernelH) + "x" +
                                std::to_string(op.kernelW) + " window with stride " + std::to_string(op.strideH) +
                                ": the input size is too small for this architecture");
        };
        switch (op.kind) {
        case OpKind::Conv: {
            window(op.dilation);
            if (op.groupWidth < 0)
                throw ArchError(at + ": group width must be 0 (dense), 1 (depthwise) or channels per group");
            if (op.groupWidth == 0) {
                checkWidth(op.out, "output");
                out.segments = {op.out};
                out.maxChannels = maxOf(a, op.out);
            } else if (op.groupWidth > 1) {
                if (in.segments.size() != 1)
                    throw ArchError(at + ": a grouped conv needs a single-width input, its input is " +
                                    layoutText(a, in.segments));
                const Width& w = in.segments[0];
                const int quantum = w.gene >= 0 ? a.genes[size_t(w.gene)].quantum : maxOf(a, w);
                if (quantum % op.groupWidth != 0 || maxOf(a, w) % op.groupWidth != 0)
                    throw ArchError(at + ": groups of " + std::to_string(op.groupWidth) + " channels need its input's " +
                                    widthText(a, w) + " to come in multiples of " + std::to_string(op.groupWidth) +
                                    " (its quantum is " + std::to_string(quantum) + ")");
            }
            break;
        }
        case OpKind::Linear:
            checkWidth(op.out, "output");
            out.segments = {op.out};
            out.maxChannels = maxOf(a, op.out);
            out.height = out.width = 1;
            break;
        case OpKind::Add:
        case OpKind::Mul: {
            const ValueShape& other = v[size_t(op.inputs[1])];
            if (other.segments != in.segments)
                throw ArchError(at + ": its inputs have widths " + layoutText(a, in.segments) + " and " +
                                layoutText(a, other.segments) +
                                ", which cannot be equal for every encoding (tie them to the same gene)");
            const bool broadcast = op.kind == OpKind::Mul && other.height == 1 && other.width == 1;
            if (!broadcast && (other.height != in.height || other.width != in.width))
                throw ArchError(at + ": its inputs are " + std::to_string(in.height) + "x" + std::to_string(in.width) +
                                " and " + std::to_string(other.height) + "x" + std::to_string(other.width) +
                                " maps, which do not chain");
            break;
        }
        case OpKind::Concat:
            out.segments.clear();
            out.maxChannels = 0;
            for (int id : op.inputs) {
                const ValueShape& part = v[size_t(id)];
                if (part.height != in.height || part.width != in.width)
                    throw ArchError(at + ": joins " + std::to_string(in.height) + "x" + std::to_string(in.width) +
                                    " and " + std::to_string(part.height) + "x" + std::to_string(part.width) +
                                    " maps, which do not chain");
                out.segments.insert(out.segments.end(), part.segments.begin(), part.segments.end());
                out.maxChannels += part.maxChannels;
            }
            break;
        case OpKind::GlobalAvgPool:
            out.height = out.width = 1;
            break;
        case OpKind::MaxPool:
        case OpKind::AvgPool:
            window(1);
            break;
        case OpKind::Act:
            if (op.act == Activation::None)
                throw ArchError(at + ": a standalone activation needs an activation other than none");
            break;
        case OpKind::BatchNorm:
            if (flat[size_t(op.inputs[0])])
                throw ArchError(at + ": normalises the output of a linear layer; batch norm is supported on maps");
            break;
        case OpKind::Pad:
            if (op.padH < 0 || op.padW < 0 || !std::isfinite(op.padValue))
                throw ArchError(at + ": padding must not be negative and its value must be finite");
            out.height = in.height + 2 * op.padH;
            out.width = in.width + 2 * op.padW;
            break;
        }
        flat[i + 1] = op.kind == OpKind::Linear || (op.kind == OpKind::Act && flat[size_t(op.inputs[0])]);
    }
    // The last op is the output: every other value must feed something.
    for (size_t id = 1; id < a.ops.size(); ++id)
        if (!used[id])
            throw ArchError("op '" + a.ops[id - 1].name + "': its output is never used (only the last op is the output)");
    const ValueShape& logits = v.back();
    if (logits.segments.size() != 1 || logits.segments[0].gene >= 0 || logits.height != 1 || logits.width != 1)
        throw ArchError("op '" + a.ops.back().name + "': the last op must output the classes as a fixed width, it gives " +
                        layoutText(a, logits.segments) + " at " + std::to_string(logits.height) + "x" +
                        std::to_string(logits.width));
    return v;
}

ArchSpec resizeArchitecture(const ArchSpec& arch, int inChannels, int inHeight, int inWidth, int classes) {
    ArchSpec r = arch;
    r.inChannels = inChannels;
    r.inHeight = inHeight;
    r.inWidth = inWidth;
    r.classes = classes;
    if (inHeight != arch.inHeight || inWidth != arch.inWidth) {
        // A Linear over a flattened map fixes the size: its weights count H x W positions.
        const std::vector<ValueShape> values = analyzeArchitecture(arch);
        for (const Op& op : arch.ops)
            if (op.kind == OpKind::Linear) {
                const ValueShape& in = values[size_t(op.inputs[0])];
                if (in.height * in.width > 1)
                    throw ArchError("op '" + op.name + "' flattens a " + std::to_string(in.height) + "x" +
                                    std::to_string(in.width) + " map, so " + arch.family + " needs " +
                                    std::to_string(arch.inHeight) + "x" + std::to_string(arch.inWidth) +
                                    " input; the data is " + std::to_string(inHeight) + "x" + std::to_string(inWidth));
            }
    }
    analyzeArchitecture(r);
    return r;
}

void validateEncoding(const ArchSpec& arch, const Encoding& enc) {
    if (enc.size() != arch.genes.size())
        throw std::invalid_argument("encoding has " + std::to_string(enc.size()) +
                                    " genes, architecture " + arch.family + "/" + arch.preset +
                                    " needs " + std::to_string(arch.genes.size()));
    for (size_t g = 0; g < enc.size(); ++g)
        if (enc[g] < 0 || enc[g] >= grid::kSize)
            throw std::invalid_argument("gene " + arch.genes[g].name + " has scale index " +
                                        std::to_string(enc[g]) + ", outside 0.." +
                                        std::to_string(grid::kSize - 1));
}

std::vector<int> geneChannels(const ArchSpec& arch, const Encoding& enc) {
    validateEncoding(arch, enc);
    std::vector<int> c(enc.size());
    for (size_t g = 0; g < enc.size(); ++g)
        c[g] = geneChannelsAt(arch.genes[g], enc[g]);
    return c;
}

int widthChannels(const ArchSpec& arch, const Width& w, const Encoding& enc) {
    if (w.gene < 0)
        return w.fixed == kClassesWidth ? arch.classes : w.fixed;
    return geneChannelsAt(arch.genes.at(size_t(w.gene)), enc.at(size_t(w.gene)));
}

int valueChannels(const ArchSpec& arch, const ValueShape& v, const Encoding& enc) {
    int c = 0;
    for (const Width& w : v.segments)
        c += widthChannels(arch, w, enc);
    return c;
}

std::vector<ChannelRange> valueRanges(const ArchSpec& arch, const ValueShape& v, const Encoding& enc) {
    std::vector<ChannelRange> r;
    int offset = 0;
    for (const Width& w : v.segments) {
        r.push_back({offset, widthChannels(arch, w, enc)});
        offset += maxOf(arch, w);
    }
    return r;
}

std::vector<LayerShape> layerShapes(const ArchSpec& arch, const std::vector<ValueShape>& values, const Encoding& enc) {
    validateEncoding(arch, enc);
    std::vector<LayerShape> shapes;
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        if (op.kind != OpKind::Conv && op.kind != OpKind::Linear)
            continue;
        const ValueShape& in = values[size_t(op.inputs[0])];
        const ValueShape& out = values[i + 1];
        LayerShape s;
        s.op = int(i);
        s.inRanges = valueRanges(arch, in, enc);
        s.inChannels = valueChannels(arch, in, enc);
        s.inHeight = in.height;
        s.inWidth = in.width;
        s.outHeight = out.height;
        s.outWidth = out.width;
        if (op.kind == OpKind::Conv) {
            s.kernelH = op.kernelH;
            s.kernelW = op.kernelW;
            s.strideH = op.strideH;
            s.strideW = op.strideW;
            if (op.followsInput()) {
                s.outChannels = s.inChannels;
                s.outRanges = s.inRanges;
                s.groups = s.inChannels / op.groupWidth;
            } else {
                s.outChannels = widthChannels(arch, op.out, enc);
                s.outRanges = {{0, s.outChannels}};
            }
            const int64_t perOut = int64_t(op.kernelH) * op.kernelW * (s.inChannels / s.groups);
            s.macs = perOut * s.outChannels * s.outHeight * s.outWidth;
            s.params = perOut * s.outChannels + (op.batchNorm ? 0 : s.outChannels);
        } else {
            // Flattened C x H x W features, channel-major as torch.flatten lays them out.
            const int hw = in.height * in.width;
            for (ChannelRange& r : s.inRanges)
                r = {r.begin * hw, r.count * hw};
            s.inChannels *= hw;
            s.outChannels = widthChannels(arch, op.out, enc);
            s.outRanges = {{0, s.outChannels}};
            s.macs = int64_t(s.inChannels) * s.outChannels;
            s.params = s.macs + s.outChannels;
        }
        shapes.push_back(std::move(s));
    }
    return shapes;
}

std::vector<LayerShape> layerShapes(const ArchSpec& arch, const Encoding& enc) {
    return layerShapes(arch, analyzeArchitecture(arch), enc);
}

int64_t countMacs(const ArchSpec& arch, const std::vector<ValueShape>& values, const Encoding& enc) {
    int64_t total = 0;
    for (const LayerShape& s : layerShapes(arch, values, enc))
        total += s.macs;
    return total;
}

int64_t countMacs(const ArchSpec& arch, const Encoding& enc) { return countMacs(arch, analyzeArchitecture(arch), enc); }

int64_t countParams(const ArchSpec& arch, const std::vector<ValueShape>& values, const Encoding& enc) {
    int64_t total = 0;
    for (const LayerShape& s : layerShapes(arch, values, enc))
        total += s.params;
    return total;
}

int64_t countParams(const ArchSpec& arch, const Encoding& enc) {
    return countParams(arch, analyzeArchitecture(arch), enc);
}

Encoding canonicalEncoding(const ArchSpec& arch, const Encoding& enc) {
    validateEncoding(arch, enc);
    Encoding out(enc.size());
    for (size_t g = 0; g < enc.size(); ++g) {
        const Gene& gene = arch.genes[g];
        const int c = geneChannelsAt(gene, enc[g]);
        int i = enc[g];
        while (i > 0 && geneChannelsAt(gene, i - 1) == c)
            --i;
        out[g] = i;
    }
    return out;
}

Encoding uniformEncoding(const ArchSpec& arch, int index) {
    grid::scale(index); // range check
    return Encoding(arch.genes.size(), index);
}

Encoding randomEncoding(const ArchSpec& arch, std::mt19937_64& rng) {
    std::uniform_int_distribution<int> pick(0, grid::kSize - 1);
    Encoding enc(arch.genes.size());
    for (int& g : enc)
        g = pick(rng);
    return enc;
}

std::string encodingToString(const Encoding& enc) {
    std::string s;
    for (size_t i = 0; i < enc.size(); ++i) {
        if (i)
            s += ',';
        s += std::to_string(enc[i]);
    }
    return s;
}

std::string channelsToString(const std::vector<int>& channels) { return encodingToString(channels); }

Encoding parseEncoding(const ArchSpec& arch, const std::string& text) {
    Encoding enc;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        size_t used = 0;
        int v = 0;
        try {
            v = std::stoi(item, &used);
        } catch (const std::exception&) {
            throw std::invalid_argument("encoding '" + text + "': '" + item +
                                        "' is not an integer scale index");
        }
        while (used < item.size() && item[used] == ' ')
            ++used;
        if (used != item.size())
            throw std::invalid_argument("encoding '" + text + "': '" + item +
                                        "' is not an integer scale index");
        enc.push_back(v);
    }
    validateEncoding(arch, enc);
    return enc;
}

} // namespace mp
