#pragma once
// The selected structure: the channel-width editor with undo/redo, its numbers (MACs, params,
// predicted top-1), its uniform baseline of equal-or-higher MACs and the difference, an optional
// second structure to compare, and export.

#include "paretomodel.h"
#include "widtheditor.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QUndoStack;

namespace mpw {

class StructurePanel : public QWidget {
    Q_OBJECT
public:
    explicit StructurePanel(QWidget* parent = nullptr);

    WidthEditor* editor() const { return editor_; }
    QUndoStack* undoStack() const { return undo_; }
    QPushButton* compareButton() const { return compare_; }

    void setArchitecture(const mp::ArchSpec& arch);
    /// A stored candidate: its encoding goes into the editor; clears the undo history.
    void showCandidate(const PlotPoint& p, const mp::Encoding& genes);
    /// Predicted top-1 of the structure in the editor (quick estimate or refined result).
    void showPrediction(double top1, bool refined, int64_t candidateId);
    void setUniformBaselines(const ParetoModel* model) { model_ = model; }
    /// A PruningNet started from a trained model: its uniform networks are the L1 baseline
    /// (every layer at the same fraction, the model's channels of largest L1 norm), and the
    /// baseline line says so; otherwise they are the uniform width-multiplier networks.
    void setL1Baseline(bool l1);
    /// The structure compared with (bars overlaid), or nullopt.
    void setCompared(const std::optional<PlotPoint>& p, const std::optional<mp::Encoding>& genes);
    QString predictionText() const;
    /// The uniform baseline the panel compares with (equal or higher MACs), or nullopt.
    std::optional<PlotPoint> baseline() const { return baselinePoint_; }
    /// The paired test of the structure against baseline() on the same search-split images
    /// (mp::formatDifference text), shown under the baseline line.
    void showPairedDifference(const QString& text);
    QString pairedText() const;
    /// The line comparing with the uniform baseline of equal-or-higher MACs.
    QLabel* baselineLabel() const { return baseline_; }

    /// Applies an encoding as an edit (used by the undo commands).
    void applyEdit(const mp::Encoding& enc);

signals:
    /// The structure in the editor changed by a finished drag, undo or redo.
    void edited(const mp::Encoding& enc);
    void exportRequested(const mp::Encoding& enc);

private:
    void updateNumbers();
    void updateBaseline(int64_t macs, double top1);
    bool l1_ = false;

    WidthEditor* editor_;
    QUndoStack* undo_;
    QLabel* title_;
    QLabel* numbers_;
    QLabel* prediction_;
    QLabel* baseline_;
    QLabel* paired_;
    QLabel* compared_;
    QPushButton* compare_;
    QPushButton* export_;
    const ParetoModel* model_ = nullptr;
    std::optional<PlotPoint> baselinePoint_;
    bool edited_ = false; ///< the editor holds an edit, not a stored candidate
    int64_t fullMacs_ = 1;
};

} // namespace mpw
