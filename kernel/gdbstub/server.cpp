// Puts the gdbstub on a chardev and connects it to the vCPUs' debug exits.
#include "gdbstub/gdbstub.hpp"

#include "chardev/registry.hpp"
#include "loop/main_loop.hpp"
#include "vcpu/vcpu.hpp"

#include <atomic>
#include <memory>

namespace tessera {

namespace {

struct GdbServer {
    ChrFrontend *fe = nullptr;
    std::unique_ptr<GdbStub> stub;
    Bh *bh = nullptr;
    std::atomic<int> stopped_cpu{-1};  // set on a vCPU thread, read by the bottom half
};
std::unique_ptr<GdbServer> g_server;

}  // namespace

void gdbstub_start_chardev(const std::string &chardev_id) {
    if (g_server) throw UsageError("-gdb: only one gdb server can be started");
    Chardev *chr = chardev_find(chardev_id);
    if (!chr) throw UsageError("gdbstub: chardev '" + chardev_id + "' not found");
    auto s = std::make_unique<GdbServer>();
    GdbServer *raw = s.get();
    s->stub = std::make_unique<GdbStub>([raw](std::string_view out) {
        if (raw->fe) raw->fe->write(out);
    });
    // exec() reports TS_CPU_DEBUG on the vCPU's thread: hand it to the loop.
    s->bh = main_loop().bh_new(
        [](void *p) {
            auto *srv = static_cast<GdbServer *>(p);
            int cpu = srv->stopped_cpu.exchange(-1);
            if (cpu >= 0) srv->stub->debug_stop(unsigned(cpu));
        },
        raw);
    vcpu_set_debug_handler([raw](unsigned cpu) {
        int none = -1;
        raw->stopped_cpu.compare_exchange_strong(none, int(cpu));
        main_loop().bh_schedule(raw->bh);
    });
    vcpu_add_state_listener([raw](RunState st) { raw->stub->run_state_changed(st); });
    ChrHandlers h;
    h.can_receive = [] { return size_t(0x10000); };
    h.receive = [raw](std::span<const uint8_t> d) {
        raw->stub->input(std::string_view(reinterpret_cast<const char *>(d.data()), d.size()));
    };
    h.event = [raw](ChrEvent e) {
        if (e == ChrEvent::Opened) raw->stub->connected();
        else if (e == ChrEvent::Closed) raw->stub->disconnected();
    };
    g_server = std::move(s);
    raw->fe = &chr->attach(std::move(h));
}

void gdbstub_start(std::string_view spec) {
    if (spec == "none") return;
    KeyVals kv = chardev_legacy_opts(spec);
    // The reference forces a tcp gdbserver to listen without waiting; a
    // bare unix path is taken the same way (a client socket is rarely meant).
    const bool tcp = spec.starts_with("tcp:");
    if (tcp || (spec.starts_with("unix:") && !kv.has("server"))) {
        for (const char *k : {"server", "wait"})
            if (tcp || !kv.has(k)) kv.set(k, k == std::string_view("server") ? "on" : "off");
        if (tcp) kv.set("nodelay", "on");
    }
    chardev_new("gdb", kv);
    gdbstub_start_chardev("gdb");
}

}  // namespace tessera
