// Retraining jobs in a project: single candidates, searched-vs-uniform comparisons at MACs
// targets (the paper's tables) and the proxy-fidelity study.
#include "metaprune/compare.h"

#include "metaprune/errors.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace mp {

namespace {

QJsonArray curveJson(const std::vector<RetrainEpoch>& curve) {
    QJsonArray a;
    for (const RetrainEpoch& e : curve)
        a.append(QJsonObject{{"epoch", e.epoch},
                             {"loss", e.loss},
                             {"train_top1", e.trainTop1},
                             {"test_top1", e.testTop1},
                             {"seconds", e.seconds}});
    return a;
}

QJsonArray ints(const std::vector<int>& v) {
    QJsonArray a;
    for (int x : v)
        a.append(x);
    return a;
}

std::vector<int> intsOf(const QJsonValue& v) {
    std::vector<int> out;
    for (const QJsonValue& x : v.toArray())
        out.push_back(x.toInt());
    return out;
}

QJsonObject candidateJson(const CandidateRecord& c) {
    return QJsonObject{{"id", qint64(c.id)},       {"run", qint64(c.runId)},   {"macs", qint64(c.macs)},
                       {"params", qint64(c.params)}, {"top1", c.top1},        {"origin", QString::fromStdString(c.origin)},
                       {"genes", ints(c.genes)},   {"channels", ints(c.channels)}};
}

CandidateRecord candidateOf(const QJsonObject& o) {
    CandidateRecord c;
    c.id = o["id"].toInteger();
    c.runId = o["run"].toInteger();
    c.macs = o["macs"].toInteger();
    c.params = o["params"].toInteger();
    c.top1 = o["top1"].toDouble();
    c.origin = o["origin"].toString().toStdString();
    c.genes = intsOf(o["genes"]);
    c.channels = intsOf(o["channels"]);
    return c;
}

QJsonArray doubles(const std::vector<double>& v) {
    QJsonArray a;
    for (double x : v)
        a.append(x);
    return a;
}

std::vector<double> doublesOf(const QJsonValue& v) {
    std::vector<double> out;
    for (const QJsonValue& x : v.toArray())
        out.push_back(x.toDouble());
    return out;
}

std::string recipeText(const RetrainConfig& r) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s, %d epoch%s, batch %d, lr %g (warm-up %d steps, linear decay), momentum %g, "
                                   "weight decay %g, label smoothing %g%s",
                  r.mode == RetrainMode::FineTune ? "fine-tuned from the PruningNet's weights" : "from scratch",
                  r.epochs, r.epochs == 1 ? "" : "s", r.batchSize, r.lr, r.warmupSteps, r.momentum, r.weightDecay, r.labelSmoothing,
                  r.augment ? ", shifts and flips" : "");
    return buf;
}

/// A correlation coefficient, or "undefined" (a constant sample has no ranking).
std::string coefficient(double c) {
    if (std::isnan(c))
        return "undefined";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", c);
    return buf;
}

} // namespace

std::pair<double, double> meanAndSpread(const std::vector<double>& v) {
    if (v.empty())
        return {0, 0};
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    double ss = 0;
    for (double x : v)
        ss += (x - mean) * (x - mean);
    return {mean, v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0.0};
}

RetrainRecord retrainCandidate(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                               int64_t candidateId, const RetrainConfig& cfg, const std::string& purpose,
                               const JobProgressFn& progress, const std::atomic<bool>* cancel, bool* reused,
                               const std::string& exportPath, ExportFormat format,
                               const std::string& exportJsonPath) {
    Store store(dbPath);
    const std::optional<CandidateRecord> c = store.candidate(candidateId);
    if (!c)
        throw std::invalid_argument(dbPath + ": has no candidate " + std::to_string(candidateId));
    const std::string recipe = toJson(cfg);
    if (reused)
        *reused = false;
    const std::optional<RetrainRecord> stored = store.findRetrain(candidateId, recipe, cfg.seed);
    if (stored && exportPath.empty()) {
        if (reused)
            *reused = true;
        return *stored;
    }
    PrunedNetwork generated;
    const bool fineTune = cfg.mode == RetrainMode::FineTune;
    if (fineTune)
        generated = evaluator.prunedNetwork(c->genes);
    else
        generated.metadataJson = describeExport(evaluator.arch(), evaluator.checkpoint(), c->genes).json;
    generated.encoding = c->genes;
    const std::string stage = "retrain candidate " + std::to_string(candidateId) + " (seed " + std::to_string(cfg.seed) + ")";
    RetrainCallbacks cb;
    cb.progress = [&](int64_t step, int64_t total, double loss) {
        if (progress)
            progress({stage, step, total, loss});
    };
    const RetrainResult r =
        retrainNetwork(evaluator.arch(), c->genes, data, evaluator.checkpoint(), cfg, &generated, cb, cancel);
    if (!r.finished)
        throw Cancelled();
    // Stored before the export is written: a file that cannot be written loses no training.
    RetrainRecord out;
    if (stored) {
        if (reused)
            *reused = true;
        out = *stored;
    } else {
        RetrainRecord rec;
        rec.candidateId = candidateId;
        rec.purpose = purpose;
        rec.config = recipe;
        rec.seed = cfg.seed;
        rec.testTop1 = r.testTop1;
        rec.testLoss = r.testLoss;
        rec.testImages = r.testImages;
        rec.curve = QJsonDocument(curveJson(r.curve)).toJson(QJsonDocument::Compact).toStdString();
        rec.seconds = r.seconds;
        out = store.addRetrain(rec);
    }
    if (!exportPath.empty()) {
        PrunedNetwork net = r.network;
        QJsonObject meta = QJsonDocument::fromJson(QByteArray::fromStdString(net.metadataJson)).object();
        meta["weights"] = QString::fromStdString("retrained: " + recipeText(cfg) + ", seed " + std::to_string(cfg.seed));
        meta["test_top1"] = r.testTop1;
        net.metadataJson = QJsonDocument(meta).toJson(QJsonDocument::Compact).toStdString();
        writeNetwork(net, format, exportPath);
        if (!exportJsonPath.empty())
            writeFileAtomically(exportJsonPath, net.metadataJson);
    }
    return out;
}

std::string CompareReport::markdown() const {
    std::string md = "# Searched structures against uniform baselines (" + arch + ")\n\n";
    md += "Retraining recipe: " + recipeText(recipe) + "; seeds";
    for (uint64_t s : seeds)
        md += " " + std::to_string(s);
    md += ". Test top-1 is the mean ± sample standard deviation over the seeds (official test set). "
          "Uniform baselines have equal or higher MACs than the searched structure.\n\n";
    md += "| target | searched MACs | searched params | searched top-1 | uniform MACs | uniform params | uniform top-1 "
          "| difference |\n|---|---|---|---|---|---|---|---|\n";
    char line[512];
    for (const CompareRow& r : rows) {
        const auto [sm, ss] = meanAndSpread(r.searchedTop1);
        const auto [um, us] = meanAndSpread(r.uniformTop1);
        std::snprintf(line, sizeof line, "| %.1f%% (%s) | %s | %lld | %.2f ± %.2f%% | %s | %lld | %.2f ± %.2f%% | %+.2f |\n",
                      100 * r.fraction, formatMacs(r.targetMacs).c_str(), formatMacs(r.searched.macs).c_str(),
                      static_cast<long long>(r.searched.params), sm, ss, formatMacs(r.uniform.macs).c_str(),
                      static_cast<long long>(r.uniform.params), um, us, sm - um);
        md += line;
    }
    md += "\nSearched encodings (scale index per gene):\n\n";
    for (const CompareRow& r : rows) {
        std::snprintf(line, sizeof line, "- %.1f%%: candidate %lld, PruningNet top-1 %.2f%% (search split), genes %s\n",
                      100 * r.fraction, static_cast<long long>(r.searched.id), r.searched.top1,
                      encodingToString(r.searched.genes).c_str());
        md += line;
    }
    return md;
}

std::string CompareReport::toJson() const {
    QJsonObject o;
    o["arch"] = QString::fromStdString(arch);
    o["full_macs"] = qint64(fullMacs);
    o["recipe"] = QJsonDocument::fromJson(QByteArray::fromStdString(mp::toJson(recipe))).object();
    QJsonArray s;
    for (uint64_t x : seeds)
        s.append(QString::number(x));
    o["seeds"] = s;
    QJsonArray rs;
    for (const CompareRow& r : rows)
        rs.append(QJsonObject{{"fraction", r.fraction},
                              {"target_macs", qint64(r.targetMacs)},
                              {"run", qint64(r.runId)},
                              {"searched", candidateJson(r.searched)},
                              {"uniform", candidateJson(r.uniform)},
                              {"searched_top1", doubles(r.searchedTop1)},
                              {"uniform_top1", doubles(r.uniformTop1)}});
    o["rows"] = rs;
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

CompareReport compareWithUniform(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                                 int64_t trainingId, const std::vector<double>& fractions,
                                 const SearchConfig& search, const RetrainConfig& recipe,
                                 const std::vector<uint64_t>& seeds, const JobProgressFn& progress,
                                 const std::atomic<bool>* cancel) {
    if (fractions.empty() || seeds.empty())
        throw ConfigError("a comparison needs at least one MACs target and one seed");
    const ArchSpec& arch = evaluator.arch();
    CompareReport report;
    report.arch = arch.family + "/" + arch.preset;
    report.fullMacs = countMacs(arch, uniformEncoding(arch, grid::kSize - 1));
    report.recipe = recipe;
    report.seeds = seeds;
    const int64_t smallest = countMacs(arch, uniformEncoding(arch, 0));
    for (double f : fractions) {
        if (!(f > 0 && f <= 1))
            throw ConfigError("MACs targets are fractions of the full network in (0, 1], got " + std::to_string(f));
        const int64_t target = int64_t(std::llround(f * double(report.fullMacs)));
        if (target < smallest)
            throw ConfigError("MACs target " + formatMacs(target) + " (" + QString::number(100 * f).toStdString() +
                              "%) is below the smallest network of the grid, " + formatMacs(smallest));
    }
    for (double f : fractions) {
        CompareRow row;
        row.fraction = f;
        row.targetMacs = int64_t(std::llround(f * double(report.fullMacs)));
        SearchConfig cfg = search;
        cfg.maxMacs = row.targetMacs;
        cfg.minMacs = 0;
        cfg.uniformBaselines = true;
        char stage[64];
        std::snprintf(stage, sizeof stage, "search %.1f%%", 100 * f);
        SearchCallbacks cb;
        cb.progress = [&](int64_t done, int64_t total) {
            if (progress)
                progress({stage, done, total, 0});
        };
        const SearchJob job = searchInProject(dbPath, evaluator, cfg, trainingId, cb, cancel);
        if (!job.outcome.finished)
            throw Cancelled();
        if (!job.outcome.best)
            throw ConfigError("the search at " + formatMacs(row.targetMacs) + " found no structure within the target");
        row.runId = job.outcome.runId;
        row.searched = *job.outcome.best;
        const std::vector<CandidateRecord> all = Store(dbPath).candidates(job.outcome.runId);
        const std::optional<CandidateRecord> u = uniformBaselineAtLeast(all, row.searched.macs);
        if (!u)
            throw ConfigError("no uniform baseline has at least the searched structure's " +
                              formatMacs(row.searched.macs) + " MACs");
        row.uniform = *u;
        for (uint64_t seed : seeds) {
            RetrainConfig r = recipe;
            r.seed = seed;
            row.searchedTop1.push_back(
                retrainCandidate(dbPath, evaluator, data, row.searched.id, r, "compare", progress, cancel).testTop1);
            row.uniformTop1.push_back(
                retrainCandidate(dbPath, evaluator, data, row.uniform.id, r, "compare", progress, cancel).testTop1);
        }
        report.rows.push_back(row);
    }
    Store(dbPath).setSetting("compare.report", report.toJson());
    return report;
}

std::string FidelityReport::markdown() const {
    char line[2048];
    std::snprintf(line, sizeof line,
                  "# How far the PruningNet's ranking can be trusted\n\n"
                  "%d structures spread over the MACs range. Predicted: PruningNet weights after BN recalibration, "
                  "search split. Retrained: %s, official test set.\n\n"
                  "Kendall's tau = %s, Spearman's rho = %s (n = %d).\n\n"
                  "Baseline, MACs alone against retrained top-1: Kendall's tau = %s, Spearman's rho = %s. "
                  "Over a wide MACs range size alone ranks accuracy well; the PruningNet adds information "
                  "where its correlation is higher than this.\n\n"
                  "| candidate | MACs | predicted top-1 | retrained top-1 |\n|---|---|---|---|\n",
                  correlation.n, recipeText(recipe).c_str(), coefficient(correlation.kendallTau).c_str(),
                  coefficient(correlation.spearmanRho).c_str(), correlation.n,
                  coefficient(macsBaseline.kendallTau).c_str(), coefficient(macsBaseline.spearmanRho).c_str());
    std::string md = line;
    if (std::isnan(correlation.kendallTau) || std::isnan(macsBaseline.kendallTau))
        md += "Undefined: a sample is constant (e.g. every retrained top-1 is equal), so it has no ranking; "
              "retrain longer.\n\n";
    for (const FidelityPoint& p : points) {
        std::snprintf(line, sizeof line, "| %lld | %s | %.2f%% | %.2f%% |\n", static_cast<long long>(p.candidate.id),
                      formatMacs(p.candidate.macs).c_str(), p.candidate.top1, p.retrainedTop1);
        md += line;
    }
    return md;
}

std::string FidelityReport::toJson() const {
    QJsonObject o;
    // JSON has no NaN: an undefined coefficient is null.
    auto number = [](double v) { return std::isnan(v) ? QJsonValue() : QJsonValue(v); };
    o["kendall_tau"] = number(correlation.kendallTau);
    o["spearman_rho"] = number(correlation.spearmanRho);
    o["n"] = correlation.n;
    o["macs_kendall_tau"] = number(macsBaseline.kendallTau);
    o["macs_spearman_rho"] = number(macsBaseline.spearmanRho);
    o["recipe"] = QJsonDocument::fromJson(QByteArray::fromStdString(mp::toJson(recipe))).object();
    QJsonArray pts;
    for (const FidelityPoint& p : points) {
        QJsonObject c = candidateJson(p.candidate);
        c["retrained_top1"] = p.retrainedTop1;
        pts.append(c);
    }
    o["points"] = pts;
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

FidelityReport measureFidelity(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                               int64_t trainingId, int samples, uint64_t seed, const RetrainConfig& recipe,
                               const JobProgressFn& progress, const std::atomic<bool>* cancel) {
    if (samples < 3)
        throw std::invalid_argument("a rank correlation needs at least 3 structures, got " + std::to_string(samples));
    const ArchSpec& arch = evaluator.arch();
    // Sample i perturbs the uniform level i/(samples-1) of the grid by up to 8 steps per gene:
    // plain random encodings concentrate around the middle of the MACs range.
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> offset(-8, 8);
    std::vector<Encoding> chosen;
    for (int i = 0; i < samples; ++i) {
        const int level = int(std::lround(double(i) * (grid::kSize - 1) / double(samples - 1)));
        Encoding e(arch.genes.size());
        for (int& g : e)
            g = std::clamp(level + offset(rng), 0, grid::kSize - 1);
        e = canonicalEncoding(arch, e);
        if (std::find(chosen.begin(), chosen.end(), e) == chosen.end())
            chosen.push_back(e);
    }
    std::sort(chosen.begin(), chosen.end(),
              [&](const Encoding& a, const Encoding& b) { return countMacs(arch, a) < countMacs(arch, b); });

    Store store(dbPath);
    SearchConfig marker; // a probe run of its own: the sampling seed, no generations
    marker.eval = evaluator.settings();
    marker.seed = seed;
    marker.generations = 0;
    marker.population = samples;
    marker.uniformBaselines = false;
    RunRecord run = searchRunRecord(evaluator, marker, trainingId);
    run.kind = "probe";
    const int64_t runId = store.findOrCreateRun(run);

    FidelityReport report;
    report.recipe = recipe;
    std::vector<double> predicted, retrained, macs;
    const int64_t total = int64_t(chosen.size());
    for (size_t i = 0; i < chosen.size(); ++i) {
        if (progress)
            progress({"PruningNet prediction", int64_t(i), total, 0});
        CandidateRecord c;
        if (const auto found = store.findCandidate(runId, chosen[i])) {
            c = *found;
        } else {
            const EvalResult r = evaluator.evaluate(chosen[i], EvalSplit::Search, cancel);
            c.runId = runId;
            c.genes = chosen[i];
            c.channels = geneChannels(arch, chosen[i]);
            c.macs = countMacs(arch, chosen[i]);
            c.params = countParams(arch, chosen[i]);
            c.top1 = r.top1;
            c.loss = r.loss;
            c.origin = "random";
            c.generation = 0;
            c.evalMs = r.milliseconds;
            c = store.addCandidate(c);
        }
        const RetrainRecord rr = retrainCandidate(dbPath, evaluator, data, c.id, recipe, "fidelity", progress, cancel);
        report.points.push_back({c, rr.testTop1});
        predicted.push_back(c.top1);
        retrained.push_back(rr.testTop1);
        macs.push_back(double(c.macs));
    }
    store.setRunStatus(runId, "finished");
    report.correlation = rankCorrelation(predicted, retrained);
    report.macsBaseline = rankCorrelation(macs, retrained);
    store.setSetting("fidelity.report", report.toJson());
    return report;
}

std::optional<CompareReport> storedCompareReport(const Store& store) {
    const std::optional<std::string> s = store.setting("compare.report");
    if (!s)
        return std::nullopt;
    const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(*s)).object();
    CompareReport r;
    r.arch = o["arch"].toString().toStdString();
    r.fullMacs = o["full_macs"].toInteger();
    r.recipe = retrainConfigFromJson(QJsonDocument(o["recipe"].toObject()).toJson(QJsonDocument::Compact).toStdString(), 0);
    for (const QJsonValue& v : o["seeds"].toArray())
        r.seeds.push_back(v.toString().toULongLong());
    for (const QJsonValue& v : o["rows"].toArray()) {
        const QJsonObject x = v.toObject();
        CompareRow row;
        row.fraction = x["fraction"].toDouble();
        row.targetMacs = x["target_macs"].toInteger();
        row.runId = x["run"].toInteger();
        row.searched = candidateOf(x["searched"].toObject());
        row.uniform = candidateOf(x["uniform"].toObject());
        row.searchedTop1 = doublesOf(x["searched_top1"]);
        row.uniformTop1 = doublesOf(x["uniform_top1"]);
        r.rows.push_back(row);
    }
    return r;
}

std::optional<FidelityReport> storedFidelityReport(const Store& store) {
    const std::optional<std::string> s = store.setting("fidelity.report");
    if (!s)
        return std::nullopt;
    const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(*s)).object();
    FidelityReport r;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    r.correlation.kendallTau = o["kendall_tau"].toDouble(nan);
    r.correlation.spearmanRho = o["spearman_rho"].toDouble(nan);
    r.correlation.n = o["n"].toInt();
    r.macsBaseline = {o["macs_kendall_tau"].toDouble(nan), o["macs_spearman_rho"].toDouble(nan), r.correlation.n};
    r.recipe = retrainConfigFromJson(QJsonDocument(o["recipe"].toObject()).toJson(QJsonDocument::Compact).toStdString(), 0);
    for (const QJsonValue& v : o["points"].toArray()) {
        const QJsonObject x = v.toObject();
        r.points.push_back({candidateOf(x), x["retrained_top1"].toDouble()});
    }
    return r;
}

} // namespace mp
