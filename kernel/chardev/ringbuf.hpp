// The ringbuf backend's monitor side (ringbuf_read / ringbuf_write).
#pragma once

#include "chardev/chardev.hpp"

#include <span>
#include <string>

namespace tessera {

// Oldest n bytes (fewer if the ring holds fewer), removed from the ring.
// UsageError "<id> is not a ringbuf device" for other backends.
std::string chardev_ringbuf_read(Chardev &chr, size_t n);
// Append to the ring, as if the front end had written it.
void chardev_ringbuf_write(Chardev &chr, std::span<const uint8_t> data);

}  // namespace tessera
