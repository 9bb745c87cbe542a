// metaprune arch: an architecture's genes and layers, its MACs and params under any encoding,
// its PruningNet's size; --save writes it as an architecture file.
#include "cli.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace mpcli {

using namespace mp;

void declareArch(Parser& p) {
    addArchitectureOptions(p);
    p.addOption({"encoding", "Comma-separated scale indices (0..30), one per gene (default: full width).",
                 "genes"});
    p.addOption({"uniform", "Uniform network at scale index i (0..30; 30 = full width).", "i"});
    p.addOption({"format", "Output: table or json.", "name", "table"});
    p.addOption({"batch-size", "Training batch size, for the PruningNet's memory estimate.", "n", "128"});
    p.addOption({"save", "Write the description as an architecture file (.arch.json).", "file"});
}

int runArch(const Parser& p) {
    const QString format = p.value("format");
    if (format != "table" && format != "json") throw UsageError("--format must be table or json");
    const ArchSpec a = architectureFromOptions(p);
    if (p.isSet("encoding") && p.isSet("uniform"))
        throw UsageError("give at most one of --encoding and --uniform");
    const Encoding full = uniformEncoding(a, grid::kSize - 1), small = uniformEncoding(a, 0);
    const Encoding enc = p.isSet("encoding") ? parseEncoding(a, p.value("encoding").toStdString())
                         : p.isSet("uniform") ? uniformEncoding(a, intValue(p, "uniform", 0, grid::kSize - 1))
                                              : full;
    const PruningNetSize size = pruningNetSize(a, intValue(p, "batch-size", 1, 1 << 16));
    const int64_t available = availableMemoryBytes();
    if (p.isSet("save")) {
        const QString path = QFileInfo(p.value("save")).absoluteFilePath();
        checkWritable(path);
        writeFileAtomically(path.toStdString(), toArchitectureJson(a));
        std::fprintf(stderr, "Wrote %s\n", qPrintable(path));
    }
    const std::vector<int> channels = geneChannels(a, enc);
    const std::vector<LayerShape> layers = layerShapes(a, enc);
    if (format == "json") {
        QJsonObject o;
        o["name"] = QString::fromStdString(a.family);
        o["preset"] = QString::fromStdString(a.preset);
        o["input"] = QJsonObject{{"channels", a.inChannels}, {"height", a.inHeight}, {"width", a.inWidth}};
        o["classes"] = a.classes;
        o["macs"] = qint64(countMacs(a, enc));
        o["params"] = qint64(countParams(a, enc));
        o["macs_full"] = qint64(countMacs(a, full));
        o["macs_min"] = qint64(countMacs(a, small));
        o["params_full"] = qint64(countParams(a, full));
        QJsonArray e, genes, shapes;
        for (size_t g = 0; g < a.genes.size(); ++g) {
            e.append(enc[g]);
            genes.append(QJsonObject{{"name", QString::fromStdString(a.genes[g].name)},
                                     {"max", a.genes[g].maxChannels},
                                     {"channels", channels[g]},
                                     {"scale_index", enc[g]},
                                     {"quantum", a.genes[g].quantum}});
        }
        for (const LayerShape& s : layers)
            shapes.append(QJsonObject{{"name", QString::fromStdString(a.ops[size_t(s.op)].name)},
                                      {"kind", QString::fromStdString(opKindName(a.ops[size_t(s.op)].kind))},
                                      {"in", s.inChannels},
                                      {"out", s.outChannels},
                                      {"groups", s.groups},
                                      {"out_height", s.outHeight},
                                      {"out_width", s.outWidth},
                                      {"macs", qint64(s.macs)},
                                      {"params", qint64(s.params)}});
        o["encoding"] = e;
        o["genes"] = genes;
        o["layers"] = shapes;
        o["pruningnet"] = QJsonObject{{"parameters", qint64(size.parameters)},
                                      {"generator_parameters", qint64(size.generatorParameters)},
                                      {"training_bytes", qint64(size.trainingBytes())},
                                      {"batch", size.batch},
                                      {"available_bytes", qint64(available)}};
        std::printf("%s", QJsonDocument(o).toJson(QJsonDocument::Indented).constData());
        return 0;
    }
    std::printf("%s/%s for %dx%dx%d input, %d classes\n", a.family.c_str(), a.preset.c_str(),
                a.inChannels, a.inHeight, a.inWidth, a.classes);
    std::printf("MACs (conv + linear multiply-accumulates per image): full %s, smallest %s; params "
                "full %lld\n",
                formatMacs(countMacs(a, full)).c_str(), formatMacs(countMacs(a, small)).c_str(),
                static_cast<long long>(countParams(a, full)));
    if (enc != full)
        std::printf("This encoding: %s MACs (%lld), %lld params\n", formatMacs(countMacs(a, enc)).c_str(),
                    static_cast<long long>(countMacs(a, enc)), static_cast<long long>(countParams(a, enc)));
    std::printf("PruningNet: %s; this machine has %lld MiB available%s\n",
                describePruningNetSize(a, size).c_str(), static_cast<long long>(available >> 20),
                available > 0 && size.trainingBytes() > available ? ": it will NOT fit" : "");
    std::printf("Genes (encoding order; scale grid (10 + 3 i)/100, i = 0..30):\n");
    for (size_t g = 0; g < a.genes.size(); ++g)
        std::printf("  %3zu  %-28s %-5s max %5d channels, %5d at index %2d%s\n", g,
                    a.genes[g].name.c_str(), a.genes[g].kind == GeneKind::Stage ? "stage" : "mid",
                    a.genes[g].maxChannels, channels[g], enc[g],
                    a.genes[g].quantum > 1
                        ? (" (multiples of " + std::to_string(a.genes[g].quantum) + ")").c_str()
                        : "");
    std::printf("Layers:\n");
    for (const LayerShape& s : layers) {
        const Op& op = a.ops[size_t(s.op)];
        std::printf("  %-28s %5d -> %5d  k%dx%d s%d g%-5d %3dx%-3d  %12lld MACs\n", op.name.c_str(),
                    s.inChannels, s.outChannels, s.kernelH, s.kernelW, s.strideH, s.groups,
                    s.outHeight, s.outWidth, static_cast<long long>(s.macs));
    }
    return 0;
}

} // namespace mpcli
