// HMP commands that need a machine: a fake two-CPU target and 64 KiB of RAM.
#include "host/host_table.hpp"
#include "log/log.hpp"
#include "memory/address_space.hpp"
#include "monitor/hmp.hpp"
#include "qom/object.hpp"
#include "vcpu/vcpu.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

using namespace tessera;

namespace {

constexpr uint64_t kRam = 0x80000000, kRamSize = 0x10000;
// The fake MMU maps [kVirt, kVirt + kRamSize) onto RAM.
constexpr uint64_t kVirt = 0x40000000;

struct FakeCpu {
    uint64_t pc;
    int id;
};

uint64_t fake_get_pc(void *c) { return static_cast<FakeCpu *>(c)->pc; }
ts_status fake_translate(void *, uint64_t va, ts_access, uint64_t *pa) {
    if (va < kVirt || va >= kVirt + kRamSize) return TS_ERROR;
    *pa = va - kVirt + kRam;
    return TS_OK;
}
// CPU 1 counts the terminating NUL and leaves out the last newline, as some
// targets do; the monitor must not print either.
size_t fake_dump(void *c, char *buf, size_t len) {
    auto *cpu = static_cast<FakeCpu *>(c);
    int n = std::snprintf(buf, len, cpu->id ? " pc       %016llx" : " pc       %016llx\n",
                          static_cast<unsigned long long>(cpu->pc));
    return static_cast<size_t>(n) + (cpu->id ? 1 : 0);
}
// Compressed (2-byte) when the low bits are not 11, as RISC-V; 0xff.. is invalid.
size_t fake_disas(void *, uint64_t, const uint8_t *b, size_t avail, char *out, size_t outlen) {
    if (b[0] == 0xff) return 0;
    size_t n = (b[0] & 3) == 3 ? 4 : 2;
    if (n > avail) return 0;
    std::snprintf(out, outlen, "op%zu", n);
    return n;
}

ts_cpu_class make_class() {
    ts_cpu_class c{};
    c.size = sizeof c;
    c.target = "fake";
    c.get_pc = fake_get_pc;
    c.translate = fake_translate;
    c.dump_state = fake_dump;
    c.disas = fake_disas;
    return c;
}

class HmpMachine : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        static bool done = false;
        if (done) return;
        done = true;
        static const ts_cpu_class cls = make_class();
        static FakeCpu cpus[2] = {{0x1000, 0}, {0x2000, 1}};
        static ts_object objs[2];
        for (int i = 0; i < 2; i++) {
            objs[i].instance = &cpus[i];
            vcpu_register(&objs[i], &cls);
        }
        static RegionPtr ram = make_ram("test.ram", kRamSize);
        region_add(*host_system_memory(), kRam, *ram);
        const uint8_t bytes[] = {0x97, 0x02, 0x00, 0x00, 0x13, 0x86, 0x82, 0x02,
                                 's', '%', '@', 0xf1, '\n', '\'', 0x01, 0x40};
        host_system_as()->write(kRam, bytes, Access::Loader);
    }
    std::string run(std::string_view line) { return h.execute(line); }
    Hmp h{[](std::string_view) {}};
};

TEST_F(HmpMachine, XpFormatsAndSizes) {
    EXPECT_EQ(run("xp /4xw 0x80000000"), "0000000080000000: 0x00000297 0x02828613 0xf1402573 0x4001270a\n");
    EXPECT_EQ(run("xp /8xb 0x80000000"), "0000000080000000: 0x97 0x02 0x00 0x00 0x13 0x86 0x82 0x02\n");
    EXPECT_EQ(run("xp /3dh 0x80000000"), "0000000080000000:   663     0 34323\n");
    EXPECT_EQ(run("xp /2ug 0x80000000"), "0000000080000000:   180854351210742423  4612010421354767731\n");
    EXPECT_EQ(run("xp /1og 0x80000000"), "0000000080000000:  012024141140000001227\n");
    // 'c' shows bytes; 16 per line when the last size was 8.
    EXPECT_EQ(run("xp /2c 0x80000008"),
              "0000000080000008: 's' '%' '@' '\\xf1' '\\n' '\\'' '\\x01' '@' '\\x00' '\\x00' '\\x00' '\\x00' "
              "'\\x00' '\\x00' '\\x00' '\\x00'\n");
}

TEST_F(HmpMachine, FormatAndSizeAreRemembered) {
    run("xp /2xg 0x80000000");
    EXPECT_EQ(run("xp 0x80000000"), "0000000080000000: 0x0282861300000297\n");
    EXPECT_EQ(run("xp /d 0x80000000"), "0000000080000000:   180854351210742423\n");
    EXPECT_EQ(h.state().fmt, 'd');
    EXPECT_EQ(h.state().size, 8u);
    run("xp /xw 0x80000000");
}

TEST_F(HmpMachine, MultipleLinesAndExpressions) {
    EXPECT_EQ(run("xp /6xw 0x80000000"),
              "0000000080000000: 0x00000297 0x02828613 0xf1402573 0x4001270a\n"
              "0000000080000010: 0x00000000 0x00000000\n");
    EXPECT_EQ(run("xp /1xw 0x80000000+4"), "0000000080000004: 0x02828613\n");
    EXPECT_EQ(run("xp /1xw (0x80000010 - 8)"), "0000000080000008: 0xf1402573\n");
    EXPECT_EQ(run("xp /0x 0x80000000"), "");
}

TEST_F(HmpMachine, VirtualGoesThroughTheCpuMmu) {
    EXPECT_EQ(run("x /2xw 0x40000004"), "0000000040000004: 0x02828613 0xf1402573\n");
    EXPECT_EQ(run("x /4x 0x0"), "0000000000000000: Cannot access memory\n");
    // The second line crosses the end of the mapping.
    EXPECT_EQ(run("x /8xw 0x4000fff0"), "000000004000fff0: 0x00000000 0x00000000 0x00000000 0x00000000\n"
                                        "0000000040010000: Cannot access memory\n");
}

TEST_F(HmpMachine, PhysicalHolesCannotBeAccessed) {
    EXPECT_EQ(run("xp /4xw 0x0"), "0000000000000000: Cannot access memory\n");
    EXPECT_EQ(run("xp /10xw 0xfffffffffffffff8"), "fffffffffffffff8: Cannot access memory\n");
}

TEST_F(HmpMachine, DisassemblesThroughTheCpuClass) {
    EXPECT_EQ(run("xp /2i 0x80000000"), "0x0000000080000000:  00000297          op4\n"
                                        "0x0000000080000004:  02828613          op4\n");
    // 0x270a and 0x4001 are compressed (low bits not 11); 'i' keeps the last unit size.
    EXPECT_EQ(run("x /3i 0x40000008"), "0x0000000040000008:  f1402573          op4\n"
                                       "0x000000004000000c:  270a              op2\n"
                                       "0x000000004000000e:  4001              op2\n");
    EXPECT_EQ(h.state().size, 4u);
    const uint8_t bad[] = {0xff, 0xff, 0xff, 0xff};
    host_system_as()->write(kRam + 0x100, bad, Access::Loader);
    EXPECT_EQ(run("xp /1i 0x80000100"), "0x0000000080000100:  ffff              (bad)\n");
    EXPECT_EQ(run("x /1i 0x0"), "0000000000000000: Cannot access memory\n");
    run("xp /xw 0x80000000");
}

TEST_F(HmpMachine, FormatErrorsAsTheReference) {
    EXPECT_EQ(run("x /z 0x1000"), "invalid char in format: 'z'\nTry \"help x\" for more information\n");
    EXPECT_EQ(run("xp"), "unexpected end of expression\nTry \"help xp\" for more information\n");
    EXPECT_EQ(run("x 0x1000 5"), "x: extraneous characters at the end of line\nTry \"help x\" for more information\n");
    EXPECT_EQ(run("x /2x $pc"), "unknown register\nTry \"help x\" for more information\n");
    EXPECT_EQ(run("x /2x foo"), "invalid char 'f' in expression\nTry \"help x\" for more information\n");
}

TEST_F(HmpMachine, CpuSelectsTheCurrentCpu) {
    EXPECT_EQ(run("info cpus"), "* CPU #0: pc=0x1000 thread_id=0\n  CPU #1: pc=0x2000 thread_id=1\n");
    EXPECT_EQ(run("info registers"), "\nCPU#0\n pc       0000000000001000\n");
    EXPECT_EQ(run("cpu 1"), "");
    EXPECT_EQ(h.state().cpu, 1u);
    EXPECT_EQ(run("info cpus"), "  CPU #0: pc=0x1000 thread_id=0\n* CPU #1: pc=0x2000 thread_id=1\n");
    EXPECT_EQ(run("info registers"), "\nCPU#1\n pc       0000000000002000\n");
    EXPECT_EQ(run("info registers 0"), "\nCPU#0\n pc       0000000000001000\n");
    EXPECT_EQ(run("info registers 7"), "CPU#7 not available\n");
    EXPECT_EQ(run("info registers -a"),
              "\nCPU#0\n pc       0000000000001000\n\nCPU#1\n pc       0000000000002000\n");
    EXPECT_EQ(run("cpu 5"), "invalid CPU index\n");
    EXPECT_EQ(h.state().cpu, 1u);
    EXPECT_EQ(run("cpu"), "unexpected end of expression\nTry \"help cpu\" for more information\n");
    EXPECT_EQ(run("cpu abc"), "invalid char 'a' in expression\nTry \"help cpu\" for more information\n");
    // Another monitor has its own current CPU.
    Hmp other([](std::string_view) {});
    EXPECT_EQ(other.state().cpu, 0u);
}

TEST(HmpCommands, PowerdownEmitsTheEventSilently) {
    std::vector<std::string> events;
    HmpHooks hk;
    hk.emit_event = [&](std::string_view e) { events.emplace_back(e); };
    hmp_set_hooks(hk);
    Hmp h([](std::string_view) {});
    EXPECT_EQ(h.execute("system_powerdown"), "");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], "POWERDOWN");
    hmp_set_hooks({});
}

TEST(HmpCommands, Gdbserver) {
    std::vector<std::string> specs;
    HmpHooks hk;
    hk.gdbserver = [&](std::string_view s) {
        if (s == "bad") throw std::runtime_error("nope");
        specs.emplace_back(s);
    };
    hmp_set_hooks(hk);
    Hmp h([](std::string_view) {});
    EXPECT_EQ(h.execute("gdbserver"), "Waiting for gdb connection on device 'tcp::1234'\n");
    EXPECT_EQ(h.execute("gdbserver tcp::1235"), "Waiting for gdb connection on device 'tcp::1235'\n");
    EXPECT_EQ(h.execute("gdbserver none"), "Disabled gdbserver\n");
    EXPECT_EQ(h.execute("gdbserver bad"), "Could not open gdbserver on device 'bad'\n");
    EXPECT_EQ(specs, (std::vector<std::string>{"tcp::1234", "tcp::1235", "none"}));
    hmp_set_hooks({});
    EXPECT_EQ(h.execute("gdbserver"), "Could not open gdbserver on device 'tcp::1234'\n");
}

TEST(HmpCommands, LogAndLogfile) {
    Hmp h([](std::string_view) {});
    EXPECT_EQ(h.execute("log in_asm,int"), "");
    EXPECT_EQ(g_log_mask, parse_log_items("in_asm,int"));
    std::string bad = h.execute("log foo");
    EXPECT_EQ(bad.rfind("Log items (comma separated):\nnone ", 0), 0u) << bad;
    EXPECT_NE(bad.find("Use \"log trace:help\""), std::string::npos);
    EXPECT_EQ(g_log_mask, parse_log_items("in_asm,int"));  // unchanged
    EXPECT_EQ(h.execute("log none"), "");
    EXPECT_EQ(g_log_mask, 0u);
    EXPECT_EQ(h.execute("log"), "log: string expected\nTry \"help log\" for more information\n");
    EXPECT_EQ(h.execute("logfile"), "logfile: filename expected\nTry \"help logfile\" for more information\n");

    std::string path = ::testing::TempDir() + "hmp_logfile_test.log";
    EXPECT_EQ(h.execute("logfile " + path), "");
    EXPECT_EQ(h.execute("log int"), "");
    log_printf(g_log_mask, "hello log\n");
    set_log_file("");  // closes (flushes) it
    g_log_mask = 0;
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    EXPECT_EQ(line, "hello log");
    std::remove(path.c_str());
    EXPECT_EQ(h.execute("logfile /nonexistent/dir/x.log"), "could not open log file '/nonexistent/dir/x.log'\n");
}

TEST(HmpCommands, InfoOneLiners) {
    HmpHooks hk;
    hk.name = "vm1";
    hk.uuid = "12345678-1234-1234-1234-123456789abc";
    hmp_set_hooks(hk);
    Hmp h([](std::string_view) {});
    EXPECT_EQ(h.execute("info name"), "vm1\n");
    EXPECT_EQ(h.execute("info uuid"), "12345678-1234-1234-1234-123456789abc\n");
    hmp_set_hooks({});
    EXPECT_EQ(h.execute("info name"), "");
    EXPECT_EQ(h.execute("info uuid"), "00000000-0000-0000-0000-000000000000\n");
    EXPECT_EQ(h.execute("info kvm"), "kvm support: disabled\n");
    EXPECT_EQ(h.execute("info tlb"), "info tlb is not available for this CPU\n");
    EXPECT_EQ(h.execute("info network"), "");
}

TEST(HmpCommands, HelpForOneCommand) {
    Hmp h([](std::string_view) {});
    EXPECT_EQ(h.execute("help x"), "x /fmt addr -- virtual memory dump starting at 'addr'\n");
    EXPECT_EQ(h.execute("help xp"), "xp /fmt addr -- physical memory dump starting at 'addr'\n");
    EXPECT_EQ(h.execute("help cpu"), "cpu index -- set the default CPU\n");
    EXPECT_EQ(h.execute("help q"), "quit|q  -- quit the emulator\n");
    EXPECT_EQ(h.execute("help system_powerdown"), "system_powerdown  -- send system power down event\n");
    EXPECT_EQ(h.execute("help info name"), "info name  -- show the current VM name\n");
    EXPECT_NE(h.execute("help info").find("info kvm  -- show KVM information\n"), std::string::npos);
    EXPECT_EQ(h.execute("help frob"), "unknown command: 'frob'\n");
    EXPECT_EQ(h.execute("help log").rfind("Log items", 0), 0u);
    std::string all = h.execute("help");
    for (auto *c : {"gdbserver [device]", "logfile filename", "system_powerdown", "x /fmt addr", "cpu index"})
        EXPECT_NE(all.find(c), std::string::npos) << c;
}

}  // namespace

namespace {

// Snapshot commands on a machine without disks: the reference's words.
TEST(HmpCommands, SnapshotsNeedADisk) {
    Hmp h([](std::string_view) {});
    EXPECT_EQ(h.execute("savevm"), "Error: no block device can store vmstate for snapshot\n");
    EXPECT_EQ(h.execute("savevm s1"), "Error: no block device can store vmstate for snapshot\n");
    EXPECT_EQ(h.execute("loadvm s1"), "Error: no block device can store vmstate for snapshot\n");
    EXPECT_EQ(h.execute("info snapshots"), "no block device can store vmstate for snapshot\n");
    EXPECT_EQ(h.execute("delvm s1"), "");
    EXPECT_EQ(h.execute("loadvm"), "loadvm: string expected\nTry \"help loadvm\" for more information\n");
    EXPECT_NE(h.execute("help").find("savevm tag -- save a VM snapshot"), std::string::npos);
}

}  // namespace
