// Shared between the block layer's own files only.
#pragma once

#include "block/block.hpp"

#include <memory>

namespace tessera {

BlockBackend &backend_add(std::unique_ptr<BlockBackend> be);
bool backend_name_taken(std::string_view name);
const std::vector<std::unique_ptr<BlockBackend>> &backends_list();

}  // namespace tessera
