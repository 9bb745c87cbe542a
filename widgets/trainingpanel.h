#pragma once
// Training controls: data set, preset and training settings, start/cancel, progress with ETA,
// and the live loss / accuracy curve.

#include "metatypes.h"

#include <QWidget>

class QComboBox;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace mpw {

class TrainingPanel : public QWidget {
    Q_OBJECT
public:
    explicit TrainingPanel(QWidget* parent = nullptr);

    /// The settings in the form, on top of the last config set (which keeps the settings the
    /// form does not show, such as per-class caps).
    mp::TrainConfig config() const;
    void setConfig(const mp::TrainConfig& cfg);
    /// Offers an architecture from a file or an imported ONNX model as the one to train (it is
    /// selected; the built-in families stay in the list).
    void setArchitecture(const mp::ArchSpec& arch);
    /// The PruningNet size and training memory line for the chosen architecture and batch.
    QString sizeText() const;
    void setRunning(bool running);
    void clearCurve();
    void addCurvePoint(const mp::TrainingLogEntry& e);
    void showProgress(const mp::TrainProgress& p);
    void setStatus(const QString& text);
    QString statusText() const;

signals:
    void trainRequested();
    void cancelRequested();

private:
    QLineEdit* data_;
    QComboBox* format_;
    QComboBox* family_;
    QComboBox* preset_;
    QSpinBox* epochs_;
    QSpinBox* batch_;
    QDoubleSpinBox* lr_;
    QDoubleSpinBox* fullWidth_;
    QSpinBox* seed_;
    QLabel* size_;
    QPushButton* train_;
    QPushButton* cancel_;
    QProgressBar* bar_;
    QLabel* status_;
    QCustomPlot* curve_;
    mp::TrainConfig base_;
    /// The architecture the form describes, at the size its data is expected to have.
    mp::ArchSpec chosen() const;
    void updateSize();
};

} // namespace mpw
