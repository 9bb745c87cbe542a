#include "trainedmodeldialog.h"

#include "metaprune/dataset.h"
#include "metaprune/errors.h"
#include "metaprune/onnx_import.h"
#include "metaprune/search.h"
#include "metaprune/trained.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QtConcurrent>

#include <cmath>

namespace mpw {

namespace {

/// A line edit with a "..." button that opens a file or folder dialog.
QWidget* withBrowse(QLineEdit* edit, const std::function<QString()>& choose) {
    auto* row = new QWidget;
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* browse = new QPushButton(QObject::tr("..."));
    browse->setMaximumWidth(32);
    layout->addWidget(edit, 1);
    layout->addWidget(browse);
    QObject::connect(browse, &QPushButton::clicked, edit, [edit, choose] {
        const QString path = choose();
        if (!path.isEmpty())
            edit->setText(path);
    });
    return row;
}

/// "0.286" or "0.485,0.456,0.406" as one value per channel; empty with `error` set otherwise.
/// Runs on the evaluation's thread: plain text in, no widgets.
std::vector<float> parseValues(const QString& text, int channels, bool positive, QString* error) {
    std::vector<float> v;
    for (const QString& part : text.split(',')) {
        bool ok = false;
        const double x = part.trimmed().toDouble(&ok);
        if (!ok || !std::isfinite(x) || (positive && !(x > 0))) {
            *error = QObject::tr("'%1' is not a list of %2numbers")
                         .arg(text, positive ? QObject::tr("positive ") : QString());
            return {};
        }
        v.push_back(float(x));
    }
    if (v.size() == 1)
        return std::vector<float>(size_t(channels), v[0]);
    if (int(v.size()) != channels) {
        *error = QObject::tr("'%1' has %2 values; the model reads %3 channels").arg(text).arg(v.size()).arg(channels);
        return {};
    }
    return v;
}

/// What the background evaluation hands back.
struct Evaluation {
    mp::ArchSpec arch;
    mp::ModelScore score;
    std::string dataSummary, error;
};

} // namespace

TrainedModelDialog::TrainedModelDialog(QWidget* parent)
    : QDialog(parent), model_(new QLineEdit), data_(new QLineEdit), mean_(new QLineEdit("0")), std_(new QLineEdit("1")),
      project_(new QLineEdit), evaluate_(new QPushButton(tr("&Evaluate the model"))), result_(new QLabel),
      buttons_(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel)) {
    setWindowTitle(tr("New Project from Trained Model"));
    auto* form = new QFormLayout;
    form->addRow(tr("ONNX model (with weights)"), withBrowse(model_, [this] {
                     return QFileDialog::getOpenFileName(this, tr("Trained model"), model_->text(),
                                                         tr("ONNX models (*.onnx);;All files (*)"));
                 }));
    form->addRow(tr("Data folder"), withBrowse(data_, [this] {
                     return QFileDialog::getExistingDirectory(this, tr("Data folder"), data_->text());
                 }));
    form->addRow(tr("Input mean"), mean_);
    form->addRow(tr("Input std"), std_);
    form->addRow(tr("Project file"), withBrowse(project_, [this] {
                     return QFileDialog::getSaveFileName(this, tr("New project"), project_->text(),
                                                         tr("MetaPrune projects (*.sqlite)"));
                 }));
    data_->setText(QString::fromStdString(mp::kDefaultDataPath));
    for (QLineEdit* e : {mean_, std_})
        e->setToolTip(tr("As the model was trained, on pixels scaled to 0..1: one value, or one per channel "
                         "separated by commas (torchvision's ImageNet models: 0.485,0.456,0.406 and "
                         "0.229,0.224,0.225)."));
    connect(model_, &QLineEdit::textChanged, this, [this](const QString& path) {
        if (project_->text().isEmpty() || project_->property("auto").toBool()) {
            project_->setText(QFileInfo(path).path() + "/" + QFileInfo(path).completeBaseName() + ".sqlite");
            project_->setProperty("auto", true);
        }
    });
    connect(project_, &QLineEdit::textEdited, this, [this] { project_->setProperty("auto", false); });
    result_->setWordWrap(true);
    result_->setText(tr("Evaluate the model on the data's test set before the project is created: its top-1 is "
                        "the reference of every pruned network."));
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(evaluate_);
    layout->addWidget(result_);
    layout->addWidget(buttons_);
    createButton()->setText(tr("&Create Project"));
    createButton()->setEnabled(false);
    // Any change makes the evaluation stale.
    for (QLineEdit* e : {model_, data_, mean_, std_})
        connect(e, &QLineEdit::textChanged, this, [this] { createButton()->setEnabled(false); });
    connect(evaluate_, &QPushButton::clicked, this, &TrainedModelDialog::startEvaluation);
    connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
    setMinimumWidth(560);
}

TrainedModelDialog::~TrainedModelDialog() {
    if (cancel_)
        *cancel_ = true; // a running evaluation stops at its next batch
}

QPushButton* TrainedModelDialog::createButton() const { return buttons_->button(QDialogButtonBox::Ok); }

QString TrainedModelDialog::dataPath() const { return QFileInfo(data_->text()).absoluteFilePath(); }

QString TrainedModelDialog::projectPath() const { return QFileInfo(project_->text()).absoluteFilePath(); }

void TrainedModelDialog::startEvaluation() {
    if (model_->text().isEmpty() || data_->text().isEmpty() || project_->text().isEmpty()) {
        result_->setText(tr("Choose the model, the data folder and the project file."));
        return;
    }
    const QString model = QFileInfo(model_->text()).absoluteFilePath(), data = dataPath();
    const QString meanText = mean_->text(), stdText = std_->text();
    evaluate_->setEnabled(false);
    createButton()->setEnabled(false);
    result_->setText(tr("Reading the model and scoring it on the test set..."));
    if (cancel_)
        *cancel_ = true;
    cancel_ = std::make_shared<std::atomic<bool>>(false);
    auto* watcher = new QFutureWatcher<Evaluation>(this);
    const std::shared_ptr<std::atomic<bool>> cancel = cancel_;
    connect(watcher, &QFutureWatcher<Evaluation>::finished, this, [this, watcher, cancel] {
        watcher->deleteLater();
        if (*cancel)
            return; // superseded by another evaluation, or the dialog is closing
        evaluate_->setEnabled(true);
        const Evaluation e = watcher->result();
        if (!e.error.empty()) {
            result_->setText(tr("Cannot use this model: %1").arg(QString::fromStdString(e.error)));
            emit evaluated(false);
            return;
        }
        arch_ = e.arch;
        top1_ = e.score.top1;
        result_->setText(tr("Original model: top-1 %1% on %2 test images, %3 MACs, input %4x%5x%6. The PruningNet "
                            "will start from its weights.")
                             .arg(e.score.top1, 0, 'f', 2)
                             .arg(e.score.images)
                             .arg(QString::fromStdString(
                                 mp::formatMacs(mp::countMacs(arch_, mp::uniformEncoding(arch_, mp::grid::kSize - 1)))))
                             .arg(arch_.inChannels)
                             .arg(arch_.inHeight)
                             .arg(arch_.inWidth));
        createButton()->setEnabled(true);
        emit evaluated(true);
    });
    // The preprocessing is checked against the model's channels once the model is read.
    watcher->setFuture(QtConcurrent::run([model, data, meanText, stdText, cancel] {
        Evaluation e;
        try {
            mp::TrainedWeights w;
            e.arch = mp::importOnnx(model.toStdString(), nullptr, &w);
            QString error;
            e.arch.inputMean = parseValues(meanText, e.arch.inChannels, false, &error);
            if (error.isEmpty())
                e.arch.inputStd = parseValues(stdText, e.arch.inChannels, true, &error);
            if (!error.isEmpty())
                throw std::invalid_argument(error.toStdString());
            mp::DataOptions o;
            o.height = o.folderHeight = e.arch.inHeight;
            o.width = o.folderWidth = e.arch.inWidth;
            const mp::DataBundle b = mp::loadData(data.toStdString(), mp::DataFormat::Auto, o);
            e.dataSummary = b.summary;
            e.score = mp::evaluateTrained(e.arch, w, b.test, e.arch.inputMean, e.arch.inputStd, 0, cancel.get());
        } catch (const std::exception& ex) {
            e.error = ex.what();
        }
        return e;
    }));
}

} // namespace mpw
