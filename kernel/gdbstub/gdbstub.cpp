#include "gdbstub/gdbstub.hpp"

#include "host/host_table.hpp"
#include "memory/address_space.hpp"
#include "monitor/hmp.hpp"
#include "vcpu/vcpu.hpp"

#include <tessera/debug.h>
#include <tessera/host.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>

namespace tessera {

namespace {

constexpr size_t kPacketSize = 0x4000;
constexpr int kSigInt = 2, kSigTrap = 5;
constexpr int kMaxRegs = 256;  // 'g' covers registers 0.. up to the first gap

// "addr,len" (both hex); the rest after the length is returned in tail.
bool parse_addr_len(std::string_view s, uint64_t &addr, uint64_t &len, std::string_view *tail = nullptr) {
    size_t comma = s.find(',');
    if (comma == std::string_view::npos) return false;
    size_t end = s.find_first_of(":;", comma + 1);
    auto a = parse_hex(s.substr(0, comma));
    auto l = parse_hex(s.substr(comma + 1, end == std::string_view::npos ? std::string_view::npos : end - comma - 1));
    if (!a || !l) return false;
    addr = *a;
    len = *l;
    if (tail) *tail = end == std::string_view::npos ? std::string_view() : s.substr(end + 1);
    return true;
}

const ts_cpu_debug_ops *debug_ops(unsigned cpu) {
    const ts_cpu_class *cls = vcpu_class(cpu);
    if (!cls || !cls->get_capability) return nullptr;
    auto *ops = static_cast<const ts_cpu_debug_ops *>(cls->get_capability(vcpu_instance(cpu), TS_DEBUG_V1));
    return ops && ops->size >= sizeof(ts_cpu_debug_ops) ? ops : nullptr;
}

}  // namespace

struct GdbStub::Impl {
    using Reply = std::optional<std::string>;

    std::function<void(std::string_view)> write;
    GdbPacketReader reader{kPacketSize};
    bool no_ack = false;
    std::string last_frame;        // resent on '-'
    unsigned g_cpu = 0, c_cpu = 0; // register and resume threads
    bool attached = false;
    bool waiting_stop = false;     // gdb waits for a stop reply
    bool in_debug_stop = false;

    // ---- output ----
    void send(std::string_view payload) {
        last_frame = gdb_frame(payload);
        write(last_frame);
    }

    // ---- helpers ----
    static std::string thread_hex(unsigned cpu) {
        char b[20];
        std::snprintf(b, sizeof b, "%x", cpu + 1);
        return b;
    }
    // gdb thread ids: -1 all, 0 any, n = cpu n-1.
    static std::optional<int> parse_thread(std::string_view s) {
        if (s == "-1") return -1;
        auto v = parse_hex(s);
        if (!v || *v > vcpu_count()) return std::nullopt;
        return int(*v) - 1;  // 0 ("any") becomes -1 as well
    }
    static std::string stop_packet(int signal, unsigned cpu, std::string_view reason = {}) {
        char b[8];
        std::snprintf(b, sizeof b, "T%02x", signal);
        return b + std::string(reason) + "thread:" + thread_hex(cpu) + ";";
    }
    static void *inst(unsigned cpu) { return vcpu_instance(cpu); }

    bool mem_access(uint64_t va, uint8_t *buf, size_t len, bool is_write) {
        const ts_cpu_class *cls = vcpu_class(g_cpu);
        while (len) {
            size_t n = std::min<uint64_t>(len, 0x1000 - (va & 0xfff));
            uint64_t pa = va;
            // Read permission is enough: gdb plants breakpoints in code pages.
            if (cls && cls->translate && cls->translate(inst(g_cpu), va, TS_ACCESS_READ, &pa) != TS_OK) return false;
            if (host_system_as()->rw(pa, buf, n, is_write, Access::Loader) != TS_MEMTX_OK) return false;
            va += n;
            buf += n;
            len -= n;
        }
        return true;
    }

    size_t read_reg(unsigned cpu, int regno, uint8_t *buf, size_t len) {
        const ts_cpu_class *cls = vcpu_class(cpu);
        return cls && cls->gdb_read_reg ? cls->gdb_read_reg(inst(cpu), regno, buf, len) : 0;
    }

    // ---- packets ----
    Reply q_supported(std::string_view) {
        char size[32];
        std::snprintf(size, sizeof size, "PacketSize=%zx", kPacketSize);  // hex, as all numbers here
        std::string r = size;
        const ts_cpu_class *cls = vcpu_class(0);
        if (cls && cls->gdb_xml && cls->gdb_xml(inst(0), "target.xml")) r += ";qXfer:features:read+";
        return r + ";swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+";
    }
    Reply q_xfer_features(std::string_view args) {
        // ANNEX:OFFSET,LENGTH
        size_t colon = args.find(':');
        uint64_t off, len;
        if (colon == std::string_view::npos || !parse_addr_len(args.substr(colon + 1), off, len)) return "E00";
        std::string annex(args.substr(0, colon));
        const ts_cpu_class *cls = vcpu_class(g_cpu);
        const char *xml = cls && cls->gdb_xml ? cls->gdb_xml(inst(g_cpu), annex.c_str()) : nullptr;
        if (!xml) return "E00";
        std::string_view doc = xml;
        if (off > doc.size()) return "E00";
        len = std::min<uint64_t>(len, kPacketSize / 2);
        std::string_view part = doc.substr(off, len);
        return (off + part.size() < doc.size() ? "m" : "l") + std::string(part);
    }
    Reply q_thread_info_first(std::string_view) {
        std::string r = "m";
        for (unsigned i = 0; i < vcpu_count(); i++) r += (i ? "," : "") + thread_hex(i);
        return vcpu_count() ? r : "l";
    }
    Reply q_thread_info_next(std::string_view) { return "l"; }
    Reply q_thread_extra(std::string_view args) {
        auto t = parse_thread(args);
        if (!t || *t < 0) return "E22";
        const bool running = runstate() == RunState::Running;
        std::string text = "CPU#" + std::to_string(*t) + (running ? " [running]" : " [halted ]");
        return to_hex(text);
    }
    Reply q_current_thread(std::string_view) { return "QC" + thread_hex(g_cpu); }
    Reply q_attached(std::string_view) { return "1"; }
    Reply q_symbol(std::string_view) { return "OK"; }
    Reply q_rcmd(std::string_view args) {
        auto bytes = from_hex(args);
        if (!bytes) return "E01";
        Hmp hmp([](std::string_view) {});
        std::string out = hmp.execute(std::string_view(reinterpret_cast<const char *>(bytes->data()), bytes->size()));
        // Console output goes as 'O' packets before the final reply.
        constexpr size_t kChunk = kPacketSize / 2 - 2;
        for (size_t i = 0; i < out.size(); i += kChunk) send("O" + to_hex(std::string_view(out).substr(i, kChunk)));
        return "OK";
    }
    Reply start_no_ack(std::string_view) {
        send("OK");  // acknowledged in ack mode still, then never again
        no_ack = true;
        return std::nullopt;
    }
    Reply stop_reason(std::string_view) { return stop_packet(kSigTrap, g_cpu); }

    Reply read_all_regs(std::string_view) {
        if (!vcpu_count()) return "E14";
        std::string out;
        std::array<uint8_t, 64> buf;
        for (int r = 0; r < kMaxRegs; r++) {
            size_t n = read_reg(g_cpu, r, buf.data(), buf.size());
            if (!n) break;
            out += to_hex(std::span(buf.data(), n));
        }
        return out;
    }
    Reply write_all_regs(std::string_view args) {
        auto data = from_hex(args);
        const ts_cpu_class *cls = vcpu_class(g_cpu);
        if (!data || !cls || !cls->gdb_write_reg) return "E14";
        std::array<uint8_t, 64> buf;
        size_t pos = 0;
        for (int r = 0; r < kMaxRegs && pos < data->size(); r++) {
            size_t n = read_reg(g_cpu, r, buf.data(), buf.size());
            if (!n || pos + n > data->size()) break;
            cls->gdb_write_reg(inst(g_cpu), r, data->data() + pos, n);
            pos += n;
        }
        return "OK";
    }
    Reply read_reg_packet(std::string_view args) {
        auto r = parse_hex(args);
        std::array<uint8_t, 64> buf;
        size_t n = r && vcpu_count() ? read_reg(g_cpu, int(*r), buf.data(), buf.size()) : 0;
        return n ? to_hex(std::span(buf.data(), n)) : "E14";
    }
    Reply write_reg_packet(std::string_view args) {
        size_t eq = args.find('=');
        auto r = parse_hex(args.substr(0, eq));
        auto v = eq == std::string_view::npos ? std::nullopt : from_hex(args.substr(eq + 1));
        const ts_cpu_class *cls = vcpu_class(g_cpu);
        if (!r || !v || !cls || !cls->gdb_write_reg) return "E14";
        return cls->gdb_write_reg(inst(g_cpu), int(*r), v->data(), v->size()) ? "OK" : "E14";
    }
    Reply read_mem(std::string_view args) {
        uint64_t addr, len;
        if (!parse_addr_len(args, addr, len)) return "E22";
        len = std::min<uint64_t>(len, (kPacketSize - 4) / 2);
        std::vector<uint8_t> buf(len);
        if (!mem_access(addr, buf.data(), len, false)) return "E14";
        return to_hex(buf);
    }
    Reply write_mem_hex(std::string_view args) {
        uint64_t addr, len;
        std::string_view tail;
        if (!parse_addr_len(args, addr, len, &tail)) return "E22";
        auto data = from_hex(tail);
        if (!data || data->size() != len) return "E22";
        return mem_access(addr, data->data(), len, true) ? "OK" : "E14";
    }
    Reply write_mem_binary(std::string_view args) {
        uint64_t addr, len;
        std::string_view tail;
        if (!parse_addr_len(args, addr, len, &tail) || tail.size() != len) return "E22";
        std::vector<uint8_t> data(tail.begin(), tail.end());
        return len == 0 || mem_access(addr, data.data(), len, true) ? "OK" : "E14";
    }
    Reply point(std::string_view args, bool insert) {
        // type,addr,kind
        size_t comma = args.find(',');
        auto type = parse_hex(args.substr(0, comma));
        uint64_t addr, len;
        if (!type || *type > 4 || comma == std::string_view::npos || !parse_addr_len(args.substr(comma + 1), addr, len))
            return "E22";
        if (!debug_ops(0)) return "";  // unsupported: gdb falls back to memory breakpoints
        for (unsigned i = 0; i < vcpu_count(); i++) {
            const ts_cpu_debug_ops *ops = debug_ops(i);
            if (!ops) return "E22";
            ts_error err{};
            if (insert && ops->insert(inst(i), ts_debug_point(*type), addr, len, &err) != TS_OK) return "E22";
            if (!insert && ops->remove(inst(i), ts_debug_point(*type), addr, len) != TS_OK) return "E22";
        }
        return "OK";
    }
    Reply insert_point(std::string_view a) { return point(a, true); }
    Reply remove_point(std::string_view a) { return point(a, false); }

    // Resumes the VM; with step, cpu runs one instruction and reports.
    Reply resume(bool step, int cpu, std::optional<uint64_t> pc) {
        unsigned target = cpu < 0 ? c_cpu : unsigned(cpu);
        if (!vcpu_count() && step) return "E22";
        if (pc && vcpu_count()) vcpu_class(target)->set_pc(inst(target), *pc);
        for (unsigned i = 0; i < vcpu_count(); i++)
            if (const ts_cpu_debug_ops *ops = debug_ops(i)) ops->set_single_step(inst(i), step && i == target);
            else if (step) return "E22";  // cannot step this CPU
        waiting_stop = true;
        vm_start();
        return std::nullopt;
    }
    // "c[addr]", "s[addr]", "Csig[;addr]", "Ssig[;addr]".
    Reply cont(std::string_view a) { return resume(false, -1, a.empty() ? std::nullopt : parse_hex(a)); }
    Reply step(std::string_view a) { return resume(true, -1, a.empty() ? std::nullopt : parse_hex(a)); }
    static std::optional<uint64_t> after_signal(std::string_view a) {
        size_t semi = a.find(';');
        return semi == std::string_view::npos ? std::nullopt : parse_hex(a.substr(semi + 1));
    }
    Reply cont_sig(std::string_view a) { return resume(false, -1, after_signal(a)); }
    Reply step_sig(std::string_view a) { return resume(true, -1, after_signal(a)); }
    Reply vcont_query(std::string_view) { return "vCont;c;C;s;S"; }
    Reply vcont(std::string_view args) {
        // ;action[:thread]... : the first step action wins, anything else continues.
        while (!args.empty()) {
            args.remove_prefix(args.front() == ';' ? 1 : 0);
            size_t semi = args.find(';');
            std::string_view act = args.substr(0, semi);
            args.remove_prefix(semi == std::string_view::npos ? args.size() : semi);
            if (act.empty() || (act[0] != 's' && act[0] != 'S')) continue;
            size_t colon = act.find(':');
            int cpu = -1;
            if (colon != std::string_view::npos) {
                auto t = parse_thread(act.substr(colon + 1));
                if (!t) return "E22";
                cpu = *t;
            }
            return resume(true, cpu, std::nullopt);
        }
        return resume(false, -1, std::nullopt);
    }
    Reply set_thread(std::string_view args) {
        if (args.empty()) return "E22";
        auto t = parse_thread(args.substr(1));
        if (!t) return "E22";
        if (*t >= 0) (args[0] == 'g' ? g_cpu : c_cpu) = unsigned(*t);
        return "OK";
    }
    Reply thread_alive(std::string_view args) {
        auto t = parse_thread(args);
        return t && *t >= 0 ? "OK" : "E22";
    }
    Reply detach(std::string_view) {
        send("OK");
        forget_points();
        waiting_stop = false;
        attached = false;
        vm_start();  // the reference resumes the guest on detach
        return std::nullopt;
    }
    Reply kill(std::string_view) {
        waiting_stop = false;
        host_table_get()->request_shutdown(TS_SHUTDOWN_HOST_QUIT, 0);
        return std::nullopt;
    }
    Reply vkill(std::string_view a) {
        send("OK");
        return kill(a);
    }
    Reply empty(std::string_view) { return ""; }

    void forget_points() {
        for (unsigned i = 0; i < vcpu_count(); i++)
            if (const ts_cpu_debug_ops *ops = debug_ops(i)) {
                ops->remove_all(inst(i));
                ops->set_single_step(inst(i), 0);
            }
    }

    struct Command {
        std::string_view name;
        bool exact;
        Reply (Impl::*run)(std::string_view args);
    };
    // Longer names first where one is a prefix of another.
    static constexpr std::array kCommands = {
        Command{"qSupported", false, &Impl::q_supported},
        Command{"qXfer:features:read:", false, &Impl::q_xfer_features},
        Command{"qfThreadInfo", true, &Impl::q_thread_info_first},
        Command{"qsThreadInfo", true, &Impl::q_thread_info_next},
        Command{"qThreadExtraInfo,", false, &Impl::q_thread_extra},
        Command{"qC", true, &Impl::q_current_thread},
        Command{"qAttached", false, &Impl::q_attached},
        Command{"qSymbol:", false, &Impl::q_symbol},
        Command{"qRcmd,", false, &Impl::q_rcmd},
        Command{"QStartNoAckMode", true, &Impl::start_no_ack},
        Command{"vCont?", true, &Impl::vcont_query},
        Command{"vCont", false, &Impl::vcont},
        Command{"vKill", false, &Impl::vkill},
        Command{"?", true, &Impl::stop_reason},
        Command{"g", true, &Impl::read_all_regs},
        Command{"G", false, &Impl::write_all_regs},
        Command{"p", false, &Impl::read_reg_packet},
        Command{"P", false, &Impl::write_reg_packet},
        Command{"m", false, &Impl::read_mem},
        Command{"M", false, &Impl::write_mem_hex},
        Command{"X", false, &Impl::write_mem_binary},
        Command{"Z", false, &Impl::insert_point},
        Command{"z", false, &Impl::remove_point},
        Command{"c", false, &Impl::cont},
        Command{"C", false, &Impl::cont_sig},
        Command{"s", false, &Impl::step},
        Command{"S", false, &Impl::step_sig},
        Command{"H", false, &Impl::set_thread},
        Command{"T", false, &Impl::thread_alive},
        Command{"D", false, &Impl::detach},
        Command{"k", true, &Impl::kill},
    };

    Reply handle(std::string_view pkt) {
        for (const auto &c : kCommands) {
            if (c.exact ? pkt == c.name : pkt.starts_with(c.name))
                return (this->*c.run)(pkt.substr(c.name.size()));
        }
        return "";  // unknown packets get the empty reply
    }

    // ---- stops ----
    void debug_stop(unsigned cpu) {
        in_debug_stop = true;
        vm_stop(RunState::Debug);
        in_debug_stop = false;
        ts_debug_stop st{sizeof st, TS_DEBUG_STOP_NONE, TS_DEBUG_SW_BREAK, 0};
        const ts_cpu_debug_ops *ops = debug_ops(cpu);
        if (ops) {
            ops->last_stop(inst(cpu), &st);
            ops->set_single_step(inst(cpu), 0);
        }
        if (!attached) {
            vm_start();  // nobody to tell: a stale stop after a disconnect
            return;
        }
        g_cpu = c_cpu = cpu;
        if (!waiting_stop) return;
        waiting_stop = false;
        std::string reason;
        char b[40];
        if (st.reason == TS_DEBUG_STOP_BREAK) {
            reason = st.point == TS_DEBUG_HW_BREAK ? "hwbreak:;" : "swbreak:;";
        } else if (st.reason == TS_DEBUG_STOP_WATCH) {
            const char *kind = st.point == TS_DEBUG_WATCH_READ     ? "rwatch"
                               : st.point == TS_DEBUG_WATCH_ACCESS ? "awatch"
                                                                   : "watch";
            std::snprintf(b, sizeof b, "%s:%" PRIx64 ";", kind, st.addr);
            reason = b;
        }
        send(stop_packet(kSigTrap, cpu, reason));
    }
    void state_changed(RunState s) {
        if (in_debug_stop || !waiting_stop || s == RunState::Running) return;
        waiting_stop = false;
        // Stopped by someone else (Ctrl-C, the monitor) or the end.
        if (s == RunState::Shutdown) send("W00");
        else send(stop_packet(kSigInt, c_cpu));
    }
    void interrupt() {
        if (runstate() == RunState::Running) vm_stop(RunState::Debug);
        else if (waiting_stop) state_changed(RunState::Debug);
    }
};

GdbStub::GdbStub(std::function<void(std::string_view)> write) : impl_(std::make_unique<Impl>()) {
    impl_->write = std::move(write);
}
GdbStub::~GdbStub() = default;

void GdbStub::connected() {
    impl_->attached = true;
    impl_->no_ack = false;
    impl_->waiting_stop = false;
    impl_->reader = GdbPacketReader(kPacketSize);
    impl_->g_cpu = impl_->c_cpu = 0;
    if (runstate() == RunState::Running) vm_stop(RunState::Debug);
}

void GdbStub::disconnected() {
    impl_->forget_points();
    impl_->attached = false;
    impl_->waiting_stop = false;
}

std::optional<std::string> GdbStub::handle(std::string_view packet) { return impl_->handle(packet); }

void GdbStub::input(std::string_view bytes) {
    for (auto &in : impl_->reader.feed(bytes)) {
        switch (in.kind) {
        case GdbInput::Kind::Packet: {
            if (!impl_->no_ack) impl_->write("+");
            impl_->attached = true;
            if (auto reply = impl_->handle(in.payload)) impl_->send(*reply);
            break;
        }
        case GdbInput::Kind::BadChecksum:
            if (!impl_->no_ack) impl_->write("-");
            break;
        case GdbInput::Kind::Nack:
            if (!impl_->last_frame.empty()) impl_->write(impl_->last_frame);
            break;
        case GdbInput::Kind::Ack: break;
        case GdbInput::Kind::Interrupt: impl_->interrupt(); break;
        }
    }
}

void GdbStub::debug_stop(unsigned cpu) { impl_->debug_stop(cpu); }
void GdbStub::run_state_changed(RunState s) { impl_->state_changed(s); }

}  // namespace tessera
