// metaprune compare: searched structures against uniform baselines, retrained.
#include "cli.h"

#include "reportchart.h"

#include <QFileInfo>

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
    p.addOption({"seeds", "Retraining seeds (same for searched and uniform).", "list", "1,2"});
    addRetrainOptions(p, RetrainConfig{});
    addEvolutionOptions(p, SearchConfig{});
    addEvalOptions(p, EvalSettings{});
    p.addOption({"report", "Markdown report to write.", "file", "compare.md"});
    p.addOption({"chart", "PNG chart to write.", "file", "compare.png"});
}

int runCompare(const Parser& p) {
    configureRuntime(intValue(p, "threads", 0, 1024));
    std::vector<double> fractions;
    for (const QString& t : p.value("targets").split(',', Qt::SkipEmptyParts)) {
        QString v = t.trimmed();
        const bool pct = v.endsWith('%');
        if (pct) v.chop(1);
        bool ok = false;
        const double x = v.toDouble(&ok) / (pct ? 100.0 : 1.0);
        if (!ok || !(x > 0 && x <= 1))
            throw UsageError(
                "--targets must be fractions of the full MACs like 50%,25% or 0.5,0.25; got '" +
                t.toStdString() + "'");
        if (std::find(fractions.begin(), fractions.end(), x) != fractions.end())
            throw UsageError("--targets lists " + t.toStdString() + " twice");
        fractions.push_back(x);
    }
    if (fractions.empty())
        throw UsageError("--targets needs at least one MACs target, like 50%,25%,12.5%");
    const RetrainConfig recipe = retrainConfigOf(p);
    const std::vector<uint64_t> seeds = seedsOf(p, "seeds");
    const QString report = QFileInfo(p.value("report")).absoluteFilePath();
    const QString chart = QFileInfo(p.value("chart")).absoluteFilePath();
    checkWritable(report);
    checkWritable(chart);
    const TrainedRef ref = resolveCheckpoint(p);
    const CheckpointInfo info = readCheckpointInfo(ref.checkpoint);
    const DataBundle data = dataForCheckpoint(info, p);
    SearchConfig search;
    evolutionOf(p, search);
    const Evaluator ev(ref.checkpoint, data, search.eval);
    StageProgress bar;
    const CompareReport result =
        compareWithUniform(p.value("db").toStdString(), ev, data, ref.trainingId, fractions, search,
                           recipe, seeds, std::ref(bar), &gCancel);
    bar.done();
    const std::string md = result.markdown();
    std::printf("%s", md.c_str());
    writeFileAtomically(report.toStdString(), md);
    QString error;
    if (!saveCompareChart(result, chart, 900, 520, &error))
        throw std::runtime_error(error.toStdString());
    std::printf("\nWrote %s and %s\n", qPrintable(p.value("report")), qPrintable(p.value("chart")));
    return 0;
}

} // namespace mpcli
