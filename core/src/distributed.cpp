// c10d rendezvous and Gloo collectives (platform.md, "Distributed"): TCPStore + PrefixStore +
// ProcessGroupGloo, as torch.distributed's env:// initialisation sets them up.
#include "distributed_p.h"

// ProcessGroupGloo.hpp declares the class only under USE_C10D_GLOO, which Debian's TorchConfig
// defines for every target linking LibTorch.
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <QCryptographicHash>

#include <glog/logging.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

namespace mp {

namespace {

/// While alive, glog (c10d's logger) prints only fatal lines, unless the user set
/// GLOG_minloglevel: a failed bind or connect is reported in full by the DistributedError
/// thrown here, and c10d's own W/E lines (with glog's "Logging before InitGoogleLogging()"
/// banner) only repeated it in a raw form.
class QuietStoreLog {
public:
    QuietStoreLog() {
        if (std::getenv("GLOG_minloglevel"))
            return;
        if (!google::IsGoogleLoggingInitialized()) {
            FLAGS_logtostderr = true;
            google::InitGoogleLogging("metaprune");
        }
        saved_ = FLAGS_minloglevel;
        FLAGS_minloglevel = google::GLOG_FATAL;
    }
    ~QuietStoreLog() {
        if (saved_ >= 0)
            FLAGS_minloglevel = saved_;
    }
    QuietStoreLog(const QuietStoreLog&) = delete;
    QuietStoreLog& operator=(const QuietStoreLog&) = delete;

private:
    int saved_ = -1;
};

} // namespace

int freeLocalPort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        const std::string why = std::strerror(errno);
        if (fd >= 0)
            close(fd);
        throw std::runtime_error("cannot find a free port for the rendezvous: " + why);
    }
    const int port = ntohs(a.sin_port);
    close(fd);
    return port;
}

namespace {

/// An exception's message without LibTorch's backtrace, first line only.
std::string causeOf(const std::exception& e) {
    std::string m = e.what();
    if (const auto* c10 = dynamic_cast<const c10::Error*>(&e))
        m = c10->what_without_backtrace();
    const size_t nl = m.find('\n');
    return nl == std::string::npos ? m : m.substr(0, nl);
}

std::optional<std::string> variable(const char* name) {
    const char* v = std::getenv(name);
    if (!v)
        return std::nullopt;
    return std::string(v);
}

int intVariable(const char* name, const std::string& text, int lo, int hi) {
    size_t used = 0;
    long v = 0;
    try {
        v = std::stol(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || text.empty() || v < lo || v > hi)
        throw ConfigError(std::string(name) + "='" + text + "' is not an integer in " + std::to_string(lo) + ".." +
                          std::to_string(hi));
    return int(v);
}

/// The store key holding the id of the run that hosts the store.
const std::string kRunKey = "metaprune/run";

/// The run id recorded in a store already listening on addr:port, or nullopt when what listens
/// there is not such a store (another program) or does not answer within 3 s. The query runs on
/// a thread of its own, left behind when it hangs: a program that accepts the connection but
/// never answers would block c10d's client read for good.
std::optional<std::string> storeRunId(const std::string& addr, uint16_t port) {
    struct Probe {
        std::mutex m;
        std::condition_variable cv;
        bool done = false;
        std::optional<std::string> id;
    };
    const auto probe = std::make_shared<Probe>();
    const QuietStoreLog quiet;
    std::thread([probe, addr, port] {
        std::optional<std::string> id;
        try {
            c10d::TCPStoreOptions o;
            o.port = port;
            o.isServer = false;
            o.waitWorkers = false;
            o.timeout = std::chrono::seconds(2);
            c10d::TCPStore client(addr, o);
            if (client.check({kRunKey})) {
                const std::vector<uint8_t> bytes = client.get(kRunKey);
                id = std::string(bytes.begin(), bytes.end());
            }
        } catch (const std::exception&) {
        }
        const std::lock_guard<std::mutex> lock(probe->m);
        probe->id = id;
        probe->done = true;
        probe->cv.notify_all();
    }).detach();
    std::unique_lock<std::mutex> lock(probe->m);
    probe->cv.wait_for(lock, std::chrono::seconds(3), [&] { return probe->done; });
    return probe->id;
}

bool loopback(const std::string& addr) { return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1"; }

std::vector<uint8_t> bytesOf(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

} // namespace

std::optional<DistEnv> distEnvFromEnvironment() {
    const auto rank = variable("RANK"), world = variable("WORLD_SIZE");
    if (!rank && !world)
        return std::nullopt;
    if (!rank || !world)
        throw ConfigError(std::string(rank ? "WORLD_SIZE" : "RANK") + " is not set but " + (rank ? "RANK" : "WORLD_SIZE") +
                          " is: a distributed run needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (torchrun's "
                          "variables)");
    DistEnv env;
    env.worldSize = intVariable("WORLD_SIZE", *world, 1, 65536);
    env.rank = intVariable("RANK", *rank, 0, env.worldSize - 1);
    env.localRank = env.rank;
    if (const auto local = variable("LOCAL_RANK"))
        env.localRank = intVariable("LOCAL_RANK", *local, 0, env.worldSize - 1);
    const auto addr = variable("MASTER_ADDR"), port = variable("MASTER_PORT");
    if (env.worldSize > 1 && (!addr || addr->empty() || !port))
        throw ConfigError(std::string(!port ? "MASTER_PORT" : "MASTER_ADDR") +
                          " is not set: every rank of a distributed run needs the address and port of rank 0's "
                          "rendezvous store");
    if (addr)
        env.masterAddr = *addr;
    if (port)
        env.masterPort = intVariable("MASTER_PORT", *port, 1, 65535);
    if (const auto agent = variable("TORCHELASTIC_USE_AGENT_STORE"))
        env.agentStore = *agent == "True" || *agent == "true" || *agent == "1";
    if (const auto run = variable("TORCHELASTIC_RUN_ID"); run && !run->empty())
        env.runId = *run;
    return env;
}

std::string newRunId() {
    std::random_device device;
    const uint64_t id = uint64_t(device()) << 32 | device();
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(id));
    return text;
}

namespace detail {

struct ProcessGroupImpl::State {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};

ProcessGroupImpl::ProcessGroupImpl(const DistEnv& env, std::unique_ptr<State> state) : env_(env), s_(std::move(state)) {}

ProcessGroupImpl::~ProcessGroupImpl() = default;

namespace {
DistributedError lost(const DistEnv& env, const std::string& what, const std::exception& e) {
    return DistributedError("rank " + std::to_string(env.rank) + ": lost contact with the other ranks during " + what +
                            " (" + causeOf(e) +
                            "): another rank exited, was killed or stopped answering; its own message (or the "
                            "launcher's) says why");
}
} // namespace

void ProcessGroupImpl::allreduceSum(std::vector<torch::Tensor>& tensors, const std::string& what) {
    try {
        std::vector<c10::intrusive_ptr<c10d::Work>> works;
        for (torch::Tensor& t : tensors) {
            if (t.numel() == 0)
                continue;
            std::vector<at::Tensor> one{t};
            works.push_back(s_->pg->allreduce(one));
        }
        for (auto& w : works)
            w->wait();
    } catch (const std::exception& e) {
        throw lost(env_, what, e);
    }
}

void ProcessGroupImpl::broadcast(torch::Tensor& t, const std::string& what) {
    if (t.numel() == 0)
        return;
    try {
        std::vector<at::Tensor> one{t};
        s_->pg->broadcast(one)->wait();
    } catch (const std::exception& e) {
        throw lost(env_, what, e);
    }
}

std::string ProcessGroupImpl::broadcastBytes(const std::string& bytes, const std::string& what) {
    torch::Tensor n = torch::tensor({int64_t(bytes.size())}, torch::kLong);
    broadcast(n, what);
    torch::Tensor data = torch::empty({n.item<int64_t>()}, torch::kUInt8);
    if (rank() == 0 && !bytes.empty())
        std::memcpy(data.data_ptr<uint8_t>(), bytes.data(), bytes.size());
    broadcast(data, what);
    return std::string(reinterpret_cast<const char*>(data.data_ptr<uint8_t>()), size_t(data.numel()));
}

void RankSum::operator()(std::vector<double>& v) const {
    if (!group || group->worldSize() == 1 || v.empty())
        return;
    std::vector<torch::Tensor> t{torch::from_blob(v.data(), {int64_t(v.size())}, torch::kDouble)};
    group->allreduceSum(t, "synchronised batch norm");
}

void averageOverRanks(ProcessGroupImpl& group, const std::vector<torch::Tensor>& tensors, std::vector<double>& extra,
                      const std::string& what) {
    torch::NoGradGuard noGrad;
    std::vector<std::vector<torch::Tensor>> buckets(1);
    int64_t filled = 0;
    for (const torch::Tensor& t : tensors) {
        if (!t.defined() || t.numel() == 0)
            continue;
        if (filled > 0 && filled + t.numel() > kBucketFloats) {
            buckets.emplace_back();
            filled = 0;
        }
        buckets.back().push_back(t);
        filled += t.numel();
    }
    std::vector<torch::Tensor> flat;
    for (const std::vector<torch::Tensor>& b : buckets) {
        std::vector<torch::Tensor> parts;
        for (const torch::Tensor& t : b)
            parts.push_back(t.reshape({-1}));
        flat.push_back(parts.empty() ? torch::empty({0}) : torch::cat(parts));
    }
    flat.push_back(torch::tensor(extra, torch::kDouble));
    group.allreduceSum(flat, what);
    const double inv = 1.0 / double(group.worldSize());
    for (size_t k = 0; k < buckets.size(); ++k) {
        flat[k].mul_(inv);
        int64_t at = 0;
        for (torch::Tensor t : buckets[k]) {
            t.copy_(flat[k].narrow(0, at, t.numel()).view(t.sizes()));
            at += t.numel();
        }
    }
    const double* e = flat.back().data_ptr<double>();
    for (size_t i = 0; i < extra.size(); ++i)
        extra[i] = e[i];
}

} // namespace detail

Distributed::Distributed(std::unique_ptr<detail::ProcessGroupImpl> impl) : d(std::move(impl)) {}

Distributed::~Distributed() = default;

int Distributed::rank() const { return d->rank(); }
int Distributed::worldSize() const { return d->worldSize(); }
const DistEnv& Distributed::env() const { return d->env(); }

std::unique_ptr<Distributed> Distributed::join(const DistEnv& env, const std::string& job, const std::string& settings,
                                               double timeoutSeconds, double collectiveSeconds,
                                               const std::function<bool()>& abandon, const std::atomic<bool>* cancel) {
    const std::string me = "rank " + std::to_string(env.rank);
    if (env.worldSize < 1 || env.rank < 0 || env.rank >= env.worldSize)
        throw ConfigError(me + " is outside a world of " + std::to_string(env.worldSize) + " processes");
    const std::string where = env.masterAddr + ":" + std::to_string(env.masterPort);
    const auto timeout = std::chrono::milliseconds(int64_t(timeoutSeconds * 1000));
    const std::string waited = std::to_string(int(timeoutSeconds)) + " s";

    c10d::TCPStoreOptions o;
    o.port = uint16_t(env.masterPort);
    o.isServer = env.rank == 0 && !env.agentStore;
    o.numWorkers = size_t(env.worldSize);
    o.waitWorkers = false; // arrivals are checked below, so that the message can name the missing ranks
    o.timeout = timeout;
    const std::string heldBy = "the rendezvous port " + std::to_string(env.masterPort) + " on " + env.masterAddr +
                               " is held by another run";
    const std::string chooseAnother = "choose another port with --master-port or MASTER_PORT, or wait until that "
                                      "run ends";
    // A wait on the store that ended: a signal (Ctrl-C, the launcher), or no answer in time.
    const auto waitFailed = [&](const std::string& what, const std::string& cause) {
        if (cause.find("Interrupted system call") != std::string::npos)
            return DistributedError(me + ": interrupted while connecting to the rendezvous store at " + where);
        return DistributedError(me + ": " + what + " within " + waited + (cause.empty() ? "" : " (" + cause + ")") +
                                ": is rank 0 running, with the same MASTER_ADDR and MASTER_PORT?");
    };
    const std::string noRunId = "the rendezvous store at " + where + " did not say which run holds it";
    c10::intrusive_ptr<c10d::Store> tcp;
    try {
        const QuietStoreLog quiet;
        tcp = c10::make_intrusive<c10d::TCPStore>(env.masterAddr, o);
    } catch (const std::exception& e) {
        if (o.isServer) {
            // Whose port it is: another run of this tool answers with its run id.
            const std::optional<std::string> other = storeRunId(env.masterAddr, o.port);
            if (other)
                throw DistributedError(me + ": cannot host the rendezvous store: " + heldBy + " (run id " + *other +
                                       "; this run's is " + env.runId + "): " + chooseAnother);
            throw DistributedError(me + ": cannot host the rendezvous store on " + where + " (" + causeOf(e) +
                                   "): another program is using the port; choose another with --master-port or "
                                   "MASTER_PORT");
        }
        throw waitFailed("cannot reach the rendezvous store at " + where, causeOf(e));
    }
    // The run's identity before anything else: rank 0 records it (compare-and-set, so that with
    // an agent's store the first run keeps it), the others read it and leave another run's
    // store untouched.
    try {
        const std::vector<uint8_t> mine = bytesOf(env.runId);
        std::vector<uint8_t> found;
        if (env.rank == 0) {
            found = tcp->compareSet(kRunKey, {}, mine);
        } else {
            // Polled: c10d 1.13's compareSet does not wake a client blocked in get().
            const auto deadline = std::chrono::steady_clock::now() + timeout;
            while (!tcp->check({kRunKey})) {
                if (cancel && cancel->load())
                    throw DistributedError(me + ": interrupted while connecting to the rendezvous store at " + where);
                if ((abandon && abandon()) || std::chrono::steady_clock::now() > deadline)
                    throw waitFailed(noRunId, "");
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            found = tcp->get(kRunKey);
        }
        if (found != mine)
            throw DistributedError(me + ": " + heldBy + " (run id " + std::string(found.begin(), found.end()) +
                                   "; this run's is " + env.runId + "): " + chooseAnother);
    } catch (const DistributedError&) {
        throw;
    } catch (const std::exception& e) {
        throw waitFailed(noRunId, causeOf(e));
    }
    // A restarted torchrun agent keeps its store: each attempt gets its own keys.
    const std::string attempt = std::getenv("TORCHELASTIC_RESTART_COUNT") ? std::getenv("TORCHELASTIC_RESTART_COUNT") : "0";
    auto store = c10::make_intrusive<c10d::PrefixStore>("metaprune/" + env.runId + "/" + job + "/" + attempt, tcp);
    const std::string hash =
        QCryptographicHash::hash(QByteArray::fromStdString(settings), QCryptographicHash::Sha256).toHex().toStdString();
    const auto key = [](const char* what, int r) { return what + std::to_string(r); };
    // The ranks that have not set `what`<rank> yet.
    const auto missingRanks = [&](const char* what) {
        std::vector<int> missing;
        for (int r = 0; r < env.worldSize; ++r)
            if (!store->check({key(what, r)}))
                missing.push_back(r);
        return missing;
    };
    try {
        store->set(key("rank/", env.rank), bytesOf(hash));
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const std::vector<int> missing = missingRanks("rank/");
            if (missing.empty())
                break;
            if (cancel && cancel->load())
                throw DistributedError(me + ": interrupted while waiting at the rendezvous on " + where);
            if (abandon && abandon())
                throw DistributedError(me + ": stopped waiting at the rendezvous on " + where +
                                       ": a rank ended before it arrived");
            if (std::chrono::steady_clock::now() > deadline) {
                std::string list;
                for (size_t i = 0; i < missing.size() && i < 8; ++i)
                    list += (i ? ", " : "") + std::to_string(missing[i]);
                if (missing.size() > 8)
                    list += ", ... (" + std::to_string(missing.size()) + " in all)";
                throw DistributedError(me + ": rank" + (missing.size() > 1 ? "s " : " ") + list +
                                       " did not arrive at the rendezvous on " + where + " within " + waited +
                                       " (not started, failed at start-up, or started with another MASTER_ADDR, "
                                       "MASTER_PORT or WORLD_SIZE)");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        std::string mismatch;
        for (int r = 0; r < env.worldSize && mismatch.empty(); ++r) {
            const std::vector<uint8_t> bytes = store->get(key("rank/", r));
            const std::string theirs(bytes.begin(), bytes.end());
            if (theirs != hash)
                mismatch = me + ": rank " + std::to_string(r) + " runs with other settings than rank " +
                           std::to_string(env.rank) + " (settings SHA-256 " + theirs.substr(0, 12) + " against " +
                           hash.substr(0, 12) +
                           "): every rank must run the same command on the same project, checkpoint and data";
        }
        if (!mismatch.empty()) {
            // Every rank sees the mismatch (one hash differs from each rank's own). The store's host waits until
            // the others have read the hashes too: exiting earlier would close the store under them and they
            // would report a broken connection instead of the cause.
            store->set(key("checked/", env.rank), bytesOf(hash));
            const auto until = std::chrono::steady_clock::now() + timeout;
            while (o.isServer && !missingRanks("checked/").empty() && std::chrono::steady_clock::now() < until &&
                   !(abandon && abandon()))
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            throw DistributedError(mismatch);
        }
    } catch (const DistributedError&) {
        throw;
    } catch (const std::exception& e) {
        throw DistributedError(me + ": the rendezvous on " + where + " failed (" + causeOf(e) +
                               "): rank 0, which hosts the store, may have exited");
    }

    auto state = std::make_unique<detail::ProcessGroupImpl::State>();
    state->store = store;
    try {
        auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(int64_t(collectiveSeconds * 1000)));
        if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
            opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
        else if (loopback(env.masterAddr))
            opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        else
            opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        opts->threads = 2;
        state->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("gloo", store),
                                                               env.rank, env.worldSize, opts);
    } catch (const std::exception& e) {
        throw DistributedError(me + ": cannot connect the Gloo process group (" + causeOf(e) +
                               "): the ranks must reach each other over TCP (set GLOO_SOCKET_IFNAME to the network "
                               "interface to use)");
    }
    return std::unique_ptr<Distributed>(new Distributed(std::make_unique<detail::ProcessGroupImpl>(env, std::move(state))));
}

} // namespace mp
