// ONNX import: an ONNX CNN graph -> the architecture description (onnx_import.h). Compiled in
// the ONNX object library, apart from the torch sources (core/CMakeLists.txt).
#include "metaprune/onnx_import.h"

#include <QCryptographicHash>

#include "export_names.h"
#include "metaprune/training.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <set>

namespace mp {

namespace {

const char* const kSupported[] = {"Conv",       "BatchNormalization", "Relu",    "Clip",          "HardSigmoid",
                                  "HardSwish",  "Sigmoid",            "Mul",     "Add",           "Concat",
                                  "MaxPool",    "AveragePool",        "GlobalAveragePool", "ReduceMean",
                                  "Flatten",    "Reshape",            "Gemm",    "MatMul",        "Dropout",
                                  "Identity",   "Constant",           "Pad"};

/// What an unsupported op type usually means, for the message.
std::string hint(const std::string& type) {
    if (type == "Transpose")
        return "channel shuffle or a layout change";
    if (type == "Shape" || type == "Gather" || type == "Unsqueeze" || type == "Slice" || type == "Expand")
        return "shapes computed inside the graph";
    if (type == "Softmax" || type == "MatMul" || type == "Einsum")
        return "attention";
    if (type == "Resize" || type == "Upsample" || type == "ConvTranspose")
        return "upsampling";
    return "";
}

int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }

/// Channel sets joined by the ties the graph imposes.
class UnionFind {
public:
    int make(int maxChannels) {
        parent_.push_back(int(parent_.size()));
        max_.push_back(maxChannels);
        return int(parent_.size()) - 1;
    }
    int find(int s) {
        while (parent_[size_t(s)] != s)
            s = parent_[size_t(s)] = parent_[size_t(parent_[size_t(s)])];
        return s;
    }
    /// Returns false when the sets hold different numbers of channels (they cannot be equal).
    bool join(int a, int b) {
        a = find(a);
        b = find(b);
        if (a == b)
            return true;
        if (max_[size_t(a)] != max_[size_t(b)])
            return false;
        parent_[size_t(std::max(a, b))] = std::min(a, b); // the earlier set names the group
        return true;
    }
    int maxChannels(int s) { return max_[size_t(find(s))]; }

private:
    std::vector<int> parent_, max_;
};

/// One of our values while importing: its channel layout as sets, and what made it.
struct Value {
    std::vector<int> sets;
    bool pooled = false; ///< a 1x1 map after a global pool (SE gates, pooled classifier heads)
};

struct PendingOp {
    Op op;
    int outSet = -1;      ///< Conv (dense) / Linear: the set of its output channels
    int features = -1;    ///< Linear: input features the weight expects
    std::string onnxName; ///< for messages
    /// The trained tensors of this op (read only when the caller asks for the weights).
    NetworkTensor weight, bias, bnScale, bnShift, bnMean, bnVar;
    float bnEps = 1e-5f;
};

class Importer {
public:
    Importer(const onnx::ModelProto& model, std::string file, ImportReport& report, TrainedWeights* weights)
        : g_(model.graph()), file_(std::move(file)), report_(report), weights_(weights) {}

    ArchSpec run();
    /// The external data files read so far (normalised paths): part of the weights' fingerprint.
    const std::set<std::string>& externalFiles() const { return externalFiles_; }

private:
    [[noreturn]] void fail(const onnx::NodeProto& n, const std::string& what) const {
        throw ArchError(file_ + ": node '" + n.name() + "' (" + n.op_type() + "): " + what);
    }

    const onnx::TensorProto* constant(const std::string& name) const {
        const auto it = consts_.find(name);
        return it == consts_.end() ? nullptr : it->second;
    }
    /// The raw little-endian bytes of a tensor, from the model or from its external data file.
    /// Throws ArchError naming the tensor and the file when the file is missing or too short.
    std::string rawBytes(const onnx::TensorProto& t) const;
    /// A FLOAT, DOUBLE or INT64 tensor's values as floats (other types: empty).
    std::vector<float> floats(const onnx::TensorProto& t) const;
    /// The trained tensor `name` that node `n` reads, checked: present (an initializer or a
    /// constant), float, holding as many values as its dims say, of shape `shape` (its dims
    /// flattened to that shape when they hold the same count: a bias stored as [1, C]), and
    /// finite. Throws ArchError naming the tensor and the node otherwise.
    NetworkTensor weightTensor(const onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& shape,
                               const char* role) const;
    /// Reads the trained tensors only when the caller asked for them.
    bool wantWeights() const { return weights_ != nullptr; }
    /// The four BatchNormalization inputs of `n` for `channels` channels into `p`.
    void readBatchNorm(const onnx::NodeProto& n, int channels, PendingOp& p) const;
    const onnx::AttributeProto* attribute(const onnx::NodeProto& n, const char* name) const {
        for (const onnx::AttributeProto& a : n.attribute())
            if (a.name() == name)
                return &a;
        return nullptr;
    }
    int64_t intAttr(const onnx::NodeProto& n, const char* name, int64_t fallback) const {
        const onnx::AttributeProto* a = attribute(n, name);
        return a ? a->i() : fallback;
    }
    float floatAttr(const onnx::NodeProto& n, const char* name, float fallback) const {
        const onnx::AttributeProto* a = attribute(n, name);
        return a ? a->f() : fallback;
    }
    std::vector<int64_t> intsAttr(const onnx::NodeProto& n, const char* name) const {
        const onnx::AttributeProto* a = attribute(n, name);
        return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
    }

    /// Our value an ONNX tensor holds; refuses constants and unknown names.
    int valueOf(const onnx::NodeProto& n, const std::string& tensor) const {
        return value(n, tensor, false);
    }
    /// The same for a reader of maps: refuses a flattened [N, features] tensor.
    int mapOf(const onnx::NodeProto& n, const std::string& tensor) const { return value(n, tensor, true); }
    int value(const onnx::NodeProto& n, const std::string& tensor, bool map) const {
        if (map && flat(tensor))
            fail(n, "reads the flattened tensor '" + tensor + "' as a map");
        const auto it = values_.find(tensor);
        if (it == values_.end())
            fail(n, constant(tensor) ? "reads the constant '" + tensor + "' as data, which a pruned network cannot do"
                                     : "reads '" + tensor + "', which no earlier node makes");
        return it->second;
    }
    std::string opName(const onnx::NodeProto& n);
    /// A new op of `kind` for node `n`, reading `inputs`: named after the node, batch norm only
    /// for a Conv or a BatchNorm.
    PendingOp pending(const onnx::NodeProto& n, OpKind kind, std::vector<int> inputs) {
        PendingOp p;
        p.op.kind = kind;
        p.op.name = opName(n);
        p.op.inputs = std::move(inputs);
        p.op.batchNorm = kind == OpKind::Conv || kind == OpKind::BatchNorm;
        p.onnxName = n.name();
        return p;
    }
    int addOp(PendingOp op, const Value& value, const std::string& tensor);
    /// Applies `act` to the value of `tensor`: fused into its op when every reader of the tensor
    /// belongs to this activation (`pattern`), else a standalone Act op. Returns the value.
    int activation(const onnx::NodeProto& n, const std::string& tensor, Activation act,
                   const std::set<const onnx::NodeProto*>& pattern);
    void conv(const onnx::NodeProto& n);
    void pool(const onnx::NodeProto& n, OpKind kind);
    /// A constant spatial Pad: a Pad op, or nothing when every pad is 0.
    void pad(const onnx::NodeProto& n);
    void linear(const onnx::NodeProto& n, const onnx::TensorProto& weight, bool transposed, const std::string& out);
    bool tie(const std::vector<int>& a, const std::vector<int>& b);

    const onnx::GraphProto& g_;
    std::string file_;
    ImportReport& report_;
    TrainedWeights* weights_;
    std::map<std::string, const onnx::TensorProto*> consts_;
    std::map<std::string, std::vector<const onnx::NodeProto*>> readers_;
    std::map<std::string, int> values_; // ONNX tensor -> our value id
    std::set<std::string> flat_;        // tensors of shape [N, features]: Flatten and Reshape outputs
    std::set<int> flatValues_;          // values of shape [N, features]: Linear outputs and their activations
    bool flat(const std::string& tensor) const {
        const auto it = values_.find(tensor);
        return flat_.count(tensor) || (it != values_.end() && flatValues_.count(it->second));
    }
    std::vector<Value> vals_;          // our values, 0 = input
    std::vector<PendingOp> ops_;
    std::set<const onnx::NodeProto*> skip_; // gates of Mul(x, Sigmoid(x)) and the like, handled with their Mul
    std::set<std::string> names_; // exported forms of the op names given so far
    std::set<int> tied_; // sets joined by an Add or Mul (stage genes)
    mutable std::set<std::string> externalFiles_;
    UnionFind sets_;
    int inputSet_ = -1;
    int height_ = 0, width_ = 0;
};

std::string Importer::rawBytes(const onnx::TensorProto& t) const {
    if (t.data_location() != onnx::TensorProto::EXTERNAL)
        return t.raw_data();
    // External data (ONNX's external-data format): "location" relative to the model's folder,
    // optional "offset" and "length" in bytes.
    std::string location;
    int64_t offset = 0, length = -1;
    for (const onnx::StringStringEntryProto& e : t.external_data()) {
        if (e.key() == "location")
            location = e.value();
        else if (e.key() == "offset")
            offset = std::stoll(e.value());
        else if (e.key() == "length")
            length = std::stoll(e.value());
    }
    const std::string where = "tensor '" + t.name() + "'";
    if (location.empty())
        throw ArchError(file_ + ": " + where + " is stored as external data without a location");
    // The ONNX external-data format keeps data in the model's folder: no absolute path, no "..".
    const std::filesystem::path rel(location);
    if (rel.is_absolute() || std::any_of(rel.begin(), rel.end(), [](const std::filesystem::path& part) {
            return part == "..";
        }))
        throw ArchError(file_ + ": " + where + " is stored at '" + location +
                        "', outside the model's folder (external data must lie in or below it)");
    const std::filesystem::path folder = std::filesystem::path(file_).parent_path();
    const std::filesystem::path path = folder / location;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        // A link may lead out of the folder however the location is spelt: check where it ends.
        const std::filesystem::path real = std::filesystem::canonical(path, ec);
        const std::filesystem::path home = std::filesystem::canonical(folder.empty() ? "." : folder, ec);
        const auto [end, at] = std::mismatch(home.begin(), home.end(), real.begin(), real.end());
        if (!ec && end != home.end())
            throw ArchError(file_ + ": " + where + " is stored at '" + location + "', a link to '" + real.string() +
                            "' outside the model's folder (external data must lie in or below it)");
        if (!std::filesystem::is_regular_file(path, ec))
            throw ArchError(file_ + ": " + where + " is stored in '" + path.string() + "', which is not a file");
    }
    externalFiles_.insert(path.lexically_normal().string());
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ArchError(file_ + ": " + where + " is stored in '" + path.string() + "', which " +
                        (std::filesystem::exists(path) ? "cannot be read (" + std::string(std::strerror(errno)) + ")"
                                                       : std::string("does not exist")) +
                        " (external data is read from the model's folder)");
    in.seekg(0, std::ios::end);
    const int64_t size = in.tellg();
    if (length < 0)
        length = size - offset;
    if (offset < 0 || length < 0 || offset + length > size)
        throw ArchError(file_ + ": " + where + " wants bytes " + std::to_string(offset) + ".." +
                        std::to_string(offset + length) + " of '" + path.string() + "', which holds " +
                        std::to_string(size) + " (a truncated external data file?)");
    std::string bytes(size_t(length), '\0');
    in.seekg(offset);
    in.read(bytes.data(), length);
    return bytes;
}

NetworkTensor Importer::weightTensor(const onnx::NodeProto& n, const std::string& name,
                                    const std::vector<int64_t>& shape, const char* role) const {
    const onnx::TensorProto* t = constant(name);
    if (!t)
        fail(n, std::string("its ") + role + " '" + name + "' is missing (neither an initializer nor a constant)");
    if (t->data_type() != onnx::TensorProto::FLOAT && t->data_type() != onnx::TensorProto::DOUBLE)
        fail(n, std::string("its ") + role + " '" + name + "' holds " +
                    onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(t->data_type())) +
                    " values; weights are read as FLOAT or DOUBLE (export in float32)");
    NetworkTensor out;
    out.data = floats(*t);
    int64_t declared = 1;
    std::string dims;
    for (int64_t d : t->dims()) {
        declared *= d;
        dims += (dims.empty() ? "" : "x") + std::to_string(d);
    }
    if (int64_t(out.data.size()) != declared)
        fail(n, std::string("its ") + role + " '" + name + "' declares " + (dims.empty() ? "a scalar" : dims) +
                    " but holds " + std::to_string(out.data.size()) + " values (a truncated tensor?)");
    int64_t wanted = 1;
    std::string want;
    for (int64_t d : shape) {
        wanted *= d;
        want += (want.empty() ? "" : "x") + std::to_string(d);
    }
    if (declared != wanted)
        fail(n, std::string("its ") + role + " '" + name + "' has shape " + dims + ", the layer needs " + want);
    for (size_t i = 0; i < out.data.size(); ++i)
        if (!std::isfinite(out.data[i]))
            fail(n, std::string("its ") + role + " '" + name + "' holds a non-finite value (" +
                        std::to_string(out.data[i]) + " at element " + std::to_string(i) + ")");
    out.shape = shape;
    return out;
}

void Importer::readBatchNorm(const onnx::NodeProto& n, int channels, PendingOp& p) const {
    if (n.input_size() < 5)
        fail(n, "needs scale, bias, mean and variance inputs");
    p.bnScale = weightTensor(n, n.input(1), {channels}, "scale");
    p.bnShift = weightTensor(n, n.input(2), {channels}, "bias");
    p.bnMean = weightTensor(n, n.input(3), {channels}, "running mean");
    p.bnVar = weightTensor(n, n.input(4), {channels}, "running variance");
    for (float v : p.bnVar.data)
        if (v < 0)
            fail(n, "its running variance '" + n.input(4) + "' holds a negative value");
    p.bnEps = floatAttr(n, "epsilon", 1e-5f);
}

std::vector<float> Importer::floats(const onnx::TensorProto& t) const {
    std::vector<float> out;
    const bool raw = t.data_location() == onnx::TensorProto::EXTERNAL || !t.raw_data().empty();
    if (t.data_type() == onnx::TensorProto::DOUBLE) {
        std::vector<double> v;
        if (raw) {
            const std::string bytes = rawBytes(t);
            v.resize(bytes.size() / sizeof(double));
            std::memcpy(v.data(), bytes.data(), v.size() * sizeof(double));
        } else {
            v.assign(t.double_data().begin(), t.double_data().end());
        }
        out.assign(v.begin(), v.end());
    } else if (t.data_type() == onnx::TensorProto::FLOAT) {
        if (raw) {
            const std::string bytes = rawBytes(t);
            out.resize(bytes.size() / sizeof(float));
            std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
        } else {
            out.assign(t.float_data().begin(), t.float_data().end());
        }
    } else if (t.data_type() == onnx::TensorProto::INT64) {
        if (raw) {
            const std::string bytes = rawBytes(t);
            std::vector<int64_t> v(bytes.size() / sizeof(int64_t));
            std::memcpy(v.data(), bytes.data(), v.size() * sizeof(int64_t));
            out.assign(v.begin(), v.end());
        } else {
            out.assign(t.int64_data().begin(), t.int64_data().end());
        }
    }
    return out;
}

std::string Importer::opName(const onnx::NodeProto& n) {
    // torch.onnx names nodes by module scope ("/layer1/layer1.0/conv1/Conv"): rebuild the
    // module path "layer1.0.conv1", as the model's own code names the layer.
    std::vector<std::string> parts;
    size_t at = 0;
    const std::string& s = n.name();
    while (at <= s.size()) {
        const size_t next = s.find('/', at);
        const std::string part = s.substr(at, next == std::string::npos ? std::string::npos : next - at);
        if (!part.empty())
            parts.push_back(part);
        if (next == std::string::npos)
            break;
        at = next + 1;
    }
    std::vector<std::string> path;
    for (size_t i = 0; i + 1 < parts.size(); ++i) { // the last part is the op type
        if (!path.empty() && parts[i].rfind(path.back() + ".", 0) == 0)
            path.back() = parts[i];
        else
            path.push_back(parts[i]);
    }
    std::string name;
    for (const std::string& p : path)
        name += (name.empty() ? "" : ".") + p;
    if (name.empty())
        name = n.name().empty() ? n.op_type() + "_" + std::to_string(ops_.size()) : n.name();
    // Distinct also as exported tensor names (a module called twice, "relu" and "relu_1").
    std::string unique = name;
    for (int k = 1; !names_.insert(detail::exportParamName(unique)).second; ++k)
        unique = name + "_" + std::to_string(k);
    return unique;
}

int Importer::addOp(PendingOp op, const Value& value, const std::string& tensor) {
    ops_.push_back(std::move(op));
    vals_.push_back(value);
    const int id = int(vals_.size()) - 1;
    values_[tensor] = id;
    return id;
}

bool Importer::tie(const std::vector<int>& a, const std::vector<int>& b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (!sets_.join(a[i], b[i]))
            return false;
        tied_.insert(a[i]);
        tied_.insert(b[i]);
    }
    return true;
}

int Importer::activation(const onnx::NodeProto& n, const std::string& tensor, Activation act,
                         const std::set<const onnx::NodeProto*>& pattern) {
    const int v = valueOf(n, tensor);
    bool alone = v > 0;
    for (const onnx::NodeProto* r : readers_[tensor])
        alone = alone && pattern.count(r);
    for (const onnx::ValueInfoProto& o : g_.output())
        alone = alone && o.name() != tensor;
    Op& producer = ops_[size_t(v > 0 ? v - 1 : 0)].op;
    if (alone && producer.act == Activation::None && producer.kind != OpKind::Act) {
        producer.act = act;
        return v;
    }
    PendingOp a = pending(n, OpKind::Act, {v});
    a.op.act = act;
    const int id = addOp(a, vals_[size_t(v)], n.output(0));
    if (flatValues_.count(v))
        flatValues_.insert(id);
    return id;
}

void Importer::conv(const onnx::NodeProto& n) {
    const int in = mapOf(n, n.input(0));
    const Value& x = vals_[size_t(in)];
    const onnx::TensorProto* w = n.input_size() > 1 ? constant(n.input(1)) : nullptr;
    if (!w && n.input_size() > 1 && std::none_of(g_.node().begin(), g_.node().end(),
                                                 [&](const onnx::NodeProto& m) {
                                                     return std::find(m.output().begin(), m.output().end(),
                                                                      n.input(1)) != m.output().end();
                                                 }))
        fail(n, "its weight '" + n.input(1) + "' is missing (neither an initializer nor a constant)");
    if (!w || w->dims_size() != 4)
        fail(n, w ? "its weight '" + n.input(1) + "' has " + std::to_string(w->dims_size()) +
                        " dimensions; a conv's has 4"
                  : std::string("needs a constant 4-D weight (a conv whose weights are computed is not a CNN layer)"));
    if (const std::vector<int64_t> k = intsAttr(n, "kernel_shape");
        !k.empty() && (k.size() != 2 || k[0] != w->dims(2) || k[1] != w->dims(3)))
        fail(n, "its weight '" + n.input(1) + "' has a " + std::to_string(w->dims(2)) + "x" +
                    std::to_string(w->dims(3)) + " kernel, its kernel_shape says " +
                    (k.size() == 2 ? std::to_string(k[0]) + "x" + std::to_string(k[1]) : std::string("otherwise")));
    const std::string autoPad = attribute(n, "auto_pad") ? attribute(n, "auto_pad")->s() : "NOTSET";
    if (autoPad != "NOTSET")
        fail(n, "auto_pad " + autoPad + " is not supported (export with explicit pads)");
    int cin = 0;
    for (int s : x.sets)
        cin += sets_.maxChannels(s);
    const int out = int(w->dims(0)), group = int(intAttr(n, "group", 1));
    PendingOp p = pending(n, OpKind::Conv, {in});
    Op& op = p.op;
    op.kernelH = int(w->dims(2));
    op.kernelW = int(w->dims(3));
    const std::vector<int64_t> strides = intsAttr(n, "strides"), pads = intsAttr(n, "pads"),
                               dil = intsAttr(n, "dilations");
    op.strideH = strides.size() == 2 ? int(strides[0]) : 1;
    op.strideW = strides.size() == 2 ? int(strides[1]) : 1;
    if (pads.size() == 4 && (pads[0] != pads[2] || pads[1] != pads[3]))
        fail(n, "asymmetric padding is not supported");
    op.padH = pads.size() == 4 ? int(pads[0]) : 0;
    op.padW = pads.size() == 4 ? int(pads[1]) : 0;
    if (dil.size() == 2 && dil[0] != dil[1])
        fail(n, "different dilations along height and width are not supported");
    op.dilation = dil.size() == 2 ? int(dil[0]) : 1;
    Value v;
    v.pooled = x.pooled;
    if (int(w->dims(1)) * group != cin)
        fail(n, "its weight '" + n.input(1) + "' reads " + std::to_string(w->dims(1) * group) +
                    " channels, its input has " + std::to_string(cin));
    if (group == 1) {
        p.outSet = sets_.make(out);
        v.sets = {p.outSet};
    } else if (out == cin) {
        op.groupWidth = cin / group; // 1: depthwise
        if (op.groupWidth > 1 && x.sets.size() != 1)
            fail(n, "a grouped conv over a concatenation is not supported");
        v.sets = x.sets;
    } else {
        fail(n, "a grouped conv from " + std::to_string(cin) + " to " + std::to_string(out) +
                    " channels: only grouped and depthwise convs that keep their width can be pruned");
    }
    // SE gates and convs on pooled maps have a bias, not batch norm (a 1x1 map has no spatial
    // statistics); the classifier conv is decided once the output is known.
    op.batchNorm = !x.pooled;
    if (wantWeights()) {
        p.weight = weightTensor(n, n.input(1), {out, w->dims(1), w->dims(2), w->dims(3)}, "weight");
        if (n.input_size() > 2 && !n.input(2).empty())
            p.bias = weightTensor(n, n.input(2), {out}, "bias");
    }
    addOp(p, v, n.output(0));
}

void Importer::pool(const onnx::NodeProto& n, OpKind kind) {
    const int in = mapOf(n, n.input(0));
    const std::string autoPad = attribute(n, "auto_pad") ? attribute(n, "auto_pad")->s() : "NOTSET";
    if (autoPad != "NOTSET")
        fail(n, "auto_pad " + autoPad + " is not supported (export with explicit pads)");
    PendingOp p = pending(n, kind, {in});
    Op& op = p.op;
    const std::vector<int64_t> k = intsAttr(n, "kernel_shape"), strides = intsAttr(n, "strides"),
                               pads = intsAttr(n, "pads"), dil = intsAttr(n, "dilations");
    if (k.size() != 2)
        fail(n, "needs a 2-D kernel_shape");
    for (int64_t d : dil)
        if (d != 1)
            fail(n, "dilated pooling is not supported");
    if (pads.size() == 4 && (pads[0] != pads[2] || pads[1] != pads[3]))
        fail(n, "asymmetric padding is not supported");
    op.kernelH = int(k[0]);
    op.kernelW = int(k[1]);
    op.strideH = strides.size() == 2 ? int(strides[0]) : 1;
    op.strideW = strides.size() == 2 ? int(strides[1]) : 1;
    op.padH = pads.size() == 4 ? int(pads[0]) : 0;
    op.padW = pads.size() == 4 ? int(pads[1]) : 0;
    op.ceilMode = intAttr(n, "ceil_mode", 0) != 0;
    op.countIncludePad = intAttr(n, "count_include_pad", 0) != 0;
    addOp(p, vals_[size_t(in)], n.output(0));
}

void Importer::pad(const onnx::NodeProto& n) {
    const int in = mapOf(n, n.input(0));
    const std::string mode = attribute(n, "mode") ? attribute(n, "mode")->s() : "constant";
    if (mode != "constant")
        fail(n, "only constant padding is supported (this one is '" + mode + "')");
    // Opset 11 and later give pads and the value as inputs, earlier opsets as attributes.
    std::vector<int64_t> pads = intsAttr(n, "pads");
    float value = floatAttr(n, "value", 0.0f);
    if (n.input_size() > 1 && !n.input(1).empty()) {
        const onnx::TensorProto* t = constant(n.input(1));
        if (!t)
            fail(n, "needs constant pads (pads computed inside the graph are not supported)");
        for (float p : floats(*t))
            pads.push_back(int64_t(p));
    }
    if (n.input_size() > 2 && !n.input(2).empty()) {
        const onnx::TensorProto* t = constant(n.input(2));
        const std::vector<float> v = t ? floats(*t) : std::vector<float>{};
        if (v.size() != 1)
            fail(n, "needs a constant pad value");
        value = v[0];
    }
    if (pads.size() != 8)
        fail(n, "needs 8 pads for an [N, C, H, W] map, has " + std::to_string(pads.size()));
    if (pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0)
        fail(n, "pads the batch or the channels; only spatial padding is supported");
    if (pads[2] != pads[6] || pads[3] != pads[7])
        fail(n, "asymmetric padding is not supported");
    if (pads[2] < 0 || pads[3] < 0)
        fail(n, "negative padding (cropping) is not supported");
    if (pads[2] == 0 && pads[3] == 0) { // pads of zeros, as torch.onnx writes before some pools
        values_[n.output(0)] = in;
        ++report_.passThrough;
        return;
    }
    PendingOp p = pending(n, OpKind::Pad, {in});
    p.op.padH = int(pads[2]);
    p.op.padW = int(pads[3]);
    p.op.padValue = value;
    addOp(p, vals_[size_t(in)], n.output(0));
}

void Importer::linear(const onnx::NodeProto& n, const onnx::TensorProto& weight, bool transposed,
                      const std::string& out) {
    const int in = valueOf(n, n.input(0));
    if (!flat(n.input(0)) && !vals_[size_t(in)].pooled)
        fail(n, "reads a map that is neither flattened nor pooled");
    if (weight.dims_size() != 2)
        fail(n, "needs a constant 2-D weight");
    PendingOp p = pending(n, OpKind::Linear, {in});
    p.features = int(weight.dims(transposed ? 1 : 0));
    p.outSet = sets_.make(int(weight.dims(transposed ? 0 : 1)));
    if (wantWeights()) {
        // Stored [out, in] as torch's nn.Linear holds it (Gemm with transB = 0 and MatMul give [in, out]).
        const int64_t outs = weight.dims(transposed ? 0 : 1), ins = p.features;
        NetworkTensor w = weightTensor(n, n.input(1), {weight.dims(0), weight.dims(1)}, "weight");
        if (!transposed) {
            NetworkTensor t;
            t.shape = {outs, ins};
            t.data.resize(w.data.size());
            for (int64_t i = 0; i < ins; ++i)
                for (int64_t o = 0; o < outs; ++o)
                    t.data[size_t(o * ins + i)] = w.data[size_t(i * outs + o)];
            w = std::move(t);
        }
        p.weight = std::move(w);
        if (n.op_type() == "Gemm" && n.input_size() > 2 && !n.input(2).empty())
            p.bias = weightTensor(n, n.input(2), {outs}, "bias");
    }
    Value v;
    v.sets = {p.outSet};
    flatValues_.insert(addOp(p, v, out));
}

ArchSpec Importer::run() {
    for (const onnx::TensorProto& t : g_.initializer())
        consts_[t.name()] = &t;
    for (const onnx::NodeProto& n : g_.node()) {
        for (const std::string& in : n.input())
            readers_[in].push_back(&n);
        if (n.op_type() == "Constant" && n.output_size() == 1)
            if (const onnx::AttributeProto* a = attribute(n, "value"); a && a->has_t())
                consts_[n.output(0)] = &a->t();
        if (n.op_type() == "Identity" && n.input_size() == 1 && consts_.count(n.input(0)))
            consts_[n.output(0)] = consts_[n.input(0)];
    }
    report_.nodes = g_.node_size();

    // Every unsupported node kind, named at its first node, before anything else is read.
    std::map<std::string, std::pair<std::string, int>> unsupported;
    std::vector<std::string> order;
    for (const onnx::NodeProto& n : g_.node()) {
        const bool known =
            std::find_if(std::begin(kSupported), std::end(kSupported), [&](const char* s) { return n.op_type() == s; }) !=
            std::end(kSupported);
        if (known && (n.domain().empty() || n.domain() == "ai.onnx"))
            continue;
        auto [it, fresh] = unsupported.emplace(n.op_type(), std::make_pair(n.name(), 0));
        ++it->second.second;
        if (fresh)
            order.push_back(n.op_type());
    }
    if (!unsupported.empty()) {
        std::string msg = file_ + ": not a graph this tool can prune:";
        // The op that makes the graph unprunable first, then the helpers that feed it.
        auto helper = [](const std::string& t) { return hint(t) == "shapes computed inside the graph"; };
        std::stable_sort(order.begin(), order.end(),
                         [&](const std::string& a, const std::string& b) { return !helper(a) && helper(b); });
        for (const std::string& type : order) {
            const auto& [first, count] = unsupported[type];
            msg += " node '" + first + "' (" + type + (hint(type).empty() ? "" : ": " + hint(type)) +
                   (count > 1 ? ", and " + std::to_string(count - 1) + " more" : "") + ");";
        }
        msg += " supported ops:";
        for (const char* s : kSupported)
            msg += std::string(" ") + s;
        throw ArchError(msg);
    }

    // The image input: the one graph input that is not an initializer, [N, C, H, W] static.
    const onnx::ValueInfoProto* input = nullptr;
    for (const onnx::ValueInfoProto& i : g_.input())
        if (!consts_.count(i.name())) {
            if (input)
                throw ArchError(file_ + ": has several inputs ('" + input->name() + "', '" + i.name() +
                                "'): a classifier reads one image tensor");
            input = &i;
        }
    if (!input)
        throw ArchError(file_ + ": has no input tensor");
    const auto& dims = input->type().tensor_type().shape().dim();
    if (dims.size() != 4 || dims[1].dim_value() <= 0 || dims[2].dim_value() <= 0 || dims[3].dim_value() <= 0)
        throw ArchError(file_ + ": input '" + input->name() +
                        "' must be an image batch [N, C, H, W] with fixed C, H and W (dynamic sizes are not supported)");
    if (g_.output_size() != 1)
        throw ArchError(file_ + ": has " + std::to_string(g_.output_size()) + " outputs; a classifier has one");
    inputSet_ = sets_.make(int(dims[1].dim_value()));
    height_ = int(dims[2].dim_value());
    width_ = int(dims[3].dim_value());
    vals_.push_back(Value{{inputSet_}});
    values_[input->name()] = 0;

    // Mul(x, Sigmoid(x)) is SiLU and Mul(x, HardSigmoid(x)) HardSwish (torch.onnx's opset-13
    // forms): their gates are read together with the Mul.
    std::map<std::string, const onnx::NodeProto*> producer;
    for (const onnx::NodeProto& n : g_.node())
        for (const std::string& o : n.output())
            producer[o] = &n;
    auto swishGate = [&](const onnx::NodeProto& mul, int gateInput) -> const onnx::NodeProto* {
        const auto it = producer.find(mul.input(gateInput));
        if (it == producer.end())
            return nullptr;
        const onnx::NodeProto* gate = it->second;
        const bool kind = gate->op_type() == "Sigmoid" || gate->op_type() == "HardSigmoid";
        if (!kind || gate->input(0) != mul.input(1 - gateInput) || readers_[gate->output(0)].size() != 1)
            return nullptr;
        return gate;
    };
    for (const onnx::NodeProto& n : g_.node())
        if (n.op_type() == "Mul" && n.input_size() == 2)
            for (int k : {1, 0})
                if (const onnx::NodeProto* gate = swishGate(n, k)) {
                    skip_.insert(gate);
                    break;
                }

    for (const onnx::NodeProto& n : g_.node()) {
        if (skip_.count(&n) || n.op_type() == "Constant" ||
            (n.op_type() == "Identity" && consts_.count(n.output(0))))
            continue;
        const std::string& type = n.op_type();
        if (type == "Identity" || type == "Dropout") {
            values_[n.output(0)] = valueOf(n, n.input(0));
            ++report_.passThrough;
        } else if (type == "Flatten" || type == "Reshape") {
            const int v = valueOf(n, n.input(0));
            if (type == "Flatten" && intAttr(n, "axis", 1) != 1)
                fail(n, "only Flatten(axis = 1) before the classifier is supported");
            if (type == "Reshape") {
                const onnx::TensorProto* shape = n.input_size() > 1 ? constant(n.input(1)) : nullptr;
                const std::vector<float> s = shape ? floats(*shape) : std::vector<float>{};
                if (s.size() != 2 || s[1] == 0)
                    fail(n, "only a Reshape to [batch, features] with a constant shape is supported "
                            "(shapes computed inside the graph are not)");
            }
            values_[n.output(0)] = v;
            flat_.insert(n.output(0));
            ++report_.passThrough;
        } else if (type == "Conv") {
            conv(n);
        } else if (type == "BatchNormalization") {
            const int v = mapOf(n, n.input(0));
            const Op* producerOp = v > 0 ? &ops_[size_t(v - 1)].op : nullptr;
            int channels = 0;
            for (int set : vals_[size_t(v)].sets)
                channels += sets_.maxChannels(set);
            if (producerOp && producerOp->kind == OpKind::Conv && producerOp->batchNorm &&
                producerOp->act == Activation::None && readers_[n.input(0)].size() == 1) {
                values_[n.output(0)] = v; // the PruningNet's BN after the conv
                if (wantWeights())
                    readBatchNorm(n, channels, ops_[size_t(v - 1)]);
                ++report_.convBatchNorms;
                continue;
            }
            // Pre-activation (BN -> ReLU -> Conv) or after a Concat (DenseNet): a batch norm of
            // its own over its input's channels.
            PendingOp p = pending(n, OpKind::BatchNorm, {v});
            if (wantWeights())
                readBatchNorm(n, channels, p);
            addOp(p, vals_[size_t(v)], n.output(0));
            ++report_.standaloneBatchNorms;
        } else if (type == "Pad") {
            pad(n);
        } else if (type == "Relu" || type == "Sigmoid" || type == "HardSwish") {
            values_[n.output(0)] = activation(n, n.input(0),
                                              type == "Relu"      ? Activation::ReLU
                                              : type == "Sigmoid" ? Activation::Sigmoid
                                                                  : Activation::HardSwish,
                                              {&n});
        } else if (type == "HardSigmoid") {
            if (std::abs(floatAttr(n, "alpha", 0.2f) - 1.0f / 6) > 1e-5f || std::abs(floatAttr(n, "beta", 0.5f) - 0.5f) > 1e-6f)
                fail(n, "only torch's hardsigmoid (alpha 1/6, beta 0.5) is supported");
            values_[n.output(0)] = activation(n, n.input(0), Activation::HardSigmoid, {&n});
        } else if (type == "Clip") {
            float lo = floatAttr(n, "min", -INFINITY), hi = floatAttr(n, "max", INFINITY);
            for (int k : {1, 2})
                if (n.input_size() > k && !n.input(k).empty()) {
                    const onnx::TensorProto* c = constant(n.input(k));
                    const std::vector<float> v = c ? floats(*c) : std::vector<float>{};
                    if (v.size() != 1)
                        fail(n, "needs constant bounds");
                    (k == 1 ? lo : hi) = v[0];
                }
            if (lo != 0 || (hi != 6 && !std::isinf(hi)))
                fail(n, "only Clip(0, 6) (ReLU6) and Clip(0, inf) (ReLU) are supported");
            values_[n.output(0)] = activation(n, n.input(0), std::isinf(hi) ? Activation::ReLU : Activation::ReLU6, {&n});
        } else if (type == "Mul" || type == "Add") {
            if (n.input_size() != 2)
                fail(n, "needs two inputs");
            // A swish: x * Sigmoid(x) / x * HardSigmoid(x).
            const onnx::NodeProto* gate = nullptr;
            int k = 0;
            for (int g : {1, 0})
                if (type == "Mul" && !gate && skip_.count(producer[n.input(g)]) &&
                    producer[n.input(g)]->input(0) == n.input(1 - g)) {
                    gate = producer[n.input(g)];
                    k = g;
                }
            if (gate) {
                values_[n.output(0)] =
                    activation(n, n.input(1 - k),
                               gate->op_type() == "Sigmoid" ? Activation::SiLU : Activation::HardSwish, {&n, gate});
                continue;
            }
            // Add of a constant after MatMul: the linear layer's bias.
            const bool biasAdd = type == "Add" && (constant(n.input(0)) || constant(n.input(1)));
            if (biasAdd) {
                const int data = constant(n.input(0)) ? 1 : 0;
                const int v = valueOf(n, n.input(data));
                if (v == 0 || ops_[size_t(v - 1)].op.kind != OpKind::Linear || readers_[n.input(data)].size() != 1 ||
                    !ops_[size_t(v - 1)].bias.data.empty())
                    fail(n, "adds a constant tensor to data, which a pruned network cannot do");
                if (wantWeights())
                    ops_[size_t(v - 1)].bias =
                        weightTensor(n, n.input(1 - data), {ops_[size_t(v - 1)].weight.shape.at(0)}, "bias");
                values_[n.output(0)] = v;
                continue;
            }
            const int a = mapOf(n, n.input(0)), b = mapOf(n, n.input(1));
            // The gate of an SE block (a 1x1 pooled map) goes second: it broadcasts.
            const bool swap = type == "Mul" && vals_[size_t(a)].pooled && !vals_[size_t(b)].pooled;
            const int first = swap ? b : a, second = swap ? a : b;
            if (!tie(vals_[size_t(first)].sets, vals_[size_t(second)].sets))
                fail(n, "its inputs have different widths (" + std::to_string(vals_[size_t(first)].sets.size()) + " and " +
                            std::to_string(vals_[size_t(second)].sets.size()) +
                            " joined channel groups, or unequal channel counts): they cannot be kept equal");
            addOp(pending(n, type == "Mul" ? OpKind::Mul : OpKind::Add, {first, second}), vals_[size_t(first)],
                  n.output(0));
        } else if (type == "Concat") {
            if (intAttr(n, "axis", 1) != 1)
                fail(n, "only Concat along channels (axis 1) is supported");
            if (n.input_size() == 1) { // torch.cat of a one-tensor list (DenseNet's first layer)
                values_[n.output(0)] = mapOf(n, n.input(0));
                ++report_.passThrough;
                continue;
            }
            PendingOp p = pending(n, OpKind::Concat, {});
            Value v;
            for (const std::string& in : n.input()) {
                const int id = mapOf(n, in);
                p.op.inputs.push_back(id);
                v.sets.insert(v.sets.end(), vals_[size_t(id)].sets.begin(), vals_[size_t(id)].sets.end());
                v.pooled = vals_[size_t(id)].pooled;
            }
            addOp(p, v, n.output(0));
        } else if (type == "MaxPool") {
            if (n.output_size() > 1 && !n.output(1).empty())
                fail(n, "the indices output of MaxPool is not supported");
            pool(n, OpKind::MaxPool);
        } else if (type == "AveragePool") {
            pool(n, OpKind::AvgPool);
        } else if (type == "GlobalAveragePool" || type == "ReduceMean") {
            if (type == "ReduceMean") {
                std::vector<int64_t> axes = intsAttr(n, "axes");
                for (int64_t& a : axes)
                    a = a < 0 ? a + 4 : a;
                std::sort(axes.begin(), axes.end());
                if (axes != std::vector<int64_t>{2, 3})
                    fail(n, "only a ReduceMean over the spatial axes (a global average pool) is supported");
            }
            const int in = mapOf(n, n.input(0));
            PendingOp p = pending(n, OpKind::GlobalAvgPool, {in});
            Value v = vals_[size_t(in)];
            v.pooled = true;
            addOp(p, v, n.output(0));
            if (type == "ReduceMean" && intAttr(n, "keepdims", 1) == 0)
                flat_.insert(n.output(0));
        } else if (type == "Gemm") {
            const onnx::TensorProto* w = constant(n.input(1));
            if (!w)
                fail(n, "needs a constant weight");
            if (intAttr(n, "transA", 0) != 0 || floatAttr(n, "alpha", 1) != 1 || floatAttr(n, "beta", 1) != 1)
                fail(n, "only Gemm with transA = 0 and alpha = beta = 1 (a linear layer) is supported");
            linear(n, *w, intAttr(n, "transB", 0) != 0, n.output(0));
        } else if (type == "MatMul") {
            const onnx::TensorProto* w = constant(n.input(1));
            if (!w)
                fail(n, "a MatMul of two computed tensors (attention) is not supported");
            linear(n, *w, false, n.output(0));
        }
    }

    // The classifier's outputs stay fixed: the graph's output set becomes the classes.
    const auto out = values_.find(g_.output(0).name());
    if (out == values_.end())
        throw ArchError(file_ + ": output '" + g_.output(0).name() + "' is made by no supported node");
    const Value& logits = vals_[size_t(out->second)];
    if (logits.sets.size() != 1)
        throw ArchError(file_ + ": the output joins several channel groups; a classifier ends in one");
    const int classesSet = sets_.find(logits.sets[0]);
    const int classes = sets_.maxChannels(classesSet);

    ArchSpec arch;
    std::string stem = file_.substr(file_.find_last_of('/') + 1);
    if (const size_t dot = stem.rfind(".onnx"); dot != std::string::npos)
        stem = stem.substr(0, dot);
    arch.family = stem;
    arch.preset = "file";
    arch.inChannels = sets_.maxChannels(inputSet_);
    arch.inHeight = height_;
    arch.inWidth = width_;
    arch.classes = classes;
    // One gene per channel group that is neither the input nor the classes, named after the
    // first op producing it; grouped convs make its channels come in whole groups.
    std::map<int, int> geneOf;
    std::map<int, int> quantum;
    for (const PendingOp& p : ops_)
        if (p.op.kind == OpKind::Conv && p.op.groupWidth > 1) {
            const int s = sets_.find(vals_[size_t(p.op.inputs[0])].sets[0]);
            const int q = quantum.count(s) ? quantum[s] : 1;
            quantum[s] = q / gcd(q, p.op.groupWidth) * p.op.groupWidth;
        }
    auto widthOf = [&](int set) {
        const int root = sets_.find(set);
        if (root == sets_.find(inputSet_))
            return Width{-1, arch.inChannels};
        if (root == classesSet)
            return Width{-1, kClassesWidth};
        auto it = geneOf.find(root);
        if (it == geneOf.end()) {
            Gene g;
            bool stage = false;
            for (int t : tied_)
                stage = stage || sets_.find(t) == root;
            g.kind = stage ? GeneKind::Stage : GeneKind::Mid;
            g.maxChannels = sets_.maxChannels(root);
            g.quantum = quantum.count(root) ? quantum[root] : 1;
            g.stage = 0;
            it = geneOf.emplace(root, int(arch.genes.size())).first;
            arch.genes.push_back(g);
        }
        return Width{it->second, 0};
    };
    for (PendingOp& p : ops_) {
        if (p.outSet >= 0)
            p.op.out = widthOf(p.outSet);
        if (p.op.kind == OpKind::Conv && p.outSet >= 0 && sets_.find(p.outSet) == classesSet)
            p.op.batchNorm = false; // the classifier conv keeps its bias (SqueezeNet)
        arch.ops.push_back(p.op);
    }
    for (size_t i = 0; i < arch.genes.size(); ++i)
        arch.genes[i].name = "g" + std::to_string(i);
    // Names and generator conditioning once every gene exists.
    std::vector<bool> named(arch.genes.size(), false);
    const std::vector<ValueShape> values = analyzeArchitecture(arch);
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        Op& op = arch.ops[i];
        for (const Width& w : values[i + 1].segments)
            if (w.gene >= 0 && !named[size_t(w.gene)]) {
                arch.genes[size_t(w.gene)].name = op.name;
                named[size_t(w.gene)] = true;
            }
        if (op.kind != OpKind::Conv)
            continue;
        std::set<int> cond;
        for (const Width& w : values[size_t(op.inputs[0])].segments)
            if (w.gene >= 0)
                cond.insert(w.gene);
        if (op.out.gene >= 0)
            cond.insert(op.out.gene);
        op.condition.assign(cond.begin(), cond.end());
    }
    // The Linear layers' weights must match the features they read (a misread flatten shows here).
    for (size_t i = 0; i < ops_.size(); ++i) {
        const PendingOp& p = ops_[i];
        if (p.op.kind != OpKind::Linear)
            continue;
        const ValueShape& in = values[size_t(arch.ops[i].inputs[0])];
        const int features = in.maxChannels * in.height * in.width;
        if (features != p.features)
            throw ArchError(file_ + ": node '" + p.onnxName + "' (Gemm/MatMul): its weight reads " +
                            std::to_string(p.features) + " features, its input has " + std::to_string(features));
    }
    if (weights_) {
        const size_t n = ops_.size();
        for (auto* list : {&weights_->weight, &weights_->bias, &weights_->bnScale, &weights_->bnShift, &weights_->bnMean,
                           &weights_->bnVar})
            list->assign(n, NetworkTensor{});
        weights_->bnEps.assign(n, 1e-5f);
        for (size_t i = 0; i < n; ++i) {
            PendingOp& p = ops_[i];
            weights_->weight[i] = std::move(p.weight);
            weights_->bias[i] = std::move(p.bias);
            weights_->bnScale[i] = std::move(p.bnScale);
            weights_->bnShift[i] = std::move(p.bnShift);
            weights_->bnMean[i] = std::move(p.bnMean);
            weights_->bnVar[i] = std::move(p.bnVar);
            weights_->bnEps[i] = p.bnEps;
        }
        report_.notes.push_back("the trained weights are kept: the PruningNet starts from them (train --init weights, "
                                "the default), and the original model is the reference of every comparison");
    } else {
        report_.notes.push_back("the weights in the file are not used: a PruningNet generates the weights of every "
                                "pruned structure");
    }
    if (report_.standaloneBatchNorms > 0)
        report_.notes.push_back(std::to_string(report_.standaloneBatchNorms) +
                                " batch norms do not follow a conv (pre-activation, or after a concatenation): each "
                                "normalises its input's channels, every part of a concatenation with its own gene");
    if (report_.convBatchNorms == 0)
        report_.notes.push_back("the graph has no batch norm after its convs (the model has none, or the exporter "
                                "folded it into the convs); every conv of a map gets a batch norm in the "
                                "PruningNet (gates and the classifier keep a bias)");
    analyzeArchitecture(arch);
    return arch;
}

} // namespace

std::vector<std::string> supportedOnnxOps() { return {std::begin(kSupported), std::end(kSupported)}; }

namespace {
std::string trainedModelSha256(const std::string& model, const std::set<std::string>& externalFiles) {
    if (externalFiles.empty())
        return fileSha256(model);
    // The model and every data file beside it: a change to either changes the weights.
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(QByteArray::fromStdString(fileSha256(model)));
    for (const std::string& f : externalFiles)
        h.addData(QByteArray::fromStdString(std::filesystem::path(f).filename().string() + ":" + fileSha256(f)));
    return h.result().toHex().toStdString();
}
} // namespace

ArchSpec importOnnx(const std::string& path, ImportReport* report, TrainedWeights* weights) {
    // Name the cause a user can act on: a wrong path, a folder, or a file they may not read.
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !ec) // an error (a folder it may not enter) is not "missing"
        throw ArchError(path + ": no such file");
    if (std::filesystem::is_directory(path, ec))
        throw ArchError(path + ": is a folder, not an ONNX model file");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ArchError(path + ": cannot open the ONNX model (" + std::strerror(errno) + ")");
    onnx::ModelProto model;
    if (!model.ParseFromIstream(&in))
        throw ArchError(path + ": not an ONNX model (the protobuf does not parse)");
    if (!model.has_graph() || model.graph().node_size() == 0)
        throw ArchError(path + ": not an ONNX model (it holds no graph)");
    ImportReport local;
    ImportReport& r = report ? *report : local;
    r.model = path;
    if (weights)
        *weights = TrainedWeights{};
    Importer importer(model, path, r, weights);
    ArchSpec arch = importer.run();
    if (weights) {
        arch.weightsFile = std::filesystem::absolute(path).string();
        arch.weightsSha256 = trainedModelSha256(path, importer.externalFiles());
    }
    return arch;
}

} // namespace mp
