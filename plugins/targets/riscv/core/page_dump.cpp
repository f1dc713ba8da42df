// The monitor's views of the page tables: "info mem" (ranges merged as the
// reference prints them) and "info tlb" (one line per leaf entry, the same
// columns). Reads PTEs without side effects: no A/D updates, no faults.
#include "page_dump.hpp"
#include "pte.hpp"

#include <cinttypes>
#include <cstdio>

namespace rv {

namespace {

struct Walker {
    Hart &h;
    unsigned levels, vpn_bits, pte_size, va_bits;
    bool merge;
    std::string out;
    // The pending merged range.
    uint64_t r_va = 0, r_pa = 0, r_size = 0, r_attr = 0;
    bool have = false;

    bool read_pte(uint64_t pa, uint64_t &pte) {
        RamRange rr;
        if (h.bus.lookup(pa, rr)) {
            const uint8_t *p = rr.host + (pa - rr.base);
            pte = 0;
            for (unsigned i = 0; i < pte_size; i++) pte |= uint64_t(p[i]) << (8 * i);
            return true;
        }
        return h.bus.read(pa, pte_size, pte);
    }
    uint64_t canonical(uint64_t va) const {
        if (h.cfg.xlen == 32) return va;
        return static_cast<uint64_t>(static_cast<int64_t>(va << (64 - va_bits)) >> (64 - va_bits));
    }
    void line(uint64_t va, uint64_t pa, uint64_t size, uint64_t attr) {
        char buf[128];
        const char a[8] = {attr & PTE_R ? 'r' : '-', attr & PTE_W ? 'w' : '-', attr & PTE_X ? 'x' : '-',
                           attr & PTE_U ? 'u' : '-', attr & PTE_G ? 'g' : '-', attr & PTE_A ? 'a' : '-',
                           attr & PTE_D ? 'd' : '-', 0};
        if (h.cfg.xlen == 32)
            std::snprintf(buf, sizeof buf, "%08" PRIx64 " %016" PRIx64 " %08" PRIx64 " %s\n", canonical(va), pa, size, a);
        else
            std::snprintf(buf, sizeof buf, "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %s\n", canonical(va), pa, size,
                          a);
        out += buf;
    }
    void leaf(uint64_t va, uint64_t pa, uint64_t size, uint64_t attr) {
        if (!merge) return line(va, pa, size, attr);
        if (have && attr == r_attr && va == r_va + r_size && pa == r_pa + r_size) {
            r_size += size;
            return;
        }
        flush();
        r_va = va, r_pa = pa, r_size = size, r_attr = attr, have = true;
    }
    void flush() {
        if (have) line(r_va, r_pa, r_size, r_attr);
        have = false;
    }
    void walk(uint64_t table, int level, uint64_t va_base) {
        const uint64_t ppn_mask = h.cfg.xlen == 32 ? 0x3fffff : 0xfffffffffffull;
        const unsigned shift = 12 + unsigned(level) * vpn_bits;
        for (uint64_t i = 0; i < (1ull << vpn_bits); i++) {
            uint64_t pte;
            if (!read_pte(table + i * pte_size, pte) || !(pte & PTE_V)) continue;
            const uint64_t va = va_base | (i << shift), ppn = (pte >> 10) & ppn_mask;
            if (pte & (PTE_R | PTE_W | PTE_X)) {
                leaf(va, ppn << 12, 1ull << shift, pte & 0xff);
            } else if (level > 0) {
                walk(ppn << 12, level - 1, va);
            }
        }
    }
};

}  // namespace

std::string dump_page_tables(Hart &h, bool merge) {
    unsigned levels = 0, vpn_bits = 9, pte_size = 8;
    if (h.cfg.xlen == 32) {
        if (h.s.satp >> 31) levels = 2, vpn_bits = 10, pte_size = 4;
    } else {
        const uint64_t mode = h.s.satp >> 60;
        if (mode >= 8 && mode <= 10) levels = unsigned(mode) - 5;
    }
    if (!levels) return "No translation or protection\n";
    Walker w{h, levels, vpn_bits, pte_size, 12 + levels * vpn_bits, merge, {}};
    w.out = h.cfg.xlen == 32 ? "vaddr    paddr            size     attr\n-------- ---------------- -------- -------\n"
                             : "vaddr            paddr            size             attr\n"
                               "---------------- ---------------- ---------------- -------\n";
    const uint64_t root = (h.s.satp & (h.cfg.xlen == 32 ? 0x3fffffull : 0xfffffffffffull)) << 12;
    w.walk(root, int(levels) - 1, 0);
    w.flush();
    return w.out;
}

}  // namespace rv
