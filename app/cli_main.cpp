// metaprune: the headless command line of MetaPrune Studio (train, search, evaluate, pareto,
// demo, bench, arch). Parses options with QCommandLineParser and drives the core.

#include "metaprune/architecture.h"
#include "metaprune/bench.h"
#include "metaprune/compare.h"
#include "metaprune/evaluator.h"
#include "metaprune/pareto.h"
#include "metaprune/latency.h"
#include "metaprune/project.h"
#include "reportchart.h"

#include <QApplication>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <chrono>
#include <cmath>
#include <csignal>
#include <numeric>
#include <thread>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unistd.h>

using namespace mp;

namespace {

std::atomic<bool> gCancel{false};

extern "C" void onInterrupt(int) {
    if (gCancel.load()) {
        // A second Ctrl-C quits at once; write() is async-signal-safe, printf is not.
        const char msg[] = "\nmetaprune: interrupted again, quitting now; everything committed is kept, run the same "
                           "command to resume\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        _exit(130);
    }
    gCancel.store(true);
}

using Clock = std::chrono::steady_clock;

std::string duration(double s) {
    char buf[32];
    const long t = long(s + 0.5);
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", t);
    return buf;
}

/// Progress with percentage and ETA on stderr: one rewritten line on a terminal, a line per
/// 10% (or 30 s) otherwise, so logs stay readable.
class Progress {
public:
    explicit Progress(std::string label) : label_(std::move(label)), tty_(isatty(STDERR_FILENO)), start_(Clock::now()) {}
    ~Progress() { done(); }

    void update(int64_t done, int64_t total, const std::string& extra = {}) {
        if (total <= 0)
            return;
        const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
        const int pct = int(100.0 * double(done) / double(total));
        if (first_ < 0)
            first_ = done;
        const int64_t doneHere = done - first_;
        const std::string eta =
            doneHere > 0 && done < total ? " ETA " + duration(elapsed / double(doneHere) * double(total - done)) : "";
        char line[256];
        std::snprintf(line, sizeof line, "%-8s %3d%%  %lld/%lld  %s%s  %s", label_.c_str(), pct,
                      static_cast<long long>(done), static_cast<long long>(total), duration(elapsed).c_str(),
                      eta.c_str(), extra.c_str());
        if (tty_) {
            std::fprintf(stderr, "\r%-110s", line);
            open_ = true;
        } else if (pct / 10 != lastDecile_ || elapsed - lastPrint_ > 30 || done == total) {
            std::fprintf(stderr, "%s\n", line);
            lastDecile_ = pct / 10;
            lastPrint_ = elapsed;
        }
        std::fflush(stderr);
    }
    /// Ends the rewritten line before other output.
    void done() {
        if (open_)
            std::fprintf(stderr, "\n");
        open_ = false;
    }

private:
    std::string label_;
    bool tty_;
    Clock::time_point start_;
    int64_t first_ = -1;
    int lastDecile_ = -1;
    double lastPrint_ = 0;
    bool open_ = false;
};

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// QCommandLineParser with every option's default shown in --help.
class Parser : public QCommandLineParser {
public:
    bool addOption(const QCommandLineOption& o) {
        if (o.defaultValues().isEmpty() || o.valueName().isEmpty())
            return QCommandLineParser::addOption(o);
        QCommandLineOption shown(o.names(), o.description() + " Default: " + o.defaultValues().join(", ") + ".",
                                 o.valueName(), o.defaultValues().value(0));
        return QCommandLineParser::addOption(shown);
    }
};

// ---- option helpers -------------------------------------------------------------------------

int intValue(const Parser& p, const QString& name, int lo, int hi) {
    bool ok = false;
    const int v = p.value(name).toInt(&ok);
    if (!ok || v < lo || v > hi)
        throw UsageError("--" + name.toStdString() + " must be an integer in " + std::to_string(lo) + ".." +
                         std::to_string(hi) + ", got '" + p.value(name).toStdString() + "'");
    return v;
}

double doubleValue(const Parser& p, const QString& name, double lo, double hi) {
    bool ok = false;
    const double v = p.value(name).toDouble(&ok);
    if (!ok || !std::isfinite(v) || v < lo || v > hi)
        throw UsageError("--" + name.toStdString() + " must be a number in " + QString::number(lo).toStdString() +
                         ".." + QString::number(hi).toStdString() + ", got '" + p.value(name).toStdString() + "'");
    return v;
}

/// Parses the command's options; bad usage (unknown option, missing value, stray argument)
/// throws UsageError so that it exits with code 2, as --help and the README say.
void parseOptions(Parser& p, const QStringList& args) {
    if (!p.parse(args))
        throw UsageError(p.errorText().toStdString());
    if (p.isSet("help"))
        p.showHelp(0);
    const QStringList extra = p.positionalArguments().mid(1);
    if (!extra.isEmpty())
        throw UsageError("unexpected argument '" + extra.first().toStdString() + "'");
}



uint64_t seedValue(const Parser& p) {
    bool ok = false;
    const uint64_t v = p.value("seed").toULongLong(&ok);
    if (!ok)
        throw UsageError("--seed must be a non-negative integer");
    return v;
}

void addCommon(Parser& p, const QString& defaultDb) {
    p.addOption({"db", "Project database (SQLite) file.", "file", defaultDb});
    p.addOption({"threads", "LibTorch threads (0 = all cores; 1 is safest on a shared machine).", "n", "1"});
}

void addDataOptions(Parser& p) {
    p.addOption({"data", "Data folder: IDX files, CIFAR binary batches, or one folder per class.", "path",
                 kDefaultDataPath});
    p.addOption({"format", "Data format: auto, idx, cifar, folder.", "name", "auto"});
    p.addOption({"train-per-class", "Use at most this many training images per class (0 = all).", "n", "0"});
    p.addOption({"test-per-class", "Use at most this many test images per class (0 = all).", "n", "0"});
    p.addOption({"search-per-class", "Images per class held out of training as the search split.", "n", "500"});
}

void addTrainOptions(Parser& p, const TrainConfig& d) {
    p.addOption({"family", "Architecture family (mobilenetv2, mobilenetv1, resnet).", "name",
                 QString::fromStdString(d.family)});
    p.addOption({"preset", "Architecture preset: small (28x28/32x32 data) or paper (reference widths).", "name",
                 QString::fromStdString(d.preset)});
    p.addOption({"epochs", "Training epochs.", "n", QString::number(d.epochs)});
    p.addOption({"batch-size", "Training batch size.", "n", QString::number(d.batchSize)});
    p.addOption({"lr", "Peak learning rate (linear warm-up, then linear decay to 0).", "x", QString::number(d.lr)});
    p.addOption({"warmup-steps", "Learning-rate warm-up steps.", "n", QString::number(d.warmupSteps)});
    p.addOption({"weight-decay", "Weight decay (the reference uses 0).", "x", QString::number(d.weightDecay)});
    p.addOption({"label-smoothing", "Label smoothing.", "x", QString::number(d.labelSmoothing)});
    p.addOption({"augment", "Random shifts (size/8 pixels) and horizontal flips while training."});
    p.addOption({"full-width-prob", "Probability of training the full-width network in a step (0 = reference).",
                 "p", QString::number(d.fullWidthProb)});
    p.addOption({"generator-update",
                 "Generator update: sparse (only this step's weight slice, fast) or dense (every row, "
                 "exactly the reference SGD).",
                 "mode", "sparse"});
    p.addOption({"seed", "Seed of data order, encodings, search split and initialisation.", "n", "1"});
    p.addOption({"checkpoint", "Checkpoint file (default: next to the project, named by the settings).", "file"});
}

TrainConfig trainConfigOf(const Parser& p) {
    TrainConfig c;
    c.family = p.value("family").toStdString();
    c.preset = p.value("preset").toStdString();
    c.dataPath = QFileInfo(p.value("data")).absoluteFilePath().toStdString();
    c.dataFormat = p.value("format").toStdString();
    c.trainPerClass = intValue(p, "train-per-class", 0, 1 << 30);
    c.testPerClass = intValue(p, "test-per-class", 0, 1 << 30);
    c.searchPerClass = intValue(p, "search-per-class", 1, 1 << 30);
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
    c.seed = seedValue(p);
    return c;
}

void addRecalOptions(Parser& p, const EvalSettings& d) {
    p.addOption({"recal-batches", "BN recalibration batches per candidate.", "n", QString::number(d.recalBatches)});
    p.addOption({"recal-batch-size", "BN recalibration batch size.", "n", QString::number(d.recalBatchSize)});
}

void addEvalOptions(Parser& p, const EvalSettings& d) {
    addRecalOptions(p, d);
    p.addOption({"eval-images", "Search-split images scored per candidate (0 = all).", "n",
                 QString::number(d.evalImages)});
}

EvalSettings evalSettingsOf(const Parser& p) {
    EvalSettings e;
    e.recalBatches = intValue(p, "recal-batches", 1, 100000);
    e.recalBatchSize = intValue(p, "recal-batch-size", 2, 1 << 16);
    e.evalImages = intValue(p, "eval-images", 0, 1 << 30);
    return e;
}

void addEvolutionOptions(Parser& p, const SearchConfig& d);

void addSearchOptions(Parser& p, const SearchConfig& d, const QString& defaultMax) {
    p.addOption({"max-macs", "MACs constraint per image: 3.5M, 800k, 50% of the full network, or none.", "macs",
                 defaultMax});
    p.addOption({"min-macs", "Lower MACs bound, for a [min, max] band.", "macs", "0"});
    p.addOption({"max-latency", "Latency constraint (ms), predicted by this machine's latency table (measured "
                                "first if the project has none; see `metaprune latency`).",
                 "ms"});
    p.addOption({"min-latency", "Lower latency bound (ms), for a band.", "ms"});
    p.addOption({"latency-batch", "Batch size the latency table is measured at.", "n", "1"});
    p.addOption({"latency-grid-step", "Scale-index step of the latency table's grid (0 = any stored table).", "n",
                 "0"});
    p.addOption({"no-uniform", "Skip the uniform width-multiplier baselines."});
    addEvolutionOptions(p, d);
}

void addEvolutionOptions(Parser& p, const SearchConfig& d) {
    p.addOption({"population", "Population size.", "n", QString::number(d.population)});
    p.addOption({"parents", "Top-k parents per generation.", "n", QString::number(d.parents)});
    p.addOption({"mutations", "Mutants per generation.", "n", QString::number(d.mutations)});
    p.addOption({"crossovers", "Crossovers per generation.", "n", QString::number(d.crossovers)});
    p.addOption({"mutation-prob", "Per-gene mutation probability.", "p", QString::number(d.mutationProb)});
    p.addOption({"generations", "Generations.", "n", QString::number(d.generations)});
    p.addOption({"search-seed", "Seed of the search.", "n", QString::number(d.seed)});
}

void evolutionOf(const Parser& p, SearchConfig& c);

SearchConfig searchConfigOf(const Parser& p, const ArchSpec& arch) {
    SearchConfig c;
    const int64_t full = countMacs(arch, uniformEncoding(arch, grid::kSize - 1));
    if (p.value("max-macs") == "none") {
        c.maxMacs = 0;
    } else {
        c.maxMacs = parseMacs(p.value("max-macs").toStdString(), full);
        if (c.maxMacs <= 0)
            throw UsageError("--max-macs must be positive (use 'none' for no upper bound)");
    }
    c.minMacs = parseMacs(p.value("min-macs").toStdString(), full);
    evolutionOf(p, c);
    c.uniformBaselines = !p.isSet("no-uniform");
    if (p.isSet("max-latency"))
        c.maxLatencyMs = doubleValue(p, "max-latency", 1e-6, 1e9);
    if (p.isSet("min-latency"))
        c.minLatencyMs = doubleValue(p, "min-latency", 0, 1e9);
    return c;
}

/// Population, operators, generations, seed, baselines and evaluation settings of a search.
void evolutionOf(const Parser& p, SearchConfig& c) {
    c.population = intValue(p, "population", 1, 100000);
    c.parents = intValue(p, "parents", 1, 100000);
    c.mutations = intValue(p, "mutations", 0, 100000);
    c.crossovers = intValue(p, "crossovers", 0, 100000);
    c.mutationProb = doubleValue(p, "mutation-prob", 0, 1);
    c.generations = intValue(p, "generations", 1, 100000);
    bool ok = false;
    c.seed = p.value("search-seed").toULongLong(&ok);
    if (!ok)
        throw UsageError("--search-seed must be a non-negative integer");
    c.eval = evalSettingsOf(p);
}

/// The project's latency table for `arch` (measured now, with progress, if it has none).
LatencyJob latencyFor(const std::string& db, const ArchSpec& arch, int batch, int gridStep, int repeats) {
    Progress bar("latency");
    LatencyJob job = latencyTableFor(
        db, arch, batch, gridStep, repeats, [&bar](int64_t done, int64_t total) { bar.update(done, total); },
        &gCancel);
    bar.done();
    char how[64];
    std::snprintf(how, sizeof how, "measured in %.1f s", job.seconds);
    std::printf("Latency %s (%s)\n", job.description.c_str(), job.measured ? how : "reused from the project");
    std::fflush(stdout);
    return job;
}

// ---- printing -------------------------------------------------------------------------------

std::string genesText(const Encoding& e) { return encodingToString(e); }

void printFront(const std::vector<CandidateRecord>& all, int64_t fullMacs, const SearchConfig* cfg) {
    std::vector<CandidateRecord> searched;
    for (const CandidateRecord& c : all)
        if (c.origin != "uniform" && (!cfg || meetsConstraint(*cfg, c.macs, c.latencyMs)))
            searched.push_back(c);
    std::vector<ParetoPoint> pts;
    for (const CandidateRecord& c : searched)
        pts.push_back({c.macs, c.top1});
    const std::vector<size_t> front = paretoFront(pts);
    std::printf("Pareto front (top-1 on the search split vs MACs; MACs = conv + linear multiply-accumulates per "
                "image):\n");
    std::printf("  %8s %7s %9s %7s %7s  %-9s %4s  %s\n", "MACs", "of full", "params", "top-1", "loss", "origin",
                "gen", "encoding");
    for (size_t i : front) {
        const CandidateRecord& c = searched[i];
        std::printf("  %8s %6.1f%% %9lld %6.2f%% %7.4f  %-9s %4d  %s\n", formatMacs(c.macs).c_str(),
                    100.0 * double(c.macs) / double(fullMacs), static_cast<long long>(c.params), c.top1, c.loss,
                    c.origin.c_str(), c.generation, genesText(c.genes).c_str());
    }
    if (front.empty())
        std::printf("  (no searched candidates)\n");
}

void printBestVsUniform(const CandidateRecord& best, const std::vector<CandidateRecord>& all, int64_t fullMacs) {
    std::printf("Best searched structure: %s MACs (%.1f%% of full), %lld params, top-1 %.2f%% (search split)\n",
                formatMacs(best.macs).c_str(), 100.0 * double(best.macs) / double(fullMacs),
                static_cast<long long>(best.params), best.top1);
    std::printf("  channels: %s\n", channelsToString(best.channels).c_str());
    std::printf("  encoding: %s\n", genesText(best.genes).c_str());
    const std::optional<CandidateRecord> u = uniformBaselineAtLeast(all, best.macs);
    if (u) {
        // Stored genes are canonical; the widest gene keeps the uniform network's own index.
        const int index = *std::max_element(u->genes.begin(), u->genes.end());
        std::printf("Uniform baseline at equal-or-higher MACs: scale %.2f, %s MACs, top-1 %.2f%%  ->  searched %+.2f "
                    "points\n",
                    grid::scale(index), formatMacs(u->macs).c_str(), u->top1, best.top1 - u->top1);
    }
    std::vector<ParetoPoint> uniform;
    for (const CandidateRecord& c : all)
        if (c.origin == "uniform")
            uniform.push_back({c.macs, c.top1});
    double interp = 0;
    if (interpolateTop1(uniform, best.macs, &interp))
        std::printf("Uniform curve interpolated at the same MACs: top-1 %.2f%%  ->  searched %+.2f points\n", interp,
                    best.top1 - interp);
}

// ---- commands -------------------------------------------------------------------------------

/// --training, --checkpoint and --data: which PruningNet a command uses (resolveCheckpoint) and
/// where its data is (dataForCheckpoint). `purpose` ends "whose PruningNet ...".
void addCheckpointOptions(Parser& p, const QString& purpose) {
    p.addOption({"training", "Training (id in the project) whose PruningNet " + purpose + ".", "id"});
    p.addOption({"checkpoint", "PruningNet checkpoint (instead of --training).", "file"});
    p.addOption({"data", "Override the data folder recorded in the checkpoint.", "path"});
}

struct TrainedRef {
    std::string checkpoint;
    int64_t trainingId = 0;
};

/// The checkpoint a command works on: --checkpoint, else --training N of the project, else the
/// project's latest finished training.
TrainedRef resolveCheckpoint(const Parser& p) {
    TrainedRef ref;
    if (p.isSet("checkpoint")) {
        ref.checkpoint = QFileInfo(p.value("checkpoint")).absoluteFilePath().toStdString();
        if (QFileInfo::exists(p.value("db"))) {
            Store store(p.value("db").toStdString());
            if (auto t = store.trainingByCheckpoint(ref.checkpoint))
                ref.trainingId = t->id;
        }
        return ref;
    }
    const std::string db = p.value("db").toStdString();
    if (!QFileInfo::exists(p.value("db")))
        throw UsageError("project " + db + " does not exist; train first, or give --checkpoint");
    Store store(db);
    std::optional<TrainingRecord> t;
    if (p.isSet("training")) {
        t = store.training(intValue(p, "training", 1, 1 << 30));
        if (!t)
            throw UsageError("project " + db + " has no training " + p.value("training").toStdString());
    } else {
        for (const TrainingRecord& r : store.trainings())
            if (r.status == "finished")
                t = r;
        if (!t)
            throw UsageError("project " + db + " has no finished training; run `metaprune train` first (the same "
                             "command resumes an unfinished one)");
    }
    ref.checkpoint = t->checkpoint;
    ref.trainingId = t->id;
    verifyCheckpoint(*t);
    return ref;
}

DataBundle dataForCheckpoint(const CheckpointInfo& info, const Parser& p) {
    TrainConfig cfg = info.config;
    if (p.isSet("data"))
        cfg.dataPath = QFileInfo(p.value("data")).absoluteFilePath().toStdString();
    return loadTrainingData(cfg);
}

TrainJob runTraining(const std::string& db, const DataBundle& data, const TrainConfig& cfg, const std::string& ckpt) {
    std::printf("Training PruningNet %s/%s on %s: %lld training images (%d per class held out for search), "
                "%d epochs, batch %d\n",
                cfg.family.c_str(), cfg.preset.c_str(), data.path.c_str(), static_cast<long long>(data.train.size()),
                cfg.searchPerClass, cfg.epochs, cfg.batchSize);
    std::printf("  checkpoint: %s\n", ckpt.c_str());
    if (QFileInfo::exists(QString::fromStdString(ckpt))) {
        const CheckpointInfo info = readCheckpointInfo(ckpt);
        std::printf("  resuming from its step %lld of %lld\n", static_cast<long long>(info.step),
                    static_cast<long long>(info.totalSteps));
    }
    std::fflush(stdout);
    Progress bar("train");
    TrainCallbacks cb;
    cb.progress = [&bar](const TrainProgress& p) {
        char extra[96];
        std::snprintf(extra, sizeof extra, "epoch %d  loss %.3f  top-1 %.1f%%  lr %.3f", p.epoch + 1, p.loss, p.top1,
                      p.lr);
        bar.update(p.step, p.totalSteps, extra);
    };
    cb.epochEnd = [&bar](const TrainProgress& p) {
        bar.done();
        std::printf("  epoch %d done: loss %.4f, training top-1 %.2f%% (random structures, batch statistics)\n",
                    p.epoch + 1, p.loss, p.top1);
        std::fflush(stdout);
    };
    const TrainJob job = trainInProject(db, data, cfg, ckpt, cb, &gCancel);
    bar.done();
    return job;
}

void reportFullWidth(const std::string& ckpt, const DataBundle& data, const EvalSettings& eval) {
    const Evaluator ev(ckpt, data, eval);
    const Encoding full = uniformEncoding(ev.arch(), grid::kSize - 1);
    const EvalResult r = ev.evaluate(full, EvalSplit::Test, &gCancel);
    std::printf("Full-width PruningNet after BN recalibration: top-1 %.2f%% on the test set (%lld images, %s MACs)\n",
                r.top1, static_cast<long long>(r.images), formatMacs(countMacs(ev.arch(), full)).c_str());
}

int cmdTrain(Parser& p, const QStringList& args) {
    TrainConfig d;
    addCommon(p, "metaprune.sqlite");
    addDataOptions(p);
    addTrainOptions(p, d);
    parseOptions(p, args);
    configureRuntime(intValue(p, "threads", 0, 1024));
    const TrainConfig cfg = trainConfigOf(p);
    const std::string db = p.value("db").toStdString();
    const std::string ckpt = p.isSet("checkpoint") ? QFileInfo(p.value("checkpoint")).absoluteFilePath().toStdString()
                                                   : defaultCheckpointPath(db, cfg);
    const DataBundle data = loadTrainingData(cfg);
    const TrainJob job = runTraining(db, data, cfg, ckpt);
    if (!job.outcome.finished) {
        std::printf("Cancelled at step %lld; the checkpoint is saved. Run the same command to resume.\n",
                    static_cast<long long>(job.outcome.steps));
        return 130;
    }
    std::printf("Training %lld finished (%s in this session).\n", static_cast<long long>(job.trainingId),
                duration(job.outcome.seconds).c_str());
    reportFullWidth(ckpt, data, EvalSettings{});
    return 0;
}

SearchJob runSearchJob(const std::string& db, const Evaluator& ev, const SearchConfig& cfg, int64_t trainingId,
                       const LatencyTable* latency = nullptr) {
    const int64_t full = countMacs(ev.arch(), uniformEncoding(ev.arch(), grid::kSize - 1));
    std::printf("Searching %s/%s: MACs in [%s, %s] (full network %s), population %d, %d generations, eval %d images "
                "after %d x %d BN recalibration images\n",
                ev.checkpoint().config.family.c_str(), ev.checkpoint().config.preset.c_str(),
                formatMacs(cfg.minMacs).c_str(), cfg.maxMacs > 0 ? formatMacs(cfg.maxMacs).c_str() : "inf",
                formatMacs(full).c_str(), cfg.population, cfg.generations, cfg.eval.evalImages, cfg.eval.recalBatches,
                cfg.eval.recalBatchSize);
    std::fflush(stdout);
    Progress bar("search");
    double best = -1;
    SearchCallbacks cb;
    cb.candidate = [&](const CandidateRecord& c, bool) {
        if (c.origin != "uniform" && meetsConstraint(cfg, c.macs, c.latencyMs))
            best = std::max(best, c.top1);
    };
    cb.progress = [&](int64_t done, int64_t total) {
        char extra[64] = "";
        if (best >= 0)
            std::snprintf(extra, sizeof extra, "best top-1 %.2f%%", best);
        bar.update(done, total, extra);
    };
    const SearchJob job = searchInProject(db, ev, cfg, trainingId, cb, &gCancel, latency);
    bar.done();
    std::printf("Run %lld: %lld candidates evaluated now, %lld taken from the store%s, %s.\n",
                static_cast<long long>(job.outcome.runId), static_cast<long long>(job.outcome.evaluated),
                static_cast<long long>(job.outcome.cached), job.resumed ? " (resumed run)" : "",
                duration(job.outcome.seconds).c_str());
    return job;
}

int cmdSearch(Parser& p, const QStringList& args) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "to search with");
    addSearchOptions(p, SearchConfig{}, "50%");
    addEvalOptions(p, EvalSettings{});
    parseOptions(p, args);
    configureRuntime(intValue(p, "threads", 0, 1024));
    const TrainedRef ref = resolveCheckpoint(p);
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    const ArchSpec arch =
        makeArchitecture(info.config.family, info.config.preset, info.inChannels, info.inHeight, info.inWidth,
                         info.classes);
    SearchConfig cfg = searchConfigOf(p, arch);
    std::optional<LatencyJob> latency;
    if (hasLatencyBound(cfg)) {
        latency = latencyFor(p.value("db").toStdString(), arch, intValue(p, "latency-batch", 1, 4096),
                             intValue(p, "latency-grid-step", 0, 30), 5);
        cfg.latencyTable = latency->description;
    }
    checkSearchConfig(arch, cfg, latency ? &latency->table : nullptr);
    const Evaluator ev(ref.checkpoint, data, cfg.eval);
    const SearchJob job = runSearchJob(p.value("db").toStdString(), ev, cfg, ref.trainingId,
                                       latency ? &latency->table : nullptr);
    Store store(p.value("db").toStdString());
    const std::vector<CandidateRecord> all = store.candidates(job.outcome.runId);
    const int64_t full = countMacs(arch, uniformEncoding(arch, grid::kSize - 1));
    printFront(all, full, &cfg);
    if (job.outcome.best)
        printBestVsUniform(*job.outcome.best, all, full);
    if (!job.outcome.finished) {
        std::printf("Cancelled; every evaluated candidate is stored. Run the same command to resume.\n");
        return 130;
    }
    return 0;
}

int cmdEvaluate(Parser& p, const QStringList& args) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "to use");
    p.addOption({"encoding", "Comma-separated scale indices (0..30), one per gene (see `metaprune arch`).", "genes"});
    p.addOption({"uniform", "Uniform network at scale index i (0..30; 30 = full width).", "i"});
    p.addOption({"test", "Score on the official test set instead of the search split."});
    p.addOption({"no-recal", "Skip BN recalibration (shows why it is mandatory)."});
    addEvalOptions(p, EvalSettings{});
    parseOptions(p, args);
    configureRuntime(intValue(p, "threads", 0, 1024));
    const TrainedRef ref = resolveCheckpoint(p);
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    EvalSettings es = evalSettingsOf(p);
    es.recalibrate = !p.isSet("no-recal");
    const Evaluator ev(ref.checkpoint, data, es);
    Encoding enc;
    if (p.isSet("encoding") == p.isSet("uniform"))
        throw UsageError("give exactly one of --encoding or --uniform");
    if (p.isSet("encoding"))
        enc = parseEncoding(ev.arch(), p.value("encoding").toStdString());
    else
        enc = uniformEncoding(ev.arch(), intValue(p, "uniform", 0, grid::kSize - 1));
    const EvalResult r = ev.evaluate(enc, p.isSet("test") ? EvalSplit::Test : EvalSplit::Search, &gCancel);
    const int64_t full = countMacs(ev.arch(), uniformEncoding(ev.arch(), grid::kSize - 1));
    std::printf("encoding: %s\nchannels: %s\nMACs: %s (%.1f%% of full)  params: %lld\n", genesText(enc).c_str(),
                channelsToString(geneChannels(ev.arch(), enc)).c_str(), formatMacs(countMacs(ev.arch(), enc)).c_str(),
                100.0 * double(countMacs(ev.arch(), enc)) / double(full),
                static_cast<long long>(countParams(ev.arch(), enc)));
    std::printf("top-1 %.2f%%  loss %.4f  on %lld %s images%s  (%.0f ms)\n", r.top1, r.loss,
                static_cast<long long>(r.images), p.isSet("test") ? "test" : "search-split",
                es.recalibrate ? "" : " WITHOUT BN recalibration", r.milliseconds);
    return 0;
}

int cmdPareto(Parser& p, const QStringList& args) {
    addCommon(p, "metaprune.sqlite");
    p.addOption({"run", "Search run id (default: every search run of the project).", "id"});
    p.addOption({"all", "List every stored candidate, not only the Pareto front."});
    p.addOption({"format", "Output format: table, csv or json.", "name", "table"});
    parseOptions(p, args);
    const std::string db = p.value("db").toStdString();
    if (!QFileInfo::exists(p.value("db")))
        throw UsageError("project " + db + " does not exist");
    const QString format = p.value("format");
    if (format != "table" && format != "csv" && format != "json")
        throw UsageError("--format must be table, csv or json");
    Store store(db);
    std::vector<RunRecord> runs;
    if (p.isSet("run")) {
        const auto r = store.run(intValue(p, "run", 1, 1 << 30));
        if (!r)
            throw UsageError("project " + db + " has no run " + p.value("run").toStdString());
        runs.push_back(*r);
    } else {
        runs = store.runs();
    }
    if (runs.empty() && format == "table")
        std::printf("Project %s has no search runs yet (metaprune search --db %s).\n", db.c_str(), db.c_str());
    QJsonArray json;
    if (format == "csv")
        std::printf("run,id,macs,params,top1,loss,origin,generation,on_front,genes,channels,latency_ms\n");
    for (const RunRecord& run : runs) {
        const std::vector<CandidateRecord> all = store.candidates(run.id);
        const SearchConfig cfg = searchConfigFromJson(run.config);
        std::vector<ParetoPoint> pts;
        std::vector<size_t> searchedIdx;
        for (size_t i = 0; i < all.size(); ++i)
            if (all[i].origin != "uniform" && meetsConstraint(cfg, all[i].macs, all[i].latencyMs)) {
                pts.push_back({all[i].macs, all[i].top1});
                searchedIdx.push_back(i);
            }
        std::vector<bool> onFront(all.size(), false);
        std::vector<size_t> order; // the front by increasing MACs, or every candidate by id
        for (size_t f : paretoFront(pts)) {
            onFront[searchedIdx[f]] = true;
            order.push_back(searchedIdx[f]);
        }
        if (p.isSet("all")) {
            order.resize(all.size());
            std::iota(order.begin(), order.end(), size_t(0));
        }
        if (format == "table")
            std::printf("Run %lld (%s, %s, status %s, %lld candidates, MACs in [%s, %s])\n",
                        static_cast<long long>(run.id), run.arch.c_str(), run.created.c_str(), run.status.c_str(),
                        static_cast<long long>(all.size()), formatMacs(cfg.minMacs).c_str(),
                        cfg.maxMacs > 0 ? formatMacs(cfg.maxMacs).c_str() : "inf");
        if (format == "table")
            std::printf("  %6s %8s %9s %7s %7s  %-9s %4s %5s  %s\n", "id", "MACs", "params", "top-1", "loss", "origin",
                        "gen", "front", "encoding");
        for (size_t i : order) {
            const CandidateRecord& c = all[i];
            if (format == "table")
                std::printf("  %6lld %8s %9lld %6.2f%% %7.4f  %-9s %4d %5s  %s\n", static_cast<long long>(c.id),
                            formatMacs(c.macs).c_str(), static_cast<long long>(c.params), c.top1, c.loss,
                            c.origin.c_str(), c.generation, onFront[i] ? "*" : "", genesText(c.genes).c_str());
            else if (format == "csv")
                std::printf("%lld,%lld,%lld,%lld,%.4f,%.6f,%s,%d,%d,\"%s\",\"%s\",%.4f\n", static_cast<long long>(run.id),
                            static_cast<long long>(c.id), static_cast<long long>(c.macs),
                            static_cast<long long>(c.params), c.top1, c.loss, c.origin.c_str(), c.generation,
                            onFront[i] ? 1 : 0, genesText(c.genes).c_str(), channelsToString(c.channels).c_str(),
                            c.latencyMs);
            else {
                QJsonObject o;
                o["run"] = qint64(run.id);
                o["id"] = qint64(c.id);
                o["macs"] = qint64(c.macs);
                o["params"] = qint64(c.params);
                o["top1"] = c.top1;
                o["loss"] = c.loss;
                o["origin"] = QString::fromStdString(c.origin);
                o["generation"] = c.generation;
                o["on_front"] = bool(onFront[i]);
                o["latency_ms"] = c.latencyMs;
                QJsonArray g, ch;
                for (int v : c.genes)
                    g.append(v);
                for (int v : c.channels)
                    ch.append(v);
                o["genes"] = g;
                o["channels"] = ch;
                json.append(o);
            }
        }
    }
    if (format == "json")
        std::printf("%s\n", QJsonDocument(json).toJson(QJsonDocument::Indented).constData());
    return 0;
}

int cmdDemo(Parser& p, const QStringList& args) {
    const TrainConfig d; // the default budget is the demo's: about 5 minutes here
    addCommon(p, "metaprune-demo.sqlite");
    addDataOptions(p);
    addTrainOptions(p, d);
    const SearchConfig sd; // the reference search settings, about 7 minutes here
    addSearchOptions(p, sd, "50%");
    addEvalOptions(p, sd.eval);
    parseOptions(p, args);
    const auto start = Clock::now();
    configureRuntime(intValue(p, "threads", 0, 1024));
    const TrainConfig cfg = trainConfigOf(p);
    const std::string db = p.value("db").toStdString();
    std::printf("MetaPrune Studio demo (project %s, %d LibTorch threads)\n", db.c_str(), threads());
    const std::string ckpt = p.isSet("checkpoint") ? QFileInfo(p.value("checkpoint")).absoluteFilePath().toStdString()
                                                   : defaultCheckpointPath(db, cfg);
    const DataBundle data = loadTrainingData(cfg);
    const TrainJob job = runTraining(db, data, cfg, ckpt);
    if (!job.outcome.finished) {
        std::printf("Cancelled during training; run the same command to resume.\n");
        return 130;
    }
    reportFullWidth(ckpt, data, EvalSettings{});
    const ArchSpec arch = makeArchitecture(cfg.family, cfg.preset, data.train.channels, data.train.height,
                                           data.train.width, data.train.numClasses());
    const SearchConfig scfg = searchConfigOf(p, arch);
    const Evaluator ev(ckpt, data, scfg.eval);
    const SearchJob sj = runSearchJob(db, ev, scfg, job.trainingId);
    Store store(db);
    const std::vector<CandidateRecord> all = store.candidates(sj.outcome.runId);
    const int64_t full = countMacs(arch, uniformEncoding(arch, grid::kSize - 1));
    printFront(all, full, &scfg);
    if (sj.outcome.best) {
        printBestVsUniform(*sj.outcome.best, all, full);
        const EvalResult t = ev.evaluate(sj.outcome.best->genes, EvalSplit::Test, &gCancel);
        std::printf("On the test set (PruningNet weights, BN recalibrated, no retraining): best searched top-1 %.2f%%",
                    t.top1);
        if (const auto u = uniformBaselineAtLeast(all, sj.outcome.best->macs)) {
            const EvalResult ut = ev.evaluate(u->genes, EvalSplit::Test, &gCancel);
            std::printf(", uniform baseline %.2f%% (%+.2f points)", ut.top1, t.top1 - ut.top1);
        }
        std::printf("\n");
    }
    if (!sj.outcome.finished) {
        std::printf("Cancelled during search; every evaluated candidate is stored. Run the same command to resume.\n");
        return 130;
    }
    std::printf("Demo finished in %s. Inspect with: metaprune pareto --db %s --all\n",
                duration(std::chrono::duration<double>(Clock::now() - start).count()).c_str(), db.c_str());
    return 0;
}

/// Runs `metaprune demo` as its own process in a temporary folder and checks the targets:
/// at most 15 minutes, full-width top-1 at least 85% on the test set.
void benchDemo(int threadCount) {
    QTemporaryDir dir;
    QProcess demo;
    demo.setWorkingDirectory(dir.path());
    demo.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    const auto start = Clock::now();
    demo.start(QCoreApplication::applicationFilePath(), {"demo", "--threads", QString::number(threadCount)});
    demo.waitForFinished(-1);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const QString out = QString::fromUtf8(demo.readAllStandardOutput());
    const QRegularExpressionMatch m =
        QRegularExpression("Full-width PruningNet after BN recalibration: top-1 ([0-9.]+)%").match(out);
    if (demo.exitCode() != 0 || !m.hasMatch()) {
        std::printf("demo failed (exit %d):\n%s\n", demo.exitCode(), qPrintable(out));
        return;
    }
    const double top1 = m.captured(1).toDouble();
    std::printf("demo end to end: %s (target <= 15m: %s, %.2fx of the budget); full-width top-1 %.2f%% on the "
                "test set (target >= 85%%: %s)\n",
                duration(seconds).c_str(), seconds <= 900 ? "met" : "MISSED", seconds / 900, top1,
                top1 >= 85 ? "met" : "MISSED");
}

int cmdBench(Parser& p, const QStringList& args) {
    p.addOption({"threads", "LibTorch threads (0 = all cores; 1 is safest on a shared machine).", "n", "1"});
    p.addOption({"steps", "Timed training steps per configuration.", "n", "5"});
    p.addOption({"candidates", "Timed candidate evaluations.", "n", "20"});
    p.addOption({"skip-paper", "Skip the paper-preset training step (about a minute)."});
    p.addOption({"data", "Data for the evaluation timing.", "path", kDefaultDataPath});
    p.addOption({"demo", "Also time `metaprune demo` end to end in a temporary project (about 13 minutes)."});
    parseOptions(p, args);
    const int steps = intValue(p, "steps", 1, 1000);
    const int candidates = intValue(p, "candidates", 1, 100000);
    configureRuntime(intValue(p, "threads", 0, 1024));
    const int configured = threads();
    const double gflops = sgemmGflops();
    std::printf("threads %d, sgemm 1024^3: %.1f GFLOP/s\n", threads(), gflops);
    std::fflush(stdout);
    if (!p.isSet("skip-paper")) {
        constexpr double kReferenceSeconds = 2.2; // platform.md: reference Python step, same CPU and LibTorch
        // Thread counts matter on this machine (platform.md): measure one and all cores.
        const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
        struct Case {
            GeneratorUpdate update;
            int threads;
        };
        std::vector<Case> cases = {{GeneratorUpdate::Sparse, 1}, {GeneratorUpdate::Dense, 1}};
        if (cores > 1)
            cases.insert(cases.end(), {{GeneratorUpdate::Sparse, cores}, {GeneratorUpdate::Dense, cores}});
        for (const Case& c : cases) {
            configureRuntime(c.threads);
            double work = 0;
            int64_t genParams = 0;
            const Timing t =
                benchTrainingStep("mobilenetv2", "paper", 3, 224, 1000, 16, c.update, steps, &work, &genParams);
            std::printf("paper MobileNetV2 PruningNet (%lld M generator params), training step at batch 16, %s "
                        "generator update, %d thread%s: median %.0f ms (p95 %.0f, first %.0f); reference Python "
                        "2200 ms -> %.2fx faster (target 3x); pruned-network work %.1f GFLOP/step = %.1f GFLOP/s = "
                        "%.2f of sgemm\n",
                        static_cast<long long>(genParams / 1000000),
                        c.update == GeneratorUpdate::Sparse ? "sparse" : "dense", c.threads, c.threads > 1 ? "s" : "",
                        t.median, t.p95, t.first, kReferenceSeconds * 1000 / t.median, work, work / (t.median / 1000),
                        work / (t.median / 1000) / gflops);
            std::fflush(stdout);
        }
        configureRuntime(configured);
    }
    {
        double work = 0;
        const Timing t =
            benchTrainingStep("mobilenetv2", "small", 1, 28, 10, 128, GeneratorUpdate::Sparse, steps * 4, &work);
        std::printf("small MobileNetV2 PruningNet, training step at batch 128 (28x28): median %.0f ms = %.0f images/s "
                    "(%.1f GFLOP/s)\n",
                    t.median, 128 / (t.median / 1000), work / (t.median / 1000));
        std::fflush(stdout);
    }
    // Candidate evaluation needs a checkpoint: a briefly trained one (timing does not depend
    // on the weights) in a temporary folder.
    TrainConfig cfg;
    cfg.dataPath = QFileInfo(p.value("data")).absoluteFilePath().toStdString();
    cfg.epochs = 1;
    cfg.trainPerClass = 700;
    const DataBundle data = loadTrainingData(cfg);
    const std::string ckpt = QDir::tempPath().toStdString() + "/metaprune-bench-" + std::to_string(getpid()) + ".pt";
    trainPruningNet(data, cfg, ckpt, {}, &gCancel);
    const int n = candidates;
    struct Setting {
        const char* name;
        EvalSettings s;
    };
    EvalSettings probe;
    probe.recalBatches = 2;
    probe.evalImages = 500;
    for (const Setting& s : {Setting{"search default", EvalSettings{}}, Setting{"interactive probe", probe}}) {
        const Evaluator ev(ckpt, data, s.s);
        std::mt19937_64 rng(3);
        std::vector<double> ms;
        double first = 0;
        for (int i = 0; i <= n; ++i) {
            const EvalResult r = ev.evaluate(randomEncoding(ev.arch(), rng));
            if (i == 0)
                first = r.milliseconds;
            else
                ms.push_back(r.milliseconds);
        }
        const Timing t = summarize(ms, first);
        std::printf("candidate evaluation (%s: %d x %d recalibration + %d scored images, small preset, random "
                    "encodings): median %.0f ms, p95 %.0f ms, first %.0f ms\n",
                    s.name, s.s.recalBatches, s.s.recalBatchSize, s.s.evalImages, t.median, t.p95, t.first);
    }
    std::remove(ckpt.c_str());
    {
        // How far the per-layer latency table's sum is from real end-to-end latency.
        const ArchSpec arch = makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        const auto start = Clock::now();
        const LatencyTable table = measureLatencyTable(arch, 1, 5, 5, {}, &gCancel);
        const double built = std::chrono::duration<double>(Clock::now() - start).count();
        std::mt19937_64 rng(13);
        double sumApe = 0;
        const int networks = 20;
        for (int i = 0; i < networks; ++i) {
            const Encoding e = randomEncoding(arch, rng);
            const double measured = measureNetworkLatency(arch, e, 1, 9);
            sumApe += std::abs(table.predict(arch, e) - measured) / measured;
        }
        std::printf("latency table (small MobileNetV2, batch 1, grid step 5): built in %s; prediction vs measured "
                    "end-to-end latency over %d random pruned networks: mean absolute percentage error %.1f%%\n",
                    duration(built).c_str(), networks, 100 * sumApe / networks);
    }
    if (p.isSet("demo"))
        benchDemo(intValue(p, "threads", 0, 1024));
    return 0;
}

int cmdLatency(Parser& p, const QStringList& args) {
    addCommon(p, "metaprune.sqlite");
    p.addOption({"family", "Architecture family (mobilenetv2, mobilenetv1, resnet).", "name", "mobilenetv2"});
    p.addOption({"preset", "Preset: small or paper.", "name", "small"});
    p.addOption({"channels", "Input channels.", "n", "1"});
    p.addOption({"size", "Input height and width.", "n", "28"});
    p.addOption({"classes", "Classes.", "n", "10"});
    p.addOption({"batch", "Images per forward pass.", "n", "1"});
    p.addOption({"grid-step", "Scale-index step of the measured grid (1 = every grid width).", "n", "5"});
    p.addOption({"repeats", "Timed runs per table entry (the median is kept).", "n", "5"});
    p.addOption({"check", "Random pruned networks to measure end to end against the prediction.", "n", "10"});
    parseOptions(p, args);
    configureRuntime(intValue(p, "threads", 0, 1024));
    const ArchSpec arch = makeArchitecture(p.value("family").toStdString(), p.value("preset").toStdString(),
                                           intValue(p, "channels", 1, 1024), intValue(p, "size", 1, 4096),
                                           intValue(p, "size", 1, 4096), intValue(p, "classes", 1, 1 << 20));
    const int batch = intValue(p, "batch", 1, 4096);
    const LatencyJob job = latencyFor(p.value("db").toStdString(), arch, batch, intValue(p, "grid-step", 1, 30),
                                      intValue(p, "repeats", 1, 1000));
    const Encoding full = uniformEncoding(arch, grid::kSize - 1), small = uniformEncoding(arch, 0);
    std::printf("predicted latency at batch %d: full network %.3f ms, smallest %.3f ms\n", batch,
                job.table.predict(arch, full), job.table.predict(arch, small));
    const int checks = intValue(p, "check", 0, 100000);
    if (checks > 0) {
        std::mt19937_64 rng(11);
        double sumApe = 0;
        for (int i = 0; i < checks; ++i) {
            const Encoding e = i == 0 ? full : randomEncoding(arch, rng);
            const double predicted = job.table.predict(arch, e);
            const double measured = measureNetworkLatency(arch, e, batch, 7);
            sumApe += std::abs(predicted - measured) / measured;
            std::printf("  %8s MACs: predicted %.3f ms, measured %.3f ms\n", formatMacs(countMacs(arch, e)).c_str(),
                        predicted, measured);
        }
        std::printf("mean absolute percentage error over %d networks: %.1f%%\n", checks, 100 * sumApe / checks);
    }
    return 0;
}

int cmdArch(Parser& p, const QStringList& args) {
    p.addOption({"family", "Architecture family (mobilenetv2, mobilenetv1, resnet).", "name", "mobilenetv2"});
    p.addOption({"preset", "Preset: small or paper.", "name", "small"});
    p.addOption({"channels", "Input channels.", "n", "1"});
    p.addOption({"size", "Input height and width.", "n", "28"});
    p.addOption({"classes", "Classes.", "n", "10"});
    parseOptions(p, args);
    const ArchSpec a =
        makeArchitecture(p.value("family").toStdString(), p.value("preset").toStdString(),
                         intValue(p, "channels", 1, 1024), intValue(p, "size", 1, 4096), intValue(p, "size", 1, 4096),
                         intValue(p, "classes", 1, 1 << 20));
    const Encoding full = uniformEncoding(a, grid::kSize - 1), small = uniformEncoding(a, 0);
    std::printf("%s/%s for %dx%dx%d input, %d classes\n", a.family.c_str(), a.preset.c_str(), a.inChannels,
                a.inHeight, a.inWidth, a.classes);
    std::printf("MACs (conv + linear multiply-accumulates per image): full %s, smallest %s; params full %lld\n",
                formatMacs(countMacs(a, full)).c_str(), formatMacs(countMacs(a, small)).c_str(),
                static_cast<long long>(countParams(a, full)));
    std::printf("Genes (encoding order; scale grid (10 + 3 i)/100, i = 0..30):\n");
    for (size_t g = 0; g < a.genes.size(); ++g)
        std::printf("  %2zu  %-12s %-5s max %4d channels\n", g, a.genes[g].name.c_str(),
                    a.genes[g].kind == GeneKind::Stage ? "stage" : "mid", a.genes[g].maxChannels);
    std::printf("Layers at full width:\n");
    for (const LayerShape& s : layerShapes(a, full)) {
        const Op& op = a.ops[size_t(s.op)];
        std::printf("  %-18s %4d -> %4d  k%d s%d g%-4d %3dx%-3d  %10lld MACs\n", op.name.c_str(), s.inChannels,
                    s.outChannels, s.kernel, s.stride, s.groups, s.outHeight, s.outWidth,
                    static_cast<long long>(s.macs));
    }
    return 0;
}

/// The encoding a command acts on: --candidate (a stored candidate), --encoding or --uniform.
Encoding encodingOf(const Parser& p, const ArchSpec& arch, std::optional<CandidateRecord>* candidate = nullptr) {
    const int given = int(p.isSet("candidate")) + int(p.isSet("encoding")) + int(p.isSet("uniform"));
    if (given != 1)
        throw UsageError("give exactly one of --candidate, --encoding or --uniform");
    if (p.isSet("candidate")) {
        Store store(p.value("db").toStdString());
        const auto c = store.candidate(intValue(p, "candidate", 1, 1 << 30));
        if (!c)
            throw UsageError("project " + p.value("db").toStdString() + " has no candidate " +
                             p.value("candidate").toStdString() + " (see metaprune pareto --all)");
        if (candidate)
            *candidate = c;
        return c->genes;
    }
    if (p.isSet("encoding"))
        return parseEncoding(arch, p.value("encoding").toStdString());
    return uniformEncoding(arch, intValue(p, "uniform", 0, grid::kSize - 1));
}

void addStructureOptions(Parser& p) {
    addCheckpointOptions(p, "to use");
    p.addOption({"candidate", "Stored candidate id (see `metaprune pareto --all`).", "id"});
    p.addOption({"encoding", "Comma-separated scale indices (0..30), one per gene.", "genes"});
    p.addOption({"uniform", "Uniform network at scale index i (0..30; 30 = full width).", "i"});
}

ExportFormat formatOf(const Parser& p, const QString& option, const QString& path) {
    QString f = p.value(option);
    if (f == "auto")
        f = path.endsWith(".onnx") ? "onnx" : path.endsWith(".archive.pt") ? "archive" : "torchscript";
    ExportFormat format;
    try {
        format = parseExportFormat(f.toStdString());
    } catch (const std::invalid_argument& e) {
        throw UsageError("--" + option.toStdString() + ": " + e.what());
    }
    if (!path.isEmpty() && !path.endsWith(QString::fromStdString(exportExtension(format))))
        std::fprintf(stderr, "metaprune: warning: writing %s to %s, whose name does not end in %s\n",
                     qPrintable(f), qPrintable(path), exportExtension(format).c_str());
    return format;
}

/// Fails before any work when `path` cannot be created: its folder is missing or read-only.
void checkWritable(const QString& path) {
    const QFileInfo dir(QFileInfo(path).absolutePath());
    if (!dir.isDir())
        throw std::runtime_error(path.toStdString() + ": folder " + dir.filePath().toStdString() + " does not exist");
    if (!dir.isWritable())
        throw std::runtime_error(path.toStdString() + ": folder " + dir.filePath().toStdString() + " is not writable");
}

/// <output without extension>.json
QString jsonPathFor(const Parser& p, const QString& output) {
    if (p.optionNames().contains("json"))
        return p.value("json");
    const QFileInfo fi(output);
    QString stem = fi.fileName();
    for (const char* ext : {".archive.pt", ".onnx", ".pt"})
        if (stem.endsWith(ext)) {
            stem.chop(int(std::strlen(ext)));
            break;
        }
    return fi.dir().filePath(stem + ".json");
}

int cmdExport(Parser& p, const QStringList& args) {
    addCommon(p, "metaprune.sqlite");
    addStructureOptions(p);
    p.addOption({"output", "File to write: .pt (TorchScript), .onnx, or .archive.pt (LibTorch archive).", "file"});
    p.addOption({"format", "torchscript, onnx, archive, or auto (from the file name).", "name", "auto"});
    p.addOption({"json", "Where to write the encoding, channels, MACs and params (default: next to --output).",
                 "file"});
    addRecalOptions(p, EvalSettings{});
    parseOptions(p, args);
    configureRuntime(intValue(p, "threads", 0, 1024));
    if (!p.isSet("output"))
        throw UsageError("--output is required");
    const QString output = QFileInfo(p.value("output")).absoluteFilePath();
    const ExportFormat format = formatOf(p, "format", output);
    const QString json = QFileInfo(jsonPathFor(p, output)).absoluteFilePath();
    checkWritable(output);
    checkWritable(json);
    EvalSettings recal;
    recal.recalBatches = intValue(p, "recal-batches", 1, 100000);
    recal.recalBatchSize = intValue(p, "recal-batch-size", 2, 1 << 16);
    const TrainedRef ref = resolveCheckpoint(p);
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const ArchSpec arch = makeArchitecture(info.config.family, info.config.preset, info.inChannels, info.inHeight,
                                           info.inWidth, info.classes);
    const Encoding enc = encodingOf(p, arch); // before loading data: a bad structure fails at once
    const DataBundle data = dataForCheckpoint(info, p);
    const Evaluator ev(ref.checkpoint, data, recal);
    ev.exportNetwork(enc, format, output.toStdString(), json.toStdString());
    std::printf("Wrote %s (%s, PruningNet-generated weights, BN recalibrated on %d x %d images and folded)\n"
                "  and %s\n  MACs %s, params %lld, channels %s\n",
                qPrintable(output), format == ExportFormat::Onnx ? "ONNX opset 13" : format == ExportFormat::Archive ? "LibTorch archive" : "TorchScript",
                recal.recalBatches, recal.recalBatchSize, qPrintable(json),
                formatMacs(countMacs(arch, enc)).c_str(), static_cast<long long>(countParams(arch, enc)),
                channelsToString(geneChannels(arch, enc)).c_str());
    return 0;
}

void addRetrainOptions(Parser& p, const RetrainConfig& d) {
    p.addOption({"mode", "scratch (fresh initialisation, the paper's protocol) or finetune (from the PruningNet's "
                         "weights).",
                 "name", QString::fromStdString(retrainModeName(d.mode))});
    p.addOption({"epochs", "Retraining epochs.", "n", QString::number(d.epochs)});
    p.addOption({"batch-size", "Retraining batch size.", "n", QString::number(d.batchSize)});
    p.addOption({"lr", "Peak learning rate (linear warm-up, then linear decay to 0).", "x", QString::number(d.lr)});
    p.addOption({"warmup-steps", "Learning-rate warm-up steps.", "n", QString::number(d.warmupSteps)});
    p.addOption({"weight-decay", "Weight decay on conv and linear weights.", "x", QString::number(d.weightDecay)});
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
    c.lr = doubleValue(p, "lr", 1e-8, 100);
    c.warmupSteps = intValue(p, "warmup-steps", 0, 1 << 30);
    c.weightDecay = doubleValue(p, "weight-decay", 0, 1);
    c.labelSmoothing = doubleValue(p, "label-smoothing", 0, 0.99);
    c.augment = p.isSet("augment");
    return c;
}

std::vector<uint64_t> seedsOf(const Parser& p, const QString& name) {
    std::vector<uint64_t> out;
    for (const QString& s : p.value(name).split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const uint64_t seed = s.trimmed().toULongLong(&ok);
        if (!ok)
            throw UsageError("--" + name.toStdString() + " must be comma-separated non-negative integers");
        if (std::find(out.begin(), out.end(), seed) != out.end())
            throw UsageError("--" + name.toStdString() + " lists seed " + std::to_string(seed) + " twice");
        out.push_back(seed);
    }
    if (out.empty())
        throw UsageError("--" + name.toStdString() + " needs at least one seed");
    return out;
}

/// Progress line of a multi-stage job: one bar per stage.
struct StageProgress {
    std::unique_ptr<Progress> bar;
    std::string stage;
    void operator()(const JobProgress& j) {
        if (j.stage != stage) {
            bar.reset();
            stage = j.stage;
            bar = std::make_unique<Progress>(stage);
        }
        char extra[48] = "";
        if (j.loss > 0)
            std::snprintf(extra, sizeof extra, "loss %.3f", j.loss);
        bar->update(j.done, j.total, extra);
    }
    void done() { bar.reset(); }
};

int cmdRetrain(Parser& p, const QStringList& args) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "and data split to use");
    p.addOption({"candidate", "Stored candidate id to retrain (see `metaprune pareto --all`).", "id"});
    addRetrainOptions(p, RetrainConfig{});
    p.addOption({"seed", "Seed of initialisation and data order.", "n", "1"});
    p.addOption({"export", "Also write the retrained network (BN folded) to this file: .pt (TorchScript), .onnx or "
                           ".archive.pt, with its metadata as JSON next to it.",
                 "file"});
    p.addOption({"export-format", "torchscript, onnx, archive, or auto (from the file name).", "name", "auto"});
    parseOptions(p, args);
    configureRuntime(intValue(p, "threads", 0, 1024));
    if (!p.isSet("candidate"))
        throw UsageError("--candidate is required (see metaprune pareto --all)");
    RetrainConfig cfg = retrainConfigOf(p);
    cfg.seed = seedValue(p);
    const std::string db = p.value("db").toStdString();
    const int64_t id = intValue(p, "candidate", 1, 1 << 30);
    const QString exportPath = p.isSet("export") ? QFileInfo(p.value("export")).absoluteFilePath() : QString();
    const ExportFormat format = formatOf(p, "export-format", exportPath);
    QString exportJson;
    if (!exportPath.isEmpty()) {
        exportJson = QFileInfo(jsonPathFor(p, exportPath)).absoluteFilePath();
        checkWritable(exportPath);
        checkWritable(exportJson);
    }
    const TrainedRef ref = resolveCheckpoint(p);
    std::optional<CandidateRecord> c = Store(db).candidate(id);
    if (!c)
        throw UsageError("project " + db + " has no candidate " + std::to_string(id) + " (see metaprune pareto --all)");
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    const Evaluator ev(ref.checkpoint, data);
    StageProgress bar;
    bool reused = false;
    const RetrainRecord r = retrainCandidate(db, ev, data, id, cfg, "user", std::ref(bar), &gCancel, &reused,
                                             exportPath.toStdString(), format, exportJson.toStdString());
    bar.done();
    std::printf("Candidate %lld (%s MACs, PruningNet top-1 %.2f%% on the search split): test top-1 %.2f%% after "
                "retraining (%s, %d epoch%s, seed %llu)%s\n",
                static_cast<long long>(id), formatMacs(c->macs).c_str(), c->top1, r.testTop1,
                retrainModeName(cfg.mode).c_str(), cfg.epochs, cfg.epochs == 1 ? "" : "s",
                static_cast<unsigned long long>(cfg.seed), reused ? " [stored result]" : "");
    if (!exportPath.isEmpty())
        std::printf("Wrote the retrained network to %s and its metadata to %s\n", qPrintable(exportPath),
                    qPrintable(exportJson));
    return 0;
}

int cmdCompare(Parser& p, const QStringList& args) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "to search with");
    p.addOption({"targets", "MACs targets as fractions of the full network.", "list", "50%,25%,12.5%"});
    p.addOption({"seeds", "Retraining seeds (same for searched and uniform).", "list", "1,2"});
    addRetrainOptions(p, RetrainConfig{});
    addEvolutionOptions(p, SearchConfig{});
    addEvalOptions(p, EvalSettings{});
    p.addOption({"report", "Markdown report to write.", "file", "compare.md"});
    p.addOption({"chart", "PNG chart to write.", "file", "compare.png"});
    parseOptions(p, args);
    configureRuntime(intValue(p, "threads", 0, 1024));
    std::vector<double> fractions;
    for (const QString& t : p.value("targets").split(',', Qt::SkipEmptyParts)) {
        QString v = t.trimmed();
        const bool pct = v.endsWith('%');
        if (pct)
            v.chop(1);
        bool ok = false;
        const double x = v.toDouble(&ok) / (pct ? 100.0 : 1.0);
        if (!ok || !(x > 0 && x <= 1))
            throw UsageError("--targets must be fractions of the full MACs like 50%,25% or 0.5,0.25; got '" +
                             t.toStdString() + "'");
        if (std::find(fractions.begin(), fractions.end(), x) != fractions.end())
            throw UsageError("--targets lists " + t.toStdString() + " twice");
        fractions.push_back(x);
    }
    if (fractions.empty())
        throw UsageError("--targets needs at least one MACs target, like 50%,25%,12.5%");
    const RetrainConfig recipe = retrainConfigOf(p);
    const std::vector<uint64_t> seeds = seedsOf(p, "seeds");
    const QString report = QFileInfo(p.value("report")).absoluteFilePath();
    const QString chart = QFileInfo(p.value("chart")).absoluteFilePath();
    checkWritable(report);
    checkWritable(chart);
    const TrainedRef ref = resolveCheckpoint(p);
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    SearchConfig search;
    evolutionOf(p, search);
    const Evaluator ev(ref.checkpoint, data, search.eval);
    StageProgress bar;
    const CompareReport result = compareWithUniform(p.value("db").toStdString(), ev, data, ref.trainingId, fractions,
                                                    search, recipe, seeds, std::ref(bar), &gCancel);
    bar.done();
    const std::string md = result.markdown();
    std::printf("%s", md.c_str());
    writeFileAtomically(report.toStdString(), md);
    QString error;
    if (!saveCompareChart(result, chart, 900, 520, &error))
        throw std::runtime_error(error.toStdString());
    std::printf("\nWrote %s and %s\n", qPrintable(p.value("report")), qPrintable(p.value("chart")));
    return 0;
}

int cmdFidelity(Parser& p, const QStringList& args) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "to assess");
    p.addOption({"samples", "Structures sampled across the MACs range.", "n", "12"});
    p.addOption({"sample-seed", "Seed of the sampling.", "n", "1"});
    RetrainConfig d;
    d.epochs = 1; // a short retraining: enough to rank, cheap enough for a dozen structures
    addRetrainOptions(p, d);
    p.addOption({"seed", "Retraining seed.", "n", "1"});
    addEvalOptions(p, EvalSettings{});
    p.addOption({"report", "Markdown report to write.", "file", "fidelity.md"});
    parseOptions(p, args);
    configureRuntime(intValue(p, "threads", 0, 1024));
    RetrainConfig recipe = retrainConfigOf(p);
    recipe.seed = seedValue(p);
    bool ok = false;
    const uint64_t sampleSeed = p.value("sample-seed").toULongLong(&ok);
    if (!ok)
        throw UsageError("--sample-seed must be a non-negative integer");
    const int samples = intValue(p, "samples", 3, 10000);
    const QString reportPath = QFileInfo(p.value("report")).absoluteFilePath();
    checkWritable(reportPath);
    const EvalSettings eval = evalSettingsOf(p);
    const TrainedRef ref = resolveCheckpoint(p);
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    const Evaluator ev(ref.checkpoint, data, eval);
    StageProgress bar;
    const FidelityReport report = measureFidelity(p.value("db").toStdString(), ev, data, ref.trainingId, samples,
                                                  sampleSeed, recipe, std::ref(bar), &gCancel);
    bar.done();
    const std::string md = report.markdown();
    std::printf("%s", md.c_str());
    writeFileAtomically(reportPath.toStdString(), md);
    std::printf("\nWrote %s\n", qPrintable(p.value("report")));
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    // `compare` renders its chart with QCustomPlot, which needs a QApplication; the command line
    // never opens a window, so it needs no display either.
    const bool needsGui = argc > 1 && std::strcmp(argv[1], "compare") == 0;
    if (needsGui && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    std::unique_ptr<QCoreApplication> app(needsGui ? new QApplication(argc, argv) : new QCoreApplication(argc, argv));
    QCoreApplication::setApplicationName("metaprune");
    QCoreApplication::setApplicationVersion(METAPRUNE_VERSION);
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);

    const QStringList args = QCoreApplication::arguments();
    const std::vector<std::pair<QString, QString>> commands = {
        {"train", "train a PruningNet (stochastic structure sampling)"},
        {"search", "evolutionary search under a MACs and/or latency constraint"},
        {"evaluate", "evaluate one encoding (BN recalibration + top-1)"},
        {"pareto", "print the Pareto front of a project's runs"},
        {"export", "write a structure as TorchScript, ONNX or a LibTorch archive"},
        {"retrain", "retrain a stored structure and store its test top-1"},
        {"compare", "searched vs uniform baselines at MACs targets, retrained (Markdown + PNG)"},
        {"fidelity", "rank correlation of PruningNet accuracy with retrained accuracy"},
        {"demo", "train briefly, search at 50% MACs, compare with uniform baselines"},
        {"latency", "measure this machine's per-layer latency table"},
        {"bench", "speed figures of this machine"},
        {"arch", "describe an architecture's genes and layers"},
    };
    QString overview = "MetaPrune Studio command line: MetaPruning (Liu et al., ICCV 2019) channel pruning.\nCommands:\n";
    for (const auto& [name, what] : commands)
        overview += QString("  %1 %2\n").arg(name, -9).arg(what);
    overview += "Run `metaprune <command> --help` for a command's options.";
    Parser p;
    p.setApplicationDescription(overview);
    p.addHelpOption();
    p.addVersionOption();
    p.addPositionalArgument("command", "One of the commands above.", "<command>");
    p.parse(args);
    const QString cmd = p.positionalArguments().value(0);
    for (const auto& [name, what] : commands)
        if (cmd == name) // a command's --help describes that command only
            p.setApplicationDescription("metaprune " + name + ": " + what + ".");
    try {
        if (!cmd.isEmpty()) {
            p.clearPositionalArguments();
            p.addPositionalArgument(cmd, "The command.", cmd);
        }
        if (cmd == "train")
            return cmdTrain(p, args);
        if (cmd == "search")
            return cmdSearch(p, args);
        if (cmd == "evaluate")
            return cmdEvaluate(p, args);
        if (cmd == "pareto")
            return cmdPareto(p, args);
        if (cmd == "demo")
            return cmdDemo(p, args);
        if (cmd == "export")
            return cmdExport(p, args);
        if (cmd == "retrain")
            return cmdRetrain(p, args);
        if (cmd == "compare")
            return cmdCompare(p, args);
        if (cmd == "fidelity")
            return cmdFidelity(p, args);
        if (cmd == "bench")
            return cmdBench(p, args);
        if (cmd == "arch")
            return cmdArch(p, args);
        if (cmd == "latency")
            return cmdLatency(p, args);
        if (p.isSet("version"))
            p.showVersion();
        if (cmd.isEmpty())
            p.showHelp(p.isSet("help") ? 0 : 2);
        std::fprintf(stderr, "metaprune: unknown command '%s' (see metaprune --help)\n", qPrintable(cmd));
        return 2;
    } catch (const UsageError& e) {
        std::fprintf(stderr, "metaprune %s: %s\n", qPrintable(cmd), e.what());
        return 2;
    } catch (const ConfigError& e) { // settings no run can use: bad usage too
        std::fprintf(stderr, "metaprune %s: %s\n", qPrintable(cmd), e.what());
        return 2;
    } catch (const std::invalid_argument& e) { // unknown preset, bad encoding text
        std::fprintf(stderr, "metaprune %s: %s\n", qPrintable(cmd), e.what());
        return 2;
    } catch (const Cancelled&) {
        if (cmd == "retrain")
            std::fprintf(stderr, "metaprune retrain: cancelled; nothing was stored for this retraining (it starts "
                                 "over when run again)\n");
        else
            std::fprintf(stderr, "metaprune %s: cancelled; everything committed is kept, run the same command to "
                                 "resume\n",
                         qPrintable(cmd));
        return 130;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "metaprune %s: error: %s\n", qPrintable(cmd), e.what());
        return 1;
    }
}
