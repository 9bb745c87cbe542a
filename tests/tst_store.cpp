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

    /// Runs SQL on a project through its own connection, as a user with sqlite3 would.
    static void tamper(const QString& path, const QStringList& statements) {
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "tamper");
            db.setDatabaseName(path);
            QVERIFY(db.open());
            for (const QString& sql : statements) {
                QSqlQuery q(db);
                QVERIFY2(q.exec(sql), qPrintable(sql + ": " + q.lastError().text()));
            }
            db.close();
        }
        QSqlDatabase::removeDatabase("tamper");
    }

    void damagedRowsAreFlaggedAsRead_data() {
        QTest::addColumn<QString>("sql");
        QTest::addColumn<QString>("reason");
        QTest::newRow("MACs 0") << "UPDATE candidates SET macs = 0" << "MACs is not a positive count ('0')";
        QTest::newRow("top-1 NaN text") << "UPDATE candidates SET top1 = 'NaN'" << "top-1 is not a finite number ('NaN')";
        QTest::newRow("top-1 infinite") << "UPDATE candidates SET top1 = 9e999" << "top-1 is not a finite number ('inf')";
        QTest::newRow("top-1 above 100") << "UPDATE candidates SET top1 = 140" << "top-1 140 is outside 0..100";
        QTest::newRow("loss NaN") << "UPDATE candidates SET loss = 'nan'" << "loss is not a finite number ('nan')";
        QTest::newRow("genes garbage") << "UPDATE candidates SET genes = '1,x'" << "genes do not parse ('1,x')";
        QTest::newRow("genes off the grid") << "UPDATE candidates SET genes = '1,31'"
                                           << "genes hold scale index 31, outside 0..30";
        QTest::newRow("params negative") << "UPDATE candidates SET params = -5" << "params is not a positive count ('-5')";
        QTest::newRow("latency infinite") << "UPDATE candidates SET latency_ms = 9e999"
                                         << "latency is not a finite number ('inf')";
    }
    void damagedRowsAreFlaggedAsRead() {
        QFETCH(QString, sql);
        QFETCH(QString, reason);
        const QString path = tmp.filePath(QString("damaged-%1.sqlite").arg(QTest::currentDataTag()).replace(' ', '-'));
        int64_t run = 0;
        {
            Store s(path.toStdString());
            run = s.findOrCreateRun(runRecord("{}"));
            s.addCandidate(candidate(run, {1, 2}, 81.25));
        }
        {
            Store s(path.toStdString());
            QVERIFY(s.candidates(run)[0].damage.empty());
        }
        tamper(path, {sql});
        const Store s(path.toStdString(), StoreMode::ReadOnly);
        const CandidateRecord c = s.candidates(run).at(0);
        QCOMPARE(QString::fromStdString(c.damage), reason);
        QCOMPARE(QString::fromStdString(s.findCandidate(run, {1, 2}).value_or(c).damage), reason);
    }

    void rowsCheckedAgainstTheArchitecture() {
        const ArchSpec arch = makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        CandidateRecord c;
        c.genes = uniformEncoding(arch, 12);
        c.channels = geneChannels(arch, c.genes);
        c.macs = countMacs(arch, c.genes);
        c.params = countParams(arch, c.genes);
        QVERIFY(candidateDamage(arch, c).empty());
        CandidateRecord wrongMacs = c;
        wrongMacs.macs += 1;
        QCOMPARE(QString::fromStdString(candidateDamage(arch, wrongMacs)),
                 QString("MACs %1 disagree with the encoding's %2").arg(c.macs + 1).arg(c.macs));
        CandidateRecord wrongParams = c;
        wrongParams.params = 3;
        QVERIFY(QString::fromStdString(candidateDamage(arch, wrongParams)).startsWith("params 3 disagree"));
        CandidateRecord shortGenes = c;
        shortGenes.genes.pop_back();
        QVERIFY(QString::fromStdString(candidateDamage(arch, shortGenes)).contains("values for an architecture of"));
    }

    void readOnlyNeverWrites() {
        // A missing or empty file is refused and left as it was: no schema, no WAL files.
        const QString missing = tmp.filePath("missing.sqlite");
        QVERIFY_THROWS_EXCEPTION(StoreError, Store(missing.toStdString(), StoreMode::ReadOnly));
        QVERIFY(!QFile::exists(missing));
        const QString empty = tmp.filePath("empty.sqlite");
        QFile(empty).open(QIODevice::WriteOnly);
        try {
            Store s(empty.toStdString(), StoreMode::ReadOnly);
            QFAIL("opened an empty file read-only");
        } catch (const StoreError& e) {
            QVERIFY2(QString(e.what()).contains("empty file"), e.what());
        }
        QCOMPARE(QFileInfo(empty).size(), qint64(0));
        // A read-only connection reads and refuses to write.
        const QString path = tmp.filePath("ro.sqlite");
        int64_t run = 0;
        {
            Store s(path.toStdString());
            run = s.findOrCreateRun(runRecord("{}"));
            s.addCandidate(candidate(run, {2, 2}, 70));
        }
        Store ro(path.toStdString(), StoreMode::ReadOnly);
        QCOMPARE(ro.candidates(run).size(), size_t(1));
        QVERIFY_THROWS_EXCEPTION(StoreError, ro.addCandidate(candidate(run, {3, 3}, 71)));
        QCOMPARE(Store(path.toStdString()).candidates(run).size(), size_t(1));
    }

    void schema3ProjectReadAndUpgraded() {
        // A project as schema 3 wrote it: no learned-check columns, no run architecture.
        const QString path = tmp.filePath("v3.sqlite");
        int64_t run = 0;
        {
            Store s(path.toStdString());
            run = s.findOrCreateRun(runRecord("{}"));
            s.addCandidate(candidate(run, {1, 1}, 60));
            s.addTraining("{}", tmp.filePath("ck.pt").toStdString(), 10);
        }
        tamper(path, {"ALTER TABLE runs DROP COLUMN architecture", "ALTER TABLE trainings DROP COLUMN full_top1",
                      "ALTER TABLE trainings DROP COLUMN chance_top1", "ALTER TABLE trainings DROP COLUMN full_images",
                      "PRAGMA user_version=3"});
        {
            const Store ro(path.toStdString(), StoreMode::ReadOnly);
            QCOMPARE(ro.runs().at(0).architecture, std::string());
            QVERIFY(!ro.trainings().at(0).fullTop1.has_value());
        }
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "version");
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery v(db);
            QVERIFY(v.exec("PRAGMA user_version") && v.next());
            QCOMPARE(v.value(0).toInt(), 3); // reading did not upgrade it
            db.close();
        }
        QSqlDatabase::removeDatabase("version");
        Store rw(path.toStdString());
        rw.setTrainingCheck(rw.trainings().at(0).id, 87.5, 10.0, 10000);
        rw.setRunArchitecture(run, "{\"x\":1}");
        QCOMPARE(*rw.trainings().at(0).fullTop1, 87.5);
        QCOMPARE(*rw.trainings().at(0).chanceTop1, 10.0);
        QCOMPARE(rw.trainings().at(0).checkImages, int64_t(10000));
        QCOMPARE(rw.runs().at(0).architecture, std::string("{\"x\":1}"));
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
        // SQLite's reason and Qt's step are separated ("Unable to fetch row: database disk image is malformed").
        QVERIFY2(!QRegularExpression("\\w Unable to").match(err).hasMatch(), qPrintable(err));
        // One line: the first problem SQLite found and how many more, not its whole list.
        QVERIFY2(!err.contains('\n') && err.contains("more); nothing was written to it"), qPrintable(err));
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
