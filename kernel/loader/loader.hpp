// Image loading shared by all boards: ELF and raw files into an address
// space, the symbols of loaded ELFs, the ROM blob list (`info roms`) and the
// RISC-V Linux `Image` header. Errors are UsageError with one-line messages
// naming the file.
#pragma once

#include "memory/address_space.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tessera {

// Every file read error reads "could not load <what> '<path>': <reason>".
std::vector<uint8_t> read_file(std::string_view path, std::string_view what = "kernel");
// Reads up to out.size() bytes from the start; returns how many.
size_t file_read_head(std::string_view path, std::span<uint8_t> out);
// True if the file starts with the ELF magic; UsageError if unreadable.
bool file_is_elf(std::string_view path);

// Is every byte of [addr, addr + size) guest RAM or ROM?
bool is_backed(const AddressSpace &as, uint64_t addr, uint64_t size);
// Whether any byte of [addr, addr + size) is RAM or ROM.
bool any_backed(const AddressSpace &as, uint64_t addr, uint64_t size);
// Write data at addr and zeros after it up to size bytes in all, as a loader
// (ROM is written too). False if some of it is not RAM or ROM.
bool write_image(AddressSpace &as, uint64_t addr, std::span<const uint8_t> data, uint64_t size);

// ELF symbols (name -> st_value) collected from every ELF loaded so far.
class SymbolTable {
public:
    void add(std::string name, uint64_t value);
    std::optional<uint64_t> lookup(std::string_view name) const;
    // Functions (STT_FUNC) by address, for -plugin's qemu_plugin_insn_symbol:
    // the function whose [value, value + size) holds addr (or starts at addr
    // when its size is 0); nullptr if none. The name stays valid until clear().
    void add_function(std::string name, uint64_t value, uint64_t size);
    const char *function_at(uint64_t addr) const;
    size_t size() const;
    void clear();

private:
    struct Function {
        uint64_t size;
        std::string name;
    };
    mutable std::mutex mutex_;
    std::unordered_map<std::string, uint64_t> map_;
    std::map<uint64_t, Function> functions_;   // by start address
};
SymbolTable &global_symbols();

// Blobs written by loaders, kept to be written again on reset and listed by
// `info roms`. Blobs in the same address space may not overlap.
class RomRegistry {
public:
    struct Blob {
        std::string name;
        AddressSpace *as;
        uint64_t addr;
        uint64_t size;              // bytes in guest memory (data, then zeros)
        std::vector<uint8_t> data;
    };
    // Checks for overlap, records the blob and writes it. Throws UsageError.
    // partial: the blob may hang over holes (an ELF segment that starts with
    // its headers below RAM, as linkers make them); those bytes are dropped,
    // as the reference drops them. At least one byte must land.
    void add(std::string name, AddressSpace &as, uint64_t addr, std::vector<uint8_t> data,
             uint64_t size = 0 /* 0: data.size() */, bool partial = false);
    void rewrite_all() const;   // on system reset
    std::string info_roms() const;
    const std::vector<Blob> &blobs() const { return blobs_; }

private:
    std::vector<Blob> blobs_;
};
RomRegistry &global_roms();

struct ElfInfo {
    uint64_t entry = 0;   // e_entry + addr_offset
    uint64_t low = 0;     // lowest loaded address
    uint64_t high = 0;    // one past the highest loaded byte
    int elf_class = 0;    // 32 or 64
    uint16_t machine = 0; // e_machine (EM_RISCV = 243)
};

struct ElfLoadOptions {
    int64_t addr_offset = 0;
    SymbolTable *symbols = &global_symbols();  // nullptr: don't collect
    RomRegistry *roms = &global_roms();        // nullptr: write only, don't record
    std::string_view what = "kernel";          // for file errors
};

// Load the PT_LOAD segments of a little-endian ELF32/ELF64 at p_paddr +
// addr_offset (bss zero-filled). `name` is used in messages.
ElfInfo load_elf_image(std::string_view name, std::span<const uint8_t> file, AddressSpace &as,
                       const ElfLoadOptions &opts = {});
ElfInfo load_elf(std::string_view path, AddressSpace &as, const ElfLoadOptions &opts = {});

// Load a whole file at addr; fails if it is larger than max_size. Returns its size.
uint64_t load_raw(std::string_view path, AddressSpace &as, uint64_t addr, uint64_t max_size,
                  RomRegistry *roms = &global_roms(), std::string_view what = "kernel");

// The RISC-V Linux `Image` header (Documentation/arch/riscv/boot-image-header.rst).
struct RiscvImageHeader {
    uint64_t text_offset;
    uint64_t image_size;
    uint64_t flags;
    uint32_t version;
};
constexpr size_t kRiscvImageHeaderSize = 64;
// nullopt unless the bytes carry the "RSC\x05" magic at 0x38.
std::optional<RiscvImageHeader> parse_riscv_image(std::span<const uint8_t> head);

}  // namespace tessera
