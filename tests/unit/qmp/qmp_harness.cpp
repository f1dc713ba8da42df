// A stand-in for the tessera binary while its option parser does not take
// -qmp/-gdb yet: the same start-up as kernel/main/main.cpp, with -qmp,
// -qmp-pretty, -gdb and -s handled here through the public APIs of
// kernel/qmp and kernel/gdbstub. The live tests use the real binary as soon
// as that accepts the options.
#include "host/host_table.hpp"
#include "log/log.hpp"
#include "main/config.hpp"
#include "main/machine.hpp"
#include "plugins/registry.hpp"
#include "gdbstub/gdbstub.hpp"
#include "qmp/qmp.hpp"
#include "qom/object.hpp"

#include <string>
#include <vector>

int main(int argc, char **argv) {
    using namespace tessera;
    set_program_name(argv[0]);
    std::vector<char *> rest{argv[0]};
    std::vector<std::pair<std::string, bool>> qmps;
    std::string gdb;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if ((a == "-qmp" || a == "-qmp-pretty") && i + 1 < argc) {
            qmps.emplace_back(argv[++i], a == "-qmp-pretty");
            continue;
        }
        if (a == "-gdb" && i + 1 < argc) {
            gdb = argv[++i];
            continue;
        }
        if (a == "-s") {
            gdb = "tcp::1234";
            continue;
        }
        rest.push_back(argv[i]);
    }
    try {
        Config cfg = build_config(int(rest.size()), rest.data());
        plugin_registry().discover(default_discover_config());
        set_host_table(host_table_get());
        register_builtin_types();
        for (size_t i = 0; i < qmps.size(); i++)
            qmp_start_legacy(qmps[i].first, "compat_monitor" + std::to_string(i), qmps[i].second);
        if (!gdb.empty()) gdbstub_start(gdb);
        int rc = run_machine(cfg);
        qmp_stop_all();
        return rc;
    } catch (const std::exception &e) {
        error_report(e.what());
        return 1;
    }
}
