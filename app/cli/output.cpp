// Progress lines, durations and the printed tables shared by the commands.
#include "cli.h"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace mpcli {

using namespace mp;

std::string duration(double s) {
    char buf[32];
    const long t = long(s + 0.5);
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", t);
    return buf;
}

Progress::Progress(std::string label)
    : label_(std::move(label)), tty_(isatty(STDERR_FILENO)), start_(Clock::now()) {}

Progress::~Progress() {
    done();
}

void Progress::skip(int64_t n) { skipped_ += n; }

void Progress::update(int64_t done, int64_t total, const std::string& extra) {
    if (total <= 0) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const int pct = int(100.0 * double(done) / double(total));
    if (first_ < 0) first_ = done;
    // This session's own rate: units taken from the store cost nothing and tell nothing.
    const int64_t doneHere = done - first_ - skipped_;
    const std::string eta =
        doneHere > 0 && done < total
            ? " ETA " + duration(elapsed / double(doneHere) * double(total - done))
            : "";
    char line[256];
    std::snprintf(line, sizeof line, "%-8s %3d%%  %lld/%lld  %s%s  %s", label_.c_str(), pct,
                  static_cast<long long>(done), static_cast<long long>(total),
                  duration(elapsed).c_str(), eta.c_str(), extra.c_str());
    if (tty_) {
        std::fprintf(stderr, "\r%-110s", line);
        open_ = true;
    } else if ((pct / 10 != lastDecile_ || elapsed - lastPrint_ > 30 || done == total) &&
               !(done == total && lastDone_ == total)) {
        std::fprintf(stderr, "%s\n", line);
        lastDecile_ = pct / 10;
        lastDone_ = done;
        lastPrint_ = elapsed;
    }
    std::fflush(stderr);
}

void Progress::done() {
    if (open_) std::fprintf(stderr, "\n");
    open_ = false;
}

void StageProgress::operator()(const JobProgress& j) {
    if (j.stage != stage) {
        bar.reset();
        stage = j.stage;
        bar = std::make_unique<Progress>(stage);
    }
    char extra[48] = "";
    if (j.loss > 0) std::snprintf(extra, sizeof extra, "loss %.3f", j.loss);
    bar->update(j.done, j.total, extra);
}

std::string genesText(const Encoding& e) {
    return encodingToString(e);
}

void printFront(const std::vector<CandidateRecord>& all, int64_t fullMacs,
                const SearchConfig* cfg) {
    std::vector<CandidateRecord> searched;
    for (const CandidateRecord& c : all)
        if (c.damage.empty() && c.origin != "uniform" &&
            (!cfg || meetsConstraint(*cfg, c.macs, c.latencyMs)))
            searched.push_back(c);
    std::vector<ParetoPoint> pts;
    for (const CandidateRecord& c : searched)
        pts.push_back({c.macs, c.top1});
    const std::vector<size_t> front = paretoFront(pts);
    std::printf("Pareto front (top-1 on the search split vs MACs; MACs = conv + linear "
                "multiply-accumulates per "
                "image):\n");
    std::printf("  %8s %7s %9s %7s %7s  %-9s %4s  %s\n", "MACs", "of full", "params", "top-1",
                "loss", "origin", "gen", "encoding");
    for (size_t i : front) {
        const CandidateRecord& c = searched[i];
        std::printf("  %8s %6.1f%% %9lld %6.2f%% %7.4f  %-9s %4d  %s\n", formatMacs(c.macs).c_str(),
                    100.0 * double(c.macs) / double(fullMacs), static_cast<long long>(c.params),
                    c.top1, c.loss, c.origin.c_str(), c.generation, genesText(c.genes).c_str());
    }
    if (front.empty()) std::printf("  %s\n", noSearchedCandidatesText(all, cfg).c_str());
}

std::string noSearchedCandidatesText(const std::vector<CandidateRecord>& all, const SearchConfig* cfg) {
    // A constraint that holds nothing but the uniform networks (a maximum at the smallest
    // network's MACs) leaves the search nothing of its own to evaluate.
    int uniformWithin = 0;
    int64_t smallest = -1;
    for (const CandidateRecord& c : all)
        if (c.damage.empty() && c.origin == "uniform") {
            uniformWithin += !cfg || meetsConstraint(*cfg, c.macs, c.latencyMs);
            smallest = smallest < 0 ? c.macs : std::min(smallest, c.macs);
        }
    if (uniformWithin == 0)
        return "(no searched candidates: no structure within the constraint was evaluated)";
    return "(no searched candidates: the search found no structure within the constraint other than the " +
           std::to_string(uniformWithin) + " uniform network" + (uniformWithin == 1 ? "" : "s") +
           " evaluated as baselines; the smallest network has " + formatMacs(smallest) +
           " MACs: widen the constraint for the search to have structures to compare)";
}

void printBestVsUniform(const CandidateRecord& best, const std::vector<CandidateRecord>& all,
                        int64_t fullMacs) {
    // Its id is what retrain --candidate and export --candidate take.
    std::printf("Best searched structure (candidate %lld): %s MACs (%.1f%% of full), %lld params, top-1 %.2f%% "
                "(search split)\n",
                static_cast<long long>(best.id), formatMacs(best.macs).c_str(), 100.0 * double(best.macs) / double(fullMacs),
                static_cast<long long>(best.params), best.top1);
    std::printf("  channels: %s\n", channelsToString(best.channels).c_str());
    std::printf("  encoding: %s\n", genesText(best.genes).c_str());
    const std::optional<CandidateRecord> u = uniformBaselineAtLeast(all, best.macs);
    if (u) {
        // Stored genes are canonical; the widest gene keeps the uniform network's own index.
        const int index = *std::max_element(u->genes.begin(), u->genes.end());
        std::printf("Uniform baseline at equal-or-higher MACs: scale %.2f, %s MACs, top-1 %.2f%%  "
                    "->  searched %+.2f "
                    "points\n",
                    grid::scale(index), formatMacs(u->macs).c_str(), u->top1, best.top1 - u->top1);
    }
    std::vector<ParetoPoint> uniform;
    for (const CandidateRecord& c : all)
        if (c.damage.empty() && c.origin == "uniform") uniform.push_back({c.macs, c.top1});
    double interp = 0;
    if (interpolateTop1(uniform, best.macs, &interp))
        std::printf("Uniform curve interpolated at the same MACs: top-1 %.2f%%  ->  searched %+.2f "
                    "points (between two networks: no interval)\n",
                    interp, best.top1 - interp);
}

void printPairedDifference(const Evaluator& ev, const CandidateRecord& best,
                           const CandidateRecord& uniform, EvalSplit split) {
    const PairedAccuracy r = comparePaired(ev, best.genes, uniform.genes, split, &gCancel);
    std::printf("Searched vs uniform on the same %lld %s images (paired): %s\n",
                static_cast<long long>(r.n), split == EvalSplit::Search ? "search-split" : "test",
                formatDifference(differenceOf(r)).c_str());
}

/// The project's latency table for `arch` (measured now, with progress, if it has none).
LatencyJob latencyFor(const std::string& db, const ArchSpec& arch, int batch, int gridStep,
                      int repeats) {
    Progress bar("latency");
    LatencyJob job = latencyTableFor(
        db, arch, batch, gridStep, repeats,
        [&bar](int64_t done, int64_t total) { bar.update(done, total); }, &gCancel);
    bar.done();
    char how[64];
    std::snprintf(how, sizeof how, "measured in %.1f s", job.seconds);
    std::printf("Latency %s (%s)\n", job.description.c_str(),
                job.measured ? how : "reused from the project");
    std::fflush(stdout);
    return job;
}

} // namespace mpcli
