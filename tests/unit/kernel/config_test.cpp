// The command line as the kernel applies it: implemented options, refusals
// of unimplemented ones, -set, -readconfig, program-name targets.
#include "main/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace tessera;

namespace {

Config build(std::vector<std::string> args) {
    args.insert(args.begin(), "tessera");
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    return build_config(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> args) {
    try {
        build(std::move(args));
    } catch (const UsageError &e) {
        return e.what();
    }
    return "";
}

TEST(Config, MachineWithImpliedTypeAndProps) {
    Config c = build({"-machine", "virt,accel=tcg,dumpdtb=x.dtb"});
    EXPECT_EQ(c.machine.get("type"), "virt");
    EXPECT_EQ(c.machine.get("accel"), "tcg");
    EXPECT_EQ(c.machine.get("dumpdtb"), "x.dtb");
    c = build({"-M", "spike"});
    EXPECT_EQ(c.machine.get("type"), "spike");
}

TEST(Config, MemorySizesDefaultToMegabytes) {
    EXPECT_EQ(build({"-m", "512"}).ram_size, 512ull << 20);
    EXPECT_EQ(build({"-m", "1G"}).ram_size, 1ull << 30);
    EXPECT_EQ(build({"-m", "size=2G,slots=2,maxmem=4G"}).maxmem, 4ull << 30);
    EXPECT_NE(error_of({"-m", "lots"}).find("-m lots: Parameter 'size' expects a non-negative size"), std::string::npos);
    EXPECT_NE(error_of({"-m", "0"}).find("cannot be zero"), std::string::npos);
    EXPECT_NE(error_of({"-m", "1G,bogus=1"}).find("Invalid parameter 'bogus'"), std::string::npos);
}

TEST(Config, Smp) {
    Config c = build({"-smp", "4"});
    EXPECT_EQ(c.smp_cpus, 4u);
    c = build({"-smp", "sockets=2,cores=2,threads=1"});
    EXPECT_EQ(c.smp_cpus, 4u);
    EXPECT_NE(error_of({"-smp", "cpus=x"}).find("expects a number"), std::string::npos);
    EXPECT_NE(error_of({"-smp", "4,foo=1"}).find("Invalid parameter 'foo'"), std::string::npos);
}

TEST(Config, UnimplementedOptionsAreRefusedByName) {
    EXPECT_EQ(error_of({"-spice", "port=5900"}), "-spice: option not implemented in tessera yet");
    EXPECT_EQ(error_of({"-incoming", "tcp:0:4444"}), "-incoming: option not implemented in tessera yet");
    EXPECT_EQ(error_of({"-icount", "shift=1,align=on"}), "-icount: option not implemented in tessera yet (align=on)");
    EXPECT_EQ(error_of({"-icount", "11"}), "-icount 11: icount: Invalid shift value");
    EXPECT_EQ(error_of({"-seed", "x"}), "-seed x: Invalid seed number: x");
    EXPECT_EQ(build({"-icount", "auto,sleep=off"}).icount_shift, -1);
    // -plugin is implemented (kernel/instrument): parsed here, loaded at machine start.
    Config p = build({"-plugin", "x.so,a=1", "-plugin", "file=x.so,b=2"});
    ASSERT_EQ(p.plugins.size(), 1u);
    EXPECT_EQ(p.plugins[0].path, "x.so");
    EXPECT_EQ(p.plugins[0].args, (std::vector<std::string>{"a=1", "b=2"}));
    EXPECT_NE(error_of({"-plugin", "a=1"}).find("missing earlier '-plugin file=' option"), std::string::npos);
    EXPECT_NE(error_of({"-mon", "chardev=c,mode=bogus"}).find("does not accept value 'bogus'"), std::string::npos);
}

TEST(Config, UnknownOptionUsesReferenceWording) {
    EXPECT_EQ(error_of({"-frobnicate"}), "-frobnicate: invalid option");
    EXPECT_EQ(error_of({"-m"}), "-m: requires an argument");
}

TEST(Config, HelpRequests) {
    EXPECT_EQ(build({"-machine", "help"}).help_requests, std::vector<std::string>{"machine"});
    EXPECT_EQ(build({"-device", "?"}).help_requests, std::vector<std::string>{"device"});
    EXPECT_EQ(build({"-device", "ns16550a,help"}).help_requests, std::vector<std::string>{"device:ns16550a"});
    EXPECT_EQ(build({"-cpu", "help"}).help_requests, std::vector<std::string>{"cpu"});
    EXPECT_EQ(build({"-d", "help"}).help_requests, std::vector<std::string>{"d"});
}

TEST(Config, DeviceJsonAndKeyval) {
    Config c = build({"-device", "virtio-blk-device,drive=d0,id=blk", "-device",
                      R"({"driver":"virtio-rng-device","id":"rng"})"});
    ASSERT_EQ(c.devices.size(), 2u);
    EXPECT_EQ(c.devices[0].get("drive"), "d0");
    EXPECT_EQ(c.devices[1].get("driver"), "virtio-rng-device");
}

TEST(Config, SetEditsAnEarlierDevice) {
    Config c = build({"-device", "ns16550a,id=u0", "-set", "device.u0.regshift=2"});
    EXPECT_EQ(c.devices[0].get("regshift"), "2");
    EXPECT_NE(error_of({"-set", "device.nope.x=1"}).find("there is no device \"nope\" defined"), std::string::npos);
    EXPECT_NE(error_of({"-set", "garbage"}).find("Invalid -set parameter"), std::string::npos);
}

TEST(Config, ReadconfigBecomesOptions) {
    char path[] = "/tmp/tessera-cfg-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    std::ofstream(path) << "[machine]\n  type = \"spike\"\n[memory]\n  size = \"256M\"\n[device \"u0\"]\n  driver = \"ns16550a\"\n";
    Config c = build({"-readconfig", path});
    std::remove(path);
    EXPECT_EQ(c.machine.get("type"), "spike");
    EXPECT_EQ(c.ram_size, 256ull << 20);
    ASSERT_EQ(c.devices.size(), 1u);
    EXPECT_EQ(c.devices[0].get("id"), "u0");
}

TEST(Config, ProgramNameSelectsTarget) {
    Config c;
    config_target_from_program(c, "/usr/bin/tessera-system-riscv32");
    EXPECT_EQ(c.target, "riscv32");
    EXPECT_EQ(c.default_cpu, "rv32");
    Config d;
    config_target_from_program(d, "tessera");
    EXPECT_EQ(d.target, "riscv64");
}

TEST(Config, ActionAndRtcValidation) {
    EXPECT_EQ(build({"-action", "shutdown=pause"}).actions.get("shutdown"), "pause");
    EXPECT_NE(error_of({"-action", "shutdown=explode"}).find("does not accept value 'explode'"), std::string::npos);
    EXPECT_NE(error_of({"-rtc", "clock=bogus"}).find("does not accept value 'bogus'"), std::string::npos);
    EXPECT_NE(error_of({"-uuid", "nope"}).find("UUID"), std::string::npos);
    EXPECT_NE(error_of({"-display", "gtk"}).find("display 'gtk' is not available"), std::string::npos);
}

TEST(Config, LogItems) {
    EXPECT_NE(build({"-d", "int,guest_errors"}).log_mask, 0u);
    EXPECT_NE(error_of({"-d", "bogus"}).find("unknown log item"), std::string::npos);
}

}  // namespace
