#pragma once
// Candidate evaluation (metapruning.md, "Search"): generate the pruned network's weights with
// the PruningNet, recalibrate batch norm, then measure top-1 and loss. Torch-free API.

#include "metaprune/architecture.h"
#include "metaprune/dataset.h"
#include "metaprune/export.h"
#include "metaprune/training.h"

#include <atomic>
#include <memory>

namespace mp {

/// Cost/precision knobs of one evaluation.
struct EvalSettings {
    int recalBatches = 8;    ///< BN recalibration batches, fixed images of the training part
    int recalBatchSize = 128;
    /// Images of the search split to score (0 = the whole split, the default: every candidate on
    /// the same images, as many as the split was sized for; issue 22).
    int evalImages = 0;
    int batchSize = 500;
    /// false keeps the training-time BN buffers: only to show why recalibration is mandatory.
    bool recalibrate = true;

    /// Equal settings give equal numbers for the same PruningNet and encoding.
    bool operator==(const EvalSettings& o) const {
        return recalBatches == o.recalBatches && recalBatchSize == o.recalBatchSize && evalImages == o.evalImages &&
               batchSize == o.batchSize && recalibrate == o.recalibrate;
    }
};

enum class EvalSplit {
    Search, ///< the held-out search split of the training set (fitness during search)
    Test,   ///< the official test set (final reports only)
};

/// A cheaper evaluation than the Evaluator's settings, for interactive probing: the first
/// `recalBatches` recalibration batches and the first `images` scored images (a class-balanced
/// prefix). 0 keeps the settings' value; larger values are capped by the settings.
struct EvalBudget {
    int recalBatches = 0;
    int images = 0;
};

struct EvalResult {
    double top1 = 0;        ///< percent
    double loss = 0;        ///< mean cross-entropy (no label smoothing)
    int64_t images = 0;
    double milliseconds = 0; ///< wall time of generation + recalibration + scoring
};

/// Holds a trained PruningNet with its data prepared for fast repeated evaluation.
/// evaluate() may be called from any one thread at a time per Evaluator.
class Evaluator {
public:
    /// Loads the checkpoint and checks that `data` has its shape and classes. Throws
    /// CheckpointError or DataError naming the file and the mismatch.
    Evaluator(const std::string& checkpoint, const DataBundle& data, const EvalSettings& settings = {});
    ~Evaluator();
    Evaluator(const Evaluator&) = delete;
    Evaluator& operator=(const Evaluator&) = delete;

    /// Percent of the largest class among the images `split` scores: the top-1 of always
    /// answering that class, the chance level a PruningNet must beat.
    double chanceTop1(EvalSplit split) const;

    /// Images in the search split (held out of the training set), before the settings'
    /// evalImages cap: a search run scores min(evalImages, this) of them (0 = all).
    int64_t searchSplitImages() const;

    const ArchSpec& arch() const;
    const CheckpointInfo& checkpoint() const;
    const EvalSettings& settings() const;

    /// Generates the weights of `enc`, recalibrates BN (reset, train-mode forward passes under
    /// no-grad, exact cumulative averaging) and scores it on `split`. Throws
    /// std::invalid_argument for a bad encoding, Cancelled when `cancel` becomes true.
    EvalResult evaluate(const Encoding& enc, EvalSplit split = EvalSplit::Search,
                        const std::atomic<bool>* cancel = nullptr, const EvalBudget& budget = {}) const;

    /// evaluate(), also telling which scored images `enc` classified correctly (`correct`,
    /// resized to the result's image count), in the split's fixed order: the same images for
    /// every encoding, so that two networks can be compared image by image (stats.h,
    /// pairedAccuracy). Throws as evaluate().
    EvalResult evaluateImages(const Encoding& enc, std::vector<bool>& correct, EvalSplit split = EvalSplit::Search,
                              const std::atomic<bool>* cancel = nullptr, const EvalBudget& budget = {}) const;

    /// The score of the trained model's own leading channels for `enc` (its channels in the
    /// importance order the PruningNet started from), batch norm recalibrated as evaluate()
    /// does, no PruningNet: the inherited-weights proxy (EagleEye, ECCV 2020). Throws
    /// std::logic_error when the PruningNet did not start from a trained model, and as evaluate().
    EvalResult evaluateInherited(const Encoding& enc, EvalSplit split = EvalSplit::Search,
                                 const std::atomic<bool>* cancel = nullptr) const;
    /// Whether the PruningNet started from a trained model (evaluateInherited works).
    bool fromTrained() const;

    /// The pruned network `enc` with PruningNet-generated weights and recalibrated BN folded into
    /// the conv biases, ready for writeNetwork().
    PrunedNetwork prunedNetwork(const Encoding& enc) const;

    /// Writes prunedNetwork(enc) to `path` in `format` (export.h) and its encoding, channels,
    /// MACs and params as JSON to `jsonPath`, each through a temporary file renamed into place.
    /// Throws std::runtime_error naming the file when it cannot be written.
    void exportNetwork(const Encoding& enc, ExportFormat format, const std::string& path,
                       const std::string& jsonPath) const;

private:
    EvalResult run(const Encoding& enc, EvalSplit split, const std::atomic<bool>* cancel, const EvalBudget& budget,
                   std::vector<bool>* correct, bool inherited = false) const;
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace mp
