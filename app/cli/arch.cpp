// metaprune arch: an architecture's genes and layers.
#include "cli.h"

#include <cstdio>

namespace mpcli {

using namespace mp;

void declareArch(Parser& p) {
    p.addOption({"family", "Architecture family (mobilenetv2, mobilenetv1, resnet).", "name",
                 "mobilenetv2"});
    p.addOption({"preset", "Preset: small or paper.", "name", "small"});
    p.addOption({"channels", "Input channels.", "n", "1"});
    p.addOption({"size", "Input height and width.", "n", "28"});
    p.addOption({"classes", "Classes.", "n", "10"});
}

int runArch(const Parser& p) {
    const ArchSpec a =
        makeArchitecture(p.value("family").toStdString(), p.value("preset").toStdString(),
                         intValue(p, "channels", 1, 1024), intValue(p, "size", 1, 4096),
                         intValue(p, "size", 1, 4096), intValue(p, "classes", 1, 1 << 20));
    const Encoding full = uniformEncoding(a, grid::kSize - 1), small = uniformEncoding(a, 0);
    std::printf("%s/%s for %dx%dx%d input, %d classes\n", a.family.c_str(), a.preset.c_str(),
                a.inChannels, a.inHeight, a.inWidth, a.classes);
    std::printf("MACs (conv + linear multiply-accumulates per image): full %s, smallest %s; params "
                "full %lld\n",
                formatMacs(countMacs(a, full)).c_str(), formatMacs(countMacs(a, small)).c_str(),
                static_cast<long long>(countParams(a, full)));
    std::printf("Genes (encoding order; scale grid (10 + 3 i)/100, i = 0..30):\n");
    for (size_t g = 0; g < a.genes.size(); ++g)
        std::printf("  %2zu  %-12s %-5s max %4d channels\n", g, a.genes[g].name.c_str(),
                    a.genes[g].kind == GeneKind::Stage ? "stage" : "mid", a.genes[g].maxChannels);
    std::printf("Layers at full width:\n");
    for (const LayerShape& s : layerShapes(a, full)) {
        const Op& op = a.ops[size_t(s.op)];
        std::printf("  %-18s %4d -> %4d  k%d s%d g%-4d %3dx%-3d  %10lld MACs\n", op.name.c_str(),
                    s.inChannels, s.outChannels, s.kernel, s.stride, s.groups, s.outHeight,
                    s.outWidth, static_cast<long long>(s.macs));
    }
    return 0;
}

} // namespace mpcli
