#include "monitor/hmp.hpp"
#include "monitor/hmp_internal.hpp"

#include "block/block.hpp"
#include "chardev/registry.hpp"
#include "host/host_table.hpp"
#include "loader/loader.hpp"
#include "log/log.hpp"
#include "memory/address_space.hpp"
#include "net/net.hpp"
#include "options/error.hpp"
#include "plugins/registry.hpp"
#include "qom/object.hpp"
#include "snapshot/savevm.hpp"
#include "vcpu/vcpu.hpp"

#include <tessera/debug.h>
#include <tessera/host.h>

#include <array>
#include <cstring>
#include <sstream>

#ifndef TESSERA_VERSION
#define TESSERA_VERSION "0.0.0"
#endif

namespace tessera {

namespace {

using hmp::ArgError;
using hmp::trim;

HmpHooks &hooks() {
    static HmpHooks h;
    return h;
}

struct Command {
    std::string_view name, args, help;
    std::string (*run)(HmpState &st, std::string_view args);
};

std::string cmd_help(HmpState &, std::string_view);

std::string info_version(HmpState &, std::string_view) { return TESSERA_VERSION "\n"; }
std::string info_status(HmpState &, std::string_view) {
    RunState s = runstate();
    return std::string("VM status: ") + (s == RunState::Running ? "running" : s == RunState::Prelaunch ? "paused (prelaunch)" : s == RunState::Shutdown ? "paused (shutdown)" : "paused") + "\n";
}
std::string info_qtree(HmpState &, std::string_view) { return object_tree_text(); }
std::string info_mtree(HmpState &, std::string_view a) {
    const AddressSpace *spaces[] = {host_system_as()};
    return mtree_text(spaces, a.find("-f") != std::string_view::npos);
}
std::string info_roms(HmpState &, std::string_view) { return global_roms().info_roms(); }
std::string info_plugins(HmpState &, std::string_view) { return plugin_registry().describe(); }
std::string info_block(HmpState &, std::string_view) { return block_info_text(); }
std::string info_chardev(HmpState &, std::string_view) {
    std::string s;
    for (const auto &id : chardev_ids())
        if (Chardev *c = chardev_find(id)) s += id + ": filename=" + c->filename() + "\n";
    return s;
}
std::string info_cpus(HmpState &st, std::string_view) {
    std::ostringstream o;
    for (unsigned i = 0; i < vcpu_count(); i++) {
        auto *cls = vcpu_class(i);
        o << (i == st.cpu ? "* " : "  ") << "CPU #" << i << ": pc=0x" << std::hex << cls->get_pc(vcpu_instance(i))
          << std::dec << " thread_id=" << i << "\n";
    }
    return o.str();
}
std::string dump_cpu(unsigned i) {
    std::string buf(16384, '\0');
    size_t n = vcpu_class(i)->dump_state(vcpu_instance(i), buf.data(), buf.size());
    // Some targets count the terminating NUL; cut there, end with a newline.
    buf.resize(strnlen(buf.data(), std::min(n, buf.size())));
    if (!buf.empty() && buf.back() != '\n') buf += '\n';
    return "\nCPU#" + std::to_string(i) + "\n" + buf;
}
// info registers [-a|vcpu]
std::string info_registers(HmpState &st, std::string_view a) {
    a = trim(a);
    if (a == "-a") {
        std::string s;
        for (unsigned i = 0; i < vcpu_count(); i++) s += dump_cpu(i);
        return s;
    }
    if (!a.empty()) {
        uint64_t n = hmp::parse_expr(a);
        if (!trim(a).empty()) throw ArgError("info: extraneous characters at the end of line");
        if (n >= vcpu_count()) return "CPU#" + std::to_string(static_cast<int64_t>(n)) + " not available\n";
        return dump_cpu(static_cast<unsigned>(n));
    }
    if (st.cpu >= vcpu_count()) return "No CPU available\n";
    return dump_cpu(st.cpu);
}
// No CPU class offers a page-table walk for the monitor yet.
// Views the CPU plugin draws itself (page tables: info mem, info tlb).
std::string cpu_view(HmpState &st, const char *name) {
    if (st.cpu >= vcpu_count()) return "No CPU available\n";
    auto *cls = vcpu_class(st.cpu);
    auto *ops = cls->get_capability
                    ? static_cast<const ts_cpu_info_ops *>(cls->get_capability(vcpu_instance(st.cpu), TS_CPU_INFO_V1))
                    : nullptr;
    std::string out;
    auto emit = [](void *o, const char *text) { static_cast<std::string *>(o)->append(text); };
    if (!ops || ops->info(vcpu_instance(st.cpu), name, emit, &out) != TS_OK)
        return std::string("info ") + name + " is not available for this CPU\n";
    return out;
}
std::string info_tlb(HmpState &st, std::string_view) { return cpu_view(st, "tlb"); }
std::string info_mem(HmpState &st, std::string_view) { return cpu_view(st, "mem"); }
// The reference prints nothing for a machine without NICs; there is no
// network layer yet.
std::string info_network(HmpState &, std::string_view) { return net::info_text(); }
std::string info_name(HmpState &, std::string_view) {
    return hooks().name.empty() ? std::string() : hooks().name + "\n";
}
std::string info_uuid(HmpState &, std::string_view) { return hooks().uuid + "\n"; }
std::string info_kvm(HmpState &, std::string_view) { return "kvm support: disabled\n"; }
std::string info_snapshots(HmpState &, std::string_view) {
    try {
        return snapshots_info_text();
    } catch (const SnapshotError &e) {
        return std::string(e.what()) + "\n";
    }
}

const std::array kInfo = {
    Command{"version", "", "show the version of tessera", info_version},
    Command{"status", "", "show the current VM status (running|paused)", info_status},
    Command{"qtree", "", "show the object tree", info_qtree},
    Command{"mtree", "[-f]", "show the memory tree (-f: flattened)", info_mtree},
    Command{"roms", "", "show loaded images", info_roms},
    Command{"plugins", "", "show plugins found, loaded and refused", info_plugins},
    Command{"block", "", "show the block devices", info_block},
    Command{"chardev", "", "show the character devices", info_chardev},
    Command{"cpus", "", "show infos for each CPU", info_cpus},
    Command{"registers", "[-a|vcpu]",
            "show the cpu registers (-a: show register info for all cpus; vcpu: specific vCPU to query; "
            "show the current CPU's registers if no argument is specified)",
            info_registers},
    Command{"tlb", "", "show virtual to physical memory mappings", info_tlb},
    Command{"mem", "", "show the active virtual memory mappings", info_mem},
    Command{"network", "", "show the network state", info_network},
    Command{"name", "", "show the current VM name", info_name},
    Command{"uuid", "", "show the current VM UUID", info_uuid},
    Command{"kvm", "", "show KVM information", info_kvm},
    Command{"snapshots", "", "show the currently saved VM snapshots", info_snapshots},
};

std::pair<std::string_view, std::string_view> split_word(std::string_view a) {
    a = trim(a);
    size_t sp = a.find_first_of(" \t");
    return {a.substr(0, sp), sp == std::string_view::npos ? std::string_view() : trim(a.substr(sp + 1))};
}

std::string help_line(std::string_view prefix, const Command &c) {
    return std::string(prefix) + std::string(c.name) + " " + std::string(c.args) + " -- " + std::string(c.help) + "\n";
}

std::string cmd_info(HmpState &st, std::string_view a) {
    auto [sub, rest] = split_word(a);
    if (sub.empty()) {
        std::string s;
        for (auto &c : kInfo) s += help_line("info ", c);
        return s;
    }
    for (auto &c : kInfo)
        if (c.name == sub) return c.run(st, rest);
    return "unknown info command: " + std::string(sub) + "\n";
}
std::string cmd_quit(HmpState &, std::string_view) {
    host_table_get()->request_shutdown(TS_SHUTDOWN_HOST_QUIT, 0);
    return {};
}
std::string cmd_stop(HmpState &, std::string_view) {
    vm_stop(RunState::Paused);
    return {};
}
std::string cmd_cont(HmpState &, std::string_view) {
    vm_start();
    return {};
}
std::string cmd_reset(HmpState &, std::string_view) {
    host_table_get()->request_reset();
    return {};
}
std::string cmd_powerdown(HmpState &, std::string_view) {
    if (hooks().emit_event) hooks().emit_event("POWERDOWN");
    host_machine_powerdown();
    return {};
}
std::string cmd_x(HmpState &st, std::string_view a) { return hmp::memory_dump(st, a, false, "x"); }
std::string cmd_xp(HmpState &st, std::string_view a) { return hmp::memory_dump(st, a, true, "xp"); }
std::string cmd_cpu(HmpState &st, std::string_view a) {
    uint64_t n = hmp::parse_expr(a);
    if (!trim(a).empty()) throw ArgError("cpu: extraneous characters at the end of line");
    if (n >= vcpu_count()) return "invalid CPU index\n";
    st.cpu = static_cast<unsigned>(n);
    return {};
}
std::string cmd_gdbserver(HmpState &, std::string_view a) {
    std::string spec(a.empty() ? "tcp::1234" : a);
    try {
        if (!hooks().gdbserver) throw std::runtime_error("no gdbstub");
        hooks().gdbserver(spec);
    } catch (const std::exception &) {
        return "Could not open gdbserver on device '" + spec + "'\n";
    }
    if (spec == "none") return "Disabled gdbserver\n";
    return "Waiting for gdb connection on device '" + spec + "'\n";
}
// savevm/loadvm/delvm: errors in the reference's "Error: ..." form.
template <void (*F)(std::string_view)> std::string snapshot_cmd(std::string_view a) {
    try {
        F(trim(a));
    } catch (const SnapshotError &e) {
        return std::string("Error: ") + e.what() + "\n";
    }
    return {};
}
std::string cmd_savevm(HmpState &, std::string_view a) { return snapshot_cmd<savevm>(a); }
std::string cmd_loadvm(HmpState &, std::string_view a) {
    if (trim(a).empty()) throw ArgError("loadvm: string expected");
    return snapshot_cmd<loadvm>(a);
}
std::string cmd_delvm(HmpState &, std::string_view a) {
    if (trim(a).empty()) throw ArgError("delvm: string expected");
    return snapshot_cmd<delvm>(a);
}
// The -d list, worded for the monitor as the reference does.
std::string log_help() {
    std::string s = log_items_help();
    size_t nl = s.find('\n');
    s.insert(nl + 1, "none            remove all logs\n");
    if (size_t d = s.find("\"-d trace:help\""); d != std::string::npos) s.replace(d, 4, "\"log ");
    return s;
}
std::string cmd_log(HmpState &, std::string_view a) {
    if (a.empty()) throw ArgError("log: string expected");
    if (a == "none") {
        g_log_mask = 0;
        return {};
    }
    try {
        g_log_mask = parse_log_items(a);
    } catch (const UsageError &) {
        return log_help();  // the reference lists the items, no error line
    }
    return {};
}
std::string cmd_set_link(HmpState &, std::string_view a) {
    auto [name, rest] = split_word(a);
    if (name.empty() || rest.empty()) throw ArgError("set_link: name and on|off expected");
    try {
        net::set_link(name, parse_bool(trim(rest)));
    } catch (const UsageError &e) {
        return std::string(e.what()) + "\n";
    }
    return {};
}
std::string cmd_logfile(HmpState &, std::string_view a) {
    if (a.empty()) throw ArgError("logfile: filename expected");
    try {
        set_log_file(std::string(a));
    } catch (const UsageError &e) {
        return std::string(e.what()) + "\n";
    }
    return {};
}

const std::array kCommands = {
    Command{"help|?", "[cmd]", "show the help", cmd_help},
    Command{"info", "[subcommand]", "show various information about the system state", cmd_info},
    Command{"quit|q", "", "quit the emulator", cmd_quit},
    Command{"stop|s", "", "stop emulation", cmd_stop},
    Command{"cont|c", "", "resume emulation", cmd_cont},
    Command{"system_reset", "", "reset the system", cmd_reset},
    Command{"system_powerdown", "", "send system power down event", cmd_powerdown},
    Command{"x", "/fmt addr", "virtual memory dump starting at 'addr'", cmd_x},
    Command{"xp", "/fmt addr", "physical memory dump starting at 'addr'", cmd_xp},
    Command{"cpu", "index", "set the default CPU", cmd_cpu},
    Command{"gdbserver", "[device]", "start gdbserver on given device (default 'tcp::1234'), stop with 'none'",
            cmd_gdbserver},
    Command{"log", "item1[,...]", "activate logging of the specified items", cmd_log},
    Command{"logfile", "filename", "output logs to 'filename'", cmd_logfile},
    Command{"set_link", "name on|off", "change the link status of a network adapter", cmd_set_link},
    Command{"savevm", "tag", "save a VM snapshot. If no tag is provided, a new snapshot is created", cmd_savevm},
    Command{"loadvm", "tag", "restore a VM snapshot from its tag", cmd_loadvm},
    Command{"delvm", "tag", "delete a VM snapshot from its tag", cmd_delvm},
};

bool name_matches(std::string_view names, std::string_view word) {
    while (!names.empty()) {
        size_t b = names.find('|');
        if (names.substr(0, b) == word) return true;
        names.remove_prefix(b == std::string_view::npos ? names.size() : b + 1);
    }
    return false;
}

const Command *find_command(std::string_view word) {
    for (auto &c : kCommands)
        if (name_matches(c.name, word)) return &c;
    return nullptr;
}

// help [cmd [subcmd]]
std::string cmd_help(HmpState &, std::string_view a) {
    auto [word, rest] = split_word(a);
    std::string s;
    if (word.empty()) {
        for (auto &c : kCommands) s += help_line("", c);
        return s;
    }
    if (word == "log") return log_help();  // as the reference
    const Command *c = find_command(word);
    if (!c) return "unknown command: '" + std::string(word) + "'\n";
    if (c->run != cmd_info) return help_line("", *c);
    auto [sub, unused] = split_word(rest);
    for (auto &i : kInfo)
        if (sub.empty() || i.name == sub) s += help_line("info ", i);
    return s.empty() ? "unknown command: 'info " + std::string(sub) + "'\n" : s;
}

}  // namespace

void hmp_set_hooks(HmpHooks h) { hooks() = std::move(h); }

Hmp::Hmp(std::function<void(std::string_view)> out) : out_(std::move(out)) {}

void Hmp::print_banner() {
    out_("tessera " TESSERA_VERSION " monitor - type 'help' for more information\n");
}
void Hmp::prompt() { out_("(qemu) "); }

std::string Hmp::execute(std::string_view line) {
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty()) return {};
    size_t sp = line.find(' ');
    std::string_view word = line.substr(0, sp), args = sp == std::string_view::npos ? "" : line.substr(sp + 1);
    const Command *c = find_command(word);
    if (!c) return "unknown command: '" + std::string(word) + "'\n";
    try {
        return c->run(state_, trim(args));
    } catch (const ArgError &e) {
        return std::string(e.what()) + "\nTry \"help " + std::string(word) + "\" for more information\n";
    } catch (const std::exception &e) {
        return std::string(e.what()) + "\n";  // UsageError and the like: one line, never a crash
    }
}

void Hmp::input(std::string_view bytes) {
    for (char ch : bytes) {
        if (ch == '\n' && last_cr_) {
            last_cr_ = false;
            continue;
        }
        last_cr_ = ch == '\r';
        if (ch == '\r' || ch == '\n') {
            out_("\r\n");
            std::string l = std::move(line_);
            line_.clear();
            std::string r = execute(l);
            // Terminal output wants CRLF.
            std::string crlf;
            for (char c : r) {
                if (c == '\n') crlf += '\r';
                crlf += c;
            }
            if (!crlf.empty()) out_(crlf);
            std::string_view w = l;
            while (!w.empty() && w.front() == ' ') w.remove_prefix(1);
            w = w.substr(0, w.find(' '));
            if (w != "quit" && w != "q") prompt();
        } else if (ch == 0x7f || ch == 0x08) {
            if (!line_.empty()) {
                line_.pop_back();
                out_("\b \b");
            }
        } else if (static_cast<unsigned char>(ch) >= 0x20) {
            line_ += ch;
            out_(std::string_view(&ch, 1));
        }
    }
}

}  // namespace tessera
