// metaprune search-rank: one rank (not 0) of a sharded search whose rank 0 runs in another
// process, such as the desktop app's Search panel with "processes" above 1.
#include "cli.h"

#include <QFile>

namespace mpcli {

using namespace mp;

void declareSearchRank(Parser& p) {
    p.addOption({"checkpoint", "The PruningNet checkpoint rank 0 searches with.", "file"});
    p.addOption({"config", "The search settings as rank 0 wrote them (SearchConfig JSON).", "file"});
    p.addOption({"threads", "LibTorch threads of this rank.", "n", "1"});
    p.addOption({"rendezvous-timeout", "Seconds to wait for the other ranks at the start.", "s", "60"});
}

int runSearchRank(const Parser& p) {
    if (!p.isSet("checkpoint") || !p.isSet("config"))
        throw UsageError("--checkpoint and --config are required (the app's Search panel passes both)");
    const std::optional<DistEnv> env = distEnvFromEnvironment();
    if (!env || env->rank == 0)
        throw UsageError("search-rank serves a rank other than 0: set RANK (1 or more), WORLD_SIZE, "
                         "MASTER_ADDR and MASTER_PORT as rank 0 announced them");
    configureRuntime(intValue(p, "threads", 0, 1024));
    QFile file(p.value("config"));
    if (!file.open(QIODevice::ReadOnly))
        throw std::runtime_error(p.value("config").toStdString() + ": cannot read the search settings (" +
                                 file.errorString().toStdString() + ")");
    const std::string configJson = file.readAll().toStdString();
    SearchConfig cfg;
    try {
        cfg = searchConfigFromJson(configJson);
    } catch (const std::exception& e) { // a damaged file: an error in the file, not bad usage
        throw std::runtime_error(p.value("config").toStdString() + ": not the search settings rank 0 wrote (" +
                                 e.what() + ")");
    }
    const std::string checkpoint = p.value("checkpoint").toStdString();
    const CheckpointInfo info = readCheckpointInfo(checkpoint);
    const DataBundle data = loadTrainingData(info.config);
    const Evaluator ev(checkpoint, data, cfg.eval);
    const std::unique_ptr<Distributed> dist =
        Distributed::join(*env, "search", shardedSearchSettings(configJson, info.sha256),
                          intValue(p, "rendezvous-timeout", 1, 86400));
    serveSearchShards(ev, *dist, &gCancel);
    return 0;
}

} // namespace mpcli
