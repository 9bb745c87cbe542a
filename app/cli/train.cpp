// metaprune train: PruningNet training with stochastic structure sampling.
#include "cli.h"

#include <QFileInfo>

namespace mpcli {

using namespace mp;

void declareTrain(Parser& p) {
    TrainConfig d;
    addCommon(p, "metaprune.sqlite");
    addDataOptions(p);
    addTrainOptions(p, d);
    addDistributedOptions(p);
}

int runTrain(const Parser& p) {
    if (p.isSet("nproc")) {
        // Settings no rank could train with are refused once, before any rank starts.
        checkDataParallel(trainConfigOf(p), intValue(p, "nproc", 1, 256));
        return launchLocal(p, "train");
    }
    configureRuntime(intValue(p, "threads", 0, 1024));
    TrainConfig cfg = trainConfigOf(p);
    if (const std::optional<DistEnv> env = distEnvFromEnvironment()) { // refused before any rank waits
        checkDataParallel(cfg, env->worldSize);
        // Per-rank batch norm trains another network on every rank count: its own checkpoint.
        if (!cfg.syncBatchNorm && env->worldSize > 1)
            cfg.batchNormRanks = env->worldSize;
    }
    // Joined before the data is read: a missing rank or other settings show at once.
    const std::unique_ptr<Distributed> dist = joinFromEnvironment(p, "train", toJson(cfg));
    const std::string db = p.value("db").toStdString();
    const std::string ckpt = p.isSet("checkpoint")
                                 ? QFileInfo(p.value("checkpoint")).absoluteFilePath().toStdString()
                                 : defaultCheckpointPath(db, cfg);
    // A damaged or foreign project fails here, before the data is read and training announced.
    if ((!dist || dist->rank() == 0) && QFileInfo::exists(p.value("db")))
        const Store check(db, StoreMode::ReadOnly);
    const DataBundle data = loadDataFor(cfg, p);
    if (dist && dist->rank() != 0) {
        // Rank 0 owns the project and the checkpoint; this rank trains its shard of each batch.
        const TrainOutcome out = trainPruningNet(data, cfg, ckpt, {}, &gCancel, 60.0, dist.get());
        return out.finished ? 0 : 130;
    }
    const TrainJob job = runTraining(db, data, cfg, ckpt, dist.get());
    if (!job.outcome.finished) {
        std::printf(
            "Cancelled at step %lld; the checkpoint is saved. Run the same command to resume.\n",
            static_cast<long long>(job.outcome.steps));
        return 130;
    }
    std::printf("Training %lld finished (%s in this session).\n",
                static_cast<long long>(job.trainingId), duration(job.outcome.seconds).c_str());
    reportLearned(job);
    return 0;
}

} // namespace mpcli
