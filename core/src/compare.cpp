// Retraining jobs in a project: single candidates, searched-vs-uniform comparisons at MACs
// targets (the paper's tables) and the proxy-fidelity study.
#include "metaprune/compare.h"
#include "metaprune/trained.h"

#include "metaprune/errors.h"
#include "metaprune/latency.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <map>
#include <numeric>
#include <random>
#include <set>

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
    const char* start = r.mode == RetrainMode::FineTune ? "fine-tuned from the PruningNet's weights"
                        : r.mode == RetrainMode::Inherit ? "fine-tuned from the trained model's most important channels"
                                                         : "from scratch";
    const std::string distill =
        r.distill ? QString::asprintf(", distilled from the trained model (T %g, alpha %g)", r.distillTemperature,
                                      r.distillAlpha)
                        .toStdString()
                  : "";
    return QString::asprintf("%s, %d epoch%s, batch %d, lr %g (warm-up %d steps, linear decay), momentum %g, "
                             "weight decay %g, label smoothing %g%s%s",
                             start, r.epochs, r.epochs == 1 ? "" : "s", r.batchSize, r.lr, r.warmupSteps, r.momentum,
                             r.weightDecay, r.labelSmoothing, r.augment ? ", shifts and flips" : "", distill.c_str())
        .toStdString();
}

/// What a retraining from scratch depends on besides the structure, recipe and seed: the
/// architecture, the data, its caps, the search split (held out of training) and the input
/// size. Two PruningNets trained with other settings (rate, epochs, sampling, ranks) on the same
/// split give the same scratch retraining. Listed rather than the others reset, so that a
/// setting added to TrainConfig later cannot split what is shared.
std::string scratchDataKey(const TrainConfig& c) {
    TrainConfig k;
    k.family = c.family;
    k.preset = c.preset;
    k.architecture = c.architecture;
    k.dataPath = c.dataPath;
    k.dataFormat = c.dataFormat;
    k.trainPerClass = c.trainPerClass;
    k.testPerClass = c.testPerClass;
    k.searchPerClass = c.searchPerClass;
    k.seed = c.seed;
    k.inputHeight = c.inputHeight;
    k.inputWidth = c.inputWidth;
    k.maxBad = c.maxBad;
    return toJson(k);
}

/// A stored retraining from scratch of the same structure, recipe and seed under another
/// PruningNet of the project with the same data split (scratchDataKey), if any.
std::optional<RetrainRecord> sameScratchRetraining(const Store& store, const CandidateRecord& c,
                                                   const std::string& recipe, const RetrainConfig& cfg,
                                                   const TrainConfig& training) {
    if (cfg.mode != RetrainMode::Scratch || cfg.distill)
        return std::nullopt;
    const std::string key = scratchDataKey(training);
    std::map<int64_t, bool> sameSplit; // by training id
    for (const RetrainRecord& r : store.retrains()) {
        if (r.seed != cfg.seed || r.config != recipe || r.candidateId == c.id)
            continue;
        const std::optional<CandidateRecord> other = store.candidate(r.candidateId);
        if (!other || other->genes != c.genes || !other->damage.empty())
            continue;
        const std::optional<RunRecord> run = store.run(other->runId);
        if (!run || run->trainingId == 0)
            continue;
        auto it = sameSplit.find(run->trainingId);
        if (it == sameSplit.end()) {
            const std::optional<TrainingRecord> t = store.training(run->trainingId);
            it = sameSplit.emplace(run->trainingId, t && scratchDataKey(trainConfigFromJson(t->config)) == key).first;
        }
        if (it->second)
            return r;
    }
    return std::nullopt;
}

} // namespace

RetrainRecord retrainCandidate(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                               int64_t candidateId, const RetrainConfig& cfg, const std::string& purpose,
                               const JobProgressFn& progress, const std::atomic<bool>* cancel, bool* reused,
                               const std::string& exportPath, ExportFormat format,
                               const std::string& exportJsonPath) {
    Store store(dbPath);
    const std::optional<CandidateRecord> c = store.candidate(candidateId);
    if (!c)
        throw std::invalid_argument(dbPath + ": has no candidate " + std::to_string(candidateId));
    if (const std::string damage = candidateDamage(evaluator.arch(), *c); !damage.empty())
        throw std::invalid_argument(dbPath + ": candidate " + std::to_string(candidateId) + " is damaged (" + damage +
                                    "); it cannot be retrained");
    const std::string recipe = toJson(cfg);
    if (reused)
        *reused = false;
    const std::optional<RetrainRecord> stored = store.findRetrain(candidateId, recipe, cfg.seed);
    if (stored && exportPath.empty()) {
        if (reused)
            *reused = true;
        return *stored;
    }
    if (exportPath.empty())
        if (const auto same = sameScratchRetraining(store, *c, recipe, cfg, evaluator.checkpoint().config)) {
            // The same training from scratch: recorded for this candidate too, not run again.
            RetrainRecord rec = *same;
            rec.id = 0;
            rec.candidateId = candidateId;
            rec.purpose = purpose;
            if (reused)
                *reused = true;
            return store.addRetrain(rec);
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
    TrainedWeights trained;
    if (cfg.mode == RetrainMode::Inherit || cfg.distill)
        trained = checkpointTrainedModel(evaluator.checkpoint().path);
    const RetrainResult r = retrainNetwork(evaluator.arch(), c->genes, data, evaluator.checkpoint(), cfg, &generated,
                                           cb, cancel, &trained);
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

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// JSON has no NaN: an undefined number is null.
QJsonValue number(double v) {
    return std::isnan(v) ? QJsonValue() : QJsonValue(v);
}

double numberOf(const QJsonValue& v) {
    return v.isDouble() ? v.toDouble() : kNaN;
}

QJsonArray intervalJson(const Interval& i) {
    return QJsonArray{number(i.lo), number(i.hi)};
}

Interval intervalOf(const QJsonValue& v) {
    const QJsonArray a = v.toArray();
    return a.size() == 2 ? Interval{numberOf(a[0]), numberOf(a[1])} : Interval{};
}

// Seeds are 64-bit: JSON numbers (doubles) would round the large ones.
QJsonArray seedsJson(const std::vector<uint64_t>& seeds) {
    QJsonArray a;
    for (uint64_t x : seeds)
        a.append(QString::number(x));
    return a;
}

std::vector<uint64_t> seedsOf(const QJsonValue& v) {
    std::vector<uint64_t> out;
    for (const QJsonValue& x : v.toArray())
        out.push_back(x.toString().toULongLong());
    return out;
}

std::string seedList(const std::vector<uint64_t>& seeds) {
    std::string s;
    for (uint64_t x : seeds)
        s += (s.empty() ? "" : ", ") + std::to_string(x);
    return s;
}

std::string fixed(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

/// "0.31x, 609.0k": a uniform network by its width multiplier and MACs.
std::string uniformText(const CandidateRecord& u) {
    // Stored genes are canonical; the widest gene keeps the uniform network's own index.
    const int index = u.genes.empty() ? 0 : *std::max_element(u.genes.begin(), u.genes.end());
    return fixed("%.2fx, ", grid::scale(index)) + formatMacs(u.macs);
}

/// One value when every arm has it, else each arm's value in the arms' order ("a / b / c"),
/// so that the n-th value belongs to the n-th structure listed under the table.
std::string armsText(const std::vector<std::string>& values) {
    if (std::all_of(values.begin(), values.end(), [&](const std::string& v) { return v == values.front(); }))
        return values.empty() ? std::string() : values.front();
    std::string s;
    for (const std::string& v : values)
        s += (s.empty() ? "" : " / ") + v;
    return s;
}

std::string verdictCell(const Difference& d) {
    switch (d.verdict()) {
    case Verdict::Distinguishable:
        return "distinguishable (" + d.test + " " + formatPValue(d.pValue) + ")";
    case Verdict::NotDistinguishable:
        return "not distinguishable (" + d.test + " " + formatPValue(d.pValue) + ")";
    case Verdict::Borderline:
        return "borderline (" + d.test + " " + formatPValue(d.pValue) + ")";
    case Verdict::NoInterval:
        break;
    }
    return "no interval (n=1)";
}

std::string differenceCell(const Difference& d) {
    if (!d.interval.defined())
        return fixed("%+.2f", d.estimate);
    return fixed("%+.2f", d.estimate) + " [" + fixed("%+.2f", d.interval.lo) + ", " + fixed("%+.2f", d.interval.hi) +
           "]";
}

QJsonObject differenceJson(const Difference& d) {
    return QJsonObject{{"estimate", number(d.estimate)},
                       {"interval", intervalJson(d.interval)},
                       {"confidence", d.confidence},
                       {"p", number(d.pValue)},
                       {"test", QString::fromStdString(d.test)},
                       {"sample", QString::fromStdString(d.sample)}};
}

/// The pairs of compareDifference(): per (PruningNet seed, retraining seed) the searched and
/// uniform top-1 averaged over the search seeds, in first-seen order.
void seedPairs(const CompareRow& row, std::vector<double>& searched, std::vector<double>& uniform, int* pruningnets) {
    std::vector<std::pair<uint64_t, size_t>> keys;
    std::vector<double> count;
    std::vector<uint64_t> nets;
    for (const CompareArm& a : row.arms) {
        if (std::find(nets.begin(), nets.end(), a.pruningnetSeed) == nets.end())
            nets.push_back(a.pruningnetSeed);
        for (size_t r = 0; r < std::min(a.searchedTop1.size(), a.uniformTop1.size()); ++r) {
            const auto key = std::make_pair(a.pruningnetSeed, r);
            size_t at = size_t(std::find(keys.begin(), keys.end(), key) - keys.begin());
            if (at == keys.size()) {
                keys.push_back(key);
                searched.push_back(0);
                uniform.push_back(0);
                count.push_back(0);
            }
            searched[at] += a.searchedTop1[r];
            uniform[at] += a.uniformTop1[r];
            count[at] += 1;
        }
    }
    for (size_t i = 0; i < keys.size(); ++i) {
        searched[i] /= count[i];
        uniform[i] /= count[i];
    }
    *pruningnets = int(nets.size());
}

/// "+0.42", or "undefined" (a constant sample has no ranking).
std::string coefficient(double c) { return std::isnan(c) ? "undefined" : fixed("%+.2f", c); }

std::string coefficientWithInterval(double c, const Interval& i) {
    if (std::isnan(c))
        return "undefined";
    return fixed("%.3f", c) + (i.defined() ? " [" + fixed("%.3f", i.lo) + ", " + fixed("%.3f", i.hi) + "]"
                                           : std::string(" [no interval]"));
}

} // namespace

std::string comparePairingName(ComparePairing pairing) {
    return pairing == ComparePairing::EqualCost ? "equal-cost" : "at-least";
}

ComparePairing parseComparePairing(const std::string& name) {
    if (name == "equal-cost")
        return ComparePairing::EqualCost;
    if (name == "at-least")
        return ComparePairing::AtLeast;
    throw std::invalid_argument("unknown pairing '" + name + "' (equal-cost or at-least)");
}

std::string compareBaselineName(CompareBaseline baseline) {
    return baseline == CompareBaseline::L1 ? "l1" : "uniform";
}

CompareBaseline parseCompareBaseline(const std::string& name) {
    if (name == "uniform")
        return CompareBaseline::Uniform;
    if (name == "l1")
        return CompareBaseline::L1;
    throw std::invalid_argument("unknown baseline '" + name + "' (uniform or l1)");
}

namespace {
/// The searched side (or the baseline's, `baselineSide`) minus the original model, one value
/// per pair of compareDifference().
Difference differenceToOriginal(const CompareRow& row, double original, bool baselineSide = false) {
    std::vector<double> searched, uniform;
    int pruningnets = 0;
    seedPairs(row, searched, uniform, &pruningnets);
    if (baselineSide)
        searched = uniform;
    const std::vector<double> reference(searched.size(), original);
    if (searched.size() < 2) {
        Difference d;
        d.estimate = searched.empty() ? kNaN : searched[0] - original;
        d.sample = "n=" + std::to_string(searched.size());
        return d;
    }
    return differenceOf(pairedDifference(searched, reference), "one-sample t",
                        "n = " + std::to_string(searched.size()) + " retrainings");
}
} // namespace

int nearestUniformIndex(const ArchSpec& arch, int64_t macs) {
    int best = 0;
    int64_t bestGap = std::numeric_limits<int64_t>::max();
    for (int i = 0; i < grid::kSize; ++i) {
        const int64_t gap = std::llabs(countMacs(arch, uniformEncoding(arch, i)) - macs);
        if (gap < bestGap) { // strictly nearer: a tie keeps the cheaper network
            best = i;
            bestGap = gap;
        }
    }
    return best;
}

std::vector<double> CompareRow::searchedTop1() const {
    std::vector<double> out;
    for (const CompareArm& a : arms)
        out.insert(out.end(), a.searchedTop1.begin(), a.searchedTop1.end());
    return out;
}

std::vector<double> CompareRow::uniformTop1() const {
    std::vector<double> out;
    std::vector<std::pair<uint64_t, int64_t>> seen;
    for (const CompareArm& a : arms) {
        const auto key = std::make_pair(a.pruningnetSeed, a.uniform.id);
        if (std::find(seen.begin(), seen.end(), key) != seen.end())
            continue;
        seen.push_back(key);
        out.insert(out.end(), a.uniformTop1.begin(), a.uniformTop1.end());
    }
    return out;
}

Difference compareDifference(const CompareRow& row) {
    std::vector<double> searched, uniform;
    int pruningnets = 0;
    seedPairs(row, searched, uniform, &pruningnets);
    if (searched.size() < 2) {
        Difference d;
        d.estimate = searched.empty() ? kNaN : searched[0] - uniform[0];
        d.sample = "n=" + std::to_string(searched.size());
        return d;
    }
    const std::string sample = pruningnets == 1
                                   ? "n = " + std::to_string(searched.size()) + " seeds"
                                   : "n = " + std::to_string(searched.size()) + " PruningNet x retraining seed pairs";
    return differenceOf(pairedDifference(searched, uniform), "paired t", sample);
}

std::string CompareReport::markdown(bool narrow) const {
    const bool l1 = baseline == CompareBaseline::L1;
    const std::string side = l1 ? "L1" : "uniform";
    std::string md = "# Searched structures against " +
                     std::string(l1 ? "L1 filter pruning" : "uniform baselines") + " (" + arch + ")\n\n";
    if (l1)
        md += "Baseline: uniform filter pruning by L1 norm (Li et al., ICLR 2017): the same fraction of every layer, "
              "keeping the channels of largest L1 norm of the trained model, summed over each group of tied layers; "
              "it is fine-tuned from the kept channels with the same recipe and seeds as the searched structure.\n\n";
    if (originalTop1)
        md += "Original model (the trained model the PruningNet started from, evaluated as itself): top-1 " +
              fixed("%.2f%%", *originalTop1) + " at " + formatMacs(fullMacs) + " MACs.\n\n";
    std::string about = pairing == ComparePairing::EqualCost
              ? "Pairing: equal cost, as in the paper. For each target, the uniform width-multiplier network nearest "
                "to it, and a search under that network's MACs: the searched structure never costs more.\n\n"
              : "Pairing: at least. A search under the target, against the cheapest uniform width-multiplier network "
                "with at least the searched structure's MACs.\n\n";
    about += "Retraining recipe: " + recipeText(recipe) + "; retraining seeds " + seedList(seeds) + "; search seeds " +
          seedList(searchSeeds) + "; PruningNet seeds " + seedList(pruningnetSeeds) +
          ". Top-1 is on the official test set: mean ± sample standard deviation over every result, or the one "
          "value with n=1. The difference is searched minus uniform in points with its 95% interval: a paired t "
          "interval over (PruningNet seed, retraining seed) pairs, the searched side averaged over the search seeds. "
          "It holds the searched structures fixed (retraining noise), so it does not say how a new search would "
          "fare. Each PruningNet seed draws its own search split, and every network, the uniform one too, is "
          "retrained on the training images outside it: the uniform network is retrained once per PruningNet "
          "seed. Where the structures differ, " + std::string(narrow ? "each target" : "the table") +
          " lists one value per structure, in the order of the list under it.\n\n";
    std::string results;
    if (!narrow)
        results += "| target | " + side + " network | searched MACs | MACs ratio | searched top-1 | " + side +
                   " top-1 | difference [95%] | n | verdict |\n|---|---|---|---|---|---|---|---|---|\n";
    for (const CompareRow& r : rows) {
        std::vector<std::string> uniforms, searchedMacs, ratios;
        for (const CompareArm& a : r.arms) {
            uniforms.push_back(uniformText(a.uniform));
            searchedMacs.push_back(formatMacs(a.searched.macs));
            ratios.push_back(a.uniform.macs > 0 ? fixed("%.3f", double(a.searched.macs) / double(a.uniform.macs))
                                                : std::string("-"));
        }
        std::vector<double> s, u;
        int nets = 0;
        seedPairs(r, s, u, &nets);
        const std::string target = fixed("%.1f%%", 100 * r.fraction) + " (" + formatMacs(r.targetMacs) + ")";
        if (narrow)
            results += "- **" + target + "**: searched " + formatTop1(r.searchedTop1()) + " at " + armsText(searchedMacs) +
                  " MACs vs " + side + " " + formatTop1(r.uniformTop1()) + " at " + armsText(uniforms) +
                  " (MACs ratio " + armsText(ratios) + "): **" + differenceCell(r.difference) + "**, n = " +
                  std::to_string(s.size()) + ", " + verdictCell(r.difference) + "\n";
        else
            results += "| " + target + " | " + armsText(uniforms) + " | " + armsText(searchedMacs) + " | " +
                  armsText(ratios) + " | " + formatTop1(r.searchedTop1()) + " | " + formatTop1(r.uniformTop1()) +
                  " | " + differenceCell(r.difference) + " | " + std::to_string(s.size()) + " | " +
                  verdictCell(r.difference) + " |\n";
    }
    results += "\n";
    // Narrow: the results first (a short view shows them without scrolling), the method after.
    md += narrow ? results + about : about + results;
    if (!narrow) // the list items say it already
        for (const CompareRow& r : rows)
            md += "- " + fixed("%.1f%%", 100 * r.fraction) + ": searched vs " + side + " " +
                  formatDifference(r.difference) + "\n";
    for (const CompareRow& r : rows) {
        if (r.toOriginal)
            md += "- " + fixed("%.1f%%", 100 * r.fraction) + ": searched vs the original model " +
                  formatDifference(*r.toOriginal) + "\n- " + fixed("%.1f%%", 100 * r.fraction) + ": " + side +
                  " vs the original model " + formatDifference(differenceToOriginal(r, *originalTop1, true)) + "\n";
        std::vector<double> scratch;
        for (const CompareArm& a : r.arms)
            scratch.insert(scratch.end(), a.scratchTop1.begin(), a.scratchTop1.end());
        if (!scratch.empty())
            md += "- " + fixed("%.1f%%", 100 * r.fraction) + ": the uniform width-multiplier network retrained from "
                  "scratch (the recipe at the from-scratch rate, lr " + fixed("%g", RetrainConfig{}.lr) +
                  "): " + formatTop1(scratch) + "\n";
    }
    md += "\nSearched structures (MACs ratio = searched / uniform MACs; scale index per gene):\n\n";
    for (const CompareRow& r : rows)
        for (const CompareArm& a : r.arms) {
            std::string top1;
            for (size_t i = 0; i < a.searchedTop1.size(); ++i)
                top1 += (i ? ", " : "") + fixed("%.2f%%", a.searchedTop1[i]) +
                        (i < seeds.size() ? " (seed " + std::to_string(seeds[i]) + ")" : "");
            md += "- " + fixed("%.1f%%", 100 * r.fraction) + ", PruningNet seed " + std::to_string(a.pruningnetSeed) +
                  ", search seed " + std::to_string(a.searchSeed) + ": candidate " + std::to_string(a.searched.id) +
                  ", " + formatMacs(a.searched.macs) + " MACs against " + uniformText(a.uniform) + " MACs (ratio " +
                  (a.uniform.macs > 0 ? fixed("%.3f", double(a.searched.macs) / double(a.uniform.macs)) : "-") +
                  "), PruningNet top-1 " + fixed("%.2f%%", a.searched.top1) + " (search split); retrained " + top1 +
                  "; genes " + encodingToString(a.searched.genes) + "\n";
        }
    return md;
}

std::string CompareReport::toJson() const {
    QJsonObject o;
    o["version"] = 3;
    o["arch"] = QString::fromStdString(arch);
    o["full_macs"] = qint64(fullMacs);
    o["pairing"] = QString::fromStdString(comparePairingName(pairing));
    o["baseline"] = QString::fromStdString(compareBaselineName(baseline));
    if (originalTop1)
        o["original_top1"] = *originalTop1;
    o["recipe"] = QJsonDocument::fromJson(QByteArray::fromStdString(mp::toJson(recipe))).object();
    o["seeds"] = seedsJson(seeds);
    o["search_seeds"] = seedsJson(searchSeeds);
    o["pruningnet_seeds"] = seedsJson(pruningnetSeeds);
    QJsonArray rs;
    for (const CompareRow& r : rows) {
        QJsonArray arms;
        for (const CompareArm& a : r.arms)
            arms.append(QJsonObject{{"pruningnet_seed", QString::number(a.pruningnetSeed)},
                                    {"training", qint64(a.trainingId)},
                                    {"search_seed", QString::number(a.searchSeed)},
                                    {"run", qint64(a.runId)},
                                    {"searched", candidateJson(a.searched)},
                                    {"uniform", candidateJson(a.uniform)},
                                    {"searched_top1", doubles(a.searchedTop1)},
                                    {"uniform_top1", doubles(a.uniformTop1)},
                                    {"scratch_top1", doubles(a.scratchTop1)}});
        rs.append(QJsonObject{{"fraction", r.fraction},
                              {"target_macs", qint64(r.targetMacs)},
                              {"bound_macs", qint64(r.boundMacs)},
                              {"arms", arms},
                              {"difference", differenceJson(r.difference)}});
    }
    o["rows"] = rs;
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

PairedAccuracy comparePaired(const Evaluator& evaluator, const Encoding& a, const Encoding& b, EvalSplit split,
                             const std::atomic<bool>* cancel) {
    std::vector<bool> ca, cb;
    evaluator.evaluateImages(a, ca, split, cancel);
    evaluator.evaluateImages(b, cb, split, cancel);
    return pairedAccuracy(ca, cb);
}

namespace {
/// Inherited weights and distillation need the trained model; checked before any search or
/// retraining runs (a refusal after an hour of searching loses the user's time).
void checkRecipeHasItsModel(const Evaluator& evaluator, const RetrainConfig& recipe) {
    if ((recipe.mode == RetrainMode::Inherit || recipe.distill) && !evaluator.checkpoint().config.initFromWeights)
        throw ConfigError(std::string(recipe.mode == RetrainMode::Inherit ? "--mode inherit" : "--distill") +
                          " needs the trained model, and this PruningNet was trained from random weights (train "
                          "--init weights on a model imported with its weights)");
}
} // namespace

CompareReport compareWithUniform(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                                 int64_t trainingId, const CompareConfig& cfg, const JobProgressFn& progress,
                                 const std::atomic<bool>* cancel) {
    if (cfg.fractions.empty() || cfg.seeds.empty() || cfg.searchSeeds.empty())
        throw ConfigError("a comparison needs at least one MACs target, one retraining seed and one search seed");
    if (cfg.baseline == CompareBaseline::L1 && cfg.recipe.mode != RetrainMode::Inherit)
        throw ConfigError("the L1 baseline inherits the trained model's channels, so both sides are fine-tuned from "
                          "them: retrain with --mode inherit");
    if (cfg.alsoUniform && cfg.baseline != CompareBaseline::L1)
        throw ConfigError("the uniform width-multiplier network is the baseline already; --also-uniform adds it "
                          "beside the L1 baseline");
    checkRecipeHasItsModel(evaluator, cfg.recipe);
    const ArchSpec& arch = evaluator.arch();
    const TrainConfig baseTraining = evaluator.checkpoint().config;
    CompareReport report;
    report.arch = arch.family + "/" + arch.preset;
    report.fullMacs = countMacs(arch, uniformEncoding(arch, grid::kSize - 1));
    report.pairing = cfg.pairing;
    report.baseline = cfg.baseline;
    if (evaluator.checkpoint().config.initFromWeights) { // the model the user brought, as itself
        const TrainedWeights trained = checkpointTrainedModel(evaluator.checkpoint().path);
        report.originalTop1 =
            evaluateTrained(arch, trained, data.test, evaluator.checkpoint().mean, evaluator.checkpoint().stddev, 0,
                            cancel)
                .top1;
    }
    report.recipe = cfg.recipe;
    report.seeds = cfg.seeds;
    report.searchSeeds = cfg.searchSeeds;
    report.pruningnetSeeds = cfg.pruningnetSeeds.empty() ? std::vector<uint64_t>{baseTraining.seed} : cfg.pruningnetSeeds;
    const int64_t smallest = countMacs(arch, uniformEncoding(arch, 0));
    for (double f : cfg.fractions) {
        if (!(f > 0 && f <= 1))
            throw ConfigError("MACs targets are fractions of the full network in (0, 1], got " + std::to_string(f));
        CompareRow row;
        row.fraction = f;
        row.targetMacs = int64_t(std::llround(f * double(report.fullMacs)));
        if (row.targetMacs < smallest)
            throw ConfigError("MACs target " + formatMacs(row.targetMacs) + " (" + QString::number(100 * f).toStdString() +
                              "%) is below the smallest network of the grid, " + formatMacs(smallest));
        row.boundMacs = cfg.pairing == ComparePairing::EqualCost
                            ? countMacs(arch, uniformEncoding(arch, nearestUniformIndex(arch, row.targetMacs)))
                            : row.targetMacs;
        report.rows.push_back(row);
    }

    // The PruningNets: the given one, and per other seed the same training config with that
    // seed (another search split too), trained in the project or reused when finished.
    struct Net {
        uint64_t seed = 0;
        TrainConfig config;
        std::string checkpoint;
        int64_t trainingId = 0;
        std::unique_ptr<Evaluator> own;
        const Evaluator* ev = nullptr;
    };
    std::vector<Net> nets;
    for (uint64_t netSeed : report.pruningnetSeeds) {
        Net n;
        n.seed = netSeed;
        n.config = baseTraining;
        n.config.seed = netSeed;
        n.checkpoint = netSeed == baseTraining.seed ? evaluator.checkpoint().path : defaultCheckpointPath(dbPath, n.config);
        n.trainingId = trainingId;
        n.ev = &evaluator;
        nets.push_back(std::move(n));
    }
    if (cfg.pool) {
        std::vector<StudyUnit> units;
        for (const Net& n : nets) {
            const std::optional<TrainingRecord> t = Store(dbPath).trainingByCheckpoint(n.checkpoint);
            if (n.seed == baseTraining.seed || (t && t->status == "finished"))
                continue;
            StudyUnit u;
            u.kind = StudyUnit::Kind::Train;
            u.db = dbPath;
            u.checkpoint = n.checkpoint;
            u.train = n.config;
            units.push_back(u);
        }
        cfg.pool(units, progress, cancel);
    }
    for (Net& n : nets) {
        if (n.seed == baseTraining.seed)
            continue;
        const std::string stage = "train PruningNet (seed " + std::to_string(n.seed) + ")";
        TrainCallbacks tcb;
        tcb.progress = [&](const TrainProgress& p) {
            if (progress)
                progress({stage, p.step, p.totalSteps, p.loss});
        };
        const TrainJob job = trainInProject(dbPath, data, n.config, n.checkpoint, tcb, cancel);
        if (!job.outcome.finished)
            throw Cancelled();
        n.own = std::make_unique<Evaluator>(n.checkpoint, data, cfg.search.eval);
        n.ev = n.own.get();
        n.trainingId = job.trainingId;
    }

    const auto searchConfigFor = [&](const CompareRow& row, uint64_t searchSeed) {
        SearchConfig sc = cfg.search;
        sc.maxMacs = row.boundMacs;
        sc.minMacs = 0;
        sc.seed = searchSeed;
        sc.uniformBaselines = true;
        return sc;
    };
    if (cfg.pool) {
        std::vector<StudyUnit> units;
        for (const Net& n : nets)
            for (const CompareRow& row : report.rows)
                for (uint64_t searchSeed : cfg.searchSeeds) {
                    StudyUnit u;
                    u.kind = StudyUnit::Kind::Search;
                    u.db = dbPath;
                    u.checkpoint = n.ev->checkpoint().path;
                    u.trainingId = n.trainingId;
                    u.search = searchConfigFor(row, searchSeed);
                    u.allowUnlearned = cfg.allowUnlearned;
                    units.push_back(u);
                }
        cfg.pool(units, progress, cancel);
    }
    std::map<int64_t, const Evaluator*> evaluatorOf; // by training id
    for (const Net& n : nets) {
        evaluatorOf[n.trainingId] = n.ev;
        for (CompareRow& row : report.rows) {
            int64_t firstRun = 0; // the uniform partners come from it, so that their retrainings are shared
            for (uint64_t searchSeed : cfg.searchSeeds) {
                const SearchConfig sc = searchConfigFor(row, searchSeed);
                const std::string stage = fixed("search %.1f%%", 100 * row.fraction) + " (PruningNet seed " +
                                          std::to_string(n.seed) + ", search seed " + std::to_string(searchSeed) + ")";
                SearchCallbacks cb;
                cb.progress = [&](int64_t done, int64_t total) {
                    if (progress)
                        progress({stage, done, total, 0});
                };
                const SearchJob job =
                    searchInProject(dbPath, *n.ev, sc, n.trainingId, cb, cancel, nullptr, cfg.allowUnlearned);
                if (!job.outcome.finished)
                    throw Cancelled();
                if (!job.outcome.best)
                    throw ConfigError("the search under " + formatMacs(row.boundMacs) + " found no structure");
                if (firstRun == 0)
                    firstRun = job.outcome.runId;
                CompareArm arm;
                arm.pruningnetSeed = n.seed;
                arm.trainingId = n.trainingId;
                arm.searchSeed = searchSeed;
                arm.runId = job.outcome.runId;
                arm.searched = *job.outcome.best;
                const Store store(dbPath);
                std::optional<CandidateRecord> u;
                if (cfg.pairing == ComparePairing::EqualCost) {
                    const Encoding e = uniformEncoding(arch, nearestUniformIndex(arch, row.targetMacs));
                    u = store.findCandidate(firstRun, canonicalEncoding(arch, e));
                } else if (const auto at = uniformBaselineAtLeast(store.candidates(arm.runId), arm.searched.macs)) {
                    u = store.findCandidate(firstRun, at->genes);
                }
                if (!u)
                    throw ConfigError("no uniform baseline has at least the searched structure's " +
                                      formatMacs(arm.searched.macs) + " MACs");
                arm.uniform = *u;
                row.arms.push_back(arm);
            }
        }
    }

    // The retrainings: both sides with every seed (and the uniform network from scratch).
    const auto recipeFor = [&](uint64_t seed, bool scratch) {
        RetrainConfig r = cfg.recipe;
        r.seed = seed;
        if (scratch) {
            r.mode = RetrainMode::Scratch;
            r.lr = RetrainConfig{}.lr; // a fine-tuning rate would handicap a fresh start
        }
        return r;
    };
    if (cfg.pool) {
        std::vector<StudyUnit> units;
        const Store store(dbPath);
        const auto add = [&](const CompareArm& arm, int64_t candidate, const RetrainConfig& r) {
            if (store.findRetrain(candidate, toJson(r), r.seed))
                return;
            StudyUnit u;
            u.db = dbPath;
            u.checkpoint = evaluatorOf.at(arm.trainingId)->checkpoint().path;
            u.eval = evaluatorOf.at(arm.trainingId)->settings();
            u.candidateId = candidate;
            u.recipe = r;
            u.purpose = "compare";
            units.push_back(u);
        };
        for (const CompareRow& row : report.rows)
            for (const CompareArm& arm : row.arms)
                for (uint64_t seed : cfg.seeds) {
                    add(arm, arm.searched.id, recipeFor(seed, false));
                    add(arm, arm.uniform.id, recipeFor(seed, false));
                    if (cfg.alsoUniform)
                        add(arm, arm.uniform.id, recipeFor(seed, true));
                }
        cfg.pool(units, progress, cancel);
    }
    for (CompareRow& row : report.rows)
        for (CompareArm& arm : row.arms) {
            const Evaluator& ev = *evaluatorOf.at(arm.trainingId);
            for (uint64_t seed : cfg.seeds) {
                arm.searchedTop1.push_back(
                    retrainCandidate(dbPath, ev, data, arm.searched.id, recipeFor(seed, false), "compare", progress,
                                     cancel)
                        .testTop1);
                arm.uniformTop1.push_back(
                    retrainCandidate(dbPath, ev, data, arm.uniform.id, recipeFor(seed, false), "compare", progress,
                                     cancel)
                        .testTop1);
                if (cfg.alsoUniform)
                    arm.scratchTop1.push_back(
                        retrainCandidate(dbPath, ev, data, arm.uniform.id, recipeFor(seed, true), "compare", progress,
                                         cancel)
                            .testTop1);
            }
        }
    for (CompareRow& row : report.rows) {
        row.difference = compareDifference(row);
        if (report.originalTop1)
            row.toOriginal = differenceToOriginal(row, *report.originalTop1);
    }
    Store(dbPath).setSetting("compare.report", report.toJson());
    return report;
}

CompareReport compareWithUniform(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                                 int64_t trainingId, const std::vector<double>& fractions, const SearchConfig& search,
                                 const RetrainConfig& recipe, const std::vector<uint64_t>& seeds,
                                 const JobProgressFn& progress, const std::atomic<bool>* cancel) {
    CompareConfig cfg;
    cfg.fractions = fractions;
    cfg.pairing = ComparePairing::AtLeast;
    cfg.search = search;
    cfg.searchSeeds = {search.seed};
    cfg.recipe = recipe;
    cfg.seeds = seeds;
    return compareWithUniform(dbPath, evaluator, data, trainingId, cfg, progress, cancel);
}

std::string CostBand::key() const {
    if (kind == Kind::Macs)
        return "macs:" + std::to_string(std::llround(lo)) + ".." + std::to_string(std::llround(hi));
    return "latency:" + QString::number(lo).toStdString() + ".." + QString::number(hi).toStdString();
}

std::string CostBand::text() const {
    if (kind == Kind::Macs)
        return formatMacs(std::llround(lo)) + ".." + formatMacs(std::llround(hi)) + " MACs";
    return fixed("%.2f", lo) + ".." + fixed("%.2f", hi) + " ms (predicted latency)";
}

void FidelityReport::addRankingStatistics(int resamples) {
    if (points.size() < 3)
        return;
    std::vector<double> predicted, retrained, macs, inherited;
    std::vector<std::vector<double>> bySeed;
    for (const FidelityPoint& p : points) {
        predicted.push_back(this->predicted(p));
        retrained.push_back(p.retrainedTop1);
        macs.push_back(double(p.candidate.macs));
        if (p.inheritedTop1)
            inherited.push_back(*p.inheritedTop1);
        bySeed.push_back(p.retrainedBySeed);
    }
    constexpr uint64_t kSeed = 1; // fixed: a stored report reads back with the same figures
    partialTau = partialKendallTau(predicted, retrained, macs);
    partialInterval = bootstrapPartialTau(predicted, retrained, macs, kSeed, resamples);
    if (inherited.size() == points.size())
        inheritedPartialTau = partialKendallTau(inherited, retrained, macs);
    const size_t seedsEach = bySeed.front().size();
    const bool even = std::all_of(bySeed.begin(), bySeed.end(), [&](const auto& v) { return v.size() == seedsEach; });
    noise.reset();
    if (seedsEach >= 2 && even)
        noise = seedNoise(bySeed, kSeed);
}

std::string FidelityReport::markdown() const {
    const int n = correlation.n;
    std::string md = "# How far the PruningNet's ranking can be trusted\n\n";
    if (band)
        md += std::to_string(points.size()) + " structures spread over the band " + band->text() + " (" +
              std::to_string(requested) + " asked, " + std::to_string(attempts) + " encodings drawn).";
    else
        md += std::to_string(points.size()) + " structures spread over the MACs range.";
    md += std::string(" Predicted: PruningNet weights after BN recalibration, search split, ranked by ") +
          (score == SearchScore::Loss ? "the loss (lower is better)" : "top-1") + ". Retrained: " + recipeText(recipe) +
          ", official test set" +
          (seeds.size() > 1 ? ", the mean over retraining seeds " + seedList(seeds) : std::string()) + ".\n\n";
    if (band && int(points.size()) < requested)
        md += "The band holds only " + std::to_string(points.size()) + " distinct structures (by channels) among " +
              std::to_string(attempts) + " drawn encodings, fewer than the " + std::to_string(requested) +
              " asked; the study uses those.\n\n";
    auto pValues = [](const PermutationTest& t) {
        return formatPValue(t.kendallP) + " (tau), " + formatPValue(t.spearmanP) + " (rho)";
    };
    md += "PruningNet against retrained top-1: Kendall's tau = " +
          coefficientWithInterval(correlation.kendallTau, correlationInterval.kendallTau) + ", Spearman's rho = " +
          coefficientWithInterval(correlation.spearmanRho, correlationInterval.spearmanRho) + " (n = " +
          std::to_string(n) + "); permutation " + pValues(correlationTest) + ".\n\n";
    md += "Baseline, MACs alone against retrained top-1: Kendall's tau = " +
          coefficientWithInterval(macsBaseline.kendallTau, macsInterval.kendallTau) + ", Spearman's rho = " +
          coefficientWithInterval(macsBaseline.spearmanRho, macsInterval.spearmanRho) + "; permutation " +
          pValues(macsTest) + ". " +
          (band ? "Inside a band, size varies little, so this is the baseline the PruningNet must beat where the "
                  "search uses it.\n\n"
                : "Over a wide MACs range size alone ranks accuracy well; the PruningNet adds information where its "
                  "correlation is higher than this.\n\n");
    if (inheritedBaseline)
        md += "Baseline, the inherited weights alone (the trained model's leading channels, BN recalibrated, no "
              "PruningNet; EagleEye's proxy) against retrained top-1: Kendall's tau = " +
              coefficientWithInterval(inheritedBaseline->kendallTau, inheritedInterval.kendallTau) +
              ", Spearman's rho = " +
              coefficientWithInterval(inheritedBaseline->spearmanRho, inheritedInterval.spearmanRho) +
              "; permutation " + pValues(inheritedTest) + ".\n\n";
    md += "Intervals: 95% percentile bootstrap over " + std::to_string(correlationInterval.resamples) +
          " resamples of the structures";
    if (correlationInterval.undefined > 0)
        md += " (" + std::to_string(correlationInterval.undefined) + " left out: a constant resample has no ranking)";
    md += "; p-values: two-sided permutation test of no association, " +
          (correlationTest.exact ? "exact over all " + std::to_string(correlationTest.permutations) + " orderings"
                                 : std::to_string(correlationTest.permutations) + " random permutations") +
          ".\n\n";
    md += "Beyond cost: partial Kendall tau of the PruningNet and retrained top-1 given MACs = " +
          coefficientWithInterval(partialTau, partialInterval) +
          (std::isnan(inheritedPartialTau) ? std::string()
                                           : " (inherited weights alone: " + coefficient(inheritedPartialTau) + ")") +
          ": how the proxy ranks structures beyond what their cost explains.\n\n";
    if (noise)
        md += "Retraining noise (" + std::to_string(noise->seeds) + " seeds): seed-to-seed spread " +
              fixed("%.2f", noise->spread) + " points (pooled sd); the first two seeds rank the structures alike at "
              "tau " +
              coefficient(noise->seedTau) + "; an exact proxy would reach about tau " +
              coefficient(noise->ceiling) + " against the mean over the seeds, the largest tau this noise allows.\n\n";
    else
        md += "Retraining noise: one seed per structure, so the ground truth's own noise is not measured (give "
              "--seeds 1,2).\n\n";
    if (topK > 0)
        md += "Top-" + std::to_string(topK) + " overlap: " + std::to_string(topKOverlap) + " of the PruningNet's " +
              std::to_string(topK) + " best structures are among the " + std::to_string(topK) +
              " best after retraining (MACs alone: " + std::to_string(macsTopKOverlap) +
              (inheritedBaseline ? "; inherited weights alone: " + std::to_string(inheritedTopKOverlap) : std::string()) +
              "; by chance " +
              fixed("%.2f", double(topK) * topK / std::max(1, n)) + ").\n\n";
    if (std::isnan(correlation.kendallTau) || std::isnan(macsBaseline.kendallTau))
        md += "Undefined: a sample is constant (e.g. every retrained top-1 is equal), so it has no ranking; "
              "retrain longer.\n\n";
    const bool byLoss = score == SearchScore::Loss;
    md += std::string("| candidate | MACs | ") + (byLoss ? "predicted loss | " : "") + "predicted top-1 | " +
          (inheritedBaseline ? "inherited top-1 | " : "") + "retrained top-1 |\n|---|---|---|" +
          (byLoss ? "---|" : "") + (inheritedBaseline ? "---|" : "") + "---|\n";
    for (const FidelityPoint& p : points)
        md += "| " + std::to_string(p.candidate.id) + " | " + formatMacs(p.candidate.macs) + " | " +
              (byLoss ? fixed("%.4f", p.candidate.loss) + " | " : std::string()) + fixed("%.2f%%", p.candidate.top1) +
              " | " +
              (p.inheritedTop1 ? fixed("%.2f%%", *p.inheritedTop1) + " | " : std::string()) +
              fixed("%.2f%%", p.retrainedTop1) + " |\n";
    return md;
}

std::string FidelityReport::toJson() const {
    QJsonObject o;
    o["version"] = 2;
    if (score != SearchScore::Top1)
        o["score"] = QString::fromStdString(searchScoreName(score));
    o["kendall_tau"] = number(correlation.kendallTau);
    o["spearman_rho"] = number(correlation.spearmanRho);
    o["n"] = correlation.n;
    o["macs_kendall_tau"] = number(macsBaseline.kendallTau);
    o["macs_spearman_rho"] = number(macsBaseline.spearmanRho);
    o["kendall_tau_interval"] = intervalJson(correlationInterval.kendallTau);
    o["spearman_rho_interval"] = intervalJson(correlationInterval.spearmanRho);
    o["macs_kendall_tau_interval"] = intervalJson(macsInterval.kendallTau);
    o["macs_spearman_rho_interval"] = intervalJson(macsInterval.spearmanRho);
    o["bootstrap_resamples"] = correlationInterval.resamples;
    o["bootstrap_undefined"] = correlationInterval.undefined;
    o["macs_bootstrap_undefined"] = macsInterval.undefined;
    o["kendall_p"] = number(correlationTest.kendallP);
    o["spearman_p"] = number(correlationTest.spearmanP);
    o["macs_kendall_p"] = number(macsTest.kendallP);
    o["macs_spearman_p"] = number(macsTest.spearmanP);
    o["permutation_exact"] = correlationTest.exact;
    o["permutations"] = qint64(correlationTest.permutations);
    o["top_k"] = topK;
    o["top_k_overlap"] = topKOverlap;
    o["macs_top_k_overlap"] = macsTopKOverlap;
    o["requested"] = requested;
    o["attempts"] = qint64(attempts);
    if (band)
        o["band"] = QJsonObject{{"kind", band->kind == CostBand::Kind::Macs ? "macs" : "latency"},
                                {"lo", band->lo},
                                {"hi", band->hi}};
    o["recipe"] = QJsonDocument::fromJson(QByteArray::fromStdString(mp::toJson(recipe))).object();
    o["seeds"] = seedsJson(seeds);
    if (inheritedBaseline) {
        o["inherited_kendall_tau"] = number(inheritedBaseline->kendallTau);
        o["inherited_spearman_rho"] = number(inheritedBaseline->spearmanRho);
        o["inherited_kendall_tau_interval"] = intervalJson(inheritedInterval.kendallTau);
        o["inherited_spearman_rho_interval"] = intervalJson(inheritedInterval.spearmanRho);
        o["inherited_bootstrap_undefined"] = inheritedInterval.undefined;
        o["inherited_kendall_p"] = number(inheritedTest.kendallP);
        o["inherited_spearman_p"] = number(inheritedTest.spearmanP);
        o["inherited_top_k_overlap"] = inheritedTopKOverlap;
    }
    QJsonArray pts;
    for (const FidelityPoint& p : points) {
        QJsonObject c = candidateJson(p.candidate);
        c["retrained_top1"] = p.retrainedTop1;
        c["retrained_by_seed"] = doubles(p.retrainedBySeed);
        if (p.inheritedTop1)
            c["inherited_top1"] = *p.inheritedTop1;
        pts.append(c);
    }
    o["points"] = pts;
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

namespace {

/// Sample i puts every gene at the grid level i/(samples-1) plus up to 8 steps: plain random
/// encodings concentrate around the middle of the MACs range.
std::vector<Encoding> sampleWholeRange(const ArchSpec& arch, int samples, uint64_t seed) {
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
    return chosen;
}

std::vector<Encoding> sampleInBand(const ArchSpec& arch, const CostBand& band, int samples, uint64_t seed,
                                   const std::function<double(const Encoding&)>& cost, int64_t* attempts) {
    // Plain random encodings concentrate around the middle of the range: draw around the band.
    int levelLo = 0, levelHi = grid::kSize - 1;
    for (int i = 0; i < grid::kSize; ++i) {
        const double c = cost(uniformEncoding(arch, i));
        if (c <= band.lo)
            levelLo = i;
        if (c >= band.hi) {
            levelHi = i;
            break;
        }
    }
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> level(levelLo, levelHi), offset(-8, 8);
    std::vector<std::pair<double, Encoding>> pool;
    std::set<std::vector<int>> seen;
    const int64_t maxDraws = 2000 * int64_t(samples);
    const size_t enough = 8 * size_t(samples); // a pool this large spreads well
    int64_t draws = 0;
    for (; draws < maxDraws && pool.size() < enough; ++draws) {
        const int base = level(rng);
        Encoding e(arch.genes.size());
        for (int& g : e)
            g = std::clamp(base + offset(rng), 0, grid::kSize - 1);
        e = canonicalEncoding(arch, e);
        const double c = cost(e);
        if (c >= band.lo && c <= band.hi && seen.insert(geneChannels(arch, e)).second)
            pool.emplace_back(c, e);
    }
    *attempts = draws;
    std::vector<Encoding> out;
    if (pool.size() <= size_t(samples)) {
        for (const auto& p : pool)
            out.push_back(p.second);
        return out;
    }
    std::vector<bool> used(pool.size(), false);
    for (int i = 0; i < samples; ++i) {
        const double target = band.lo + (double(i) + 0.5) * (band.hi - band.lo) / double(samples);
        size_t best = pool.size();
        for (size_t j = 0; j < pool.size(); ++j)
            if (!used[j] && (best == pool.size() || std::abs(pool[j].first - target) < std::abs(pool[best].first - target)))
                best = j;
        used[best] = true;
        out.push_back(pool[best].second);
    }
    return out;
}

FidelityReport fidelityOf(const QJsonObject& o) {
    FidelityReport r;
    r.score = parseSearchScore(o["score"].toString("top1").toStdString());
    r.correlation.kendallTau = numberOf(o["kendall_tau"]);
    r.correlation.spearmanRho = numberOf(o["spearman_rho"]);
    r.correlation.n = o["n"].toInt();
    r.macsBaseline = {numberOf(o["macs_kendall_tau"]), numberOf(o["macs_spearman_rho"]), r.correlation.n};
    r.correlationInterval = {intervalOf(o["kendall_tau_interval"]), intervalOf(o["spearman_rho_interval"]),
                             o["bootstrap_resamples"].toInt(), o["bootstrap_undefined"].toInt()};
    r.macsInterval = {intervalOf(o["macs_kendall_tau_interval"]), intervalOf(o["macs_spearman_rho_interval"]),
                      o["bootstrap_resamples"].toInt(), o["macs_bootstrap_undefined"].toInt()};
    r.correlationTest = {numberOf(o["kendall_p"]), numberOf(o["spearman_p"]), o["permutation_exact"].toBool(),
                         o["permutations"].toInteger()};
    r.macsTest = {numberOf(o["macs_kendall_p"]), numberOf(o["macs_spearman_p"]), o["permutation_exact"].toBool(),
                  o["permutations"].toInteger()};
    r.topK = o["top_k"].toInt();
    r.topKOverlap = o["top_k_overlap"].toInt();
    r.macsTopKOverlap = o["macs_top_k_overlap"].toInt();
    r.requested = o["requested"].toInt();
    r.attempts = o["attempts"].toInteger();
    if (o.contains("band")) {
        const QJsonObject b = o["band"].toObject();
        r.band = CostBand{b["kind"].toString() == "latency" ? CostBand::Kind::Latency : CostBand::Kind::Macs,
                          b["lo"].toDouble(), b["hi"].toDouble()};
    }
    r.recipe = retrainConfigFromJson(QJsonDocument(o["recipe"].toObject()).toJson(QJsonDocument::Compact).toStdString(), 0);
    r.seeds = seedsOf(o["seeds"]);
    if (o.contains("inherited_kendall_tau")) {
        r.inheritedBaseline = RankCorrelation{numberOf(o["inherited_kendall_tau"]), numberOf(o["inherited_spearman_rho"]),
                                              r.correlation.n};
        r.inheritedInterval = {intervalOf(o["inherited_kendall_tau_interval"]),
                               intervalOf(o["inherited_spearman_rho_interval"]), o["bootstrap_resamples"].toInt(),
                               o["inherited_bootstrap_undefined"].toInt()};
        r.inheritedTest = {numberOf(o["inherited_kendall_p"]), numberOf(o["inherited_spearman_p"]),
                           o["permutation_exact"].toBool(), o["permutations"].toInteger()};
        r.inheritedTopKOverlap = o["inherited_top_k_overlap"].toInt();
    }
    for (const QJsonValue& v : o["points"].toArray()) {
        const QJsonObject x = v.toObject();
        FidelityPoint p;
        p.candidate = candidateOf(x);
        p.retrainedTop1 = x["retrained_top1"].toDouble();
        p.retrainedBySeed = doublesOf(x["retrained_by_seed"]);
        if (x.contains("inherited_top1"))
            p.inheritedTop1 = x["inherited_top1"].toDouble();
        r.points.push_back(p);
    }
    r.addRankingStatistics(r.correlationInterval.resamples > 0 ? r.correlationInterval.resamples : 2000);
    return r;
}

QJsonObject storedBands(const Store& store) {
    const std::optional<std::string> s = store.setting("fidelity.bands");
    return s ? QJsonDocument::fromJson(QByteArray::fromStdString(*s)).object() : QJsonObject();
}

} // namespace

std::vector<Encoding> sampleStructuresInBand(const ArchSpec& arch, const CostBand& band, int samples, uint64_t seed,
                                             int64_t* attempts, const LatencyTable* latency) {
    const bool byLatency = band.kind == CostBand::Kind::Latency;
    if (byLatency && !latency)
        throw ConfigError("a latency band needs the project's latency table (metaprune latency)");
    const auto cost = [&](const Encoding& e) {
        return byLatency ? latency->predict(arch, e) : double(countMacs(arch, e));
    };
    int64_t draws = 0;
    std::vector<Encoding> out = sampleInBand(arch, band, samples, seed, cost, &draws);
    if (attempts)
        *attempts = draws;
    return out;
}

FidelityReport measureFidelity(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                               int64_t trainingId, const FidelityConfig& cfg, const JobProgressFn& progress,
                               const std::atomic<bool>* cancel, const LatencyTable* latency) {
    if (cfg.samples < 3)
        throw std::invalid_argument("a rank correlation needs at least 3 structures, got " + std::to_string(cfg.samples));
    if (cfg.topK < 1)
        throw ConfigError("the top-k overlap needs k >= 1, got " + std::to_string(cfg.topK));
    checkRecipeHasItsModel(evaluator, cfg.recipe);
    const ArchSpec& arch = evaluator.arch();
    FidelityReport report;
    report.recipe = cfg.recipe;
    report.band = cfg.band;
    report.requested = cfg.samples;
    report.score = cfg.score;
    std::vector<Encoding> chosen;
    if (cfg.band) {
        const CostBand& b = *cfg.band;
        if (!(b.lo >= 0 && b.lo < b.hi))
            throw ConfigError("the band " + b.text() + " is empty: its lower end must be below its upper end");
        chosen = sampleStructuresInBand(arch, b, cfg.samples, cfg.seed, &report.attempts, latency);
        if (chosen.size() < 3)
            throw ConfigError("the band " + b.text() + " holds only " + std::to_string(chosen.size()) +
                              " distinct structures among " + std::to_string(report.attempts) +
                              " drawn encodings; a rank correlation needs at least 3: widen the band");
    } else {
        chosen = sampleWholeRange(arch, cfg.samples, cfg.seed);
    }
    std::sort(chosen.begin(), chosen.end(),
              [&](const Encoding& a, const Encoding& b) { return countMacs(arch, a) < countMacs(arch, b); });

    Store store(dbPath);
    SearchConfig marker; // a probe run of its own: the sampling seed and band, no generations
    marker.eval = evaluator.settings();
    marker.seed = cfg.seed;
    marker.generations = 0;
    marker.population = cfg.samples;
    marker.uniformBaselines = false;
    if (cfg.band && cfg.band->kind == CostBand::Kind::Macs) {
        marker.minMacs = std::llround(cfg.band->lo);
        marker.maxMacs = std::llround(cfg.band->hi);
    } else if (cfg.band) {
        marker.minLatencyMs = cfg.band->lo;
        marker.maxLatencyMs = cfg.band->hi;
    }
    RunRecord run = searchRunRecord(evaluator, marker, trainingId);
    run.kind = "probe";
    const int64_t runId = store.findOrCreateRun(run);

    std::vector<double> predicted, retrained, macs, inherited;
    report.seeds = cfg.seeds.empty() ? std::vector<uint64_t>{cfg.recipe.seed} : cfg.seeds;
    const int64_t total = int64_t(chosen.size());
    std::vector<CandidateRecord> scored;
    for (size_t i = 0; i < chosen.size(); ++i) {
        if (progress)
            progress({"PruningNet prediction", int64_t(i), total, 0});
        CandidateRecord c;
        if (const auto found = store.findCandidate(runId, chosen[i])) {
            if (const std::string damage = candidateDamage(arch, *found); !damage.empty())
                throw std::invalid_argument(dbPath + ": stored candidate " + std::to_string(found->id) +
                                            " of the fidelity study is damaged (" + damage + ")");
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
            c.latencyMs = latency ? latency->predict(arch, chosen[i]) : 0;
            c = store.addCandidate(c);
        }
        scored.push_back(c);
    }
    if (cfg.pool) { // the retrainings elsewhere first; the loop below finds them stored
        std::vector<StudyUnit> units;
        for (const CandidateRecord& c : scored)
            for (uint64_t seed : report.seeds) {
                StudyUnit u;
                u.db = dbPath;
                u.checkpoint = evaluator.checkpoint().path;
                u.eval = evaluator.settings();
                u.candidateId = c.id;
                u.recipe = cfg.recipe;
                u.recipe.seed = seed;
                u.purpose = "fidelity";
                const std::string recipe = toJson(u.recipe);
                if (!store.findRetrain(c.id, recipe, seed) &&
                    !sameScratchRetraining(store, c, recipe, u.recipe, evaluator.checkpoint().config))
                    units.push_back(u);
            }
        cfg.pool(units, progress, cancel);
    }
    for (size_t i = 0; i < chosen.size(); ++i) {
        const CandidateRecord& c = scored[i];
        FidelityPoint point;
        point.candidate = c;
        for (uint64_t seed : report.seeds) {
            RetrainConfig r = cfg.recipe;
            r.seed = seed;
            point.retrainedBySeed.push_back(
                retrainCandidate(dbPath, evaluator, data, c.id, r, "fidelity", progress, cancel).testTop1);
        }
        point.retrainedTop1 = std::accumulate(point.retrainedBySeed.begin(), point.retrainedBySeed.end(), 0.0) /
                              double(point.retrainedBySeed.size());
        if (evaluator.fromTrained()) {
            point.inheritedTop1 = evaluator.evaluateInherited(chosen[i], EvalSplit::Search, cancel).top1;
            inherited.push_back(*point.inheritedTop1);
        }
        report.points.push_back(point);
        predicted.push_back(report.predicted(point));
        retrained.push_back(point.retrainedTop1);
        macs.push_back(double(c.macs));
    }
    store.setRunStatus(runId, "finished");
    if (!inherited.empty()) {
        report.inheritedBaseline = rankCorrelation(inherited, retrained);
        report.inheritedInterval = bootstrapRankCorrelation(inherited, retrained, cfg.seed, cfg.bootstrapResamples);
        report.inheritedTest = permutationTest(inherited, retrained, cfg.seed, cfg.permutations);
    }
    report.correlation = rankCorrelation(predicted, retrained);
    report.macsBaseline = rankCorrelation(macs, retrained);
    report.correlationInterval = bootstrapRankCorrelation(predicted, retrained, cfg.seed, cfg.bootstrapResamples);
    report.macsInterval = bootstrapRankCorrelation(macs, retrained, cfg.seed, cfg.bootstrapResamples);
    report.correlationTest = permutationTest(predicted, retrained, cfg.seed, cfg.permutations);
    report.macsTest = permutationTest(macs, retrained, cfg.seed, cfg.permutations);
    report.topK = std::min(cfg.topK, int(report.points.size()));
    report.topKOverlap = topKOverlap(predicted, retrained, report.topK);
    report.macsTopKOverlap = topKOverlap(macs, retrained, report.topK);
    if (!inherited.empty())
        report.inheritedTopKOverlap = topKOverlap(inherited, retrained, report.topK);
    report.addRankingStatistics(cfg.bootstrapResamples);
    storeFidelityReport(store, report);
    return report;
}

FidelityReport measureFidelity(const std::string& dbPath, const Evaluator& evaluator, const DataBundle& data,
                               int64_t trainingId, int samples, uint64_t seed, const RetrainConfig& recipe,
                               const JobProgressFn& progress, const std::atomic<bool>* cancel) {
    FidelityConfig cfg;
    cfg.samples = samples;
    cfg.seed = seed;
    cfg.recipe = recipe;
    return measureFidelity(dbPath, evaluator, data, trainingId, cfg, progress, cancel);
}

std::optional<CompareReport> storedCompareReport(const Store& store) {
    const std::optional<std::string> s = store.setting("compare.report");
    if (!s)
        return std::nullopt;
    const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(*s)).object();
    const int version = o["version"].toInt(1);
    CompareReport r;
    r.arch = o["arch"].toString().toStdString();
    r.fullMacs = o["full_macs"].toInteger();
    r.recipe = retrainConfigFromJson(QJsonDocument(o["recipe"].toObject()).toJson(QJsonDocument::Compact).toStdString(), 0);
    r.seeds = seedsOf(o["seeds"]);
    if (version >= 2) {
        r.pairing = parseComparePairing(o["pairing"].toString().toStdString());
        r.searchSeeds = seedsOf(o["search_seeds"]);
        r.pruningnetSeeds = seedsOf(o["pruningnet_seeds"]);
    }
    if (version >= 3) {
        r.baseline = parseCompareBaseline(o["baseline"].toString().toStdString());
        if (o.contains("original_top1"))
            r.originalTop1 = o["original_top1"].toDouble();
    }
    for (const QJsonValue& v : o["rows"].toArray()) {
        const QJsonObject x = v.toObject();
        CompareRow row;
        row.fraction = x["fraction"].toDouble();
        row.targetMacs = x["target_macs"].toInteger();
        if (version >= 2) {
            row.boundMacs = x["bound_macs"].toInteger();
            for (const QJsonValue& av : x["arms"].toArray()) {
                const QJsonObject a = av.toObject();
                CompareArm arm;
                arm.pruningnetSeed = a["pruningnet_seed"].toString().toULongLong();
                arm.trainingId = a["training"].toInteger();
                arm.searchSeed = a["search_seed"].toString().toULongLong();
                arm.runId = a["run"].toInteger();
                arm.searched = candidateOf(a["searched"].toObject());
                arm.uniform = candidateOf(a["uniform"].toObject());
                arm.searchedTop1 = doublesOf(a["searched_top1"]);
                arm.uniformTop1 = doublesOf(a["uniform_top1"]);
                arm.scratchTop1 = doublesOf(a["scratch_top1"]);
                row.arms.push_back(arm);
            }
        } else { // version 1: one search of one PruningNet per target, at the target itself
            row.boundMacs = row.targetMacs;
            CompareArm arm;
            arm.runId = x["run"].toInteger();
            arm.searched = candidateOf(x["searched"].toObject());
            arm.uniform = candidateOf(x["uniform"].toObject());
            arm.searchedTop1 = doublesOf(x["searched_top1"]);
            arm.uniformTop1 = doublesOf(x["uniform_top1"]);
            row.arms.push_back(arm);
        }
        row.difference = compareDifference(row);
        if (r.originalTop1)
            row.toOriginal = differenceToOriginal(row, *r.originalTop1);
        r.rows.push_back(row);
    }
    return r;
}

std::optional<FidelityReport> storedFidelityReport(const Store& store) {
    const std::optional<std::string> s = store.setting("fidelity.report");
    if (!s)
        return std::nullopt;
    return fidelityOf(QJsonDocument::fromJson(QByteArray::fromStdString(*s)).object());
}

std::optional<FidelityReport> storedFidelityReport(const Store& store, const CostBand& band) {
    const QJsonObject bands = storedBands(store);
    const QString key = QString::fromStdString(band.key());
    if (!bands.contains(key))
        return std::nullopt;
    return fidelityOf(bands[key].toObject());
}

void storeFidelityReport(Store& store, const FidelityReport& report) {
    if (report.band) {
        QJsonObject bands = storedBands(store);
        bands[QString::fromStdString(report.band->key())] =
            QJsonDocument::fromJson(QByteArray::fromStdString(report.toJson())).object();
        store.setSetting("fidelity.bands", QJsonDocument(bands).toJson(QJsonDocument::Compact).toStdString());
    } else {
        store.setSetting("fidelity.report", report.toJson());
    }
}

std::vector<FidelityReport> storedBandFidelityReports(const Store& store) {
    std::vector<FidelityReport> out;
    const QJsonObject bands = storedBands(store);
    for (auto it = bands.begin(); it != bands.end(); ++it)
        out.push_back(fidelityOf(it.value().toObject()));
    return out;
}

} // namespace mp
