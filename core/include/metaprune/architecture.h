#pragma once
// The single architecture description (design.md example 6): genes, the channel-scale grid,
// stage tying and the op list. The PruningNet, the MACs/params counter, the store and the
// views all read widths from here, so widths can never round differently in two code paths.
// Torch-free on purpose: the GUI includes it.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace mp {

/// Channel-scale grid of the reference code (metapruning.md, "Encoding"):
/// scale_i = (10 + 3 i) / 100 for i = 0..30, channels = floor(max_channels * scale_i).
namespace grid {
constexpr int kSize = 31;
/// Nominal scale of grid index `index` (0.10 .. 1.00). Throws std::out_of_range.
double scale(int index);
/// floor(maxChannels * (10 + 3 index) / 100) in integer arithmetic, at least 1 channel.
/// Throws std::out_of_range for an index outside 0..30.
int channels(int maxChannels, int index);
} // namespace grid

/// Stage genes set the output width shared by every block of a stage (the residual adds tie
/// them: this is how shortcut channels get pruned); mid genes set one block's expansion width.
enum class GeneKind { Stage, Mid };

/// One entry of the network encoding vector.
struct Gene {
    std::string name; ///< "stage3", "block5.mid"
    GeneKind kind = GeneKind::Stage;
    int maxChannels = 0; ///< width at scale 1.0
    int stage = 0;       ///< stage this gene belongs to (0 = stem)
};

/// MaxPool is the ResNet stem's 3x3 stride-2 pooling (padding 1).
enum class OpKind { Conv, Add, GlobalAvgPool, Linear, MaxPool };
enum class Activation { None, ReLU, ReLU6 };

/// A channel count: from a gene of the encoding, or fixed (data channels, classes, last conv).
struct Width {
    int gene = -1; ///< index into ArchSpec::genes, or -1 for a fixed width
    int fixed = 0; ///< used when gene < 0
};

/// One operation of the backbone. Values are numbered: value 0 is the input image batch,
/// value k+1 is the output of op k.
struct Op {
    OpKind kind = OpKind::Conv;
    std::string name;        ///< "block3.expand"
    std::vector<int> inputs; ///< value ids consumed (Add: two, others: one)
    Width in, out;           ///< channel counts (Conv, Linear); Add/Pool keep their input's
    int kernel = 1;
    int stride = 1;
    bool depthwise = false; ///< groups = pruned width, weight [C, 1, k, k]
    bool batchNorm = true;  ///< BN without affine parameters, as in the reference PruningNet
    Activation act = Activation::None;
    /// Genes whose channel ratio (channels / max channels) is fed to this conv's weight
    /// generator MLP, e.g. [mid, in, out] for a MobileNetV2 block (reference design).
    std::vector<int> condition;
    int hidden = 32; ///< hidden width of the generator MLP
    int stage = -1;  ///< stage index, for grouping in views
    int block = -1;  ///< block index (0 = stem), for grouping in views
};

/// A whole searchable architecture: genes + ops + the input it was sized for.
struct ArchSpec {
    std::string family; ///< "mobilenetv2", "mobilenetv1", "resnet"
    std::string preset; ///< "small", "paper"
    int inChannels = 3;
    int inHeight = 224;
    int inWidth = 224;
    int classes = 1000;
    std::vector<Gene> genes;
    std::vector<Op> ops;
};

/// One scale-grid index per gene (the paper's network encoding vector).
using Encoding = std::vector<int>;

/// Shape of one Conv or Linear op under an encoding.
struct LayerShape {
    int op = 0; ///< index into ArchSpec::ops
    int inChannels = 0, outChannels = 0, groups = 1, kernel = 1, stride = 1;
    int inHeight = 1, inWidth = 1, outHeight = 1, outWidth = 1;
    int64_t macs = 0;   ///< multiply-accumulates of this layer for one image
    int64_t params = 0; ///< weights (+ bias for Linear)
};

/// Names of the families and their presets, e.g. {"mobilenetv2", {"small", "paper"}}.
std::vector<std::pair<std::string, std::vector<std::string>>> availableArchitectures();

/// Builds an architecture. `paper` presets are the reference widths: MobileNetV2 1.4x with a
/// 1280-wide last conv, MobileNetV1 1.0x, ResNet-50 (bottleneck blocks, 7x7 stem and max pool).
/// `small` presets are sized for 28x28 / 32x32 data: a MobileNetV2 and a MobileNetV1 of about
/// 4.5 M MACs, and the CIFAR ResNet-20 (basic blocks, widths 16/32/64). Input channels,
/// spatial size and classes follow the data. Throws std::invalid_argument for an unknown
/// family/preset or a non-positive size.
ArchSpec makeArchitecture(const std::string& family, const std::string& preset, int inChannels,
                          int inHeight, int inWidth, int classes);

/// Throws std::invalid_argument naming the gene when `enc` has the wrong length or an index
/// outside 0..30.
void validateEncoding(const ArchSpec& arch, const Encoding& enc);

/// Channel count of every gene under `enc`.
std::vector<int> geneChannels(const ArchSpec& arch, const Encoding& enc);

/// Channel count of a Width under `enc`.
int widthChannels(const ArchSpec& arch, const Width& w, const Encoding& enc);

/// Shapes, MACs and params of every Conv/Linear op (in op order), walking spatial sizes from
/// the input. Convention: conv MACs = Hout*Wout*k*k*(Cin/groups)*Cout (depthwise:
/// Hout*Wout*k*k*C), linear MACs = in*out; BN, activations, adds and pooling count 0.
std::vector<LayerShape> layerShapes(const ArchSpec& arch, const Encoding& enc);

/// Multiply-accumulates for one image (the paper's "FLOPs"), convention of layerShapes().
int64_t countMacs(const ArchSpec& arch, const Encoding& enc);

/// Learnable parameters of the pruned network: conv weights, classifier weight and bias.
/// BN has no affine parameters in these PruningNets.
int64_t countParams(const ArchSpec& arch, const Encoding& enc);

/// Maps each gene to the smallest grid index giving the same channel count, so that two
/// encodings of the same pruned network compare equal (the store's cache key).
Encoding canonicalEncoding(const ArchSpec& arch, const Encoding& enc);

/// Every gene at grid index `index` (the uniform width-multiplier network).
Encoding uniformEncoding(const ArchSpec& arch, int index);

/// A uniformly random encoding (each gene independently over the grid).
Encoding randomEncoding(const ArchSpec& arch, std::mt19937_64& rng);

/// "12,30,5" style text of an encoding; parseEncoding() reads it back (spaces allowed) and
/// validates it against `arch`, throwing std::invalid_argument on bad text.
std::string encodingToString(const Encoding& enc);
Encoding parseEncoding(const ArchSpec& arch, const std::string& text);

/// Comma-separated channel counts of every gene, e.g. "44,22,33,...".
std::string channelsToString(const std::vector<int>& channels);

} // namespace mp
