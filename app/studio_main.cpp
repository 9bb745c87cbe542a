// metaprune-studio: the desktop app. Parses its command line, falls back to the headless demo
// when there is no display, and opens a project in the main window.

#include "mainwindow.h"
#include "studiotools.h"

#include "metaprune/training.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QLibraryInfo>
#include <QTemporaryDir>
#include <QTranslator>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <vector>

namespace {

bool hasDisplay() {
    return std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY") || std::getenv("QT_QPA_PLATFORM");
}

// The command-line tool installed next to this binary.
std::string cliPath() {
    char self[4096] = {};
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = n > 0 ? std::string(self, size_t(n)) : std::string(".");
    dir = dir.substr(0, dir.find_last_of('/'));
    return dir + "/metaprune";
}

} // namespace

int main(int argc, char** argv) {
    bool demo = false;
    bool textOnly = false; // --help and --version print text (help2man reads them when building)
    for (int i = 1; i < argc; ++i) {
        demo = demo || std::strcmp(argv[i], "--demo") == 0;
        for (const char* o : {"-h", "--help", "--help-all", "-v", "--version"})
            textOnly = textOnly || std::strcmp(argv[i], o) == 0;
    }
    if (textOnly && !hasDisplay())
        qputenv("QT_QPA_PLATFORM", "offscreen");
    if (!hasDisplay()) {
        if (demo) {
            std::fprintf(stderr, "metaprune-studio: no display ($DISPLAY and $WAYLAND_DISPLAY are unset): running the "
                                 "headless demo instead (metaprune demo).\n");
            // Options after --demo go to `metaprune demo` (e.g. --db, --threads).
            const std::string cli = cliPath();
            std::vector<char*> args = {const_cast<char*>("metaprune"), const_cast<char*>("demo")};
            for (int i = 1; i < argc; ++i)
                if (std::strcmp(argv[i], "--demo") != 0)
                    args.push_back(argv[i]);
            args.push_back(nullptr);
            execv(cli.c_str(), args.data());
            std::perror(cli.c_str());
            return 1;
        }
        std::fprintf(stderr, "metaprune-studio: no display ($DISPLAY and $WAYLAND_DISPLAY are unset). Use the "
                             "`metaprune` command line, or QT_QPA_PLATFORM=offscreen for screenshots.\n");
        return 1;
    }

    QApplication app(argc, argv);
    QApplication::setOrganizationName("MetaPrune");
    QApplication::setApplicationName("MetaPrune Studio");
    QApplication::setApplicationVersion(METAPRUNE_VERSION);
    QTranslator qtTranslator, appTranslator;
    if (qtTranslator.load(QLocale(), "qtbase", "_", QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QApplication::installTranslator(&qtTranslator);
    if (appTranslator.load(QLocale(), "metaprune", "_", ":/i18n"))
        QApplication::installTranslator(&appTranslator);

    QCommandLineParser p;
    p.setApplicationDescription(QApplication::translate(
        "main", "MetaPrune Studio: train a PruningNet, search pruned structures, steer channel widths."));
    p.addHelpOption();
    p.addVersionOption();
    p.addPositionalArgument("project", QApplication::translate("main", "Project database to open or create."),
                            "[project.sqlite]");
    p.addOption({"demo", QApplication::translate("main", "Open metaprune-demo.sqlite in the current folder, train and "
                                                         "search it at 50% MACs (falls back to `metaprune demo` "
                                                         "without a display).")});
    p.addOption({"threads", QApplication::translate("main", "LibTorch threads per background job (0 = all cores)."),
                 "n", "1"});
    p.addOption({"screenshot", QApplication::translate("main", "Save a screenshot of the project's window and quit."),
                 "file.png"});
    p.addOption({"screenshot-training",
                 QApplication::translate("main", "Save a screenshot during a training of the project and quit."),
                 "file.png"});
    p.addOption({"screenshot-reports",
                 QApplication::translate("main", "Save a screenshot with the Reports tab raised and quit."),
                 "file.png"});
    p.addOption({"screenshot-budget",
                 QApplication::translate("main", "Save a screenshot with the Budget tab raised and quit."),
                 "file.png"});
    p.addOption({"export-heatmap",
                 QApplication::translate("main", "Write the widths-vs-budget heat map (.png or .svg) and quit."),
                 "file"});
    p.addOption({"bench", QApplication::translate("main", "Measure the budget view's frame time while playing, probe "
                                                          "latency and event-loop stalls, then quit.")});
    p.addOption({"probes", QApplication::translate("main", "Drags timed by --bench."), "n", "30"});
    p.process(app);

    mp::configureRuntime(p.value("threads").toInt());
    mpw::initResources();
    mpw::MainWindow window;
    QString project = p.positionalArguments().value(0);
    if (demo)
        project = QDir::current().absoluteFilePath("metaprune-demo.sqlite");
    if (!project.isEmpty() && !window.openProject(project)) {
        for (const char* o : {"screenshot", "screenshot-reports", "screenshot-training", "screenshot-budget",
                              "export-heatmap", "bench"})
            if (p.isSet(o))
                return 1;
    }
    if (p.isSet("screenshot-budget"))
        return mpw::saveScreenshot(window, p.value("screenshot-budget"), mpw::Shot::Budget, 0);
    if (p.isSet("export-heatmap"))
        return mpw::exportHeatMap(window, p.value("export-heatmap"));
    if (p.isSet("screenshot"))
        return mpw::saveScreenshot(window, p.value("screenshot"), mpw::Shot::Pareto, 0);
    if (p.isSet("screenshot-reports"))
        return mpw::saveScreenshot(window, p.value("screenshot-reports"), mpw::Shot::Reports, 0);
    if (p.isSet("screenshot-training"))
        return mpw::saveScreenshot(window, p.value("screenshot-training"), mpw::Shot::Training, 45);
    if (p.isSet("bench")) {
        QTemporaryDir scratch;
        return mpw::runGuiBenchmark(window, p.value("probes").toInt(), scratch.filePath("bench.sqlite"));
    }
    window.show();
    if (demo)
        window.startDemo();
    return app.exec();
}
