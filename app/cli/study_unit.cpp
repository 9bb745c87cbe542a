// metaprune study-unit: one unit of a study run with --jobs (a PruningNet training, a search or a
// retraining), started by the study's own process; and the --jobs option that starts them.
#include "cli.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <cstdio>
#include <thread>

namespace mpcli {

using namespace mp;

void declareStudyUnit(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    p.addOption({"spec", "The unit as JSON text (not a file name), as a study writes it.", "json"});
    p.addOption({"worker", "Read units as JSON lines from stdin, one at a time, answering unit-ok or "
                           "unit-error: on stdout, until the input ends."});
    p.addOption({"data-checkpoint", "The checkpoint whose data the study uses.", "file"});
    p.addOption({"data", "Override the data folder recorded in that checkpoint.", "path"});
    addLoaderOptions(p);
}

int runStudyUnit(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    if (p.isSet("spec") == p.isSet("worker"))
        throw UsageError("give --spec JSON (one unit, the JSON text itself) or --worker (units on stdin), not both "
                         "or neither; this command is started by a study's --jobs");
    if (!p.isSet("data-checkpoint"))
        throw UsageError("--data-checkpoint is required: the checkpoint whose data the study uses");
    const CheckpointInfo info = readCheckpointInfo(p.value("data-checkpoint").toStdString());
    const DataBundle data = dataForCheckpoint(info, p);
    if (p.isSet("spec")) {
        mp::runStudyUnit(studyUnitFromJson(p.value("spec").toStdString()), data, {}, &gCancel);
        return 0;
    }
    std::fflush(stdout);
    QFile in;
    if (!in.open(stdin, QIODevice::ReadOnly))
        throw std::runtime_error("cannot read the units from stdin");
    for (;;) {
        const QByteArray line = in.readLine().trimmed();
        if (line.isEmpty()) {
            if (in.atEnd())
                return 0;
            continue;
        }
        try {
            mp::runStudyUnit(studyUnitFromJson(line.toStdString()), data, {}, &gCancel);
        } catch (const Cancelled&) {
            std::printf("unit-error: cancelled\n");
            std::fflush(stdout);
            return 130;
        } catch (const ConfigError& e) { // settings no run can use: the study reports it as its own
            std::printf("unit-config-error: %s\n", QString::fromUtf8(e.what()).simplified().toUtf8().constData());
            std::fflush(stdout);
            return 2;
        } catch (const std::exception& e) {
            std::printf("unit-error: %s\n", QString::fromUtf8(e.what()).simplified().toUtf8().constData());
            std::fflush(stdout);
            return 1;
        }
        std::printf("unit-ok\n");
        std::fflush(stdout);
    }
}

void addJobsOption(Parser& p) {
    p.addOption({"jobs",
                 "Run the study's independent trainings, searches and retrainings on this many local processes, "
                 "each with --threads threads (default: this machine's cores divided among them); the results "
                 "are those of one process.",
                 "n", "1"});
}

StudyPool studyPoolOf(const Parser& p, const std::string& dataCheckpoint) {
    const int jobs = intValue(p, "jobs", 1, 256);
    if (jobs == 1)
        return {};
    const int threads = p.isSet("threads") ? intValue(p, "threads", 1, 1024) : threadsPerJob(jobs);
    if (const int cores = int(std::max(1u, std::thread::hardware_concurrency())); jobs > cores)
        std::fprintf(stderr, "metaprune: note: --jobs %d on %d cores: the workers share the cores, which is slower "
                             "than --jobs %d\n", jobs, cores, cores);
    std::vector<std::string> args{"--data-checkpoint", dataCheckpoint};
    if (p.isSet("data"))
        args.insert(args.end(), {"--data", QFileInfo(p.value("data")).absoluteFilePath().toStdString()});
    for (const char* o : {"cache-mb", "decode-threads"})
        args.insert(args.end(), {std::string("--") + o, p.value(o).toStdString()});
    return processPool(QCoreApplication::applicationFilePath().toStdString(), jobs, threads, args);
}

} // namespace mpcli
