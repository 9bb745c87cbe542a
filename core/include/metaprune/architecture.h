#pragma once
// The single architecture description (design.md example 6): genes, the channel-scale grid,
// the tying of widths that must stay equal, and the op graph. The PruningNet, the MACs/params
// counter, the latency table, the exporters, the store and the views all read widths from here,
// so widths can never round differently in two code paths. A built-in family, an architecture
// file (.arch.json) and an imported ONNX model all become this same description.
// Torch-free on purpose: the GUI includes it.

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mp {

/// Channel-scale grid of the reference code (metapruning.md, "Encoding"):
/// scale_i = (10 + 3 i) / 100 for i = 0..30, channels = floor(max_channels * scale_i).
namespace grid {
constexpr int kSize = 31;
/// Nominal scale of grid index `index` (0.10 .. 1.00). Throws std::out_of_range.
double scale(int index);
/// floor(maxChannels * (10 + 3 index) / 100) in integer arithmetic, at least 1 channel: the
/// grid's rule alone. A gene's channel count is geneChannelsAt() (whole groups of a grouped
/// conv), which every count the product builds or shows goes through. Throws
/// std::out_of_range for an index outside 0..30.
int channels(int maxChannels, int index);
} // namespace grid

/// An architecture description that is malformed or inconsistent (unknown op, a width tied to a
/// missing gene, shapes that do not chain, a cycle, an Add whose inputs cannot have equal
/// width). The message names the op and what is wrong.
class ArchError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// Stage genes set the output width shared by every block of a stage (the residual adds tie
/// them: this is how shortcut channels get pruned); mid genes set one block's expansion width.
enum class GeneKind { Stage, Mid };

/// One entry of the network encoding vector.
struct Gene {
    std::string name; ///< "stage3", "block5.mid", "layer1.0.conv1"
    GeneKind kind = GeneKind::Stage;
    int maxChannels = 0; ///< width at scale 1.0
    int stage = 0;       ///< stage this gene belongs to (0 = stem), for grouping in views
    /// Channels come in whole multiples of this (a grouped conv keeps a whole number of
    /// channels per group): channels = max(quantum, floor(grid channels / quantum) * quantum).
    int quantum = 1;
};

/// The channel count of `gene` at grid index `index` (quantum applied). Throws std::out_of_range.
int geneChannelsAt(const Gene& gene, int index);

/// Conv: a 2-D convolution (dense, depthwise or grouped), followed by batch norm (no affine
/// parameters, as the reference PruningNet) or a bias, then its activation.
/// Linear: a fully connected layer on the flattened input (C x H x W features).
/// Add, Mul: elementwise over equally wide inputs (Mul broadcasts a 1x1 gate, as SE blocks do).
/// Concat: joins its inputs along channels. Act: a standalone activation.
/// BatchNorm: a batch norm that does not directly follow a conv (pre-activation blocks, after a
/// Concat as in DenseNet), then its activation; its channels are its input's, each part of a
/// concatenation following its own gene.
/// Pad: constant spatial padding of padH rows above and below, padW columns left and right,
/// with padValue (a zero Pad before DenseNet's and Inception's average pools).
enum class OpKind { Conv, Linear, Add, Mul, Concat, GlobalAvgPool, MaxPool, AvgPool, Act, BatchNorm, Pad };

/// HardSigmoid is relu6(x + 3) / 6, HardSwish x * HardSigmoid(x), SiLU x * sigmoid(x): the
/// definitions torchvision's models use.
enum class Activation { None, ReLU, ReLU6, Sigmoid, HardSigmoid, HardSwish, SiLU };

/// "conv", "relu6", ... and back; the parsers throw ArchError naming the text.
std::string opKindName(OpKind kind);
OpKind parseOpKind(const std::string& name);
std::string activationName(Activation act);
Activation parseActivation(const std::string& name);

/// A channel count: from a gene of the encoding, or fixed (data channels, classes, a layer kept
/// whole). A fixed width of kClassesWidth means "the number of classes" and follows the data.
struct Width {
    int gene = -1; ///< index into ArchSpec::genes, or -1 for a fixed width
    int fixed = 0; ///< used when gene < 0
    bool operator==(const Width& o) const { return gene == o.gene && (gene >= 0 || fixed == o.fixed); }
    bool operator!=(const Width& o) const { return !(*this == o); }
};

/// One operation of the graph. Values are numbered: value 0 is the input image batch, value
/// k+1 is the output of op k; an op reads only values made before it (no cycles).
struct Op {
    OpKind kind = OpKind::Conv;
    std::string name;        ///< "block3.expand"
    std::vector<int> inputs; ///< value ids consumed (Add, Mul: two; Concat: two or more; others: one)
    /// Output width of a dense Conv or a Linear. Every other op's channels follow its inputs:
    /// a depthwise or grouped conv keeps its input's, Concat sums them.
    Width out;
    /// Conv only: 0 dense (groups 1), 1 depthwise (groups = channels), g > 1 grouped with g
    /// channels per group (groups = channels / g; the gene's quantum keeps it whole).
    int groupWidth = 0;
    int kernelH = 1, kernelW = 1; ///< Conv and pools
    int strideH = 1, strideW = 1;
    int padH = 0, padW = 0; ///< zero padding on each side (Pad: padValue padding)
    float padValue = 0;     ///< Pad: the value of the added pixels
    int dilation = 1;       ///< Conv
    bool ceilMode = false;  ///< MaxPool, AvgPool: output size rounds up
    bool countIncludePad = true; ///< AvgPool: padded zeros count in the average
    /// Conv: batch norm after the conv (no affine parameters in the PruningNet; affine when
    /// retrained) or, when false, a learned bias (SE gates, classifier convs). Always true for
    /// a BatchNorm op, false for the other kinds.
    bool batchNorm = true;
    Activation act = Activation::None;
    /// Genes whose channel ratio (channels / max channels) is fed to this conv's weight
    /// generator MLP, e.g. [mid, in, out] for a MobileNetV2 block (reference design). Empty:
    /// the generator sees a constant input.
    std::vector<int> condition;
    int hidden = 32; ///< hidden width of the generator MLP
    int stage = -1;  ///< stage index, for grouping in views
    int block = -1;  ///< block index (0 = stem), for grouping in views

    bool depthwise() const { return kind == OpKind::Conv && groupWidth == 1; }
    /// A conv whose output channels follow its input (depthwise or grouped).
    bool followsInput() const { return kind == OpKind::Conv && groupWidth > 0; }
};

/// A whole searchable architecture: genes + ops + the input it was sized for.
struct ArchSpec {
    std::string family; ///< "mobilenetv2", "mobilenetv1", "resnet", or the imported model's name
    std::string preset; ///< "small", "paper", or "file" for a description read from a file
    int inChannels = 3;
    int inHeight = 224;
    int inWidth = 224;
    int classes = 1000;
    std::vector<Gene> genes;
    std::vector<Op> ops;
    /// The input normalisation a trained model expects, per input channel (or one value for
    /// all), on pixels scaled to 0..1: x' = (x - mean) / std. Empty: computed from the training
    /// data, as for a PruningNet trained from scratch.
    std::vector<float> inputMean, inputStd;
    /// The ONNX file holding the trained weights of an imported model, and its SHA-256 (hex);
    /// empty for a description without trained weights.
    std::string weightsFile, weightsSha256;
};

/// The number-of-classes marker for Width::fixed (the classifier's output follows the data).
constexpr int kClassesWidth = -1;

/// One scale-grid index per gene (the paper's network encoding vector).
using Encoding = std::vector<int>;

/// A run of channels [begin, begin + count) in a value's full-width channel layout.
struct ChannelRange {
    int begin = 0;
    int count = 0;
    bool operator==(const ChannelRange& o) const { return begin == o.begin && count == o.count; }
};

/// Channel layout and spatial size of one value at full width: the concatenation of
/// `segments` (one for most values, several after a Concat).
struct ValueShape {
    std::vector<Width> segments;
    int maxChannels = 0; ///< channels at full width (the sum over segments)
    int height = 1, width = 1;
};

/// Checks the description and returns the full-width shape of every value (index = value id).
/// Throws ArchError naming the op: inputs that are not earlier values (a cycle or a dangling
/// reference), a width tied to a missing gene, a gene with no max channels, an Add/Mul whose
/// inputs cannot have equal widths, a Concat of different spatial sizes, a grouped conv over a
/// width its gene's quantum does not keep whole, a spatial size that reaches 0, a Linear after
/// anything but a 4-D map, a conv condition naming a missing gene.
std::vector<ValueShape> analyzeArchitecture(const ArchSpec& arch);

/// Shape of one Conv or Linear op under an encoding.
struct LayerShape {
    int op = 0; ///< index into ArchSpec::ops
    int inChannels = 0, outChannels = 0, groups = 1;
    int kernelH = 1, kernelW = 1, strideH = 1, strideW = 1;
    int inHeight = 1, inWidth = 1, outHeight = 1, outWidth = 1;
    /// Channels read and written, as ranges of the full-width layouts (a Concat's input has
    /// one range per segment; a Linear's input ranges count flattened features).
    std::vector<ChannelRange> inRanges, outRanges;
    int64_t macs = 0;   ///< multiply-accumulates of this layer for one image
    int64_t params = 0; ///< weights (+ bias for Linear and bias convs)
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

/// The same description for other input channels, size and classes (the data's). Throws
/// ArchError when the graph flattens a spatial map into a Linear (VGG's classifier): then the
/// size is fixed, and the message names the size the description expects.
ArchSpec resizeArchitecture(const ArchSpec& arch, int inChannels, int inHeight, int inWidth, int classes);

/// Throws std::invalid_argument naming the gene when `enc` has the wrong length or an index
/// outside 0..30.
void validateEncoding(const ArchSpec& arch, const Encoding& enc);

/// Channel count of every gene under `enc`.
std::vector<int> geneChannels(const ArchSpec& arch, const Encoding& enc);

/// Channel count of a Width under `enc`.
int widthChannels(const ArchSpec& arch, const Width& w, const Encoding& enc);

/// Channels of a value under `enc`, and where they lie in its full-width layout.
int valueChannels(const ArchSpec& arch, const ValueShape& v, const Encoding& enc);
std::vector<ChannelRange> valueRanges(const ArchSpec& arch, const ValueShape& v, const Encoding& enc);

/// Shapes, MACs and params of every Conv/Linear op (in op order). Convention: conv MACs =
/// Hout*Wout*kh*kw*(Cin/groups)*Cout (depthwise: Hout*Wout*kh*kw*C), linear MACs = in*out;
/// BN, activations, adds, muls, concatenations and pooling count 0.
std::vector<LayerShape> layerShapes(const ArchSpec& arch, const Encoding& enc);
/// The same with the shapes of analyzeArchitecture(arch), for callers that hold them.
std::vector<LayerShape> layerShapes(const ArchSpec& arch, const std::vector<ValueShape>& values,
                                    const Encoding& enc);

/// Multiply-accumulates for one image (the paper's "FLOPs"), convention of layerShapes().
int64_t countMacs(const ArchSpec& arch, const Encoding& enc);
/// The same with the shapes of analyzeArchitecture(arch): the search counts thousands of
/// encodings, and analysing the graph each time dominated its cost.
int64_t countMacs(const ArchSpec& arch, const std::vector<ValueShape>& values, const Encoding& enc);

/// Learnable parameters of the pruned network: conv weights (+ biases of bias convs),
/// linear weights and biases. BN has no affine parameters in these PruningNets.
int64_t countParams(const ArchSpec& arch, const Encoding& enc);
int64_t countParams(const ArchSpec& arch, const std::vector<ValueShape>& values, const Encoding& enc);

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

/// The architecture file format (README, "Architecture files"): a versioned JSON document
/// ("format": "metaprune-arch", "version": 1) holding the input shape, classes, genes and ops.
/// toArchitectureJson() writes it (stable key order, indented); architectureFromJson() reads
/// and checks it (analyzeArchitecture), throwing ArchError that names the op or field at fault.
std::string toArchitectureJson(const ArchSpec& arch);
ArchSpec architectureFromJson(const std::string& json);
/// Reads an architecture file. Throws ArchError naming the file.
ArchSpec readArchitectureFile(const std::string& path);

} // namespace mp
