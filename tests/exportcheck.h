#pragma once
// Shared by tst_export and tst_import: pruned networks run by runtimes that share no code with
// the core (python3-torch's torch.jit.load, python3-onnx's checker, OpenCV's DNN module) on the
// same input, through tests/export_check.py. Include after pruningnet_module.h (LibTorch first).

#include "metaprune/export.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>

#include <fstream>
#include <vector>

namespace mp::test {

/// One exported network with the input it is run on and, when the core computed it, the
/// core's own output.
struct ExportCase {
    QString name;
    ArchSpec arch;
    Encoding enc;
    PrunedNetwork net;
    torch::Tensor input;     ///< [N, C, H, W] NCHW
    torch::Tensor reference; ///< [N, classes], or undefined
    torch::Tensor viaTorch, viaOpenCv;
    QJsonObject meta; ///< what export_check.py read back: metadata, opset, op types
    /// OpenCV 4.6 may fail on this graph: its error is recorded (meta "opencv_error") instead.
    bool opencvOptional = false;
};

inline void writeRaw(const torch::Tensor& t, const QString& path) {
    const torch::Tensor c = t.contiguous();
    std::ofstream(path.toStdString(), std::ios::binary)
        .write(reinterpret_cast<const char*>(c.data_ptr<float>()), std::streamsize(c.numel() * sizeof(float)));
}

inline torch::Tensor readRaw(const QString& path, int64_t rows, int64_t cols) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray bytes = f.readAll();
    if (bytes.size() != rows * cols * qsizetype(sizeof(float)))
        return {};
    return torch::from_blob(const_cast<char*>(bytes.data()), {rows, cols}, torch::kFloat).clone();
}

inline double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

/// Writes every case in both formats under `dir`, runs export_check.py on them and fills
/// viaTorch, viaOpenCv and meta. Returns python's output when it failed, else empty.
inline QString runIndependentRuntimes(std::vector<ExportCase>& cases, const QString& dir) {
    QJsonArray manifest;
    for (const ExportCase& c : cases) {
        const QString base = dir + "/" + c.name;
        writeNetwork(c.net, ExportFormat::TorchScript, (base + ".pt").toStdString());
        writeNetwork(c.net, ExportFormat::Onnx, (base + ".onnx").toStdString());
        writeRaw(c.input, base + ".in");
        manifest.append(QJsonObject{{"torchscript", base + ".pt"},
                                    {"onnx", base + ".onnx"},
                                    {"input", base + ".in"},
                                    {"shape", QJsonArray{int(c.input.size(0)), int(c.input.size(1)),
                                                         int(c.input.size(2)), int(c.input.size(3))}},
                                    {"torch_out", base + ".torch.out"},
                                    {"opencv_out", base + ".opencv.out"},
                                    {"meta_out", base + ".meta.json"},
                                    {"opencv_optional", c.opencvOptional}});
    }
    QFile mf(dir + "/manifest.json");
    if (!mf.open(QIODevice::WriteOnly))
        return "cannot write " + mf.fileName();
    mf.write(QJsonDocument(manifest).toJson());
    mf.close();
    QProcess py;
    py.setProcessChannelMode(QProcess::MergedChannels);
    py.start("/usr/bin/python3", {QStringLiteral(EXPORT_CHECK_SCRIPT), mf.fileName()});
    if (!py.waitForFinished(900000))
        return "python3 did not finish";
    if (py.exitStatus() != QProcess::NormalExit || py.exitCode() != 0)
        return "export_check.py failed (needs python3-torch, python3-onnx, python3-opencv):\n" +
               QString::fromUtf8(py.readAll());
    for (ExportCase& c : cases) {
        const QString base = dir + "/" + c.name;
        c.viaTorch = readRaw(base + ".torch.out", c.input.size(0), c.arch.classes);
        c.viaOpenCv = readRaw(base + ".opencv.out", c.input.size(0), c.arch.classes);
        QFile meta(base + ".meta.json");
        if (meta.open(QIODevice::ReadOnly))
            c.meta = QJsonDocument::fromJson(meta.readAll()).object();
    }
    return {};
}

} // namespace mp::test
