// metaprune compare: searched structures against uniform or L1 baselines, retrained.
#include "cli.h"

#include "reportchart.h"

#include <QFileInfo>
#include <QJsonDocument>

#include <algorithm>
#include <cstdio>
#include <functional>

namespace mpcli {

using namespace mp;

void declareCompare(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    addCheckpointOptions(p, "to search with");
    p.addOption(
        {"targets", "MACs targets as fractions of the full network.", "list", "50%,25%,12.5%"});
    p.addOption({"pairing",
                 "equal-cost (the uniform network nearest each target, and a search under its "
                 "MACs, as the paper compares) or at-least (a search under the target, against the "
                 "cheapest uniform network with at least the searched MACs).",
                 "name", "equal-cost"});
    p.addOption({"seeds", "Retraining seeds (same for searched and uniform).", "list", "1,2"});
    p.addOption({"search-seeds", "Search seeds, one search per target and PruningNet each.", "list",
                 "1"});
    p.addOption({"pruningnet-seeds",
                 "PruningNet training seeds: other seeds train more PruningNets with the given "
                 "one's settings (reused when finished). Default: the given PruningNet's own.",
                 "list"});
    p.addOption({"baseline",
                 "uniform (the paper's width-multiplier network) or l1 (uniform filter pruning by L1 norm, Li et al. "
                 "2017: the trained model's channels of largest norm, fine-tuned with the same recipe; needs a "
                 "PruningNet started from a trained model and --mode inherit).",
                 "name", "uniform"});
    p.addOption({"also-uniform", "With --baseline l1: also retrain the uniform width-multiplier network from scratch."});
    addRetrainOptions(p, RetrainConfig{});
    addEvolutionOptions(p, SearchConfig{}, false);
    addJobsOption(p);
    addEvalOptions(p, EvalSettings{});
    p.addOption({"report", "Markdown report to write.", "file", "compare.md"});
    p.addOption({"json", "JSON report to write.", "file", "compare.json"});
    p.addOption({"chart", "PNG chart to write.", "file", "compare.png"});
    p.addOption({"force", "Search even when a PruningNet has not learned (its full-width top-1 is not "
                          "clearly above chance): the comparison is then not meaningful."});
}

int runCompare(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    intValue(p, "jobs", 1, 256); // checked before any data is read
    std::vector<double> fractions;
    for (const QString& t : p.value("targets").split(',', Qt::SkipEmptyParts)) {
        QString v = t.trimmed();
        const bool pct = v.endsWith('%');
        if (pct) v.chop(1);
        bool ok = false;
        const double x = v.toDouble(&ok) / (pct ? 100.0 : 1.0);
        if (!ok)
            throw UsageError(
                "--targets must be fractions of the full MACs like 50%,25% or 0.5,0.25; got '" +
                t.toStdString() + "'");
        if (!(x > 0 && x <= 1))
            throw UsageError("--targets: " + t.trimmed().toStdString() +
                             " is outside the full network's MACs: a target is above 0% and at most "
                             "100% (0 to 1 as a fraction)");
        if (std::find(fractions.begin(), fractions.end(), x) != fractions.end())
            throw UsageError("--targets lists " + t.toStdString() + " twice: give each target once");
        fractions.push_back(x);
    }
    if (fractions.empty())
        throw UsageError("--targets needs at least one MACs target, like 50%,25%,12.5%");
    CompareConfig cfg;
    cfg.fractions = fractions;
    try {
        cfg.pairing = parseComparePairing(p.value("pairing").toStdString());
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--pairing: ") + e.what());
    }
    try {
        cfg.baseline = parseCompareBaseline(p.value("baseline").toStdString());
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--baseline: ") + e.what());
    }
    cfg.alsoUniform = p.isSet("also-uniform");
    cfg.recipe = retrainConfigOf(p);
    cfg.seeds = seedsOf(p, "seeds");
    cfg.searchSeeds = seedsOf(p, "search-seeds");
    if (p.isSet("pruningnet-seeds")) cfg.pruningnetSeeds = seedsOf(p, "pruningnet-seeds");
    cfg.allowUnlearned = p.isSet("force");
    const QString report = QFileInfo(p.value("report")).absoluteFilePath();
    const QString json = QFileInfo(p.value("json")).absoluteFilePath();
    const QString chart = QFileInfo(p.value("chart")).absoluteFilePath();
    for (const QString& f : {report, json, chart})
        checkWritable(f);
    const TrainedRef ref = resolveCheckpoint(p);
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    evolutionOf(p, cfg.search, false);
    const Evaluator ev(ref.checkpoint, data, cfg.search.eval);
    cfg.pool = studyPoolOf(p, ref.checkpoint);
    StageProgress bar;
    const CompareReport result = compareWithUniform(p.value("db").toStdString(), ev, data,
                                                    ref.trainingId, cfg, std::ref(bar), &gCancel);
    bar.done();
    const std::string md = result.markdown();
    std::printf("%s", md.c_str());
    writeFileAtomically(report.toStdString(), md);
    writeFileAtomically(json.toStdString(),
                        QJsonDocument::fromJson(QByteArray::fromStdString(result.toJson()))
                            .toJson(QJsonDocument::Indented)
                            .toStdString());
    QString error;
    if (!saveCompareChart(result, chart, 900, 520, &error))
        throw std::runtime_error(error.toStdString());
    std::printf("\nWrote %s, %s and %s\n", qPrintable(p.value("report")),
                qPrintable(p.value("json")), qPrintable(p.value("chart")));
    return 0;
}

} // namespace mpcli
