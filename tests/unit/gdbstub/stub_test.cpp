// The gdbstub against real vCPU threads running a fake CPU: each "instruction"
// is 4 bytes and only moves the pc, except that the one at kStorePc writes
// to kData (for watchpoints). The CPU offers tessera.debug.v1.
#include "gdbstub/gdbstub.hpp"

#include "host/host_table.hpp"
#include "loop/bql.hpp"
#include "loop/main_loop.hpp"
#include "qom/object.hpp"
#include "vcpu/vcpu.hpp"

#include <tessera/debug.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

using namespace tessera;

namespace {

constexpr uint64_t kRam = 0x80000000, kStorePc = 0x80000020, kData = 0x80001000;

struct FakeCpu {
    std::atomic<uint64_t> pc{kRam};
    uint64_t x[32] = {};
    std::atomic<bool> kicked{false};
    std::mutex m;  // guards the debug state below (set while stopped, read in exec)
    std::set<uint64_t> breaks, watches;
    bool step = false;
    ts_debug_stop last{sizeof(ts_debug_stop), TS_DEBUG_STOP_NONE, TS_DEBUG_SW_BREAK, 0};
};

FakeCpu g_cpus[2];
FakeCpu &self(void *p) { return *static_cast<FakeCpu *>(p); }

ts_cpu_exit fake_exec(void *p) {
    FakeCpu &c = self(p);
    for (bool first = true;; first = false) {
        if (c.kicked.exchange(false)) return TS_CPU_EXIT_REQUEST;
        {
            std::lock_guard lk(c.m);
            // Stop before executing a breakpoint's instruction, except the
            // one a single step starts from.
            if (c.breaks.count(c.pc) && !(first && c.step)) {
                c.last = {sizeof c.last, TS_DEBUG_STOP_BREAK, TS_DEBUG_SW_BREAK, c.pc};
                return TS_CPU_DEBUG;
            }
            uint64_t pc = c.pc;
            c.pc = pc + 4;
            if (pc == kStorePc && c.watches.count(kData)) {
                c.last = {sizeof c.last, TS_DEBUG_STOP_WATCH, TS_DEBUG_WATCH_WRITE, kData};
                return TS_CPU_DEBUG;
            }
            if (c.step) {
                c.last = {sizeof c.last, TS_DEBUG_STOP_STEP, TS_DEBUG_SW_BREAK, 0};
                return TS_CPU_DEBUG;
            }
            if (c.pc >= kRam + 0x1000) c.pc = kRam + 0x40;  // loop forever away from the store
        }
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
}
void fake_kick(void *p) { self(p).kicked = true; }
int fake_has_work(void *) { return 1; }
uint64_t fake_get_pc(void *p) { return self(p).pc; }
void fake_set_pc(void *p, uint64_t pc) { self(p).pc = pc; }
ts_status fake_translate(void *, uint64_t va, ts_access, uint64_t *pa) {
    *pa = va;
    return va >= kRam && va < kRam + 0x10000 ? TS_OK : TS_ERROR;
}
const char *fake_xml(void *, const char *annex) {
    static const std::string xml = "<?xml version=\"1.0\"?><target><architecture>riscv:rv64</architecture>" +
                                   std::string(100, ' ') + "</target>";
    return std::strcmp(annex, "target.xml") == 0 ? xml.c_str() : nullptr;
}
size_t fake_read_reg(void *p, int r, uint8_t *buf, size_t len) {
    if (r < 0 || r > 32 || len < 8) return 0;
    uint64_t v = r == 32 ? self(p).pc.load() : self(p).x[r];
    std::memcpy(buf, &v, 8);
    return 8;
}
size_t fake_write_reg(void *p, int r, const uint8_t *buf, size_t len) {
    if (r < 0 || r > 32 || len < 8) return 0;
    uint64_t v;
    std::memcpy(&v, buf, 8);
    if (r == 32) self(p).pc = v;
    else if (r) self(p).x[r] = v;
    return 8;
}

ts_status dbg_insert(void *p, ts_debug_point t, uint64_t a, uint64_t, ts_error *) {
    std::lock_guard lk(self(p).m);
    (t <= TS_DEBUG_HW_BREAK ? self(p).breaks : self(p).watches).insert(a);
    return TS_OK;
}
ts_status dbg_remove(void *p, ts_debug_point t, uint64_t a, uint64_t) {
    std::lock_guard lk(self(p).m);
    (t <= TS_DEBUG_HW_BREAK ? self(p).breaks : self(p).watches).erase(a);
    return TS_OK;
}
void dbg_remove_all(void *p) {
    std::lock_guard lk(self(p).m);
    self(p).breaks.clear();
    self(p).watches.clear();
}
void dbg_step(void *p, int on) {
    std::lock_guard lk(self(p).m);
    self(p).step = on;
}
void dbg_last(void *p, ts_debug_stop *out) {
    std::lock_guard lk(self(p).m);
    *out = self(p).last;
}
const ts_cpu_debug_ops kDebug = {sizeof(ts_cpu_debug_ops), dbg_insert, dbg_remove, dbg_remove_all, dbg_step, dbg_last};
const void *fake_cap(void *, const char *id) { return std::strcmp(id, TS_DEBUG_V1) == 0 ? &kDebug : nullptr; }

const ts_cpu_class kFakeClass = {
    sizeof(ts_cpu_class),
    {sizeof(ts_object_class), nullptr, 0, TS_STATE_NONE, nullptr, nullptr, nullptr, nullptr, nullptr},
    "riscv64", "fake", fake_exec, fake_kick, fake_has_work,
    fake_get_pc, fake_set_pc, fake_translate, nullptr, nullptr, fake_xml, fake_read_reg, fake_write_reg, fake_cap,
};

ts_object g_objs[2];

// What kernel/gdbstub/server.cpp does for a chardev: debug exits (on vCPU
// threads) go to the current session through a bottom half.
struct Session;
Session *g_session = nullptr;
std::atomic<int> g_stopped_cpu{-1};
Bh *g_stop_bh = nullptr;
void deliver_stop(void *);
void on_state(RunState s);

// The machine: two fake harts, 64 KiB of RAM at kRam, threads running.
class Machine : public ::testing::Environment {
public:
    void SetUp() override {
        BqlGuard g;
        const ts_host *h = host_table_get();
        ts_error err{};
        ts_region *ram = h->region_ram(nullptr, "ram", 0x10000, &err);
        h->region_add(h->system_memory(), kRam, ram, 0);
        for (int i = 0; i < 2; i++) {
            g_objs[i].instance = &g_cpus[i];
            vcpu_register(&g_objs[i], &kFakeClass);
        }
        g_stop_bh = main_loop().bh_new(deliver_stop, nullptr);
        vcpu_set_debug_handler([](unsigned cpu) {
            int none = -1;
            g_stopped_cpu.compare_exchange_strong(none, int(cpu));
            main_loop().bh_schedule(g_stop_bh);
        });
        vcpu_add_state_listener(on_state);
        vcpus_create_threads();
        vm_start();
    }
    void TearDown() override {
        BqlGuard g;
        vcpus_destroy();
    }
};
const auto *g_env = ::testing::AddGlobalTestEnvironment(new Machine);

// A debugger session over the stub, with packets framed as gdb sends them.
struct Session {
    std::string out;
    GdbStub stub{[this](std::string_view s) { out += s; }};
    GdbPacketReader reader{1 << 20};

    Session() {
        BqlGuard g;
        g_session = this;
        stub.connected();
    }
    ~Session() { g_session = nullptr; }
    // Packets the stub sent so far (acks dropped).
    std::vector<std::string> take() {
        std::vector<std::string> r;
        for (auto &in : reader.feed(std::exchange(out, {})))
            if (in.kind == GdbInput::Kind::Packet) r.push_back(in.payload);
        return r;
    }
    std::vector<std::string> send(std::string_view payload) {
        {
            BqlGuard g;
            stub.input(gdb_frame(payload));
        }
        return take();
    }
    std::string ask(std::string_view payload) {
        auto r = send(payload);
        EXPECT_EQ(r.size(), 1u) << payload;
        return r.empty() ? "" : r.back();
    }
    // Runs the main loop until the stub says something (a stop reply).
    std::string wait_reply() {
        for (int i = 0; i < 500; i++) {
            main_loop().iterate(10'000'000);
            auto r = take();
            if (!r.empty()) return r.back();
        }
        return "(timeout)";
    }
};

void deliver_stop(void *) {
    int cpu = g_stopped_cpu.exchange(-1);
    if (cpu >= 0 && g_session) g_session->stub.debug_stop(unsigned(cpu));
}
void on_state(RunState s) {
    if (g_session) g_session->stub.run_state_changed(s);
}

}  // namespace

TEST(GdbStub, ConnectStopsTheVmAndReportsThreads) {
    Session s;
    EXPECT_EQ(runstate(), RunState::Debug);
    std::string sup = s.ask("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
    EXPECT_NE(sup.find("PacketSize=4000"), std::string::npos) << sup;
    EXPECT_NE(sup.find("qXfer:features:read+"), std::string::npos);
    EXPECT_NE(sup.find("vContSupported+"), std::string::npos);
    EXPECT_EQ(s.ask("?"), "T05thread:1;");
    EXPECT_EQ(s.ask("qfThreadInfo"), "m1,2");
    EXPECT_EQ(s.ask("qsThreadInfo"), "l");
    EXPECT_EQ(s.ask("qC"), "QC1");
    EXPECT_EQ(s.ask("T2"), "OK");
    EXPECT_EQ(s.ask("T3"), "E22");
    EXPECT_EQ(s.ask("vCont?"), "vCont;c;C;s;S");
    EXPECT_EQ(s.ask("vMustReplyEmpty"), "");
    EXPECT_EQ(s.ask("qAttached"), "1");
}

TEST(GdbStub, TargetXmlInChunks) {
    Session s;
    std::string whole = fake_xml(nullptr, "target.xml");
    std::string got;
    for (size_t off = 0;;) {
        char req[64];
        std::snprintf(req, sizeof req, "qXfer:features:read:target.xml:%zx,40", off);
        std::string r = s.ask(req);
        ASSERT_FALSE(r.empty());
        got += r.substr(1);
        off += r.size() - 1;
        if (r[0] == 'l') break;
        ASSERT_EQ(r[0], 'm');
    }
    EXPECT_EQ(got, whole);
    EXPECT_EQ(s.ask("qXfer:features:read:nope.xml:0,40"), "E00");
}

TEST(GdbStub, RegistersPerThread) {
    Session s;
    g_cpus[0].x[1] = 0x1122334455667788;
    std::string g = s.ask("g");
    ASSERT_EQ(g.size(), 33u * 16);
    EXPECT_EQ(g.substr(16, 16), "8877665544332211");
    EXPECT_EQ(s.ask("P5=efbeadde00000000"), "OK");
    EXPECT_EQ(g_cpus[0].x[5], 0xdeadbeefu);
    EXPECT_EQ(s.ask("p5"), "efbeadde00000000");
    EXPECT_EQ(s.ask("p99"), "E14");
    EXPECT_EQ(s.ask("Hg2"), "OK");
    EXPECT_EQ(s.ask("P5=0100000000000000"), "OK");
    EXPECT_EQ(g_cpus[1].x[5], 1u);
    EXPECT_EQ(g_cpus[0].x[5], 0xdeadbeefu);
    // G writes them all back.
    std::string all = s.ask("g");
    all.replace(6 * 16, 16, "0700000000000000");
    EXPECT_EQ(s.ask("G" + all), "OK");
    EXPECT_EQ(g_cpus[1].x[6], 7u);
    EXPECT_EQ(s.ask("Hg9"), "E22");
}

TEST(GdbStub, MemoryReadWrite) {
    Session s;
    EXPECT_EQ(s.ask("M80000100,4:deadbeef"), "OK");
    EXPECT_EQ(s.ask("m80000100,4"), "deadbeef");
    EXPECT_EQ(s.ask("X80000104,2:" + std::string("}#")), "OK");
    EXPECT_EQ(s.ask("m80000104,2"), "7d23");
    // Across a page boundary.
    EXPECT_EQ(s.ask("M80000ffe,4:01020304"), "OK");
    EXPECT_EQ(s.ask("m80000ffe,4"), "01020304");
    EXPECT_EQ(s.ask("m10,4"), "E14");
    EXPECT_EQ(s.ask("M80000100,4:zz"), "E22");
    EXPECT_EQ(s.ask("mjunk"), "E22");
}

TEST(GdbStub, StepContinueBreakAndWatch) {
    Session s;
    const uint64_t start = g_cpus[0].pc;
    EXPECT_EQ(s.ask("Hc1"), "OK");
    EXPECT_TRUE(s.send("s").empty());
    EXPECT_EQ(s.wait_reply(), "T05thread:1;");
    EXPECT_EQ(g_cpus[0].pc, start + 4);

    // Breakpoint ahead, continue, stop there. Thread 2 is first moved past
    // the breakpoint (it loops above kRam + 0x40), so only thread 1 can hit
    // it: under load thread 2 used to get there first.
    EXPECT_EQ(s.ask("Hg2"), "OK");
    EXPECT_EQ(s.ask("P20=4000008000000000"), "OK");  // thread 2: pc = 0x80000040
    EXPECT_EQ(s.ask("Hg1"), "OK");
    EXPECT_EQ(s.ask("P20=1000008000000000"), "OK");  // pc = 0x80000010
    EXPECT_EQ(s.ask("Z0,80000018,4"), "OK");
    EXPECT_TRUE(s.send("vCont;c").empty());
    EXPECT_EQ(s.wait_reply(), "T05swbreak:;thread:1;");
    EXPECT_EQ(g_cpus[0].pc, 0x80000018u);
    EXPECT_EQ(s.ask("z0,80000018,4"), "OK");

    // Write watchpoint on kData: the store at kStorePc completes, then stop.
    EXPECT_EQ(s.ask("Z2,80001000,8"), "OK");
    EXPECT_TRUE(s.send("c").empty());
    // Both harts run the store; whichever the host schedules first reports.
    const std::string watch = s.wait_reply();
    ASSERT_TRUE(watch == "T05watch:80001000;thread:1;" || watch == "T05watch:80001000;thread:2;") << watch;
    EXPECT_EQ(g_cpus[watch.back() == ';' && watch[watch.size() - 2] == '2' ? 1 : 0].pc, kStorePc + 4);
    EXPECT_EQ(s.ask("z2,80001000,8"), "OK");

    // vCont step on the second hart.
    uint64_t pc1 = g_cpus[1].pc;
    EXPECT_TRUE(s.send("vCont;s:2;c").empty());
    EXPECT_EQ(s.wait_reply(), "T05thread:2;");
    EXPECT_GT(g_cpus[1].pc, pc1);
    EXPECT_EQ(s.ask("qC"), "QC2");
}

TEST(GdbStub, CtrlCStopsARunningVm) {
    Session s;
    EXPECT_TRUE(s.send("c").empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(runstate(), RunState::Running);
    {
        BqlGuard g;
        s.stub.input("\x03");
    }
    EXPECT_EQ(s.take(), std::vector<std::string>{"T02thread:1;"});
    EXPECT_EQ(runstate(), RunState::Debug);
}

TEST(GdbStub, AcksBadPacketsAndNoAckMode) {
    Session s;
    {
        BqlGuard g;
        s.stub.input("$g#00");
    }
    EXPECT_EQ(s.out, "-");
    s.out.clear();
    {
        BqlGuard g;
        s.stub.input(gdb_frame("QStartNoAckMode"));
    }
    EXPECT_EQ(s.out, "+" + gdb_frame("OK"));
    s.out.clear();
    {
        BqlGuard g;
        s.stub.input(gdb_frame("qC"));
    }
    EXPECT_EQ(s.out, gdb_frame("QC1"));
}

TEST(GdbStub, MonitorCommandsGoToHmp) {
    Session s;
    auto r = s.send("qRcmd," + to_hex(std::string_view("frob")));
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0], "O" + to_hex(std::string_view("unknown command: 'frob'\n")));
    EXPECT_EQ(r[1], "OK");
}

TEST(GdbStub, DetachResumes) {
    Session s;
    EXPECT_EQ(s.ask("Z0,80000800,4"), "OK");
    EXPECT_EQ(s.ask("D"), "OK");
    EXPECT_EQ(runstate(), RunState::Running);
    std::lock_guard lk(g_cpus[0].m);
    EXPECT_TRUE(g_cpus[0].breaks.empty());
}
