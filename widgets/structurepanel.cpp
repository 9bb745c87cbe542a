#include "structurepanel.h"

#include "metaprune/search.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QToolButton>
#include <QUndoCommand>
#include <QUndoStack>
#include <QVBoxLayout>

namespace mpw {

namespace {

/// One dragged gene: old and new scale index. The drag has already applied the new value, so
/// the first redo() only records it.
class SetGeneCommand : public QUndoCommand {
public:
    SetGeneCommand(StructurePanel* panel, const mp::Encoding& before, const mp::Encoding& after, const QString& text)
        : QUndoCommand(text), panel_(panel), before_(before), after_(after) {}
    void undo() override { panel_->applyEdit(before_); }
    void redo() override {
        if (first_) {
            first_ = false;
            return;
        }
        panel_->applyEdit(after_);
    }

private:
    StructurePanel* panel_;
    mp::Encoding before_, after_;
    bool first_ = true;
};

QString mega(int64_t macs) { return QString::number(double(macs) / 1e6, 'f', 3); }

} // namespace

StructurePanel::StructurePanel(QWidget* parent)
    : QWidget(parent), editor_(new WidthEditor), undo_(new QUndoStack(this)), title_(new QLabel), numbers_(new QLabel),
      prediction_(new QLabel), baseline_(new QLabel), paired_(new QLabel), compared_(new QLabel),
      compare_(new QPushButton(tr("Compare with next clicked point"))),
      export_(new QPushButton(QIcon(":/icons/export.png"), tr("&Export..."))) {
    auto* undoButton = new QToolButton;
    undoButton->setIcon(QIcon(":/icons/undo.png"));
    undoButton->setToolTip(tr("Undo width edit (Ctrl+Z)"));
    auto* redoButton = new QToolButton;
    redoButton->setIcon(QIcon(":/icons/redo.png"));
    redoButton->setToolTip(tr("Redo width edit (Ctrl+Shift+Z)"));
    connect(undoButton, &QToolButton::clicked, undo_, &QUndoStack::undo);
    connect(redoButton, &QToolButton::clicked, undo_, &QUndoStack::redo);
    connect(undo_, &QUndoStack::canUndoChanged, undoButton, &QToolButton::setEnabled);
    connect(undo_, &QUndoStack::canRedoChanged, redoButton, &QToolButton::setEnabled);
    undoButton->setEnabled(false);
    redoButton->setEnabled(false);
    compare_->setCheckable(true);

    auto* top = new QHBoxLayout;
    top->addWidget(title_, 1);
    top->addWidget(undoButton);
    top->addWidget(redoButton);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(compare_);
    bottom->addWidget(export_);
    for (QLabel* l : {title_, numbers_, prediction_, baseline_, paired_, compared_}) {
        l->setWordWrap(true);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    }
    QFont big = prediction_->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    prediction_->setFont(big);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(editor_, 1);
    layout->addWidget(numbers_);
    layout->addWidget(prediction_);
    layout->addWidget(baseline_);
    layout->addWidget(paired_);
    layout->addWidget(compared_);
    layout->addLayout(bottom);
    title_->setText(tr("Select a point on the plot, or drag a bar to edit a structure."));

    connect(editor_, &WidthEditor::geneDragged, this, [this] { updateNumbers(); });
    connect(editor_, &WidthEditor::geneEdited, this, [this](int gene, int oldIndex, int newIndex) {
        mp::Encoding before = editor_->encoding();
        before[size_t(gene)] = oldIndex;
        const mp::ArchSpec& a = editor_->architecture();
        undo_->push(new SetGeneCommand(this, before, editor_->encoding(),
                                       tr("%1: %2 -> %3 channels")
                                           .arg(QString::fromStdString(a.genes[size_t(gene)].name))
                                           .arg(mp::geneChannelsAt(a.genes[size_t(gene)], oldIndex))
                                           .arg(mp::geneChannelsAt(a.genes[size_t(gene)], newIndex))));
        edited_ = true;
        title_->setText(tr("Edited structure"));
        prediction_->setText(tr("top-1: probing..."));
        emit edited(editor_->encoding());
    });
    connect(export_, &QPushButton::clicked, this, [this] { emit exportRequested(editor_->encoding()); });
}

void StructurePanel::setArchitecture(const mp::ArchSpec& arch) {
    editor_->setArchitecture(arch);
    fullMacs_ = std::max<int64_t>(1, mp::countMacs(arch, mp::uniformEncoding(arch, mp::grid::kSize - 1)));
    undo_->clear();
    updateNumbers();
}

void StructurePanel::applyEdit(const mp::Encoding& enc) {
    editor_->setEncoding(enc);
    updateNumbers();
    edited_ = true;
    title_->setText(tr("Edited structure"));
    prediction_->setText(tr("top-1: probing..."));
    emit edited(enc);
}

void StructurePanel::showCandidate(const PlotPoint& p, const mp::Encoding& genes) {
    undo_->clear();
    editor_->setEncoding(genes);
    edited_ = false;
    title_->setText(tr("Candidate %1: %2, run %3, generation %4")
                        .arg(p.id)
                        .arg(QString::fromStdString(p.origin))
                        .arg(p.runId)
                        .arg(p.generation));
    updateNumbers();
    showPrediction(p.top1, true, p.id);
}

void StructurePanel::updateNumbers() {
    const mp::ArchSpec& a = editor_->architecture();
    if (a.genes.empty())
        return;
    const int64_t macs = mp::countMacs(a, editor_->encoding());
    numbers_->setText(tr("%1 M MACs (%2% of full), %3 params")
                          .arg(mega(macs))
                          .arg(100.0 * double(macs) / double(fullMacs_), 0, 'f', 1)
                          .arg(mp::countParams(a, editor_->encoding())));
}

void StructurePanel::showPrediction(double top1, bool refined, int64_t candidateId) {
    prediction_->setText(refined ? tr("top-1: %1% (search split)").arg(top1, 0, 'f', 2)
                                 : tr("top-1: ~%1% (quick estimate, refining...)").arg(top1, 0, 'f', 1));
    if (refined && candidateId > 0 && edited_)
        title_->setText(tr("Probed structure (stored as candidate %1)").arg(candidateId));
    updateBaseline(mp::countMacs(editor_->architecture(), editor_->encoding()), top1);
}

void StructurePanel::updateBaseline(int64_t macs, double top1) {
    const std::optional<PlotPoint> u = model_ ? model_->uniformAtLeast(macs) : std::nullopt;
    baselinePoint_ = u;
    paired_->setText(u ? tr("Paired test on the same search-split images: computing...") : QString());
    const QString name = l1_ ? tr("L1 baseline") : tr("Uniform baseline");
    if (!u) {
        baseline_->setText(tr("%1: none evaluated at equal or higher MACs yet").arg(name));
        return;
    }
    baseline_->setText(tr("%1 at %2 M MACs (equal or higher): top-1 %3%  ->  %4%5 points")
                           .arg(name)
                           .arg(mega(u->macs))
                           .arg(u->top1, 0, 'f', 2)
                           .arg(top1 >= u->top1 ? "+" : "")
                           .arg(top1 - u->top1, 0, 'f', 2));
}

void StructurePanel::setL1Baseline(bool l1) {
    l1_ = l1;
    baseline_->setToolTip(l1 ? tr("The L1 baseline (Li et al. 2017): every layer keeps the same fraction of its "
                                  "channels, those of largest L1 norm in the trained model; its top-1 here is the "
                                  "PruningNet's, like every point's.")
                             : tr("The uniform width-multiplier network: every layer at the same fraction of its "
                                  "channels, as the paper compares."));
    baseline_->setText(baseline_->text().replace(l1 ? tr("Uniform baseline") : tr("L1 baseline"),
                                                 l1 ? tr("L1 baseline") : tr("Uniform baseline")));
}

void StructurePanel::setCompared(const std::optional<PlotPoint>& p, const std::optional<mp::Encoding>& genes) {
    editor_->setCompareEncoding(genes);
    compared_->setText(p ? tr("Compared (blue outline): candidate %1, %2 M MACs, top-1 %3%")
                               .arg(p->id)
                               .arg(mega(p->macs))
                               .arg(p->top1, 0, 'f', 2)
                         : QString());
}

QString StructurePanel::predictionText() const { return prediction_->text(); }

void StructurePanel::showPairedDifference(const QString& text) {
    paired_->setText(tr("Paired test on the same search-split images: %1").arg(text));
}

QString StructurePanel::pairedText() const { return paired_->text(); }

} // namespace mpw
