#include "trainingpanel.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace mpw {

namespace {
QString duration(double s) {
    const long t = long(s + 0.5);
    if (t >= 3600)
        return QStringLiteral("%1h%2m").arg(t / 3600).arg((t / 60) % 60, 2, 10, QChar('0'));
    if (t >= 60)
        return QStringLiteral("%1m%2s").arg(t / 60).arg(t % 60, 2, 10, QChar('0'));
    return QStringLiteral("%1s").arg(t);
}
} // namespace

TrainingPanel::TrainingPanel(QWidget* parent)
    : QWidget(parent), data_(new QLineEdit), format_(new QComboBox), family_(new QComboBox), preset_(new QComboBox),
      epochs_(new QSpinBox),
      batch_(new QSpinBox), lr_(new QDoubleSpinBox), fullWidth_(new QDoubleSpinBox), seed_(new QSpinBox),
      size_(new QLabel),
      train_(new QPushButton(QIcon(":/icons/train.png"), tr("&Train"))),
      cancel_(new QPushButton(QIcon(":/icons/cancel.png"), tr("Cancel"))), bar_(new QProgressBar), status_(new QLabel),
      curve_(new QCustomPlot) {
    auto* browse = new QToolButton;
    browse->setText(tr("..."));
    browse->setToolTip(tr("Choose a data folder: IDX files, CIFAR binary batches, or one folder per class"));
    connect(browse, &QToolButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Data folder"), data_->text());
        if (!dir.isEmpty())
            data_->setText(dir);
    });
    auto* dataRow = new QHBoxLayout;
    dataRow->addWidget(data_);
    dataRow->addWidget(browse);
    format_->addItems({"auto", "idx", "cifar", "folder"});
    family_->addItems({"mobilenetv2", "mobilenetv1", "resnet"});
    family_->setToolTip(tr("MobileNetV2 (stage + mid genes), MobileNetV1 (one gene per conv), ResNet (stage genes "
                           "shared by the shortcuts, mid genes)"));
    preset_->addItems({"small", "paper"});
    preset_->setToolTip(tr("small: sized for 28x28 / 32x32 data (ResNet: ResNet-20); paper: the reference widths "
                           "(ResNet: ResNet-50)"));
    epochs_->setRange(1, 1000);
    batch_->setRange(2, 4096);
    lr_->setRange(0.0001, 10);
    lr_->setDecimals(4);
    lr_->setSingleStep(0.05);
    fullWidth_->setRange(0, 1);
    fullWidth_->setSingleStep(0.05);
    fullWidth_->setToolTip(tr("Probability of training the full-width network in a step (0 = the reference's "
                              "pure random sampling)"));
    seed_->setRange(0, 1 << 30);

    auto* form = new QFormLayout;
    form->addRow(tr("Data"), dataRow);
    form->addRow(tr("Format"), format_);
    form->addRow(tr("Architecture"), family_);
    form->addRow(tr("Preset"), preset_);
    form->addRow(tr("Epochs"), epochs_);
    form->addRow(tr("Batch size"), batch_);
    form->addRow(tr("Learning rate"), lr_);
    form->addRow(tr("Full-width probability"), fullWidth_);
    form->addRow(tr("Seed"), seed_);
    size_->setWordWrap(true);
    form->addRow(size_);
    connect(family_, &QComboBox::currentIndexChanged, this, [this] {
        preset_->setEnabled(family_->currentData().toString().isEmpty() && train_->isEnabled());
        updateSize();
    });
    connect(preset_, &QComboBox::currentIndexChanged, this, &TrainingPanel::updateSize);
    connect(batch_, &QSpinBox::valueChanged, this, &TrainingPanel::updateSize);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(train_);
    buttons->addWidget(cancel_);
    connect(train_, &QPushButton::clicked, this, &TrainingPanel::trainRequested);
    connect(cancel_, &QPushButton::clicked, this, &TrainingPanel::cancelRequested);

    curve_->addGraph(curve_->xAxis, curve_->yAxis);
    curve_->graph(0)->setName(tr("loss"));
    curve_->graph(0)->setPen(QPen(QColor(200, 30, 30), 1.5));
    curve_->addGraph(curve_->xAxis, curve_->yAxis2);
    curve_->graph(1)->setName(tr("training top-1 (%)"));
    curve_->graph(1)->setPen(QPen(QColor(52, 101, 164), 1.5));
    curve_->xAxis->setLabel(tr("step"));
    curve_->yAxis->setLabel(tr("loss"));
    curve_->yAxis2->setLabel(tr("top-1 (%)"));
    curve_->yAxis2->setVisible(true);
    curve_->yAxis2->setRange(0, 100);
    curve_->legend->setVisible(true);
    curve_->legend->setFont(QFont(font().family(), 8));
    curve_->setMinimumHeight(220);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(bar_);
    layout->addWidget(status_);
    layout->addWidget(curve_, 1);
    status_->setWordWrap(true);
    setConfig(mp::TrainConfig{});
    setRunning(false);
}

mp::TrainConfig TrainingPanel::config() const {
    mp::TrainConfig c = base_;
    c.dataPath = data_->text().toStdString();
    c.dataFormat = format_->currentText().toStdString();
    const QString file = family_->currentData().toString(); // an architecture file's description
    if (file.isEmpty()) {
        c.family = family_->currentText().toStdString();
        c.preset = preset_->currentText().toStdString();
        c.architecture.clear();
        c.initFromWeights = false; // a built-in family has no trained model
    } else {
        const mp::ArchSpec a = mp::architectureFromJson(file.toStdString());
        c.family = a.family;
        c.preset = a.preset;
        c.architecture = QJsonDocument::fromJson(file.toUtf8()).toJson(QJsonDocument::Compact).toStdString();
        c.initFromWeights = base_.initFromWeights && !a.weightsFile.empty();
    }
    c.epochs = epochs_->value();
    c.batchSize = batch_->value();
    c.lr = lr_->value();
    c.fullWidthProb = fullWidth_->value();
    c.seed = uint64_t(seed_->value());
    return c;
}

void TrainingPanel::setConfig(const mp::TrainConfig& c) {
    base_ = c;
    data_->setText(QString::fromStdString(c.dataPath));
    format_->setCurrentText(QString::fromStdString(c.dataFormat));
    if (!c.architecture.empty()) {
        setArchitecture(mp::architectureFromJson(c.architecture));
    } else {
        family_->setCurrentText(QString::fromStdString(c.family));
        preset_->setCurrentText(QString::fromStdString(c.preset));
    }
    epochs_->setValue(c.epochs);
    batch_->setValue(c.batchSize);
    lr_->setValue(c.lr);
    fullWidth_->setValue(c.fullWidthProb);
    seed_->setValue(int(c.seed));
}

void TrainingPanel::setArchitecture(const mp::ArchSpec& arch) {
    // One file entry at a time, after the built-in families.
    for (int i = family_->count() - 1; i >= 0; --i)
        if (!family_->itemData(i).toString().isEmpty())
            family_->removeItem(i);
    family_->addItem(tr("%1 (file)").arg(QString::fromStdString(arch.family)),
                     QString::fromStdString(mp::toArchitectureJson(arch)));
    family_->setCurrentIndex(family_->count() - 1);
}

mp::ArchSpec TrainingPanel::chosen() const {
    const QString file = family_->currentData().toString();
    if (!file.isEmpty())
        return mp::architectureFromJson(file.toStdString());
    // The built-in families at the size of their usual data: Fashion-MNIST for small presets.
    const bool paper = preset_->currentText() == "paper";
    return mp::makeArchitecture(family_->currentText().toStdString(), preset_->currentText().toStdString(),
                                paper ? 3 : 1, paper ? 224 : 28, paper ? 224 : 28, paper ? 1000 : 10);
}

QString TrainingPanel::sizeText() const { return size_->text(); }

void TrainingPanel::updateSize() {
    try {
        const mp::ArchSpec a = chosen();
        const mp::PruningNetSize s = mp::pruningNetSize(a, batch_->value());
        const int64_t available = mp::availableMemoryBytes();
        const double gib = double(int64_t(1) << 30);
        size_->setText(tr("PruningNet: %1 M parameters; training at batch %2 needs about %3 GiB (%4x%5 input) of "
                          "the %6 GiB available%7")
                           .arg(double(s.parameters) / 1e6, 0, 'f', 1)
                           .arg(s.batch)
                           .arg(double(s.trainingBytes()) / gib, 0, 'f', 1)
                           .arg(a.inHeight)
                           .arg(a.inWidth)
                           .arg(double(available) / gib, 0, 'f', 1)
                           .arg(available > 0 && s.trainingBytes() > available ? tr(": it will not fit") : QString()));
    } catch (const std::exception& e) {
        size_->setText(QString::fromStdString(e.what()));
    }
}

void TrainingPanel::setRunning(bool running) {
    train_->setEnabled(!running);
    cancel_->setEnabled(running);
    for (QWidget* w : std::initializer_list<QWidget*>{data_, format_, family_, preset_, epochs_, batch_, lr_, fullWidth_, seed_})
        w->setEnabled(!running);
    preset_->setEnabled(!running && family_->currentData().toString().isEmpty());
}

void TrainingPanel::clearCurve() {
    curve_->graph(0)->data()->clear();
    curve_->graph(1)->data()->clear();
    curve_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingPanel::addCurvePoint(const mp::TrainingLogEntry& e) {
    curve_->graph(0)->addData(double(e.step), e.loss);
    curve_->graph(1)->addData(double(e.step), e.top1);
    bool found = false;
    const QCPRange steps = curve_->graph(0)->getKeyRange(found);
    const QCPRange loss = curve_->graph(0)->getValueRange(found);
    if (found) {
        curve_->xAxis->setRange(0, std::max(steps.upper, 1.0));
        curve_->yAxis->setRange(0, std::max(loss.upper * 1.05, 0.1));
    }
    curve_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingPanel::showProgress(const mp::TrainProgress& p) {
    bar_->setRange(0, int(p.totalSteps));
    bar_->setValue(int(p.step));
    status_->setText(tr("Epoch %1, step %2/%3, loss %4, training top-1 %5% (random structures), ETA %6")
                         .arg(p.epoch + 1)
                         .arg(p.step)
                         .arg(p.totalSteps)
                         .arg(p.loss, 0, 'f', 3)
                         .arg(p.top1, 0, 'f', 1)
                         .arg(duration(p.etaSeconds)));
    addCurvePoint({p.step, p.epoch, p.loss, p.top1, p.lr, p.elapsedSeconds});
}

void TrainingPanel::setStatus(const QString& text) { status_->setText(text); }

QString TrainingPanel::statusText() const { return status_->text(); }

} // namespace mpw
