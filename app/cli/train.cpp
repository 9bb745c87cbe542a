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
}

int runTrain(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    const TrainConfig cfg = trainConfigOf(p);
    const std::string db = p.value("db").toStdString();
    const std::string ckpt = p.isSet("checkpoint")
                                 ? QFileInfo(p.value("checkpoint")).absoluteFilePath().toStdString()
                                 : defaultCheckpointPath(db, cfg);
    const DataBundle data = loadDataFor(cfg, p);
    const TrainJob job = runTraining(db, data, cfg, ckpt);
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
