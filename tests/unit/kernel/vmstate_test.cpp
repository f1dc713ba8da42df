// The VM state stream (kernel/snapshot/vmstate): a machine's declared
// object state, IRQ levels, timers, RAM and virtual clock saved and loaded
// back; a state that does not fit the machine is refused before anything
// changes; a corrupt one gives an error, never a crash.
#include "loop/clock.hpp"
#include "loop/timer.hpp"
#include "memory/region.hpp"
#include "qom/object.hpp"
#include "snapshot/vmstate.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <vector>

using namespace tessera;

namespace {

struct DevState {
    uint32_t reg;
    uint64_t arr[3];
    uint8_t bytes[5];
    uint8_t flag;
    ts_timer *timer;
};

struct Dev {
    DevState s{};
    int post_loads = 0;
};

const ts_state_field kFields[] = {
    {"reg", TS_STATE_U32, offsetof(DevState, reg), 0},
    {"arr", TS_STATE_U64, offsetof(DevState, arr), 3},
    {"bytes", TS_STATE_BYTES, offsetof(DevState, bytes), 5},
    {"flag", TS_STATE_BOOL, offsetof(DevState, flag), 0},
    {"timer", TS_STATE_TIMER, offsetof(DevState, timer), 0},
};
ts_status post_load(void *self, ts_error *) {
    static_cast<Dev *>(self)->post_loads++;
    return TS_OK;
}
const ts_state_decl kDecl = {sizeof(ts_state_decl), "fake-dev", 1, 5, kFields, nullptr, post_load};
const ts_state_decl kDeclV2 = {sizeof(ts_state_decl), "fake-dev", 2, 5, kFields, nullptr, post_load};

ts_device_class make_class(const ts_state_decl *d) {
    ts_device_class c{};
    c.size = sizeof c;
    c.base.size = sizeof c.base;
    c.base.state = d;
    c.base.state_base = [](void *self) -> void * { return &static_cast<Dev *>(self)->s; };
    return c;
}

struct Seen {
    std::vector<std::pair<int, int>> calls;  // line, level
};
void irq_handler(void *opaque, int line, int level) { static_cast<Seen *>(opaque)->calls.emplace_back(line, level); }
void timer_cb(void *) {}

// A machine of one device (two IRQ outputs, a timer) and 64 KiB of RAM.
struct Machine {
    explicit Machine(const ts_state_decl *decl = &kDecl, uint64_t ram_size = 64 << 10)
        : cls(make_class(decl)), timer(Clock::Virtual, timer_cb, nullptr) {
        type.name = "fake-dev";
        type.kind = TypeKind::Device;
        type.cls = &cls;
        root.path = "/";
        auto child = std::make_unique<ts_object>();
        child->path = "/machine/dev0";
        child->type = &type;
        child->instance = &dev;
        child->realized = true;
        auto &lines = child->gpio_out["irq"];
        for (int i = 0; i < 2; i++) {
            auto l = std::make_unique<ts_irq>();
            l->handler = irq_handler;
            l->opaque = &seen;
            l->line = i;
            lines.push_back(std::move(l));
        }
        obj = child.get();
        root.children.push_back(std::move(child));
        dev.s.timer = reinterpret_cast<ts_timer *>(&timer);
        mem = make_container("system", UINT64_MAX);
        ram = make_ram("ram", ram_size);
        region_add(*mem, 0x80000000, *ram);
    }
    ~Machine() { region_remove(*mem, *ram); }
    uint8_t *ram_ptr() { return region_host_ptr(*ram); }

    ts_device_class cls;
    TypeImpl type;
    ts_object root;
    ts_object *obj = nullptr;
    Dev dev;
    Seen seen;
    Timer timer;
    RegionPtr mem, ram;
};

struct MemSink final : VmStateSink {
    std::vector<uint8_t> bytes;
    void write(std::span<const uint8_t> b) override { bytes.insert(bytes.end(), b.begin(), b.end()); }
};
struct MemSource final : VmStateSource {
    explicit MemSource(std::vector<uint8_t> b) : bytes(std::move(b)) {}
    std::vector<uint8_t> bytes;
    void read(uint64_t pos, std::span<uint8_t> buf) override {
        if (pos > bytes.size() || buf.size() > bytes.size() - pos) throw VmStateError("vmstate: the saved state ends early");
        std::memcpy(buf.data(), bytes.data() + pos, buf.size());
    }
};

void fill(Machine &m) {
    m.dev.s.reg = 0x12345678;
    m.dev.s.arr[0] = 1, m.dev.s.arr[1] = 2, m.dev.s.arr[2] = ~0ull;
    std::memcpy(m.dev.s.bytes, "abcde", 5);
    m.dev.s.flag = 1;
    m.timer.mod(5'000'000);
    m.obj->gpio_out["irq"][1]->level = 1;
    std::memset(m.ram_ptr() + 4096, 0xab, 100);          // page 1
    std::memset(m.ram_ptr() + 10 * 4096 + 7, 0xcd, 9000);  // pages 10..12
}

std::vector<uint8_t> save(Machine &m, int64_t clock = 777) {
    MemSink sink;
    uint64_t n = vmstate_save(sink, &m.root, m.mem.get(), clock);
    EXPECT_EQ(n, sink.bytes.size());
    return sink.bytes;
}

TEST(VmState, SavedStateComesBack) {
    Machine m;
    fill(m);
    auto state = save(m);
    // Zero pages take no room: 4 non-zero pages of 16.
    EXPECT_LT(state.size(), 5u * 4096 + 1024);

    // Everything changes afterwards...
    m.dev.s.reg = 0;
    m.dev.s.arr[2] = 5;
    m.dev.s.bytes[4] = 'z';
    m.dev.s.flag = 0;
    m.timer.del();
    std::memset(m.ram_ptr(), 0x99, 64 << 10);
    m.obj->gpio_out["irq"][1]->level = 0;

    MemSource src(state);
    bool before = false;
    EXPECT_EQ(vmstate_load(src, &m.root, m.mem.get(), [&] { before = true; }), 777);
    EXPECT_TRUE(before);
    EXPECT_EQ(clock_ns(Clock::Virtual), 777);
    EXPECT_EQ(m.dev.s.reg, 0x12345678u);
    EXPECT_EQ(m.dev.s.arr[2], ~0ull);
    EXPECT_EQ(std::memcmp(m.dev.s.bytes, "abcde", 5), 0);
    EXPECT_EQ(m.dev.s.flag, 1);
    EXPECT_TRUE(m.timer.pending());
    EXPECT_EQ(m.timer.expire_time(), 5'000'000);
    EXPECT_EQ(m.dev.post_loads, 1);
    // Both lines driven to their saved levels (also the unchanged one).
    EXPECT_EQ(m.seen.calls, (std::vector<std::pair<int, int>>{{0, 0}, {1, 1}}));
    EXPECT_EQ(m.obj->gpio_out["irq"][1]->level, 1);
    for (uint64_t i = 0; i < (64 << 10); i++) {
        uint8_t want = (i >= 4096 && i < 4196) ? 0xab : (i >= 10 * 4096 + 7 && i < 10 * 4096 + 9007) ? 0xcd : 0;
        ASSERT_EQ(m.ram_ptr()[i], want) << i;
    }
}

TEST(VmState, StateOfAnotherMachineIsRefusedBeforeAnythingChanges) {
    Machine m;
    fill(m);
    auto state = save(m);
    {
        Machine other(&kDeclV2);
        other.dev.s.reg = 42;
        MemSource src(state);
        bool before = false;
        try {
            vmstate_load(src, &other.root, other.mem.get(), [&] { before = true; });
            FAIL() << "loaded a version 1 state into version 2";
        } catch (const VmStateError &e) {
            EXPECT_NE(std::string(e.what()).find("/machine/dev0"), std::string::npos) << e.what();
        }
        EXPECT_FALSE(before);
        EXPECT_EQ(other.dev.s.reg, 42u);
        EXPECT_EQ(other.dev.post_loads, 0);
    }
    {
        Machine other(&kDecl, 128 << 10);
        MemSource src(state);
        EXPECT_THROW(vmstate_load(src, &other.root, other.mem.get()), VmStateError);
    }
    {
        Machine other;
        other.root.children[0]->path = "/machine/dev1";
        MemSource src(state);
        try {
            vmstate_load(src, &other.root, other.mem.get());
            FAIL();
        } catch (const VmStateError &e) {
            EXPECT_NE(std::string(e.what()).find("/machine/dev"), std::string::npos) << e.what();
        }
    }
}

// Every truncation and every single-byte corruption of the header and
// records: an error or a consistent load, never a crash.
TEST(VmState, CorruptStatesGiveErrors) {
    Machine m;
    fill(m);
    auto state = save(m);
    for (size_t n = 0; n < state.size(); n += (n < 200 ? 1 : 997)) {
        Machine t;
        MemSource src(std::vector<uint8_t>(state.begin(), state.begin() + ptrdiff_t(n)));
        EXPECT_THROW(vmstate_load(src, &t.root, t.mem.get()), VmStateError) << n;
    }
    for (size_t i = 0; i < 200 && i < state.size(); i++) {
        Machine t;
        auto bad = state;
        bad[i] ^= 0x5a;
        MemSource src(bad);
        try {
            vmstate_load(src, &t.root, t.mem.get());
        } catch (const VmStateError &) {
        }
    }
    auto bad = state;
    bad[0] = 'X';
    MemSource src(bad);
    try {
        vmstate_load(src, &m.root, m.mem.get());
        FAIL();
    } catch (const VmStateError &e) {
        EXPECT_STREQ(e.what(), "vmstate: not a tessera VM state");
    }
}

}  // namespace
