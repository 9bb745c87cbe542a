#include "metaprune/store.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QUuid>
#include <QVariant>

#include <cmath>
#include <iterator>
#include <limits>

namespace mp {

namespace {

constexpr int kSchemaVersion = 4; // 2: candidates.latency_ms, latency_tables; 3: retrains;
                                  // 4: trainings.full_top1/chance_top1/full_images, runs.architecture
constexpr int kApplicationId = 0x4D505331; // "MPS1": marks a MetaPrune Studio project file

const char* const kSchema[] = {
    R"(CREATE TABLE IF NOT EXISTS trainings(
        id INTEGER PRIMARY KEY,
        created TEXT NOT NULL,
        config TEXT NOT NULL,
        checkpoint TEXT NOT NULL,
        checkpoint_sha256 TEXT NOT NULL DEFAULT '',
        steps INTEGER NOT NULL DEFAULT 0,
        total_steps INTEGER NOT NULL,
        status TEXT NOT NULL CHECK(status IN ('running','finished','cancelled','failed')),
        seconds REAL NOT NULL DEFAULT 0,
        full_top1 REAL,
        chance_top1 REAL,
        full_images INTEGER))",
    R"(CREATE TABLE IF NOT EXISTS training_log(
        training_id INTEGER NOT NULL REFERENCES trainings(id),
        step INTEGER NOT NULL,
        epoch INTEGER NOT NULL,
        loss REAL NOT NULL,
        top1 REAL NOT NULL,
        lr REAL NOT NULL,
        seconds REAL NOT NULL,
        PRIMARY KEY(training_id, step)))",
    R"(CREATE TABLE IF NOT EXISTS runs(
        id INTEGER PRIMARY KEY,
        created TEXT NOT NULL,
        kind TEXT NOT NULL CHECK(kind IN ('search','probe')),
        config TEXT NOT NULL,
        dataset TEXT NOT NULL,
        seed TEXT NOT NULL,
        arch TEXT NOT NULL,
        training_id INTEGER,
        checkpoint TEXT NOT NULL,
        checkpoint_sha256 TEXT NOT NULL,
        status TEXT NOT NULL CHECK(status IN ('running','finished','cancelled','failed')),
        finished TEXT NOT NULL DEFAULT '',
        architecture TEXT NOT NULL DEFAULT ''))",
    R"(CREATE TABLE IF NOT EXISTS candidates(
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        genes TEXT NOT NULL,
        channels TEXT NOT NULL,
        macs INTEGER NOT NULL,
        params INTEGER NOT NULL,
        top1 REAL NOT NULL,
        loss REAL NOT NULL,
        origin TEXT NOT NULL CHECK(origin IN ('random','mutation','crossover','probe','uniform')),
        generation INTEGER NOT NULL,
        eval_ms REAL NOT NULL,
        created TEXT NOT NULL,
        latency_ms REAL NOT NULL DEFAULT 0,
        UNIQUE(run_id, genes)))",
    "CREATE INDEX IF NOT EXISTS candidates_by_run ON candidates(run_id, id)",
    "CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    R"(CREATE TABLE IF NOT EXISTS latency_tables(
        id INTEGER PRIMARY KEY,
        created TEXT NOT NULL,
        arch TEXT NOT NULL,
        machine TEXT NOT NULL,
        grid_step INTEGER NOT NULL,
        data TEXT NOT NULL))",
    R"(CREATE TABLE IF NOT EXISTS retrains(
        id INTEGER PRIMARY KEY,
        candidate_id INTEGER NOT NULL REFERENCES candidates(id),
        purpose TEXT NOT NULL CHECK(purpose IN ('user','compare','fidelity')),
        config TEXT NOT NULL,
        seed TEXT NOT NULL,
        test_top1 REAL NOT NULL,
        test_loss REAL NOT NULL,
        test_images INTEGER NOT NULL,
        curve TEXT NOT NULL,
        seconds REAL NOT NULL,
        created TEXT NOT NULL,
        UNIQUE(candidate_id, config, seed)))",
};

/// Columns added by later schemas: created by ALTER TABLE when missing; a read-only connection
/// to an older project reads them as NULL / their default.
struct AddedColumn {
    const char* table;
    const char* column;
    const char* definition;
};
const AddedColumn kAddedColumns[] = {
    {"candidates", "latency_ms", "REAL NOT NULL DEFAULT 0"}, // schema 2
    {"trainings", "full_top1", "REAL"},                      // schema 4
    {"trainings", "chance_top1", "REAL"},
    {"trainings", "full_images", "INTEGER"},
    {"runs", "architecture", "TEXT NOT NULL DEFAULT ''"},
};

QString now() { return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs); }

QString q(const std::string& s) { return QString::fromStdString(s); }

std::string join(const std::vector<int>& v) { return encodingToString(v); }

/// Comma-separated integers; nullopt when any part is not an integer.
std::optional<std::vector<int>> splitInts(const QString& s) {
    std::vector<int> out;
    if (s.isEmpty())
        return out;
    for (const QString& part : s.split(',')) {
        bool ok = false;
        out.push_back(part.trimmed().toInt(&ok));
        if (!ok)
            return std::nullopt;
    }
    return out;
}

/// Collects what is wrong with a stored row, in words, for CandidateRecord::damage.
class DamageNotes {
public:
    void add(const std::string& what) { text_ += (text_.empty() ? "" : "; ") + what; }
    /// A REAL column that must hold a finite number within [lo, hi]; NaN otherwise.
    double number(const QVariant& v, const char* name, double lo, double hi) {
        if (v.isNull()) {
            add(std::string(name) + " is NULL");
            return std::numeric_limits<double>::quiet_NaN();
        }
        bool ok = false;
        const double d = v.toDouble(&ok);
        if (!ok || !std::isfinite(d)) {
            add(std::string(name) + " is not a finite number ('" + v.toString().toStdString() + "')");
            return std::numeric_limits<double>::quiet_NaN();
        }
        if (d < lo || d > hi)
            add(std::string(name) + " " + v.toString().toStdString() + " is outside " + QString::number(lo).toStdString() +
                ".." + QString::number(hi).toStdString());
        return d;
    }
    /// An INTEGER column that must hold a positive count.
    int64_t count(const QVariant& v, const char* name) {
        bool ok = false;
        const qlonglong n = v.toLongLong(&ok);
        if (v.isNull() || !ok || n <= 0) {
            add(std::string(name) + " is not a positive count ('" + v.toString().toStdString() + "')");
            return 0;
        }
        return n;
    }
    std::vector<int> ints(const QVariant& v, const char* name) {
        const std::optional<std::vector<int>> parsed = splitInts(v.toString());
        if (v.isNull() || !parsed || parsed->empty()) {
            add(std::string(name) + " do not parse ('" + v.toString().left(60).toStdString() + "')");
            return {};
        }
        return *parsed;
    }
    const std::string& text() const { return text_; }

private:
    std::string text_;
};

} // namespace

std::string candidateDamage(const ArchSpec& arch, const CandidateRecord& c) {
    if (!c.damage.empty())
        return c.damage;
    if (c.genes.size() != arch.genes.size())
        return "genes: " + std::to_string(c.genes.size()) + " values for an architecture of " +
               std::to_string(arch.genes.size()) + " genes";
    for (int g : c.genes)
        if (g < 0 || g >= grid::kSize)
            return "genes: scale index " + std::to_string(g) + " outside 0.." + std::to_string(grid::kSize - 1);
    if (c.channels != geneChannels(arch, c.genes))
        return "channels " + channelsToString(c.channels) + " disagree with the encoding's " +
               channelsToString(geneChannels(arch, c.genes));
    // One pass over the layers for both counts: every row read back is checked, so this is on
    // the path of every front, plot and replay.
    int64_t macs = 0, params = 0;
    for (const LayerShape& s : layerShapes(arch, c.genes)) {
        macs += s.macs;
        params += s.params;
    }
    if (c.macs != macs)
        return "MACs " + std::to_string(c.macs) + " disagree with the encoding's " + std::to_string(macs);
    if (c.params != params)
        return "params " + std::to_string(c.params) + " disagree with the encoding's " + std::to_string(params);
    return {};
}

// "what failed: why", e.g. "Unable to fetch row: database disk image is malformed"; QSqlError::text()
// joins the two with a bare space.
static std::string sqlErrorText(const QSqlError& e) {
    const QString driver = e.driverText().trimmed(), db = e.databaseText().trimmed();
    if (driver.isEmpty() || db.isEmpty())
        return (driver + db).toStdString();
    return (driver + ": " + db).toStdString();
}

// A prepared query that throws StoreError naming the database on failure.
class Query {
public:
    Query(const QSqlDatabase& db, const std::string& path, const QString& sql) : q_(db), path_(path) {
        if (!q_.prepare(sql))
            fail("prepare");
    }
    Query& bind(const QVariant& v) {
        q_.addBindValue(v);
        return *this;
    }
    /// Runs the statement and hands the result over (QSqlQuery is movable since Qt 6.2).
    QSqlQuery exec() {
        if (!q_.exec())
            fail("execute");
        return std::move(q_);
    }

private:
    [[noreturn]] void fail(const char* what) {
        const QSqlError e = q_.lastError();
        const QString text = e.text();
        if (text.contains("locked") || text.contains("busy"))
            throw StoreError(path_ + ": database is locked by another process (" + sqlErrorText(e) + ")");
        if (text.contains("malformed") || text.contains("not a database"))
            throw StoreError(path_ + ": database file is damaged (" + sqlErrorText(e) + ")");
        throw StoreError(path_ + ": cannot " + what + " query: " + sqlErrorText(e));
    }
    QSqlQuery q_;
    std::string path_;
};

namespace {
QSqlDatabase database(const std::string& connection) {
    return QSqlDatabase::database(QString::fromStdString(connection), false);
}

Query query(const std::string& connection, const std::string& path, const char* sql) {
    return Query(database(connection), path, QString::fromUtf8(sql));
}

// Checkpoints inside the project's folder are stored relative to it, so a project folder can
// be moved; others keep their absolute path.
QString storedPath(const std::string& dir, const std::string& path) {
    const QString p = QFileInfo(q(path)).absoluteFilePath();
    const QString rel = QDir(q(dir)).relativeFilePath(p);
    return rel.startsWith("..") ? p : rel;
}

std::string resolvedPath(const std::string& dir, const QString& stored) {
    return QFileInfo(stored).isAbsolute() ? stored.toStdString()
                                          : QDir::cleanPath(q(dir) + "/" + stored).toStdString();
}

// Every number is checked as it is read (design.md example 8): a damaged row is flagged, and
// its numbers are NaN / 0 so that no caller mistakes them for results.
CandidateRecord readCandidate(const QSqlQuery& r) {
    CandidateRecord c;
    DamageNotes notes;
    c.id = r.value(0).toLongLong();
    c.runId = r.value(1).toLongLong();
    c.genes = notes.ints(r.value(2), "genes");
    for (int g : c.genes)
        if (g < 0 || g >= grid::kSize) {
            notes.add("genes hold scale index " + std::to_string(g) + ", outside 0.." + std::to_string(grid::kSize - 1));
            break;
        }
    c.channels = notes.ints(r.value(3), "channels");
    if (!c.genes.empty() && !c.channels.empty() && c.channels.size() != c.genes.size())
        notes.add("channels list " + std::to_string(c.channels.size()) + " values for " + std::to_string(c.genes.size()) +
                  " genes");
    c.macs = notes.count(r.value(4), "MACs");
    c.params = notes.count(r.value(5), "params");
    c.top1 = notes.number(r.value(6), "top-1", 0, 100);
    c.loss = notes.number(r.value(7), "loss", 0, std::numeric_limits<double>::max());
    c.origin = r.value(8).toString().toStdString();
    c.generation = r.value(9).toInt();
    c.evalMs = r.value(10).toDouble();
    c.created = r.value(11).toString().toStdString();
    c.latencyMs = notes.number(r.value(12), "latency", 0, std::numeric_limits<double>::max());
    c.damage = notes.text();
    return c;
}

constexpr const char* kCandidateColumns =
    "SELECT id, run_id, genes, channels, macs, params, top1, loss, origin, generation, eval_ms, created, latency_ms "
    "FROM candidates ";

TrainingRecord readTraining(const QSqlQuery& r, const std::string& dir) {
    TrainingRecord t;
    t.id = r.value(0).toLongLong();
    t.created = r.value(1).toString().toStdString();
    t.config = r.value(2).toString().toStdString();
    t.checkpoint = resolvedPath(dir, r.value(3).toString());
    t.sha256 = r.value(4).toString().toStdString();
    t.steps = r.value(5).toLongLong();
    t.totalSteps = r.value(6).toLongLong();
    t.status = r.value(7).toString().toStdString();
    t.seconds = r.value(8).toDouble();
    // The learned-or-not check, when it was made and its numbers are sound.
    bool ok1 = false, ok2 = false, ok3 = false;
    const double full = r.value(9).toDouble(&ok1), chance = r.value(10).toDouble(&ok2);
    const qlonglong images = r.value(11).toLongLong(&ok3);
    if (!r.value(9).isNull() && ok1 && ok2 && ok3 && std::isfinite(full) && std::isfinite(chance) && images > 0) {
        t.fullTop1 = full;
        t.chanceTop1 = chance;
        t.checkImages = images;
    }
    return t;
}

RunRecord readRun(const QSqlQuery& r, const std::string& dir) {
    RunRecord run;
    run.id = r.value(0).toLongLong();
    run.created = r.value(1).toString().toStdString();
    run.kind = r.value(2).toString().toStdString();
    run.config = r.value(3).toString().toStdString();
    run.dataset = r.value(4).toString().toStdString();
    run.seed = r.value(5).toString().toULongLong();
    run.arch = r.value(6).toString().toStdString();
    run.trainingId = r.value(7).toLongLong();
    run.checkpoint = resolvedPath(dir, r.value(8).toString());
    run.checkpointSha256 = r.value(9).toString().toStdString();
    run.status = r.value(10).toString().toStdString();
    run.finished = r.value(11).toString().toStdString();
    run.candidates = r.value(12).toLongLong();
    run.architecture = r.value(13).toString().toStdString();
    return run;
}

} // namespace

bool Store::hasColumn(const char* table, const char* column) const {
    QSqlQuery r = query(connection_, path_,
                        (std::string("SELECT COUNT(*) FROM pragma_table_info('") + table + "') WHERE name = ?").c_str())
                      .bind(QString(column))
                      .exec();
    return r.next() && r.value(0).toInt() > 0;
}

std::string Store::column(const char* table, const char* name) const {
    const std::string key = std::string(table) + "." + name;
    auto it = columnCache_.find(key);
    if (it == columnCache_.end())
        it = columnCache_.emplace(key, hasColumn(table, name)).first;
    return it->second ? std::string(name) : std::string("NULL");
}

std::string Store::trainingColumns() const {
    return "SELECT id, created, config, checkpoint, checkpoint_sha256, steps, total_steps, status, seconds, " +
           column("trainings", "full_top1") + ", " + column("trainings", "chance_top1") + ", " +
           column("trainings", "full_images") + " FROM trainings ";
}

std::string Store::runColumns() const {
    const std::string arch = column("runs", "architecture") == "NULL" ? "''" : "r.architecture";
    return "SELECT r.id, r.created, r.kind, r.config, r.dataset, r.seed, r.arch, r.training_id, r.checkpoint, "
           "r.checkpoint_sha256, r.status, r.finished, (SELECT COUNT(*) FROM candidates c WHERE c.run_id = r.id), " +
           arch + " FROM runs r ";
}

Store::Store(const std::string& path, StoreMode mode) : path_(path), readOnly_(mode == StoreMode::ReadOnly) {
    dir_ = QFileInfo(q(path)).absolutePath().toStdString();
    connection_ = "metaprune-" + QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString();
    const QFileInfo info(q(path));
    const bool existed = info.exists() && info.size() > 0;
    if (info.exists() && info.isDir())
        throw StoreError(path + ": is a folder, not a project database");
    // Reading never creates, initialises or upgrades a project.
    if (readOnly_ && !info.exists())
        throw StoreError(path + ": project not found");
    if (readOnly_ && !existed)
        throw StoreError(path + ": is an empty file, not a MetaPrune Studio project");
    {
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", q(connection_));
        db.setDatabaseName(q(path));
        db.setConnectOptions(readOnly_ ? "QSQLITE_BUSY_TIMEOUT=5000;QSQLITE_OPEN_READONLY" : "QSQLITE_BUSY_TIMEOUT=5000");
        if (!db.open()) {
            const std::string err = sqlErrorText(db.lastError());
            db = QSqlDatabase();
            QSqlDatabase::removeDatabase(q(connection_));
            throw StoreError(path + ": cannot open project database (" + err + ")");
        }
    }
    try {
        int appId = 0, tables = 0, version = 0;
        {
            // Each probe is finished before WAL is switched on: an open statement holds a transaction.
            QSqlQuery check(database(connection_));
            if (!check.exec("PRAGMA application_id") || !check.next())
                throw StoreError(path + ": not a project database or damaged (" +
                                 sqlErrorText(check.lastError()) + ")");
            appId = check.value(0).toInt();
            check.finish();
            if (!check.exec("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                            "('trainings', 'training_log', 'runs', 'candidates', 'settings', 'latency_tables', 'retrains')") ||
                !check.next())
                throw StoreError(path + ": not a project database or damaged (" +
                                 sqlErrorText(check.lastError()) + ")");
            tables = check.value(0).toInt();
            check.finish();
            check.exec("PRAGMA user_version");
            check.next();
            version = check.value(0).toInt();
        }
        if (existed && appId != kApplicationId) {
            QSqlQuery any(database(connection_));
            if (any.exec("SELECT COUNT(*) FROM sqlite_master") && any.next() && any.value(0).toInt() > 0)
                throw StoreError(path + ": is an SQLite database but not a MetaPrune Studio project");
            if (readOnly_)
                throw StoreError(path + ": is an empty SQLite database, not a MetaPrune Studio project");
        }
        if (version > kSchemaVersion)
            throw StoreError(path + ": written by a newer MetaPrune Studio (schema " + std::to_string(version) +
                             ", this build reads " + std::to_string(kSchemaVersion) + ")");
        if (!readOnly_) {
            query(connection_, path_, "PRAGMA journal_mode=WAL").exec();
            query(connection_, path_, "PRAGMA foreign_keys=ON").exec();
            // WAL + NORMAL: a committed candidate survives a process crash (not a power cut).
            query(connection_, path_, "PRAGMA synchronous=NORMAL").exec();
        }
        if (!readOnly_ && (appId != kApplicationId || version < kSchemaVersion || tables < 7)) {
            // IMMEDIATE takes the write lock up front, so a concurrent writer makes us wait
            // (busy timeout) instead of failing on a read-to-write upgrade.
            query(connection_, path_, "BEGIN IMMEDIATE").exec();
            try {
                for (const char* sql : kSchema)
                    query(connection_, path_, sql).exec();
                // Columns added since schema 1, for projects written by an older version.
                for (const AddedColumn& c : kAddedColumns)
                    if (!hasColumn(c.table, c.column))
                        query(connection_, path_,
                              (std::string("ALTER TABLE ") + c.table + " ADD COLUMN " + c.column + " " + c.definition)
                                  .c_str())
                            .exec();
                query(connection_, path_, ("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str()).exec();
                query(connection_, path_, ("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str()).exec();
                query(connection_, path_, "COMMIT").exec();
            } catch (...) {
                QSqlQuery(database(connection_)).exec("ROLLBACK");
                throw;
            }
        }
        if (readOnly_ && tables < 5)
            throw StoreError(path + ": is not a complete MetaPrune Studio project (" + std::to_string(tables) +
                             " of its tables present)");
        if (existed) {
            QSqlQuery integrity(database(connection_));
            if (!integrity.exec("PRAGMA quick_check") || !integrity.next() || integrity.value(0).toString() != "ok") {
                // SQLite lists up to 100 problems: the first one names the kind of damage.
                QStringList problems;
                if (integrity.lastError().isValid())
                    problems << QString::fromStdString(sqlErrorText(integrity.lastError()));
                else
                    do
                        problems += integrity.value(0).toString().split('\n', Qt::SkipEmptyParts);
                    while (integrity.next());
                problems.removeAll("*** in database main ***");
                const QString first = problems.value(0).trimmed();
                throw StoreError(path + ": database file is damaged (quick_check: " + first.toStdString() +
                                 (problems.size() > 1 ? "; " + std::to_string(problems.size() - 1) + " more" : "") +
                                 "); nothing was written to it: restore a backup of the project");
            }
        }
    } catch (...) {
        {
            QSqlDatabase db = database(connection_);
            db.close();
        }
        QSqlDatabase::removeDatabase(q(connection_));
        throw;
    }
}

Store::~Store() {
    {
        QSqlDatabase db = database(connection_);
        db.close();
    }
    QSqlDatabase::removeDatabase(q(connection_));
}

int64_t Store::addTraining(const std::string& configJson, const std::string& checkpoint, int64_t totalSteps) {
    QSqlQuery r = query(connection_, path_,
                         "INSERT INTO trainings(created, config, checkpoint, total_steps, status) "
                         "VALUES (?, ?, ?, ?, 'running')")
                       .bind(now())
                       .bind(q(configJson))
                       .bind(storedPath(dir_, checkpoint))
                       .bind(qint64(totalSteps))
                       .exec();
    return r.lastInsertId().toLongLong();
}

void Store::updateTraining(int64_t id, int64_t steps, int64_t totalSteps, const std::string& status,
                           const std::string& sha256, double seconds) {
    query(connection_, path_,
          "UPDATE trainings SET steps = ?, total_steps = ?, status = ?, checkpoint_sha256 = ?, seconds = ? "
          "WHERE id = ?")
        .bind(qint64(steps))
        .bind(qint64(totalSteps))
        .bind(q(status))
        .bind(q(sha256))
        .bind(seconds)
        .bind(qint64(id))
        .exec();
}

void Store::addTrainingLog(int64_t trainingId, const TrainingLogEntry& e) {
    query(connection_, path_,
          "INSERT OR REPLACE INTO training_log(training_id, step, epoch, loss, top1, lr, seconds) "
          "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(qint64(trainingId))
        .bind(qint64(e.step))
        .bind(e.epoch)
        .bind(e.loss)
        .bind(e.top1)
        .bind(e.lr)
        .bind(e.seconds)
        .exec();
}

std::vector<TrainingLogEntry> Store::trainingLog(int64_t trainingId) const {
    QSqlQuery r = query(connection_, path_,
                         "SELECT step, epoch, loss, top1, lr, seconds FROM training_log "
                         "WHERE training_id = ? ORDER BY step")
                       .bind(qint64(trainingId))
                       .exec();
    std::vector<TrainingLogEntry> out;
    while (r.next())
        out.push_back({r.value(0).toLongLong(), r.value(1).toInt(), r.value(2).toDouble(), r.value(3).toDouble(),
                       r.value(4).toDouble(), r.value(5).toDouble()});
    return out;
}

std::vector<TrainingRecord> Store::trainings() const {
    QSqlQuery r = query(connection_, path_, (trainingColumns() + "ORDER BY id").c_str()).exec();
    std::vector<TrainingRecord> out;
    while (r.next())
        out.push_back(readTraining(r, dir_));
    return out;
}

std::optional<TrainingRecord> Store::training(int64_t id) const {
    QSqlQuery r =
        query(connection_, path_, (trainingColumns() + "WHERE id = ?").c_str()).bind(qint64(id)).exec();
    if (!r.next())
        return std::nullopt;
    return readTraining(r, dir_);
}

std::optional<TrainingRecord> Store::trainingByCheckpoint(const std::string& checkpoint) const {
    QSqlQuery r = query(connection_, path_,
                         (trainingColumns() + "WHERE checkpoint = ? ORDER BY id DESC LIMIT 1").c_str())
                       .bind(storedPath(dir_, checkpoint))
                       .exec();
    if (!r.next())
        return std::nullopt;
    return readTraining(r, dir_);
}

int64_t Store::findOrCreateRun(const RunRecord& run, bool* resumed) {
    QSqlQuery found = query(connection_, path_,
                             "SELECT id FROM runs WHERE kind = ? AND config = ? AND checkpoint_sha256 = ? "
                             "ORDER BY id LIMIT 1")
                           .bind(q(run.kind))
                           .bind(q(run.config))
                           .bind(q(run.checkpointSha256))
                           .exec();
    if (found.next()) {
        const int64_t id = found.value(0).toLongLong();
        if (resumed)
            *resumed = true;
        return id;
    }
    if (resumed)
        *resumed = false;
    QSqlQuery r = query(connection_, path_,
                         "INSERT INTO runs(created, kind, config, dataset, seed, arch, training_id, checkpoint, "
                         "checkpoint_sha256, status, architecture) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)")
                       .bind(now())
                       .bind(q(run.kind))
                       .bind(q(run.config))
                       .bind(q(run.dataset))
                       .bind(QString::number(run.seed))
                       .bind(q(run.arch))
                       .bind(run.trainingId > 0 ? QVariant(qint64(run.trainingId)) : QVariant())
                       .bind(storedPath(dir_, run.checkpoint))
                       .bind(q(run.checkpointSha256))
                       .bind(q(run.architecture))
                       .exec();
    return r.lastInsertId().toLongLong();
}

void Store::setRunArchitecture(int64_t runId, const std::string& json) {
    query(connection_, path_, "UPDATE runs SET architecture = ? WHERE id = ?").bind(q(json)).bind(qint64(runId)).exec();
}

void Store::setTrainingCheck(int64_t id, double fullTop1, double chanceTop1, int64_t images) {
    query(connection_, path_, "UPDATE trainings SET full_top1 = ?, chance_top1 = ?, full_images = ? WHERE id = ?")
        .bind(fullTop1)
        .bind(chanceTop1)
        .bind(qint64(images))
        .bind(qint64(id))
        .exec();
}

void Store::setRunStatus(int64_t runId, const std::string& status) {
    query(connection_, path_, "UPDATE runs SET status = ?, finished = ? WHERE id = ?")
        .bind(q(status))
        .bind(status == "running" ? QString("") : now())
        .bind(qint64(runId))
        .exec();
}

std::vector<RunRecord> Store::runs() const {
    QSqlQuery r = query(connection_, path_, (runColumns() + "ORDER BY r.id").c_str()).exec();
    std::vector<RunRecord> out;
    while (r.next())
        out.push_back(readRun(r, dir_));
    return out;
}

std::optional<RunRecord> Store::run(int64_t id) const {
    QSqlQuery r =
        query(connection_, path_, (runColumns() + "WHERE r.id = ?").c_str()).bind(qint64(id)).exec();
    if (!r.next())
        return std::nullopt;
    return readRun(r, dir_);
}

std::optional<CandidateRecord> Store::findCandidate(int64_t runId, const Encoding& genes) const {
    QSqlQuery r = query(connection_, path_, (std::string(kCandidateColumns) + "WHERE run_id = ? AND genes = ?").c_str())
                       .bind(qint64(runId))
                       .bind(q(join(genes)))
                       .exec();
    if (!r.next())
        return std::nullopt;
    return readCandidate(r);
}

CandidateRecord Store::addCandidate(const CandidateRecord& c) {
    CandidateRecord out = c;
    out.created = now().toStdString();
    // A single INSERT is its own transaction in SQLite: committed when exec() returns.
    QSqlQuery r = query(connection_, path_,
                         "INSERT INTO candidates(run_id, genes, channels, macs, params, top1, loss, origin, "
                         "generation, eval_ms, created, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                       .bind(qint64(c.runId))
                       .bind(q(join(c.genes)))
                       .bind(q(join(c.channels)))
                       .bind(qint64(c.macs))
                       .bind(qint64(c.params))
                       .bind(c.top1)
                       .bind(c.loss)
                       .bind(q(c.origin))
                       .bind(c.generation)
                       .bind(c.evalMs)
                       .bind(q(out.created))
                       .bind(c.latencyMs)
                       .exec();
    out.id = r.lastInsertId().toLongLong();
    return out;
}

int64_t Store::addLatencyTable(const std::string& arch, const std::string& machine, int gridStep,
                               const std::string& data) {
    QSqlQuery r = query(connection_, path_,
                        "INSERT INTO latency_tables(created, arch, machine, grid_step, data) VALUES (?, ?, ?, ?, ?)")
                      .bind(now())
                      .bind(q(arch))
                      .bind(q(machine))
                      .bind(gridStep)
                      .bind(q(data))
                      .exec();
    return r.lastInsertId().toLongLong();
}

std::optional<std::pair<int64_t, std::string>> Store::latencyTable(const std::string& arch, const std::string& machine,
                                                                 int gridStep) const {
    QSqlQuery r = query(connection_, path_,
                        "SELECT id, data FROM latency_tables WHERE arch = ? AND machine = ? AND (? = 0 OR grid_step = ?) "
                        "ORDER BY id DESC LIMIT 1")
                      .bind(q(arch))
                      .bind(q(machine))
                      .bind(gridStep)
                      .bind(gridStep)
                      .exec();
    if (!r.next())
        return std::nullopt;
    return std::make_pair(int64_t(r.value(0).toLongLong()), r.value(1).toString().toStdString());
}

namespace {
const char* const kRetrainColumns = "SELECT id, candidate_id, purpose, config, seed, test_top1, test_loss, test_images, "
                                    "curve, seconds, created FROM retrains ";

RetrainRecord readRetrain(const QSqlQuery& r) {
    RetrainRecord o;
    o.id = r.value(0).toLongLong();
    o.candidateId = r.value(1).toLongLong();
    o.purpose = r.value(2).toString().toStdString();
    o.config = r.value(3).toString().toStdString();
    o.seed = r.value(4).toString().toULongLong();
    o.testTop1 = r.value(5).toDouble();
    o.testLoss = r.value(6).toDouble();
    o.testImages = r.value(7).toLongLong();
    o.curve = r.value(8).toString().toStdString();
    o.seconds = r.value(9).toDouble();
    o.created = r.value(10).toString().toStdString();
    return o;
}
} // namespace

RetrainRecord Store::addRetrain(const RetrainRecord& rec) {
    RetrainRecord out = rec;
    out.created = now().toStdString();
    QSqlQuery r = query(connection_, path_,
                        "INSERT INTO retrains(candidate_id, purpose, config, seed, test_top1, test_loss, test_images, "
                        "curve, seconds, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                      .bind(qint64(rec.candidateId))
                      .bind(q(rec.purpose))
                      .bind(q(rec.config))
                      .bind(QString::number(rec.seed)) // TEXT: a uint64 seed does not fit SQLite's INTEGER
                      .bind(rec.testTop1)
                      .bind(rec.testLoss)
                      .bind(qint64(rec.testImages))
                      .bind(q(rec.curve))
                      .bind(rec.seconds)
                      .bind(q(out.created))
                      .exec();
    out.id = r.lastInsertId().toLongLong();
    return out;
}

std::vector<RetrainRecord> Store::retrains(int64_t candidateId) const {
    QSqlQuery r = query(connection_, path_,
                        (std::string(kRetrainColumns) + "WHERE ? = 0 OR candidate_id = ? ORDER BY id").c_str())
                      .bind(qint64(candidateId))
                      .bind(qint64(candidateId))
                      .exec();
    std::vector<RetrainRecord> out;
    while (r.next())
        out.push_back(readRetrain(r));
    return out;
}

std::optional<RetrainRecord> Store::findRetrain(int64_t candidateId, const std::string& config, uint64_t seed) const {
    QSqlQuery r = query(connection_, path_,
                        (std::string(kRetrainColumns) + "WHERE candidate_id = ? AND config = ? AND seed = ?").c_str())
                      .bind(qint64(candidateId))
                      .bind(q(config))
                      .bind(QString::number(seed))
                      .exec();
    if (!r.next())
        return std::nullopt;
    return readRetrain(r);
}

std::optional<std::string> Store::setting(const std::string& key) const {
    QSqlQuery r = query(connection_, path_, "SELECT value FROM settings WHERE key = ?").bind(q(key)).exec();
    if (!r.next())
        return std::nullopt;
    return r.value(0).toString().toStdString();
}

void Store::setSetting(const std::string& key, const std::string& value) {
    query(connection_, path_, "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)").bind(q(key)).bind(q(value)).exec();
}

std::optional<CandidateRecord> Store::candidate(int64_t id) const {
    QSqlQuery r = query(connection_, path_, (std::string(kCandidateColumns) + "WHERE id = ?").c_str()).bind(qint64(id)).exec();
    if (!r.next())
        return std::nullopt;
    return readCandidate(r);
}

std::vector<CandidateRecord> Store::candidates(int64_t runId, int64_t afterId) const {
    QSqlQuery r =
        query(connection_, path_, (std::string(kCandidateColumns) + "WHERE run_id = ? AND id > ? ORDER BY id").c_str())
            .bind(qint64(runId))
            .bind(qint64(afterId))
            .exec();
    std::vector<CandidateRecord> out;
    while (r.next())
        out.push_back(readCandidate(r));
    return out;
}

} // namespace mp
