// The interpreter loop, the decoded-instruction cache and reset.
#include "hart.hpp"
#include "instrument.hpp"

#include <algorithm>

namespace rv {

namespace {
// Decoded pages kept per hart before the whole cache is dropped.
constexpr size_t kMaxCodePages = 2048;
}  // namespace

Hart::Hart(Bus &b, const Config &c) : cfg(c), bus(b) { reset(); }

Hart::~Hart() = default;

void Hart::reset() {
    s = CpuState{};
    const Extensions &e = cfg.ext;
    uint64_t misa = (1ull << ('I' - 'A'));
    auto bit = [&](bool on, char l) {
        if (on) misa |= 1ull << (l - 'A');
    };
    bit(e.m, 'M');
    bit(e.a, 'A');
#ifdef RV_HAVE_FPU
    bit(e.f, 'F');
    bit(e.d && e.f, 'D');
#endif
    bit(e.c, 'C');
    bit(e.s, 'S');
    bit(e.u, 'U');
    if (cfg.xlen == 64) {
        misa |= 2ull << 62;
        s.mstatus = (2ull << 32) | (2ull << 34);   // UXL = SXL = 64
    } else {
        misa |= 1ull << 30;
    }
    s.misa = misa;
    s.priv = PRV_M;
    s.pc = cfg.resetvec;
    s.mhartid = cfg.hartid;
    s.stimecmp = ~0ull;
    if (e.svadu) s.menvcfg |= menvcfg_bits::ADUE;
    flush_tlb();
    flush_code();
    retire_graveyard();
    request_check();
}

void Hart::set_irq_line(int n, bool level) {
    uint64_t m = 1ull << n;
    if (level) irq_lines_.fetch_or(m);
    else irq_lines_.fetch_and(~m);
    request_check();
}

uint64_t Hart::mip_effective() const {
    uint64_t mip = s.mip | irq_lines_.load(std::memory_order_relaxed);
    if (cfg.ext.sstc && (s.menvcfg & menvcfg_bits::STCE)) {
        mip &= ~(1ull << irq::STI);
        if (const_cast<Hart *>(this)->bus.time() >= s.stimecmp) mip |= 1ull << irq::STI;
    }
    return mip;
}

bool Hart::has_work() const { return (mip_effective() & s.mie) != 0; }

// ---- Decoded code cache ---------------------------------------------------------

CodePage *Hart::code_page(uint64_t pa_page) {
    auto it = code_.find(pa_page >> 12);
    if (it != code_.end()) {
        CodePage *p = it->second.get();
        if (p->epoch != fence_epoch_) [[unlikely]] {
            // After fence.i: what another hart wrote here since decoding
            // must now be seen; unchanged bytes keep their decoded slots.
            p->epoch = fence_epoch_;
            for (unsigned i = 0; i < p->chunk.size(); ++i) {
                CodeChunk *c = p->chunk[i];
                const uint8_t *now = p->host + i * CodeChunk::kBytes;
                if (!c || std::memcmp(now, c->bytes.data(), CodeChunk::kBytes) == 0) continue;
                if (p->slots[i])
                    for (auto &slot : *p->slots[i]) slot.len = 0;
                std::memcpy(c->bytes.data(), now, CodeChunk::kBytes);
                // A 32-bit instruction may start in the chunk before.
                if (engine_) engine_->code_written(pa_page + i * CodeChunk::kBytes - (i ? 2 : 0),
                                                   CodeChunk::kBytes + (i ? 2 : 0));
                if (i && p->slots[i - 1]) p->slots[i - 1]->back().len = 0;
            }
        }
        return p;
    }
    RamRange rr;
    if (!bus.lookup(pa_page, rr) || pa_page < rr.base || pa_page + 4096 > rr.base + rr.len)
        return nullptr;
    if (code_.size() >= kMaxCodePages) flush_code();
    std::unique_ptr<CodePage> page;
    if (!free_pages_.empty()) {
        page = std::move(free_pages_.back());
        free_pages_.pop_back();
    } else {
        page = std::make_unique<CodePage>();
    }
    page->pa = pa_page;
    page->host = rr.host + (pa_page - rr.base);
    page->chunk.fill(nullptr);
    page->slots.fill(nullptr);
    page->epoch = fence_epoch_;
    CodePage *p = page.get();
    code_.emplace(pa_page >> 12, std::move(page));
    code_filter_.add(pa_page >> 12);
    // Stores to this page must now take the slow path, which invalidates it.
    for (auto &set : tlb_)
        for (auto &e : set)
            if (e.page() == pa_page && e.tag_w != ~0ull) {
                e.pa_page |= TlbEntry::kWriteCode;
                e.tag_w = ~0ull;
            }
    return p;
}

CodeChunk *Hart::new_chunk(CodePage &page, unsigned index) {
    CodeChunk *c = chunks_.get();
    std::memcpy(c->bytes.data(), page.host + index * CodeChunk::kBytes, CodeChunk::kBytes);
    page.chunk[index] = c;
    return c;
}

CodeChunk::Slots *Hart::new_slots() {
    CodeChunk::Slots *s = slots_.get();
    for (auto &slot : *s) slot.len = 0;
    return s;
}

void Hart::release_chunks(CodePage &page) {
    for (CodeChunk *&c : page.chunk)
        if (c) {
            chunks_.put(c);
            c = nullptr;
        }
    for (CodeChunk::Slots *&sl : page.slots)
        if (sl) {
            slots_.put(sl);
            sl = nullptr;
        }
}

void Hart::note_store(uint64_t pa, unsigned size) {
    if (code_.empty()) return;
    auto it = code_.find(pa >> 12);
    if (it == code_.end()) return;
    // Clearing the handler is enough: the slot is decoded again when next
    // fetched, and an instruction overwriting itself keeps running intact.
    if (engine_) engine_->code_written(pa, size);
    CodePage &page = *it->second;
    unsigned first = pa & 0xfff, last = std::min<unsigned>(first + size, 4096);
    unsigned from = first >= 2 ? first - 2 : 0;   // a 32-bit insn may start 2 bytes before
    for (unsigned off = from & ~1u; off < last; off += 2)
        if (Insn *slot = page.slot(off)) slot->len = 0;
    if ((pa & 0xfff) + size > 4096) note_store((pa & ~0xfffull) + 4096, (pa & 0xfff) + size - 4096);
}

void Hart::drop_code_page(uint64_t pa) {
    auto it = code_.find(pa >> 12);
    if (it == code_.end()) return;
    if (engine_) engine_->code_dropped(pa & ~0xfffull);
    CodePage *gone = it->second.get();
    graveyard_.push_back(std::move(it->second));
    code_.erase(it);
    ++code_gen_;
    for (auto &f : ftlb_)
        if (f.page == gone) f = FetchEntry{};
    request_check();
}

void Hart::invalidate_code(uint64_t pa, uint64_t len) {
    for (uint64_t p = pa & ~0xfffull; p < pa + len; p += 4096) drop_code_page(p);
}

void Hart::flush_code() {
    for (auto &[k, v] : code_) {
        if (engine_) engine_->code_dropped(v->pa);
        graveyard_.push_back(std::move(v));
    }
    code_.clear();
    code_filter_.clear();
    ++code_gen_;
    for (auto &f : ftlb_) f = FetchEntry{};
    request_check();
}

// Stores of this hart to decoded pages are seen as they happen (note_store)
// and DMA drops pages (invalidate_code); what fence.i adds is other harts'
// stores. Rather than dropping every decoded page (Linux runs fence.i tens
// of thousands of times while booting), each page compares its chunks'
// bytes on its next use and reports what changed (code_written).
void Hart::fence_i() {
    if (machine_harts_ && machine_harts_->load(std::memory_order_relaxed) == 1) return;
    if (engine_) engine_->code_flushed();
    ++fence_epoch_;
    ++code_gen_;
    for (auto &f : ftlb_) f = FetchEntry{};
    request_check();
}

void Hart::retire_graveyard() {
    constexpr size_t kMaxFree = 512;
    for (auto &p : graveyard_) {
        release_chunks(*p);
        if (free_pages_.size() < kMaxFree) free_pages_.push_back(std::move(p));
    }
    graveyard_.clear();
}

uint32_t Hart::fetch_half(uint64_t va) {
    // A page the fetch TLB holds (the next page of code, for an instruction
    // straddling two): no page walk.
    va &= xmask();
    const uint64_t vpn = va >> 12;
    if (const FetchEntry &fe = ftlb_[vpn & (ftlb_.size() - 1)]; fe.tag == ((vpn << 2) | s.priv) && fe.page) {
        uint16_t v;
        std::memcpy(&v, fe.page->host + (va & 0xfff), 2);
        return v;
    }
    XlateInfo info;
    uint64_t pa = translate(va, 2, Access::Fetch, s.priv, info);
    RamRange rr;
    if (bus.lookup(pa, rr) && pa + 2 <= rr.base + rr.len) {
        uint16_t v;
        std::memcpy(&v, rr.host + (pa - rr.base), 2);
        return v;
    }
    uint64_t v;
    if (!bus.read(pa, 2, v)) raise(EXC_INSN_ACCESS, va);
    return static_cast<uint32_t>(v & 0xffff);
}

CodePage *Hart::fetch_page(uint64_t pc) {
    const uint64_t vpn = pc >> 12;
    const uint64_t tag = (vpn << 2) | s.priv;
    FetchEntry &fe = ftlb_[vpn & (ftlb_.size() - 1)];
    if (fe.tag == tag) [[likely]] return fe.page;
    XlateInfo info;
    uint64_t pa = translate(pc, 2, Access::Fetch, s.priv, info);
    CodePage *page = code_page(pa & ~0xfffull);
    if (page && info.cacheable) fe = FetchEntry{tag, page};
    return page;
}

void Hart::decode_at(CodePage &page, uint64_t pc, CodeChunk &c, Insn &out) {
    const unsigned off = pc & 0xfff, at = off % CodeChunk::kBytes;
    uint16_t lo;
    std::memcpy(&lo, page.host + off, 2);
    if ((lo & 3) != 3) {
        decode(*this, lo, 2, out);
        std::memcpy(c.bytes.data() + at, &lo, 2);   // what fence.i compares
    } else {
        uint32_t raw;
        std::memcpy(&raw, page.host + off, 4);
        decode(*this, raw, 4, out);
        std::memcpy(c.bytes.data() + at, &raw, std::min(4u, CodeChunk::kBytes - at));
        if (at + 4 > CodeChunk::kBytes) {
            // Its upper half lies in the next chunk, whose bytes fence.i compares.
            const unsigned ci = off / CodeChunk::kBytes;
            CodeChunk *next = page.chunk[ci + 1];
            if (!next) next = new_chunk(page, ci + 1);
            std::memcpy(next->bytes.data(), page.host + off + 2, 2);
        }
    }
    if (on_decode) on_decode(hook_opaque, *this, pc, out);
}

// A 32-bit instruction in the last halfword of a page: decoded every time.
static bool straddles(const CodePage &page, unsigned off) { return off == 0xffe && (page.host[off] & 3) == 3; }

CodeChunk &Hart::chunk_at(CodePage &page, unsigned off) {
    const unsigned ci = off / CodeChunk::kBytes;
    CodeChunk *c = page.chunk[ci];
    return c ? *c : *new_chunk(page, ci);
}

const Insn &Hart::fetch(uint64_t pc) {
    CodePage *page = fetch_page(pc);
    const unsigned off = pc & 0xfff;
    if (page && !straddles(*page, off)) [[likely]] {
        const unsigned ci = off / CodeChunk::kBytes;
        CodeChunk &c = chunk_at(*page, off);
        if (!page->slots[ci]) page->slots[ci] = new_slots();
        Insn &slot = (*page->slots[ci])[(off % CodeChunk::kBytes) >> 1];
        if (slot.len) [[likely]] return slot;
        decode_at(*page, pc, c, slot);
        return slot;
    }
    // Straddling two pages or not in RAM (MMIO ROM): decoded every time.
    uint32_t lo = page ? page->host[off] | page->host[off + 1] << 8 : fetch_half(pc);
    if ((lo & 3) != 3) {
        decode(*this, lo, 2, scratch_);
    } else {
        uint32_t hi = fetch_half(pc + 2);
        decode(*this, lo | (hi << 16), 4, scratch_);
    }
    return scratch_;
}

const Insn &Hart::peek(uint64_t pc, Insn &tmp) {
    CodePage *page = fetch_page(pc);
    const unsigned off = pc & 0xfff;
    if (!page || straddles(*page, off)) return fetch(pc);   // scratch_
    CodeChunk &c = chunk_at(*page, off);
    if (const Insn *slot = page->slot(off); slot && slot->len) return *slot;
    decode_at(*page, pc, c, tmp);
    return tmp;
}

// ---- Run loop ---------------------------------------------------------------------

Exit Hart::run(uint64_t budget) {
    uint64_t since_check = 0;
    run_count_ = 0;
    request_check();   // state may have changed while we were away (WFI, gdb)
    dbg_.stop = DebugStop{};
    dbg_.hit = false;
    while (budget) {
        if (check_.load(std::memory_order_relaxed) || since_check >= check_interval_) {
            check_.store(false, std::memory_order_relaxed);
            since_check = 0;
            retire_graveyard();
            if (on_check) on_check(hook_opaque, *this);
            if (dbg_.hit) [[unlikely]] {   // a watchpoint fired in the fast loop
                dbg_.hit = false;
                return Exit::Debug;
            }
            if (stop_.exchange(false)) return Exit::Stop;
            if (kick_.exchange(false)) return Exit::Budget;
            uint64_t gen = bus.generation();
            if (gen != bus_gen_) {
                bus_gen_ = gen;
                flush_tlb();
                flush_code();
                retire_graveyard();
            }
            if (dbg_.step) s.waiting = 0;   // interrupts stay masked while stepping
            else check_interrupts();
            if (s.waiting) {
                if (mip_effective() & s.mie) s.waiting = 0;
                else return Exit::Halted;
            }
        }
        uint64_t n = std::min<uint64_t>(budget, check_interval_ - since_check);
        uint64_t done = 0;
        if (debug_active()) [[unlikely]] {
            if (run_debug(n, done)) return Exit::Debug;
            budget -= std::min(budget, done);
            run_count_ += done;
            since_check += done;
            continue;
        }
        if (instr_) [[unlikely]] {   // -plugin: the instrumented loop (instrument.cpp)
            instr_->run(n, done);
            budget -= std::min(budget, done);
            run_count_ += done;
            since_check += done;
            continue;
        }
        if (engine_ && !trace_blocks) {
            done = engine_->exec(n);
            budget -= std::min(budget, done);
            run_count_ += done;
            since_check += done;
            continue;
        }
        uint64_t seq = ~0ull;   // sequential successor of the last instruction (tracing)
        try {
            while (done < n && !check_.load(std::memory_order_relaxed)) {
                if (trace_blocks) [[unlikely]] {
                    if (s.pc != seq) on_block(hook_opaque, *this, s.pc);
                }
                pc_ = s.pc;
                // Inline fast path: fetch-TLB hit on an already decoded slot.
                const uint64_t vpn = pc_ >> 12;
                const FetchEntry &fe = ftlb_[vpn & (ftlb_.size() - 1)];
                const Insn *ip = nullptr;
                if (fe.tag == ((vpn << 2) | s.priv)) [[likely]] {
                    ip = fe.page->slot(pc_ & 0xfff);
                    if (!ip || !ip->len) [[unlikely]] ip = &fetch(pc_);
                } else {
                    ip = &fetch(pc_);
                }
                exec_insn(*ip);
                seq = pc_ + ip->len;
                ++done;
            }
        } catch (const Trap &t) {
            take_trap(t.cause, t.tval, false);
            ++done;   // count the attempt against the budget, not instret
        }
        budget -= std::min(budget, done);
        run_count_ += done;
        since_check += done;
    }
    if (dbg_.hit) {   // the budget ran out on the instruction that hit a watchpoint
        dbg_.hit = false;
        return Exit::Debug;
    }
    return Exit::Budget;
}

// ---- Traps ----------------------------------------------------------------------

void Hart::take_trap(uint64_t cause, uint64_t tval, bool interrupt) {
    using namespace mstatus_bits;
    const uint64_t epc = s.pc;
    if (on_trap) on_trap(hook_opaque, *this, cause, tval, interrupt, epc);
    s.lr_valid = 0;
    s.waiting = 0;
    const uint64_t int_bit = interrupt ? 1ull << (cfg.xlen - 1) : 0;
    const uint64_t deleg = interrupt ? s.mideleg : s.medeleg;
    if (s.priv <= PRV_S && cause < 64 && ((deleg >> cause) & 1)) {
        s.scause = cause | int_bit;
        s.sepc = epc;
        s.stval = tval;
        uint64_t st = s.mstatus;
        st = (st & ~SPP) | (uint64_t(s.priv) << 8);
        st = (st & ~SPIE) | ((st & SIE) ? SPIE : 0);
        st &= ~SIE;
        s.mstatus = st;
        s.priv = PRV_S;
        uint64_t base = s.stvec & ~3ull;
        s.pc = ((s.stvec & 3) == 1 && interrupt) ? base + 4 * cause : base;
    } else {
        s.mcause = cause | int_bit;
        s.mepc = epc;
        s.mtval = tval;
        uint64_t st = s.mstatus;
        st = (st & ~MPP) | (uint64_t(s.priv) << 11);
        st = (st & ~MPIE) | ((st & MIE) ? MPIE : 0);
        st &= ~MIE;
        s.mstatus = st;
        s.priv = PRV_M;
        uint64_t base = s.mtvec & ~3ull;
        s.pc = ((s.mtvec & 3) == 1 && interrupt) ? base + 4 * cause : base;
    }
    s.pc &= xmask();
    if (instr_ && interrupt) [[unlikely]] instr_->interrupted(epc, s.pc);
    request_check();
}

bool Hart::check_interrupts() {
    using namespace mstatus_bits;
    uint64_t pend = mip_effective() & s.mie;
    if (!pend) return false;
    s.waiting = 0;
    uint64_t sel = 0;
    uint64_t m = pend & ~s.mideleg;
    if (m && (s.priv < PRV_M || (s.mstatus & MIE))) {
        sel = m;
    } else {
        uint64_t sp = pend & s.mideleg;
        if (sp && (s.priv < PRV_S || (s.priv == PRV_S && (s.mstatus & SIE)))) sel = sp;
    }
    if (!sel) return false;
    static constexpr int order[] = {irq::MEI, irq::MSI, irq::MTI, irq::SEI, irq::SSI, irq::STI, 13};
    for (int i : order) {
        if (sel & (1ull << i)) {
            take_trap(i, 0, true);
            return true;
        }
    }
    return false;
}

void Hart::do_mret() {
    using namespace mstatus_bits;
    if (s.priv != PRV_M) illegal();
    uint64_t st = s.mstatus;
    unsigned prev = (st & MPP) >> 11;
    st = (st & ~MIE) | ((st & MPIE) ? MIE : 0);
    st |= MPIE;
    st &= ~MPP;   // least-privileged mode: U
    if (prev != PRV_M) st &= ~MPRV;
    s.mstatus = st;
    s.priv = static_cast<uint8_t>(prev);
    npc_ = s.mepc & ~1ull;
    request_check();
}

void Hart::do_sret() {
    using namespace mstatus_bits;
    if (s.priv < PRV_S || (s.priv == PRV_S && (s.mstatus & TSR))) illegal();
    uint64_t st = s.mstatus;
    unsigned prev = (st & SPP) >> 8;
    st = (st & ~SIE) | ((st & SPIE) ? SIE : 0);
    st |= SPIE;
    st &= ~SPP;
    st &= ~MPRV;
    s.mstatus = st;
    s.priv = static_cast<uint8_t>(prev);
    npc_ = s.sepc & ~1ull;
    request_check();
}

void Hart::do_wfi() {
    if (s.priv == PRV_U || (s.priv == PRV_S && (s.mstatus & mstatus_bits::TW))) illegal();
    if (!(mip_effective() & s.mie)) {
        s.waiting = 1;
        request_check();
    }
}

void Hart::fs_check() {
    if (!(s.mstatus & mstatus_bits::FS)) illegal();
}

}  // namespace rv
