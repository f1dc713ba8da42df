// The ABI's chardev front ends (ts_chardev_fe) over the kernel's chardevs,
// and the serial-port table (-serial N) boards attach to.
#pragma once

#include <tessera/host.h>

#include <string>

namespace tessera {

void serial_set_chardev(unsigned n, std::string chardev_id);

ts_chardev_fe *chardev_fe_attach(ts_object *obj, const char *prop_name, const ts_chardev_ops *ops, void *opaque,
                                 ts_error *err);
ts_chardev_fe *chardev_fe_serial_attach(unsigned n, const ts_chardev_ops *ops, void *opaque);
size_t chardev_fe_write(ts_chardev_fe *fe, const uint8_t *buf, size_t len);
void chardev_fe_accept_input(ts_chardev_fe *fe);

}  // namespace tessera
