#pragma once
// What an exported pruned network records about itself, and atomic file writing.

#include "metaprune/architecture.h"
#include "metaprune/training.h"

#include <string>

namespace mp {

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
