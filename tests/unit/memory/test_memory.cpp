#include "memory/address_space.hpp"
#include "options/keyval.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

using namespace tessera;
using ::testing::HasSubstr;

namespace {

// A device that records each access and answers reads with a pattern.
struct Recorder {
    struct Access {
        uint64_t off;
        unsigned size;
        bool write;
        uint64_t value;
        bool operator==(const Access &) const = default;
    };
    std::vector<Access> log;
    uint64_t read_value = 0x8877665544332211ull;

    static ts_memtx read(void *o, uint64_t off, unsigned size, uint64_t *v) {
        auto *self = static_cast<Recorder *>(o);
        *v = size == 8 ? self->read_value : self->read_value & ((1ull << (8 * size)) - 1);
        self->log.push_back({off, size, false, *v});
        return TS_MEMTX_OK;
    }
    static ts_memtx write(void *o, uint64_t off, unsigned size, uint64_t v) {
        static_cast<Recorder *>(o)->log.push_back({off, size, true, v});
        return TS_MEMTX_OK;
    }
    ts_mmio_ops ops(uint8_t min_a, uint8_t max_a, bool little = true) {
        return ts_mmio_ops{sizeof(ts_mmio_ops), read, write, min_a, max_a, uint8_t(!little)};
    }
};

struct Machine {
    RegionPtr system = make_container("system", UINT64_MAX);
    AddressSpace as{"memory", *system};
};

uint8_t byte_at(AddressSpace &as, uint64_t addr) {
    uint8_t b = 0;
    as.rw(addr, &b, 1, false);
    return b;
}

HostMemoryOptions backing(std::string path, bool share = false, bool prealloc = false) {
    HostMemoryOptions o;
    o.mem_path = std::move(path);
    o.share = share;
    o.prealloc = prealloc;
    return o;
}

}  // namespace

TEST(Flatten, HigherPriorityWins) {
    Machine m;
    auto ram = make_ram("ram", 0x1000);
    Recorder dev;
    auto mmio = make_mmio("dev", 0x100, dev.ops(1, 8), &dev);
    region_add(*m.system, 0x1000, *mmio, 1);   // added first, but higher priority
    region_add(*m.system, 0x1000, *ram, 0);
    auto v = m.as.view();
    ASSERT_EQ(v->ranges.size(), 2u);
    EXPECT_EQ(v->ranges[0].region, mmio.get());
    EXPECT_EQ(v->ranges[0].start, 0x1000u);
    EXPECT_EQ(v->ranges[0].length, 0x100u);
    EXPECT_EQ(v->ranges[1].region, ram.get());
    EXPECT_EQ(v->ranges[1].start, 0x1100u);
    EXPECT_EQ(v->ranges[1].offset, 0x100u);

    const ts_flat_range r = m.as.lookup(0x1900);
    EXPECT_EQ(r.kind, TS_REGION_RAM);
    EXPECT_EQ(r.start, 0x1100u);
    EXPECT_EQ(r.length, 0xf00u);
    EXPECT_EQ(r.host, ram->backing.data() + 0x100);
    EXPECT_TRUE(r.writable);
    EXPECT_EQ(m.as.lookup(0x10ff).kind, TS_REGION_MMIO);
}

TEST(Flatten, LaterAddedWinsOnEqualPriority) {
    Machine m;
    auto a = make_ram("a", 0x1000);
    auto b = make_ram("b", 0x1000);
    region_add(*m.system, 0, *a, 0);
    region_add(*m.system, 0x800, *b, 0);
    EXPECT_EQ(m.as.view()->find(0x900)->region, b.get());
    EXPECT_EQ(m.as.view()->find(0x7ff)->region, a.get());
    // Re-adding a makes it the newest.
    region_add(*m.system, 0, *a, 0);
    EXPECT_EQ(m.as.view()->find(0x900)->region, a.get());
    EXPECT_EQ(m.as.view()->find(0x1100)->region, b.get());
}

TEST(Flatten, AliasesContainersAndClipping) {
    Machine m;
    auto ram = make_ram("ram", 0x10000);
    auto window = make_alias("window", *ram, 0x2000, 0x1000);
    auto bus = make_container("bus", 0x3000);   // clips what is inside
    auto big = make_ram("big", 0x10000);
    region_add(*m.system, 0x80000000, *ram);
    region_add(*m.system, 0x1000, *window);
    region_add(*m.system, 0x100000, *bus);
    region_add(*bus, 0x1000, *big);

    std::array<uint8_t, 4> data{1, 2, 3, 4};
    ASSERT_EQ(m.as.write(0x1010, data), TS_MEMTX_OK);
    EXPECT_EQ(std::memcmp(ram->backing.data() + 0x2010, data.data(), 4), 0);
    EXPECT_EQ(m.as.lookup(0x1000).host, ram->backing.data() + 0x2000);

    const FlatRange *f = m.as.view()->find(0x101000);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->region, big.get());
    EXPECT_EQ(f->length, 0x2000u);   // bus ends at 0x103000
    EXPECT_EQ(m.as.view()->find(0x103000), nullptr);
}

TEST(Flatten, DisabledRegionsAreInvisible) {
    Machine m;
    auto ram = make_ram("ram", 0x1000);
    auto rom = make_rom("overlay", 0x100);
    region_add(*m.system, 0, *ram);
    region_add(*m.system, 0, *rom, 1);
    EXPECT_EQ(m.as.lookup(0).kind, TS_REGION_ROM);
    const uint64_t gen = map_generation();
    region_set_enabled(*rom, false);
    EXPECT_GT(map_generation(), gen);
    EXPECT_EQ(m.as.lookup(0).kind, TS_REGION_RAM);
    EXPECT_EQ(m.as.view()->ranges.size(), 1u);
    region_set_enabled(*rom, true);
    EXPECT_EQ(m.as.lookup(0).kind, TS_REGION_ROM);
    region_remove(*m.system, *rom);
    EXPECT_EQ(m.as.lookup(0).kind, TS_REGION_RAM);
}

TEST(Flatten, RejectsCyclesAndNonContainers) {
    auto a = make_container("a", 0x1000);
    auto b = make_container("b", 0x1000);
    auto ram = make_ram("ram", 0x1000);
    region_add(*a, 0, *b);
    EXPECT_THROW(region_add(*b, 0, *a), std::logic_error);
    EXPECT_THROW(region_add(*ram, 0, *b), std::logic_error);
}

TEST(Flatten, AliasLoopDoesNotHang) {
    Machine m;
    auto c = make_container("c", 0x1000);
    auto loop = make_alias("loop", *c, 0, 0x1000);
    region_add(*c, 0, *loop);
    region_add(*m.system, 0, *c);
    EXPECT_TRUE(m.as.view()->ranges.empty());
}

TEST(Access, SpansRangesAndHoles) {
    Machine m;
    auto a = make_ram("a", 0x1000);
    auto b = make_ram("b", 0x1000);
    region_add(*m.system, 0x1000, *a);
    region_add(*m.system, 0x2000, *b);
    std::array<uint8_t, 8> out{1, 2, 3, 4, 5, 6, 7, 8};
    ASSERT_EQ(m.as.write(0x1ffc, out), TS_MEMTX_OK);
    EXPECT_EQ(a->backing.data()[0xfff], 4);
    EXPECT_EQ(b->backing.data()[0], 5);

    // 0x3000 on is a hole: reads of it are zero, the mapped part is still read.
    std::array<uint8_t, 8> in{};
    in.fill(0xee);
    b->backing.data()[0xffe] = 0xaa;
    b->backing.data()[0xfff] = 0xbb;
    EXPECT_EQ(m.as.read(0x2ffe, in), TS_MEMTX_DECODE_ERROR);
    EXPECT_EQ(in[0], 0xaa);
    EXPECT_EQ(in[1], 0xbb);
    for (size_t i = 2; i < in.size(); ++i)
        EXPECT_EQ(in[i], 0);
    EXPECT_EQ(m.as.write(0x500, out), TS_MEMTX_DECODE_ERROR);

    const ts_flat_range hole = m.as.lookup(0x500);
    EXPECT_EQ(hole.kind, TS_REGION_NONE);
    EXPECT_EQ(hole.start, 0u);
    EXPECT_EQ(hole.length, 0x1000u);
    const ts_flat_range top = m.as.lookup(0x4000);
    EXPECT_EQ(top.start, 0x3000u);
    EXPECT_EQ(top.start + top.length, uint64_t(0));   // up to the top of the space (wraps)
}

TEST(Access, MmioSplitsIntoAllowedAlignedSizes) {
    Machine m;
    Recorder dev;
    auto mmio = make_mmio("dev", 0x100, dev.ops(1, 4), &dev);
    region_add(*m.system, 0x10000000, *mmio);

    uint64_t v = 0x0807060504030201ull;
    ASSERT_EQ(m.as.rw(0x10000000, &v, 8, true), TS_MEMTX_OK);
    using A = Recorder::Access;
    EXPECT_THAT(dev.log, ::testing::ElementsAre(A{0, 4, true, 0x04030201}, A{4, 4, true, 0x08070605}));

    // Unaligned 4 bytes at 1: pieces 1 @1, 2 @2, 1 @4.
    dev.log.clear();
    uint32_t w = 0xddccbbaa;
    ASSERT_EQ(m.as.rw(0x10000001, &w, 4, true), TS_MEMTX_OK);
    EXPECT_THAT(dev.log, ::testing::ElementsAre(A{1, 1, true, 0xaa}, A{2, 2, true, 0xccbb}, A{4, 1, true, 0xdd}));
}

TEST(Access, MmioWidensToMinAccess) {
    Machine m;
    Recorder dev;
    auto mmio = make_mmio("dev", 0x100, dev.ops(4, 4), &dev);
    region_add(*m.system, 0x2000, *mmio);
    uint8_t b = 0;
    ASSERT_EQ(m.as.rw(0x2006, &b, 1, false), TS_MEMTX_OK);
    ASSERT_EQ(dev.log.size(), 1u);
    EXPECT_EQ(dev.log[0].off, 4u);
    EXPECT_EQ(dev.log[0].size, 4u);
    EXPECT_EQ(b, 0x33);   // byte 2 of 0x44332211

    dev.log.clear();
    uint16_t h = 0xbeef;
    ASSERT_EQ(m.as.rw(0x2002, &h, 2, true), TS_MEMTX_OK);
    ASSERT_EQ(dev.log.size(), 1u);
    EXPECT_EQ(dev.log[0].off, 0u);
    EXPECT_EQ(dev.log[0].value, 0xbeef0000u);
}

TEST(Access, BigEndianDevice) {
    Machine m;
    Recorder dev;
    dev.read_value = 0x11223344;
    auto mmio = make_mmio("be", 0x10, dev.ops(4, 4, false), &dev);
    region_add(*m.system, 0, *mmio);
    std::array<uint8_t, 4> out{};
    ASSERT_EQ(m.as.read(0, out), TS_MEMTX_OK);
    EXPECT_EQ(out, (std::array<uint8_t, 4>{0x11, 0x22, 0x33, 0x44}));
}

TEST(Access, DeviceErrorsAreReported) {
    Machine m;
    ts_mmio_ops ops{sizeof ops, nullptr,
                    [](void *, uint64_t, unsigned, uint64_t) { return TS_MEMTX_ERROR; }, 0, 0, 0};
    auto mmio = make_mmio("bad", 0x10, ops, nullptr);
    region_add(*m.system, 0, *mmio);
    uint32_t v = 1;
    EXPECT_EQ(m.as.rw(0, &v, 4, true), TS_MEMTX_ERROR);
    EXPECT_EQ(m.as.rw(0, &v, 4, false), TS_MEMTX_OK);   // no read callback: reads 0
    EXPECT_EQ(v, 0u);
}

namespace {
std::vector<std::string> g_logged;
int g_locks = 0, g_unlocks = 0;
std::vector<std::pair<uint64_t, uint64_t>> g_writes;
}  // namespace

TEST(Access, RomWritesIgnoredAndLoggedLoaderWritesLand) {
    Machine m;
    auto rom = make_rom("mrom", 0x1000);
    region_add(*m.system, 0x1000, *rom);
    set_guest_error_sink([](std::string_view msg) { g_logged.emplace_back(msg); });
    g_logged.clear();
    const std::array<uint8_t, 2> data{0x13, 0x37};
    EXPECT_EQ(m.as.write(0x1010, data), TS_MEMTX_OK);
    EXPECT_EQ(byte_at(m.as, 0x1010), 0);
    ASSERT_EQ(g_logged.size(), 1u);
    EXPECT_THAT(g_logged[0], HasSubstr("mrom"));
    EXPECT_THAT(g_logged[0], HasSubstr("0x1010"));
    EXPECT_EQ(m.as.write(0x1010, data, Access::Loader), TS_MEMTX_OK);
    EXPECT_EQ(byte_at(m.as, 0x1011), 0x37);
    const ts_flat_range r = m.as.lookup(0x1000);
    EXPECT_EQ(r.kind, TS_REGION_ROM);
    EXPECT_FALSE(r.writable);
    set_guest_error_sink(nullptr);
}

TEST(Access, GuestAccessToNothingIsAGuestError) {
    Machine m;
    set_guest_error_sink([](std::string_view msg) { g_logged.emplace_back(msg); });
    g_logged.clear();
    uint32_t v = 0;
    EXPECT_EQ(m.as.rw(0x5000, &v, 4, false), TS_MEMTX_DECODE_ERROR);
    ASSERT_EQ(g_logged.size(), 1u);
    EXPECT_EQ(g_logged[0], "Invalid read at addr 0x5000, size 4, region '(null)', reason: rejected");
    EXPECT_EQ(m.as.rw(0x5000, &v, 4, true, Access::Loader), TS_MEMTX_DECODE_ERROR);
    EXPECT_EQ(g_logged.size(), 1u);  // loaders report their own errors
    set_guest_error_sink(nullptr);
}

TEST(Access, LockHooksAndWriteListeners) {
    Machine m;
    Recorder dev;
    auto mmio = make_mmio("dev", 0x10, dev.ops(1, 8), &dev);
    auto ram = make_ram("ram", 0x1000);
    region_add(*m.system, 0, *mmio);
    region_add(*m.system, 0x1000, *ram);
    set_mmio_lock_hooks([] { ++g_locks; }, [] { ++g_unlocks; });
    auto cb = [](void *, uint64_t gpa, uint64_t len) { g_writes.emplace_back(gpa, len); };
    ram_write_listen(cb, nullptr);
    uint32_t v = 5;
    m.as.rw(0, &v, 4, true);
    EXPECT_EQ(g_locks, 1);
    EXPECT_EQ(g_unlocks, 1);
    m.as.rw(0x1004, &v, 4, true);
    EXPECT_EQ(g_locks, 1);   // RAM needs no lock
    ASSERT_EQ(g_writes.size(), 1u);
    EXPECT_EQ(g_writes[0], (std::pair<uint64_t, uint64_t>{0x1004, 4}));
    ram_write_unlisten(cb, nullptr);
    set_mmio_lock_hooks(nullptr, nullptr);
}

TEST(Threads, ReadersNeverSeeAHalfBuiltView) {
    Machine m;
    auto low = make_ram("low", 0x10000);
    auto high = make_ram("high", 0x10000);
    std::memset(low->backing.data(), 0x11, 0x10000);
    std::memset(high->backing.data(), 0x22, 0x10000);
    region_add(*m.system, 0, *low);
    region_add(*m.system, 0, *high, 1);

    std::atomic<bool> stop{false};
    std::atomic<int> bad{0}, reads{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t)
        readers.emplace_back([&] {
            while (!stop.load()) {
                ++reads;
                const ts_flat_range r = m.as.lookup(0x8000);
                uint8_t b = byte_at(m.as, 0x8000);
                if (r.kind != TS_REGION_RAM || r.length != 0x10000 || (b != 0x11 && b != 0x22))
                    ++bad;
            }
        });
    while (reads.load() < 100)   // let the readers get going
        std::this_thread::yield();
    for (int i = 0; i < 2000; ++i) {
        region_set_enabled(*high, i % 2);
        if (i % 16 == 0)
            std::this_thread::yield();
    }
    stop = true;
    for (auto &t : readers)
        t.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_GT(reads.load(), 100);
}

TEST(HostMemory, AnonymousIsZeroedAndPageRounded) {
    HostMemory mem("ram", 100, backing("", false, true));
    ASSERT_NE(mem.data(), nullptr);
    EXPECT_EQ(mem.size(), 100u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(mem.data()) % HostMemory::page_size(), 0u);
    EXPECT_EQ(mem.data()[99], 0);
    HostMemory moved = std::move(mem);
    EXPECT_EQ(mem.data(), nullptr);
    moved.data()[99] = 1;
}

TEST(HostMemory, FileBackingShareAndMemPathDir) {
    const auto dir = std::filesystem::temp_directory_path() / ("tessera-mem-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string file = (dir / "guest.mem").string();
    {
        HostMemory shared("ram", 8192, backing(file, true));
        shared.data()[4096] = 0x5a;
    }
    EXPECT_EQ(std::filesystem::file_size(file), 8192u);
    {
        HostMemory priv("ram", 8192, backing(file, false));
        EXPECT_EQ(priv.data()[4096], 0x5a);   // sees the file
        priv.data()[4096] = 0;                // but does not change it
    }
    {
        HostMemory again("ram", 8192, backing(file));
        EXPECT_EQ(again.data()[4096], 0x5a);
    }
    {
        HostMemory tmp("ram", 4096, backing(dir.string()));
        tmp.data()[0] = 1;
        size_t entries = 0;
        for ([[maybe_unused]] auto &e : std::filesystem::directory_iterator(dir))
            ++entries;
        EXPECT_EQ(entries, 1u);   // the temporary file is already unlinked
    }
    std::filesystem::remove_all(dir);
    EXPECT_THROW(HostMemory("ram", 4096, backing("/nonexistent/dir/x")), UsageError);
    EXPECT_THROW(HostMemory("ram", 0), UsageError);
}

TEST(Mtree, ReferenceLayout) {
    Machine m;
    auto mrom = make_rom("riscv.virt.mrom", 0xf000);
    auto ram = make_ram("riscv.virt.ram", 0x40000000);
    Recorder dev;
    auto uart = make_mmio("serial", 0x8, dev.ops(1, 1), &dev);
    auto alias = make_alias("ram-alias", *ram, 0x1000, 0x1000);
    region_add(*m.system, 0x80000000, *ram);
    region_add(*m.system, 0x1000, *mrom);
    region_add(*m.system, 0x10000000, *uart);
    region_add(*m.system, 0x20000000, *alias, 2);
    region_set_enabled(*uart, false);
    AddressSpace cpu("cpu-memory-0", *m.system);
    const AddressSpace *spaces[] = {&cpu, &m.as};
    EXPECT_EQ(mtree_text(spaces),
              "address-space: cpu-memory-0\n"
              "address-space: memory\n"
              "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
              "    0000000000001000-000000000000ffff (prio 0, rom): riscv.virt.mrom\n"
              "    0000000010000000-0000000010000007 (prio 0, i/o): serial [disabled]\n"
              "    0000000020000000-0000000020000fff (prio 2, ram): alias ram-alias @riscv.virt.ram "
              "0000000000001000-0000000000001fff\n"
              "    0000000080000000-00000000bfffffff (prio 0, ram): riscv.virt.ram\n"
              "\n"
              "memory-region: riscv.virt.ram\n"
              "  0000000000000000-000000003fffffff (prio 0, ram): riscv.virt.ram\n"
              "\n");
    const std::string flat = mtree_text(spaces, true);
    EXPECT_THAT(flat, HasSubstr("FlatView #0\n AS \"cpu-memory-0\", root: system\n"));
    EXPECT_THAT(flat, HasSubstr("  0000000020000000-0000000020000fff (prio 0, ram): riscv.virt.ram @0000000000001000\n"));
}
