// Address translation (Sv32/39/48/57), PMP, the software TLB and the slow
// load/store paths.
#include "hart.hpp"
#include "instrument.hpp"
#include "pte.hpp"

#include <bit>

namespace rv {

namespace {

struct PagingMode {
    unsigned levels, vpn_bits, pte_size;
};

uint64_t fault_cause(Access acc) {
    switch (acc) {
    case Access::Read: return EXC_LOAD_PAGE_FAULT;
    case Access::Write: return EXC_STORE_PAGE_FAULT;
    default: return EXC_INSN_PAGE_FAULT;
    }
}

uint64_t access_cause(Access acc) {
    switch (acc) {
    case Access::Read: return EXC_LOAD_ACCESS;
    case Access::Write: return EXC_STORE_ACCESS;
    default: return EXC_INSN_ACCESS;
    }
}

}  // namespace

// ---- PMP -------------------------------------------------------------------

bool Hart::pmp_check(uint64_t pa, unsigned size, Access acc, unsigned priv,
                     bool &whole_page) const {
    // Page walks check every PTE read: a page uniform under PMP keeps its
    // answer (per access type and privilege) until PMP or the TLB changes.
    const uint64_t page = pa & ~0xfffull;
    const bool in_page = (pa & 0xfff) + size <= 4096;
    const uint64_t key = page | static_cast<unsigned>(acc) << 2 | priv;
    PmpMemo &memo = pmp_memo_[((page >> 12) * 4 + static_cast<unsigned>(acc)) & (pmp_memo_.size() - 1)];
    if (memo.key == key && in_page) {
        whole_page = true;
        return memo.ok;
    }
    const bool ok = pmp_check_uncached(pa, size, acc, priv, whole_page);
    if (whole_page && in_page) memo = PmpMemo{key, ok};
    return ok;
}

bool Hart::pmp_check_uncached(uint64_t pa, unsigned size, Access acc, unsigned priv,
                              bool &whole_page) const {
    const uint64_t page = pa & ~0xfffull;
    whole_page = true;
    bool page_touched = false;
    for (unsigned i = 0; i < 16; ++i) {
        uint8_t cfg = s.pmpcfg[i];
        unsigned a = (cfg >> 3) & 3;
        if (a == 0) continue;
        uint64_t lo, hi;   // [lo, hi)
        if (a == 1) {
            lo = i ? s.pmpaddr[i - 1] << 2 : 0;
            hi = s.pmpaddr[i] << 2;
            if (lo >= hi) continue;
        } else if (a == 2) {
            lo = s.pmpaddr[i] << 2;
            hi = lo + 4;
        } else {
            uint64_t addr = s.pmpaddr[i];
            unsigned t = static_cast<unsigned>(std::countr_one(addr));
            if (t >= 54) {
                lo = 0;
                hi = ~0ull;
            } else {
                lo = (addr & ~((1ull << t) - 1)) << 2;
                hi = lo + (1ull << (t + 3));
            }
        }
        bool overlaps_page = lo < page + 4096 && hi > page;
        if (overlaps_page && !page_touched) {
            page_touched = true;
            whole_page = lo <= page && hi >= page + 4096;
        }
        bool overlaps = lo < pa + size && hi > pa;
        if (!overlaps) continue;
        if (!(lo <= pa && hi >= pa + size)) return false;   // partial match fails
        if (priv == PRV_M && !(cfg & 0x80)) return true;
        uint8_t need = acc == Access::Read ? 1 : acc == Access::Write ? 2 : 4;
        return (cfg & need) != 0;
    }
    // No entry matched: M-mode succeeds, S/U fail (16 entries are implemented).
    return priv == PRV_M;
}

// ---- Translation -------------------------------------------------------------

uint64_t Hart::translate(uint64_t va, unsigned size, Access acc, unsigned priv, XlateInfo &info,
                         bool debug) {
    auto fail = [&](uint64_t cause) -> uint64_t {
        if (debug) return ~0ull;
        raise(cause, va);
    };
    uint64_t pa = va;
    bool can_read = true, can_write = true;
    PagingMode pm{0, 0, 0};
    if (priv != PRV_M) {
        if (cfg.xlen == 32) {
            if (s.satp >> 31) pm = {2, 10, 4};
        } else {
            switch (s.satp >> 60) {
            case 8: pm = {3, 9, 8}; break;
            case 9: pm = {4, 9, 8}; break;
            case 10: pm = {5, 9, 8}; break;
            default: break;
            }
        }
    }
    if (pm.levels) {
        const uint64_t ppn_mask = cfg.xlen == 32 ? 0x3fffff : 0xfffffffffffull;
        if (cfg.xlen == 64) {
            unsigned vabits = 12 + pm.levels * 9;
            int64_t sext = static_cast<int64_t>(va << (64 - vabits)) >> (64 - vabits);
            if (static_cast<uint64_t>(sext) != va) return fail(fault_cause(acc));
        }
        uint64_t base = (s.satp & ppn_mask) << 12;
        const bool sum = s.mstatus & mstatus_bits::SUM, mxr = s.mstatus & mstatus_bits::MXR;
        const bool adue = cfg.ext.svadu && (s.menvcfg & menvcfg_bits::ADUE);
        const bool pbmte = cfg.ext.svpbmt && (s.menvcfg & menvcfg_bits::PBMTE);
        for (int level = pm.levels - 1;; --level) {
            unsigned shift = 12 + level * pm.vpn_bits;
            uint64_t idx = (va >> shift) & ((1ull << pm.vpn_bits) - 1);
            uint64_t pte_addr = base + idx * pm.pte_size;
            bool wp;
            if (!pmp_check(pte_addr, pm.pte_size, Access::Read, PRV_S, wp))
                return fail(access_cause(acc));
            RamRange rr;
            uint8_t *pte_host = nullptr;
            uint64_t pte = 0;
            if (bus.lookup(pte_addr, rr)) {
                pte_host = rr.host + (pte_addr - rr.base);
                if (pm.pte_size == 8)
                    pte = __atomic_load_n(reinterpret_cast<uint64_t *>(pte_host), __ATOMIC_RELAXED);
                else
                    pte = __atomic_load_n(reinterpret_cast<uint32_t *>(pte_host), __ATOMIC_RELAXED);
            } else if (!bus.read(pte_addr, pm.pte_size, pte)) {
                return fail(access_cause(acc));
            }
            if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W))) return fail(fault_cause(acc));
            if (cfg.xlen == 64) {
                if (pte & (0x7full << 54)) return fail(fault_cause(acc));   // reserved
                if (pte >> 63) return fail(fault_cause(acc));               // no Svnapot
                unsigned pbmt = (pte >> 61) & 3;
                if (pbmt && (!pbmte || pbmt == 3)) return fail(fault_cause(acc));
            }
            uint64_t ppn = (pte >> 10) & ppn_mask;
            if (!(pte & (PTE_R | PTE_X))) {
                if (level == 0) return fail(fault_cause(acc));
                if (pte & (PTE_A | PTE_D | PTE_U)) return fail(fault_cause(acc));
                base = ppn << 12;
                continue;
            }
            // Leaf: superpages must be aligned.
            uint64_t low_ppn_mask = (1ull << (level * pm.vpn_bits)) - 1;
            if (ppn & low_ppn_mask) return fail(fault_cause(acc));
            if (priv == PRV_U && !(pte & PTE_U)) return fail(fault_cause(acc));
            if (priv == PRV_S && (pte & PTE_U) && (acc == Access::Fetch || !sum))
                return fail(fault_cause(acc));
            bool readable = (pte & PTE_R) || (mxr && (pte & PTE_X));
            bool ok = acc == Access::Read    ? readable
                      : acc == Access::Write ? (pte & PTE_W) != 0
                                             : (pte & PTE_X) != 0;
            if (!ok) return fail(fault_cause(acc));
            uint64_t want = PTE_A | (acc == Access::Write ? PTE_D : 0);
            if ((pte & want) != want) {
                if (debug) {
                    // fine: a debugger read does not set A/D
                } else if (!adue) {
                    return fail(fault_cause(acc));
                } else {
                    bool wpok;
                    if (!pmp_check(pte_addr, pm.pte_size, Access::Write, PRV_S, wpok) || !pte_host ||
                        !rr.writable)
                        return fail(access_cause(acc));
                    uint64_t npte = pte | want;
                    bool swapped;
                    if (pm.pte_size == 8) {
                        swapped = __atomic_compare_exchange_n(reinterpret_cast<uint64_t *>(pte_host),
                                                              &pte, npte, false, __ATOMIC_SEQ_CST,
                                                              __ATOMIC_SEQ_CST);
                    } else {
                        uint32_t expect = static_cast<uint32_t>(pte);
                        swapped = __atomic_compare_exchange_n(
                            reinterpret_cast<uint32_t *>(pte_host), &expect,
                            static_cast<uint32_t>(npte), false, __ATOMIC_SEQ_CST,
                            __ATOMIC_SEQ_CST);
                    }
                    if (!swapped) return translate(va, size, acc, priv, info, debug);   // raced: walk again
                    pte = npte;
                }
            }
            can_read = readable && (pte & PTE_A);
            info.status_dep = (priv == PRV_S && (pte & PTE_U)) || ((pte & PTE_X) && !(pte & PTE_R));
            can_write = (pte & PTE_W) && (pte & PTE_D) && (pte & PTE_A);
            uint64_t page_off = va & ((1ull << shift) - 1);
            pa = ((ppn & ~low_ppn_mask) << 12) | page_off;
            break;
        }
    } else if (cfg.xlen == 32) {
        pa = va & 0xffffffffull;
    }
    bool whole = false;
    if (!pmp_check(pa, size, acc, priv, whole)) return fail(access_cause(acc));
    if (whole) {
        // The page is uniform under PMP: cache the permissions PMP grants too.
        bool w2;
        if (can_read) can_read = pmp_check(pa & ~0xfffull, 1, Access::Read, priv, w2);
        if (can_write) can_write = pmp_check(pa & ~0xfffull, 1, Access::Write, priv, w2);
    }
    info.cacheable = whole;
    info.can_read = can_read;
    info.can_write = can_write;
    return pa;
}

bool Hart::debug_translate(uint64_t va, Access acc, uint64_t &pa) {
    XlateInfo info;
    unsigned priv = acc == Access::Fetch ? s.priv : data_priv();
    pa = translate(va & xmask(), 1, acc, priv, info, true);
    return pa != ~0ull;
}

bool Hart::debug_read(uint64_t va, void *buf, size_t len) {
    auto *out = static_cast<uint8_t *>(buf);
    for (size_t i = 0; i < len; ++i) {
        uint64_t pa;
        if (!debug_translate(va + i, Access::Read, pa)) return false;
        RamRange rr;
        uint64_t v = 0;
        if (bus.lookup(pa, rr)) v = rr.host[pa - rr.base];
        else if (!bus.read(pa, 1, v)) return false;
        out[i] = static_cast<uint8_t>(v);
    }
    return true;
}

// ---- TLB -------------------------------------------------------------------

void Hart::tlb_fill(unsigned priv, uint64_t va, uint64_t pa, const XlateInfo &info) {
    if (!info.cacheable) return;
    if (!dbg_.watches.empty() && watched_page(va)) return;   // keep watched accesses on the slow path
    RamRange rr;
    if (!bus.lookup(pa, rr)) return;
    uint64_t pa_page = pa & ~0xfffull;
    if (pa_page < rr.base || pa_page + 4096 > rr.base + rr.len) return;
    TlbEntry &e = tlb_[priv][(va >> 12) & (kTlbSize - 1)];
    // While memory callbacks are on, entries carry a mark the inline fast
    // paths never match: accesses reach the slow paths (which report them)
    // and find the translation there (instrument.cpp).
    const uint64_t tag = tlb_tag(va) ^ (instr_nocache_ ? kInstrTlbMark : 0);
    e.tag_r = info.can_read ? tag : ~0ull;
    bool code = code_filter_.maybe(pa_page >> 12) && code_.count(pa_page >> 12) != 0;
    bool w = info.can_write && rr.writable;
    e.tag_w = w && !code ? tag : ~0ull;
    e.addend = reinterpret_cast<uintptr_t>(rr.host + (pa_page - rr.base)) - (va & ~0xfffull);
    e.pa_page = pa_page | (info.status_dep ? TlbEntry::kStatusDep : 0) | (w && code ? TlbEntry::kWriteCode : 0);
    if (info.status_dep && status_dep_at_.size() <= kMaxStatusDep)
        status_dep_at_.push_back(static_cast<uint16_t>(priv * kTlbSize + ((va >> 12) & (kTlbSize - 1))));
}

void Hart::flush_tlb() {
    for (auto &set : tlb_)
        for (auto &e : set) e = TlbEntry{};
    pmp_memo_.fill(PmpMemo{});   // PMP writes flush the TLB
    status_dep_at_.clear();
    for (auto &f : ftlb_) f = FetchEntry{};
    if (engine_) engine_->tlb_flushed();
}

void Hart::flush_status_tlb() {
    auto drop = [](TlbEntry &e) {
        if (e.pa_page & TlbEntry::kStatusDep) e = TlbEntry{};
    };
    if (status_dep_at_.size() > kMaxStatusDep) {
        for (auto &set : tlb_)
            for (auto &e : set) drop(e);
    } else {
        for (uint16_t at : status_dep_at_) drop(tlb_[at / kTlbSize][at % kTlbSize]);
    }
    status_dep_at_.clear();
}

// With an address only that page's translations go (Linux fences page by
// page when it changes a mapping; a whole flush each time made every later
// access miss). ASIDs are not cached apart, so rs2 does not narrow it.
void Hart::sfence_vma(uint64_t va, bool all) {
    if (all) return flush_tlb();
    const uint64_t vpn = (va & xmask()) >> 12;
    // Direct-mapped: the page can only be in its slot of each set.
    for (auto &set : tlb_) set[vpn & (kTlbSize - 1)] = TlbEntry{};
    ftlb_[vpn & (ftlb_.size() - 1)] = FetchEntry{};
    if (engine_) engine_->tlb_page_flushed(va & xmask());
}

// ---- Slow paths ----------------------------------------------------------------

uint64_t load_slow_n(Hart &h, uint64_t va, unsigned size) {
    if (h.instr_report_) [[unlikely]] return instr_load(h, va, size);
    if (h.instr_nocache_) [[unlikely]] {
        uint64_t v;
        if (instr_tlb_load(h, va, size, v)) return v;
    }
    if ((va & 0xfff) + size > 0x1000) {
        // Crosses a page: byte by byte, each through translation.
        uint64_t v = 0;
        for (unsigned i = 0; i < size; ++i)
            v |= load_slow_n(h, (va + i) & h.xmask(), 1) << (8 * i);
        return v;
    }
    unsigned priv = h.data_priv();
    Hart::XlateInfo info;
    uint64_t pa = h.translate(va, size, Access::Read, priv, info);
    h.watch_check(va, size, false);
    RamRange rr;
    if (h.bus.lookup(pa, rr) && pa + size <= rr.base + rr.len) {
        h.tlb_fill(priv, va, pa, info);
        uint64_t v = 0;
        std::memcpy(&v, rr.host + (pa - rr.base), size);
        return v;
    }
    uint64_t v = 0;
    if (!h.bus.read(pa, size, v)) h.raise(EXC_LOAD_ACCESS, va);
    return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

void store_slow_n(Hart &h, uint64_t va, unsigned size, uint64_t v) {
    if (h.instr_report_) [[unlikely]] return instr_store(h, va, size, v);
    if (h.instr_nocache_ && instr_tlb_store(h, va, size, v)) [[unlikely]] return;
    if ((va & 0xfff) + size > 0x1000) {
        // Check both pages before writing anything so a fault leaves memory as it was.
        Hart::XlateInfo info;
        unsigned first = 0x1000 - (va & 0xfff);
        h.translate(va, first, Access::Write, h.data_priv(), info);
        h.translate((va + first) & h.xmask(), size - first, Access::Write, h.data_priv(), info);
        for (unsigned i = 0; i < size; ++i) store_slow_n(h, (va + i) & h.xmask(), 1, v >> (8 * i));
        return;
    }
    unsigned priv = h.data_priv();
    const Hart::TlbEntry &e = h.tlb_[priv][(va >> 12) & (Hart::kTlbSize - 1)];
    if (e.writes_code(Hart::tlb_tag(va))) {
        // Writable page with decoded code on it.
        h.note_store(e.page() | (va & 0xfff), size);
        std::memcpy(reinterpret_cast<uint8_t *>(e.addend + va), &v, size);
        return;
    }
    Hart::XlateInfo info;
    uint64_t pa = h.translate(va, size, Access::Write, priv, info);
    h.watch_check(va, size, true);
    h.note_store(pa, size);
    RamRange rr;
    if (h.bus.lookup(pa, rr) && rr.writable && pa + size <= rr.base + rr.len) {
        h.tlb_fill(priv, va, pa, info);
        std::memcpy(rr.host + (pa - rr.base), &v, size);
        return;
    }
    if (!h.bus.write(pa, size, v)) h.raise(EXC_STORE_ACCESS, va);
}

uint8_t *Hart::amo_ptr(uint64_t va, unsigned size, bool is_lr) {
    va &= xmask();
    if (va & (size - 1)) raise(is_lr ? EXC_LOAD_MISALIGNED : EXC_STORE_MISALIGNED, va);
    XlateInfo info;
    const unsigned priv = data_priv();
    uint64_t pa = translate(va, size, is_lr ? Access::Read : Access::Write, priv, info);
    RamRange rr;
    if (!bus.lookup(pa, rr) || (!is_lr && !rr.writable))
        raise(is_lr ? EXC_LOAD_ACCESS : EXC_STORE_ACCESS, va);
    tlb_fill(priv, va, pa, info);   // so the JIT's inline lr/sc/AMOs find the page next time
    watch_check(va, size, false);   // AMOs read and write; LR reads, SC writes
    if (!is_lr) {
        watch_check(va, size, true);
        note_store(pa, size);
    }
    if (instr_report_) [[unlikely]] {   // reported once, with the value found there
        uint64_t old = 0;
        std::memcpy(&old, rr.host + (pa - rr.base), size);
        instr_->report(va, size, old, !is_lr);
    }
    return rr.host + (pa - rr.base);
}

void Hart::zero_block(uint64_t va) {
    va &= xmask() & ~63ull;
    XlateInfo info;
    const unsigned priv = data_priv();
    uint64_t pa = translate(va, 64, Access::Write, priv, info);
    watch_check(va, 64, true);
    note_store(pa, 64);
    RamRange rr;
    if (bus.lookup(pa, rr) && rr.writable) {
        tlb_fill(priv, va, pa, info);   // the JIT's inline cbo.zero finds the page next time
        std::memset(rr.host + (pa - rr.base), 0, 64);
        return;
    }
    for (unsigned i = 0; i < 64; i += 8)
        if (!bus.write(pa + i, 8, 0)) raise(EXC_STORE_ACCESS, va);
}

}  // namespace rv
