// metaprune import: an ONNX model -> an architecture file (onnx_import.h).
#include "cli.h"

#include "metaprune/onnx_import.h"

#include <QFileInfo>

#include <cstdio>

namespace mpcli {

using namespace mp;

void declareImport(Parser& p) {
    p.addArgument("model", "The ONNX model (.onnx) of a CNN.");
    p.addOption({{"o", "output"}, "Architecture file to write (.arch.json).", "file"});
    p.addOption({"batch-size", "Training batch size, for the PruningNet's memory estimate.", "n", "128"});
    addPreprocessingOptions(p);
    // Accepted as by every command, so that scripts can pass it everywhere; reading a model is
    // single-threaded.
    p.addOption({"threads", "LibTorch threads (the import uses one).", "n", "1"});
}

int runImport(const Parser& p) {
    const QStringList args = p.positionalArguments();
    if (args.size() < 2) throw UsageError("name the ONNX model: metaprune import model.onnx -o net.arch.json");
    if (!p.isSet("output")) throw UsageError("--output (-o) is required: where to write the architecture file");
    intValue(p, "threads", 0, 1024); // checked as elsewhere
    preprocessingValues(p, "mean"); // a bad value is refused before the model is read
    preprocessingValues(p, "std");
    const QString model = QFileInfo(args[1]).absoluteFilePath();
    const QString output = QFileInfo(p.value("output")).absoluteFilePath();
    checkWritable(output);
    ImportReport report;
    TrainedWeights weights;
    // Throws before anything is written: a graph it cannot take, a weight it cannot read.
    ArchSpec arch = importOnnx(model.toStdString(), &report, &weights);
    if (p.isSet("mean") || p.isSet("std")) {
        arch.inputMean = preprocessingOf(p, "mean", arch.inChannels, 0.0f);
        arch.inputStd = preprocessingOf(p, "std", arch.inChannels, 1.0f);
    }
    writeFileAtomically(output.toStdString(), toArchitectureJson(arch));
    const Encoding full = uniformEncoding(arch, grid::kSize - 1);
    int stage = 0;
    for (const Gene& g : arch.genes)
        stage += g.kind == GeneKind::Stage;
    std::printf("Imported %s: %d ONNX nodes -> %zu ops, %zu genes (%d tied by residual adds or gates), input "
                "%dx%dx%d, %d classes\n",
                qPrintable(model), report.nodes, arch.ops.size(), arch.genes.size(), stage, arch.inChannels,
                arch.inHeight, arch.inWidth, arch.classes);
    std::printf("MACs at full width %s (%lld), smallest %s; params %lld\n", formatMacs(countMacs(arch, full)).c_str(),
                static_cast<long long>(countMacs(arch, full)), formatMacs(countMacs(arch, uniformEncoding(arch, 0))).c_str(),
                static_cast<long long>(countParams(arch, full)));
    std::printf("PruningNet: %s\n",
                describePruningNetSize(arch, pruningNetSize(arch, intValue(p, "batch-size", 1, 1 << 16))).c_str());
    int64_t tensors = 0, values = 0;
    for (const auto* list : {&weights.weight, &weights.bias, &weights.bnScale, &weights.bnShift, &weights.bnMean,
                             &weights.bnVar})
        for (const NetworkTensor& t : *list)
            if (!t.data.empty()) {
                ++tensors;
                values += int64_t(t.data.size());
            }
    std::printf("Trained weights: %lld tensors, %lld values (%d batch norms after convs, %d of their own), read from "
                "%s (SHA-256 %s)\n",
                static_cast<long long>(tensors), static_cast<long long>(values), report.convBatchNorms,
                report.standaloneBatchNorms, qPrintable(model), arch.weightsSha256.substr(0, 12).c_str());
    std::printf("Preprocessing: %s\n",
                arch.inputMean.empty()
                    ? "not given: training normalises with the training data's own mean and std; give --mean and "
                      "--std (pixels scaled to 0..1) as the model was trained"
                    : ("input " + std::to_string(arch.inHeight) + "x" + std::to_string(arch.inWidth) + ", mean " +
                       floatsText(arch.inputMean) + ", std " + floatsText(arch.inputStd))
                          .c_str());
    for (const std::string& note : report.notes)
        std::printf("Note: %s.\n", note.c_str());
    std::printf("Wrote %s; use it with `metaprune train --arch-file %s` or `metaprune arch --arch-file %s`.\n",
                qPrintable(output), qPrintable(p.value("output")), qPrintable(p.value("output")));
    return 0;
}

} // namespace mpcli
