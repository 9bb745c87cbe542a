// metaprune export: a structure as TorchScript, ONNX or a LibTorch archive.
#include "cli.h"

#include <QFileInfo>

#include <cstdio>

namespace mpcli {

using namespace mp;

void declareExport(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    addStructureOptions(p);
    p.addOption({"output",
                 "File to write: .pt (TorchScript), .onnx, or .archive.pt (LibTorch archive).",
                 "file"});
    p.addOption(
        {"format", "torchscript, onnx, archive, or auto (from the file name).", "name", "auto"});
    p.addOption(
        {"json",
         "Where to write the encoding, channels, MACs and params (default: next to --output).",
         "file"});
    addRecalOptions(p, EvalSettings{});
}

int runExport(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    if (!p.isSet("output")) throw UsageError("--output is required");
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
    const ArchSpec arch = checkpointArchitecture(info);
    const Encoding enc = encodingOf(p, arch); // before loading data: a bad structure fails at once
    const DataBundle data = dataForCheckpoint(info, p);
    const Evaluator ev(ref.checkpoint, data, recal);
    ev.exportNetwork(enc, format, output.toStdString(), json.toStdString());
    std::printf("Wrote %s (%s, PruningNet-generated weights, BN recalibrated on %d x %d images and "
                "folded)\n"
                "  and %s\n  MACs %s, params %lld, channels %s\n",
                qPrintable(output),
                format == ExportFormat::Onnx      ? "ONNX opset 13"
                : format == ExportFormat::Archive ? "LibTorch archive"
                                                  : "TorchScript",
                recal.recalBatches, recal.recalBatchSize, qPrintable(json),
                formatMacs(countMacs(arch, enc)).c_str(),
                static_cast<long long>(countParams(arch, enc)),
                channelsToString(geneChannels(arch, enc)).c_str());
    return 0;
}

} // namespace mpcli
