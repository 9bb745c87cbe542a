#pragma once
// What an exported pruned network records about itself, and atomic file writing.

#include "metaprune/architecture.h"
#include "metaprune/network.h"
#include "metaprune/training.h"

#include <string>
#include <vector>

namespace mp {

enum class ExportFormat {
    TorchScript, ///< a scripted module: torch.jit.load in Python, torch::jit::load in C++
    Onnx,        ///< ONNX opset 13, checked with onnx::checker
    Archive,     ///< a LibTorch archive of named tensors and a "metadata" string
};

/// "torchscript", "onnx" or "archive"; throws std::invalid_argument otherwise.
ExportFormat parseExportFormat(const std::string& name);

/// The file name extension of a format: ".pt", ".onnx", ".archive.pt".
std::string exportExtension(ExportFormat format);

/// Writes `net` to `path` in `format` through a temporary file renamed into place. Every format
/// records the metadata (encoding, channels, MACs, params, normalisation, class names): the
/// TorchScript module as its `metadata` attribute, ONNX as the "metaprune" metadata property.
/// Throws std::runtime_error naming the file, or onnx's checker error for an invalid graph.
void writeNetwork(const PrunedNetwork& net, ExportFormat format, const std::string& path);

/// JSON describing an exported pruned network: architecture, input shape and normalisation,
/// class names, encoding, channel counts per gene, MACs (conv + linear multiply-accumulates per
/// image), params, the PruningNet checkpoint's SHA-256, and "bn": "folded".
struct ExportDescription {
    std::string json;
};

ExportDescription describeExport(const ArchSpec& arch, const CheckpointInfo& checkpoint, const Encoding& enc);

/// Writes `bytes` to `path` through a temporary file renamed into place (QSaveFile), so a failed
/// write never leaves a half-written file. Throws std::runtime_error naming the file.
void writeFileAtomically(const std::string& path, const std::string& bytes);

} // namespace mp
