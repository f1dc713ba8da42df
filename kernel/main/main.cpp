// tessera: parse the command line, answer help and listing requests, or
// build and run a machine. Every error ends here as one line on stderr.
#include "host/host_table.hpp"
#include "log/log.hpp"
#include "main/config.hpp"
#include "main/help.hpp"
#include "main/machine.hpp"
#include "options/keyval.hpp"
#include "options/table.hpp"
#include "plugins/registry.hpp"
#include "qom/object.hpp"

#include <cstdio>
#include <exception>

#ifndef TESSERA_VERSION
#define TESSERA_VERSION "0.0.0"
#endif

int main(int argc, char **argv) {
    using namespace tessera;
    set_program_name(argc > 0 ? argv[0] : "tessera");
    try {
        Config cfg = build_config(argc, argv);
        if (cfg.print_help) {
            std::fputs(help_text(cfg.program).c_str(), stdout);
            return 0;
        }
        if (cfg.print_version) {
            std::printf("tessera emulator version " TESSERA_VERSION "\n"
                        "Copyright (c) the Tessera developers; command line compatible with QEMU\n");
            return 0;
        }
        plugin_registry().discover(default_discover_config());
        set_host_table(host_table_get());
        register_builtin_types();
        if (cfg.list_plugins) {
            std::fputs(plugin_registry().describe().c_str(), stdout);
            return 0;
        }
        if (!cfg.help_requests.empty()) {
            for (const auto &r : cfg.help_requests) answer_help(cfg, r);
            return 0;
        }
        return run_machine(cfg);
    } catch (const UsageError &e) {
        error_report(e.what());
    } catch (const std::exception &e) {
        error_report(e.what());
    }
    return 1;
}
