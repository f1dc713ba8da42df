// rvrun: run a bare-metal RISC-V ELF on the core alone (no kernel), with flat
// RAM at 0x80000000 and an HTIF tohost/fromhost mailbox. Exit status is the
// test's code (0 pass), 124 on timeout, 125 on a usage or load error.
//
//   rvrun [--xlen 32|64] [--max-insns N] [--ram-mb N] [--trace] [--jit] ELF
#include "hart.hpp"
#include "isa/isa.hpp"
#ifdef RVRUN_JIT   // tests/jit builds this file again as rvrun-jit, with --jit
#include "../jit/jit.hpp"
#include <memory>
#endif

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr uint64_t kRamBase = 0x80000000;

struct Elf {
    unsigned xlen = 64;
    uint64_t entry = 0;
    uint64_t tohost = 0, fromhost = 0;
};

template <class T> T rd(const std::vector<uint8_t> &f, uint64_t off) {
    if (off + sizeof(T) > f.size()) throw std::runtime_error("truncated ELF");
    T v;
    std::memcpy(&v, f.data() + off, sizeof(T));
    return v;
}

class FlatBus : public rv::Bus {
public:
    explicit FlatBus(uint64_t ram_size) : ram(ram_size) {}
    std::vector<uint8_t> ram;
    uint64_t tohost_pa = 0, fromhost_pa = 0;
    uint64_t tohost = 0, fromhost = 0;
    bool done = false;
    int code = 0;
    rv::Hart *hart = nullptr;

    bool in_htif(uint64_t pa) const {
        return tohost_pa && (pa & ~0xfffull) == (tohost_pa & ~0xfffull);
    }
    bool lookup(uint64_t pa, rv::RamRange &out) override {
        if (pa < kRamBase || pa - kRamBase >= ram.size() || in_htif(pa)) return false;
        out = {ram.data(), kRamBase, ram.size(), true};
        return true;
    }
    uint8_t *htif_bytes(uint64_t pa) {
        if (pa >= tohost_pa && pa < tohost_pa + 8) return reinterpret_cast<uint8_t *>(&tohost) + (pa - tohost_pa);
        if (fromhost_pa && pa >= fromhost_pa && pa < fromhost_pa + 8)
            return reinterpret_cast<uint8_t *>(&fromhost) + (pa - fromhost_pa);
        return nullptr;
    }
    bool read(uint64_t pa, unsigned size, uint64_t &val) override {
        val = 0;
        if (in_htif(pa)) {
            for (unsigned i = 0; i < size; ++i) {
                uint8_t *b = htif_bytes(pa + i);
                uint8_t v = b ? *b : ram[pa + i - kRamBase];
                val |= uint64_t(v) << (8 * i);
            }
            return true;
        }
        return false;
    }
    bool write(uint64_t pa, unsigned size, uint64_t val) override {
        if (!in_htif(pa)) return false;
        bool touches_high = false;
        for (unsigned i = 0; i < size; ++i) {
            uint8_t *b = htif_bytes(pa + i);
            if (b) *b = static_cast<uint8_t>(val >> (8 * i));
            else ram[pa + i - kRamBase] = static_cast<uint8_t>(val >> (8 * i));
            if (pa + i == tohost_pa + 4) touches_high = true;
        }
        // RV32 writes tohost as two words, low first: act on the high one.
        if (touches_high) htif();
        return true;
    }
    void htif() {
        if (!tohost) return;
        uint64_t dev = tohost >> 56, cmd = (tohost >> 48) & 0xff, payload = tohost & 0xffffffffffffull;
        if (dev == 0 && cmd == 0 && (payload & 1)) {
            code = static_cast<int>(payload >> 1);
            done = true;
            hart->request_stop();
        } else if (dev == 1 && cmd == 1) {
            std::fputc(static_cast<int>(payload & 0xff), stdout);
            std::fflush(stdout);
            fromhost = (1ull << 56) | (1ull << 48);
        } else if (dev == 0 && cmd == 0) {
            // Syscall proxy (magic_mem): only SYS_write to stdout is served.
            uint64_t mm[8];
            for (int i = 0; i < 8; ++i) std::memcpy(&mm[i], &ram[payload - kRamBase + 8 * i], 8);
            if (mm[0] == 64) {
                std::fwrite(&ram[mm[2] - kRamBase], 1, mm[3], stdout);
                mm[0] = mm[3];
            } else {
                mm[0] = static_cast<uint64_t>(-38);
            }
            std::memcpy(&ram[payload - kRamBase], &mm[0], 8);
            fromhost = 1;
        }
        tohost = 0;
    }
    uint64_t time() override { return hart ? hart->s.instret / 10 : 0; }
};

Elf load_elf(const std::string &path, FlatBus &bus) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::vector<uint8_t> f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (f.size() < 52 || std::memcmp(f.data(), "\x7f" "ELF", 4) != 0) throw std::runtime_error(path + ": not an ELF file");
    Elf e;
    bool is64 = f[4] == 2;
    e.xlen = is64 ? 64 : 32;
    auto word = [&](uint64_t off) -> uint64_t { return is64 ? rd<uint64_t>(f, off) : rd<uint32_t>(f, off); };
    e.entry = word(24);
    uint64_t phoff = word(is64 ? 32 : 28), shoff = word(is64 ? 40 : 32);
    unsigned phentsize = rd<uint16_t>(f, is64 ? 54 : 42), phnum = rd<uint16_t>(f, is64 ? 56 : 44);
    unsigned shentsize = rd<uint16_t>(f, is64 ? 58 : 46), shnum = rd<uint16_t>(f, is64 ? 60 : 48);
    for (unsigned i = 0; i < phnum; ++i) {
        uint64_t ph = phoff + uint64_t(i) * phentsize;
        if (rd<uint32_t>(f, ph) != 1) continue;   // PT_LOAD
        uint64_t off = is64 ? rd<uint64_t>(f, ph + 8) : rd<uint32_t>(f, ph + 4);
        uint64_t paddr = is64 ? rd<uint64_t>(f, ph + 24) : rd<uint32_t>(f, ph + 12);
        uint64_t filesz = is64 ? rd<uint64_t>(f, ph + 32) : rd<uint32_t>(f, ph + 16);
        uint64_t memsz = is64 ? rd<uint64_t>(f, ph + 40) : rd<uint32_t>(f, ph + 20);
        if (paddr < kRamBase || paddr - kRamBase + memsz > bus.ram.size() || off + filesz > f.size())
            throw std::runtime_error(path + ": segment outside RAM");
        std::memcpy(&bus.ram[paddr - kRamBase], f.data() + off, filesz);
    }
    // Symbols: find tohost/fromhost.
    for (unsigned i = 0; i < shnum; ++i) {
        uint64_t sh = shoff + uint64_t(i) * shentsize;
        if (rd<uint32_t>(f, sh + 4) != 2) continue;   // SHT_SYMTAB
        uint64_t off = word(sh + (is64 ? 24 : 16)), size = word(sh + (is64 ? 32 : 20));
        unsigned link = rd<uint32_t>(f, sh + (is64 ? 40 : 24));
        uint64_t entsize = word(sh + (is64 ? 56 : 36));
        uint64_t strsh = shoff + uint64_t(link) * shentsize;
        uint64_t stroff = word(strsh + (is64 ? 24 : 16));
        for (uint64_t s = off; entsize && s + entsize <= off + size; s += entsize) {
            uint32_t name = rd<uint32_t>(f, s);
            uint64_t value = is64 ? rd<uint64_t>(f, s + 8) : rd<uint32_t>(f, s + 4);
            const char *n = reinterpret_cast<const char *>(f.data() + stroff + name);
            if (std::strcmp(n, "tohost") == 0) e.tohost = value;
            if (std::strcmp(n, "fromhost") == 0) e.fromhost = value;
        }
    }
    if (!e.tohost) throw std::runtime_error(path + ": no tohost symbol");
    return e;
}

}  // namespace

int main(int argc, char **argv) {
    unsigned xlen = 0;
    uint64_t max_insns = 200'000'000, ram_mb = 64;
    bool trace = false, jit = false;
    std::string path;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "rvrun: %s needs a value\n", a.c_str());
                std::exit(125);
            }
            return argv[++i];
        };
        if (a == "--xlen") xlen = static_cast<unsigned>(std::stoul(next()));
        else if (a == "--max-insns") max_insns = std::stoull(next());
        else if (a == "--ram-mb") ram_mb = std::stoull(next());
        else if (a == "--trace") trace = true;
        else if (a == "--jit") jit = true;
        else path = a;
    }
    if (path.empty()) {
        std::fprintf(stderr, "usage: rvrun [--xlen 32|64] [--max-insns N] [--ram-mb N] [--trace] [--jit] ELF\n");
        return 125;
    }
    try {
        FlatBus bus(ram_mb << 20);
        Elf e = load_elf(path, bus);
        bus.tohost_pa = e.tohost;
        bus.fromhost_pa = e.fromhost;
        rv::Config cfg;
        cfg.xlen = xlen ? xlen : e.xlen;
        cfg.resetvec = e.entry;
        rv::Hart hart(bus, cfg);
        bus.hart = &hart;
#ifdef RVRUN_JIT
        std::unique_ptr<rv::jit::Jit> engine;
        if (jit) engine = std::make_unique<rv::jit::Jit>(hart, rv::jit::Options{});
#else
        if (jit) throw std::runtime_error("--jit: this rvrun is built without the JIT (use rvrun-jit)");
#endif
        if (trace) {
            hart.on_trap = [](void *, const rv::Hart &h, uint64_t cause, uint64_t tval, bool async, uint64_t epc) {
                std::fprintf(stderr, "trap: priv %u async %d cause 0x%" PRIx64 " epc 0x%" PRIx64 " tval 0x%" PRIx64 "\n",
                             h.s.priv, async, cause, epc, tval);
            };
            // Single-step with disassembly.
            for (uint64_t n = 0; n < max_insns && !bus.done; ++n) {
                uint32_t raw = 0;
                uint64_t pc = hart.s.pc;
                hart.debug_read(pc, &raw, 4);
                unsigned len = (raw & 3) == 3 ? 4 : 2;
                if (len == 2) raw &= 0xffff;
                std::fprintf(stderr, "%u 0x%08" PRIx64 ": %s\n", hart.s.priv, pc,
                             rv::disassemble(hart, pc, raw, len).c_str());
                if (hart.run(1) == rv::Exit::Halted) hart.set_irq_line(0, false);
            }
        } else {
            uint64_t left = max_insns;
            while (!bus.done && left) {
                uint64_t before = hart.s.instret;
                rv::Exit ex = hart.run(std::min<uint64_t>(left, 1'000'000));
                uint64_t ran = hart.s.instret - before;
                left -= std::min(left, ran ? ran : 1);
                if (ex == rv::Exit::Halted && !hart.has_work()) {
                    std::fprintf(stderr, "rvrun: hart waits for an interrupt that cannot come\n");
                    return 124;
                }
            }
        }
        if (!bus.done) {
            std::fprintf(stderr, "rvrun: timeout at pc 0x%" PRIx64 "\n", hart.s.pc);
            return 124;
        }
        if (bus.code) std::fprintf(stderr, "rvrun: %s failed: test %d\n", path.c_str(), bus.code);
        return bus.code > 255 ? 1 : bus.code;
    } catch (const std::exception &ex) {
        std::fprintf(stderr, "rvrun: %s\n", ex.what());
        return 125;
    }
}
