// Option declarations and parsing shared by the commands.
#include "cli.h"

#include "metaprune/onnx_import.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <tuple>

namespace mpcli {

using namespace mp;

int intValue(const Parser& p, const QString& name, int lo, int hi) {
    bool ok = false;
    const int v = p.value(name).toInt(&ok);
    if (!ok || v < lo || v > hi)
        throw UsageError("--" + name.toStdString() + " must be an integer in " +
                         std::to_string(lo) + ".." + std::to_string(hi) + ", got '" +
                         p.value(name).toStdString() + "'");
    return v;
}

double doubleValue(const Parser& p, const QString& name, double lo, double hi) {
    bool ok = false;
    const double v = p.value(name).toDouble(&ok);
    if (!ok || !std::isfinite(v) || v < lo || v > hi)
        throw UsageError("--" + name.toStdString() + " must be a number in " +
                         QString::number(lo).toStdString() + ".." +
                         QString::number(hi).toStdString() + ", got '" +
                         p.value(name).toStdString() + "'");
    return v;
}

/// Parses the command's options; bad usage (unknown option, missing value, stray argument)
/// throws UsageError so that it exits with code 2, as --help and the README say.
void parseOptions(Parser& p, const QStringList& args) {
    if (!p.parse(args)) throw UsageError(p.errorText().toStdString());
    if (p.isSet("help")) p.showHelp(0);
    const QStringList extra = p.positionalArguments().mid(1 + p.arguments);
    if (!extra.isEmpty())
        throw UsageError("unexpected argument '" + extra.first().toStdString() + "'");
    if (p.deviceOption) mp::checkDevice(p.value("device").toStdString());
}

uint64_t seedValue(const Parser& p) {
    bool ok = false;
    const uint64_t v = p.value("seed").toULongLong(&ok);
    if (!ok) throw UsageError("--seed must be a non-negative integer");
    return v;
}

void addCommon(Parser& p, const QString& defaultDb) {
    p.addOption({"db", "Project database (SQLite) file.", "file", defaultDb});
    p.addOption({"threads", "LibTorch threads (0 = all cores; 1 is safest on a shared machine).",
                 "n", "1"});
    p.addOption({"device", "Compute device: cpu (cuda needs a CUDA-enabled LibTorch build).", "name",
                 "cpu"});
    p.deviceOption = true;
}

void addDataOptions(Parser& p) {
    p.addOption({"data", "Data folder: IDX files, CIFAR binary batches, or one folder per class.",
                 "path", kDefaultDataPath});
    p.addOption({"format", "Data format: auto, idx, cifar, folder.", "name", "auto"});
    p.addOption({"train-per-class", "Use at most this many training images per class (0 = all).",
                 "n", "0"});
    p.addOption(
        {"test-per-class", "Use at most this many test images per class (0 = all).", "n", "0"});
    p.addOption({"search-per-class",
                 "Images per class held out of training as the search split; auto: about 9,600 in all (a 95% "
                 "interval of +-0.8 points at 80% top-1), at most a sixth of the smallest class.",
                 "n", "auto"});
    p.addOption({"max-bad",
                 "Image folders: stop when more than this fraction of the files cannot be decoded "
                 "(they are skipped and listed otherwise).",
                 "fraction", QString::number(TrainConfig{}.maxBad)});
    addLoaderOptions(p);
}

void addLoaderOptions(Parser& p) {
    p.addOption(
        {"cache-mb",
         "Image folders decoding to at most this many MiB are cached in memory, larger ones "
         "streamed from disk (-1 = a quarter of this machine's memory).",
         "MiB", "-1"});
    p.addOption({"decode-threads", "Image decoding threads (0 = as many as --threads).", "n", "0"});
}

LoaderSettings loaderSettingsOf(const Parser& p) {
    LoaderSettings s;
    const int mb = intValue(p, "cache-mb", -1, 1 << 30);
    s.cacheBytes = mb < 0 ? -1 : int64_t(mb) << 20;
    s.decodeThreads = intValue(p, "decode-threads", 0, 1024);
    if (s.decodeThreads == 0) s.decodeThreads = threads();
    return s;
}

DataBundle loadDataFor(const TrainConfig& cfg, const Parser& p) {
    DataBundle b = loadTrainingData(cfg, loaderSettingsOf(p));
    std::printf("Data: %s\n", b.summary.c_str());
    std::fflush(stdout);
    return b;
}

void addTrainOptions(Parser& p, const TrainConfig& d) {
    p.addOption({"family", "Architecture family (mobilenetv2, mobilenetv1, resnet).", "name",
                 QString::fromStdString(d.family)});
    p.addOption({"preset",
                 "Architecture preset: small (28x28/32x32 data) or paper (reference widths).",
                 "name", QString::fromStdString(d.preset)});
    p.addOption({"arch-file",
                 "Train the PruningNet of an architecture file (.arch.json) or ONNX model (.onnx, "
                 "imported as `metaprune import` does) instead of --family/--preset.",
                 "file"});
    p.addOption({"init",
                 "weights: start the PruningNet at the trained model of an imported architecture with weights (the "
                 "default for one); random: random generators, as the reference.",
                 "how"});
    addPreprocessingOptions(p);
    p.addOption(
        {"size",
         "Input size H or HxW: image folders are read (cropped, resized) at this size, IDX/CIFAR "
         "resized to it. Default: IDX/CIFAR their own size, image folders the preset's (paper "
         "224, small 28, resnet small 32).",
         "HxW"});
    p.addOption({"epochs", "Training epochs.", "n", QString::number(d.epochs)});
    p.addOption({"batch-size", "Training batch size.", "n", QString::number(d.batchSize)});
    p.addOption({"lr",
                 "Peak learning rate (linear warm-up, then linear decay to 0); starting at a trained "
                 "model (--init weights) " +
                     QString::number(kWarmStartLr) + " unless given.",
                 "x", QString::number(d.lr)});
    p.addOption(
        {"warmup-steps", "Learning-rate warm-up steps.", "n", QString::number(d.warmupSteps)});
    p.addOption({"weight-decay", "Weight decay (the reference uses 0).", "x",
                 QString::number(d.weightDecay)});
    p.addOption({"label-smoothing", "Label smoothing.", "x", QString::number(d.labelSmoothing)});
    p.addOption({"augment", "Augment the training images: IDX and CIFAR sets get random shifts (size/8 pixels) and "
                          "horizontal flips; image folders get torchvision's random-resized crop (8-100% of the "
                          "area, aspect 3/4-4/3) and horizontal flips."});
    p.addOption({"full-width-prob",
                 "Probability of training the full-width network in a step (0 = reference).", "p",
                 QString::number(d.fullWidthProb)});
    p.addOption(
        {"generator-update",
         "Generator update: sparse (only this step's weight slice, fast) or dense (every row, "
         "exactly the reference SGD).",
         "mode", "sparse"});
    p.addOption({"sync-bn",
                 "Data-parallel runs: synchronise batch norm statistics over the ranks (the run then equals one "
                 "process with the global batch; slower). Default: each rank's own batch, as PyTorch's "
                 "DistributedDataParallel."});
    p.addOption({"sampling",
                 "random (one random structure per step, the reference) or sandwich (every step trains the full "
                 "width, the narrowest structure and --sandwich-random random ones, gradients accumulated).",
                 "name", QString::fromStdString(samplingName(d.sampling))});
    p.addOption({"sandwich-random", "Random structures per sandwich step.", "n", QString::number(d.sandwichRandom)});
    p.addOption({"distill",
                 "none, or inplace: with sandwich sampling the other structures learn from the full width's "
                 "predictions on the same batch (in-place distillation, US-Nets/BigNAS).",
                 "kind", "none"});
    p.addOption({"distill-temperature", "Temperature of in-place distillation.", "T",
                 QString::number(d.inplaceTemperature)});
    p.addOption(
        {"seed", "Seed of data order, encodings, search split and initialisation.", "n", "1"});
    p.addOption({"checkpoint",
                 "Checkpoint file (default: next to the project, named by the settings).", "file"});
}

TrainConfig trainConfigOf(const Parser& p) {
    TrainConfig c;
    c.family = p.value("family").toStdString();
    c.preset = p.value("preset").toStdString();
    if (p.isSet("arch-file")) {
        // The description itself goes into the settings (and so into the project and the
        // checkpoint): the training does not depend on the file staying where it is.
        if (p.isSet("family") || p.isSet("preset"))
            throw UsageError("give either --arch-file or --family/--preset");
        const QString file = QFileInfo(p.value("arch-file")).absoluteFilePath();
        TrainedWeights weights; // read to check them now; training reads them again from the file
        ArchSpec a = file.endsWith(".onnx") ? importOnnx(file.toStdString(), nullptr, &weights)
                                            : readArchitectureFile(file.toStdString());
        if (p.isSet("mean") || p.isSet("std")) {
            a.inputMean = preprocessingOf(p, "mean", a.inChannels, 0.0f);
            a.inputStd = preprocessingOf(p, "std", a.inChannels, 1.0f);
        }
        c.family = a.family;
        c.preset = a.preset;
        c.architecture = QJsonDocument::fromJson(QByteArray::fromStdString(toArchitectureJson(a)))
                             .toJson(QJsonDocument::Compact)
                             .toStdString();
    }
    c.dataPath = QFileInfo(p.value("data")).absoluteFilePath().toStdString();
    c.dataFormat = p.value("format").toStdString();
    c.trainPerClass = intValue(p, "train-per-class", 0, 1 << 30);
    c.testPerClass = intValue(p, "test-per-class", 0, 1 << 30);
    if (p.value("search-per-class") == "auto") {
        c.searchPerClass = 0;
    } else {
        bool ok = false;
        c.searchPerClass = p.value("search-per-class").toInt(&ok);
        if (!ok || c.searchPerClass < 1)
            throw UsageError("--search-per-class must be auto or a number of images per class (1 or more), got '" +
                             p.value("search-per-class").toStdString() + "'");
    }
    c.epochs = intValue(p, "epochs", 1, 100000);
    c.batchSize = intValue(p, "batch-size", 2, 1 << 16);
    c.lr = doubleValue(p, "lr", 1e-8, 100);
    c.warmupSteps = intValue(p, "warmup-steps", 0, 1 << 30);
    c.weightDecay = doubleValue(p, "weight-decay", 0, 1);
    c.labelSmoothing = doubleValue(p, "label-smoothing", 0, 0.99);
    c.augment = p.isSet("augment");
    c.fullWidthProb = doubleValue(p, "full-width-prob", 0, 1);
    const QString u = p.value("generator-update");
    if (u != "sparse" && u != "dense")
        throw UsageError("--generator-update must be sparse or dense");
    c.update = u == "dense" ? GeneratorUpdate::Dense : GeneratorUpdate::Sparse;
    try {
        c.sampling = parseSampling(p.value("sampling").toStdString());
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--sampling: ") + e.what());
    }
    c.sandwichRandom = intValue(p, "sandwich-random", 0, 16);
    if (p.isSet("sandwich-random") && c.sampling != Sampling::Sandwich)
        throw UsageError("--sandwich-random sets the random structures of a sandwich step: add --sampling sandwich");
    c.syncBatchNorm = p.isSet("sync-bn");
    const QString distill = p.value("distill");
    if (distill != "none" && distill != "inplace")
        throw UsageError("--distill must be none or inplace");
    c.inplaceDistill = distill == "inplace";
    if (c.inplaceDistill && c.sampling != Sampling::Sandwich)
        throw UsageError("--distill inplace needs --sampling sandwich (the full width in every step is the teacher)");
    c.inplaceTemperature = doubleValue(p, "distill-temperature", 1e-3, 100);
    if (p.isSet("distill-temperature") && !c.inplaceDistill)
        throw UsageError("--distill-temperature is the temperature of --distill inplace: add it");
    c.seed = seedValue(p);
    if (p.isSet("size"))
        std::tie(c.inputHeight, c.inputWidth) = sizeValue(p, "size");
    c.maxBad = doubleValue(p, "max-bad", 0, 1);
    const bool hasWeights = !c.architecture.empty() && !architectureFromJson(c.architecture).weightsFile.empty();
    const QString init = p.isSet("init") ? p.value("init") : hasWeights ? "weights" : "random";
    if (init != "weights" && init != "random")
        throw UsageError("--init must be weights or random");
    c.initFromWeights = init == "weights";
    if (c.initFromWeights && !hasWeights)
        throw UsageError("--init weights needs --arch-file with trained weights (an .onnx model, or the .arch.json "
                         "that `metaprune import` wrote for one)");
    // A warm start at the from-scratch rate would first wreck the trained weights.
    if (c.initFromWeights && !p.isSet("lr"))
        c.lr = kWarmStartLr;
    return c;
}

void addRecalOptions(Parser& p, const EvalSettings& d) {
    p.addOption({"recal-batches", "BN recalibration batches per candidate.", "n",
                 QString::number(d.recalBatches)});
    p.addOption({"recal-batch-size", "BN recalibration batch size.", "n",
                 QString::number(d.recalBatchSize)});
}

void addEvalOptions(Parser& p, const EvalSettings& d) {
    addRecalOptions(p, d);
    p.addOption({{"search-images", "eval-images"},
                 "Search-split images scored per candidate, the same images for every candidate (0 = the whole "
                 "split).",
                 "n", QString::number(d.evalImages)});
}

EvalSettings evalSettingsOf(const Parser& p) {
    EvalSettings e;
    e.recalBatches = intValue(p, "recal-batches", 1, 100000);
    e.recalBatchSize = intValue(p, "recal-batch-size", 2, 1 << 16);
    if (p.values("search-images").size() > 1) // the option and its alias --eval-images both given
        throw UsageError("--search-images (or --eval-images, the same option) is given more than once");
    e.evalImages = intValue(p, "search-images", 0, 1 << 30);
    return e;
}

void addSearchOptions(Parser& p, const SearchConfig& d, const QString& defaultMax) {
    p.addOption({"max-macs",
                 "MACs constraint per image: 3.5M, 800k, 50% of the full network, or none.", "macs",
                 defaultMax});
    p.addOption({"min-macs", "Lower MACs bound, for a [min, max] band.", "macs", "0"});
    p.addOption({"max-latency",
                 "Latency constraint (ms), predicted by this machine's latency table (measured "
                 "first if the project has none; see `metaprune latency`).",
                 "ms"});
    p.addOption({"min-latency", "Lower latency bound (ms), for a band.", "ms"});
    p.addOption({"latency-batch", "Batch size the latency table is measured at.", "n", "1"});
    p.addOption({"latency-grid-step",
                 "Scale-index step of the latency table's grid (0 = any stored table).", "n", "0"});
    p.addOption({"no-uniform", "Skip the uniform width-multiplier baselines."});
    addEvolutionOptions(p, d);
}

void addEvolutionOptions(Parser& p, const SearchConfig& d, bool seedOption) {
    p.addOption({"population", "Population size.", "n", QString::number(d.population)});
    // No fixed defaults: they follow --population (the reference's 10, 25, 25 at 50), so a
    // small population needs no other option.
    p.addOption({"parents", QString("Top-k parents per generation (default: %1, or the population when smaller).")
                                .arg(d.parents),
                 "n"});
    p.addOption({"mutations", "Mutants per generation (default: half the population).", "n"});
    p.addOption({"crossovers", "Crossovers per generation (default: half the population).", "n"});
    p.addOption(
        {"mutation-prob", "Per-gene mutation probability.", "p", QString::number(d.mutationProb)});
    p.addOption({"generations", "Generations.", "n", QString::number(d.generations)});
    if (seedOption) p.addOption({"search-seed", "Seed of the search.", "n", QString::number(d.seed)});
    p.addOption({"score",
                 "What ranks candidates: top1 (the reference) or loss (cross-entropy on the search split); each "
                 "breaks the other's ties. Recorded with the run.",
                 "name", QString::fromStdString(searchScoreName(d.score))});
}

SearchConfig searchConfigOf(const Parser& p, const ArchSpec& arch) {
    SearchConfig c;
    const int64_t full = countMacs(arch, uniformEncoding(arch, grid::kSize - 1));
    if (p.value("max-macs") == "none") {
        c.maxMacs = 0;
    } else {
        c.maxMacs = parseMacs(p.value("max-macs").toStdString(), full);
        if (c.maxMacs <= 0)
            throw UsageError("--max-macs must be positive (use 'none' for no upper bound)");
        if (c.maxMacs > full)
            throw UsageError("--max-macs " + p.value("max-macs").toStdString() + " is above the full network's " +
                             formatMacs(full) + " MACs (100%); use at most 100%, or 'none' for no upper bound");
    }
    c.minMacs = parseMacs(p.value("min-macs").toStdString(), full);
    evolutionOf(p, c);
    c.uniformBaselines = !p.isSet("no-uniform");
    if (p.isSet("max-latency")) c.maxLatencyMs = doubleValue(p, "max-latency", 1e-6, 1e9);
    if (p.isSet("min-latency")) c.minLatencyMs = doubleValue(p, "min-latency", 0, 1e9);
    return c;
}

/// Population, operators, generations, seed, baselines and evaluation settings of a search.
void evolutionOf(const Parser& p, SearchConfig& c, bool seedOption) {
    c.population = intValue(p, "population", 1, 100000);
    c.parents = p.isSet("parents") ? intValue(p, "parents", 1, 100000) : std::min(c.parents, c.population);
    c.mutations = p.isSet("mutations") ? intValue(p, "mutations", 0, 100000) : c.population / 2;
    c.crossovers = p.isSet("crossovers") ? intValue(p, "crossovers", 0, 100000) : c.population / 2;
    c.mutationProb = doubleValue(p, "mutation-prob", 0, 1);
    c.generations = intValue(p, "generations", 1, 100000);
    if (seedOption) {
        bool ok = false;
        c.seed = p.value("search-seed").toULongLong(&ok);
        if (!ok) throw UsageError("--search-seed must be a non-negative integer");
    }
    try {
        c.score = parseSearchScore(p.value("score").toStdString());
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--score: ") + e.what());
    }
    c.eval = evalSettingsOf(p);
}

void addArchitectureOptions(Parser& p) {
    p.addOption({"family", "Architecture family (mobilenetv2, mobilenetv1, resnet).", "name", "mobilenetv2"});
    p.addOption({"preset", "Preset: small or paper.", "name", "small"});
    p.addOption({"arch-file", "An architecture file (.arch.json, see `metaprune import` for ONNX models) "
                              "instead of --family/--preset.",
                 "file"});
    p.addOption({"channels", "Input channels (default: 1, or the file's).", "n"});
    p.addOption({"size", "Input height and width, as H or HxW (default: 28, or the file's).", "size"});
    p.addOption({"classes", "Classes (default: 10, or the file's).", "n"});
}

std::pair<int, int> sizeValue(const Parser& p, const QString& name) {
    const QStringList parts = p.value(name).split('x');
    bool okH = false, okW = false;
    const int h = parts.value(0).toInt(&okH);
    const int w = parts.size() == 2 ? parts[1].toInt(&okW) : h;
    okW = parts.size() == 1 ? okH : okW;
    if (parts.size() > 2 || !okH || !okW || h < 1 || w < 1 || h > 8192 || w > 8192)
        throw UsageError("--" + name.toStdString() + " must be H or HxW in pixels (1..8192), got '" +
                         p.value(name).toStdString() + "'");
    return {h, w};
}

ArchSpec architectureFromOptions(const Parser& p) {
    if (p.isSet("arch-file")) {
        if (p.isSet("family") || p.isSet("preset"))
            throw UsageError("give either --arch-file or --family/--preset");
        const QString path = QFileInfo(p.value("arch-file")).absoluteFilePath();
        const ArchSpec file = path.endsWith(".onnx") ? importOnnx(path.toStdString())
                                                     : readArchitectureFile(path.toStdString());
        const auto [h, w] = p.isSet("size") ? sizeValue(p, "size") : std::make_pair(file.inHeight, file.inWidth);
        return resizeArchitecture(file, p.isSet("channels") ? intValue(p, "channels", 1, 1024) : file.inChannels, h,
                                  w, p.isSet("classes") ? intValue(p, "classes", 1, 1 << 20) : file.classes);
    }
    const auto [h, w] = p.isSet("size") ? sizeValue(p, "size") : std::make_pair(28, 28);
    return makeArchitecture(p.value("family").toStdString(), p.value("preset").toStdString(),
                            p.isSet("channels") ? intValue(p, "channels", 1, 1024) : 1, h, w,
                            p.isSet("classes") ? intValue(p, "classes", 1, 1 << 20) : 10);
}

/// --training, --checkpoint and --data: which PruningNet a command uses (resolveCheckpoint) and
/// where its data is (dataForCheckpoint). `purpose` ends "whose PruningNet ...".
void addCheckpointOptions(Parser& p, const QString& purpose) {
    p.addOption(
        {"training", "Training (id in the project) whose PruningNet " + purpose + ".", "id"});
    p.addOption({"checkpoint", "PruningNet checkpoint (instead of --training).", "file"});
    p.addOption({"data", "Override the data folder recorded in the checkpoint.", "path"});
    addLoaderOptions(p);
}

/// The checkpoint a command works on: --checkpoint, else --training N of the project, else the
/// project's latest finished training.
TrainedRef resolveCheckpoint(const Parser& p) {
    TrainedRef ref;
    if (p.isSet("checkpoint")) {
        ref.checkpoint = QFileInfo(p.value("checkpoint")).absoluteFilePath().toStdString();
        if (QFileInfo::exists(p.value("db"))) {
            const Store store(p.value("db").toStdString(), StoreMode::ReadOnly);
            if (auto t = store.trainingByCheckpoint(ref.checkpoint)) ref.trainingId = t->id;
        }
        return ref;
    }
    const std::string db = p.value("db").toStdString();
    if (!QFileInfo::exists(p.value("db")))
        throw std::runtime_error("project " + db + " does not exist; train first, or give --checkpoint");
    const Store store(db, StoreMode::ReadOnly); // finding the checkpoint never writes
    std::optional<TrainingRecord> t;
    if (p.isSet("training")) {
        t = store.training(intValue(p, "training", 1, 1 << 30));
        if (!t)
            throw UsageError("project " + db + " has no training " +
                             p.value("training").toStdString());
    } else {
        for (const TrainingRecord& r : store.trainings())
            if (r.status == "finished") t = r;
        if (!t)
            throw UsageError("project " + db +
                             " has no finished training; run `metaprune train` first (the same "
                             "command resumes an unfinished one)");
    }
    ref.checkpoint = t->checkpoint;
    ref.trainingId = t->id;
    verifyCheckpoint(*t);
    return ref;
}

DataBundle dataForCheckpoint(const CheckpointInfo& info, const Parser& p) {
    TrainConfig cfg = info.config;
    if (p.isSet("data")) cfg.dataPath = QFileInfo(p.value("data")).absoluteFilePath().toStdString();
    // The network's input size: image folders trained before the size was a setting were read
    // at their first image's size.
    cfg.inputHeight = info.inHeight;
    cfg.inputWidth = info.inWidth;
    return loadDataFor(cfg, p);
}

void addStructureOptions(Parser& p) {
    addCheckpointOptions(p, "to use");
    p.addOption({"candidate", "Stored candidate id (see `metaprune pareto --all`).", "id"});
    p.addOption({"encoding", "Comma-separated scale indices (0..30), one per gene.", "genes"});
    p.addOption({"uniform", "Uniform network at scale index i (0..30; 30 = full width).", "i"});
}

/// The encoding a command acts on: --candidate (a stored candidate), --encoding or --uniform.
Encoding encodingOf(const Parser& p, const ArchSpec& arch,
                    std::optional<CandidateRecord>* candidate) {
    const int given =
        int(p.isSet("candidate")) + int(p.isSet("encoding")) + int(p.isSet("uniform"));
    if (given != 1) throw UsageError("give exactly one of --candidate, --encoding or --uniform");
    if (p.isSet("candidate")) {
        const Store store(p.value("db").toStdString(), StoreMode::ReadOnly);
        const auto c = store.candidate(intValue(p, "candidate", 1, 1 << 30));
        if (!c)
            throw UsageError("project " + p.value("db").toStdString() + " has no candidate " +
                             p.value("candidate").toStdString() + " (see metaprune pareto --all)");
        if (const std::string damage = candidateDamage(arch, *c); !damage.empty())
            throw UsageError("candidate " + std::to_string(c->id) + " is damaged in the project (" +
                             damage + "); choose another (metaprune pareto --all)");
        if (candidate) *candidate = c;
        return c->genes;
    }
    if (p.isSet("encoding")) return parseEncoding(arch, p.value("encoding").toStdString());
    return uniformEncoding(arch, intValue(p, "uniform", 0, grid::kSize - 1));
}

ExportFormat formatOf(const Parser& p, const QString& option, const QString& path) {
    QString f = p.value(option);
    if (f == "auto")
        f = path.endsWith(".onnx")         ? "onnx"
            : path.endsWith(".archive.pt") ? "archive"
                                           : "torchscript";
    ExportFormat format;
    try {
        format = parseExportFormat(f.toStdString());
    } catch (const std::invalid_argument& e) {
        throw UsageError("--" + option.toStdString() + ": " + e.what());
    }
    if (!path.isEmpty() && !path.endsWith(QString::fromStdString(exportExtension(format))))
        std::fprintf(stderr,
                     "metaprune: warning: writing %s to %s, whose name does not end in %s\n",
                     qPrintable(f), qPrintable(path), exportExtension(format).c_str());
    return format;
}

/// Fails before any work when `path` cannot be created: its folder is missing or read-only.
void checkWritable(const QString& path) {
    const QFileInfo dir(QFileInfo(path).absolutePath());
    if (!dir.isDir())
        throw std::runtime_error(path.toStdString() + ": folder " + dir.filePath().toStdString() +
                                 " does not exist");
    if (!dir.isWritable())
        throw std::runtime_error(path.toStdString() + ": folder " + dir.filePath().toStdString() +
                                 " is not writable");
}

/// --json, or the output's whole file name + ".json" (net.onnx -> net.onnx.json), so that the
/// metadata of net.onnx and net.pt never overwrite each other.
QString jsonPathFor(const Parser& p, const QString& output) {
    const QString json = p.optionNames().contains("json") ? p.value("json") : output + ".json";
    if (QFileInfo(json).absoluteFilePath() == QFileInfo(output).absoluteFilePath())
        throw UsageError("--json names the exported file itself (" + output.toStdString() + ")");
    return json;
}

void addRetrainOptions(Parser& p, const RetrainConfig& d) {
    p.addOption(
        {"mode",
         "scratch (fresh initialisation, the paper's protocol), finetune (from the PruningNet's "
         "weights) or inherit (from the trained model's most important channels; a PruningNet started "
         "from a trained model).",
         "name", QString::fromStdString(retrainModeName(d.mode))});
    p.addOption({"distill", "Add knowledge distillation from the trained full model (any mode; a PruningNet started "
                            "from a trained model)."});
    p.addOption({"temperature", "Distillation temperature T.", "T", QString::number(d.distillTemperature)});
    p.addOption({"alpha", "Weight of the distillation term (1 - alpha on the labels).", "a",
                 QString::number(d.distillAlpha)});
    p.addOption({"epochs", "Retraining epochs.", "n", QString::number(d.epochs)});
    p.addOption({"batch-size", "Retraining batch size.", "n", QString::number(d.batchSize)});
    p.addOption({"lr",
                 "Peak learning rate (linear warm-up, then linear decay to 0); with --mode inherit " +
                     QString::number(kInheritLr) + " unless given.",
                 "x", QString::number(d.lr)});
    p.addOption(
        {"warmup-steps", "Learning-rate warm-up steps.", "n", QString::number(d.warmupSteps)});
    p.addOption({"weight-decay", "Weight decay on conv and linear weights.", "x",
                 QString::number(d.weightDecay)});
    p.addOption({"label-smoothing", "Label smoothing.", "x", QString::number(d.labelSmoothing)});
    p.addOption({"augment", "Random shifts and horizontal flips while retraining."});
}

RetrainConfig retrainConfigOf(const Parser& p) {
    RetrainConfig c;
    try {
        c.mode = parseRetrainMode(p.value("mode").toStdString());
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--mode: ") + e.what());
    }
    c.epochs = intValue(p, "epochs", 1, 10000);
    c.batchSize = intValue(p, "batch-size", 2, 1 << 16);
    c.lr = c.mode == RetrainMode::Inherit && !p.isSet("lr") ? kInheritLr : doubleValue(p, "lr", 1e-8, 100);
    c.warmupSteps = intValue(p, "warmup-steps", 0, 1 << 30);
    c.weightDecay = doubleValue(p, "weight-decay", 0, 1);
    c.labelSmoothing = doubleValue(p, "label-smoothing", 0, 0.99);
    c.augment = p.isSet("augment");
    c.distill = p.isSet("distill");
    c.distillTemperature = doubleValue(p, "temperature", 0.01, 1000);
    c.distillAlpha = doubleValue(p, "alpha", 0, 1);
    if (!c.distill && (p.isSet("temperature") || p.isSet("alpha")))
        throw UsageError("--temperature and --alpha set the distillation: give --distill too");
    if (c.distill && c.distillAlpha == 0)
        throw UsageError("--alpha 0 gives the distillation no weight: leave out --distill instead");
    return c;
}

std::vector<uint64_t> seedsOf(const Parser& p, const QString& name) {
    std::vector<uint64_t> out;
    for (const QString& s : p.value(name).split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const uint64_t seed = s.trimmed().toULongLong(&ok);
        if (!ok)
            throw UsageError("--" + name.toStdString() +
                             " must be comma-separated non-negative integers");
        if (std::find(out.begin(), out.end(), seed) != out.end())
            throw UsageError("--" + name.toStdString() + " lists seed " + std::to_string(seed) +
                             " twice");
        out.push_back(seed);
    }
    if (out.empty()) throw UsageError("--" + name.toStdString() + " needs at least one seed");
    return out;
}

} // namespace mpcli

namespace mpcli {

void addPreprocessingOptions(Parser& p) {
    p.addOption({"mean", "Input mean the trained model expects, on pixels scaled to 0..1: one value, or one per "
                         "channel (comma-separated).",
                 "m"});
    p.addOption({"std", "Input standard deviation the trained model expects (as --mean).", "s"});
}

std::vector<float> preprocessingValues(const Parser& p, const QString& name) {
    if (p.isSet("mean") != p.isSet("std")) // half a normalisation silently scores another model
        throw UsageError("give --mean and --std together: the normalisation the model was trained with");
    std::vector<float> v;
    if (!p.isSet(name))
        return v;
    for (const QString& part : p.value(name).split(',')) {
        bool ok = false;
        const double x = part.trimmed().toDouble(&ok);
        if (!ok || !std::isfinite(x) || (name == "std" && !(x > 0)))
            throw UsageError("--" + name.toStdString() + " '" + p.value(name).toStdString() + "': give " +
                             (name == "std" ? "positive numbers" : "numbers") + " (one, or one per channel)");
        if (std::abs(x) > 2)
            throw UsageError("--" + name.toStdString() + " '" + p.value(name).toStdString() +
                             "': the values apply to pixels scaled to 0..1 (divide values on the 0..255 scale by "
                             "255)");
        v.push_back(float(x));
    }
    return v;
}

std::vector<float> preprocessingOf(const Parser& p, const QString& name, int channels, float fallback) {
    const std::vector<float> v = preprocessingValues(p, name);
    if (v.empty())
        return std::vector<float>(size_t(channels), fallback);
    if (v.size() == 1)
        return std::vector<float>(size_t(channels), v[0]);
    if (int(v.size()) != channels)
        throw UsageError("--" + name.toStdString() + " has " + std::to_string(v.size()) + " values; the model reads " +
                         std::to_string(channels) + " input channel" + (channels == 1 ? "" : "s") +
                         " (give one value, or one per channel)");
    return v;
}

std::string floatsText(const std::vector<float>& values) {
    std::string s;
    char v[32];
    for (size_t i = 0; i < values.size(); ++i) {
        std::snprintf(v, sizeof v, "%s%g", i ? "," : "", double(values[i]));
        s += v;
    }
    return s;
}

} // namespace mpcli
