#include "metaprune/search.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

namespace mp {

std::string searchScoreName(SearchScore s) { return s == SearchScore::Loss ? "loss" : "top1"; }

SearchScore parseSearchScore(const std::string& name) {
    if (name == "top1")
        return SearchScore::Top1;
    if (name == "loss")
        return SearchScore::Loss;
    throw std::invalid_argument("unknown search score '" + name + "' (top1, loss)");
}

namespace {

QJsonObject evalSettingsObject(const EvalSettings& e) {
    return QJsonObject{{"recal_batches", e.recalBatches}, {"recal_batch_size", e.recalBatchSize},
                       {"eval_images", e.evalImages},     {"batch_size", e.batchSize},
                       {"recalibrate", e.recalibrate}};
}

EvalSettings evalSettingsOf(const QJsonObject& o) {
    EvalSettings e;
    e.recalBatches = o["recal_batches"].toInt(e.recalBatches);
    e.recalBatchSize = o["recal_batch_size"].toInt(e.recalBatchSize);
    e.evalImages = o["eval_images"].toInt(e.evalImages);
    e.batchSize = o["batch_size"].toInt(e.batchSize);
    e.recalibrate = o["recalibrate"].toBool(e.recalibrate);
    return e;
}

} // namespace

std::string toJson(const EvalSettings& e) {
    return QJsonDocument(evalSettingsObject(e)).toJson(QJsonDocument::Compact).toStdString();
}

EvalSettings evalSettingsFromJson(const std::string& json) {
    return evalSettingsOf(QJsonDocument::fromJson(QByteArray::fromStdString(json)).object());
}

std::string toJson(const SearchConfig& c) {
    QJsonObject o;
    o["population"] = c.population;
    o["parents"] = c.parents;
    o["mutations"] = c.mutations;
    o["crossovers"] = c.crossovers;
    o["mutation_prob"] = c.mutationProb;
    o["generations"] = c.generations;
    o["seed"] = QString::number(c.seed);
    o["max_macs"] = qint64(c.maxMacs);
    o["min_macs"] = qint64(c.minMacs);
    o["uniform_baselines"] = c.uniformBaselines;
    if (c.score != SearchScore::Top1) // only then: older runs keep their identity
        o["score"] = QString::fromStdString(searchScoreName(c.score));
    if (hasLatencyBound(c)) { // only then: older runs keep their identity
        o["max_latency_ms"] = c.maxLatencyMs;
        o["min_latency_ms"] = c.minLatencyMs;
        o["latency_table"] = QString::fromStdString(c.latencyTable);
    }
    o["eval"] = evalSettingsObject(c.eval);
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

SearchConfig searchConfigFromJson(const std::string& json) {
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &err);
    if (!doc.isObject())
        throw std::invalid_argument("search settings are not a JSON object: " + err.errorString().toStdString());
    const QJsonObject o = doc.object();
    SearchConfig c;
    c.population = o["population"].toInt(c.population);
    c.parents = o["parents"].toInt(c.parents);
    c.mutations = o["mutations"].toInt(c.mutations);
    c.crossovers = o["crossovers"].toInt(c.crossovers);
    c.mutationProb = o["mutation_prob"].toDouble(c.mutationProb);
    c.generations = o["generations"].toInt(c.generations);
    c.seed = o["seed"].toString("1").toULongLong();
    c.maxMacs = o["max_macs"].toInteger(c.maxMacs);
    c.minMacs = o["min_macs"].toInteger(c.minMacs);
    c.uniformBaselines = o["uniform_baselines"].toBool(c.uniformBaselines);
    c.score = parseSearchScore(o["score"].toString("top1").toStdString());
    c.maxLatencyMs = o["max_latency_ms"].toDouble(0);
    c.minLatencyMs = o["min_latency_ms"].toDouble(0);
    c.latencyTable = o["latency_table"].toString().toStdString();
    c.eval = evalSettingsOf(o["eval"].toObject());
    return c;
}

std::string formatMacs(int64_t macs) {
    char s[32];
    if (macs >= 1000000000)
        std::snprintf(s, sizeof s, "%.2fG", double(macs) / 1e9);
    else if (macs >= 1000000)
        std::snprintf(s, sizeof s, "%.2fM", double(macs) / 1e6);
    else if (macs >= 1000)
        std::snprintf(s, sizeof s, "%.1fk", double(macs) / 1e3);
    else
        std::snprintf(s, sizeof s, "%lld", static_cast<long long>(macs));
    return s;
}

int64_t parseMacs(const std::string& text, int64_t fullMacs) {
    if (text.empty())
        throw ConfigError("empty MACs value");
    size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        throw ConfigError("MACs value '" + text + "' is not a number (examples: 3.5M, 800k, 50%)");
    }
    const std::string unit = text.substr(used);
    double mult = 1;
    if (unit == "%")
        mult = double(fullMacs) / 100.0;
    else if (unit == "k" || unit == "K")
        mult = 1e3;
    else if (unit == "M" || unit == "m")
        mult = 1e6;
    else if (unit == "G" || unit == "g")
        mult = 1e9;
    else if (!unit.empty())
        throw ConfigError("MACs value '" + text + "' has unknown unit '" + unit + "' (k, M, G or %)");
    if (!std::isfinite(v) || v < 0)
        throw ConfigError("MACs value '" + text + "' is not a non-negative number");
    return int64_t(std::llround(v * mult));
}

bool meetsConstraint(const SearchConfig& cfg, int64_t macs, double latencyMs) {
    return macs >= cfg.minMacs && (cfg.maxMacs <= 0 || macs <= cfg.maxMacs) && latencyMs >= cfg.minLatencyMs &&
           (cfg.maxLatencyMs <= 0 || latencyMs <= cfg.maxLatencyMs);
}

namespace {

/// One scale step of gene `g` that changes its channel count, down or up, landing on the
/// canonical index (equal channel counts are the same network). False when none is left.
bool stepGene(const ArchSpec& arch, Encoding& e, size_t g, bool down) {
    const Gene& gene = arch.genes[g];
    const int c = geneChannelsAt(gene, e[g]);
    int j = e[g];
    if (down) {
        while (j >= 0 && geneChannelsAt(gene, j) == c)
            --j;
        if (j < 0)
            return false;
        const int cj = geneChannelsAt(gene, j);
        while (j > 0 && geneChannelsAt(gene, j - 1) == cj)
            --j;
    } else {
        while (j < grid::kSize && geneChannelsAt(gene, j) == c)
            ++j;
        if (j >= grid::kSize)
            return false;
    }
    e[g] = j;
    return true;
}

} // namespace

BandRepair::BandRepair(const ArchSpec& arch, const SearchConfig& cfg, const LatencyTable* latency)
    : arch_(arch), values_(analyzeArchitecture(arch)), cfg_(cfg), latency_(latency) {}

BandRepair::Side BandRepair::side(const Encoding& e) {
    ++evaluations_;
    const int64_t macs = countMacs(arch_, values_, e);
    const double ms = latency_ && hasLatencyBound(cfg_) ? latency_->predict(arch_, e) : 0.0;
    const bool over = (cfg_.maxMacs > 0 && macs > cfg_.maxMacs) || (cfg_.maxLatencyMs > 0 && ms > cfg_.maxLatencyMs);
    const bool under = macs < cfg_.minMacs || ms < cfg_.minLatencyMs;
    if (over && cfg_.maxMacs > 0 && macs > cfg_.maxMacs && (!closestAbove_ || macs < *closestAbove_))
        closestAbove_ = macs;
    if (under && macs < cfg_.minMacs && (!closestBelow_ || macs > *closestBelow_))
        closestBelow_ = macs;
    if (over && under)
        return Side::Both;
    return over ? Side::Over : under ? Side::Under : Side::Inside;
}

std::optional<Encoding> BandRepair::repair(Encoding e, std::mt19937_64& rng) {
    const int maxSteps = 8 * int(arch_.genes.size()) + 64;
    std::vector<size_t> genes(arch_.genes.size());
    std::iota(genes.begin(), genes.end(), size_t(0));
    Side s = side(e);
    for (int step = 0; step < maxSteps; ++step) {
        if (s == Side::Inside)
            return e;
        if (s == Side::Both) // over one bound and under another: no single direction fixes it
            return std::nullopt;
        const bool down = s == Side::Over;
        std::shuffle(genes.begin(), genes.end(), rng);
        // A random step first; only when it would jump across the band are all single steps
        // tried, so that narrow bands are landed in rather than stepped over.
        std::optional<Encoding> crossing;
        bool moved = false;
        for (size_t k = 0; k < genes.size() && !moved; ++k) {
            Encoding next = e;
            if (!stepGene(arch_, next, genes[k], down))
                continue;
            const Side ns = side(next);
            if (ns == Side::Inside)
                return next;
            if (ns == s) {
                e = next;
                moved = true;
            } else if (!crossing) {
                crossing = next;
            }
        }
        if (!moved) {
            if (!crossing)
                return std::nullopt; // every gene is at the end of the grid
            e = *crossing;
        }
        s = side(e);
    }
    return std::nullopt;
}

std::string BandRepair::describeBand() const {
    std::string band = "MACs in [" + std::to_string(cfg_.minMacs) + ", " +
                       (cfg_.maxMacs > 0 ? std::to_string(cfg_.maxMacs) : std::string("inf")) + "]";
    if (hasLatencyBound(cfg_))
        band += " and predicted latency in [" + std::to_string(cfg_.minLatencyMs) + ", " +
                (cfg_.maxLatencyMs > 0 ? std::to_string(cfg_.maxLatencyMs) : std::string("inf")) + "] ms";
    std::string near;
    if (closestBelow_)
        near += "the closest reached below has " + std::to_string(*closestBelow_) + " MACs";
    if (closestAbove_)
        near += std::string(near.empty() ? "" : ", ") + "the closest reached above has " +
                std::to_string(*closestAbove_) + " MACs";
    return band + (near.empty() ? "" : " (" + near + ")");
}

void checkSearchConfig(const ArchSpec& arch, const SearchConfig& cfg, const LatencyTable* latency) {
    if (cfg.population < 1 || cfg.generations < 1)
        throw ConfigError("population and generations must be at least 1");
    if (cfg.parents < 1 || cfg.parents > cfg.population)
        throw ConfigError("parents must be between 1 and the population (" + std::to_string(cfg.population) + ")");
    if (cfg.mutations < 0 || cfg.crossovers < 0 || cfg.mutations + cfg.crossovers > cfg.population)
        throw ConfigError("mutations + crossovers (" + std::to_string(cfg.mutations + cfg.crossovers) +
                          ") must not exceed the population (" + std::to_string(cfg.population) + ")");
    if (cfg.crossovers > 0 && cfg.parents < 2)
        throw ConfigError("crossover needs at least 2 parents");
    if (cfg.mutationProb < 0 || cfg.mutationProb > 1)
        throw ConfigError("mutation probability must be within 0..1");
    if (cfg.maxMacs < 0 || cfg.minMacs < 0)
        throw ConfigError("MACs bounds must not be negative");
    if (cfg.maxMacs > 0 && cfg.minMacs > cfg.maxMacs)
        throw ConfigError("MACs band is empty: min " + formatMacs(cfg.minMacs) + " > max " + formatMacs(cfg.maxMacs));
    const int64_t smallest = countMacs(arch, uniformEncoding(arch, 0));
    const int64_t largest = countMacs(arch, uniformEncoding(arch, grid::kSize - 1));
    // Exact counts: rounded figures can make the two numbers look equal.
    if (cfg.maxMacs > 0 && cfg.maxMacs < smallest)
        throw ConfigError("impossible constraint: max " + std::to_string(cfg.maxMacs) + " MACs, but the smallest " +
                          arch.family + "/" + arch.preset + " network has " + std::to_string(smallest));
    if (cfg.minMacs > largest)
        throw ConfigError("impossible constraint: min " + std::to_string(cfg.minMacs) + " MACs, but the full " +
                          arch.family + "/" + arch.preset + " network has only " + std::to_string(largest));
    if (!std::isfinite(cfg.maxLatencyMs) || !std::isfinite(cfg.minLatencyMs) || cfg.maxLatencyMs < 0 ||
        cfg.minLatencyMs < 0)
        throw ConfigError("latency bounds must be non-negative numbers of milliseconds");
    if (hasLatencyBound(cfg)) {
        if (!latency)
            throw ConfigError("a latency constraint needs a latency table measured on this machine "
                              "(metaprune latency)");
        if (cfg.maxLatencyMs > 0 && cfg.minLatencyMs > cfg.maxLatencyMs)
            throw ConfigError("latency band is empty: min " + std::to_string(cfg.minLatencyMs) + " ms > max " +
                              std::to_string(cfg.maxLatencyMs) + " ms");
        // Latency grows with every width, so the extremes are the all-min and all-max networks.
        const double fastest = latency->predict(arch, uniformEncoding(arch, 0));
        const double slowest = latency->predict(arch, uniformEncoding(arch, grid::kSize - 1));
        if (cfg.maxLatencyMs > 0 && cfg.maxLatencyMs < fastest)
            throw ConfigError("impossible constraint: max " + std::to_string(cfg.maxLatencyMs) +
                              " ms, but the fastest network is predicted at " + std::to_string(fastest) + " ms");
        if (cfg.minLatencyMs > slowest)
            throw ConfigError("impossible constraint: min " + std::to_string(cfg.minLatencyMs) +
                              " ms, but the full network is predicted at " + std::to_string(slowest) + " ms");
    }
    // A band between two achievable values holds no encoding at all: decide that now, with a
    // bounded number of repaired random encodings, rather than sample forever.
    BandRepair repair(arch, cfg, latency);
    std::mt19937_64 rng(cfg.seed ^ 0x5EA5C4ull);
    for (int attempt = 0; attempt < kFeasibilityAttempts; ++attempt)
        if (repair.repair(randomEncoding(arch, rng), rng))
            return;
    throw ConfigError("no encoding of " + arch.family + "/" + arch.preset + " was found with " + repair.describeBand() +
                      " after " + std::to_string(kFeasibilityAttempts) +
                      " repaired random encodings: the band lies between achievable values; widen it");
}

RunRecord searchRunRecord(const Evaluator& evaluator, const SearchConfig& cfg, int64_t trainingId) {
    const CheckpointInfo& info = evaluator.checkpoint();
    RunRecord r;
    r.kind = "search";
    r.config = toJson(cfg);
    r.dataset = info.config.dataPath + " (" + info.config.dataFormat + ")";
    r.seed = cfg.seed;
    r.arch = info.config.family + "/" + info.config.preset;
    r.trainingId = trainingId;
    r.checkpoint = info.path;
    r.checkpointSha256 = info.sha256;
    return r;
}

namespace {

// Better score first (top-1: higher top-1, ties by lower loss; loss: lower loss, ties by higher
// top-1); then the cheaper network (so the best is on the Pareto front).
bool better(const CandidateRecord& a, const CandidateRecord& b, SearchScore score) {
    if (score == SearchScore::Loss && a.loss != b.loss)
        return a.loss < b.loss;
    if (a.top1 != b.top1)
        return a.top1 > b.top1;
    if (a.loss != b.loss)
        return a.loss < b.loss;
    if (a.macs != b.macs)
        return a.macs < b.macs;
    return a.genes < b.genes; // deterministic order for a deterministic replay
}

class Search {
public:
    Search(const ArchSpec& arch, const EvaluateFn& evaluate, Store& store, int64_t runId, const SearchConfig& cfg,
           const SearchCallbacks& cb, const std::atomic<bool>* cancel, const LatencyTable* latency,
           const BatchEvaluateFn* batch)
        : arch_(arch), values_(analyzeArchitecture(arch)), evaluate_(evaluate), store_(store), runId_(runId),
          cfg_(cfg), cb_(cb), cancel_(cancel), latency_(latency), batch_(batch), rng_(cfg.seed) {}

    SearchOutcome run() {
        const auto start = std::chrono::steady_clock::now();
        out_.runId = runId_;
        std::vector<Encoding> uniform;
        if (cfg_.uniformBaselines) {
            std::set<Encoding> u;
            for (int i = 0; i < grid::kSize; ++i)
                if (u.insert(canonicalEncoding(arch_, uniformEncoding(arch_, i))).second)
                    uniform.push_back(canonicalEncoding(arch_, uniformEncoding(arch_, i)));
        }
        total_ = int64_t(uniform.size()) + int64_t(cfg_.population) * cfg_.generations;
        report();
        prepare(uniform);
        for (const Encoding& e : uniform)
            if (!settle(e, "uniform", -1))
                return finish(start, false);

        std::vector<std::pair<Encoding, std::string>> next;
        for (const Encoding& e : randomFill(cfg_.population, {}))
            next.emplace_back(e, "random");
        if (cancelled())
            return finish(start, false);
        std::vector<CandidateRecord> pool;
        for (int gen = 0; gen < cfg_.generations; ++gen) {
            std::vector<Encoding> encodings;
            for (const auto& candidate : next)
                encodings.push_back(candidate.first);
            prepare(encodings);
            for (const auto& [enc, origin] : next) {
                std::optional<CandidateRecord> c = settle(enc, origin, gen);
                if (!c)
                    return finish(start, false);
                if (c->damage.empty())
                    pool.push_back(*c);
            }
            // Unfilled slots (constraint space exhausted) still count as done.
            done_ += cfg_.population - int64_t(next.size());
            report();
            std::sort(pool.begin(), pool.end(),
                      [&](const CandidateRecord& a, const CandidateRecord& b) { return better(a, b, cfg_.score); });
            if (int(pool.size()) > cfg_.population)
                pool.resize(size_t(cfg_.population));
            if (cb_.generationEnd)
                cb_.generationEnd(gen, pool);
            if (gen + 1 == cfg_.generations)
                break;
            const std::vector<CandidateRecord> parents(pool.begin(),
                                                       pool.begin() + std::min<int64_t>(cfg_.parents, int64_t(pool.size())));
            next.clear();
            std::set<Encoding> pending;
            for (const Encoding& e : mutate(parents, pending))
                next.emplace_back(e, "mutation");
            for (const Encoding& e : crossover(parents, pending))
                next.emplace_back(e, "crossover");
            for (const Encoding& e : randomFill(cfg_.population - int(next.size()), pending))
                next.emplace_back(e, "random");
            if (cancelled())
                return finish(start, false);
            if (next.empty()) {
                // Every operator failed within its bounds: the constraint holds no untested
                // encoding they can reach. End here rather than spin.
                out_.exhausted = true;
                out_.endedAfterGeneration = gen + 1;
                done_ = total_;
                report();
                return finish(start, true);
            }
        }
        return finish(start, true);
    }

private:
    SearchOutcome finish(std::chrono::steady_clock::time_point start, bool finished) {
        out_.finished = finished;
        out_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return out_;
    }

    void report() {
        if (cb_.progress)
            cb_.progress(std::min(done_, total_), total_);
    }

    // Evaluates (or takes from the store) one candidate. Returns nullopt when cancelled.
    std::optional<CandidateRecord> settle(const Encoding& enc, const std::string& origin, int generation) {
        tested_.insert(enc);
        std::optional<CandidateRecord> c = store_.findCandidate(runId_, enc);
        const bool cached = bool(c);
        if (cached) {
            ++out_.cached;
            c->damage = candidateDamage(arch_, *c); // a damaged row is settled, never bred from or best
        } else {
            EvalResult r;
            if (const auto it = ready_.find(enc); it != ready_.end()) {
                r = it->second; // evaluated by prepare(): stored even when cancelled since
                ready_.erase(it);
            } else {
                if (cancelled())
                    return std::nullopt;
                try {
                    r = evaluate_(enc, cancel_);
                } catch (const Cancelled&) {
                    return std::nullopt;
                }
            }
            CandidateRecord rec;
            rec.runId = runId_;
            rec.genes = enc;
            rec.channels = geneChannels(arch_, enc);
            rec.macs = countMacs(arch_, values_, enc);
            rec.params = countParams(arch_, values_, enc);
            rec.latencyMs = latencyOf(enc);
            rec.top1 = r.top1;
            rec.loss = r.loss;
            rec.origin = origin;
            rec.generation = generation;
            rec.evalMs = r.milliseconds;
            try {
                c = store_.addCandidate(rec);
            } catch (const StoreError&) {
                // Another writer stored this encoding meanwhile: its row is as good as ours.
                c = store_.findCandidate(runId_, enc);
                if (!c)
                    throw;
            }
            ++out_.evaluated;
        }
        if (c->damage.empty() && c->origin != "uniform" && meetsConstraint(cfg_, c->macs, latencyOf(c->genes)) &&
            (!out_.best || better(*c, *out_.best, cfg_.score)))
            out_.best = *c;
        ++done_;
        if (cb_.candidate)
            cb_.candidate(*c, cached);
        report();
        return c;
    }

    double latencyOf(const Encoding& e) const { return latency_ ? latency_->predict(arch_, e) : 0.0; }

    bool meets(const Encoding& e) const { return meetsConstraint(cfg_, countMacs(arch_, values_, e), latencyOf(e)); }

    // A new canonical encoding that meets the constraint and was not tested or queued.
    bool acceptable(const Encoding& canonical, const std::set<Encoding>& pending) const {
        return !tested_.count(canonical) && !pending.count(canonical) && meets(canonical);
    }

    bool cancelled() const { return stopRequested_ || (cancel_ && cancel_->load()); }

    // With a batch evaluator: evaluates the candidates of `encodings` the store does not hold,
    // all at once, for settle() to store in order.
    void prepare(const std::vector<Encoding>& encodings) {
        if (!batch_ || cancelled())
            return;
        std::vector<Encoding> todo;
        for (const Encoding& e : encodings)
            if (!ready_.count(e) && !store_.findCandidate(runId_, e))
                todo.push_back(e);
        if (todo.empty())
            return;
        const BatchEvaluation done = (*batch_)(todo, cancel_);
        for (size_t i = 0; i < todo.size() && i < done.results.size(); ++i)
            ready_[todo[i]] = done.results[i];
        stopRequested_ = stopRequested_ || done.stop;
    }

    // Mutation and crossover reject children outside the constraint, as the reference does,
    // with a bounded number of attempts.
    std::vector<Encoding> mutate(const std::vector<CandidateRecord>& parents, std::set<Encoding>& pending) {
        std::vector<Encoding> res;
        if (parents.empty())
            return res;
        std::uniform_int_distribution<size_t> pick(0, parents.size() - 1);
        std::uniform_real_distribution<double> coin(0.0, 1.0);
        std::uniform_int_distribution<int> shift(1, grid::kSize - 1);
        for (int attempt = 0; int(res.size()) < cfg_.mutations && attempt < 10 * cfg_.mutations && !cancelled();
             ++attempt) {
            Encoding e = parents[pick(rng_)].genes;
            for (int& g : e)
                if (coin(rng_) < cfg_.mutationProb)
                    g = (g + shift(rng_)) % grid::kSize; // always a different scale index
            e = canonicalEncoding(arch_, e);
            if (acceptable(e, pending)) {
                pending.insert(e);
                res.push_back(e);
            }
        }
        return res;
    }

    std::vector<Encoding> crossover(const std::vector<CandidateRecord>& parents, std::set<Encoding>& pending) {
        std::vector<Encoding> res;
        if (parents.size() < 2)
            return res;
        std::uniform_int_distribution<size_t> pick(0, parents.size() - 1);
        std::bernoulli_distribution coin(0.5);
        for (int attempt = 0; int(res.size()) < cfg_.crossovers && attempt < 10 * cfg_.crossovers && !cancelled();
             ++attempt) {
            const size_t a = pick(rng_);
            size_t b = pick(rng_);
            while (b == a)
                b = pick(rng_);
            Encoding e = parents[a].genes;
            for (size_t g = 0; g < e.size(); ++g)
                if (coin(rng_))
                    e[g] = parents[b].genes[g];
            e = canonicalEncoding(arch_, e);
            if (acceptable(e, pending)) {
                pending.insert(e);
                res.push_back(e);
            }
        }
        return res;
    }

    // Random encodings under the constraint: rejection sampling first (uniform over the band,
    // as the reference), then random encodings repaired into the band, which sparse bands need.
    // Both phases are bounded, by attempts and by cost evaluations, so a band holding few
    // encodings ends the fill instead of sampling forever.
    std::vector<Encoding> randomFill(int count, std::set<Encoding> pending) {
        std::vector<Encoding> res;
        const int wanted = std::max(1, count);
        for (int attempt = 0; int(res.size()) < count && attempt < kRejectionAttemptsPerSlot * wanted && !cancelled();
             ++attempt) {
            const Encoding e = canonicalEncoding(arch_, randomEncoding(arch_, rng_));
            if (acceptable(e, pending)) {
                pending.insert(e);
                res.push_back(e);
            }
        }
        BandRepair repair(arch_, cfg_, latency_);
        int misses = 0; // repairs in a row that found nothing new
        for (int attempt = 0; int(res.size()) < count && attempt < kRepairAttemptsPerSlot * wanted &&
                              misses < kRepairMisses && repair.evaluations() < kRepairEvaluations && !cancelled();
             ++attempt) {
            const std::optional<Encoding> e = repair.repair(randomEncoding(arch_, rng_), rng_);
            const Encoding c = e ? canonicalEncoding(arch_, *e) : Encoding{};
            if (e && acceptable(c, pending)) {
                pending.insert(c);
                res.push_back(c);
                misses = 0;
            } else {
                ++misses;
            }
        }
        return res;
    }

    const ArchSpec& arch_;
    const std::vector<ValueShape> values_; // analyzeArchitecture(arch_), once
    const EvaluateFn& evaluate_;
    Store& store_;
    int64_t runId_;
    SearchConfig cfg_;
    const SearchCallbacks& cb_;
    const std::atomic<bool>* cancel_;
    const LatencyTable* latency_;
    const BatchEvaluateFn* batch_;
    std::map<Encoding, EvalResult> ready_; // evaluated by prepare(), not stored yet
    bool stopRequested_ = false;           // the batch evaluator saw a cancel
    std::mt19937_64 rng_;
    std::set<Encoding> tested_; // this replay's tested encodings (not the store's: keeps resume exact)
    SearchOutcome out_;
    int64_t done_ = 0;
    int64_t total_ = 0;
};

} // namespace

SearchOutcome runSearch(const ArchSpec& arch, const EvaluateFn& evaluate, Store& store, int64_t runId,
                        const SearchConfig& cfg, const SearchCallbacks& callbacks, const std::atomic<bool>* cancel,
                        const LatencyTable* latency, const BatchEvaluateFn* batch) {
    checkSearchConfig(arch, cfg, latency);
    // A finished run is replayed from its stored rows: it keeps its status and finishing time
    // (whatever stops the replay, its stored result is complete).
    const std::optional<RunRecord> stored = store.run(runId);
    const bool replay = stored && stored->status == "finished";
    if (!replay)
        store.setRunStatus(runId, "running");
    Search search(arch, evaluate, store, runId, cfg, callbacks, cancel, latency, batch);
    SearchOutcome out;
    try {
        out = search.run();
    } catch (...) {
        if (!replay)
            store.setRunStatus(runId, "failed");
        throw;
    }
    if (!replay)
        store.setRunStatus(runId, out.finished ? "finished" : "cancelled");
    return out;
}

} // namespace mp
