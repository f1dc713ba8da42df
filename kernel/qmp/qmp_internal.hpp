// Shared between the QMP files; not for other kernel code.
#pragma once

#include "qmp/qmp.hpp"
#include "qmp/session.hpp"

#include <string_view>

namespace tessera {

const QmpIdentity &qmp_identity();
// The next Shutdown run state was asked for by a quit command.
void qmp_note_quit();
// system_reset sent its RESET event; the reset itself follows.
void qmp_note_host_reset();
// Sends a STOP held back while the run state settles (see server.cpp).
void qmp_flush_state_events();

// A name of the reference's MigrationCapability enum (commands.cpp).
bool qmp_migration_capability_known(std::string_view name);

// Commands of probe.cpp (libvirt's capability probe and domain start).
Json cmd_query_command_line_options(QmpCall &call);
Json cmd_query_tpm_models(QmpCall &call);
Json cmd_query_tpm_types(QmpCall &call);
Json cmd_query_migrate_capabilities(QmpCall &call);
Json cmd_migrate_set_capabilities(QmpCall &call);
Json cmd_query_iothreads(QmpCall &call);
Json cmd_query_jobs(QmpCall &call);
Json cmd_query_named_block_nodes(QmpCall &call);
Json cmd_query_block(QmpCall &call);
Json cmd_set_action(QmpCall &call);
// blockdev.cpp
Json cmd_blockdev_add(QmpCall &call);
Json cmd_blockdev_del(QmpCall &call);

}  // namespace tessera
