// TorchScript and LibTorch-archive export of pruned networks.
#include <torch/script.h>
#include <torch/torch.h>

#include "export_names.h"
#include "pruningnet_module.h"
#include "metaprune/export.h"

#include <iomanip>
#include <sstream>

namespace mp {

namespace detail {
void writeOnnx(const PrunedNetwork& net, const std::string& path); // export_onnx.cpp
}

namespace {

std::string activation(Activation act, const std::string& v) {
    const std::string set = "    " + v + " = ";
    switch (act) {
    case Activation::ReLU:
        return set + "torch.relu(" + v + ")\n";
    case Activation::ReLU6:
        return set + "torch.clamp(" + v + ", 0.0, 6.0)\n";
    case Activation::Sigmoid:
        return set + "torch.sigmoid(" + v + ")\n";
    case Activation::HardSigmoid:
        return set + "torch.hardsigmoid(" + v + ")\n";
    case Activation::HardSwish:
        return set + "torch.hardswish(" + v + ")\n";
    case Activation::SiLU:
        return set + "torch.silu(" + v + ")\n";
    case Activation::None:
        break;
    }
    return {};
}

std::string pair(int a, int b) { return "[" + std::to_string(a) + ", " + std::to_string(b) + "]"; }

/// TorchScript source of the network's forward pass, one statement per op of the architecture
/// description, so the exported module runs exactly the ops the core runs.
std::string forwardSource(const ArchSpec& arch) {
    std::ostringstream src;
    src << std::setprecision(9); // a Pad's value, exactly as a float
    src << "def forward(self, x):\n    v0 = x\n";
    std::vector<bool> flat(arch.ops.size() + 1, false); // 2-D values, after a Linear
    for (size_t i = 0; i < arch.ops.size(); ++i) {
        const Op& op = arch.ops[i];
        const std::string v = "v" + std::to_string(i + 1);
        const std::string in = "v" + std::to_string(op.inputs[0]);
        const std::string n = detail::exportParamName(op.name);
        std::string inputs;
        for (int id : op.inputs)
            inputs += std::string(inputs.empty() ? "" : ", ") + "v" + std::to_string(id);
        switch (op.kind) {
        case OpKind::Conv:
            src << "    " << v << " = torch.conv2d(" << in << ", self." << n << "_weight, self." << n << "_bias, "
                << pair(op.strideH, op.strideW) << ", " << pair(op.padH, op.padW) << ", "
                << pair(op.dilation, op.dilation) << ", "
                << (op.followsInput() ? "self." + n + "_weight.size(0) // " + std::to_string(op.groupWidth)
                                      : std::string("1"))
                << ")\n";
            break;
        case OpKind::Linear:
            src << "    " << v << " = torch.addmm(self." << n << "_bias, "
                << (flat[size_t(op.inputs[0])] ? in : "torch.flatten(" + in + ", 1)") << ", self." << n
                << "_weight.t())\n";
            flat[i + 1] = true;
            break;
        case OpKind::Add:
            src << "    " << v << " = " << in << " + v" << op.inputs[1] << "\n";
            break;
        case OpKind::Mul:
            src << "    " << v << " = " << in << " * v" << op.inputs[1] << "\n";
            break;
        case OpKind::Concat:
            src << "    " << v << " = torch.cat([" << inputs << "], 1)\n";
            break;
        case OpKind::MaxPool:
            src << "    " << v << " = torch.max_pool2d(" << in << ", " << pair(op.kernelH, op.kernelW) << ", "
                << pair(op.strideH, op.strideW) << ", " << pair(op.padH, op.padW) << ", [1, 1], "
                << (op.ceilMode ? "True" : "False") << ")\n";
            break;
        case OpKind::AvgPool:
            src << "    " << v << " = torch.avg_pool2d(" << in << ", " << pair(op.kernelH, op.kernelW)
                << ", " << pair(op.strideH, op.strideW) << ", " << pair(op.padH, op.padW) << ", "
                << (op.ceilMode ? "True" : "False") << ", " << (op.countIncludePad ? "True" : "False") << ")\n";
            break;
        case OpKind::GlobalAvgPool:
            src << "    " << v << " = torch.mean(" << in << ", [2, 3], True)\n";
            break;
        case OpKind::Act:
            src << "    " << v << " = " << in << "\n";
            break;
        case OpKind::BatchNorm:
            src << "    " << v << " = " << in << " * self." << n << "_weight.reshape([1, -1, 1, 1]) + self." << n
                << "_bias.reshape([1, -1, 1, 1])\n";
            break;
        case OpKind::Pad:
            src << "    " << v << " = torch.constant_pad_nd(" << in << ", [" << op.padW << ", " << op.padW << ", "
                << op.padH << ", " << op.padH << "], " << op.padValue << ")\n";
            break;
        }
        src << activation(op.act, v);
    }
    const std::string last = "v" + std::to_string(arch.ops.size());
    src << "    return " << (flat.back() ? last : "torch.flatten(" + last + ", 1)") << "\n";
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
        } catch (const std::exception& e) { // c10::Error and the TorchScript compiler's ErrorReport
            // The compiler's report starts with a newline and quotes the source: its first lines say what.
            std::string what = e.what();
            what.erase(0, what.find_first_not_of("\n "));
            size_t end = 0;
            for (int line = 0; line < 3 && end != std::string::npos; ++line)
                end = what.find('\n', end + 1);
            throw std::runtime_error(path + ": cannot build the TorchScript module: " + what.substr(0, end));
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
