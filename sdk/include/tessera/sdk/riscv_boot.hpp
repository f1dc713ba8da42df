// Boot conventions shared by RISC-V boards, as the reference implements them:
// the reset-vector ROM (hart id in a0, device tree in a1, fw_dynamic info in
// a2), firmware lookup, kernel/initrd placement and device-tree placement.
// Throws ts::Error with one-line messages.
#pragma once

#include <tessera/sdk/plugin.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace ts::riscv {

inline std::string cfg(const char *key) {
    const char *v = host().config_get(key);
    return v ? v : "";
}

// RISC-V instruction words used by the reset ROM (encoded from the ISA manual).
constexpr uint32_t i_type(uint32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op) {
    return (imm << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
constexpr uint32_t kT0 = 5, kA0 = 10, kA1 = 11, kA2 = 12;

struct FwDynamicInfo {
    uint64_t next_addr = 0;
    uint64_t next_mode = 1;  // S-mode
};

// Writes the reset vector at rom_base: jumps to start_addr with a0 = mhartid,
// a1 = fdt_addr, a2 = &fw_dynamic_info (placed right after the code).
inline void write_reset_rom(uint64_t rom_base, uint64_t rom_size, unsigned xlen, uint64_t start_addr,
                            uint64_t fdt_addr, const FwDynamicInfo &fw) {
    const uint32_t load_f3 = xlen == 32 ? 2 : 3;  // lw / ld
    std::vector<uint32_t> w = {
        0x00000297,                                  // auipc t0, 0
        i_type(40, kT0, 0, kA2, 0x13),               // addi a2, t0, 40  (fw_dynamic info)
        i_type(0xf14, 0, 2, kA0, 0x73),              // csrr a0, mhartid
        i_type(32, kT0, load_f3, kA1, 0x03),         // l{w,d} a1, 32(t0)
        i_type(24, kT0, load_f3, kT0, 0x03),         // l{w,d} t0, 24(t0)
        i_type(0, kT0, 0, 0, 0x67),                  // jalr x0, 0(t0)
        uint32_t(start_addr), uint32_t(start_addr >> 32),
        uint32_t(fdt_addr), uint32_t(fdt_addr >> 32),
    };
    // fw_dynamic_info (OpenSBI's struct): magic, version, next_addr,
    // next_mode, options, boot_hart, each xlen wide.
    const uint64_t info[] = {0x4942534f, 2, fw.next_addr, fw.next_mode, 0, 0};
    for (uint64_t v : info) {
        w.push_back(uint32_t(v));
        if (xlen == 64) w.push_back(uint32_t(v >> 32));
    }
    if (w.size() * 4 > rom_size) throw Error("reset ROM does not fit");
    ts_error err{};
    if (host().rom_add("mrom.reset", w.data(), w.size() * 4, rom_base, &err) != TS_OK) throw Error(err.message);
}

// Loads firmware (-bios): "none" -> returns false; "default"/empty -> the
// named default found in the firmware search path; else a file (ELF or raw
// at base). Sets end to one past the loaded image, entry to its entry.
inline bool load_firmware(const std::string &bios, const std::vector<std::string> &default_names, uint64_t base,
                          uint64_t max_size, uint64_t &entry, uint64_t &end) {
    if (bios == "none") return false;
    std::string path;
    if (bios.empty() || bios == "default") {
        for (const auto &n : default_names) {
            if (char *p = host().firmware_find(n.c_str())) {
                path = p;
                host().free(p);
                break;
            }
        }
        if (path.empty())
            throw Error("Unable to find the RISC-V BIOS \"" + default_names.front() +
                        "\" (install Debian's opensbi package, use -L DIR, or -bios none)");
    } else {
        char *p = host().firmware_find(bios.c_str());
        if (!p) throw Error("Unable to load the RISC-V firmware \"" + bios + "\"");
        path = p;
        host().free(p);
    }
    ts_error err{};
    int elf = host().file_is_elf(path.c_str(), &err);
    if (elf < 0) throw Error(err.message);
    if (elf) {
        uint64_t lo = 0, hi = 0;
        if (host().load_elf(path.c_str(), host().system_as(), 0, &entry, &lo, &hi, nullptr, &err) != TS_OK)
            throw Error(err.message);
        end = hi;
    } else {
        uint64_t size = 0;
        if (host().load_raw(path.c_str(), host().system_as(), base, max_size, &size, &err) != TS_OK)
            throw Error(err.message);
        entry = base;
        end = base + size;
    }
    return true;
}

// Loads -kernel: ELF at its addresses, or an Image/raw file at start.
// Returns the entry point and sets end.
inline uint64_t load_kernel(const std::string &path, uint64_t start, uint64_t max_size, uint64_t &end) {
    ts_error err{};
    int elf = host().file_is_elf(path.c_str(), &err);
    if (elf < 0) throw Error(err.message);
    if (elf) {
        uint64_t entry = 0, lo = 0, hi = 0;
        if (host().load_elf(path.c_str(), host().system_as(), 0, &entry, &lo, &hi, nullptr, &err) != TS_OK)
            throw Error(err.message);
        end = hi;
        return entry;
    }
    uint64_t size = 0;
    if (host().load_raw(path.c_str(), host().system_as(), start, max_size, &size, &err) != TS_OK)
        throw Error(err.message);
    end = start + size;
    return start;
}

// Loads -initrd where the reference puts it: half-way into RAM for small
// machines, 128 MiB above the kernel otherwise. Returns [start, end).
inline std::pair<uint64_t, uint64_t> load_initrd(const std::string &path, uint64_t kernel_entry, uint64_t ram_base,
                                                 uint64_t ram_size) {
    uint64_t start = kernel_entry + std::min<uint64_t>(ram_size / 2, 128ull << 20);
    uint64_t ram_end = ram_base + ram_size;
    if (start >= ram_end) throw Error("not enough memory for the initrd");
    uint64_t size = 0;
    ts_error err{};
    if (host().load_raw(path.c_str(), host().system_as(), start, ram_end - start, &size, &err) != TS_OK)
        throw Error(std::string("could not load initrd '") + path + "': " + err.message);
    return {start, start + size};
}

// Where the reference puts the device tree: the end of RAM, but below 3 GiB
// (so 32-bit code reaches it), minus its size, aligned down to 2 MiB.
inline uint64_t fdt_address(uint64_t ram_base, uint64_t ram_size, uint64_t fdt_size) {
    uint64_t top = std::min<uint64_t>(ram_base + ram_size, 0xc0000000ull);
    if (top < ram_base || fdt_size > top - ram_base) throw Error("not enough memory to place the device tree");
    return (top - fdt_size) & ~uint64_t(0x1fffff);
}

}  // namespace ts::riscv

namespace ts::riscv {
// Device-tree unit addresses are lower-case hex without 0x.
inline std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
    return b;
}
}  // namespace ts::riscv
