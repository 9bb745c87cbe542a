// metaprune pareto: the Pareto front (or every candidate) of a project's runs.
#include "cli.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <numeric>

namespace mpcli {

using namespace mp;

void declarePareto(Parser& p) {
    addCommon(p, "metaprune.sqlite");
    p.addOption({"run", "Search run id (default: every search run of the project).", "id"});
    p.addOption({"all", "List every stored candidate, not only the Pareto front."});
    p.addOption({"format", "Output format: table, csv or json.", "name", "table"});
}

namespace {
QJsonArray intsJson(const std::vector<int>& v) {
    QJsonArray a;
    for (int x : v)
        a.append(x);
    return a;
}
} // namespace

int runPareto(const Parser& p) {
    const std::string db = p.value("db").toStdString();
    if (!QFileInfo::exists(p.value("db"))) throw std::runtime_error("project " + db + " does not exist");
    const QString format = p.value("format");
    if (format != "table" && format != "csv" && format != "json")
        throw UsageError("--format must be table, csv or json");
    const Store store(db, StoreMode::ReadOnly); // listing never writes to the project
    std::vector<RunRecord> runs;
    if (p.isSet("run")) {
        const auto r = store.run(intValue(p, "run", 1, 1 << 30));
        if (!r) throw UsageError("project " + db + " has no run " + p.value("run").toStdString());
        runs.push_back(*r);
    } else {
        runs = store.runs();
    }
    if (runs.empty() && format == "table")
        std::printf("Project %s has no search runs yet (metaprune search --db %s).\n", db.c_str(),
                    db.c_str());
    QJsonArray json;
    if (format == "csv")
        std::printf("run,id,macs,params,top1,loss,origin,generation,on_front,genes,channels,"
                    "latency_ms,damage\n");
    for (const RunRecord& run : runs) {
        const std::vector<CandidateRecord> all = store.candidates(run.id);
        const SearchConfig cfg = searchConfigFromJson(run.config);
        std::vector<ParetoPoint> pts;
        std::vector<size_t> searchedIdx;
        std::vector<const CandidateRecord*> damaged;
        for (size_t i = 0; i < all.size(); ++i) {
            if (!all[i].damage.empty())
                damaged.push_back(&all[i]);
            else if (all[i].origin != "uniform" &&
                     meetsConstraint(cfg, all[i].macs, all[i].latencyMs)) {
                pts.push_back({all[i].macs, all[i].top1});
                searchedIdx.push_back(i);
            }
        }
        // Damaged rows are named on stderr, so that stdout stays a clean table, CSV or JSON.
        if (!damaged.empty()) {
            std::fprintf(stderr,
                         "metaprune pareto: run %lld: %zu damaged row%s kept off the front:\n",
                         static_cast<long long>(run.id), damaged.size(),
                         damaged.size() == 1 ? "" : "s");
            for (const CandidateRecord* c : damaged)
                std::fprintf(stderr, "  candidate %lld: %s\n", static_cast<long long>(c->id),
                             c->damage.c_str());
        }
        std::vector<bool> onFront(all.size(), false);
        std::vector<size_t> order; // the front by increasing MACs, or every candidate by id
        for (size_t f : paretoFront(pts)) {
            onFront[searchedIdx[f]] = true;
            order.push_back(searchedIdx[f]);
        }
        if (p.isSet("all")) {
            order.resize(all.size());
            std::iota(order.begin(), order.end(), size_t(0));
        }
        if (format == "table")
            std::printf("Run %lld (%s, %s, status %s, %lld candidates, MACs in [%s, %s])\n",
                        static_cast<long long>(run.id), run.arch.c_str(), run.created.c_str(),
                        run.status.c_str(), static_cast<long long>(all.size()),
                        formatMacs(cfg.minMacs).c_str(),
                        cfg.maxMacs > 0 ? formatMacs(cfg.maxMacs).c_str() : "inf");
        if (format == "table")
            std::printf("  %6s %8s %9s %7s %7s  %-9s %4s %5s  %s\n", "id", "MACs", "params",
                        "top-1", "loss", "origin", "gen", "front", "encoding");
        if (format == "table" && order.empty())
            std::printf("  %s\n", noSearchedCandidatesText(all, &cfg).c_str());
        for (size_t i : order) {
            const CandidateRecord& c = all[i];
            const bool bad = !c.damage.empty();
            if (format == "table" && bad)
                std::printf("  %6lld  damaged: %s\n", static_cast<long long>(c.id),
                            c.damage.c_str());
            else if (format == "table")
                std::printf("  %6lld %8s %9lld %6.2f%% %7.4f  %-9s %4d %5s  %s\n",
                            static_cast<long long>(c.id), formatMacs(c.macs).c_str(),
                            static_cast<long long>(c.params), c.top1, c.loss, c.origin.c_str(),
                            c.generation, onFront[i] ? "*" : "", genesText(c.genes).c_str());
            else if (format == "csv" && bad)
                std::printf("%lld,%lld,,,,,%s,%d,0,,,,\"%s\"\n", static_cast<long long>(run.id),
                            static_cast<long long>(c.id), c.origin.c_str(), c.generation,
                            QString::fromStdString(c.damage).replace('"', "'").toUtf8().constData());
            else if (format == "csv")
                std::printf("%lld,%lld,%lld,%lld,%.4f,%.6f,%s,%d,%d,\"%s\",\"%s\",%.4f,\n",
                            static_cast<long long>(run.id), static_cast<long long>(c.id),
                            static_cast<long long>(c.macs), static_cast<long long>(c.params),
                            c.top1, c.loss, c.origin.c_str(), c.generation, onFront[i] ? 1 : 0,
                            genesText(c.genes).c_str(), channelsToString(c.channels).c_str(),
                            c.latencyMs);
            else {
                // A damaged row's numbers are null: JSON readers must not take them as results.
                QJsonObject o;
                o["run"] = qint64(run.id);
                o["id"] = qint64(c.id);
                o["origin"] = QString::fromStdString(c.origin);
                o["generation"] = c.generation;
                o["on_front"] = bool(onFront[i]);
                o["macs"] = bad ? QJsonValue() : QJsonValue(qint64(c.macs));
                o["params"] = bad ? QJsonValue() : QJsonValue(qint64(c.params));
                o["top1"] = bad ? QJsonValue() : QJsonValue(c.top1);
                o["loss"] = bad ? QJsonValue() : QJsonValue(c.loss);
                o["latency_ms"] = bad ? QJsonValue() : QJsonValue(c.latencyMs);
                o["genes"] = bad ? QJsonValue() : QJsonValue(intsJson(c.genes));
                o["channels"] = bad ? QJsonValue() : QJsonValue(intsJson(c.channels));
                if (bad)
                    o["damage"] = QString::fromStdString(c.damage);
                json.append(o);
            }
        }
    }
    if (format == "json")
        std::printf("%s\n", QJsonDocument(json).toJson(QJsonDocument::Indented).constData());
    return 0;
}

} // namespace mpcli
