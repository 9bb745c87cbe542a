// The project database: schema, WAL, candidate rows, runs, and damaged/locked/foreign files.
#include "metaprune/store.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace mp;

namespace {
CandidateRecord candidate(int64_t run, Encoding genes, double top1, const std::string& origin = "random") {
    CandidateRecord c;
    c.runId = run;
    c.genes = std::move(genes);
    c.channels = {4, 8};
    c.macs = 1000 + int64_t(c.genes[0]);
    c.params = 77;
    c.top1 = top1;
    c.loss = 0.5;
    c.origin = origin;
    c.generation = 2;
    c.evalMs = 12.5;
    return c;
}

RunRecord runRecord(const std::string& config) {
    RunRecord r;
    r.config = config;
    r.dataset = "/data (idx)";
    r.seed = 18446744073709551615ull; // largest 64-bit seed survives the round trip
    r.arch = "mobilenetv2/small";
    r.checkpoint = "/ck.pt";
    r.checkpointSha256 = "abc";
    return r;
}

QString storeError(const QString& path) {
    try {
        Store s(path.toStdString());
    } catch (const StoreError& e) {
        return e.what();
    }
    return {};
}
} // namespace

class TestStore : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;

private slots:
    void candidatesRoundTrip() {
        const QString path = tmp.filePath("p.sqlite");
        int64_t run = 0;
        {
            Store s(path.toStdString());
            bool resumed = true;
            run = s.findOrCreateRun(runRecord("{\"a\":1}"), &resumed);
            QVERIFY(!resumed);
            const CandidateRecord a = s.addCandidate(candidate(run, {1, 2}, 81.25));
            QVERIFY(a.id > 0);
            QVERIFY(!a.created.empty());
            s.addCandidate(candidate(run, {3, 4}, 90.0, "uniform"));
        }
        Store s(path.toStdString()); // a fresh connection sees committed rows
        const std::vector<CandidateRecord> all = s.candidates(run);
        QCOMPARE(all.size(), size_t(2));
        QCOMPARE(all[0].genes, (Encoding{1, 2}));
        QCOMPARE(all[0].channels, (std::vector<int>{4, 8}));
        QCOMPARE(all[0].macs, int64_t(1001));
        QCOMPARE(all[0].top1, 81.25);
        QCOMPARE(QString::fromStdString(all[1].origin), QString("uniform"));
        QCOMPARE(s.candidates(run, all[0].id).size(), size_t(1));
        QVERIFY(s.findCandidate(run, {3, 4}).has_value());
        QVERIFY(!s.findCandidate(run, {4, 3}).has_value());
        const auto r = s.run(run);
        QVERIFY(r.has_value());
        QCOMPARE(r->seed, 18446744073709551615ull);
        QCOMPARE(r->candidates, int64_t(2));
    }

    void sameSettingsResumeSameRun() {
        Store s(tmp.filePath("runs.sqlite").toStdString());
        bool resumed = false;
        const int64_t a = s.findOrCreateRun(runRecord("{\"max\":5}"), &resumed);
        QVERIFY(!resumed);
        const int64_t b = s.findOrCreateRun(runRecord("{\"max\":5}"), &resumed);
        QVERIFY(resumed);
        QCOMPARE(b, a);
        const int64_t c = s.findOrCreateRun(runRecord("{\"max\":6}"), &resumed);
        QVERIFY(!resumed);
        QVERIFY(c != a);
        s.setRunStatus(a, "finished");
        QCOMPARE(QString::fromStdString(s.run(a)->status), QString("finished"));
        QVERIFY(!s.run(a)->finished.empty());
        QCOMPARE(s.runs().size(), size_t(2));
    }

    void rejectsDuplicatesAndUnknownOrigins() {
        Store s(tmp.filePath("dup.sqlite").toStdString());
        const int64_t run = s.findOrCreateRun(runRecord("{}"));
        s.addCandidate(candidate(run, {5, 5}, 50));
        QVERIFY_THROWS_EXCEPTION(StoreError, s.addCandidate(candidate(run, {5, 5}, 60)));
        QVERIFY_THROWS_EXCEPTION(StoreError, s.addCandidate(candidate(run, {6, 6}, 60, "guess")));
        QCOMPARE(s.candidates(run).size(), size_t(1));
        QCOMPARE(s.candidates(run)[0].top1, 50.0); // the first row is untouched
    }

    void walJournal() {
        const QString path = tmp.filePath("wal.sqlite");
        { Store s(path.toStdString()); }
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "check-wal");
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY(q.exec("PRAGMA journal_mode"));
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toString(), QString("wal"));
        q.finish();
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase("check-wal");
    }

    void trainingsAndLog() {
        Store s(tmp.filePath("train.sqlite").toStdString());
        const int64_t id = s.addTraining("{\"epochs\":3}", "/x.pt", 0);
        s.addTrainingLog(id, {20, 0, 2.1, 15.0, 0.1, 3.5});
        s.addTrainingLog(id, {40, 0, 1.9, 25.0, 0.2, 7.0});
        s.updateTraining(id, 40, 120, "cancelled", "beef", 7.0);
        const auto t = s.training(id);
        QVERIFY(t.has_value());
        QCOMPARE(t->steps, int64_t(40));
        QCOMPARE(t->totalSteps, int64_t(120));
        QCOMPARE(QString::fromStdString(t->status), QString("cancelled"));
        QCOMPARE(s.trainingLog(id).size(), size_t(2));
        QCOMPARE(s.trainingLog(id)[1].loss, 1.9);
        QCOMPARE(s.trainingByCheckpoint("/x.pt")->id, id);
        QVERIFY(!s.trainingByCheckpoint("/y.pt").has_value());
    }

    void notADatabase() {
        const QString path = tmp.filePath("text.sqlite");
        std::ofstream(path.toStdString()) << "these are not the bytes of an SQLite database, not even close.\n";
        const QString err = storeError(path);
        QVERIFY2(err.contains(path) && err.contains("not a project database or damaged"), qPrintable(err));
    }

    void foreignSqliteFile() {
        const QString path = tmp.filePath("foreign.sqlite");
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "foreign");
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery(db).exec("CREATE TABLE music(title TEXT)");
            db.close();
        }
        QSqlDatabase::removeDatabase("foreign");
        const QString err = storeError(path);
        QVERIFY2(err.contains("not a MetaPrune Studio project"), qPrintable(err));
    }

    void newerSchema() {
        const QString path = tmp.filePath("newer.sqlite");
        { Store s(path.toStdString()); }
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "newer");
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery(db).exec("PRAGMA user_version=99");
            db.close();
        }
        QSqlDatabase::removeDatabase("newer");
        const QString err = storeError(path);
        QVERIFY2(err.contains("newer") && err.contains("99"), qPrintable(err));
    }

    void damagedFile() {
        const QString path = tmp.filePath("damaged.sqlite");
        {
            Store s(path.toStdString());
            const int64_t run = s.findOrCreateRun(runRecord("{}"));
            for (int i = 0; i < 200; ++i)
                s.addCandidate(candidate(run, {i, i + 1, i + 2}, i));
        }
        // Checkpoint the WAL into the main file, then overwrite a page in the middle.
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "ckpt");
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery(db).exec("PRAGMA wal_checkpoint(TRUNCATE)");
            db.close();
        }
        QSqlDatabase::removeDatabase("ckpt");
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.size() > 8 * 4096);
        const qint64 half = f.size() / 2 / 4096 * 4096; // the second half holds candidate rows
        f.seek(half);
        f.write(QByteArray(int(f.size() - half), '\x5a'));
        f.close();
        const QString err = storeError(path);
        QVERIFY2(err.contains(path) && err.contains("damaged"), qPrintable(err));
    }

    void lockedDatabase() {
        const QString path = tmp.filePath("locked.sqlite");
        Store s(path.toStdString());
        const int64_t run = s.findOrCreateRun(runRecord("{}"));
        QSqlDatabase other = QSqlDatabase::addDatabase("QSQLITE", "locker");
        other.setDatabaseName(path);
        QVERIFY(other.open());
        QSqlQuery lock(other);
        QVERIFY(lock.exec("BEGIN EXCLUSIVE"));
        QString err;
        try {
            s.addCandidate(candidate(run, {1}, 1)); // waits for the 5 s busy timeout, then fails
        } catch (const StoreError& e) {
            err = e.what();
        }
        QVERIFY2(err.contains("locked"), qPrintable(err));
        QVERIFY(lock.exec("ROLLBACK"));
        other.close();
        other = QSqlDatabase();
        QSqlDatabase::removeDatabase("locker");
        s.addCandidate(candidate(run, {1}, 1)); // works once the lock is gone
        QCOMPARE(s.candidates(run).size(), size_t(1));
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
