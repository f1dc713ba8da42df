// Puts the gdbstub on a chardev and connects it to the vCPUs' debug exits.
#include "gdbstub/gdbstub.hpp"

#include "chardev/registry.hpp"
#include "loop/main_loop.hpp"
#include "vcpu/vcpu.hpp"

#include <atomic>
#include <memory>

namespace tessera {

namespace {

constexpr const char *kChardevId = "gdb";

struct GdbServer {
    std::string chardev_id;
    bool own_chardev = false;  // created by gdbstub_start, removed with the server
    ChrFrontend *fe = nullptr;
    std::unique_ptr<GdbStub> stub;
    int busy = 0;  // inside a chardev callback: the server must not go away now
};
std::unique_ptr<GdbServer> g_server;

// The vCPU side lives as long as the process: vCPU threads may be calling
// the debug handler (without the kernel lock) while a server is replaced,
// so the handler, the bottom half and the state listener never point at a
// server, only at g_server, which is read with the lock held.
std::atomic<int> g_stopped_cpu{-1};
Bh *g_debug_bh = nullptr;

void hook_vcpus_once() {
    if (g_debug_bh) return;
    g_debug_bh = main_loop().bh_new(
        [](void *) {
            int cpu = g_stopped_cpu.exchange(-1);
            if (cpu >= 0 && g_server) g_server->stub->debug_stop(unsigned(cpu));
        },
        nullptr);
    vcpu_set_debug_handler([](unsigned cpu) {
        int none = -1;
        g_stopped_cpu.compare_exchange_strong(none, int(cpu));
        main_loop().bh_schedule(g_debug_bh);
    });
    vcpu_add_state_listener([](RunState st) {
        if (g_server) g_server->stub->run_state_changed(st);
    });
}

}  // namespace

bool gdbstub_running() { return g_server != nullptr; }

void gdbstub_stop() {
    if (!g_server) return;
    // gdb's "monitor gdbserver ..." would free the stub under its own feet.
    if (g_server->busy) throw UsageError("gdbstub: cannot replace the gdb server from its own connection");
    std::unique_ptr<GdbServer> s = std::move(g_server);
    // As a debugger going away: its breakpoints go, the VM stays as it is.
    s->stub->disconnected();
    if (s->fe) s->fe->detach();
    s->fe = nullptr;
    if (s->own_chardev) chardev_remove(s->chardev_id);
    g_stopped_cpu = -1;
}

static void start_on(const std::string &chardev_id, bool own) {
    if (g_server) throw UsageError("-gdb: only one gdb server can be started");
    Chardev *chr = chardev_find(chardev_id);
    if (!chr) throw UsageError("gdbstub: chardev '" + chardev_id + "' not found");
    hook_vcpus_once();
    auto s = std::make_unique<GdbServer>();
    GdbServer *raw = s.get();
    s->chardev_id = chardev_id;
    s->own_chardev = own;
    s->stub = std::make_unique<GdbStub>([raw](std::string_view out) {
        if (raw->fe) raw->fe->write(out);
    });
    ChrHandlers h;
    h.can_receive = [] { return size_t(0x10000); };
    h.receive = [raw](std::span<const uint8_t> d) {
        ++raw->busy;
        struct Done { int &n; ~Done() { --n; } } done{raw->busy};
        raw->stub->input(std::string_view(reinterpret_cast<const char *>(d.data()), d.size()));
    };
    h.event = [raw](ChrEvent e) {
        if (e == ChrEvent::Opened) raw->stub->connected();
        else if (e == ChrEvent::Closed) raw->stub->disconnected();
    };
    g_server = std::move(s);
    try {
        raw->fe = &chr->attach(std::move(h));
    } catch (...) {
        g_server.reset();
        throw;
    }
}

void gdbstub_start_chardev(const std::string &chardev_id) { start_on(chardev_id, false); }

void gdbstub_start(std::string_view spec) {
    if (spec == "none") {
        gdbstub_stop();
        return;
    }
    // Parse before tearing anything down: a bad spec keeps the old server.
    KeyVals kv = chardev_legacy_opts(spec);
    // The reference forces a tcp gdbserver to listen without waiting; a
    // bare unix path is taken the same way (a client socket is rarely meant).
    const bool tcp = spec.starts_with("tcp:");
    if (tcp || (spec.starts_with("unix:") && !kv.has("server"))) {
        for (const char *k : {"server", "wait"})
            if (tcp || !kv.has(k)) kv.set(k, k == std::string_view("server") ? "on" : "off");
        if (tcp) kv.set("nodelay", "on");
    }
    // A new device replaces the running server (HMP "gdbserver" again).
    gdbstub_stop();
    chardev_new(kChardevId, kv);
    try {
        start_on(kChardevId, true);
    } catch (...) {
        chardev_remove(kChardevId);
        throw;
    }
}

}  // namespace tessera
