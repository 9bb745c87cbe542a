#pragma once
// The channel-width editor: a bar per layer whose width a gene sets, against the layer's
// maximum width as a faint background bar. Dragging a bar's top changes that gene (layers tied
// to the same stage gene move together; values snap to the 31-step scale grid).

#include "metaprune/architecture.h"

#include <QWidget>

#include <optional>

class QCustomPlot;
class QCPBars;
class QMouseEvent;

namespace mpw {

class WidthEditor : public QWidget {
    Q_OBJECT
public:
    explicit WidthEditor(QWidget* parent = nullptr);

    void setArchitecture(const mp::ArchSpec& arch);
    const mp::ArchSpec& architecture() const { return arch_; }
    /// Shows `enc` (validated against the architecture; throws std::invalid_argument).
    void setEncoding(const mp::Encoding& enc);
    const mp::Encoding& encoding() const { return enc_; }
    /// Overlays a second structure as outlined bars (nullopt removes it).
    void setCompareEncoding(const std::optional<mp::Encoding>& enc);

    int layerCount() const { return int(layers_.size()); }
    /// The op index and gene of bar `layer`.
    int opOfLayer(int layer) const { return layers_.at(size_t(layer)).op; }
    int geneOfLayer(int layer) const { return layers_.at(size_t(layer)).gene; }
    /// Pixel position (plotWidget() coordinates) of bar `layer` at `channels` channels.
    QPointF pixelFor(int layer, double channels) const;
    QCustomPlot* plotWidget() const { return plot_; }

    /// The tick label of a layer: "block3.expand" -> "3e" (other names unchanged).
    static QString shortName(const std::string& op);

    /// The grid index of `gene` whose channel count is nearest to `channels` (ties: the smaller).
    static int snap(const mp::ArchSpec& arch, int gene, double channels);

signals:
    /// While dragging, each time the bar crosses to another grid step.
    void geneDragged(int gene, int index);
    /// On release, when the gene ended at another index than it started.
    void geneEdited(int gene, int oldIndex, int newIndex);

private:
    struct Layer {
        int op;
        int gene;
    };
    void onPress(QMouseEvent* e);
    void onMove(QMouseEvent* e);
    void onRelease(QMouseEvent* e);
    void refresh();

    QCustomPlot* plot_ = nullptr;
    QCPBars* max_ = nullptr;
    QCPBars* bars_ = nullptr;
    QCPBars* compare_ = nullptr;
    mp::ArchSpec arch_;
    mp::Encoding enc_;
    std::optional<mp::Encoding> compareEnc_;
    std::vector<Layer> layers_;
    int dragLayer_ = -1;
    int dragStart_ = 0;
};

} // namespace mpw
