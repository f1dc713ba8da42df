// File descriptors handed over on the command line (-add-fd) and the one
// place files are opened by name, so that /dev/fdset/N paths work
// everywhere (chardevs, block images), as management tools expect.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera {

// -add-fd fd=FD,set=SET[,opaque=TEXT]. Throws UsageError for a bad fd.
void fdset_add(int64_t set, int fd, std::string opaque);

// open(2) that also understands /dev/fdset/N: a dup of an fd of set N whose
// access mode matches flags (O_RDONLY/O_WRONLY/O_RDWR). Returns -1 with errno
// set on failure (EACCES when no fd of the set fits, ENOENT for no such set).
int file_open(std::string_view path, int flags, unsigned mode = 0666);

}  // namespace tessera
