// Shared between the QMP files; not for other kernel code.
#pragma once

#include "qmp/qmp.hpp"

namespace tessera {

const QmpIdentity &qmp_identity();
// The next Shutdown run state was asked for by a quit command.
void qmp_note_quit();
// system_reset sent its RESET event; the reset itself follows.
void qmp_note_host_reset();
// Sends a STOP held back while the run state settles (see server.cpp).
void qmp_flush_state_events();

}  // namespace tessera
