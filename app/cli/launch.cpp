// Data-parallel runs from the command line: --nproc N starts N local ranks of the same command
// (torchrun's --standalone in miniature), and a command started with torchrun's environment
// variables joins its run as that rank.
#include "cli.h"

#include <QCoreApplication>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>

extern char** environ;

namespace mpcli {

using namespace mp;

void addDistributedOptions(Parser& p) {
    p.addOption({"nproc", "Run on this many local processes (data-parallel ranks; each uses --threads "
                          "threads). Without it, the torchrun variables RANK, WORLD_SIZE, MASTER_ADDR, "
                          "MASTER_PORT (and LOCAL_RANK, TORCHELASTIC_USE_AGENT_STORE) make this process "
                          "one rank of a run over several machines.",
                 "n"});
    p.addOption({"master-port", "Port of the rendezvous store for --nproc (default: MASTER_PORT if set, "
                                "else a free port).",
                 "port"});
    p.addOption({"rendezvous-timeout", "Seconds every rank waits for the others to arrive at the start.",
                 "s", "60"});
}

std::unique_ptr<Distributed> joinFromEnvironment(const Parser& p, const std::string& job,
                                                 const std::string& settings) {
    const std::optional<DistEnv> env = distEnvFromEnvironment();
    if (!env || env->worldSize == 1) return nullptr;
    std::unique_ptr<Distributed> dist =
        Distributed::join(*env, job, settings, intValue(p, "rendezvous-timeout", 1, 86400), 1800, {}, &gCancel);
    // One rank speaks for the run: the others keep stderr (errors) and stay quiet otherwise.
    if (dist->rank() != 0 && !std::freopen("/dev/null", "w", stdout))
        std::fprintf(stderr, "metaprune: rank %d cannot silence its output\n", dist->rank());
    return dist;
}

namespace {

std::atomic<int> gSignals{0};

extern "C" void onLauncherSignal(int) { gSignals.fetch_add(1); }

std::string describeStatus(int status) {
    if (WIFSIGNALED(status)) {
        const int s = WTERMSIG(status);
        const char* name = sigabbrev_np(s);
        return "was killed by signal " + std::to_string(s) + (name ? std::string(" (SIG") + name + ")" : "");
    }
    return "exited with code " + std::to_string(WEXITSTATUS(status));
}

int exitCodeOf(int status) {
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

} // namespace

int launchLocal(const Parser& p, const char* command) {
    const int n = intValue(p, "nproc", 1, 256);
    if (distEnvFromEnvironment())
        throw UsageError("--nproc starts its own ranks: unset RANK and WORLD_SIZE, or leave out --nproc "
                         "to join their run");
    const int port = p.isSet("master-port")              ? intValue(p, "master-port", 1, 65535)
                     : qEnvironmentVariableIsSet("MASTER_PORT") ? qEnvironmentVariableIntValue("MASTER_PORT")
                                                                : freeLocalPort();
    // The same command line without --nproc (both spellings: "--nproc N", "--nproc=N").
    const QStringList all = QCoreApplication::arguments();
    std::vector<std::string> args{QCoreApplication::applicationFilePath().toStdString()};
    for (int i = 1; i < all.size(); ++i) {
        if (all[i] == "--nproc" || all[i] == "-nproc") {
            ++i;
            continue;
        }
        if (all[i].startsWith("--nproc=")) continue;
        args.push_back(all[i].toStdString());
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    // This run's identity: a process of another run that reaches its store is turned away.
    const std::string runId = newRunId();
    std::printf("Running %s on %d local processes (rendezvous 127.0.0.1:%d, run id %s); rank 0 reports.\n",
                command, n, port, runId.c_str());
    std::fflush(stdout);
    std::signal(SIGINT, onLauncherSignal);
    std::signal(SIGTERM, onLauncherSignal);
    const pid_t launcher = getpid();
    std::vector<pid_t> pids(size_t(n), -1);
    std::vector<int> status(size_t(n), 0);
    for (int r = 0; r < n; ++r) {
        // The environment is prepared before fork(): only async-signal-safe calls in the child.
        std::vector<std::string> env;
        for (char** e = environ; *e; ++e) {
            const std::string v = *e;
            const std::string key = v.substr(0, v.find('='));
            if (key != "RANK" && key != "LOCAL_RANK" && key != "WORLD_SIZE" && key != "LOCAL_WORLD_SIZE" &&
                key != "MASTER_ADDR" && key != "MASTER_PORT" && key != "TORCHELASTIC_USE_AGENT_STORE" &&
                key != "TORCHELASTIC_RUN_ID")
                env.push_back(v);
        }
        for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
                 {"RANK", std::to_string(r)},
                 {"LOCAL_RANK", std::to_string(r)},
                 {"WORLD_SIZE", std::to_string(n)},
                 {"LOCAL_WORLD_SIZE", std::to_string(n)},
                 {"MASTER_ADDR", "127.0.0.1"},
                 {"MASTER_PORT", std::to_string(port)},
                 {"TORCHELASTIC_RUN_ID", runId}})
            env.push_back(k + "=" + v);
        std::vector<char*> envp;
        for (std::string& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        const pid_t pid = fork();
        if (pid < 0) throw std::runtime_error(std::string("cannot start rank ") + std::to_string(r) + ": " +
                                              std::strerror(errno));
        if (pid == 0) {
            // Its own process group: a Ctrl-C reaches the ranks once, through the launcher. The
            // ranks end if the launcher dies.
            setpgid(0, 0);
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != launcher) _exit(1);
            execve(argv[0], argv.data(), envp.data());
            _exit(127);
        }
        pids[size_t(r)] = pid;
    }

    // A failed rank stops the others: SIGINT at once (they stop at the next step and keep their
    // checkpoint), SIGKILL 5 s later (a rank blocked in a rendezvous or a collective reaches no
    // step; a second SIGINT would make it print "interrupted again", which the user did not do).
    int forwarded = 0, running = n, failed = -1;
    bool killed = false;
    Clock::time_point failedAt{};
    const auto signalRunning = [&](int sig) {
        for (pid_t pid : pids)
            if (pid > 0) kill(pid, sig);
    };
    while (running > 0) {
        for (int s = gSignals.load(); forwarded < s; ++forwarded)
            signalRunning(SIGINT); // the first stops at the next step, a second at once
        for (int r = 0; r < n; ++r) {
            if (pids[size_t(r)] <= 0) continue;
            int st = 0;
            if (waitpid(pids[size_t(r)], &st, WNOHANG) != pids[size_t(r)]) continue;
            pids[size_t(r)] = -1;
            status[size_t(r)] = st;
            --running;
            const bool ok = WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 130);
            if (!ok && failed < 0) {
                failed = r;
                failedAt = Clock::now();
                if (running > 0) {
                    std::fprintf(stderr,
                                 "metaprune %s: rank %d %s; stopping the other ranks (killed if still running "
                                 "in 5 s)\n",
                                 command, r, describeStatus(st).c_str());
                    signalRunning(SIGINT);
                }
            }
        }
        if (failed >= 0 && running > 0) {
            const double since = std::chrono::duration<double>(Clock::now() - failedAt).count();
            if (since > 5 && !killed) {
                killed = true;
                signalRunning(SIGKILL);
            }
        }
        if (running > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (failed >= 0) {
        // What became of the others, grouped: "; ranks 1, 2 exited with code 130".
        std::map<std::string, std::vector<int>> fates;
        for (int r = 0; r < n; ++r)
            if (r != failed) fates[describeStatus(status[size_t(r)])].push_back(r);
        std::string others;
        for (const auto& [fate, ranks] : fates) {
            others += ranks.size() > 1 ? "; ranks " : "; rank ";
            for (size_t i = 0; i < ranks.size() && i < 8; ++i)
                others += (i ? ", " : "") + std::to_string(ranks[i]);
            if (ranks.size() > 8) others += ", ... (" + std::to_string(ranks.size()) + ")";
            others += " " + fate;
        }
        std::fprintf(stderr, "metaprune %s: rank %d of %d %s (its message is above)%s\n", command, failed, n,
                     describeStatus(status[size_t(failed)]).c_str(), others.c_str());
        return exitCodeOf(status[size_t(failed)]);
    }
    for (int st : status)
        if (WEXITSTATUS(st) == 130) return 130;
    return 0;
}

} // namespace mpcli
