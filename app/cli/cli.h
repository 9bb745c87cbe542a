#pragma once
// The metaprune command line: what the command files share. Each command is a file with two
// entry points, declareX (its options) and runX (the work), listed in main.cpp's table.

#include "metaprune/architecture.h"
#include "metaprune/compare.h"
#include "metaprune/distributed.h"
#include "metaprune/evaluator.h"
#include "metaprune/latency.h"
#include "metaprune/pareto.h"
#include "metaprune/project.h"

#include <QCommandLineParser>
#include <QStringList>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mpcli {

/// Set by SIGINT/SIGTERM; every long job polls it and stops at its next step or candidate.
extern std::atomic<bool> gCancel;

using Clock = std::chrono::steady_clock;

/// Bad usage (unknown option, value out of range): exit code 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// QCommandLineParser with every option's default shown in --help.
class Parser : public QCommandLineParser {
public:
    /// Positional arguments the command takes after its name (declared with addArgument).
    int arguments = 0;
    /// The command has --device (addCommon): parseOptions checks it.
    bool deviceOption = false;
    void addArgument(const QString& name, const QString& description) {
        addPositionalArgument(name, description);
        ++arguments;
    }
    bool addOption(const QCommandLineOption& o) {
        if (o.defaultValues().isEmpty() || o.valueName().isEmpty())
            return QCommandLineParser::addOption(o);
        QCommandLineOption shown(
            o.names(), o.description() + " Default: " + o.defaultValues().join(", ") + ".",
            o.valueName(), o.defaultValues().value(0));
        return QCommandLineParser::addOption(shown);
    }
};

/// One command: its options and its work. `run` returns the exit code.
struct Command {
    const char* name;
    const char* summary;
    void (*declare)(Parser&);
    int (*run)(const Parser&);
};

// ---- output ------------------------------------------------------------------------------------

/// "1h02m", "3m05s", "42s".
std::string duration(double seconds);

/// Progress with percentage and ETA on stderr: one rewritten line on a terminal, a line per
/// 10% (or 30 s) otherwise, so logs stay readable.
class Progress {
public:
    explicit Progress(std::string label);
    ~Progress();
    void update(int64_t done, int64_t total, const std::string& extra = {});
    /// Counts `n` units as done without work (taken from the store), so that the ETA follows
    /// this session's own rate; no ETA is shown until one unit has been worked.
    void skip(int64_t n);
    /// Ends the rewritten line before other output.
    void done();

private:
    std::string label_;
    bool tty_;
    Clock::time_point start_;
    int64_t first_ = -1;
    int64_t skipped_ = 0;
    int lastDecile_ = -1;
    int64_t lastDone_ = -1; ///< last printed count (a log gets each completion once)
    double lastPrint_ = 0;
    bool open_ = false;
};

/// Progress line of a multi-stage job: one bar per stage.
struct StageProgress {
    std::unique_ptr<Progress> bar;
    std::string stage;
    void operator()(const mp::JobProgress& j);
    void done() { bar.reset(); }
};

std::string genesText(const mp::Encoding& e);
/// The Pareto front of the searched candidates within `cfg`'s constraint (all when null).
void printFront(const std::vector<mp::CandidateRecord>& all, int64_t fullMacs,
                const mp::SearchConfig* cfg);
/// Why a run has no searched candidate on its front (within `cfg`'s constraint, all when null).
std::string noSearchedCandidatesText(const std::vector<mp::CandidateRecord>& all, const mp::SearchConfig* cfg);
/// The best structure against the uniform baseline of equal-or-higher MACs and the interpolated
/// curve.
void printBestVsUniform(const mp::CandidateRecord& best,
                        const std::vector<mp::CandidateRecord>& all, int64_t fullMacs);
/// The best structure against its uniform baseline, both re-scored by `ev` on the same images of
/// `split`: the difference with its interval and the McNemar test (stats.h).
void printPairedDifference(const mp::Evaluator& ev, const mp::CandidateRecord& best,
                           const mp::CandidateRecord& uniform, mp::EvalSplit split);

// ---- options -----------------------------------------------------------------------------------

/// Integer / finite number option within [lo, hi]; UsageError otherwise.
int intValue(const Parser& p, const QString& name, int lo, int hi);
double doubleValue(const Parser& p, const QString& name, double lo, double hi);
/// Parses the command's options; bad usage (unknown option, missing value, stray argument)
/// throws UsageError so that it exits with code 2, as --help and the README say.
void parseOptions(Parser& p, const QStringList& args);
uint64_t seedValue(const Parser& p);
/// --db and --threads.
void addCommon(Parser& p, const QString& defaultDb);
/// --data, --format, the per-class caps, --max-bad and the loader options.
void addDataOptions(Parser& p);
/// --cache-mb and --decode-threads: how image folders are read (not part of the settings).
void addLoaderOptions(Parser& p);
mp::LoaderSettings loaderSettingsOf(const Parser& p);
/// Loads the data of `cfg` with the loader options and prints its summary line.
mp::DataBundle loadDataFor(const mp::TrainConfig& cfg, const Parser& p);
void addTrainOptions(Parser& p, const mp::TrainConfig& defaults);
mp::TrainConfig trainConfigOf(const Parser& p);
void addRecalOptions(Parser& p, const mp::EvalSettings& defaults);
void addEvalOptions(Parser& p, const mp::EvalSettings& defaults);
mp::EvalSettings evalSettingsOf(const Parser& p);
void addSearchOptions(Parser& p, const mp::SearchConfig& defaults, const QString& defaultMax);
/// Without `seedOption`, no --search-seed (for commands that take a list of search seeds).
void addEvolutionOptions(Parser& p, const mp::SearchConfig& defaults, bool seedOption = true);
mp::SearchConfig searchConfigOf(const Parser& p, const mp::ArchSpec& arch);
/// Population, operators, generations, seed, baselines and evaluation settings of a search.
void evolutionOf(const Parser& p, mp::SearchConfig& c, bool seedOption = true);
void addRetrainOptions(Parser& p, const mp::RetrainConfig& defaults);
mp::RetrainConfig retrainConfigOf(const Parser& p);
/// Comma-separated distinct seeds of option `name`.
std::vector<uint64_t> seedsOf(const Parser& p, const QString& name);
/// --mean and --std: the input normalisation a trained model expects.
void addPreprocessingOptions(Parser& p);
/// Option `name` (--mean or --std) as one value per channel (one value given applies to every
/// channel); `fallback` for each channel when unset. UsageError for another count, a value
/// that is not finite, or a std that is not positive.
std::vector<float> preprocessingOf(const Parser& p, const QString& name, int channels, float fallback);
/// --mean or --std as given (empty when not given), checked without the model: both or neither,
/// finite, std positive, on the 0..1 pixel scale; throws UsageError.
std::vector<float> preprocessingValues(const Parser& p, const QString& name);
/// "0.286" or "0.485,0.456,0.406".
std::string floatsText(const std::vector<float>& values);

/// --family/--preset or --arch-file, and --channels/--size/--classes: an architecture to describe
/// or measure without a checkpoint.
void addArchitectureOptions(Parser& p);
/// The architecture of those options: a built-in family (default input 1x28x28, 10 classes), or
/// an architecture file at its own input size unless --channels/--size/--classes are given.
mp::ArchSpec architectureFromOptions(const Parser& p);
/// "28" or "32x24" -> {height, width}; UsageError otherwise.
std::pair<int, int> sizeValue(const Parser& p, const QString& name);

/// --training, --checkpoint and --data: which PruningNet a command uses (resolveCheckpoint) and
/// where its data is (dataForCheckpoint). `purpose` ends "whose PruningNet ...".
void addCheckpointOptions(Parser& p, const QString& purpose);

struct TrainedRef {
    std::string checkpoint;
    int64_t trainingId = 0;
};

/// The checkpoint a command works on: --checkpoint, else --training N of the project, else the
/// project's latest finished training.
TrainedRef resolveCheckpoint(const Parser& p);
mp::DataBundle dataForCheckpoint(const mp::CheckpointInfo& info, const Parser& p);

/// --candidate, --encoding, --uniform and the checkpoint options.
void addStructureOptions(Parser& p);
/// The encoding a command acts on: --candidate (a stored candidate), --encoding or --uniform.
mp::Encoding encodingOf(const Parser& p, const mp::ArchSpec& arch,
                        std::optional<mp::CandidateRecord>* candidate = nullptr);
/// The export format of option `option` ("auto": from the file name); warns when the name
/// disagrees.
mp::ExportFormat formatOf(const Parser& p, const QString& option, const QString& path);
/// Fails before any work when `path` cannot be created: its folder is missing or read-only.
void checkWritable(const QString& path);
/// --json, or the output's file name + ".json" (net.onnx -> net.onnx.json).
QString jsonPathFor(const Parser& p, const QString& output);

// ---- data-parallel runs ------------------------------------------------------------------------

/// --nproc, --master-port and --rendezvous-timeout.
void addDistributedOptions(Parser& p);
/// `metaprune <command> --nproc N ...`: starts N local ranks of the same command line (without
/// --nproc, with RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT set), each in its
/// own process group so that a Ctrl-C reaches them once, forwarded; waits for all. When a rank
/// fails, the others get 10 s to stop on their own (they lose contact), then SIGTERM, then
/// SIGKILL. Returns 0 when every rank finished, 130 when cancelled, else the failed rank's exit
/// code (128 + signal when killed), after a message naming the rank and how it ended.
int launchLocal(const Parser& p, const char* command);
/// The run this process is a rank of, from torchrun's variables (nullptr when not set or
/// WORLD_SIZE is 1): joined under `job` with the SHA-256 of `settings` compared between ranks.
/// Ranks other than 0 send their stdout to /dev/null (errors still reach stderr).
std::unique_ptr<mp::Distributed> joinFromEnvironment(const Parser& p, const std::string& job,
                                                     const std::string& settings);

// ---- jobs --------------------------------------------------------------------------------------

/// The project's latency table for `arch` (measured now, with progress, if it has none).
mp::LatencyJob latencyFor(const std::string& db, const mp::ArchSpec& arch, int batch, int gridStep,
                          int repeats);
mp::TrainJob runTraining(const std::string& db, const mp::DataBundle& data,
                         const mp::TrainConfig& cfg, const std::string& ckpt,
                         const mp::Distributed* dist = nullptr);
/// The learned-or-not check of a finished training, with a warning when it failed.
void reportLearned(const mp::TrainJob& job);
/// `allowUnlearned`: search even when the PruningNet has not learned (--force), with a warning.
mp::SearchJob runSearchJob(const std::string& db, const mp::Evaluator& ev,
                           const mp::SearchConfig& cfg, int64_t trainingId,
                           const mp::LatencyTable* latency = nullptr, bool allowUnlearned = false,
                           const mp::Distributed* dist = nullptr);

/// --jobs N: a study's units on N local processes.
void addJobsOption(Parser& p);
/// The pool of --jobs (empty for 1): processes of this program running `study-unit` with the
/// study's data (`dataCheckpoint`, --data and the loader options of `p`).
mp::StudyPool studyPoolOf(const Parser& p, const std::string& dataCheckpoint);

// ---- commands ----------------------------------------------------------------------------------

void declareTrain(Parser& p);
int runTrain(const Parser& p);
void declareSearch(Parser& p);
int runSearch(const Parser& p);
void declareEvaluate(Parser& p);
int runEvaluate(const Parser& p);
void declarePareto(Parser& p);
int runPareto(const Parser& p);
void declareExport(Parser& p);
int runExport(const Parser& p);
void declareRetrain(Parser& p);
int runRetrain(const Parser& p);
void declareCompare(Parser& p);
int runCompare(const Parser& p);
void declareFidelity(Parser& p);
int runFidelity(const Parser& p);
void declareDemo(Parser& p);
int runDemo(const Parser& p);
void declareLatency(Parser& p);
int runLatency(const Parser& p);
void declareBench(Parser& p);
int runBench(const Parser& p);
void declareArch(Parser& p);
int runArch(const Parser& p);
void declareImport(Parser& p);
int runImport(const Parser& p);
void declareStudyUnit(Parser& p);
int runStudyUnit(const Parser& p);
void declareSearchRank(Parser& p);
int runSearchRank(const Parser& p);

} // namespace mpcli
