// QMP, the machine-readable monitor: JSON commands and events on a chardev
// or on a listening socket of its own that takes many clients at once.
//
// Everything here runs on the main loop with the kernel lock held.
#pragma once

#include "options/json.hpp"
#include "options/keyval.hpp"

#include <functional>

#include <string>
#include <string_view>

namespace tessera {

// A QMP monitor on an existing chardev (-mon chardev=ID,mode=control). One
// client at a time, as the chardev allows. Throws UsageError if there is no
// such chardev.
void qmp_start(const std::string &chardev_id, bool pretty);

// -qmp SPEC / -qmp-pretty SPEC. A server socket ("unix:PATH,server=on,...",
// "tcp:HOST:PORT,server=on,...") gets QMP's own listener, which serves any
// number of clients at once (wait=on blocks until the first one connects);
// any other spec becomes a chardev named id and goes through qmp_start.
// Throws UsageError with the reference's wording on bad specs.
void qmp_start_legacy(std::string_view spec, const std::string &id, bool pretty);

// Sends an event to every client past capabilities negotiation, with the
// reference's timestamp. name: "POWERDOWN", "RESET", ... data: an object
// (null: no "data" member).
void qmp_emit_event(std::string_view name, Json data = {});

// What query-name, query-uuid and query-target answer (-name, -uuid, the
// target of the program name). Call before clients connect.
struct QmpIdentity {
    std::string name;     // "" = no name
    std::string uuid = "00000000-0000-0000-0000-000000000000";
    std::string target = "riscv64";
};
void qmp_set_identity(QmpIdentity id);

// The SHUTDOWN event is sent by QMP itself when the run state becomes
// Shutdown; this tells it why (a TS_SHUTDOWN_* cause). Without a note the
// reason is "host-qmp-quit" (the quit commands of QMP and HMP). from_signal:
// the cause was SIGINT/SIGTERM/SIGHUP ("host-signal"); it sticks when a
// plain HOST_QUIT note follows for the same request. Thread-safe.
void qmp_note_shutdown_cause(int ts_cause, bool from_signal = false);

// Call on the main loop after each machine reset carried out: sends RESET
// {"guest": true, "reason": "guest-reset"} unless the reset came from QMP's
// system_reset (which reported it already).
void qmp_reset_done();

// set-action: called with the -action keys given ("reboot", "shutdown",
// "panic", "watchdog"), values already checked against the reference's
// enums. The kernel applies them as it does -action. Without a hook the
// command fails.
void qmp_set_action_hook(std::function<void(const KeyVals &)> hook);

// Closes every QMP client and listener (at exit, after flushing output).
void qmp_stop_all();

}  // namespace tessera
