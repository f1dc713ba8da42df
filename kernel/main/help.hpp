#pragma once
#include "main/config.hpp"
#include <string>
namespace tessera {
// Prints the answer to one help request ("machine", "device", "device:TYPE"...).
void answer_help(const Config &cfg, const std::string &request);
}
