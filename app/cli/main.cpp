// metaprune: the headless command line of MetaPrune Studio. The dispatcher is a table of
// commands, one file each (git's builtin/, cargo's commands/), parsed with QCommandLineParser.
#include "cli.h"

#include <QApplication>
#include <QCoreApplication>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unistd.h>

namespace mpcli {

std::atomic<bool> gCancel{false};

namespace {

extern "C" void onInterrupt(int) {
    if (gCancel.load()) {
        // A second signal quits at once; write() is async-signal-safe, printf is not.
        const char msg[] = "\nmetaprune: interrupted again, quitting now; everything committed is "
                           "kept, run the same "
                           "command to resume\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        _exit(130);
    }
    gCancel.store(true);
}

const Command kCommands[] = {
    {"train", "train a PruningNet (stochastic structure sampling)", declareTrain, runTrain},
    {"search", "evolutionary search under a MACs and/or latency constraint", declareSearch,
     runSearch},
    {"evaluate", "evaluate one encoding (BN recalibration + top-1)", declareEvaluate, runEvaluate},
    {"pareto", "print the Pareto front of a project's runs", declarePareto, runPareto},
    {"export", "write a structure as TorchScript, ONNX or a LibTorch archive", declareExport,
     runExport},
    {"retrain", "retrain a stored structure and store its test top-1", declareRetrain, runRetrain},
    {"compare", "searched vs uniform baselines at MACs targets, retrained (Markdown + PNG)",
     declareCompare, runCompare},
    {"fidelity", "rank correlation of PruningNet accuracy with retrained accuracy", declareFidelity,
     runFidelity},
    {"demo", "train briefly, search at 50% MACs, compare with uniform baselines", declareDemo,
     runDemo},
    {"latency", "measure this machine's per-layer latency table", declareLatency, runLatency},
    {"bench", "speed figures of this machine", declareBench, runBench},
    {"arch", "describe an architecture's genes, layers and PruningNet size", declareArch, runArch},
    {"import", "derive an architecture file from an ONNX model", declareImport, runImport},
    {"search-rank", "one more process for a search whose rank 0 runs elsewhere (the app starts these)",
     declareSearchRank, runSearchRank},
    {"study-unit", "one training, search or retraining of a study run with --jobs (the study starts these)",
     declareStudyUnit, runStudyUnit},
};

int dispatch(const QStringList& args) {
    using namespace mp;
    QString overview = "MetaPrune Studio command line: MetaPruning (Liu et al., ICCV 2019) channel "
                       "pruning.\nCommands:\n";
    for (const Command& c : kCommands)
        overview += QString("  %1 %2\n").arg(c.name, -11).arg(c.summary);
    overview += "Run `metaprune <command> --help` for a command's options.";
    Parser p;
    p.setApplicationDescription(overview);
    p.addHelpOption();
    p.addVersionOption();
    p.addPositionalArgument("command", "One of the commands above.", "<command>");
    p.parse(args);
    const QString cmd = p.positionalArguments().value(0);
    const Command* command = nullptr;
    for (const Command& c : kCommands)
        if (cmd == c.name) command = &c;
    try {
        if (!command) {
            if (p.isSet("version")) p.showVersion();
            if (cmd.isEmpty()) p.showHelp(p.isSet("help") ? 0 : 2);
            std::fprintf(stderr, "metaprune: unknown command '%s' (see metaprune --help)\n",
                         qPrintable(cmd));
            return 2;
        }
        // A command's --help describes that command only.
        p.setApplicationDescription(
            QString("metaprune %1: %2.").arg(command->name, command->summary));
        p.clearPositionalArguments();
        p.addPositionalArgument(cmd, "The command.", cmd);
        command->declare(p);
        parseOptions(p, args);
        return command->run(p);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "metaprune %s: %s\n", qPrintable(cmd), e.what());
        return 2;
    } catch (const ConfigError& e) { // settings no run can use: bad usage too
        std::fprintf(stderr, "metaprune %s: %s\n", qPrintable(cmd), e.what());
        return 2;
    } catch (const ArchError& e) { // a model or architecture file that cannot be used: an error in a file
        std::fprintf(stderr, "metaprune %s: error: %s\n", qPrintable(cmd), e.what());
        return 1;
    } catch (const std::invalid_argument& e) { // unknown preset, bad encoding text
        std::fprintf(stderr, "metaprune %s: %s\n", qPrintable(cmd), e.what());
        return 2;
    } catch (const Cancelled&) {
        if (cmd == "retrain")
            std::fprintf(
                stderr,
                "metaprune retrain: cancelled; nothing was stored for this retraining (it starts "
                "over when run again)\n");
        else
            std::fprintf(
                stderr,
                "metaprune %s: cancelled; everything committed is kept, run the same command to "
                "resume\n",
                qPrintable(cmd));
        return 130;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "metaprune %s: error: %s\n", qPrintable(cmd), e.what());
        return 1;
    }
}

} // namespace
} // namespace mpcli

int main(int argc, char** argv) {
    // `compare` renders its chart with QCustomPlot, which needs a QApplication; the command line
    // never opens a window, so it needs no display either.
    const bool needsGui = argc > 1 && std::strcmp(argv[1], "compare") == 0;
    if (needsGui && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    // Headless, as root or in a container, Qt warns that XDG_RUNTIME_DIR is unset and uses a
    // folder of its own: nothing a user of the command line can act on, so that one line is dropped.
    static QtMessageHandler previous = nullptr;
    if (needsGui)
        previous = qInstallMessageHandler([](QtMsgType type, const QMessageLogContext& context, const QString& msg) {
            if (!msg.startsWith("QStandardPaths: XDG_RUNTIME_DIR not set"))
                previous(type, context, msg);
        });
    std::unique_ptr<QCoreApplication> app(needsGui ? new QApplication(argc, argv)
                                                   : new QCoreApplication(argc, argv));
    QCoreApplication::setApplicationName("metaprune");
    QCoreApplication::setApplicationVersion(METAPRUNE_VERSION);
    std::signal(SIGINT, mpcli::onInterrupt);
    std::signal(SIGTERM, mpcli::onInterrupt);
    return mpcli::dispatch(QCoreApplication::arguments());
}
