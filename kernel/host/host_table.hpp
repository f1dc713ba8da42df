// The kernel side of the plugin ABI: builds the ts_host table handed to every
// plugin, and owns the machine-wide objects it refers to (system memory, the
// machine's RAM, the device tree being built, command-line configuration).
#pragma once

#include <tessera/host.h>

#include <functional>
#include <string>
#include <string_view>

namespace tessera {

const ts_host *host_table_get();
// system_powerdown: press the machine's power button when its board has one
// (ts_board_class.powerdown). False: no button, nothing reached the guest.
bool host_machine_powerdown();

// Machine-wide state the host functions refer to.
void host_config_set(std::string key, std::string value);
std::string host_config(std::string_view key);
ts_region *host_system_memory();
// -seed: the guest's random bytes (ts_host.guest_random) become a
// repeatable stream.
void host_set_random_seed(uint64_t seed);
ts_address_space *host_system_as();
void host_set_machine_ram(ts_region *ram);
class Fdt;
Fdt *host_machine_fdt();   // the tree the board built, or null

// Shutdown/reset requests from devices land here (any thread); the kernel's
// main loop installs the handler that applies -no-shutdown/-no-reboot/-action.
void host_set_request_handlers(std::function<void(int cause, int status)> shutdown,
                               std::function<void()> reset);

// Serial port front ends (-serial N) resolved by the kernel's setup.
using SerialAttachFn = ts_chardev_fe *(*)(unsigned n, const ts_chardev_ops *ops, void *opaque);
void host_set_serial_attach(SerialAttachFn fn);
using ChardevAttachFn = ts_chardev_fe *(*)(const char *id, const ts_chardev_ops *ops, void *opaque,
                                           ts_error *err);
void host_set_chardev_attach(ChardevAttachFn fn);

}  // namespace tessera
