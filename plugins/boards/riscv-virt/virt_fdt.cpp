// The virt board's device tree, generated from the instantiated machine with
// the node names and compatible strings Linux, OpenSBI and U-Boot match.
#include "virt.hpp"

#include "memmap.hpp"

#include <tessera/sdk/riscv_boot.hpp>
#include <tessera/sdk/riscv_cpu.h>

#include <sys/random.h>

#include <vector>

namespace virt {

namespace {

using ts::host;
using ts::riscv::hex;

struct Node {
    std::string path;
    explicit Node(std::string p) : path(std::move(p)) { host().fdt_add_node(path.c_str()); }
    const Node &str(const char *name, const std::string &v) const {
        host().fdt_set_prop_str(path.c_str(), name, v.c_str());
        return *this;
    }
    // A string list ("a\0b\0").
    const Node &strs(const char *name, std::initializer_list<const char *> vs) const {
        std::string buf;
        for (const char *v : vs) buf.append(v).push_back('\0');
        host().fdt_set_prop(path.c_str(), name, buf.data(), buf.size());
        return *this;
    }
    const Node &cells(const char *name, const std::vector<uint32_t> &v) const {
        host().fdt_set_prop_cells(path.c_str(), name, v.data(), v.size());
        return *this;
    }
    const Node &empty(const char *name) const {
        host().fdt_set_prop(path.c_str(), name, nullptr, 0);
        return *this;
    }
    const Node &reg(const Window &w) const {
        return cells("reg", {uint32_t(w.base >> 32), uint32_t(w.base), uint32_t(w.size >> 32), uint32_t(w.size)});
    }
    uint32_t phandle() const { return host().fdt_phandle(path.c_str()); }
};

Node soc_node(const char *name, const Window &w) { return Node("/soc/" + std::string(name) + "@" + hex(w.base)); }

}  // namespace

void build_fdt(const Machine &m, const std::string &bootargs) {
    const auto &h = host();
    ts_error err{};
    if (h.fdt_create(&err) != TS_OK) throw ts::Error(err.message);
    Node root("/");
    root.cells("#address-cells", {2}).cells("#size-cells", {2}).str("compatible", "riscv-virtio").str(
        "model", "riscv-virtio,qemu");

    Node cpus("/cpus");
    cpus.cells("#address-cells", {1}).cells("#size-cells", {0}).cells("timebase-frequency", {uint32_t(kTimebase)});
    std::vector<uint32_t> intc;  // per hart: the cpu-intc phandle
    for (size_t i = 0; i < m.cpus.size(); i++) {
        Node cpu("/cpus/cpu@" + std::to_string(i));
        auto *info = static_cast<const ts_riscv_info_v1 *>(h.cpu_get_capability(m.cpus[i], TS_RISCV_INFO_V1));
        void *inst = h.object_instance(m.cpus[i]);
        cpu.str("device_type", "cpu").cells("reg", {uint32_t(info->hart_id(inst))}).str("status", "okay").str(
            "compatible", "riscv");
        const std::string isa = info->isa_string(inst);
        cpu.str("riscv,isa", isa);
        // Linux ignores Zicbom/Zicboz without the cache-block size.
        if (isa.find("_zicbom") != std::string::npos) cpu.cells("riscv,cbom-block-size", {kCacheBlock});
        if (isa.find("_zicboz") != std::string::npos) cpu.cells("riscv,cboz-block-size", {kCacheBlock});
        if (const char *mmu = info->mmu_type(inst)) cpu.str("mmu-type", mmu);
        Node ic(cpu.path + "/interrupt-controller");
        ic.cells("#interrupt-cells", {1}).empty("interrupt-controller").str("compatible", "riscv,cpu-intc");
        intc.push_back(ic.phandle());
    }
    Node map("/cpus/cpu-map");
    Node cluster("/cpus/cpu-map/cluster0");
    for (size_t i = 0; i < m.cpus.size(); i++)
        Node("/cpus/cpu-map/cluster0/core" + std::to_string(i))
            .cells("cpu", {h.fdt_phandle(("/cpus/cpu@" + std::to_string(i)).c_str())});

    Node mem("/memory@" + hex(kDramBase));
    mem.str("device_type", "memory").reg({kDramBase, m.ram_size});

    Node soc("/soc");
    soc.cells("#address-cells", {2}).cells("#size-cells", {2}).str("compatible", "simple-bus").empty("ranges");

    std::vector<uint32_t> clint_irqs, plic_irqs;
    for (uint32_t ph : intc) {
        clint_irqs.insert(clint_irqs.end(), {ph, kMsip, ph, kMtip});
        plic_irqs.insert(plic_irqs.end(), {ph, kMeip, ph, kSeip});
    }
    soc_node("clint", kClint).strs("compatible", {"sifive,clint0", "riscv,clint0"}).reg(kClint).cells(
        "interrupts-extended", clint_irqs);
    Node plic = soc_node("plic", kPlic);
    plic.cells("#interrupt-cells", {1}).cells("#address-cells", {0})
        .strs("compatible", {"sifive,plic-1.0.0", "riscv,plic0"})
        .empty("interrupt-controller")
        .cells("interrupts-extended", plic_irqs)
        .reg(kPlic)
        .cells("riscv,ndev", {kPlicSources});
    const uint32_t plic_ph = plic.phandle();
    // The platform bus window (platform_bus.hpp), advertised as the reference does.
    Node("/platform-bus@" + hex(kPlatformBus.base))
        .cells("interrupt-parent", {plic_ph})
        .cells("ranges", {0, uint32_t(kPlatformBus.base), uint32_t(kPlatformBus.size)})
        .cells("#address-cells", {1})
        .cells("#size-cells", {1})
        .strs("compatible", {"qemu,platform", "simple-bus"});

    for (unsigned i = 0; i < m.virtio.size(); i++) {
        Window w{kVirtio.base + uint64_t(i) * kVirtio.size, kVirtio.size};
        soc_node("virtio_mmio", w).str("compatible", "virtio,mmio").reg(w).cells("interrupt-parent", {plic_ph}).cells(
            "interrupts", {kVirtioIrq + i});
    }
    if (m.pcie) {
        // The reference's node: ECAM, I/O, 32- and 64-bit memory ranges, and
        // the INTx swizzle as an interrupt map (slot s, pin p -> 32 + (s + p) % 4).
        std::vector<uint32_t> ranges = {0x1000000, 0, 0, 0, uint32_t(kPciePio.base), 0, uint32_t(kPciePio.size),
                                        0x2000000, 0, uint32_t(kPcieMmio.base), 0, uint32_t(kPcieMmio.base), 0,
                                        uint32_t(kPcieMmio.size)};
        if (m.pcie_high.size)
            ranges.insert(ranges.end(), {0x3000000, uint32_t(m.pcie_high.base >> 32), uint32_t(m.pcie_high.base),
                                         uint32_t(m.pcie_high.base >> 32), uint32_t(m.pcie_high.base),
                                         uint32_t(m.pcie_high.size >> 32), uint32_t(m.pcie_high.size)});
        std::vector<uint32_t> imap;
        for (uint32_t slot = 0; slot < 4; slot++)
            for (uint32_t pin = 0; pin < 4; pin++)
                imap.insert(imap.end(), {slot << 11, 0, 0, pin + 1, plic_ph, kPcieIrq + (slot + pin) % 4});
        soc_node("pci", kPcieEcam)
            .cells("#address-cells", {3}).cells("#size-cells", {2}).cells("#interrupt-cells", {1})
            .str("compatible", "pci-host-ecam-generic").str("device_type", "pci")
            .cells("linux,pci-domain", {0}).cells("bus-range", {0, uint32_t(kPcieEcam.size / 0x100000 - 1)})
            .empty("dma-coherent").reg(kPcieEcam).cells("ranges", ranges)
            .cells("interrupt-map-mask", {0x1800, 0, 0, 7}).cells("interrupt-map", imap);
    }
    Node test = soc_node("test", kTest);
    test.strs("compatible", {"sifive,test1", "sifive,test0", "syscon"}).reg(kTest);
    const uint32_t test_ph = test.phandle();
    Node("/poweroff").str("compatible", "syscon-poweroff").cells("regmap", {test_ph}).cells("offset", {0}).cells(
        "value", {0x5555});
    Node("/reboot").str("compatible", "syscon-reboot").cells("regmap", {test_ph}).cells("offset", {0}).cells(
        "value", {0x7777});
    soc_node("serial", kUart0).str("compatible", "ns16550a").reg(kUart0).cells("clock-frequency", {3686400}).cells(
        "interrupt-parent", {plic_ph}).cells("interrupts", {kUart0Irq});
    // The power button: GPIO pin 0 as a gpio-keys KEY_POWER (116), which is
    // what systemd-logind and acpid-less guests act on.
    Node gpio = soc_node("gpio", kGpio);
    std::vector<uint32_t> gpio_irqs;
    for (unsigned i = 0; i < kGpioPins; i++) gpio_irqs.push_back(kGpioIrq + i);
    gpio.str("compatible", "sifive,gpio0").reg(kGpio).cells("interrupt-parent", {plic_ph}).cells("interrupts", gpio_irqs)
        .empty("gpio-controller").cells("#gpio-cells", {2}).empty("interrupt-controller")
        .cells("#interrupt-cells", {2}).cells("ngpios", {kGpioPins});
    Node("/gpio-keys").str("compatible", "gpio-keys");
    Node("/gpio-keys/poweroff").str("label", "GPIO Key Poweroff").cells("linux,code", {116}).cells(
        "gpios", {gpio.phandle(), kPowerButtonPin, 0});
    soc_node("rtc", kRtc).str("compatible", "google,goldfish-rtc").reg(kRtc).cells("interrupt-parent", {plic_ph}).cells(
        "interrupts", {kRtcIrq});

    Node chosen("/chosen");
    chosen.str("stdout-path", "/soc/serial@" + hex(kUart0.base));
    if (!bootargs.empty()) chosen.str("bootargs", bootargs);
    uint8_t seed[32];
    if (h.size > offsetof(ts_host, guest_random) && h.guest_random) {
        h.guest_random(seed, sizeof seed);  // repeatable under -seed
        h.fdt_set_prop("/chosen", "rng-seed", seed, sizeof seed);
    } else if (getrandom(seed, sizeof seed, 0) == ssize_t(sizeof seed)) {
        h.fdt_set_prop("/chosen", "rng-seed", seed, sizeof seed);
    }
}

}  // namespace virt
