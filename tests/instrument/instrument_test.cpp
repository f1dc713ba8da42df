// -plugin end to end: tessera runs deterministic bare-metal guests
// (tests/guests/instrument/loop.S) with instrumentation plugins; the counts
// must match what the guest's shape implies and be identical between runs.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>

namespace {

std::string env(const char *name) {
    const char *v = std::getenv(name);
    return v ? v : "";
}

struct Result {
    int status;
    std::string out;   // stdout and stderr
};

Result run(const std::string &cmd) {
    Result r{-1, {}};
    FILE *p = popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

std::string plugin(const std::string &name) { return env("INSTR_PLUGINS") + "/lib" + name + ".so"; }

// tessera on the spike board with the guest and the -plugin arguments.
Result guest(const std::string &elf, const std::string &plugins) {
    return run("timeout 60 " + env("TESSERA") + " -M spike -nographic -bios none -kernel " + elf + " " + plugins +
               " -d plugin");
}

uint64_t number_after(const std::string &text, const std::string &label) {
    std::smatch m;
    std::regex re(label + "\\s*([0-9]+)");
    if (!std::regex_search(text, m, re)) {
        ADD_FAILURE() << "no '" << label << "' in output:\n" << text;
        return 0;
    }
    return std::stoull(m[1]);
}

// Builds a plugin from C source as a third party would; returns its path.
std::string build_plugin(const std::string &name, const std::string &source_or_file, bool is_file) {
    const std::string dir = env("WORKDIR");
    std::string src = source_or_file;
    if (!is_file) {
        src = dir + "/" + name + ".c";
        FILE *f = std::fopen(src.c_str(), "w");
        std::fputs(source_or_file.c_str(), f);
        std::fclose(f);
    }
    const std::string out = dir + "/lib" + name + ".so";
    Result r = run("cc -shared -fPIC -o " + out + " $(pkg-config --cflags glib-2.0) -I" + env("API_INC") + " " + src);
    EXPECT_EQ(r.status, 0) << r.out;
    return out;
}

constexpr uint64_t kInsns100 = 4 * 100 + 8, kInsns1000 = 4 * 1000 + 8;   // from _start on (loop.S)

TEST(Instrument, InsnCountMatchesTheGuest) {
    Result a = guest(env("GUEST100"), "-plugin " + plugin("insn"));
    Result b = guest(env("GUEST1000"), "-plugin file=" + plugin("insn") + ",inline=on");
    ASSERT_EQ(a.status, 0) << a.out;
    ASSERT_EQ(b.status, 0) << b.out;
    const uint64_t t100 = number_after(a.out, "total insns:"), t1000 = number_after(b.out, "total insns:");
    // Both runs include the same few reset-ROM instructions before _start.
    ASSERT_GT(t100, kInsns100);
    const uint64_t rom = t100 - kInsns100;
    EXPECT_LT(rom, 16u);
    EXPECT_EQ(t1000, rom + kInsns1000);
    EXPECT_EQ(number_after(a.out, "cpu 0 insns:"), t100);
}

TEST(Instrument, CountsAreIdenticalBetweenRuns) {
    const std::string plugins = "-plugin " + plugin("insn") + " -plugin " + plugin("bb") + " -plugin " +
                                plugin("mem") + " -plugin " + plugin("hotblocks");
    Result a = guest(env("GUEST1000"), plugins);
    Result b = guest(env("GUEST1000"), plugins);
    ASSERT_EQ(a.status, 0) << a.out;
    EXPECT_EQ(a.out, b.out);
    // With the JIT selected (the default) or the interpreter: the same counts
    // (instrumented code always runs through the instrumented loop).
    Result jit = guest(env("GUEST1000"), "-accel tcg,jit=on " + plugins);
    Result interp = guest(env("GUEST1000"), "-accel tcg,jit=off " + plugins);
    EXPECT_EQ(jit.out, a.out);
    EXPECT_EQ(interp.out, a.out);
}

TEST(Instrument, BlockAndMemoryCounts) {
    Result a = guest(env("GUEST100"), "-plugin " + plugin("bb") + " -plugin " + plugin("mem"));
    Result b = guest(env("GUEST1000"), "-plugin " + plugin("bb") + ",inline=on -plugin " + plugin("mem") + ",inline=on");
    ASSERT_EQ(a.status, 0) << a.out;
    ASSERT_EQ(b.status, 0) << b.out;
    // One block per extra iteration, two accesses per iteration (loop.S).
    EXPECT_EQ(number_after(b.out, "bb's:") - number_after(a.out, "bb's:"), 900u);
    EXPECT_EQ(number_after(b.out, "mem accesses:") - number_after(a.out, "mem accesses:"), 1800u);
    EXPECT_EQ(number_after(b.out, "insns:") - number_after(a.out, "insns:"), kInsns1000 - kInsns100);
}

TEST(Instrument, HotblocksHowvecExeclog) {
    Result r = guest(env("GUEST1000"), "-plugin " + plugin("hotblocks") + ",limit=1 -plugin " + plugin("howvec") +
                                        " -plugin " + plugin("execlog") + ",afilter=0x8000001c");
    ASSERT_EQ(r.status, 0) << r.out;
    // The loop body: 4 instructions at 0x8000000c, entered 999 times (the first pass is in the entry block).
    EXPECT_NE(r.out.find("0x000000008000000c, 1, 4, 999\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(1000 hits)"), std::string::npos) << r.out;   // 1000 branches
    EXPECT_NE(r.out.find("0, 0x8000001c, 0x00001317, \"auipc t1,1\"\n"), std::string::npos) << r.out;
}

TEST(Instrument, ThirdPartyPluginSeesTheWholeApi) {
    const std::string lib = build_plugin("probe", env("PROBE_SRC"), true);
    Result r = guest(env("GUEST100"), "-plugin " + lib + ",from=0x80000000,stop=0x8000001c");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("install: target=riscv64 min=2 cur=5 system=1 smp=1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("probe: vcpus=1 inits=1 insns=408 inline=408 blocks=101 cond=1 last_tb=0x8000001c "
                         "loads=100 stores=101 signed=100 load_sum=4950"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("pc=0x8000001c t0=0 wrote=8 t2=0x1234 read=1 code=00001317 xlate=1 pa=0x8000001c"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("disas at done: auipc t1,1 (size 4, copied 4, symbol done)"), std::string::npos) << r.out;
}

TEST(Instrument, VersionChecksUseTheReferenceWording) {
    const std::string body =
        "QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *i, int c, char **v)"
        "{ return 0; }\n";
    const std::string newer = build_plugin("v6", "#include <qemu-plugin.h>\nQEMU_PLUGIN_EXPORT int qemu_plugin_version = 6;\n" + body, false);
    const std::string older = build_plugin("v1", "#include <qemu-plugin.h>\nQEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;\n" + body, false);
    const std::string none = build_plugin("nover", "#include <qemu-plugin.h>\n" + body, false);
    Result a = guest(env("GUEST100"), "-plugin " + newer);
    EXPECT_EQ(a.status, 1);
    EXPECT_NE(a.out.find("Could not load plugin " + newer +
                         ": plugin requires API version 6, but this QEMU supports only up to version 5\n"),
              std::string::npos)
        << a.out;
    Result b = guest(env("GUEST100"), "-plugin " + older);
    EXPECT_EQ(b.status, 1);
    EXPECT_NE(b.out.find("Could not load plugin " + older +
                         ": plugin requires API version 1, but this QEMU supports only a minimum version of 2\n"),
              std::string::npos)
        << b.out;
    Result c = guest(env("GUEST100"), "-plugin " + none);
    EXPECT_EQ(c.status, 1);
    EXPECT_NE(c.out.find("Could not load plugin " + none + ": plugin does not declare API version "),
              std::string::npos)
        << c.out;
    // A version-5 plugin with the same body loads and the guest runs to its exit.
    const std::string ok = build_plugin("v5", "#include <qemu-plugin.h>\nQEMU_PLUGIN_EXPORT int qemu_plugin_version = 5;\n" + body, false);
    EXPECT_EQ(guest(env("GUEST100"), "-plugin " + ok).status, 0);
}

TEST(Instrument, OptionErrors) {
    const std::string lib = build_plugin("probe", env("PROBE_SRC"), true);
    Result a = guest(env("GUEST100"), "-plugin " + lib + ",fail=on");
    EXPECT_EQ(a.status, 1);
    EXPECT_NE(a.out.find("Could not load plugin " + lib + ": qemu_plugin_install returned error code 7"),
              std::string::npos)
        << a.out;
    Result b = guest(env("GUEST100"), "-plugin file=");
    EXPECT_EQ(b.status, 1);
    EXPECT_NE(b.out.find("requires a non-empty argument"), std::string::npos) << b.out;
    Result c = guest(env("GUEST100"), "-plugin /nonexistent/libx.so");
    EXPECT_EQ(c.status, 1);
    EXPECT_NE(c.out.find("Could not load plugin /nonexistent/libx.so: "), std::string::npos) << c.out;
    Result d = run(env("TESSERA") + " -plugin help");
    EXPECT_EQ(d.status, 0);
    EXPECT_EQ(d.out, "Plugin options\n  file=<path/to/plugin.so>\n  plugin specific arguments\n");
    Result e = guest(env("GUEST100"), "-plugin " + plugin("insn") + ",bogus=1");
    EXPECT_EQ(e.status, 1) << e.out;
    // The same file twice is one plugin with both argument lists; the old
    // arg=NAME=VALUE spelling still works, with the reference's warning.
    Result f = guest(env("GUEST100"), "-plugin " + lib + ",from=0x80000000 -plugin file=" + lib + ",arg=stop=0x8000001c");
    EXPECT_EQ(f.status, 0) << f.out;
    EXPECT_NE(f.out.find("warning: using 'arg=stop=0x8000001c' is deprecated\nPlease use 'stop=0x8000001c' directly\n"),
              std::string::npos)
        << f.out;
    size_t first = f.out.find("install: "), second = f.out.find("install: ", first + 1);
    EXPECT_NE(first, std::string::npos);
    EXPECT_EQ(second, std::string::npos) << f.out;
    EXPECT_NE(f.out.find("insns=408 "), std::string::npos) << f.out;
    EXPECT_NE(f.out.find("pc=0x8000001c t0=0"), std::string::npos) << f.out;
}

TEST(Instrument, OutputNeedsDPlugin) {
    // As in the reference, qemu_plugin_outs writes through the log: nothing without -d plugin.
    Result r = run("timeout 60 " + env("TESSERA") + " -M spike -nographic -bios none -kernel " + env("GUEST100") +
                " -plugin " + plugin("insn"));
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out.find("total insns"), std::string::npos) << r.out;
}

}  // namespace

namespace {

TEST(Instrument, ExecutableExportsOnlyThePluginApi) {
    // Device plugins must not link against kernel internals: the executable's
    // dynamic symbol table holds the qemu_plugin_* API and nothing else of ours.
    Result r = run("nm -D --defined-only " + env("TESSERA"));
    ASSERT_EQ(r.status, 0) << r.out;
    int api = 0;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        std::string name = line.substr(line.rfind(' ') + 1);
        if (name.rfind("qemu_plugin_", 0) == 0) ++api;
        else if (line.find(" T ") != std::string::npos) ADD_FAILURE() << "exported: " << name;
    }
    EXPECT_GE(api, 60);
}

}  // namespace

namespace {

TEST(Instrument, CountsAgreeWithTheReference) {
    // The installed reference (QEMU 7.2, API v1) counts the same guest with a
    // v1 plugin. Blocks agree exactly; the reference's HTIF ends the process
    // inside the exit store, so it never runs the WFI after it: one instruction fewer.
    if (run("command -v qemu-system-riscv64").status != 0) GTEST_SKIP() << "reference not installed";
    const std::string dir = env("WORKDIR");
    const std::string src = env("PROBE_SRC").substr(0, env("PROBE_SRC").rfind('/')) + "/refcount_v1.c";
    Result b = run("cc -shared -fPIC -o " + dir + "/librefcount.so " + src);
    ASSERT_EQ(b.status, 0) << b.out;
    for (const char *g : {"GUEST100", "GUEST1000"}) {
        Result ref = run("timeout 60 qemu-system-riscv64 -M spike -nographic -bios none -kernel " + env(g) +
                         " -plugin " + dir + "/librefcount.so");
        Result ours = guest(env(g), "-plugin " + plugin("bb"));
        ASSERT_EQ(ours.status, 0) << ours.out;
        EXPECT_EQ(number_after(ours.out, "bb's:"), number_after(ref.out, "bbs:")) << ref.out;
        EXPECT_EQ(number_after(ours.out, "insns:"), number_after(ref.out, "ref insns:") + 1) << ref.out;
    }
}

}  // namespace

namespace {

TEST(Instrument, DiscontinuitiesAndIdle) {
    const std::string lib = build_plugin("probe", env("PROBE_SRC"), true);
    // trap.S: three ecalls at 0x8000000c.. to the handler at 0x80000068, then WFI.
    Result r = guest(env("GUEST_TRAP"), "-plugin " + lib + ",from=0x80000000");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("events: idle=1 resume=1 exceptions=3 first=0x8000000c->0x80000068 interrupts=0"),
              std::string::npos)
        << r.out;
    // bb's idle=on also prints when the vCPU idles (in the timer WFI), besides at exit.
    Result b = guest(env("GUEST_TRAP"), "-plugin " + plugin("bb") + ",idle=on");
    ASSERT_EQ(b.status, 0) << b.out;
    const size_t first = b.out.find("CPU0: bb's: ");
    ASSERT_NE(first, std::string::npos) << b.out;
    EXPECT_NE(b.out.find("CPU0: bb's: ", first + 1), std::string::npos) << b.out;
}

}  // namespace

