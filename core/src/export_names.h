#pragma once
// Private to core: names the exporters give a network's tensors.

#include <algorithm>
#include <string>

namespace mp::detail {

/// "block3.expand" -> "block3_expand": a valid TorchScript attribute and a readable ONNX name.
inline std::string exportParamName(const std::string& op) {
    std::string n = op;
    std::replace(n.begin(), n.end(), '.', '_');
    return n;
}

} // namespace mp::detail
