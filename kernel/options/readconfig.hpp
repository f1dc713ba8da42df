// -readconfig files in the reference's ini-like format:
//
//   # comment
//   [drive "d0"]
//     file = "disk.img"
//     if = "virtio"
//   [machine]
//     type = "virt"
//
// Values are double-quoted and have no escapes (they cannot hold '"').
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "options/keyval.hpp"

namespace tessera {

struct ConfigSection {
    std::string group;   // "drive", "machine", ...
    std::string id;      // from [group "id"]; empty when the header has none
    KeyVals values;      // in file order
};

// Parses config text. file_name only labels errors, which are UsageError
// "<file>:<line>: <what>". When known_groups is non-empty, a section whose
// group is not listed is an error too.
std::vector<ConfigSection> parse_config(std::string_view text, std::string_view file_name,
                                        std::span<const std::string_view> known_groups = {});

// Reads and parses a file ("-" is not special). A missing or unreadable file
// is a UsageError naming it.
std::vector<ConfigSection> read_config_file(const std::string &path,
                                            std::span<const std::string_view> known_groups = {});

}  // namespace tessera
