// TorchScript and LibTorch-archive export of pruned networks.
#include <torch/script.h>
#include <torch/torch.h>

#include "export_names.h"
#include "pruningnet_module.h"
#include "metaprune/export.h"

#include <sstream>

namespace mp {

namespace detail {
void writeOnnx(const PrunedNetwork& net, const std::string& path); // export_onnx.cpp
}

namespace {

std::string activation(Activation act, const std::string& v) {
    switch (act) {
    case Activation::ReLU:
        return "    " + v + " = torch.relu(" + v + ")\n";
    case Activation::ReLU6:
        return "    " + v + " = torch.clamp(" + v + ", 0.0, 6.0)\n";
    case Activation::None:
        break;
    }
    return {};
}

/// TorchScript source of the network's forward pass, one statement per op of the architecture
/// description, so the exported module runs exactly the ops the core runs.
std::string forwardSource(const ArchSpec& arch) {
    std::ostringstream src;
    src << "def forward(self, x):\n    v0 = x\n";
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        const std::string v = "v" + std::to_string(i + 1);
        const std::string in = "v" + std::to_string(op.inputs[0]);
        const std::string n = detail::exportParamName(op.name);
        switch (op.kind) {
        case OpKind::Conv: {
            const int pad = op.kernel / 2;
            src << "    " << v << " = torch.conv2d(" << in << ", self." << n << "_weight, self." << n << "_bias, ["
                << op.stride << ", " << op.stride << "], [" << pad << ", " << pad << "], [1, 1], "
                << (op.depthwise ? "self." + n + "_weight.size(0)" : std::string("1")) << ")\n";
            break;
        }
        case OpKind::Add:
            src << "    " << v << " = " << in << " + v" << op.inputs[1] << "\n";
            break;
        case OpKind::MaxPool: {
            const int pad = op.kernel / 2;
            src << "    " << v << " = torch.max_pool2d(" << in << ", [" << op.kernel << ", " << op.kernel << "], ["
                << op.stride << ", " << op.stride << "], [" << pad << ", " << pad << "])\n";
            break;
        }
        case OpKind::GlobalAvgPool:
            src << "    " << v << " = torch.mean(" << in << ", [2, 3])\n";
            break;
        case OpKind::Linear:
            src << "    " << v << " = torch.addmm(self." << n << "_bias, " << in << ", self." << n << "_weight.t())\n";
            break;
        }
        src << activation(op.act, v);
    }
    src << "    return v" << arch.ops.size() << "\n";
    return src.str();
}

std::string torchScriptBytes(const PrunedNetwork& net) {
    torch::jit::Module m("MetaPrunePrunedNetwork");
    for (size_t i = 0; i < net.arch.ops.size(); ++i) {
        if (net.weight[i].data.empty())
            continue;
        const std::string n = detail::exportParamName(net.arch.ops[i].name);
        m.register_parameter(n + "_weight", detail::fromNetworkTensor(net.weight[i]), false);
        m.register_parameter(n + "_bias", detail::fromNetworkTensor(net.bias[i]), false);
    }
    m.register_attribute("metadata", c10::StringType::get(), c10::IValue(net.metadataJson));
    m.define(forwardSource(net.arch));
    std::ostringstream out;
    m.save(out);
    return out.str();
}

std::string archiveBytes(const PrunedNetwork& net) {
    torch::serialize::OutputArchive ar;
    ar.write("format", c10::IValue(std::string("metaprune-pruned-1")));
    ar.write("metadata", c10::IValue(net.metadataJson));
    for (size_t i = 0; i < net.arch.ops.size(); ++i) {
        if (net.weight[i].data.empty())
            continue;
        const std::string n = detail::exportParamName(net.arch.ops[i].name);
        ar.write(n + "_weight", detail::fromNetworkTensor(net.weight[i]), true);
        ar.write(n + "_bias", detail::fromNetworkTensor(net.bias[i]), true);
    }
    std::ostringstream out;
    ar.save_to(out);
    return out.str();
}

} // namespace

ExportFormat parseExportFormat(const std::string& name) {
    if (name == "torchscript")
        return ExportFormat::TorchScript;
    if (name == "onnx")
        return ExportFormat::Onnx;
    if (name == "archive")
        return ExportFormat::Archive;
    throw std::invalid_argument("unknown export format '" + name + "' (torchscript, onnx, archive)");
}

std::string exportExtension(ExportFormat format) {
    switch (format) {
    case ExportFormat::TorchScript:
        return ".pt";
    case ExportFormat::Onnx:
        return ".onnx";
    case ExportFormat::Archive:
        break;
    }
    return ".archive.pt";
}

void writeNetwork(const PrunedNetwork& net, ExportFormat format, const std::string& path) {
    if (net.weight.size() != net.arch.ops.size() || net.bias.size() != net.arch.ops.size())
        throw std::invalid_argument(path + ": network tensors do not match its architecture");
    switch (format) {
    case ExportFormat::TorchScript: {
        std::string bytes;
        try {
            bytes = torchScriptBytes(net);
        } catch (const c10::Error& e) {
            std::string what = e.what();
            throw std::runtime_error(path + ": cannot build the TorchScript module: " + what.substr(0, what.find('\n')));
        }
        writeFileAtomically(path, bytes);
        break;
    }
    case ExportFormat::Onnx:
        detail::writeOnnx(net, path);
        break;
    case ExportFormat::Archive:
        writeFileAtomically(path, archiveBytes(net));
        break;
    }
}

} // namespace mp
