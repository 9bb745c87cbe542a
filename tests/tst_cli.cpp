// The `metaprune` command line end to end on a tiny subset of the real Fashion-MNIST: demo,
// a search killed with SIGKILL and restarted, pareto output, export, retraining reports, and bad
// input.
#include "metaprune/architecture.h"
#include "metaprune/search.h"
#include "metaprune/store.h"

#include <QImage>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <csignal>
#include <map>

using namespace mp;

namespace {

struct Result {
    int code = -1;
    QString out, err;
};

Result runCli(const QStringList& args, int timeoutMs = 600000) {
    QProcess p;
    p.start(METAPRUNE_CLI, args);
    Result r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

// A few hundred real images: fast enough for CI, real enough to exercise every reader path.
const QStringList kTinyData = {"--data", FASHION_MNIST_DIR, "--train-per-class", "60", "--test-per-class", "20",
                               "--search-per-class", "10", "--epochs", "1", "--batch-size", "32",
                               "--warmup-steps", "5", "--threads", "2"};
const QStringList kTinySearch = {"--population", "8", "--parents", "3", "--mutations", "3", "--crossovers", "3",
                                 "--eval-images", "100", "--recal-batches", "2", "--recal-batch-size", "32"};

} // namespace

class TestCli : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;
    QString project;

private slots:
    void initTestCase() {
        QVERIFY2(QFile::exists(QString(FASHION_MNIST_DIR) + "/train-images-idx3-ubyte.gz"),
                 "Fashion-MNIST missing: apt-get install dataset-fashion-mnist");
        project = tmp.filePath("cli.sqlite");
        const Result r = runCli(QStringList{"train", "--db", project} + kTinyData);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY(r.out.contains("Full-width PruningNet after BN recalibration: top-1"));
    }

    void demoOnTinyRealSubset() {
        const QString db = tmp.filePath("demo.sqlite");
        const Result r = runCli(QStringList{"demo", "--db", db, "--generations", "2"} + kTinyData + kTinySearch);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        for (const char* expected : {"Full-width PruningNet after BN recalibration", "Pareto front",
                                     "Best searched structure", "Uniform baseline at equal-or-higher MACs",
                                     "Searched vs uniform on the same 100 search-split images (paired):",
                                     "(95%)", "McNemar p", "Demo finished"})
            QVERIFY2(r.out.contains(expected), qPrintable(r.out));

        Store store(db.toStdString());
        QCOMPARE(store.trainings().size(), size_t(1));
        const TrainingRecord t = store.trainings()[0];
        QCOMPARE(QString::fromStdString(t.status), QString("finished"));
        QCOMPARE(t.steps, int64_t((10 * 50) / 32)); // 60 - 10 held out per class, batch 32
        QCOMPARE(t.totalSteps, t.steps);
        // A 15-step training logs every step, so its curve has a line to draw.
        QCOMPARE(store.trainingLog(t.id).size(), size_t(t.steps));
        QCOMPARE(store.runs().size(), size_t(1));
        // The best structure is named by the id retrain --candidate takes: a searched one of the run.
        const QRegularExpressionMatch best = QRegularExpression("Best searched structure \\(candidate (\\d+)\\): ").match(r.out);
        QVERIFY2(best.hasMatch(), qPrintable(r.out));
        int searchedWithThatId = 0;
        for (const CandidateRecord& c : store.candidates(store.runs()[0].id))
            searchedWithThatId += c.id == best.captured(1).toLongLong() && c.origin != "uniform";
        QCOMPARE(searchedWithThatId, 1);
        const RunRecord run = store.runs()[0];
        QCOMPARE(QString::fromStdString(run.status), QString("finished"));
        const SearchConfig cfg = searchConfigFromJson(run.config);
        const std::vector<CandidateRecord> all = store.candidates(run.id);
        int uniform = 0;
        for (const CandidateRecord& c : all) {
            if (c.origin == "uniform")
                ++uniform;
            else
                QVERIFY(meetsConstraint(cfg, c.macs));
            QVERIFY(c.top1 >= 0 && c.top1 <= 100);
        }
        QCOMPARE(uniform, 31);
        QCOMPARE(int(all.size()), 31 + 8 * 2);
        // The demo's constraint is 50% of the full network's MACs.
        QCOMPARE(cfg.maxMacs, int64_t(4467520 / 2));
    }

    void killedSearchLosesNoCommittedRow() {
        const QStringList args = QStringList{"search", "--db", project, "--generations", "6", "--max-macs", "40%"} +
                                 kTinySearch + QStringList{"--threads", "1"};
        QProcess p;
        p.start(METAPRUNE_CLI, args);
        QVERIFY(p.waitForStarted());
        std::vector<CandidateRecord> before;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 300000) {
            QTest::qWait(50);
            Store s(project.toStdString());
            const auto runs = s.runs();
            if (!runs.empty() && s.candidates(runs.back().id).size() >= 40)
                break;
            QVERIFY2(p.state() == QProcess::Running, qPrintable(p.readAllStandardError()));
        }
        ::kill(pid_t(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished());
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);
        {
            Store s(project.toStdString());
            before = s.candidates(s.runs().back().id);
        }
        QVERIFY(before.size() >= 40);
        QVERIFY(before.size() < size_t(31 + 8 * 6));

        const Result r = runCli(args);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("(resumed run)"), qPrintable(r.out));
        // The stored rows cost nothing: the ETA comes from this session's own evaluations, so
        // no progress line has one while only stored rows have been taken.
        const QRegularExpression progress("search\\s+\\d+%\\s+(\\d+)/\\d+[^\\n]*");
        int cachedLines = 0;
        for (auto m = progress.globalMatch(r.err); m.hasNext();) {
            const QRegularExpressionMatch line = m.next();
            if (line.captured(1).toInt() > int(before.size()))
                continue;
            ++cachedLines;
            QVERIFY2(!line.captured(0).contains("ETA"), qPrintable(line.captured(0)));
        }
        QVERIFY2(cachedLines >= 2, qPrintable(r.err)); // 0% and the deciles of the stored rows
        // The last candidate and the generation's end both report the total: one line in the log.
        QCOMPARE(r.err.count(QString("%1/%1").arg(31 + 8 * 6)), 1);
        QVERIFY2(r.out.contains(QString("%1 taken from the store").arg(before.size())), qPrintable(r.out));
        Store s(project.toStdString());
        QCOMPARE(s.runs().size(), size_t(1));
        const std::vector<CandidateRecord> after = s.candidates(s.runs().back().id);
        QCOMPARE(int(after.size()), 31 + 8 * 6);
        for (size_t i = 0; i < before.size(); ++i) {
            QCOMPARE(after[i].id, before[i].id);
            QCOMPARE(after[i].genes, before[i].genes);
            QCOMPARE(after[i].top1, before[i].top1);
        }
    }

    // A project file copied under another name without its checkpoint folder: the error says
    // which folder is missing, and nothing is written.
    void copiedProjectNamesTheMissingFolder() {
        QTemporaryDir elsewhere;
        const QString copy = elsewhere.filePath("renamed.sqlite");
        QVERIFY(QFile::copy(project, copy));
        const QByteArray bytes = [&] {
            QFile f(copy);
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        }();
        Result r = runCli({"search", "--db", copy, "--max-macs", "50%"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("checkpoint not found: its folder cli.checkpoints is missing beside the project;"),
                 qPrintable(r.err));
        // The folder copied under the project's new name: the message says which folder to rename.
        QVERIFY(QDir().mkpath(elsewhere.filePath("renamed.checkpoints")));
        for (const QFileInfo& f : QDir(tmp.filePath("cli.checkpoints")).entryInfoList(QDir::Files)) {
            QFile same(elsewhere.filePath("renamed.checkpoints/" + f.fileName())); // its name is what is looked for
            QVERIFY(same.open(QIODevice::WriteOnly));
        }
        r = runCli({"search", "--db", copy, "--max-macs", "50%"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("(renamed.checkpoints beside it holds a file of that name: rename that folder to "
                                "cli.checkpoints)"),
                 qPrintable(r.err));
        QFile after(copy);
        QVERIFY(after.open(QIODevice::ReadOnly));
        QCOMPARE(after.readAll(), bytes);
    }

    void paretoFormats() {
        const Result csv = runCli({"pareto", "--db", project, "--all", "--format", "csv"});
        QVERIFY2(csv.code == 0, qPrintable(csv.err));
        const QStringList lines = csv.out.trimmed().split('\n');
        QCOMPARE(lines[0],
                 QString("run,id,macs,params,top1,loss,origin,generation,on_front,genes,channels,latency_ms,damage"));
        QCOMPARE(lines.size(), 1 + 31 + 8 * 6);
        const Result front = runCli({"pareto", "--db", project, "--format", "json"});
        QVERIFY2(front.code == 0, qPrintable(front.err));
        const QJsonArray arr = QJsonDocument::fromJson(front.out.toUtf8()).array();
        QVERIFY(!arr.isEmpty());
        double lastTop1 = -1;
        qint64 lastMacs = -1;
        for (const QJsonValue& v : arr) { // front: MACs and top-1 both strictly increase
            QVERIFY(v["on_front"].toBool());
            QVERIFY(v["macs"].toInteger() > lastMacs);
            QVERIFY(v["top1"].toDouble() > lastTop1);
            lastMacs = v["macs"].toInteger();
            lastTop1 = v["top1"].toDouble();
        }
    }

    // export, retrain, compare and fidelity on the tiny project: files that load, rows stored
    // once, reports whose numbers match the store.
    void exportRetrainCompareFidelity() {
        const QString onnx = tmp.filePath("net.onnx");
        Result r = runCli({"export", "--db", project, "--uniform", "20", "--output", onnx});
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY(QFileInfo(onnx).size() > 1000);
        // Each export keeps its own metadata: net.onnx and net.pt never share net.json.
        r = runCli({"export", "--db", project, "--uniform", "10", "--output", tmp.filePath("net.pt")});
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY(!QFile::exists(tmp.filePath("net.json")));
        QFile ptMeta(tmp.filePath("net.pt.json"));
        QVERIFY(ptMeta.open(QIODevice::ReadOnly));
        const ArchSpec small = makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        QCOMPARE(QJsonDocument::fromJson(ptMeta.readAll()).object()["macs"].toInteger(),
                 qint64(countMacs(small, uniformEncoding(small, 10))));
        QFile meta(tmp.filePath("net.onnx.json"));
        QVERIFY(meta.open(QIODevice::ReadOnly));
        const QJsonObject m = QJsonDocument::fromJson(meta.readAll()).object();
        const ArchSpec a = makeArchitecture("mobilenetv2", "small", 1, 28, 28, 10);
        QCOMPARE(m["macs"].toInteger(), qint64(countMacs(a, uniformEncoding(a, 20))));
        QCOMPARE(m["class_names"].toArray().at(9).toString(), QString("Ankle boot"));
        r = runCli({"export", "--db", project, "--uniform", "20", "--output", tmp.filePath("net.bin"), "--format", "tflite"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("unknown export format 'tflite'"), qPrintable(r.err));

        const QString report = tmp.filePath("compare.md"), chart = tmp.filePath("compare.png");
        const QStringList compare = QStringList{"compare", "--db", project, "--targets", "50%,25%", "--seeds", "1,2",
                                                "--epochs", "1", "--generations", "1", "--report", report,
                                                "--chart", chart, "--json", tmp.filePath("compare.json"),
                                                "--threads", "2"} + kTinySearch;
        r = runCli(compare);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QImage png(chart);
        QCOMPARE(png.size(), QSize(900, 520));
        QFile md(report);
        QVERIFY(md.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(md.readAll());
        QVERIFY2(text.contains("| 50.0% (2.23M) |") && text.contains("| 25.0% (1.12M) |"), qPrintable(text));
        QVERIFY2(text.contains("Pairing: equal cost") && text.contains("(sd, n=2)"), qPrintable(text));
        QFile js(tmp.filePath("compare.json"));
        QVERIFY(js.open(QIODevice::ReadOnly));
        const QJsonObject cj = QJsonDocument::fromJson(js.readAll()).object();
        QCOMPARE(cj["version"].toInt(), 3); // 3: the baseline, original model and L1 rows
        QCOMPARE(cj["pairing"].toString(), QString("equal-cost"));
        QCOMPARE(cj["baseline"].toString(), QString("uniform"));
        QVERIFY(!cj.contains("original_top1")); // a project trained from random weights has no original model
        for (const QJsonValue& row : cj["rows"].toArray()) // searched within the uniform network's MACs
            QVERIFY(row["arms"][0]["searched"]["macs"].toInteger() <= row["arms"][0]["uniform"]["macs"].toInteger());
        size_t compareRows = 0;
        {
            Store store(project.toStdString());
            for (const RetrainRecord& x : store.retrains())
                compareRows += x.purpose == "compare";
        }
        QCOMPARE(compareRows, size_t(2 * 2 * 2)); // targets x seeds x (searched, uniform)
        r = runCli(compare);                      // everything is reused
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(Store(project.toStdString()).retrains().size(), compareRows);

        r = runCli({"fidelity", "--db", project, "--samples", "4", "--eval-images", "100", "--recal-batches", "2",
                    "--report", tmp.filePath("fidelity.md"), "--threads", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("(n = 4)"), qPrintable(r.out));
        r = runCli({"fidelity", "--db", project, "--band", "45%..50%", "--samples", "4", "--eval-images", "100",
                    "--recal-batches", "2", "--report", tmp.filePath("band.md"), "--threads", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("spread over the band 2.01M..2.23M MACs") && r.out.contains("Top-3 overlap"),
                 qPrintable(r.out));

        const qint64 id = Store(project.toStdString()).retrains().front().candidateId;
        const QString retrained = tmp.filePath("retrained.pt");
        r = runCli({"retrain", "--db", project, "--candidate", QString::number(id), "--mode", "finetune", "--epochs",
                    "1", "--export", retrained, "--threads", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("test top-1") && QFile::exists(retrained), qPrintable(r.out));

        r = runCli({"compare", "--db", project, "--targets", "0.01%"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("below the smallest network"), qPrintable(r.err));
        r = runCli({"retrain", "--db", project});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("--candidate is required"), qPrintable(r.err));
    }

    // --jobs 2 runs a study's retrainings and searches on two worker processes: the stored rows
    // are those of --jobs 1 (candidates compared by structure: parallel searches insert in
    // another order), and a second run reuses them all.
    void jobsStoreTheRowsOfOneProcess() {
        QTemporaryDir dir;
        const auto copyProject = [&](const QString& name) { // in a folder of its own, with its checkpoints
            QDir().mkpath(dir.filePath(name + "/cli.checkpoints"));
            const QString db = dir.filePath(name + "/cli.sqlite");
            if (!QFile::copy(project, db))
                return QString();
            for (const QFileInfo& f : QDir(tmp.filePath("cli.checkpoints")).entryInfoList(QDir::Files))
                QFile::copy(f.filePath(), dir.filePath(name + "/cli.checkpoints/" + f.fileName()));
            return db;
        };
        const QString one = copyProject("one"), two = copyProject("two");
        QVERIFY(!one.isEmpty() && !two.isEmpty());
        const auto rows = [](const QString& db) {
            QStringList out;
            Store s(db.toStdString());
            std::map<int64_t, std::string> genes;
            for (const RunRecord& run : s.runs())
                for (const CandidateRecord& c : s.candidates(run.id))
                    for (int g : c.genes)
                        genes[c.id] += std::to_string(g) + ",";
            for (const RetrainRecord& r : s.retrains())
                out << QString("%1 %2 seed %3: %4 %5")
                           .arg(QString::fromStdString(r.purpose), QString::fromStdString(genes[r.candidateId]))
                           .arg(r.seed)
                           .arg(r.testTop1, 0, 'f', 6)
                           .arg(r.testLoss, 0, 'f', 6);
            out.sort();
            return out;
        };
        const QStringList before = rows(one);
        QCOMPARE(rows(two), before);
        const QStringList fidelity = QStringList{"fidelity", "--band", "40%..55%", "--samples", "4", "--seeds", "1,2",
                                                 "--sample-seed", "5", "--threads", "1"} +
                                     kTinySearch.mid(8);
        Result r = runCli(QStringList{"fidelity", "--db", one, "--report", dir.filePath("one.md")} + fidelity.mid(1));
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        r = runCli(QStringList{"fidelity", "--db", two, "--jobs", "2", "--report", dir.filePath("two.md")} +
                   fidelity.mid(1));
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.err.contains("8 retrain units on 2 processes 100%  8/8"), qPrintable(r.err));
        QStringList after = rows(two);
        QCOMPARE(after.size(), before.size() + 8); // 4 structures x 2 seeds, nothing else
        QCOMPARE(after, rows(one));
        QFile a(dir.filePath("one.md")), b(dir.filePath("two.md"));
        QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
        QCOMPARE(b.readAll(), a.readAll());

        const QStringList compare = QStringList{"compare", "--targets", "50%", "--seeds", "1,2", "--search-seeds", "3",
                                                "--epochs", "1", "--generations", "1", "--threads", "1"} +
                                    kTinySearch;
        for (const QString& db : {one, two}) {
            const QString name = QFileInfo(QFileInfo(db).path()).fileName();
            QStringList args = QStringList{"compare", "--db", db, "--report", dir.filePath(name + "-c.md"), "--json",
                                           dir.filePath(name + "-c.json"), "--chart", dir.filePath(name + "-c.png")} +
                               compare.mid(1);
            if (db == two)
                args << "--jobs" << "2";
            r = runCli(args);
            QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        }
        QVERIFY2(r.err.contains("1 search unit on 1 process 100%") &&
                     r.err.contains("retrain units on 2 processes 100%"),
                 qPrintable(r.err));
        after = rows(two);
        QCOMPARE(after, rows(one));
        r = runCli(QStringList{"fidelity", "--db", two, "--jobs", "2", "--report", dir.filePath("again.md")} +
                   fidelity.mid(1));
        QVERIFY2(r.code == 0 && !r.err.contains("units on"), qPrintable(r.err)); // all stored: no worker started
        QCOMPARE(rows(two), after);

        // Another PruningNet on the same data split (another rate): the same structures'
        // retrainings from scratch do not depend on it, so they are recorded again, not rerun.
        QStringList tiny = kTinyData;
        tiny[tiny.indexOf("--threads") + 1] = "1";
        r = runCli(QStringList{"train", "--db", two, "--lr", "0.3"} + tiny);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        r = runCli(QStringList{"fidelity", "--db", two, "--training", "2", "--jobs", "2", "--report",
                               dir.filePath("other.md")} +
                   fidelity.mid(1));
        QVERIFY2(r.code == 0 && !r.err.contains("units on"), qPrintable(r.out + r.err));
        QStringList extra = rows(two);
        for (const QString& row : after)
            extra.removeOne(row);
        QCOMPARE(extra.size(), 8); // the same 4 structures x 2 seeds, with the first PruningNet's results
        for (const QString& row : extra)
            QVERIFY2(after.contains(row), qPrintable(row));
    }

    void badInput_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("missing data folder") << QStringList{"train", "--db", "x.sqlite", "--data", "/nonexistent/fm"}
                                             << 1 << "/nonexistent/fm: data path not found";
        QTest::newRow("impossible constraint")
            << QStringList{"search", "--db", "PROJECT", "--max-macs", "1k"} << 2 << "impossible constraint";
        QTest::newRow("empty band") << QStringList{"search", "--db", "PROJECT", "--max-macs", "1M", "--min-macs", "2M"}
                                    << 2 << "MACs band is empty";
        QTest::newRow("bad MACs text") << QStringList{"search", "--db", "PROJECT", "--max-macs", "lots"} << 2
                                       << "not a number";
        QTest::newRow("bad encoding") << QStringList{"evaluate", "--db", "PROJECT", "--encoding", "1,2,3"} << 2
                                      << "encoding has 3 genes";
        QTest::newRow("no such project") << QStringList{"search", "--db", "/nonexistent/p.sqlite"} << 1
                                         << "project /nonexistent/p.sqlite does not exist";
        QTest::newRow("pareto of no such project") << QStringList{"pareto", "--db", "/nonexistent/p.sqlite"} << 1
                                                   << "project /nonexistent/p.sqlite does not exist";
        QTest::newRow("truncated ONNX model") << QStringList{"import", "TRUNCATED", "-o", "/tmp/never.arch.json"} << 1
                                              << "not an ONNX model (the protobuf does not parse)";
        QTest::newRow("malformed architecture file") << QStringList{"arch", "--arch-file", "MALFORMED"} << 1
                                                     << "not a JSON object";
        QTest::newRow("search-rank without its files") << QStringList{"search-rank"} << 2
                                                       << "--checkpoint and --config are required";
        QTest::newRow("search-rank outside a run")
            << QStringList{"search-rank", "--checkpoint", "x.pt", "--config", "s.json"} << 2
            << "search-rank serves a rank other than 0: set RANK";
        QTest::newRow("max MACs above the full network")
            << QStringList{"search", "--db", "PROJECT", "--max-macs", "150%"} << 2
            << "--max-macs 150% is above the full network's 4.47M MACs (100%)";
        QTest::newRow("bad option value") << QStringList{"train", "--epochs", "zero"} << 2 << "--epochs";
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << 2 << "unknown command";
        QTest::newRow("not-a-number option") << QStringList{"train", "--lr", "nan"} << 2 << "--lr must be a number";
        QTest::newRow("zero max MACs") << QStringList{"search", "--db", "PROJECT", "--max-macs", "0"} << 2
                                       << "use 'none'";
        QTest::newRow("unknown option") << QStringList{"train", "--bogus"} << 2 << "Unknown option 'bogus'";
        QTest::newRow("stray argument") << QStringList{"search", "--db", "PROJECT", "--max-macs", "50", "%"} << 2
                                        << "unexpected argument '%'";
        QTest::newRow("bad input size") << QStringList{"train", "--size", "28x0"} << 2 << "--size must be H or HxW";
        QTest::newRow("bad --max-bad") << QStringList{"train", "--max-bad", "2"} << 2 << "--max-bad must be a number";
        QTest::newRow("empty fidelity band") << QStringList{"fidelity", "--db", "PROJECT", "--band", "50%..45%"} << 2
                                             << "--band is empty";
        QTest::newRow("bad pairing") << QStringList{"compare", "--db", "PROJECT", "--pairing", "nearest"} << 2
                                     << "--pairing: unknown pairing 'nearest'";
        QTest::newRow("target of no MACs") << QStringList{"compare", "--db", "PROJECT", "--targets", "50%,0%"} << 2
                                           << "--targets: 0% is outside the full network's MACs";
        QTest::newRow("target above the full network")
            << QStringList{"compare", "--db", "PROJECT", "--targets", "1.5"} << 2
            << "--targets: 1.5 is outside the full network's MACs";
        QTest::newRow("unknown preset") << QStringList{"arch", "--preset", "huge"} << 2 << "unknown architecture";
        // 125,709 MACs is the smallest network, the next achievable value is above 125,712.
        QTest::newRow("band between achievable values")
            << QStringList{"search", "--db", "PROJECT", "--min-macs", "125710", "--max-macs", "125712"} << 2
            << "no encoding of mobilenetv2/small was found with MACs in [125710, 125712]";
        QTest::newRow("json names the export itself")
            << QStringList{"export", "--db", "PROJECT", "--uniform", "3", "--output", "/tmp/x.onnx", "--json", "/tmp/x.onnx"}
            << 2 << "--json names the exported file itself";
        // The trained-model options, refused before any data is read or any search runs.
        QTest::newRow("inherit on a PruningNet from random weights")
            << QStringList{"compare", "--db", "PROJECT", "--targets", "50%", "--mode", "inherit"} << 2
            << "--mode inherit needs the trained model, and this PruningNet was trained from random weights";
        QTest::newRow("half a normalisation")
            << QStringList{"import", "TRUNCATED", "-o", "x.arch.json", "--mean", "0.5", "--threads", "1"} << 2
            << "give --mean and --std together";
        QTest::newRow("normalisation on the 0..255 scale")
            << QStringList{"import", "TRUNCATED", "-o", "x.arch.json", "--mean", "73", "--std", "90"} << 2
            << "--mean '73': the values apply to pixels scaled to 0..1";
        QTest::newRow("distillation of no weight")
            << QStringList{"retrain", "--db", "PROJECT", "--candidate", "1", "--distill", "--alpha", "0"} << 2
            << "--alpha 0 gives the distillation no weight";
    }
    void badInput() {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, message);
        args.replaceInStrings("PROJECT", project);
        // Files cut off or damaged on disk, made here: an ONNX protobuf cut in its first field,
        // an architecture file cut inside its JSON.
        QFile truncated(tmp.filePath("trunc.onnx")), malformed(tmp.filePath("cut.arch.json"));
        QVERIFY(truncated.open(QIODevice::WriteOnly) && truncated.write("\x08\x07\x12\x7f") == 4);
        QVERIFY(malformed.open(QIODevice::WriteOnly) && malformed.write("{\"format\": \"metaprune-arch\", \"ver") > 0);
        truncated.close();
        malformed.close();
        args.replaceInStrings("TRUNCATED", truncated.fileName());
        args.replaceInStrings("MALFORMED", malformed.fileName());
        const Result r = runCli(args);
        QCOMPARE(r.code, code);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
    }

    // Parents, mutants and crossovers follow the population when not given (the reference's
    // 10, 25, 25 at 50), so a small population is one option.
    void smallPopulationNeedsNoOtherOption() {
        const QString db = tmp.filePath("small-population.sqlite");
        QVERIFY(QFile::copy(project, db));
        const Result r = runCli({"search", "--db", db, "--population", "6", "--generations", "1", "--no-uniform",
                                 "--eval-images", "100", "--recal-batches", "2", "--recal-batch-size", "32"},
                                120000);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        const Store s(db.toStdString());
        const SearchConfig c = searchConfigFromJson(s.runs().back().config);
        QCOMPARE(c.population, 6);
        QCOMPARE(c.parents, 6);
        QCOMPARE(c.mutations, 3);
        QCOMPARE(c.crossovers, 3);
    }

    void sparseBandEndsWithOneCandidate() {
        // Only the smallest network has at most 125,709 MACs: one candidate, then a clear end.
        const QString db = tmp.filePath("sparse.sqlite");
        QVERIFY(QFile::copy(project, db));
        const Result r = runCli(QStringList{"search", "--db", db, "--max-macs", "125709", "--no-uniform",
                                            "--generations", "4"} + kTinySearch,
                                120000);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("The search ended after generation 1 of 4") &&
                     r.out.contains("1 candidates were evaluated in it"),
                 qPrintable(r.out));
        const Store s(db.toStdString());
        QCOMPARE(s.candidates(s.runs().back().id).size(), size_t(1));
    }

    // A maximum at the smallest network's MACs holds only the uniform 0.10x network: the front
    // says why it has no searched candidates.
    void frontWithoutSearchedCandidatesSaysWhy() {
        const QString db = tmp.filePath("smallest.sqlite");
        QVERIFY(QFile::copy(project, db));
        const Result r = runCli(QStringList{"search", "--db", db, "--max-macs", "125709", "--generations", "2"} +
                                    kTinySearch,
                                120000);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        const QString why = "(no searched candidates: the search found no structure within the constraint other than "
                            "the 1 uniform network evaluated as baselines; the smallest network has 125.7k MACs";
        QVERIFY2(r.out.contains(why) && r.out.contains("(31 of the run's candidates are the uniform baselines)"),
                 qPrintable(r.out));
        const Result listed = runCli({"pareto", "--db", db});
        QVERIFY2(listed.code == 0 && listed.out.contains(why), qPrintable(listed.out + listed.err));
    }

    // Settings that cannot train (a batch of 4 over 3 processes) are refused once, before any
    // rank starts or anything is written: no project, no training row, no checkpoints folder.
    void refusedTrainingWritesNothing() {
        const QString db = tmp.filePath("uneven.sqlite");
        QStringList args = QStringList{"train", "--db", db, "--nproc", "3"} + kTinyData;
        args[args.indexOf("--batch-size") + 1] = "4";
        const Result r = runCli(args, 120000);
        QCOMPARE(r.code, 2); // settings no run can use
        QCOMPARE(r.err.count("batch size 4 does not split evenly over 3 processes"), 1);
        QVERIFY2(!r.out.contains("Running train on 3 local processes"), qPrintable(r.out)); // no rank started
        QVERIFY(!QFileInfo::exists(db));
        QVERIFY(!QFileInfo::exists(tmp.filePath("uneven.checkpoints")));
        // Data that cannot fill one batch is refused the same way: the project gets no row.
        QVERIFY(QFile::copy(project, db));
        const size_t before = Store(db.toStdString(), StoreMode::ReadOnly).trainings().size();
        QStringList big = QStringList{"train", "--db", db} + kTinyData;
        big[big.indexOf("--batch-size") + 1] = "1024"; // 500 training images after the split
        const Result r2 = runCli(big, 120000);
        QCOMPARE(r2.code, 1);
        QVERIFY2(r2.err.contains("fewer than one batch of 1024"), qPrintable(r2.err));
        QVERIFY2(!r2.out.contains("Training PruningNet"), qPrintable(r2.out));
        QCOMPARE(Store(db.toStdString(), StoreMode::ReadOnly).trainings().size(), before);
        QVERIFY(!QFileInfo::exists(tmp.filePath("uneven.checkpoints")));
    }

    void oneSignalCancelsAtOnce_data() {
        QTest::addColumn<int>("signal");
        QTest::newRow("SIGINT") << int(SIGINT);
        QTest::newRow("SIGTERM") << int(SIGTERM);
    }
    void oneSignalCancelsAtOnce() {
        QFETCH(int, signal);
        const QString db = tmp.filePath(QString("signal-%1.sqlite").arg(signal));
        QVERIFY(QFile::copy(project, db));
        QProcess p;
        p.start(METAPRUNE_CLI, QStringList{"search", "--db", db, "--max-macs", "40%", "--generations", "50"} +
                                   kTinySearch + QStringList{"--threads", "1"});
        QVERIFY(p.waitForStarted());
        QByteArray err;
        QTRY_VERIFY_WITH_TIMEOUT((err += p.readAllStandardError()).contains("search "), 120000); // searching now
        ::kill(pid_t(p.processId()), signal);
        QElapsedTimer stop;
        stop.start();
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 130);
        err += p.readAllStandardError();
        QVERIFY2(!err.contains("interrupted again"), err.constData());
        QVERIFY2(stop.elapsed() < 30000, "one signal must end the search promptly");
        const Store s(db.toStdString());
        QCOMPARE(QString::fromStdString(s.runs().back().status), QString("cancelled"));
    }

    void damagedRowsStayOffTheFront() {
        const QString db = tmp.filePath("damaged.sqlite");
        QVERIFY(QFile::copy(project, db));
        // The front of the first search run as stored, before anything is damaged.
        Result r = runCli({"pareto", "--db", db, "--run", "1", "--format", "json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QJsonArray front = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QVERIFY(front.size() >= 2);
        const qint64 cheapest = front.first().toObject()["id"].toInteger();
        const qint64 best = front.last().toObject()["id"].toInteger();
        {
            QSqlDatabase sql = QSqlDatabase::addDatabase("QSQLITE", "damage");
            sql.setDatabaseName(db);
            QVERIFY(sql.open());
            QSqlQuery q(sql);
            QVERIFY(q.exec(QString("UPDATE candidates SET macs = 0 WHERE id = %1").arg(best)));
            QVERIFY(q.exec(QString("UPDATE candidates SET top1 = 9e999 WHERE id = %1").arg(cheapest)));
            sql.close();
        }
        QSqlDatabase::removeDatabase("damage");
        r = runCli({"pareto", "--db", db, "--run", "1", "--format", "json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains("2 damaged rows kept off the front") &&
                     r.err.contains(QString("candidate %1: MACs is not a positive count ('0')").arg(best)) &&
                     r.err.contains(QString("candidate %1: top-1 is not a finite number ('inf')").arg(cheapest)),
                 qPrintable(r.err));
        for (const QJsonValue& v : QJsonDocument::fromJson(r.out.toUtf8()).array()) {
            const QJsonObject o = v.toObject();
            QVERIFY(o["id"].toInteger() != best && o["id"].toInteger() != cheapest);
            QVERIFY(o["macs"].toInteger() > 0);
        }
        r = runCli({"pareto", "--db", db, "--run", "1", "--all"});
        QVERIFY2(r.out.contains(QString("%1  damaged: MACs is not a positive count").arg(best, 6)), qPrintable(r.out));
        QVERIFY(!r.out.contains("inf%") && !r.out.contains("nan%"));
        r = runCli({"export", "--db", db, "--candidate", QString::number(best), "--output", tmp.filePath("bad.onnx")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("is damaged in the project"), qPrintable(r.err));
    }

    void badProjectFilesLeaveNothingBehind() {
        // A read-only command never writes: pareto on an empty file leaves it empty.
        const QString empty = tmp.filePath("empty.sqlite");
        QFile(empty).open(QIODevice::WriteOnly);
        Result r = runCli({"pareto", "--db", empty});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("is an empty file, not a MetaPrune Studio project"), qPrintable(r.err));
        QCOMPARE(QFileInfo(empty).size(), qint64(0));
        QVERIFY(!QFile::exists(empty + "-wal"));
        // train on a file that is not a project fails before creating its checkpoints folder.
        const QString notProject = tmp.filePath("notes.sqlite");
        QFile f(notProject);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("these are notes, not a database\n");
        f.close();
        r = runCli(QStringList{"train", "--db", notProject} + kTinyData);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("notes.sqlite"), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(tmp.filePath("notes.checkpoints")));
        // ... and before the data is read or the training announced.
        QVERIFY2(!r.out.contains("Data: ") && !r.out.contains("Training PruningNet"), qPrintable(r.out));
    }

    void unlearnedPruningNetIsCalledOut() {
        // lr 1e-8: the PruningNet never leaves its initialisation, so the full-width network
        // stays at chance (11.0% on these 200 test images with seed 1; learned means above 16.4%).
        const QString db = tmp.filePath("unlearned.sqlite");
        Result r = runCli(QStringList{"train", "--db", db} + kTinyData + QStringList{"--lr", "1e-8"});
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("WARNING: training 1's PruningNet has not learned"), qPrintable(r.out));
        const Store s(db.toStdString());
        const TrainingRecord t = s.trainings().at(0);
        QVERIFY(t.fullTop1.has_value());
        QCOMPARE(t.checkImages, int64_t(200));
        QCOMPARE(*t.chanceTop1, 10.0); // 20 test images per class
        QVERIFY(*t.fullTop1 <= 10.0 + std::max(2.0, 300.0 * std::sqrt(0.1 * 0.9 / 200)));
        r = runCli(QStringList{"search", "--db", db, "--generations", "1"} + kTinySearch);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("has not learned") && r.err.contains("not meaningful"), qPrintable(r.err));
        QCOMPARE(Store(db.toStdString()).runs().size(), size_t(0));
        r = runCli(QStringList{"search", "--db", db, "--generations", "1", "--force"} + kTinySearch);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("WARNING") && r.out.contains("rank nothing"), qPrintable(r.out));
    }

    void studioWithoutDisplayFallsBackToHeadlessDemo() {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove("DISPLAY");
        env.remove("WAYLAND_DISPLAY");
        env.remove("QT_QPA_PLATFORM");
        p.setProcessEnvironment(env);
        const QString db = tmp.filePath("fallback.sqlite");
        p.start(METAPRUNE_STUDIO, QStringList{"--demo", "--db", db, "--generations", "1"} + kTinyData + kTinySearch);
        QVERIFY(p.waitForFinished(600000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        const QString out = QString::fromUtf8(p.readAllStandardOutput());
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(err.contains("no display") && err.contains("headless demo"), qPrintable(err));
        QVERIFY2(out.contains("Demo finished"), qPrintable(out));
        QVERIFY(QFile::exists(db));
    }

    void helpListsEveryCommandOption() {
        const Result r = runCli({"search", "--help"});
        QCOMPARE(r.code, 0);
        for (const char* o : {"--max-macs", "--min-macs", "--population", "--generations", "--search-images",
                              "--eval-images", "--recal-batches", "--score"})
            QVERIFY2(r.out.contains(o), o);
        // Descriptions wrap with the longest option's width: compare the text, not the layout.
        QVERIFY2(r.out.simplified().contains("Default: 50%."), qPrintable(r.out));
    }

    void modifiedCheckpointIsRefused() {
        std::string ckpt;
        {
            Store store(project.toStdString());
            ckpt = store.trainings().front().checkpoint;
        }
        QFile f(QString::fromStdString(ckpt));
        QVERIFY(f.open(QIODevice::ReadWrite));
        const qint64 at = f.size() / 2;
        f.seek(at);
        const QByteArray original = f.read(8);
        f.seek(at);
        f.write(QByteArray(8, '\x7f'));
        f.close();
        const Result r = runCli({"evaluate", "--db", project, "--uniform", "15"});
        QVERIFY(f.open(QIODevice::ReadWrite)); // restore for any later use
        f.seek(at);
        f.write(original);
        f.close();
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("changed since training 1") && r.err.contains(QString::fromStdString(ckpt)),
                 qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
