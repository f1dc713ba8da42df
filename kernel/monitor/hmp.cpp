#include "monitor/hmp.hpp"

#include "block/block.hpp"
#include "chardev/registry.hpp"
#include "host/host_table.hpp"
#include "loader/loader.hpp"
#include "memory/address_space.hpp"
#include "plugins/registry.hpp"
#include "qom/object.hpp"
#include "vcpu/vcpu.hpp"

#include <tessera/host.h>

#include <array>
#include <sstream>

#ifndef TESSERA_VERSION
#define TESSERA_VERSION "0.0.0"
#endif

namespace tessera {

namespace {

struct Command {
    std::string_view name, args, help;
    std::string (*run)(std::string_view args);
};

std::string cmd_help(std::string_view);

std::string info_version(std::string_view) { return TESSERA_VERSION "\n"; }
std::string info_status(std::string_view) {
    RunState s = runstate();
    return std::string("VM status: ") + (s == RunState::Running ? "running" : s == RunState::Prelaunch ? "paused (prelaunch)" : s == RunState::Shutdown ? "paused (shutdown)" : "paused") + "\n";
}
std::string info_qtree(std::string_view) { return object_tree_text(); }
std::string info_mtree(std::string_view a) {
    const AddressSpace *spaces[] = {host_system_as()};
    return mtree_text(spaces, a.find("-f") != std::string_view::npos);
}
std::string info_roms(std::string_view) { return global_roms().info_roms(); }
std::string info_plugins(std::string_view) { return plugin_registry().describe(); }
std::string info_block(std::string_view) { return block_info_text(); }
std::string info_chardev(std::string_view) {
    std::string s;
    for (const auto &id : chardev_ids())
        if (Chardev *c = chardev_find(id)) s += id + ": filename=" + c->filename() + "\n";
    return s;
}
std::string info_cpus(std::string_view) {
    std::ostringstream o;
    for (unsigned i = 0; i < vcpu_count(); i++) {
        auto *cls = vcpu_class(i);
        o << (i == 0 ? "* " : "  ") << "CPU #" << i << ": pc=0x" << std::hex << cls->get_pc(vcpu_instance(i))
          << std::dec << " thread_id=" << i << "\n";
    }
    return o.str();
}
std::string info_registers(std::string_view) {
    if (vcpu_count() == 0) return "No CPU available\n";
    std::string buf(16384, '\0');
    size_t n = vcpu_class(0)->dump_state(vcpu_instance(0), buf.data(), buf.size());
    buf.resize(std::min(n, buf.size()));
    return buf;
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
    Command{"registers", "", "show the cpu registers", info_registers},
};

std::string cmd_info(std::string_view a) {
    size_t sp = a.find(' ');
    std::string_view sub = a.substr(0, sp), rest = sp == std::string_view::npos ? "" : a.substr(sp + 1);
    if (sub.empty()) {
        std::string s;
        for (auto &c : kInfo) s += "info " + std::string(c.name) + " " + std::string(c.args) + " -- " + std::string(c.help) + "\n";
        return s;
    }
    for (auto &c : kInfo)
        if (c.name == sub) return c.run(rest);
    return "unknown info command: " + std::string(sub) + "\n";
}
std::string cmd_quit(std::string_view) {
    host_table_get()->request_shutdown(TS_SHUTDOWN_HOST_QUIT, 0);
    return {};
}
std::string cmd_stop(std::string_view) {
    vm_stop(RunState::Paused);
    return {};
}
std::string cmd_cont(std::string_view) {
    vm_start();
    return {};
}
std::string cmd_reset(std::string_view) {
    host_table_get()->request_reset();
    return {};
}

const std::array kCommands = {
    Command{"help|?", "[cmd]", "show the help", cmd_help},
    Command{"info", "[subcommand]", "show various information about the system state", cmd_info},
    Command{"quit|q", "", "quit the emulator", cmd_quit},
    Command{"stop|s", "", "stop emulation", cmd_stop},
    Command{"cont|c", "", "resume emulation", cmd_cont},
    Command{"system_reset", "", "reset the system", cmd_reset},
};

bool name_matches(std::string_view names, std::string_view word) {
    while (!names.empty()) {
        size_t b = names.find('|');
        if (names.substr(0, b) == word) return true;
        names.remove_prefix(b == std::string_view::npos ? names.size() : b + 1);
    }
    return false;
}

std::string cmd_help(std::string_view) {
    std::string s;
    for (auto &c : kCommands) s += std::string(c.name) + " " + std::string(c.args) + " -- " + std::string(c.help) + "\n";
    return s;
}

}  // namespace

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
    for (auto &c : kCommands)
        if (name_matches(c.name, word)) return c.run(args);
    return "unknown command: '" + std::string(word) + "'\n";
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
