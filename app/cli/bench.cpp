// metaprune bench: speed figures of this machine.
#include "cli.h"

#include "metaprune/bench.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <chrono>
#include <map>
#include <optional>
#include <cmath>
#include <cstdio>
#include <thread>
#include <unistd.h>

namespace mpcli {

using namespace mp;

namespace {
/// The reference's paper-preset training step (batch 16, 224x224, 1000 classes) in python3-torch
/// (reference_step.py, built into this program: per-conv Linear generators of the maximum-size
/// weight, leading slice, per-scale BN, dense SGD with momentum), timed in this run: its median
/// in ms over `steps` steps after one warm-up, or nullopt with `why` when python3 or its torch
/// is missing or the script fails.
std::optional<double> referenceStepMs(int threadCount, int steps, std::string& why) {
    QString python = "/usr/bin/python3"; // Debian's python3-torch lives there, not in a venv's python
    if (!QFileInfo(python).isExecutable())
        python = QStandardPaths::findExecutable("python3");
    if (python.isEmpty()) {
        why = "python3 not found";
        return std::nullopt;
    }
    QTemporaryDir dir;
    const QString script = dir.filePath("reference_step.py"), archFile = dir.filePath("paper.arch.json");
    if (!QFile::copy(":/cli/reference_step.py", script)) {
        why = "cannot write the reference script to " + dir.path().toStdString();
        return std::nullopt;
    }
    writeFileAtomically(archFile.toStdString(),
                        toArchitectureJson(makeArchitecture("mobilenetv2", "paper", 3, 224, 224, 1000)));
    QProcess p;
    p.start(python, {script, archFile, "--batch", "16", "--steps", QString::number(steps), "--threads",
                     QString::number(threadCount)});
    if (!p.waitForFinished(-1) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        const QString err = QString::fromUtf8(p.readAllStandardError()).trimmed();
        why = err.contains("No module named 'torch'") ? "python3-torch is not installed (apt-get install python3-torch)"
                                                        : "the reference script failed: " + err.section('\n', -1).toStdString();
        return std::nullopt;
    }
    const QRegularExpressionMatch m =
        QRegularExpression("median_ms ([0-9.]+)").match(QString::fromUtf8(p.readAllStandardOutput()));
    if (!m.hasMatch()) {
        why = "the reference script printed no median";
        return std::nullopt;
    }
    return m.captured(1).toDouble();
}

/// Runs `metaprune demo` as its own process in a temporary folder and checks the targets:
/// at most 15 minutes, full-width top-1 at least 85% on the test set.
void benchDemo(int threadCount) {
    QTemporaryDir dir;
    QProcess demo;
    demo.setWorkingDirectory(dir.path());
    demo.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    const auto start = Clock::now();
    demo.start(QCoreApplication::applicationFilePath(),
               {"demo", "--threads", QString::number(threadCount)});
    demo.waitForFinished(-1);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const QString out = QString::fromUtf8(demo.readAllStandardOutput());
    const QRegularExpressionMatch m =
        QRegularExpression("Full-width PruningNet after BN recalibration: top-1 ([0-9.]+)%")
            .match(out);
    if (demo.exitCode() != 0 || !m.hasMatch()) {
        std::printf("demo failed (exit %d):\n%s\n", demo.exitCode(), qPrintable(out));
        return;
    }
    const double top1 = m.captured(1).toDouble();
    std::printf("demo end to end: %s (target <= 15m: %s, %.2fx of the budget); full-width top-1 "
                "%.2f%% on the "
                "test set (target >= 85%%: %s)\n",
                duration(seconds).c_str(), seconds <= 900 ? "met" : "MISSED", seconds / 900, top1,
                top1 >= 85 ? "met" : "MISSED");
}

/// Child process of the peak-memory figure: streams N images of --data once.
int rssProbe(const Parser& p) {
    const int images = intValue(p, "rss-images", 1, 1 << 30);
    TrainConfig cfg;
    cfg.dataPath = QFileInfo(p.value("data")).absoluteFilePath().toStdString();
    cfg.dataFormat = "folder";
    cfg.inputHeight = cfg.inputWidth = 112;
    LoaderSettings loader;
    loader.cacheBytes = 0;
    loader.decodeThreads = 2;
    const DataBundle probe = loadData(cfg.dataPath, DataFormat::Folder, [&] {
        DataOptions o;
        o.cacheBytes = 0;
        return o;
    }());
    cfg.trainPerClass = std::max<int64_t>(1, images / std::max(1, probe.train.numClasses()));
    const DataBundle data = loadTrainingData(cfg, loader);
    const double mib = streamOnceForPeakRss(data, 64);
    std::printf("streamed %lld images: peak RSS %.0f MiB\n",
                static_cast<long long>(data.train.size()), mib);
    return 0;
}

/// The loader benchmark of an image folder (issue 11's figures). Returns false when --data is
/// not an image folder.
bool benchLoader(const Parser& p) {
    const QString dir = QFileInfo(p.value("data")).absoluteFilePath();
    const int generate = intValue(p, "generate", 0, 10000000);
    if (generate > 0 && QDir(dir).entryList(QDir::Dirs | QDir::NoDotAndDotDot).isEmpty()) {
        const auto start = Clock::now();
        writeJpegFolder(dir.toStdString(), generate, 10, 1,
                        int(std::max(1u, std::thread::hardware_concurrency())));
        std::printf("generated %d JPEGs in %s (%s)\n", generate, qPrintable(dir),
                    duration(std::chrono::duration<double>(Clock::now() - start).count()).c_str());
    }
    TrainConfig cfg;
    cfg.dataPath = dir.toStdString();
    cfg.preset = "paper";
    cfg.augment = true;
    LoaderSettings loader;
    loader.cacheBytes = 0; // streamed, as a set larger than memory is
    loader.decodeThreads = threads();
    DataBundle data;
    try {
        data = loadTrainingData(cfg, loader);
    } catch (const DataError& e) {
        std::printf("loader benchmark skipped: %s\n", e.what());
        return false;
    }
    if (data.format != "folder") return false;
    std::printf("%s\n", data.summary.c_str());
    for (const auto& [name, policy] :
         {std::pair{"paper 224x224, random-resized crop", ViewPolicy::TrainAugment},
          std::pair{"paper 224x224, resize 256 + centre crop", ViewPolicy::Eval}}) {
        const DecodeSpeed s = benchDecode(data.train, 300, policy);
        std::printf(
            "decode + crop, one thread, %s: libjpeg-turbo %.0f images/s, stb_image %.0f images/s "
            "(%.2fx)\n",
            name, s.turbo, s.stb, s.turbo / s.stb);
    }
    {
        TrainConfig small = cfg;
        small.preset = "small";
        small.trainPerClass = 60;
        const DataBundle d28 = loadTrainingData(small, loader);
        const DecodeSpeed s = benchDecode(d28.train, 300, ViewPolicy::TrainAugment);
        std::printf("decode + crop, one thread, small 28x28, random-resized crop: libjpeg-turbo "
                    "%.0f images/s "
                    "(DCT-scaled), stb_image %.0f images/s (%.2fx)\n",
                    s.turbo, s.stb, s.turbo / s.stb);
    }
    std::fflush(stdout);
    const StreamingSteps st = benchStreamingSteps(data, "mobilenetv2", "paper", 16, 8, 2);
    std::printf(
        "paper MobileNetV2 training step at batch 16 fed by the streaming loader (%d training "
        "thread%s, %d decode thread%s): step median %.0f ms; wait on data median %.1f ms, max "
        "%.1f ms after 2 warm-up steps (target 0)\n",
        threads(), threads() > 1 ? "s" : "", loader.decodeThreads,
        loader.decodeThreads > 1 ? "s" : "", st.step.median, st.waitMedianMs, st.waitMaxMs);
    std::fflush(stdout);
    for (int n : {5000, 20000}) {
        if (n > data.train.size() + data.test.size()) {
            std::printf("peak RSS at %d images: skipped, the folder has fewer\n", n);
            continue;
        }
        QProcess child;
        child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        child.start(QCoreApplication::applicationFilePath(),
                    {"bench", "--data", dir, "--rss-images", QString::number(n)});
        child.waitForFinished(-1);
        std::printf("streaming loader (112x112, 2 decode threads), %s",
                    child.readAllStandardOutput().constData());
        std::fflush(stdout);
    }
    return true;
}
/// The Fashion-MNIST subset and briefly trained PruningNet the candidate timings use (timing does
/// not depend on the weights).
TrainConfig benchTrainConfig() {
    TrainConfig cfg;
    cfg.epochs = 1;
    cfg.trainPerClass = 700;
    return cfg;
}

std::string loadAverage() {
    QFile f("/proc/loadavg");
    if (!f.open(QIODevice::ReadOnly)) return "unknown";
    return QString::fromUtf8(f.readAll()).section(' ', 0, 2).toStdString();
}

struct StepPreset {
    const char* name;
    int channels, size, classes, batch;
};

std::vector<StepPreset> stepPresets(const Parser& p) {
    std::vector<StepPreset> v{{"small", 1, 28, 10, 128}};
    if (!p.isSet("skip-paper")) v.push_back({"paper", 3, 224, 1000, 16});
    return v;
}

/// Seconds to evaluate `n` random encodings (search settings): one process, or sharded over
/// `dist`'s ranks (rank 0 returns the time, the others serve and return 0).
double timeCandidates(const Evaluator& ev, int n, const Distributed* dist) {
    std::mt19937_64 rng(3);
    std::vector<Encoding> list;
    for (int i = 0; i < n; ++i) list.push_back(randomEncoding(ev.arch(), rng));
    ev.evaluate(list.front()); // first-call costs (oneDNN primitives) out of the timing
    if (dist && dist->rank() != 0) {
        serveSearchShards(ev, *dist);
        return 0;
    }
    const auto start = Clock::now();
    if (dist) {
        shardedEvaluation(ev, *dist)(list, nullptr);
        endSearchShards(*dist);
    } else {
        for (const Encoding& e : list) ev.evaluate(e);
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// One rank of `bench --nproc`: the same figures data-parallel, written by rank 0 to the file
/// the launching process names in METAPRUNE_BENCH_REPORT.
int benchRank(const Parser& p) {
    const std::unique_ptr<Distributed> dist = joinFromEnvironment(p, "bench", "bench");
    std::string report;
    char line[160];
    for (const StepPreset& s : stepPresets(p)) {
        const Timing t = benchDataParallelSteps("mobilenetv2", s.name, s.channels, s.size, s.classes,
                                                s.batch, intValue(p, "steps", 1, 1000), dist.get(), nullptr,
                                                nullptr, p.isSet("sync-bn"));
        std::snprintf(line, sizeof line, "%s %.3f\n", s.name, t.median);
        report += line;
    }
    const DataBundle data = loadTrainingData(benchTrainConfig());
    const Evaluator ev(qEnvironmentVariable("METAPRUNE_BENCH_CHECKPOINT").toStdString(), data);
    const int n = intValue(p, "candidates", 1, 100000);
    const double seconds = timeCandidates(ev, n, dist.get());
    if (dist && dist->rank() != 0) return 0;
    std::snprintf(line, sizeof line, "search %.3f\n", seconds);
    report += line;
    QFile out(qEnvironmentVariable("METAPRUNE_BENCH_REPORT"));
    if (!out.open(QIODevice::WriteOnly) || out.write(report.data(), qint64(report.size())) < 0)
        throw std::runtime_error("cannot write the bench report " + out.fileName().toStdString());
    return 0;
}

/// `bench --nproc N`: training images/s on 1 and N ranks (small and paper presets), scaling
/// efficiency, allreduce volume, and sharded search candidates/s.
int benchDataParallel(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    if (distEnvFromEnvironment()) return benchRank(p);
    const int n = intValue(p, "nproc", 1, 256), steps = intValue(p, "steps", 1, 1000);
    const int candidates = intValue(p, "candidates", 1, 100000);
    std::printf("data-parallel bench: 1 and %d processes, %d thread(s) each, %d cores; load average "
                "%s at the start\n",
                n, threads(), int(std::thread::hardware_concurrency()), loadAverage().c_str());
    std::fflush(stdout);
    std::vector<double> single;
    std::vector<double> bytes, bnBytes;
    for (const StepPreset& s : stepPresets(p)) {
        double b = 0, bn = 0;
        single.push_back(benchDataParallelSteps("mobilenetv2", s.name, s.channels, s.size, s.classes,
                                                s.batch, steps, nullptr, &b, &bn)
                             .median);
        bytes.push_back(b);
        bnBytes.push_back(bn);
    }
    const DataBundle data = loadTrainingData(benchTrainConfig());
    QTemporaryDir tmp;
    const std::string ckpt = tmp.filePath("bench.pt").toStdString();
    trainPruningNet(data, benchTrainConfig(), ckpt, {}, &gCancel);
    const double searchOne = timeCandidates(Evaluator(ckpt, data), candidates, nullptr);

    qputenv("METAPRUNE_BENCH_CHECKPOINT", QByteArray::fromStdString(ckpt));
    qputenv("METAPRUNE_BENCH_REPORT", tmp.filePath("report.txt").toUtf8());
    if (const int code = launchLocal(p, "bench"); code != 0) return code;
    QFile f(tmp.filePath("report.txt"));
    if (!f.open(QIODevice::ReadOnly))
        throw std::runtime_error("rank 0 wrote no bench report");
    std::map<QString, double> multi;
    for (const QByteArray& l : f.readAll().split('\n'))
        if (const QList<QByteArray> w = l.split(' '); w.size() == 2) multi[w[0]] = w[1].toDouble();
    size_t i = 0;
    for (const StepPreset& s : stepPresets(p)) {
        const double one = s.batch / (single[i] / 1000), many = s.batch / (multi[s.name] / 1000);
        char bn[96];
        if (p.isSet("sync-bn"))
            std::snprintf(bn, sizeof bn, " + %.1f kB (synchronised batch-norm sums)", bnBytes[i] / 1e3);
        else
            std::snprintf(bn, sizeof bn, "; batch norm per rank, nothing exchanged (--sync-bn: %.1f kB more)",
                          bnBytes[i] / 1e3);
        std::printf("%s MobileNetV2 PruningNet, global batch %d: 1 process %.0f ms/step = %.1f images/s; "
                    "%d processes (%d images each) %.0f ms/step = %.1f images/s: %.2fx, scaling "
                    "efficiency %.0f%%; allreduce %.1f MB/step per rank (gradients)%s\n",
                    s.name, s.batch, single[i], one, n, s.batch / n, multi[s.name], many, many / one,
                    100 * many / (n * one), bytes[i] / 1e6, bn);
        ++i;
    }
    const double oneRate = candidates / searchOne, manyRate = candidates / multi["search"];
    std::printf("search, %d random small-preset candidates (search settings): 1 process %.2f "
                "candidates/s; %d processes %.2f candidates/s: %.2fx, scaling efficiency %.0f%%\n",
                candidates, oneRate, n, manyRate, manyRate / oneRate, 100 * manyRate / (n * oneRate));
    std::printf("load average %s at the end\n", loadAverage().c_str());
    return 0;
}

} // namespace

void declareBench(Parser& p) {
    p.addOption({"threads", "LibTorch threads (0 = all cores; 1 is safest on a shared machine).",
                 "n", "1"});
    p.addOption({"steps", "Timed training steps per configuration.", "n", "5"});
    p.addOption({"candidates", "Timed candidate evaluations.", "n", "20"});
    p.addOption({"skip-paper", "Skip the paper-preset training step (about a minute)."});
    p.addOption({"sync-bn", "With --nproc: synchronised batch norm on the ranks (default: each rank's own batch "
                            "statistics, as train uses by default)."});
    p.addOption({"reference",
                 "Also time the reference's training step (a faithful python3-torch re-implementation) in this "
                 "run and print the speed ratio from both measurements (a few minutes)."});
    p.addOption({"data",
                 "Data for the evaluation timing; an image folder also gets the loader benchmark "
                 "(decode speed, the paper-preset step's wait on data, peak memory).",
                 "path", kDefaultDataPath});
    p.addOption(
        {"generate",
         "Write this many JPEGs of mixed sizes around 500x375 into --data first (when it holds "
         "no class folders yet).",
         "n", "0"});
    p.addOption({"data-only", "Only the loader benchmark of --data."});
    p.addOption({"rss-images",
                 "Internal: stream this many images of --data once and print the peak RSS.", "n",
                 "0"});
    p.addOption(
        {"demo",
         "Also time `metaprune demo` end to end in a temporary project (about 13 minutes)."});
    addDistributedOptions(p);
}

int runBench(const Parser& p) {
    if (p.isSet("nproc") || distEnvFromEnvironment()) return benchDataParallel(p);
    if (intValue(p, "rss-images", 0, 1 << 30) > 0) return rssProbe(p);
    if (intValue(p, "generate", 0, 10000000) > 0 || p.value("data") != kDefaultDataPath) {
        const bool folder = benchLoader(p);
        if (p.isSet("data-only")) return folder ? 0 : 1;
    }
    const int steps = intValue(p, "steps", 1, 1000);
    const int candidates = intValue(p, "candidates", 1, 100000);
    configureRuntime(intValue(p, "threads", 0, 1024));
    const int configured = threads();
    const double gflops = sgemmGflops();
    std::printf("threads %d, sgemm 1024^3: %.1f GFLOP/s\n", threads(), gflops);
    std::fflush(stdout);
    if (!p.isSet("skip-paper")) {
        // Thread counts matter on this machine (platform.md): measure one and all cores.
        const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
        struct Case {
            GeneratorUpdate update;
            int threads;
        };
        std::vector<Case> cases = {{GeneratorUpdate::Sparse, 1}, {GeneratorUpdate::Dense, 1}};
        if (cores > 1)
            cases.insert(cases.end(),
                         {{GeneratorUpdate::Sparse, cores}, {GeneratorUpdate::Dense, cores}});
        std::map<int, std::optional<double>> reference; // by thread count, measured in this run
        if (p.isSet("reference"))
            for (const Case& c : cases)
                if (!reference.count(c.threads)) {
                    std::string why;
                    reference[c.threads] = referenceStepMs(c.threads, steps, why);
                    if (reference[c.threads])
                        std::printf("reference MetaPruning step in python3-torch (paper MobileNetV2, batch 16, %d "
                                    "thread%s): median %.0f ms\n",
                                    c.threads, c.threads > 1 ? "s" : "", *reference[c.threads]);
                    else
                        std::printf("reference step not measured (%s): no speed ratio is printed\n", why.c_str());
                    std::fflush(stdout);
                }
        for (const Case& c : cases) {
            configureRuntime(c.threads);
            double work = 0;
            int64_t genParams = 0;
            const Timing t = benchTrainingStep("mobilenetv2", "paper", 3, 224, 1000, 16, c.update,
                                               steps, &work, &genParams);
            const std::optional<double> ref = reference.count(c.threads) ? reference[c.threads] : std::nullopt;
            char ratio[96] = "";
            if (ref)
                std::snprintf(ratio, sizeof ratio, "; %.2fx the reference's step measured above (goal 10x)",
                              *ref / t.median);
            std::printf("paper MobileNetV2 PruningNet (%lld M generator params), training step at "
                        "batch 16, %s generator update, %d thread%s: median %.0f ms (p95 %.0f, first %.0f)%s; "
                        "pruned-network work %.1f GFLOP/step = %.1f GFLOP/s = %.2f of sgemm\n",
                        static_cast<long long>(genParams / 1000000),
                        c.update == GeneratorUpdate::Sparse ? "sparse" : "dense", c.threads,
                        c.threads > 1 ? "s" : "", t.median, t.p95, t.first, ratio, work, work / (t.median / 1000),
                        work / (t.median / 1000) / gflops);
            std::fflush(stdout);
        }
        configureRuntime(configured);
    }
    {
        double work = 0;
        const Timing t = benchTrainingStep("mobilenetv2", "small", 1, 28, 10, 128,
                                           GeneratorUpdate::Sparse, steps * 4, &work);
        std::printf("small MobileNetV2 PruningNet, training step at batch 128 (28x28): median %.0f "
                    "ms = %.0f images/s "
                    "(%.1f GFLOP/s)\n",
                    t.median, 128 / (t.median / 1000), work / (t.median / 1000));
        std::fflush(stdout);
    }
    // Candidate evaluation needs a checkpoint: a briefly trained one (timing does not depend
    // on the weights) in a temporary folder.
    TrainConfig cfg;
    cfg.dataPath = QFileInfo(p.value("data")).absoluteFilePath().toStdString();
    if (cfg.dataPath != kDefaultDataPath &&
        loadData(cfg.dataPath, DataFormat::Auto, {}).format == "folder")
        cfg.dataPath = kDefaultDataPath; // the loader benchmark above covered the folder
    cfg.epochs = 1;
    // The search split the full Fashion-MNIST gets (searchPerClassFor: 961 per class), so that
    // the search default is timed on the images it scores there.
    cfg.trainPerClass = 1200;
    cfg.searchPerClass = int((kSearchSplitImages + 9) / 10);
    const DataBundle data = loadTrainingData(cfg);
    const std::string ckpt =
        QDir::tempPath().toStdString() + "/metaprune-bench-" + std::to_string(getpid()) + ".pt";
    trainPruningNet(data, cfg, ckpt, {}, &gCancel);
    const int n = candidates;
    struct Setting {
        const char* name;
        EvalSettings s;
    };
    EvalSettings probe;
    probe.recalBatches = 2;
    probe.evalImages = 500;
    for (const Setting& s :
         {Setting{"search default", EvalSettings{}}, Setting{"interactive probe", probe}}) {
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
        std::printf("candidate evaluation (%s: %d x %d recalibration + %d scored images, small "
                    "preset, random "
                    "encodings): median %.0f ms, p95 %.0f ms, first %.0f ms\n",
                    s.name, s.s.recalBatches, s.s.recalBatchSize,
                    int(s.s.evalImages > 0 ? std::min<int64_t>(s.s.evalImages, ev.searchSplitImages())
                                           : ev.searchSplitImages()),
                    t.median, t.p95, t.first);
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
        std::printf("latency table (small MobileNetV2, batch 1, grid step 5): built in %s; "
                    "prediction vs measured "
                    "end-to-end latency over %d random pruned networks: mean absolute percentage "
                    "error %.1f%%\n",
                    duration(built).c_str(), networks, 100 * sumApe / networks);
    }
    if (p.isSet("demo")) benchDemo(intValue(p, "threads", 0, 1024));
    return 0;
}

} // namespace mpcli
