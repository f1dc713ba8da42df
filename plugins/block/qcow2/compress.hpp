// Compressed clusters (read only): raw deflate (zlib) and zstd.
#pragma once

#include "header.hpp"

namespace qcow2 {

// Fills `out` (one cluster) from `in`; Error if the data does not
// decompress to exactly a cluster.
void decompress(Compression type, std::span<const uint8_t> in, std::span<uint8_t> out);

}  // namespace qcow2
