// Qt-side helpers of core (no LibTorch here): JSON of settings, file hashing.
#include "metaprune/export.h"
#include "metaprune/latency.h"
#include "metaprune/training.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonDocument>
#include <QJsonArray>
#include <QJsonObject>
#include <QSaveFile>

namespace mp {

namespace {
QString updateName(GeneratorUpdate u) { return u == GeneratorUpdate::Dense ? "dense" : "sparse"; }

GeneratorUpdate parseUpdate(const QString& s) {
    if (s == "dense")
        return GeneratorUpdate::Dense;
    if (s == "sparse")
        return GeneratorUpdate::Sparse;
    throw std::invalid_argument("unknown generator update '" + s.toStdString() + "' (sparse, dense)");
}
} // namespace

std::string samplingName(Sampling s) { return s == Sampling::Sandwich ? "sandwich" : "random"; }

Sampling parseSampling(const std::string& name) {
    if (name == "random")
        return Sampling::Random;
    if (name == "sandwich")
        return Sampling::Sandwich;
    throw std::invalid_argument("unknown sampling '" + name + "' (random, sandwich)");
}

std::string toJson(const TrainConfig& c) {
    QJsonObject o;
    o["family"] = QString::fromStdString(c.family);
    o["preset"] = QString::fromStdString(c.preset);
    if (!c.architecture.empty()) // only then: built-in trainings keep their identity
        o["architecture"] = QJsonDocument::fromJson(QByteArray::fromStdString(c.architecture)).object();
    o["data_path"] = QString::fromStdString(c.dataPath);
    o["data_format"] = QString::fromStdString(c.dataFormat);
    o["train_per_class"] = qint64(c.trainPerClass);
    o["test_per_class"] = qint64(c.testPerClass);
    o["search_per_class"] = c.searchPerClass;
    o["epochs"] = c.epochs;
    o["batch_size"] = c.batchSize;
    o["lr"] = c.lr;
    o["warmup_steps"] = c.warmupSteps;
    o["momentum"] = c.momentum;
    o["weight_decay"] = c.weightDecay;
    o["label_smoothing"] = c.labelSmoothing;
    o["augment"] = c.augment;
    o["full_width_prob"] = c.fullWidthProb;
    o["generator_update"] = updateName(c.update);
    o["seed"] = QString::number(c.seed); // 64-bit seeds do not fit a JSON double
    // Written only when set, so that older projects' config text (and checkpoint names) stays.
    if (c.inputHeight > 0)
        o["input_size"] = QString("%1x%2").arg(c.inputHeight).arg(c.inputWidth);
    if (c.maxBad != TrainConfig{}.maxBad)
        o["max_bad"] = c.maxBad;
    if (c.initFromWeights)
        o["init"] = "weights";
    if (c.sampling != Sampling::Random) {
        o["sampling"] = QString::fromStdString(samplingName(c.sampling));
        o["sandwich_random"] = c.sandwichRandom;
    }
    if (c.batchNormRanks > 1)
        o["bn_ranks"] = c.batchNormRanks;
    if (c.inplaceDistill)
        o["inplace_distill"] = QJsonObject{{"temperature", c.inplaceTemperature}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

TrainConfig trainConfigFromJson(const std::string& json) {
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &err);
    if (!doc.isObject())
        throw std::invalid_argument("training settings are not a JSON object: " + err.errorString().toStdString());
    const QJsonObject o = doc.object();
    TrainConfig c;
    c.family = o["family"].toString(QString::fromStdString(c.family)).toStdString();
    c.preset = o["preset"].toString(QString::fromStdString(c.preset)).toStdString();
    if (o.contains("architecture"))
        c.architecture = QJsonDocument(o["architecture"].toObject()).toJson(QJsonDocument::Compact).toStdString();
    c.dataPath = o["data_path"].toString(QString::fromStdString(c.dataPath)).toStdString();
    c.dataFormat = o["data_format"].toString(QString::fromStdString(c.dataFormat)).toStdString();
    c.trainPerClass = o["train_per_class"].toInteger(c.trainPerClass);
    c.testPerClass = o["test_per_class"].toInteger(c.testPerClass);
    c.searchPerClass = o["search_per_class"].toInt(c.searchPerClass);
    c.epochs = o["epochs"].toInt(c.epochs);
    c.batchSize = o["batch_size"].toInt(c.batchSize);
    c.lr = o["lr"].toDouble(c.lr);
    c.warmupSteps = o["warmup_steps"].toInt(c.warmupSteps);
    c.momentum = o["momentum"].toDouble(c.momentum);
    c.weightDecay = o["weight_decay"].toDouble(c.weightDecay);
    c.labelSmoothing = o["label_smoothing"].toDouble(c.labelSmoothing);
    c.augment = o["augment"].toBool(c.augment);
    c.fullWidthProb = o["full_width_prob"].toDouble(c.fullWidthProb);
    c.update = parseUpdate(o["generator_update"].toString("sparse"));
    bool ok = true;
    c.seed = o["seed"].toString("1").toULongLong(&ok);
    if (!ok)
        throw std::invalid_argument("training settings: seed is not an unsigned integer");
    if (o.contains("input_size")) {
        const QStringList hw = o["input_size"].toString().split('x');
        const int h = hw.value(0).toInt(), w = hw.value(1).toInt();
        if (hw.size() != 2 || h <= 0 || w <= 0)
            throw std::invalid_argument("training settings: input_size is not HxW");
        c.inputHeight = h;
        c.inputWidth = w;
    }
    c.maxBad = o["max_bad"].toDouble(c.maxBad);
    c.sampling = parseSampling(o["sampling"].toString("random").toStdString());
    c.sandwichRandom = o["sandwich_random"].toInt(c.sandwichRandom);
    c.batchNormRanks = o["bn_ranks"].toInt(1);
    if (o.contains("inplace_distill")) {
        c.inplaceDistill = true;
        c.inplaceTemperature = o["inplace_distill"].toObject()["temperature"].toDouble(c.inplaceTemperature);
    }
    const QString init = o["init"].toString("random");
    if (init != "random" && init != "weights")
        throw std::invalid_argument("training settings: init is '" + init.toStdString() + "' (random, weights)");
    c.initFromWeights = init == "weights";
    return c;
}

std::string fileSha256(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly))
        throw std::runtime_error(path + ": cannot read (" + f.errorString().toStdString() + ")");
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(&f);
    return h.result().toHex().toStdString();
}

void folderInputSize(const TrainConfig& cfg, int& height, int& width) {
    if (cfg.inputHeight > 0) {
        height = cfg.inputHeight;
        width = cfg.inputWidth;
        return;
    }
    if (!cfg.architecture.empty()) {
        // An imported or hand-written network states the size it was built for.
        const ArchSpec arch = architectureFromJson(cfg.architecture);
        height = arch.inHeight;
        width = arch.inWidth;
        return;
    }
    height = width = cfg.preset == "paper" ? 224 : cfg.family == "resnet" ? 32 : 28;
}

DataBundle loadTrainingData(const TrainConfig& cfg, const LoaderSettings& loader) {
    DataOptions o;
    o.height = cfg.inputHeight;
    o.width = cfg.inputWidth;
    if (o.height == 0 && !cfg.architecture.empty()) {
        // A trained model sees images at the size it was trained at, as `evaluate --model` does.
        const ArchSpec arch = architectureFromJson(cfg.architecture);
        if (!arch.weightsFile.empty()) {
            o.height = arch.inHeight;
            o.width = arch.inWidth;
        }
    }
    folderInputSize(cfg, o.folderHeight, o.folderWidth);
    o.augment = cfg.augment;
    o.trainPerClass = cfg.trainPerClass;
    o.testPerClass = cfg.testPerClass;
    o.cacheBytes = loader.cacheBytes;
    o.decodeThreads = loader.decodeThreads;
    o.maxBad = cfg.maxBad;
    return loadData(cfg.dataPath, parseDataFormat(cfg.dataFormat), o);
}

ExportDescription describeExport(const ArchSpec& arch, const CheckpointInfo& checkpoint, const Encoding& enc) {
    auto ints = [](const std::vector<int>& v) {
        QJsonArray a;
        for (int x : v)
            a.append(x);
        return a;
    };
    auto floats = [](const std::vector<float>& v) {
        QJsonArray a;
        for (float x : v)
            a.append(double(x));
        return a;
    };
    QJsonObject o;
    o["format"] = "metaprune-pruned-1";
    o["family"] = QString::fromStdString(arch.family);
    o["preset"] = QString::fromStdString(arch.preset);
    o["input_shape"] = ints({arch.inChannels, arch.inHeight, arch.inWidth});
    o["classes"] = arch.classes;
    QJsonArray names;
    for (const std::string& n : checkpoint.classNames)
        names.append(QString::fromStdString(n));
    o["class_names"] = names;
    QJsonObject norm;
    norm["mean"] = floats(checkpoint.mean);
    norm["std"] = floats(checkpoint.stddev);
    norm["pixel_scale"] = "0..1";
    o["normalization"] = norm;
    o["encoding"] = ints(enc);
    QJsonArray genes;
    for (size_t g = 0; g < arch.genes.size(); ++g) {
        QJsonObject gene;
        gene["name"] = QString::fromStdString(arch.genes[g].name);
        gene["scale_index"] = enc[g];
        gene["channels"] = geneChannelsAt(arch.genes[g], enc[g]);
        gene["max_channels"] = arch.genes[g].maxChannels;
        genes.append(gene);
    }
    o["genes"] = genes;
    o["macs"] = qint64(countMacs(arch, enc));
    o["macs_convention"] = "conv + linear multiply-accumulates per image";
    o["params"] = qint64(countParams(arch, enc));
    o["bn"] = "folded";
    o["pruningnet_checkpoint_sha256"] = QString::fromStdString(checkpoint.sha256);
    return {QJsonDocument(o).toJson(QJsonDocument::Indented).toStdString()};
}

void writeFileAtomically(const std::string& path, const std::string& bytes) {
    QSaveFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::WriteOnly))
        throw std::runtime_error(path + ": cannot write (" + f.errorString().toStdString() + ")");
    if (f.write(bytes.data(), qint64(bytes.size())) != qint64(bytes.size()) || !f.commit())
        throw std::runtime_error(path + ": cannot write (" + f.errorString().toStdString() + ")");
}

std::string MachineInfo::json() const {
    QJsonObject o;
    o["cpu"] = QString::fromStdString(cpu);
    o["threads"] = threads;
    o["libtorch"] = QString::fromStdString(libtorch);
    o["batch"] = batch;
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

std::string LatencyTable::toJson() const {
    QJsonObject o;
    o["version"] = 2; // 2: axes are channel counts of the op's input and output values
    o["arch"] = QString::fromStdString(arch);
    o["machine"] = QJsonDocument::fromJson(QByteArray::fromStdString(machine.json())).object();
    QJsonArray g;
    for (int i : grid)
        g.append(i);
    o["grid"] = g;
    QJsonArray ops;
    for (const std::vector<double>& row : ms) {
        QJsonArray r;
        for (double v : row)
            r.append(v);
        ops.append(r);
    }
    o["ms"] = ops;
    o["overhead_ms"] = overheadMs;
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

LatencyTable LatencyTable::fromJson(const std::string& json) {
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &err);
    if (!doc.isObject())
        throw std::invalid_argument("latency table is not a JSON object: " + err.errorString().toStdString());
    const QJsonObject o = doc.object();
    if (o["version"].toInt(1) != 2)
        throw std::invalid_argument("latency table of an older format (version " + std::to_string(o["version"].toInt(1)) +
                                    "): measure it again");
    LatencyTable t;
    t.arch = o["arch"].toString().toStdString();
    const QJsonObject m = o["machine"].toObject();
    t.machine.cpu = m["cpu"].toString().toStdString();
    t.machine.threads = m["threads"].toInt(1);
    t.machine.libtorch = m["libtorch"].toString().toStdString();
    t.machine.batch = m["batch"].toInt(1);
    for (const QJsonValue& v : o["grid"].toArray())
        t.grid.push_back(v.toInt());
    for (const QJsonValue& r : o["ms"].toArray()) {
        std::vector<double> row;
        for (const QJsonValue& v : r.toArray())
            row.push_back(v.toDouble());
        t.ms.push_back(row);
    }
    t.overheadMs = o["overhead_ms"].toDouble(0);
    if (t.grid.size() < 2 || t.grid.back() != grid::kSize - 1)
        throw std::invalid_argument("latency table has a malformed grid");
    return t;
}

} // namespace mp
