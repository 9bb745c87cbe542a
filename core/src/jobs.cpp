#include "metaprune/jobs.h"

#include "metaprune/compare.h"
#include "metaprune/errors.h"
#include "metaprune/project.h"

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

namespace mp {

namespace {

const char* kindName(StudyUnit::Kind k) {
    switch (k) {
    case StudyUnit::Kind::Train: return "train";
    case StudyUnit::Kind::Search: return "search";
    case StudyUnit::Kind::Retrain: return "retrain";
    }
    return "?";
}

QJsonObject objectOf(const std::string& json) {
    return QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
}

std::string textOf(const QJsonObject& o) {
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

} // namespace

std::string StudyUnit::label() const {
    switch (kind) {
    case Kind::Train: return "train PruningNet (seed " + std::to_string(train.seed) + ")";
    case Kind::Search: {
        char bound[64];
        std::snprintf(bound, sizeof bound, "%.2fM MACs", double(search.maxMacs) / 1e6);
        return "search under " + std::string(bound) + " (search seed " + std::to_string(search.seed) + ")";
    }
    case Kind::Retrain:
        return "retrain candidate " + std::to_string(candidateId) + " (seed " + std::to_string(recipe.seed) + ")";
    }
    return {};
}

std::string StudyUnit::key() const {
    std::string k = std::string(kindName(kind)) + "|" + checkpoint + "|";
    switch (kind) {
    case Kind::Train: return k + toJson(train);
    case Kind::Search: return k + std::to_string(trainingId) + "|" + toJson(search);
    case Kind::Retrain:
        return k + std::to_string(candidateId) + "|" + toJson(recipe) + "|" + std::to_string(recipe.seed);
    }
    return k;
}

std::string toJson(const StudyUnit& u) {
    QJsonObject o{{"kind", kindName(u.kind)},
                  {"db", QString::fromStdString(u.db)},
                  {"checkpoint", QString::fromStdString(u.checkpoint)},
                  {"training_id", qint64(u.trainingId)},
                  {"eval", objectOf(toJson(u.eval))}};
    switch (u.kind) {
    case StudyUnit::Kind::Train: o["train"] = objectOf(toJson(u.train)); break;
    case StudyUnit::Kind::Search:
        o["search"] = objectOf(toJson(u.search));
        o["allow_unlearned"] = u.allowUnlearned;
        break;
    case StudyUnit::Kind::Retrain:
        o["candidate"] = qint64(u.candidateId);
        o["recipe"] = objectOf(toJson(u.recipe));
        o["seed"] = QString::number(u.recipe.seed); // 64-bit seeds do not fit a JSON double
        o["purpose"] = QString::fromStdString(u.purpose);
        break;
    }
    return textOf(o);
}

StudyUnit studyUnitFromJson(const std::string& json) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &error);
    if (!doc.isObject())
        throw std::invalid_argument("a study unit must be a JSON object: " + error.errorString().toStdString());
    const QJsonObject o = doc.object();
    StudyUnit u;
    const QString kind = o["kind"].toString();
    if (kind == "train")
        u.kind = StudyUnit::Kind::Train;
    else if (kind == "search")
        u.kind = StudyUnit::Kind::Search;
    else if (kind == "retrain")
        u.kind = StudyUnit::Kind::Retrain;
    else
        throw std::invalid_argument("unknown study unit kind '" + kind.toStdString() + "'");
    u.db = o["db"].toString().toStdString();
    u.checkpoint = o["checkpoint"].toString().toStdString();
    if (u.db.empty() || u.checkpoint.empty())
        throw std::invalid_argument("a study unit needs its project (db) and checkpoint");
    u.trainingId = o["training_id"].toInteger();
    u.eval = evalSettingsFromJson(textOf(o["eval"].toObject()));
    switch (u.kind) {
    case StudyUnit::Kind::Train: u.train = trainConfigFromJson(textOf(o["train"].toObject())); break;
    case StudyUnit::Kind::Search:
        u.search = searchConfigFromJson(textOf(o["search"].toObject()));
        u.allowUnlearned = o["allow_unlearned"].toBool();
        break;
    case StudyUnit::Kind::Retrain: {
        bool ok = false;
        const uint64_t seed = o["seed"].toString().toULongLong(&ok);
        if (!ok)
            throw std::invalid_argument("a retraining unit needs its seed");
        u.candidateId = o["candidate"].toInteger();
        u.recipe = retrainConfigFromJson(textOf(o["recipe"].toObject()), seed);
        u.purpose = o["purpose"].toString().toStdString();
        break;
    }
    }
    return u;
}

void runStudyUnit(const StudyUnit& u, const DataBundle& data, const JobProgressFn& progress,
                  const std::atomic<bool>* cancel) {
    const std::string stage = u.label();
    switch (u.kind) {
    case StudyUnit::Kind::Train: {
        TrainCallbacks cb;
        cb.progress = [&](const TrainProgress& p) {
            if (progress)
                progress({stage, p.step, p.totalSteps, p.loss});
        };
        if (!trainInProject(u.db, data, u.train, u.checkpoint, cb, cancel).outcome.finished)
            throw Cancelled();
        return;
    }
    case StudyUnit::Kind::Search: {
        const Evaluator ev(u.checkpoint, data, u.search.eval);
        SearchCallbacks cb;
        cb.progress = [&](int64_t done, int64_t total) {
            if (progress)
                progress({stage, done, total, 0});
        };
        if (!searchInProject(u.db, ev, u.search, u.trainingId, cb, cancel, nullptr, u.allowUnlearned).outcome.finished)
            throw Cancelled();
        return;
    }
    case StudyUnit::Kind::Retrain: {
        const Evaluator ev(u.checkpoint, data, u.eval);
        retrainCandidate(u.db, ev, data, u.candidateId, u.recipe, u.purpose, progress, cancel);
        return;
    }
    }
}

int threadsPerJob(int jobs) {
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    return std::max(1, cores / std::max(1, jobs));
}

StudyPool processPool(const std::string& program, int jobs, int threadsPerJob, const std::vector<std::string>& dataArgs) {
    if (jobs < 1)
        throw std::invalid_argument("--jobs must be at least 1");
    return [=](const std::vector<StudyUnit>& all, const JobProgressFn& progress, const std::atomic<bool>* cancel) {
        std::vector<StudyUnit> units;
        std::set<std::string> seen;
        for (const StudyUnit& u : all)
            if (seen.insert(u.key()).second)
                units.push_back(u);
        if (units.empty())
            return;
        // A worker loads the data once and then does one unit per line it reads (studyUnitWorker).
        struct Worker {
            std::unique_ptr<QProcess> process;
            std::string label; ///< of the unit it is doing; empty when idle
            QByteArray errors; ///< the tail of its stderr (read as it comes: a full pipe would block it)
        };
        std::vector<Worker> workers;
        size_t next = 0;
        int64_t finished = 0;
        std::string failure;
        bool configFailure = false; // the unit's settings cannot run: ConfigError, as in one process
        const int64_t total = int64_t(units.size());
        const std::string stage = std::to_string(total) + " " + kindName(units.front().kind) +
                                  (total == 1 ? " unit" : " units") + " on " +
                                  std::to_string(std::min<int64_t>(jobs, total)) +
                                  (std::min<int64_t>(jobs, total) == 1 ? " process" : " processes");
        const auto report = [&]() {
            if (progress)
                progress({stage, finished, total, 0});
        };
        const auto stopAll = [&]() {
            for (Worker& w : workers)
                if (w.process->state() != QProcess::NotRunning)
                    w.process->terminate();
            for (Worker& w : workers)
                if (w.process->state() != QProcess::NotRunning && !w.process->waitForFinished(10000)) {
                    w.process->kill();
                    w.process->waitForFinished(5000);
                }
        };
        const auto lastLine = [](const QByteArray& text) {
            const QList<QByteArray> lines = text.trimmed().split('\n');
            return lines.isEmpty() ? std::string() : lines.last().trimmed().toStdString();
        };
        try {
            for (int i = 0; i < std::min<int64_t>(jobs, total); ++i) {
                QStringList args{"study-unit", "--worker", "--threads", QString::number(threadsPerJob)};
                for (const std::string& a : dataArgs)
                    args << QString::fromStdString(a);
                Worker w;
                w.process = std::make_unique<QProcess>();
                w.process->start(QString::fromStdString(program), args);
                if (!w.process->waitForStarted(30000))
                    throw std::runtime_error("could not start " + program + " study-unit: " +
                                             w.process->errorString().toStdString());
                workers.push_back(std::move(w));
            }
            report();
            for (;;) {
                if (cancel && cancel->load())
                    throw Cancelled();
                bool busy = false;
                for (Worker& w : workers) {
                    if (w.label.empty() && failure.empty() && next < units.size() &&
                        w.process->state() == QProcess::Running) {
                        w.process->write(QByteArray::fromStdString(toJson(units[next]) + "\n"));
                        w.label = units[next++].label();
                    }
                    busy = busy || !w.label.empty();
                }
                if (!busy)
                    break;
                for (Worker& w : workers) {
                    if (w.label.empty())
                        continue;
                    w.process->waitForReadyRead(int(200 / workers.size()) + 1);
                    w.errors += w.process->readAllStandardError();
                    if (w.errors.size() > 4096)
                        w.errors = w.errors.right(4096);
                    while (w.process->canReadLine()) {
                        const QByteArray line = w.process->readLine().trimmed();
                        if (line == "unit-ok") {
                            ++finished;
                            w.label.clear();
                            report();
                        } else if (line.startsWith("unit-error: ") || line.startsWith("unit-config-error: ")) {
                            if (failure.empty()) {
                                configFailure = line.startsWith("unit-config-error: ");
                                failure = w.label + " failed: " + line.mid(line.indexOf(": ") + 2).toStdString();
                            }
                            w.label.clear();
                        }
                    }
                    if (!w.label.empty() && w.process->state() == QProcess::NotRunning) {
                        w.errors += w.process->readAllStandardError();
                        if (failure.empty()) {
                            const std::string last = lastLine(w.errors);
                            failure = w.label + " failed (" +
                                      (w.process->exitStatus() == QProcess::NormalExit
                                           ? "exit code " + std::to_string(w.process->exitCode())
                                           : std::string("crashed")) +
                                      ")" + (last.empty() ? std::string() : ": " + last);
                        }
                        w.label.clear();
                    }
                }
            }
            for (Worker& w : workers) // end of input: each worker exits
                w.process->closeWriteChannel();
            for (Worker& w : workers)
                if (!w.process->waitForFinished(30000))
                    w.process->kill();
        } catch (...) {
            stopAll();
            throw;
        }
        if (!failure.empty()) {
            const std::string message = failure + "; the " + std::to_string(finished) + " of " +
                                        std::to_string(total) + " units that finished are stored";
            if (configFailure)
                throw ConfigError(message);
            throw std::runtime_error(message);
        }
    };
}

} // namespace mp
