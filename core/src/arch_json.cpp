// The architecture file (.arch.json): the architecture description as a versioned JSON
// document, written and read through Qt's JSON classes. Built-in families, files and imported
// ONNX models all go through this one format.
#include "metaprune/architecture.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <map>
#include <set>

namespace mp {

namespace {

constexpr const char* kFormat = "metaprune-arch";
constexpr int kVersion = 1;

QString q(const std::string& s) { return QString::fromStdString(s); }

QJsonArray pair(int a, int b) { return QJsonArray{a, b}; }

QJsonValue widthJson(const ArchSpec& a, const Width& w) {
    if (w.gene >= 0)
        return q(a.genes[size_t(w.gene)].name);
    if (w.fixed == kClassesWidth)
        return QString("classes");
    return w.fixed;
}

/// Reads fields of one JSON object, refusing unknown ones (a typo must not pass silently).
class Fields {
public:
    Fields(const QJsonObject& o, std::string where) : o_(o), where_(std::move(where)) {}
    /// Call after the last read: throws for a field nothing read.
    void done() const {
        for (const QString& key : o_.keys())
            if (!seen_.count(key))
                throw ArchError(where_ + ": unknown field '" + key.toStdString() + "'");
    }
    bool has(const char* key) {
        seen_.insert(key);
        return o_.contains(key);
    }
    QJsonValue get(const char* key) {
        seen_.insert(key);
        return o_.value(key);
    }
    QJsonValue need(const char* key) {
        if (!has(key))
            throw ArchError(where_ + ": field '" + key + "' is missing");
        return o_.value(key);
    }
    int integer(const char* key, int fallback) {
        if (!has(key))
            return fallback;
        const QJsonValue v = o_.value(key);
        if (!v.isDouble() || v.toDouble() != double(v.toInt()))
            throw ArchError(where_ + ": field '" + key + "' must be an integer");
        return v.toInt();
    }
    double number(const char* key, double fallback) {
        if (!has(key))
            return fallback;
        if (!o_.value(key).isDouble())
            throw ArchError(where_ + ": field '" + key + "' must be a number");
        return o_.value(key).toDouble();
    }
    bool boolean(const char* key, bool fallback) {
        if (!has(key))
            return fallback;
        if (!o_.value(key).isBool())
            throw ArchError(where_ + ": field '" + key + "' must be true or false");
        return o_.value(key).toBool();
    }
    std::string text(const char* key) {
        const QJsonValue v = need(key);
        if (!v.isString())
            throw ArchError(where_ + ": field '" + key + "' must be a string");
        return v.toString().toStdString();
    }
    /// An integer or a [height, width] pair.
    std::pair<int, int> hw(const char* key, int fallback) {
        if (!has(key))
            return {fallback, fallback};
        const QJsonValue v = o_.value(key);
        if (v.isDouble())
            return {v.toInt(), v.toInt()};
        const QJsonArray a = v.toArray();
        if (!v.isArray() || a.size() != 2 || !a[0].isDouble() || !a[1].isDouble())
            throw ArchError(where_ + ": field '" + key + "' must be an integer or [height, width]");
        return {a[0].toInt(), a[1].toInt()};
    }
    const std::string& where() const { return where_; }

private:
    QJsonObject o_;
    std::string where_;
    std::set<QString> seen_;
};

} // namespace

std::string toArchitectureJson(const ArchSpec& a) {
    QJsonObject root;
    root["format"] = kFormat;
    root["version"] = kVersion;
    root["name"] = q(a.family);
    root["preset"] = q(a.preset);
    root["input"] = QJsonObject{{"channels", a.inChannels}, {"height", a.inHeight}, {"width", a.inWidth}};
    root["classes"] = a.classes;
    QJsonArray genes;
    for (const Gene& g : a.genes) {
        QJsonObject o{{"name", q(g.name)},
                      {"kind", g.kind == GeneKind::Stage ? "stage" : "mid"},
                      {"max_channels", g.maxChannels},
                      {"stage", g.stage}};
        if (g.quantum != 1)
            o["quantum"] = g.quantum;
        genes.append(o);
    }
    root["genes"] = genes;
    QJsonArray ops;
    for (size_t i = 0; i < a.ops.size(); ++i) {
        const Op& op = a.ops[i];
        QJsonObject o{{"name", q(op.name)}, {"kind", q(opKindName(op.kind))}};
        QJsonArray inputs;
        for (int id : op.inputs)
            inputs.append(id == 0 ? QString("input") : q(a.ops[size_t(id - 1)].name));
        o["inputs"] = inputs;
        const bool windowed = op.kind == OpKind::Conv || op.kind == OpKind::MaxPool || op.kind == OpKind::AvgPool;
        if (windowed) {
            o["kernel"] = pair(op.kernelH, op.kernelW);
            o["stride"] = pair(op.strideH, op.strideW);
            o["padding"] = pair(op.padH, op.padW);
        }
        if (op.kind == OpKind::Pad) {
            o["padding"] = pair(op.padH, op.padW);
            if (op.padValue != 0)
                o["value"] = double(op.padValue);
        }
        switch (op.kind) {
        case OpKind::Conv:
            if (op.groupWidth == 0)
                o["out"] = widthJson(a, op.out);
            o["group_width"] = op.groupWidth;
            if (op.dilation != 1)
                o["dilation"] = op.dilation;
            o["batch_norm"] = op.batchNorm;
            if (op.hidden != 32)
                o["hidden"] = op.hidden;
            {
                QJsonArray cond;
                for (int g : op.condition)
                    cond.append(q(a.genes[size_t(g)].name));
                o["condition"] = cond;
            }
            break;
        case OpKind::Linear:
            o["out"] = widthJson(a, op.out);
            break;
        case OpKind::MaxPool:
        case OpKind::AvgPool:
            if (op.ceilMode)
                o["ceil_mode"] = true;
            if (op.kind == OpKind::AvgPool)
                o["count_include_pad"] = op.countIncludePad;
            break;
        default:
            break;
        }
        if (op.act != Activation::None)
            o["act"] = q(activationName(op.act));
        if (op.stage >= 0)
            o["stage"] = op.stage;
        if (op.block >= 0)
            o["block"] = op.block;
        ops.append(o);
    }
    root["ops"] = ops;
    if (!a.inputMean.empty() || !a.inputStd.empty()) {
        QJsonArray mean, stddev;
        for (float v : a.inputMean)
            mean.append(double(v));
        for (float v : a.inputStd)
            stddev.append(double(v));
        root["preprocessing"] = QJsonObject{{"mean", mean}, {"std", stddev}};
    }
    if (!a.weightsFile.empty())
        root["weights"] = QJsonObject{{"onnx", q(a.weightsFile)}, {"sha256", q(a.weightsSha256)}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented).toStdString();
}

ArchSpec architectureFromJson(const std::string& json) {
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &err);
    if (!doc.isObject())
        throw ArchError("not a JSON object (" + err.errorString().toStdString() + " at offset " +
                        std::to_string(err.offset) + ")");
    ArchSpec a;
    std::vector<std::vector<Width>> stated; // the "in" widths a file states, checked after analysis
    {
        Fields root(doc.object(), "architecture");
        if (root.text("format") != kFormat)
            throw ArchError("not a MetaPrune architecture file (format is not '" + std::string(kFormat) + "')");
        const int version = root.integer("version", 0);
        if (version < 1 || version > kVersion)
            throw ArchError("architecture file version " + std::to_string(version) + ": this build reads version " +
                            std::to_string(kVersion) + (version > kVersion ? " (written by a newer MetaPrune Studio)" : ""));
        a.family = root.text("name");
        a.preset = root.has("preset") ? root.text("preset") : "file";
        {
            Fields in(root.need("input").toObject(), "input");
            a.inChannels = in.integer("channels", 0);
            a.inHeight = in.integer("height", 0);
            a.inWidth = in.integer("width", 0);
            in.done();
        }
        a.classes = root.integer("classes", 0);
        std::map<std::string, int> geneIndex;
        const QJsonValue genes = root.need("genes");
        if (!genes.isArray())
            throw ArchError("architecture: field 'genes' must be an array");
        for (const QJsonValue& v : genes.toArray()) {
            Fields f(v.toObject(), "gene #" + std::to_string(a.genes.size()));
            Gene g;
            g.name = f.text("name");
            const std::string kind = f.has("kind") ? f.text("kind") : "stage";
            if (kind != "stage" && kind != "mid")
                throw ArchError("gene '" + g.name + "': kind '" + kind + "' is neither stage nor mid");
            g.kind = kind == "stage" ? GeneKind::Stage : GeneKind::Mid;
            g.maxChannels = f.integer("max_channels", 0);
            g.stage = f.integer("stage", 0);
            g.quantum = f.integer("quantum", 1);
            f.done();
            if (!geneIndex.emplace(g.name, int(a.genes.size())).second)
                throw ArchError("gene '" + g.name + "' is listed twice");
            a.genes.push_back(g);
        }
        std::map<std::string, int> valueOf{{"input", 0}};
        const QJsonValue ops = root.need("ops");
        if (!ops.isArray())
            throw ArchError("architecture: field 'ops' must be an array");
        for (const QJsonValue& v : ops.toArray()) {
            const std::string name = v.toObject().value("name").toString().toStdString();
            Fields f(v.toObject(), "op '" + name + "'");
            Op op;
            op.name = f.text("name");
            op.kind = [&] {
                try {
                    return parseOpKind(f.text("kind"));
                } catch (const ArchError& e) {
                    throw ArchError(f.where() + ": " + e.what());
                }
            }();
            auto width = [&](const QJsonValue& w, const char* what) {
                if (w.isDouble())
                    return Width{-1, w.toInt()};
                const std::string s = w.toString().toStdString();
                if (s == "classes")
                    return Width{-1, kClassesWidth};
                const auto g = geneIndex.find(s);
                if (!w.isString() || g == geneIndex.end())
                    throw ArchError(f.where() + ": " + what + " width '" + s +
                                    "' names no gene (give a gene name, a channel count or \"classes\")");
                return Width{g->second, 0};
            };
            const QJsonValue inputs = f.need("inputs");
            if (!inputs.isArray())
                throw ArchError(f.where() + ": field 'inputs' must be an array of op names");
            for (const QJsonValue& in : inputs.toArray()) {
                const auto it = valueOf.find(in.toString().toStdString());
                if (it == valueOf.end())
                    throw ArchError(f.where() + ": input '" + in.toString().toStdString() +
                                    "' is no earlier op (a cycle, a typo, or an op listed before its input)");
                op.inputs.push_back(it->second);
            }
            if (f.has("out"))
                op.out = width(f.get("out"), "output");
            std::vector<Width> in;
            if (f.has("in"))
                for (const QJsonValue& w : f.get("in").toArray())
                    in.push_back(width(w, "input"));
            stated.push_back(in);
            op.groupWidth = f.integer("group_width", 0);
            std::tie(op.kernelH, op.kernelW) = f.hw("kernel", 1);
            std::tie(op.strideH, op.strideW) = f.hw("stride", 1);
            std::tie(op.padH, op.padW) = f.hw("padding", 0);
            op.dilation = f.integer("dilation", 1);
            op.ceilMode = f.boolean("ceil_mode", false);
            op.countIncludePad = f.boolean("count_include_pad", true);
            op.batchNorm = op.kind == OpKind::BatchNorm || f.boolean("batch_norm", op.kind == OpKind::Conv);
            op.padValue = float(f.number("value", 0));
            if (f.has("act")) {
                try {
                    op.act = parseActivation(f.get("act").toString().toStdString());
                } catch (const ArchError& e) {
                    throw ArchError(f.where() + ": " + e.what());
                }
            }
            if (f.has("condition"))
                for (const QJsonValue& g : f.get("condition").toArray()) {
                    const auto it = geneIndex.find(g.toString().toStdString());
                    if (it == geneIndex.end())
                        throw ArchError(f.where() + ": condition names gene '" + g.toString().toStdString() +
                                        "', which does not exist");
                    op.condition.push_back(it->second);
                }
            op.hidden = f.integer("hidden", 32);
            if (op.hidden < 1)
                throw ArchError(f.where() + ": hidden width must be at least 1");
            op.stage = f.integer("stage", -1);
            op.block = f.integer("block", -1);
            f.done();
            if (!valueOf.emplace(op.name, int(a.ops.size()) + 1).second)
                throw ArchError(f.where() + ": op names must be unique");
            a.ops.push_back(op);
        }
        if (root.has("preprocessing")) {
            Fields pre(root.get("preprocessing").toObject(), "preprocessing");
            auto numbers = [&](const char* key, std::vector<float>& out) {
                const QJsonValue v = pre.need(key);
                for (const QJsonValue& x : v.toArray()) {
                    if (!x.isDouble())
                        throw ArchError(std::string("preprocessing: field '") + key + "' must be an array of numbers");
                    out.push_back(float(x.toDouble()));
                }
            };
            numbers("mean", a.inputMean);
            numbers("std", a.inputStd);
            pre.done();
        }
        if (root.has("weights")) {
            Fields w(root.get("weights").toObject(), "weights");
            a.weightsFile = w.text("onnx");
            a.weightsSha256 = w.text("sha256");
            w.done();
        }
        root.done();
    }
    const std::vector<ValueShape> values = analyzeArchitecture(a);
    for (size_t i = 0; i < a.ops.size(); ++i)
        if (!stated[i].empty() && stated[i] != values[size_t(a.ops[i].inputs[0])].segments)
            throw ArchError("op '" + a.ops[i].name + "': states an input width that its input '" +
                            (a.ops[i].inputs[0] == 0 ? std::string("input") : a.ops[size_t(a.ops[i].inputs[0] - 1)].name) +
                            "' does not have: the shapes do not chain");
    return a;
}

ArchSpec readArchitectureFile(const std::string& path) {
    QFile f(q(path));
    if (!f.exists())
        throw ArchError(path + ": architecture file not found");
    if (!f.open(QIODevice::ReadOnly))
        throw ArchError(path + ": cannot read (" + f.errorString().toStdString() + ")");
    try {
        return architectureFromJson(f.readAll().toStdString());
    } catch (const ArchError& e) {
        throw ArchError(path + ": " + e.what());
    }
}

} // namespace mp
