// -object secret: passwords and keys given on the command line (data= or
// file=, raw or base64), kept for the drivers that need them (iSCSI CHAP...).
#pragma once

#include "options/keyval.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tessera {

// Validates and stores one secret. Throws UsageError as the reference words it.
void secret_add(const KeyVals &opts);
// The decoded bytes of secret `id`, if defined.
std::optional<std::string> secret_lookup(std::string_view id);

}  // namespace tessera
