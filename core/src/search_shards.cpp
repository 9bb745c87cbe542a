// Sharded search (project.h): rank 0 sends each list of candidates to every rank, each scores
// candidates i = rank, rank + ranks, ..., and one allreduce gathers the results.
#include "distributed_p.h"

#include "metaprune/project.h"

namespace mp {

namespace {

constexpr int kFields = 4; // top-1, loss, images, milliseconds

/// Scores this rank's share of `encodings` into a zeroed [n * kFields + 1] sum buffer (the last
/// element: this rank's cancel flag), sums it over the ranks, and returns the whole table.
torch::Tensor scoreShare(const Evaluator& evaluator, detail::ProcessGroupImpl& group,
                         const std::vector<Encoding>& encodings, const std::atomic<bool>* cancel) {
    const int64_t n = int64_t(encodings.size());
    torch::Tensor table = torch::zeros({n * kFields + 1}, torch::kDouble);
    double* t = table.data_ptr<double>();
    for (int64_t i = group.rank(); i < n; i += group.worldSize()) {
        // No cancel inside a share: every result of the list arrives, then the search stops.
        const EvalResult r = evaluator.evaluate(encodings[size_t(i)], EvalSplit::Search);
        t[i * kFields + 0] = r.top1;
        t[i * kFields + 1] = r.loss;
        t[i * kFields + 2] = double(r.images);
        t[i * kFields + 3] = r.milliseconds;
    }
    t[n * kFields] = cancel && cancel->load() ? 1.0 : 0.0;
    std::vector<torch::Tensor> all{table};
    group.allreduceSum(all, "a sharded search's result exchange");
    return table;
}

/// Rank 0 sends the candidate count and gene count (count -1: the search is over), then the
/// genes; the other ranks receive them.
std::vector<Encoding> exchangeEncodings(detail::ProcessGroupImpl& group, const std::vector<Encoding>& mine,
                                        bool end, bool& over) {
    const std::string what = "a sharded search's candidate list";
    const int64_t genes = mine.empty() ? 0 : int64_t(mine.front().size());
    torch::Tensor header = torch::tensor({end ? int64_t(-1) : int64_t(mine.size()), genes}, torch::kLong);
    group.broadcast(header, what);
    const int64_t n = header[0].item<int64_t>(), g = header[1].item<int64_t>();
    over = n < 0;
    if (over || n == 0)
        return {};
    torch::Tensor flat = torch::empty({n * g}, torch::kLong);
    if (group.rank() == 0)
        for (int64_t i = 0; i < n; ++i)
            for (int64_t k = 0; k < g; ++k)
                flat.data_ptr<int64_t>()[i * g + k] = mine[size_t(i)][size_t(k)];
    group.broadcast(flat, what);
    std::vector<Encoding> out(size_t(n), Encoding(static_cast<size_t>(g), 0));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < g; ++k)
            out[size_t(i)][size_t(k)] = int(flat.data_ptr<int64_t>()[i * g + k]);
    return out;
}

} // namespace

BatchEvaluateFn shardedEvaluation(const Evaluator& evaluator, const Distributed& dist) {
    return [&evaluator, &dist](const std::vector<Encoding>& encodings, const std::atomic<bool>* cancel) {
        detail::ProcessGroupImpl& group = dist.impl();
        bool over = false;
        exchangeEncodings(group, encodings, false, over);
        const torch::Tensor table = scoreShare(evaluator, group, encodings, cancel);
        const double* t = table.data_ptr<double>();
        BatchEvaluation out;
        for (size_t i = 0; i < encodings.size(); ++i) {
            EvalResult r;
            r.top1 = t[i * kFields + 0];
            r.loss = t[i * kFields + 1];
            r.images = int64_t(std::llround(t[i * kFields + 2]));
            r.milliseconds = t[i * kFields + 3];
            out.results.push_back(r);
        }
        out.stop = t[encodings.size() * kFields] > 0;
        return out;
    };
}

void serveSearchShards(const Evaluator& evaluator, const Distributed& dist, const std::atomic<bool>* cancel) {
    detail::ProcessGroupImpl& group = dist.impl();
    for (;;) {
        bool over = false;
        const std::vector<Encoding> encodings = exchangeEncodings(group, {}, false, over);
        if (over)
            return;
        scoreShare(evaluator, group, encodings, cancel);
    }
}

std::string shardedSearchSettings(const std::string& configJson, const std::string& checkpointSha256) {
    return configJson + " " + checkpointSha256;
}

void endSearchShards(const Distributed& dist) {
    bool over = false;
    exchangeEncodings(dist.impl(), {}, true, over);
}

} // namespace mp
