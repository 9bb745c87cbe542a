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
#include <QTemporaryDir>
#include <QtTest>

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
        QVERIFY(!store.trainingLog(t.id).empty());
        QCOMPARE(store.runs().size(), size_t(1));
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

    void paretoFormats() {
        const Result csv = runCli({"pareto", "--db", project, "--all", "--format", "csv"});
        QVERIFY2(csv.code == 0, qPrintable(csv.err));
        const QStringList lines = csv.out.trimmed().split('\n');
        QCOMPARE(lines[0], QString("run,id,macs,params,top1,loss,origin,generation,on_front,genes,channels,latency_ms"));
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
        QFile meta(tmp.filePath("net.json"));
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
        QCOMPARE(cj["version"].toInt(), 2);
        QCOMPARE(cj["pairing"].toString(), QString("equal-cost"));
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
        QTest::newRow("no such project") << QStringList{"search", "--db", "/nonexistent/p.sqlite"} << 2
                                         << "does not exist";
        QTest::newRow("bad option value") << QStringList{"train", "--epochs", "zero"} << 2 << "--epochs";
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << 2 << "unknown command";
        QTest::newRow("not-a-number option") << QStringList{"train", "--lr", "nan"} << 2 << "--lr must be a number";
        QTest::newRow("zero max MACs") << QStringList{"search", "--db", "PROJECT", "--max-macs", "0"} << 2
                                       << "use 'none'";
        QTest::newRow("unknown option") << QStringList{"train", "--bogus"} << 2 << "Unknown option 'bogus'";
        QTest::newRow("stray argument") << QStringList{"search", "--db", "PROJECT", "--max-macs", "50", "%"} << 2
                                        << "unexpected argument '%'";
        QTest::newRow("empty fidelity band") << QStringList{"fidelity", "--db", "PROJECT", "--band", "50%..45%"} << 2
                                             << "--band is empty";
        QTest::newRow("bad pairing") << QStringList{"compare", "--db", "PROJECT", "--pairing", "nearest"} << 2
                                     << "--pairing: unknown pairing 'nearest'";
        QTest::newRow("unknown preset") << QStringList{"arch", "--preset", "huge"} << 2 << "unknown architecture";
    }
    void badInput() {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, message);
        args.replaceInStrings("PROJECT", project);
        const Result r = runCli(args);
        QCOMPARE(r.code, code);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
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
        for (const char* o : {"--max-macs", "--min-macs", "--population", "--generations", "--eval-images",
                              "--recal-batches"})
            QVERIFY2(r.out.contains(o), o);
        QVERIFY2(r.out.contains("Default: 50%"), qPrintable(r.out));
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
