#pragma once
// Private to core: names the exporters give a network's tensors.

#include <cctype>
#include <string>

namespace mp::detail {

/// "block3.expand" -> "block3_expand", "block1-0.f.a" -> "block1_0_f_a": a valid TorchScript
/// attribute and a readable ONNX name (analyzeArchitecture keeps these distinct per op).
inline std::string exportParamName(const std::string& op) {
    std::string n = op;
    for (char& c : n)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            c = '_';
    if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0])))
        n = "op_" + n;
    return n;
}

} // namespace mp::detail
