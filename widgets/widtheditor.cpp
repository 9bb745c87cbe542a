#include "widtheditor.h"

#include "budgetmodel.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

#include <cmath>

namespace mpw {

// "block3.expand" -> "3e": a readable tick under each of a few dozen narrow bars.
QString WidthEditor::shortName(const std::string& op) {
    const QString name = QString::fromStdString(op);
    if (!name.startsWith("block"))
        return name;
    const QStringList parts = name.mid(5).split('.');
    return parts.value(0) + parts.value(1).left(1);
}

WidthEditor::WidthEditor(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    max_ = new QCPBars(plot_->xAxis, plot_->yAxis);
    max_->setName(tr("maximum width"));
    max_->setPen(Qt::NoPen);
    max_->setBrush(QColor(0, 0, 0, 28));
    bars_ = new QCPBars(plot_->xAxis, plot_->yAxis);
    bars_->setName(tr("channels"));
    bars_->setPen(QPen(QColor(40, 80, 140)));
    bars_->setBrush(QColor(52, 101, 164, 200));
    compare_ = new QCPBars(plot_->xAxis, plot_->yAxis);
    compare_->setName(tr("compared"));
    compare_->setPen(QPen(QColor(30, 120, 200), 2));
    compare_->setBrush(Qt::NoBrush);
    for (QCPBars* b : {max_, bars_, compare_})
        b->setWidth(0.7);
    plot_->yAxis->setLabel(tr("channels"));
    plot_->xAxis->setTickLabelRotation(90);
    plot_->xAxis->setTickLabelFont(QFont(font().family(), 7));
    plot_->xAxis->setLabel(tr("layer (block number + expand / depthwise / project)"));
    plot_->setMinimumHeight(300);
    connect(plot_, &QCustomPlot::mousePress, this, &WidthEditor::onPress);
    connect(plot_, &QCustomPlot::mouseMove, this, &WidthEditor::onMove);
    connect(plot_, &QCustomPlot::mouseRelease, this, &WidthEditor::onRelease);
}

void WidthEditor::setArchitecture(const mp::ArchSpec& arch) {
    arch_ = arch;
    layers_.clear();
    for (const BarLayer& l : barLayers(arch))
        layers_.push_back({l.op, l.gene});
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    QVector<double> keys, maxima;
    int maxChannels = 1;
    for (size_t l = 0; l < layers_.size(); ++l) {
        ticker->addTick(double(l + 1), shortName(arch.ops[size_t(layers_[l].op)].name));
        keys.push_back(double(l + 1));
        const int m = arch.genes[size_t(layers_[l].gene)].maxChannels;
        maxima.push_back(m);
        maxChannels = std::max(maxChannels, m);
    }
    plot_->xAxis->setTicker(ticker);
    plot_->xAxis->setRange(0.3, double(layers_.size()) + 0.7);
    plot_->yAxis->setRange(0, maxChannels * 1.05);
    max_->setData(keys, maxima, true);
    enc_ = mp::uniformEncoding(arch, mp::grid::kSize - 1);
    compareEnc_.reset();
    refresh();
}

void WidthEditor::setEncoding(const mp::Encoding& enc) {
    mp::validateEncoding(arch_, enc);
    enc_ = enc;
    refresh();
}

void WidthEditor::setCompareEncoding(const std::optional<mp::Encoding>& enc) {
    if (enc)
        mp::validateEncoding(arch_, *enc);
    compareEnc_ = enc;
    refresh();
}

void WidthEditor::refresh() {
    QVector<double> keys, values, compare;
    for (size_t l = 0; l < layers_.size(); ++l) {
        const int gene = layers_[l].gene;
        const mp::Gene& g = arch_.genes[size_t(gene)];
        keys.push_back(double(l + 1));
        values.push_back(enc_.empty() ? 0 : mp::geneChannelsAt(g, enc_[size_t(gene)]));
        if (compareEnc_)
            compare.push_back(mp::geneChannelsAt(g, (*compareEnc_)[size_t(gene)]));
    }
    bars_->setData(keys, values, true);
    if (compareEnc_)
        compare_->setData(keys, compare, true);
    else
        compare_->data()->clear();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int WidthEditor::snap(const mp::ArchSpec& arch, int gene, double channels) {
    const mp::Gene& g = arch.genes.at(size_t(gene));
    int best = 0;
    double bestD = 1e30;
    for (int i = 0; i < mp::grid::kSize; ++i) {
        const double d = std::abs(mp::geneChannelsAt(g, i) - channels);
        if (d < bestD) {
            bestD = d;
            best = i;
        }
    }
    return best;
}

QPointF WidthEditor::pixelFor(int layer, double channels) const {
    return {plot_->xAxis->coordToPixel(double(layer + 1)), plot_->yAxis->coordToPixel(channels)};
}

void WidthEditor::onPress(QMouseEvent* e) {
    if (e->button() != Qt::LeftButton || layers_.empty())
        return;
    const double key = plot_->xAxis->pixelToCoord(e->position().x());
    const int layer = int(std::lround(key)) - 1;
    if (layer < 0 || layer >= int(layers_.size()) || std::abs(key - double(layer + 1)) > 0.45)
        return;
    dragLayer_ = layer;
    dragStart_ = enc_[size_t(layers_[size_t(layer)].gene)];
}

void WidthEditor::onMove(QMouseEvent* e) {
    if (dragLayer_ < 0)
        return;
    const int gene = layers_[size_t(dragLayer_)].gene;
    const int index = snap(arch_, gene, plot_->yAxis->pixelToCoord(e->position().y()));
    if (index == enc_[size_t(gene)])
        return;
    enc_[size_t(gene)] = index; // every layer tied to this gene follows
    refresh();
    emit geneDragged(gene, index);
}

void WidthEditor::onRelease(QMouseEvent* e) {
    if (dragLayer_ < 0)
        return;
    onMove(e);
    const int gene = layers_[size_t(dragLayer_)].gene;
    dragLayer_ = -1;
    if (enc_[size_t(gene)] != dragStart_)
        emit geneEdited(gene, dragStart_, enc_[size_t(gene)]);
}

} // namespace mpw
