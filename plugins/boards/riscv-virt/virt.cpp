// The riscv `virt` board: what sits where, how it is wired, and how the
// machine boots (reset ROM -> firmware -> kernel), as the reference does.
#include "virt.hpp"

#include "memmap.hpp"
#include "platform_bus.hpp"

#include <tessera/sdk/riscv_boot.hpp>
#include <tessera/sdk/riscv_cpu.h>

#include <cstddef>
#include <memory>

namespace virt {

namespace {

using ts::host;

void check(ts_status s, const ts_error &err) {
    if (s != TS_OK) throw ts::Error(err.message);
}

// Creates, configures, realizes and maps a board device.
ts_object *add_device(Machine &m, const char *type, std::initializer_list<std::pair<const char *, std::string>> props,
                      const Window &at) {
    const auto &h = host();
    ts_error err{};
    ts_object *d = h.object_new(m.obj, type, nullptr, &err);
    if (!d) throw ts::Error(std::string("virt: ") + err.message);
    for (auto &[k, v] : props) check(h.prop_set(d, k, v.c_str(), &err), err);
    check(h.object_realize(d, &err), err);
    h.region_add(h.system_memory(), at.base, h.device_region(d, 0), 0);
    return d;
}

void wire(ts_object *src, const char *out, int n, ts_object *dst, const char *in, int dn) {
    ts_error err{};
    check(host().gpio_connect(src, out, n, dst, in, dn, &err), err);
}

// Whether an optional device's plugin is installed (kernels before ABI 1.1
// cannot tell: assume it is).
bool type_available(const char *type) {
    const auto &h = host();
    return h.size < offsetof(ts_host, type_available) + sizeof(h.type_available) || h.type_available(type);
}

std::string hart_config(unsigned n) {
    std::string s;
    for (unsigned i = 0; i < n; i++) s += i ? ",MS" : "MS";
    return s;
}

}  // namespace

void build(Machine &m) {
    const auto &h = host();
    ts_error err{};
    m.ram_size = std::stoull(ts::riscv::cfg("ram-size"));
    const unsigned ncpus = static_cast<unsigned>(std::stoul(ts::riscv::cfg("smp.cpus")));
    ts_region *sysmem = h.system_memory();
    h.region_add(sysmem, kDramBase, h.machine_ram(), 0);
    ts_region *mrom = h.region_rom(m.obj, "riscv_virt_board.mrom", kMrom.size, &err);
    if (!mrom) throw ts::Error(err.message);
    h.region_add(sysmem, kMrom.base, mrom, 0);

    for (unsigned i = 0; i < ncpus; i++) {
        ts_object *cpu = h.cpu_new(i, &err);
        if (!cpu) throw ts::Error(err.message);
        check(h.prop_set(cpu, "resetvec", std::to_string(kMrom.base).c_str(), &err), err);
        check(h.object_realize(cpu, &err), err);
        auto *info = static_cast<const ts_riscv_info_v1 *>(h.cpu_get_capability(cpu, TS_RISCV_INFO_V1));
        if (!info) throw ts::Error("virt: CPU model '" + std::string(h.object_type(cpu)) + "' is not a RISC-V CPU");
        m.xlen = info->xlen(h.object_instance(cpu));
        m.cpus.push_back(cpu);
    }

    const std::string harts = std::to_string(ncpus);
    m.clint = add_device(m, "riscv.sifive.clint", {{"num-harts", harts}, {"timebase-frequency", std::to_string(kTimebase)}},
                         kClint);
    m.plic = add_device(m, "riscv.sifive.plic",
                        {{"num-sources", std::to_string(kPlicSources)},
                         {"num-priorities", std::to_string(kPlicPriorities)},
                         {"hart-config", hart_config(ncpus)},
                         {"aperture-size", std::to_string(kPlic.size)}},
                        kPlic);
    for (unsigned i = 0; i < ncpus; i++) {
        wire(m.clint, "msip", int(i), m.cpus[i], TS_RISCV_CPU_IRQ_GROUP, kMsip);
        wire(m.clint, "mtip", int(i), m.cpus[i], TS_RISCV_CPU_IRQ_GROUP, kMtip);
        wire(m.plic, "ctx", int(2 * i), m.cpus[i], TS_RISCV_CPU_IRQ_GROUP, kMeip);
        wire(m.plic, "ctx", int(2 * i + 1), m.cpus[i], TS_RISCV_CPU_IRQ_GROUP, kSeip);
    }
    m.uart = add_device(m, "ns16550a", {{"index", "0"}}, kUart0);
    wire(m.uart, "irq", 0, m.plic, "irq", kUart0Irq);
    m.test = add_device(m, "riscv.sifive.test", {}, kTest);
    m.rtc = add_device(m, "goldfish_rtc", {}, kRtc);
    wire(m.rtc, "irq", 0, m.plic, "irq", kRtcIrq);
    m.gpio = add_device(m, "sifive.gpio", {{"ngpio", std::to_string(kGpioPins)}}, kGpio);
    for (unsigned i = 0; i < kGpioPins; i++) wire(m.gpio, "irq", int(i), m.plic, "irq", int(kGpioIrq + i));
    m.power_button = ts::gpio_out(m.obj, "power-button", 1).at(0);
    wire(m.obj, "power-button", 0, m.gpio, "in", kPowerButtonPin);
    m.power_release = ts::Timer::make<&Machine::release_power_button>(TS_CLOCK_VIRTUAL, &m);
    platform_bus_create(m.obj, m.plic, kPlatformBus.base, kPlatformBus.size, kPlatformBusIrq, kPlatformBusIrqs);
    // The reference creates the transports last-to-first so that the first
    // -device lands on the highest address, which Linux probes first. Without
    // device-virtio installed there are none (PACKAGING.md); a virtio -device
    // then names the missing plugin.
    if (type_available("virtio-mmio")) m.virtio.resize(kVirtioCount);
    for (int i = int(m.virtio.size()) - 1; i >= 0; i--) {
        Window w{kVirtio.base + uint64_t(i) * kVirtio.size, kVirtio.size};
        m.virtio[size_t(i)] = add_device(m, "virtio-mmio", {}, w);
        wire(m.virtio[size_t(i)], "irq", 0, m.plic, "irq", int(kVirtioIrq) + i);
    }
    // PCIe: the generic ECAM host bridge; its four INTx lines go to the PLIC.
    // Without device-pci installed the machine has no PCI (and no DT node).
    if (type_available("gpex-pcihost")) {
        if (m.xlen == 64) {
            const uint64_t top = kDramBase + m.ram_size;
            m.pcie_high = {(top + kPcieMmioHighSize - 1) / kPcieMmioHighSize * kPcieMmioHighSize, kPcieMmioHighSize};
        }
        m.pcie = add_device(m, "gpex-pcihost",
                            {{"ecam-size", std::to_string(kPcieEcam.size)},
                             {"mmio32-base", std::to_string(kPcieMmio.base)},
                             {"mmio32-size", std::to_string(kPcieMmio.size)},
                             {"mmio64-base", std::to_string(m.pcie_high.base)},
                             {"mmio64-size", std::to_string(m.pcie_high.size)},
                             {"pio-base", std::to_string(kPciePio.base)}, {"pio-size", std::to_string(kPciePio.size)}},
                            kPcieEcam);
        for (int i = 0; i < 4; i++) wire(m.pcie, "irq", i, m.plic, "irq", int(kPcieIrq) + i);
    }

    // Firmware at the start of RAM, the kernel above it, then initrd and DTB.
    const std::string bios = ts::riscv::cfg("bios"), kernel = ts::riscv::cfg("kernel"),
                      initrd = ts::riscv::cfg("initrd");
    uint64_t fw_entry = kDramBase, fw_end = kDramBase;
    const bool have_fw = ts::riscv::load_firmware(
        bios,
        {m.xlen == 32 ? "opensbi-riscv32-generic-fw_dynamic.bin" : "opensbi-riscv64-generic-fw_dynamic.bin",
         "fw_dynamic.bin"},
        kDramBase, m.ram_size, fw_entry, fw_end);
    ts::riscv::FwDynamicInfo fw;
    uint64_t kernel_entry = 0;
    if (!kernel.empty()) {
        const uint64_t align = m.xlen == 32 ? 0x400000 : 0x200000;
        uint64_t kstart = have_fw ? (fw_end + align - 1) & ~(align - 1) : kDramBase;
        if (kstart >= kDramBase + m.ram_size) throw ts::Error("not enough memory for the kernel");
        uint64_t kend = 0;
        kernel_entry = ts::riscv::load_kernel(kernel, kstart, kDramBase + m.ram_size - kstart, kend);
        fw.next_addr = kernel_entry;
    } else if (!initrd.empty()) {
        throw ts::Error("-initrd needs -kernel");
    }
    // -dtb replaces the generated tree; /chosen still gets -append and the
    // initrd, as the reference does.
    const std::string dtb = ts::riscv::cfg("dtb"), append = ts::riscv::cfg("append");
    if (dtb.empty()) {
        build_fdt(m, append);
    } else {
        check(h.fdt_load(dtb.c_str(), &err), err);
        h.fdt_add_node("/chosen");  // fails harmlessly when it exists
        if (!append.empty()) h.fdt_set_prop_str("/chosen", "bootargs", append.c_str());
    }
    if (!initrd.empty()) {
        auto [start, end] = ts::riscv::load_initrd(initrd, kernel_entry, kDramBase, m.ram_size);
        const uint32_t s[] = {uint32_t(start >> 32), uint32_t(start)}, e[] = {uint32_t(end >> 32), uint32_t(end)};
        h.fdt_set_prop_cells("/chosen", "linux,initrd-start", s, 2);
        h.fdt_set_prop_cells("/chosen", "linux,initrd-end", e, 2);
    }
    size_t fdt_size = 0;
    const void *blob = h.fdt_blob(&fdt_size);
    const uint64_t fdt_addr = ts::riscv::fdt_address(kDramBase, m.ram_size, fdt_size);
    check(h.rom_add("fdt", blob, fdt_size, fdt_addr, &err), err);
    ts::riscv::write_reset_rom(kMrom.base, kMrom.size, m.xlen, kDramBase, fdt_addr, fw);
}

// system_powerdown: the button is held for a while, then released, as a
// person would press it (the reference's arm virt pulses its gpio-key).
void Machine::press_power_button() {
    power_button.raise();
    power_release.mod(power_release.now() + kPowerButtonHoldNs);
}

namespace {

const ts_prop_decl kProps[] = {
    {sizeof(ts_prop_decl), "dumpdtb", TS_PROP_STRING, nullptr, 0, 0, nullptr, nullptr,
     "write the generated device tree to FILE and exit"},
};

void *create(ts_object *obj, ts_error *) {
    auto m = std::make_unique<Machine>();
    m->obj = obj;
    return m.release();  // owned by the object until destroy
}
void destroy(void *self) { std::unique_ptr<Machine>(static_cast<Machine *>(self)); }
ts_status init(void *self, ts_error *err) {
    return ts::guarded(err, [&] { build(*static_cast<Machine *>(self)); });
}
void powerdown(void *self) {
    ts_error err{};
    if (ts::guarded(&err, [&] { static_cast<Machine *>(self)->press_power_button(); }) != TS_OK)
        ts::guest_error("virt: power button: %s", err.message);
}

const ts_board_class kVirt = {
    sizeof(ts_board_class),
    {sizeof(ts_object_class), kProps, 1, TS_STATE_NONE, create, nullptr, nullptr, destroy, nullptr},
    "RISC-V VirtIO board", "rv64", 128ull << 20, kMaxCpus, 0, nullptr, init, powerdown,
};

constexpr ts::ClassEntry kClasses[] = {{"virt", &kVirt}, {PlatformBus::type_name, &kPlatformBusClass}};
const void *get_class(const char *name) { return ts::find_class(kClasses, name); }

}  // namespace
}  // namespace virt

TESSERA_PLUGIN("board-riscv-virt", "0.1.0",
               "type board virt - - RISC-V VirtIO board\n"
               "type device platform-bus-device - board window for user-created MMIO devices (-device T,addr=)\n",
               virt::get_class);
