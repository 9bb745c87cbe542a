// metaprune evaluate: one encoding with BN recalibration, or a trained ONNX model as itself.
#include "cli.h"

#include "metaprune/onnx_import.h"
#include "metaprune/trained.h"

#include <QFile>
#include <QFileInfo>

#include <cstdio>

namespace mpcli {

using namespace mp;

namespace {

/// `metaprune evaluate --model model.onnx --data DIR`: the trained model with its own weights
/// (batch norm in eval mode) on the data's test set.
int evaluateModel(const Parser& p) {
    if (!p.isSet("data"))
        throw UsageError("--model needs --data: the folder whose test set the model is scored on");
    for (const char* other : {"encoding", "uniform", "checkpoint", "training", "no-recal"})
        if (p.isSet(other))
            throw UsageError(std::string("--model scores the trained model itself; --") + other + " does not apply");
    preprocessingValues(p, "mean"); // a bad value is refused before the model and the data are read
    preprocessingValues(p, "std");
    const QString model = QFileInfo(p.value("model")).absoluteFilePath();
    TrainedWeights weights;
    ImportReport report;
    const ArchSpec arch = importOnnx(model.toStdString(), &report, &weights);
    const std::vector<float> mean = preprocessingOf(p, "mean", arch.inChannels, 0.0f),
                             stddev = preprocessingOf(p, "std", arch.inChannels, 1.0f);
    if (!p.isSet("mean"))
        std::fprintf(stderr, "metaprune: no --mean/--std: the model sees pixels scaled to 0..1, not normalised; give "
                             "the normalisation it was trained with\n");
    DataOptions o;
    o.height = arch.inHeight;
    o.width = arch.inWidth;
    o.folderHeight = arch.inHeight;
    o.folderWidth = arch.inWidth;
    const LoaderSettings loader = loaderSettingsOf(p);
    o.cacheBytes = loader.cacheBytes;
    o.decodeThreads = loader.decodeThreads;
    const DataBundle data = loadData(QFileInfo(p.value("data")).absoluteFilePath().toStdString(),
                                     parseDataFormat(p.value("format").toStdString()), o);
    std::printf("Data: %s\n", data.summary.c_str());
    const int keep = p.isSet("logits") ? intValue(p, "logits-images", 1, 1 << 30) : 0;
    if (p.isSet("logits"))
        checkWritable(QFileInfo(p.value("logits")).absoluteFilePath());
    const ModelScore s = evaluateTrained(arch, weights, data.test, mean, stddev, keep, &gCancel);
    std::printf("%s: %s MACs, input %dx%dx%d normalised with mean %s, std %s\n", qPrintable(model),
                formatMacs(countMacs(arch, uniformEncoding(arch, grid::kSize - 1))).c_str(), arch.inChannels,
                arch.inHeight, arch.inWidth, floatsText(mean).c_str(), floatsText(stddev).c_str());
    std::printf("top-1 %.2f%%  loss %.4f  on %lld test images (%lld correct)%s\n", s.top1, s.loss,
                static_cast<long long>(s.images), static_cast<long long>(std::llround(s.top1 * double(s.images) / 100)),
                data.testHeldOut ? " of the held-out split (the data has no test set of its own)" : "");
    if (p.isSet("logits")) {
        // One row per image, in test-set order; nine significant digits read back as the same float.
        std::string csv;
        char cell[32];
        for (const std::vector<float>& row : s.logits) {
            for (size_t c = 0; c < row.size(); ++c) {
                std::snprintf(cell, sizeof cell, "%s%.9g", c ? "," : "", double(row[c]));
                csv += cell;
            }
            csv += "\n";
        }
        writeFileAtomically(QFileInfo(p.value("logits")).absoluteFilePath().toStdString(), csv);
        std::printf("Wrote the logits of the first %zu test images to %s (CSV, one row per image)\n",
                    s.logits.size(), qPrintable(p.value("logits")));
    }
    return 0;
}

} // namespace

void declareEvaluate(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "to use");
    p.addOption({"model", "Score a trained ONNX model with its own weights on --data's test set (no PruningNet).",
                 "file"});
    addPreprocessingOptions(p);
    p.addOption({"format", "With --model: the data's format (auto, idx, cifar, folder).", "name", "auto"});
    p.addOption({"logits", "With --model: write the logits of the first test images to this CSV file.", "file"});
    p.addOption({"logits-images", "With --logits: how many test images.", "n", "100"});
    p.addOption({"encoding",
                 "Comma-separated scale indices (0..30), one per gene (see `metaprune arch`).",
                 "genes"});
    p.addOption({"uniform", "Uniform network at scale index i (0..30; 30 = full width).", "i"});
    p.addOption({"test", "Score on the official test set instead of the search split."});
    p.addOption({"no-recal", "Skip BN recalibration (shows why it is mandatory)."});
    addEvalOptions(p, EvalSettings{});
}

int runEvaluate(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    if (p.isSet("model"))
        return evaluateModel(p);
    for (const char* modelOnly : {"mean", "std", "logits"})
        if (p.isSet(modelOnly))
            throw UsageError(std::string("--") + modelOnly + " applies to --model only");
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
    const EvalResult r =
        ev.evaluate(enc, p.isSet("test") ? EvalSplit::Test : EvalSplit::Search, &gCancel);
    const int64_t full = countMacs(ev.arch(), uniformEncoding(ev.arch(), grid::kSize - 1));
    std::printf("encoding: %s\nchannels: %s\nMACs: %s (%.1f%% of full)  params: %lld\n",
                genesText(enc).c_str(), channelsToString(geneChannels(ev.arch(), enc)).c_str(),
                formatMacs(countMacs(ev.arch(), enc)).c_str(),
                100.0 * double(countMacs(ev.arch(), enc)) / double(full),
                static_cast<long long>(countParams(ev.arch(), enc)));
    std::printf("top-1 %.2f%%  loss %.4f  on %lld %s images%s  (%.0f ms)\n", r.top1, r.loss,
                static_cast<long long>(r.images), p.isSet("test") ? "test" : "search-split",
                es.recalibrate ? "" : " WITHOUT BN recalibration", r.milliseconds);
    return 0;
}

} // namespace mpcli
