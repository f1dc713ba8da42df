// The `spike` board: RAM at 0x80000000, a CLINT, and HTIF reached through the
// program's tohost/fromhost symbols, as the reference's spike machine. A
// bare-metal program ends the run by writing (code << 1) | 1 to tohost.
#include "htif.hpp"

#include <tessera/sdk/plugin.hpp>
#include <tessera/sdk/riscv_boot.hpp>
#include <tessera/sdk/riscv_cpu.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace {

using ts::host;

// The memory map, as data.
struct MapEntry {
    const char *name;
    uint64_t base, size;
};
constexpr MapEntry kMrom{"mrom", 0x1000, 0xf000};
constexpr MapEntry kHtif{"htif", 0x1000000, 0x1000};
constexpr MapEntry kClint{"clint", 0x2000000, 0x10000};
constexpr MapEntry kDram{"dram", 0x80000000, 0};
constexpr uint64_t kTimebase = 10000000;

struct Spike {
    ts_object *obj;
    std::vector<ts_object *> cpus;
    std::unique_ptr<spike::Htif> htif;
};

const ts_riscv_info_v1 *cpu_info(ts_object *cpu) {
    return static_cast<const ts_riscv_info_v1 *>(host().cpu_get_capability(cpu, TS_RISCV_INFO_V1));
}

void check(ts_status s, const ts_error &err) {
    if (s != TS_OK) throw ts::Error(err.message);
}

void build_fdt(Spike &s, uint64_t ram_size, ts_object *clint, bool htif_at_symbols) {
    const auto &h = host();
    ts_error err{};
    check(h.fdt_create(&err), err);
    auto cells = [&](const char *path, const char *name, std::vector<uint32_t> v) {
        h.fdt_set_prop_cells(path, name, v.data(), v.size());
    };
    cells("/", "#address-cells", {2});
    cells("/", "#size-cells", {2});
    h.fdt_set_prop_str("/", "compatible", "ucbbar,spike-bare-dev");
    h.fdt_set_prop_str("/", "model", "ucbbar,spike-bare,qemu");
    h.fdt_add_node("/htif");
    h.fdt_set_prop_str("/htif", "compatible", "ucb,htif0");
    // Without tohost/fromhost symbols, firmware finds HTIF by this reg
    // (fromhost at its base, tohost 8 bytes above).
    if (!htif_at_symbols) cells("/htif", "reg", {0, uint32_t(kHtif.base), 0, uint32_t(kHtif.size)});
    h.fdt_add_node("/cpus");
    cells("/cpus", "#address-cells", {1});
    cells("/cpus", "#size-cells", {0});
    cells("/cpus", "timebase-frequency", {uint32_t(kTimebase)});
    std::vector<uint32_t> clint_irqs;
    for (size_t i = 0; i < s.cpus.size(); i++) {
        std::string cpu = "/cpus/cpu@" + std::to_string(i), intc = cpu + "/interrupt-controller";
        h.fdt_add_node(cpu.c_str());
        h.fdt_set_prop_str(cpu.c_str(), "device_type", "cpu");
        cells(cpu.c_str(), "reg", {uint32_t(i)});
        h.fdt_set_prop_str(cpu.c_str(), "status", "okay");
        h.fdt_set_prop_str(cpu.c_str(), "compatible", "riscv");
        if (auto *info = cpu_info(s.cpus[i])) {
            void *inst = h.object_instance(s.cpus[i]);
            h.fdt_set_prop_str(cpu.c_str(), "riscv,isa", info->isa_string(inst));
            if (const char *mmu = info->mmu_type(inst)) h.fdt_set_prop_str(cpu.c_str(), "mmu-type", mmu);
        }
        h.fdt_add_node(intc.c_str());
        cells(intc.c_str(), "#interrupt-cells", {1});
        h.fdt_set_prop(intc.c_str(), "interrupt-controller", nullptr, 0);
        h.fdt_set_prop_str(intc.c_str(), "compatible", "riscv,cpu-intc");
        uint32_t ph = h.fdt_phandle(intc.c_str());
        clint_irqs.insert(clint_irqs.end(), {ph, 3, ph, 7});
    }
    std::string mem = "/memory@" + ts::riscv::hex(kDram.base);
    h.fdt_add_node(mem.c_str());
    h.fdt_set_prop_str(mem.c_str(), "device_type", "memory");
    cells(mem.c_str(), "reg", {0, uint32_t(kDram.base), uint32_t(ram_size >> 32), uint32_t(ram_size)});
    h.fdt_add_node("/soc");
    cells("/soc", "#address-cells", {2});
    cells("/soc", "#size-cells", {2});
    h.fdt_set_prop_str("/soc", "compatible", "simple-bus");
    h.fdt_set_prop("/soc", "ranges", nullptr, 0);
    if (clint) {
        std::string c = "/soc/clint@" + ts::riscv::hex(kClint.base);
        h.fdt_add_node(c.c_str());
        const char compat[] = "sifive,clint0\0riscv,clint0";
        h.fdt_set_prop(c.c_str(), "compatible", compat, sizeof compat);
        h.fdt_set_prop_cells(c.c_str(), "interrupts-extended", clint_irqs.data(), clint_irqs.size());
        cells(c.c_str(), "reg", {0, uint32_t(kClint.base), 0, uint32_t(kClint.size)});
    }
    h.fdt_add_node("/chosen");
    h.fdt_set_prop_str("/chosen", "stdout-path", "/htif");
    std::string append = ts::riscv::cfg("append");
    if (!append.empty()) h.fdt_set_prop_str("/chosen", "bootargs", append.c_str());
}

void spike_init(Spike &s) {
    const auto &h = host();
    ts_error err{};
    const uint64_t ram_size = std::stoull(ts::riscv::cfg("ram-size"));
    const unsigned ncpus = static_cast<unsigned>(std::stoul(ts::riscv::cfg("smp.cpus")));
    ts_region *sysmem = h.system_memory();
    h.region_add(sysmem, kDram.base, h.machine_ram(), 0);
    ts_region *mrom = h.region_rom(s.obj, "riscv.spike.mrom", kMrom.size, &err);
    if (!mrom) throw ts::Error(err.message);
    h.region_add(sysmem, kMrom.base, mrom, 0);

    unsigned xlen = 64;
    for (unsigned i = 0; i < ncpus; i++) {
        ts_object *cpu = h.cpu_new(i, &err);
        if (!cpu) throw ts::Error(err.message);
        check(h.prop_set(cpu, "resetvec", std::to_string(kMrom.base).c_str(), &err), err);
        check(h.object_realize(cpu, &err), err);
        if (auto *info = cpu_info(cpu)) xlen = info->xlen(h.object_instance(cpu));
        s.cpus.push_back(cpu);
    }

    ts_object *clint = h.object_new(s.obj, "riscv.sifive.clint", "", &err);
    if (!clint) throw ts::Error(std::string("spike needs the CLINT device: ") + err.message);
    check(h.prop_set(clint, "num-harts", std::to_string(ncpus).c_str(), &err), err);
    check(h.object_realize(clint, &err), err);
    h.region_add(sysmem, kClint.base, h.device_region(clint, 0), 0);
    for (unsigned i = 0; i < ncpus; i++) {
        check(h.gpio_connect(clint, "msip", int(i), s.cpus[i], TS_RISCV_CPU_IRQ_GROUP, 3, &err), err);
        check(h.gpio_connect(clint, "mtip", int(i), s.cpus[i], TS_RISCV_CPU_IRQ_GROUP, 7, &err), err);
    }

    // Firmware, then the kernel above it, as the reference places them.
    uint64_t fw_entry = kDram.base, fw_end = kDram.base, start = kDram.base;
    const std::string bios = ts::riscv::cfg("bios"), kernel = ts::riscv::cfg("kernel");
    bool have_fw = ts::riscv::load_firmware(
        // The ELF first, as the reference: HTIF may be found through its symbols.
        bios, {xlen == 32 ? "opensbi-riscv32-generic-fw_dynamic.elf" : "opensbi-riscv64-generic-fw_dynamic.elf",
               "fw_dynamic.elf", xlen == 32 ? "opensbi-riscv32-generic-fw_dynamic.bin" : "opensbi-riscv64-generic-fw_dynamic.bin",
               "fw_dynamic.bin"},
        kDram.base, ram_size, fw_entry, fw_end);
    ts::riscv::FwDynamicInfo fw;
    if (have_fw) start = fw_entry;
    if (!kernel.empty()) {
        const uint64_t align = xlen == 32 ? 0x400000 : 0x200000;
        uint64_t kstart = have_fw ? (fw_end + align - 1) & ~(align - 1) : kDram.base;
        uint64_t kend = 0;
        uint64_t kentry = ts::riscv::load_kernel(kernel, kstart, kDram.base + ram_size - kstart, kend);
        if (have_fw) fw.next_addr = kentry;
        else start = kentry;
    }
    // HTIF at the program's tohost symbol when it has one.
    uint64_t tohost = 0, fromhost = 0;
    bool custom = h.symbol_lookup("tohost", &tohost) == TS_OK;
    if (custom && h.symbol_lookup("fromhost", &fromhost) != TS_OK) fromhost = tohost + 8;
    s.htif = std::make_unique<spike::Htif>(s.obj);
    if (custom) {
        const uint64_t base = std::min(tohost, fromhost), end = std::max(tohost, fromhost) + 8;
        h.region_add(sysmem, base, s.htif->region(end - base, tohost - base, fromhost - base), 1);
    } else {
        // Without symbols firmware finds HTIF through the device tree's reg:
        // fromhost at its base, tohost 8 bytes above (OpenSBI's convention).
        h.region_add(sysmem, kHtif.base, s.htif->region(kHtif.size, 8, 0), 1);
    }

    build_fdt(s, ram_size, clint, custom);
    std::string dtb = ts::riscv::cfg("dtb");
    if (!dtb.empty()) check(h.fdt_load(dtb.c_str(), &err), err);
    size_t fdt_size = 0;
    const void *blob = h.fdt_blob(&fdt_size);
    uint64_t fdt_addr = ts::riscv::fdt_address(kDram.base, ram_size, fdt_size);
    check(h.rom_add("fdt", blob, fdt_size, fdt_addr, &err), err);
    ts::riscv::write_reset_rom(kMrom.base, kMrom.size, xlen, start, fdt_addr, fw);
}

const ts_prop_decl kProps[] = {
    {sizeof(ts_prop_decl), "dumpdtb", TS_PROP_STRING, nullptr, 0, 0, nullptr, nullptr,
     "write the generated device tree to FILE and exit"},
};

void *create(ts_object *obj, ts_error *) {
    auto s = std::make_unique<Spike>();
    s->obj = obj;
    return s.release();  // owned by the object until destroy
}
void destroy(void *self) { std::unique_ptr<Spike>(static_cast<Spike *>(self)); }
ts_status init(void *self, ts_error *err) {
    return ts::guarded(err, [&] { spike_init(*static_cast<Spike *>(self)); });
}

const ts_board_class kSpike = {
    sizeof(ts_board_class),
    {sizeof(ts_object_class), kProps, 1, TS_STATE_NONE, create, nullptr, nullptr, destroy, nullptr},
    "RISC-V Spike board", "rv64", 128ull << 20, 8, 1, nullptr, init, nullptr /* no power button */,
};

const void *get_class(const char *name) {
    return std::string_view(name) == "spike" ? &kSpike : nullptr;
}

}  // namespace

TESSERA_PLUGIN("board-riscv-spike", "0.1.0",
               "type board spike - default:riscv64,riscv32 RISC-V Spike board\n", get_class);
