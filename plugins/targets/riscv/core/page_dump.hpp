// Page-table listings for the monitor (info mem / info tlb).
#pragma once

#include "hart.hpp"

#include <string>

namespace rv {

// The mappings of the current satp: merged into ranges (info mem) or one line
// per leaf PTE (info tlb). "No translation or protection" when paging is off.
std::string dump_page_tables(Hart &h, bool merge);

}  // namespace rv
