#pragma once
// File > New Project from Trained Model: an ONNX model with its weights, the data folder, the
// input normalisation the model was trained with, and the model's own top-1 on the data's test
// set, measured in the background before the project is created (the reference every pruned
// network is then held against).

#include "metaprune/architecture.h"

#include <QDialog>

#include <atomic>
#include <memory>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace mpw {

class TrainedModelDialog : public QDialog {
    Q_OBJECT
public:
    explicit TrainedModelDialog(QWidget* parent = nullptr);
    ~TrainedModelDialog() override;

    /// The imported architecture with its weights and the normalisation entered (after a
    /// successful evaluation).
    const mp::ArchSpec& architecture() const { return arch_; }
    QString dataPath() const;
    QString projectPath() const;
    /// The model's top-1 (percent) on the test set, after a successful evaluation.
    double top1() const { return top1_; }

    QLineEdit* modelEdit() const { return model_; }
    QLineEdit* dataEdit() const { return data_; }
    QLineEdit* meanEdit() const { return mean_; }
    QLineEdit* stdEdit() const { return std_; }
    QLineEdit* projectEdit() const { return project_; }
    QPushButton* evaluateButton() const { return evaluate_; }
    QPushButton* createButton() const;
    QLabel* resultLabel() const { return result_; }

signals:
    /// The evaluation ended: `ok` with the top-1, else the error in resultLabel().
    void evaluated(bool ok);

private:
    void startEvaluation();

    QLineEdit *model_, *data_, *mean_, *std_, *project_;
    QPushButton* evaluate_;
    QLabel* result_;
    QDialogButtonBox* buttons_;
    mp::ArchSpec arch_;
    double top1_ = 0;
    std::shared_ptr<std::atomic<bool>> cancel_;
};

} // namespace mpw
