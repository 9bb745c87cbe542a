#include "metaprune/architecture.h"

#include <sstream>
#include <stdexcept>

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
    stem.in = fixedWidth(arch.inChannels);
    stem.out = geneWidth(0);
    stem.kernel = 3;
    stem.stride = cfg.stemStride;
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
            expand.in = geneWidth(inGene);
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
            dw.in = geneWidth(midGene);
            dw.kernel = 3;
            dw.stride = r == 0 ? st.stride : 1;
            dw.depthwise = true;
            x = addOp(dw);

            Op project = expand;
            project.name = b + ".project";
            project.inputs = {x};
            project.in = geneWidth(midGene);
            project.out = geneWidth(outGene);
            project.act = Activation::None;
            x = addOp(project);

            // Blocks after the first of a stage share the stage gene on both sides of the add.
            if (r > 0) {
                Op add;
                add.kind = OpKind::Add;
                add.name = b + ".add";
                add.inputs = {blockInput, x};
                add.in = add.out = geneWidth(outGene);
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
    last.in = geneWidth(inGene);
    last.out = fixedWidth(cfg.lastWidth);
    last.act = Activation::ReLU6;
    last.condition = {inGene};
    last.hidden = 32;
    last.stage = int(cfg.stages.size());
    last.block = block + 1;
    x = addOp(last);

    Op pool;
    pool.kind = OpKind::GlobalAvgPool;
    pool.name = "pool";
    pool.inputs = {x};
    pool.in = pool.out = fixedWidth(cfg.lastWidth);
    pool.batchNorm = false;
    x = addOp(pool);

    Op fc;
    fc.kind = OpKind::Linear;
    fc.name = "classifier";
    fc.inputs = {x};
    fc.in = fixedWidth(cfg.lastWidth);
    fc.out = fixedWidth(arch.classes);
    fc.batchNorm = false;
    addOp(fc);
    return arch;
}

int convOut(int size, int kernel, int stride) { return (size + 2 * (kernel / 2) - kernel) / stride + 1; }

Op conv(const std::string& name, int input, Width in, Width out, int kernel, int stride, Activation act,
        std::vector<int> cond, int hidden, int stage, int block) {
    Op op;
    op.kind = OpKind::Conv;
    op.name = name;
    op.inputs = {input};
    op.in = in;
    op.out = out;
    op.kernel = kernel;
    op.stride = stride;
    op.act = act;
    op.condition = std::move(cond);
    op.hidden = hidden;
    op.stage = stage;
    op.block = block;
    return op;
}

// Global average pooling and the classifier; the classifier's input width may be a gene.
void addHead(ArchSpec& arch, int x, Width width) {
    Op pool;
    pool.kind = OpKind::GlobalAvgPool;
    pool.name = "pool";
    pool.inputs = {x};
    pool.in = pool.out = width;
    pool.batchNorm = false;
    arch.ops.push_back(pool);
    Op fc;
    fc.kind = OpKind::Linear;
    fc.name = "classifier";
    fc.inputs = {int(arch.ops.size())};
    fc.in = width;
    fc.out = fixedWidth(arch.classes);
    fc.batchNorm = false;
    arch.ops.push_back(fc);
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
    int x = add(conv("stem", 0, fixedWidth(arch.inChannels), geneWidth(0), 3, stemStride, Activation::ReLU, {0}, 32, 0, 0));
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
        Op dw = conv(name + ".depthwise", x, in, in, 3, blocks[b].stride, Activation::ReLU, cond, 32, int(b + 1), int(b + 1));
        dw.depthwise = true;
        x = add(dw);
        x = add(conv(name + ".pointwise", x, in, out, 1, 1, Activation::ReLU, cond, 32, int(b + 1), int(b + 1)));
        in = out;
    }
    addHead(arch, x, in);
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
    int x = add(conv("stem", 0, fixedWidth(arch.inChannels), geneWidth(0), stemKernel, stemStride, Activation::ReLU,
                     {0}, 32, 0, 0));
    if (maxPool) {
        Op pool;
        pool.kind = OpKind::MaxPool;
        pool.name = "stem.maxpool";
        pool.inputs = {x};
        pool.in = pool.out = geneWidth(0);
        pool.kernel = 3;
        pool.stride = 2;
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
                x = add(conv(b + ".conv1", x, geneWidth(inGene), geneWidth(midGene), 1, 1, Activation::ReLU, cond, 32, st, block));
                x = add(conv(b + ".conv2", x, geneWidth(midGene), geneWidth(midGene), 3, stride, Activation::ReLU, cond, 32, st, block));
                x = add(conv(b + ".conv3", x, geneWidth(midGene), geneWidth(outGene), 1, 1, Activation::None, cond, 32, st, block));
            } else {
                x = add(conv(b + ".conv1", x, geneWidth(inGene), geneWidth(midGene), 3, stride, Activation::ReLU, cond, 32, st, block));
                x = add(conv(b + ".conv2", x, geneWidth(midGene), geneWidth(outGene), 3, 1, Activation::None, cond, 32, st, block));
            }
            int shortcut = blockInput;
            if (r == 0) // the stage's projection shortcut carries the stage gene too
                shortcut = add(conv(b + ".shortcut", blockInput, geneWidth(inGene), geneWidth(outGene), 1, stride,
                                    Activation::None, cond, 32, st, block));
            Op sum;
            sum.kind = OpKind::Add;
            sum.name = b + ".add";
            sum.inputs = {shortcut, x};
            sum.in = sum.out = geneWidth(outGene);
            sum.act = Activation::ReLU;
            sum.batchNorm = false;
            sum.stage = st;
            sum.block = block;
            x = add(sum);
            inGene = outGene;
        }
    }
    addHead(arch, x, geneWidth(inGene));
    return arch;
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
        c[g] = grid::channels(arch.genes[g].maxChannels, enc[g]);
    return c;
}

int widthChannels(const ArchSpec& arch, const Width& w, const Encoding& enc) {
    if (w.gene < 0)
        return w.fixed;
    return grid::channels(arch.genes.at(size_t(w.gene)).maxChannels, enc.at(size_t(w.gene)));
}

std::vector<LayerShape> layerShapes(const ArchSpec& arch, const Encoding& enc) {
    validateEncoding(arch, enc);
    // Spatial size of every value; value 0 is the input.
    std::vector<std::pair<int, int>> hw(arch.ops.size() + 1);
    hw[0] = {arch.inHeight, arch.inWidth};
    std::vector<LayerShape> shapes;
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        const auto [h, w] = hw[size_t(op.inputs.at(0))];
        switch (op.kind) {
        case OpKind::Conv: {
            LayerShape s;
            s.op = int(i);
            s.inChannels = widthChannels(arch, op.in, enc);
            s.outChannels = op.depthwise ? s.inChannels : widthChannels(arch, op.out, enc);
            s.groups = op.depthwise ? s.inChannels : 1;
            s.kernel = op.kernel;
            s.stride = op.stride;
            s.inHeight = h;
            s.inWidth = w;
            s.outHeight = convOut(h, op.kernel, op.stride);
            s.outWidth = convOut(w, op.kernel, op.stride);
            const int64_t perOut = int64_t(op.kernel) * op.kernel * (s.inChannels / s.groups);
            s.params = perOut * s.outChannels;
            s.macs = s.params * s.outHeight * s.outWidth;
            shapes.push_back(s);
            hw[i + 1] = {s.outHeight, s.outWidth};
            break;
        }
        case OpKind::Linear: {
            LayerShape s;
            s.op = int(i);
            s.inChannels = widthChannels(arch, op.in, enc);
            s.outChannels = widthChannels(arch, op.out, enc);
            s.inHeight = s.inWidth = s.outHeight = s.outWidth = 1;
            s.macs = int64_t(s.inChannels) * s.outChannels;
            s.params = s.macs + s.outChannels;
            shapes.push_back(s);
            hw[i + 1] = {1, 1};
            break;
        }
        case OpKind::GlobalAvgPool:
            hw[i + 1] = {1, 1};
            break;
        case OpKind::MaxPool:
            hw[i + 1] = {convOut(h, op.kernel, op.stride), convOut(w, op.kernel, op.stride)};
            break;
        case OpKind::Add:
            hw[i + 1] = {h, w};
            break;
        }
    }
    return shapes;
}

int64_t countMacs(const ArchSpec& arch, const Encoding& enc) {
    int64_t total = 0;
    for (const LayerShape& s : layerShapes(arch, enc))
        total += s.macs;
    return total;
}

int64_t countParams(const ArchSpec& arch, const Encoding& enc) {
    int64_t total = 0;
    for (const LayerShape& s : layerShapes(arch, enc))
        total += s.params;
    return total;
}

Encoding canonicalEncoding(const ArchSpec& arch, const Encoding& enc) {
    validateEncoding(arch, enc);
    Encoding out(enc.size());
    for (size_t g = 0; g < enc.size(); ++g) {
        const int maxC = arch.genes[g].maxChannels;
        const int c = grid::channels(maxC, enc[g]);
        int i = enc[g];
        while (i > 0 && grid::channels(maxC, i - 1) == c)
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
