#pragma once
#include "main/config.hpp"
#include <string>
#include <string_view>
namespace tessera {
// A board's manifest category "default:riscv64,riscv32" marks it as the
// default machine of those targets.
bool is_default_for(std::string_view category, std::string_view target);

// Prints the answer to one help request ("machine", "device", "device:TYPE"...).
void answer_help(const Config &cfg, const std::string &request);
}
