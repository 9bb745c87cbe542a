// Data-parallel training and sharded search on c10d/Gloo with 2 local processes: 2 ranks with
// batch B each follow 1 process with batch 2B; a 2-rank search stores the 1-rank search's rows;
// a killed rank ends the other with a message and leaves a loadable checkpoint; rendezvous
// errors (a missing rank, other settings, a port in use) end with a message naming the cause.
#include "training_p.h"

#include "metaprune/project.h"
#include "metaprune/search.h"
#include "metaprune/store.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace mp;

namespace {

struct Result {
    int code = -1;
    QString out, err;
};

QProcessEnvironment rankEnv(int rank, int world, int port) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("RANK", QString::number(rank));
    env.insert("LOCAL_RANK", QString::number(rank));
    env.insert("WORLD_SIZE", QString::number(world));
    env.insert("MASTER_ADDR", "127.0.0.1");
    env.insert("MASTER_PORT", QString::number(port));
    return env;
}

Result finish(QProcess& p, int timeoutMs) {
    Result r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out\n";
    } else {
        r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    }
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err += QString::fromUtf8(p.readAllStandardError());
    return r;
}

Result runCli(const QStringList& args, int timeoutMs = 300000,
              const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(METAPRUNE_CLI, args);
    return finish(p, timeoutMs);
}

/// Largest absolute difference between every parameter and buffer (weights, generator rows
/// and their momentum, BN statistics) of two checkpoints, and their step counts.
double maxAbsDifference(const QString& a, const QString& b, int64_t& stepsA, int64_t& stepsB) {
    CheckpointInfo ia, ib;
    mp::detail::PruningNetModule na = mp::detail::loadCheckpoint(a.toStdString(), ia);
    mp::detail::PruningNetModule nb = mp::detail::loadCheckpoint(b.toStdString(), ib);
    stepsA = ia.step;
    stepsB = ib.step;
    double worst = 0;
    const auto pa = na->named_parameters(), pb = nb->named_parameters();
    const auto ba = na->named_buffers(), bb = nb->named_buffers();
    if (pa.size() != pb.size() || ba.size() != bb.size())
        return 1e30;
    for (const auto& item : pa)
        worst = std::max(worst, (item.value() - pb[item.key()]).abs().max().item<double>());
    for (const auto& item : ba)
        worst = std::max(worst, (item.value() - bb[item.key()]).abs().max().item<double>());
    return worst;
}

// 40 training images (14 per class less 10 held out): one global batch of 32, one step. Over
// more steps the comparison measures the model's conditioning, not the exchange: batch norm's
// scale invariance makes sums such as sum(g * xhat) cancel, so float rounding differences
// between oneDNN's batch-16 and batch-32 convolutions grow (README, "Several processes").
const QStringList kData = {"--data",       FASHION_MNIST_DIR, "--train-per-class", "14", "--test-per-class", "20",
                           "--search-per-class", "10",        "--epochs",          "1",  "--batch-size",     "32",
                           "--warmup-steps",     "5",         "--threads",         "1",  "--lr",             "0.05",
                           "--sync-bn"};
// 500 training images, 15 steps: the search's PruningNet and the killed training.
const QStringList kLonger = {"--data",       FASHION_MNIST_DIR, "--train-per-class", "60", "--test-per-class", "20",
                             "--search-per-class", "10",        "--epochs",          "1",  "--batch-size",     "32",
                             "--warmup-steps",     "5",         "--threads",         "1"};
const QStringList kSearch = {"--population", "8", "--parents", "3", "--mutations", "3", "--crossovers", "3",
                             "--generations", "2", "--eval-images", "100", "--recal-batches", "2",
                             "--recal-batch-size", "32", "--max-macs", "50%", "--force", "--threads", "1"};

} // namespace

class TestDistributed : public QObject {
    Q_OBJECT
    QTemporaryDir tmp;

    QString path(const QString& name) const { return tmp.filePath(name); }

private slots:
    void initTestCase() {
        QVERIFY2(QFile::exists(QString(FASHION_MNIST_DIR) + "/train-images-idx3-ubyte.gz"),
                 "Fashion-MNIST missing: apt-get install dataset-fashion-mnist");
    }

    // 2 ranks with batch 16 each against 1 process with batch 32: every weight, generator row,
    // momentum buffer and BN statistic after the step.
    void twoRanksEqualOneProcess_data() {
        QTest::addColumn<QStringList>("extra");
        QTest::newRow("sparse update") << QStringList{};
        QTest::newRow("dense update") << QStringList{"--generator-update", "dense"};
    }
    void twoRanksEqualOneProcess() {
        QFETCH(QStringList, extra);
        const QString tag = QString(QTest::currentDataTag()).replace(' ', '-');
        const QString one = path(tag + "-1.pt"), two = path(tag + "-2.pt");
        const Result r1 = runCli(QStringList{"train", "--db", path(tag + "-1.sqlite"), "--checkpoint", one} + kData +
                                 extra);
        QVERIFY2(r1.code == 0, qPrintable(r1.out + r1.err));
        const Result r2 = runCli(QStringList{"train", "--nproc", "2", "--db", path(tag + "-2.sqlite"),
                                             "--checkpoint", two} +
                                 kData + extra);
        QVERIFY2(r2.code == 0, qPrintable(r2.out + r2.err));
        QVERIFY2(r2.out.contains("data-parallel on 2 ranks: 16 images per rank"), qPrintable(r2.out));
        int64_t s1 = 0, s2 = 0;
        const double diff = maxAbsDifference(one, two, s1, s2);
        qInfo("%s: %lld steps, max abs difference of every weight and buffer, 2 ranks x 16 vs 1 x 32: %.3g",
              QTest::currentDataTag(), static_cast<long long>(s1), diff);
        QCOMPARE(s1, int64_t(1));
        QCOMPARE(s2, s1);
        QVERIFY2(diff < 1e-4, qPrintable(QString::number(diff)));
        // What the exchange removes: one process training on one shard (batch 16, the first
        // of its two steps) is far away.
        if (extra.isEmpty()) {
            const QString half = path("half.pt");
            QStringList d = kData;
            d[d.indexOf("--batch-size") + 1] = "16";
            const Result r3 = runCli(QStringList{"train", "--db", path("half.sqlite"), "--checkpoint", half} + d);
            QVERIFY2(r3.code == 0, qPrintable(r3.out + r3.err));
            int64_t s3 = 0;
            const double apart = maxAbsDifference(one, half, s1, s3);
            qInfo("one shard alone (batch 16, 2 steps) against batch 32: %.3g", apart);
            QVERIFY(apart > 1e-2);
        }
    }

    // Without --sync-bn (the default) each rank normalises with its own shard's statistics, as
    // DistributedDataParallel does: the run no longer equals one process (the BN buffers are the
    // shard's), and says so.
    void localBatchNormIsPerRank() {
        QStringList local = kData;
        local.removeAll("--sync-bn");
        const QString one = path("local-1.pt"), two = path("local-2.pt");
        Result r = runCli(QStringList{"train", "--db", path("local-1.sqlite"), "--checkpoint", one} + local);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        r = runCli(QStringList{"train", "--nproc", "2", "--db", path("local-2.sqlite"), "--checkpoint", two} + local);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("16 images per rank and step, per-rank (--sync-bn synchronises it) batch norm"),
                 qPrintable(r.out));
        QCOMPARE(readCheckpointInfo(two.toStdString()).config.batchNormRanks, 2); // a checkpoint of its own
        QCOMPARE(readCheckpointInfo(one.toStdString()).config.batchNormRanks, 1);
        int64_t s1 = 0, s2 = 0;
        const double diff = maxAbsDifference(one, two, s1, s2);
        qInfo("local batch norm, 2 ranks x 16 vs 1 x 32: max abs difference %.3g", diff);
        QCOMPARE(s2, s1);
        QVERIFY2(diff > 1e-4, qPrintable(QString::number(diff)));
    }

    // A single-process training stopped after its first epoch (1 step) resumes on 2 ranks: rank 0
    // loads the checkpoint and broadcasts it, both ranks continue at step 1.
    void resumeOnOtherRankCount() {
        QStringList twoEpochs = kData;
        twoEpochs[twoEpochs.indexOf("--epochs") + 1] = "2";
        // Two steps run without warm-up (it is capped at a quarter of the run): a small rate keeps
        // batch norm from amplifying the convolutions' batch-size-dependent rounding.
        twoEpochs[twoEpochs.indexOf("--lr") + 1] = "0.01";
        const QString ref = path("resume-ref.pt"), partial = path("resume.pt");
        Result r = runCli(QStringList{"train", "--db", path("resume-ref.sqlite"), "--checkpoint", ref} + twoEpochs);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        // The same settings as the command line's, in this process, stopped after the first epoch.
        const TrainConfig cfg = readCheckpointInfo(ref.toStdString()).config;
        configureRuntime(1);
        std::atomic<bool> cancel{false};
        TrainCallbacks cb;
        cb.epochEnd = [&](const TrainProgress&) { cancel = true; };
        const TrainOutcome stopped = trainPruningNet(loadTrainingData(cfg), cfg, partial.toStdString(), cb, &cancel);
        QVERIFY(!stopped.finished);
        QCOMPARE(readCheckpointInfo(partial.toStdString()).step, int64_t(1));
        r = runCli(QStringList{"train", "--nproc", "2", "--db", path("resume.sqlite"), "--checkpoint", partial} +
                   twoEpochs);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("resuming from its step 1 of 2"), qPrintable(r.out));
        int64_t s1 = 0, s2 = 0;
        const double diff = maxAbsDifference(ref, partial, s1, s2);
        qInfo("1 process for step 1, then 2 ranks for step 2, against 1 process for both: max abs difference %.3g",
              diff);
        QCOMPARE(s2, int64_t(2));
        QCOMPARE(s1, s2);
        QVERIFY2(diff < 1e-4, qPrintable(QString::number(diff)));
    }

    void twoRankSearchEqualsOneRank() {
        const QString db = path("search-1.sqlite"), ckpt = path("search.pt");
        Result r = runCli(QStringList{"train", "--db", db, "--checkpoint", ckpt} + kLonger);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY(QFile::copy(db, path("search-2.sqlite")));
        r = runCli(QStringList{"search", "--db", db, "--checkpoint", ckpt} + kSearch);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        r = runCli(QStringList{"search", "--nproc", "2", "--db", path("search-2.sqlite"), "--checkpoint", ckpt} +
                   kSearch);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QCOMPARE(r.out.count("Data: "), 1); // rank 0 speaks for the run
        const Store s1(db.toStdString(), StoreMode::ReadOnly), s2(path("search-2.sqlite").toStdString(),
                                                                  StoreMode::ReadOnly);
        QCOMPARE(s1.runs().size(), size_t(1));
        QCOMPARE(s2.runs().size(), size_t(1));
        const std::vector<CandidateRecord> a = s1.candidates(s1.runs()[0].id), b = s2.candidates(s2.runs()[0].id);
        QCOMPARE(int(a.size()), 31 + 8 * 2);
        QCOMPARE(b.size(), a.size());
        for (size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(b[i].id, a[i].id);
            QVERIFY(b[i].genes == a[i].genes);
            QCOMPARE(b[i].top1, a[i].top1);
            QCOMPARE(b[i].loss, a[i].loss);
            QCOMPARE(b[i].macs, a[i].macs);
            QCOMPARE(b[i].origin, a[i].origin);
            QCOMPARE(b[i].generation, a[i].generation);
        }
    }

    // Ranks started with torchrun's variables; rank 1 is killed mid-training.
    void killedRankEndsTheOther() {
        const QString ckpt = path("killed.pt");
        QStringList args = QStringList{"train", "--db", path("killed.sqlite"), "--checkpoint", ckpt} + kLonger;
        args[args.indexOf("--epochs") + 1] = "400";
        const int port = freeLocalPort();
        QProcess r0, r1;
        r0.setProcessEnvironment(rankEnv(0, 2, port));
        r1.setProcessEnvironment(rankEnv(1, 2, port));
        r0.start(METAPRUNE_CLI, args);
        r1.start(METAPRUNE_CLI, args);
        QVERIFY(r0.waitForStarted() && r1.waitForStarted());
        // Epoch ends write the checkpoint: wait for the first one.
        QElapsedTimer t;
        t.start();
        while (!QFile::exists(ckpt) && t.elapsed() < 120000 && r0.state() == QProcess::Running)
            QTest::qWait(100);
        QVERIFY2(QFile::exists(ckpt), qPrintable(QString::fromUtf8(r0.readAllStandardError())));
        QTest::qWait(300);
        r1.kill();
        r1.waitForFinished();
        t.restart();
        const Result r = finish(r0, 60000);
        qInfo("rank 0 ended %.1f s after rank 1 was killed", double(t.elapsed()) / 1000);
        QVERIFY2(t.elapsed() < 60000, "rank 0 did not end within 60 s");
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("rank 0: lost contact with the other ranks") && r.err.contains("the last checkpoint"),
                 qPrintable(r.err));
        const CheckpointInfo info = readCheckpointInfo(ckpt.toStdString());
        QVERIFY(info.step >= 15 && info.step % 15 == 0);
    }

    // A second run started on the port of a running one (other project, other settings) is
    // turned away naming the port; the first run goes on untouched, whether the second comes
    // while it is still gathering its ranks (0.5 s) or training (4 s).
    void secondRunOnTheSamePortLeavesTheFirst_data() {
        QTest::addColumn<int>("delayMs");
        QTest::newRow("0.5 s later") << 500;
        QTest::newRow("4 s later") << 4000;
    }
    void secondRunOnTheSamePortLeavesTheFirst() {
        QFETCH(int, delayMs);
        const QString tag = QString::number(delayMs);
        const int port = freeLocalPort();
        QStringList first = QStringList{"train", "--nproc", "2", "--master-port", QString::number(port), "--db",
                                        path("first" + tag + ".sqlite"), "--checkpoint", path("first" + tag + ".pt")} +
                            kLonger;
        first[first.indexOf("--epochs") + 1] = "400";
        QProcess a;
        a.start(METAPRUNE_CLI, first);
        QVERIFY(a.waitForStarted());
        QTest::qWait(delayMs);
        const Result b = runCli(QStringList{"train", "--nproc", "2", "--master-port", QString::number(port), "--db",
                                            path("second" + tag + ".sqlite"), "--checkpoint",
                                            path("second" + tag + ".pt"), "--lr", "0.2"} +
                                    kLonger,
                                60000);
        QCOMPARE(b.code, 1);
        QVERIFY2(b.err.contains(QString("the rendezvous port %1 on 127.0.0.1 is held by another run (run id ").arg(port)),
                 qPrintable(b.err));
        QVERIFY2(!b.err.contains("other settings"), qPrintable(b.err));
        QVERIFY(!QFile::exists(path("second" + tag + ".sqlite")));
        // The first run trains on: it reaches its first checkpoint, then stops on Ctrl-C as usual.
        QElapsedTimer t;
        t.start();
        while (!QFile::exists(path("first" + tag + ".pt")) && t.elapsed() < 120000 && a.state() == QProcess::Running)
            QTest::qWait(100);
        QVERIFY2(a.state() == QProcess::Running, qPrintable(QString::fromUtf8(a.readAllStandardError())));
        kill(pid_t(a.processId()), SIGINT);
        const Result r = finish(a, 60000);
        QVERIFY2(r.code == 130 && r.out.contains("Cancelled at step"), qPrintable(r.out + r.err));
        QVERIFY2(!r.err.contains("other settings") && !r.err.contains("lost contact") && !r.err.contains("exited with"),
                 qPrintable(r.err));
    }

    void rendezvousErrors_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expected");
        QTest::newRow("rank never arrives") << "missing" << "rank 0: rank 1 did not arrive at the rendezvous";
        QTest::newRow("other settings") << "settings" << "runs with other settings than rank";
        QTest::newRow("port in use") << "port" << "rank 0: cannot host the rendezvous store on 127.0.0.1:";
        QTest::newRow("port in use, by another program") << "port" << "another program is using the port";
        // --nproc: rank 0 fails, the launcher stops rank 1 (stuck connecting to the port's holder)
        // and says what became of it.
        QTest::newRow("launcher, port in use") << "launcher" << "rank 0: cannot host the rendezvous store";
    }
    void rendezvousErrors() {
        QFETCH(QString, kind);
        QFETCH(QString, expected);
        const QStringList args = QStringList{"train", "--db", path("rdv.sqlite"), "--checkpoint", path("rdv.pt"),
                                             "--rendezvous-timeout", "5"} +
                                 kLonger;
        int port = freeLocalPort();
        int holder = -1;
        if (kind == "port" || kind == "launcher") {
            holder = socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_ANY);
            a.sin_port = htons(uint16_t(port));
            QVERIFY(bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(holder, 1) == 0);
        }
        QElapsedTimer t;
        t.start();
        Result r;
        if (kind == "settings") {
            QProcess r0, r1;
            r0.setProcessEnvironment(rankEnv(0, 2, port));
            r1.setProcessEnvironment(rankEnv(1, 2, port));
            r0.start(METAPRUNE_CLI, args);
            r1.start(METAPRUNE_CLI, args + QStringList{"--lr", "0.1"});
            r = finish(r0, 60000);
            const Result other = finish(r1, 60000);
            QCOMPARE(other.code, 1);
            QVERIFY2(other.err.contains(expected), qPrintable(other.err));
        } else if (kind == "launcher") {
            r = runCli(args + QStringList{"--nproc", "2", "--master-port", QString::number(port)}, 60000);
            QVERIFY2(r.err.contains("metaprune train: rank 0 of 2 exited with code 1 (its message is above); rank 1 "),
                     qPrintable(r.err));
        } else {
            r = runCli(args, 60000, rankEnv(0, 2, port));
        }
        if (holder >= 0)
            close(holder);
        QVERIFY2(t.elapsed() < 30000, "the rendezvous error took more than 30 s");
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains(expected), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestDistributed)
#include "tst_distributed.moc"
