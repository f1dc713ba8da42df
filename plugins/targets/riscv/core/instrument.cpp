// Instrumented execution: block formation, the block cache and the
// callbacks around blocks, instructions and memory accesses.
#include "instrument.hpp"

#include "hart.hpp"
#include "isa/isa.hpp"

#include <algorithm>

namespace rv {

namespace {

constexpr uint32_t kOpBranch = 0x63, kOpJal = 0x6f, kOpJalr = 0x67, kOpSystem = 0x73, kOpMiscMem = 0x0f;
constexpr uint32_t kOpLoad = 0x03, kOpAmo = 0x2f;

// Instructions after which a block ends: anything that may change the pc,
// the privilege or the translation, and fence.i.
bool ends_block(uint32_t word) {
    const uint32_t op = word & 0x7f;
    if (op == kOpBranch || op == kOpJal || op == kOpJalr || op == kOpSystem) return true;
    return op == kOpMiscMem && ((word >> 12) & 7) == 1;
}

// Whether the executing instruction's load sign-extends (as the reference
// describes RISC-V loads: LB/LH/LW/LD and AMOs are signed, LBU/LHU/LWU and
// floating-point loads are not).
bool load_signed(uint32_t word) {
    const uint32_t op = word & 0x7f;
    if (op == kOpLoad) return ((word >> 12) & 7) <= 3;
    return op == kOpAmo;
}

struct FlagGuard {
    bool &flag;
    explicit FlagGuard(bool &f) : flag(f) { flag = false; }
    ~FlagGuard() { flag = true; }
};

unsigned shift_of(unsigned size) { return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3; }

}  // namespace

Instrumenter::Instrumenter(Hart &h, const InstrHooks &hooks)
    : h_(h), hooks_(hooks), code_gen_seen_(h.code_gen_),
      flush_gen_seen_(hooks.flush_generation ? *hooks.flush_generation : 0) {}

Instrumenter::~Instrumenter() {
    for (auto &[k, b] : blocks_)
        if (b->plan && hooks_.release) hooks_.release(hooks_.ctx, b->plan);
}

void Instrumenter::flush() {
    for (auto &[k, b] : blocks_)
        if (b->plan && hooks_.release) hooks_.release(hooks_.ctx, b->plan);
    blocks_.clear();
    if (hooks_.flushed) hooks_.flushed(hooks_.ctx);
}

void Instrumenter::drop(uint64_t key) {
    auto it = blocks_.find(key);
    if (it == blocks_.end()) return;
    if (it->second->plan && hooks_.release) hooks_.release(hooks_.ctx, it->second->plan);
    blocks_.erase(it);
}

Instrumenter::Block *Instrumenter::translate(uint64_t pc, uint64_t pa) {
    auto b = std::make_unique<Block>();
    b->pc = pc;
    b->priv = h_.s.priv;
    b->pa = pa;
    uint64_t at = pc;
    const uint64_t page = pc & ~0xfffull;
    while (b->insns.size() < kMaxBlockInsns) {
        // Debug reads: no faults for instructions that may never run (the
        // first one was fetched for real by the caller).
        uint16_t lo = 0;
        if (!h_.debug_read(at, &lo, 2)) break;
        InstrInsn in{};
        in.vaddr = at;
        in.len = (lo & 3) == 3 ? 4 : 2;
        uint32_t word = lo;
        if (in.len == 4) {
            uint16_t hi = 0;
            if (!h_.debug_read(at + 2, &hi, 2)) break;
            word |= uint32_t(hi) << 16;
        }
        std::memcpy(in.bytes, &word, in.len);
        if (!h_.debug_translate(at, Access::Fetch, in.paddr)) in.paddr = ~0ull;
        RamRange rr;
        if (in.paddr != ~0ull && h_.bus.lookup(in.paddr, rr) && in.paddr + in.len <= rr.base + rr.len)
            in.haddr = rr.host + (in.paddr - rr.base);
        Insn dec;
        decode(h_, word, in.len, dec);
        b->insns.push_back(in);
        b->raw.push_back(dec.raw);
        at = (at + in.len) & h_.xmask();
        if (ends_block(dec.raw) || dec.op == kIllegalOp) break;
        if ((at & ~0xfffull) != page) break;   // blocks stay within one page
    }
    if (b->insns.empty()) return nullptr;
    b->plan = hooks_.translate(hooks_.ctx, pc, b->insns.data(), static_cast<uint32_t>(b->insns.size()));
    if (b->plan && !h_.instr_nocache_) {
        // The first block with memory callbacks: from now on data accesses
        // bypass the TLB so the slow paths see (and report) every one.
        for (size_t i = 0; i < b->insns.size(); ++i)
            if (b->plan->insn_flags[i] & kInstrMem) {
                h_.instr_nocache_ = true;
                h_.flush_tlb();
                break;
            }
    }
    Block *raw = b.get();
    blocks_[(pc << 2) | h_.s.priv] = std::move(b);
    return raw;
}

void Instrumenter::execute(Block &b, uint64_t &done) {
    const InstrPlan *plan = b.plan;
    if (plan && plan->block_flags && hooks_.block_exec) hooks_.block_exec(hooks_.ctx, plan);
    const size_t n = b.insns.size();
    for (size_t i = 0; i < n; ++i) {
        h_.pc_ = h_.s.pc;
        const Insn &in = h_.fetch(h_.pc_);
        if (in.raw != b.raw[i]) {   // the code changed under the block: translate again
            drop((b.pc << 2) | b.priv);
            return;
        }
        const uint8_t flags = plan ? plan->insn_flags[i] : 0;
        if ((flags & kInstrExec) && hooks_.insn_exec) hooks_.insn_exec(hooks_.ctx, plan, static_cast<uint32_t>(i));
        cur_plan_ = plan;
        cur_index_ = static_cast<uint32_t>(i);
        h_.instr_report_ = (flags & kInstrMem) != 0;
        h_.exec_insn(in);
        h_.instr_report_ = false;
        const uint64_t seq = h_.pc_ + in.len;
        ++done;
        if (h_.s.pc != (seq & h_.xmask())) return;   // left the straight line
    }
}

void Instrumenter::run(uint64_t n, uint64_t &done) {
    while (done < n && !h_.check_.load(std::memory_order_relaxed)) {
        if (h_.code_gen_ != code_gen_seen_ ||
            (hooks_.flush_generation && *hooks_.flush_generation != flush_gen_seen_)) {
            code_gen_seen_ = h_.code_gen_;
            if (hooks_.flush_generation) flush_gen_seen_ = *hooks_.flush_generation;
            flush();
        }
        const uint64_t pc = h_.s.pc;
        try {
            h_.pc_ = pc;
            h_.fetch(pc);   // raises the fetch fault, if any, before anything is reported
            // Physical address of the block start: from the fetch TLB the
            // fetch just filled, else a debug walk (MMIO, uncached pages).
            uint64_t pa = ~0ull;
            const uint64_t vpn = pc >> 12;
            const Hart::FetchEntry &fe = h_.ftlb_[vpn & (h_.ftlb_.size() - 1)];
            if (fe.tag == ((vpn << 2) | h_.s.priv) && fe.page) pa = fe.page->pa | (pc & 0xfff);
            else h_.debug_translate(pc, Access::Fetch, pa);
            auto it = blocks_.find((pc << 2) | h_.s.priv);
            Block *b = nullptr;
            if (it != blocks_.end() && it->second->pc == pc && it->second->pa == pa) {
                b = it->second.get();
            } else {
                if (it != blocks_.end()) drop(it->first);
                b = translate(pc, pa);
            }
            if (!b) {
                h_.raise(EXC_INSN_ACCESS, pc);
            }
            if (h_.trace_blocks) [[unlikely]] h_.on_block(h_.hook_opaque, h_, pc);   // -d exec, -d cpu
            execute(*b, done);
        } catch (const Trap &t) {
            h_.instr_report_ = false;
            const uint64_t from = h_.s.pc;
            h_.take_trap(t.cause, t.tval, false);
            ++done;
            if (hooks_.discon) hooks_.discon(hooks_.ctx, kDisconException, from, h_.s.pc);
        }
    }
}

void Instrumenter::report(uint64_t va, unsigned size, uint64_t value, bool store) {
    if (!hooks_.mem || !cur_plan_) return;
    InstrMem m{va, value, static_cast<uint8_t>(shift_of(size)), static_cast<uint8_t>(store),
               static_cast<uint8_t>(!store && load_signed(h_.cur_raw_))};
    hooks_.mem(hooks_.ctx, cur_plan_, cur_index_, m);
}

bool instr_tlb_load(Hart &h, uint64_t va, unsigned size, uint64_t &v) {
    const Hart::TlbEntry &e = h.tlb_[h.data_priv()][(va >> 12) & (Hart::kTlbSize - 1)];
    if (e.tag_r != (Hart::tlb_tag(va) ^ kInstrTlbMark) || (va & (size - 1))) return false;
    v = 0;
    std::memcpy(&v, reinterpret_cast<const uint8_t *>(e.addend + va), size);
    return true;
}

bool instr_tlb_store(Hart &h, uint64_t va, unsigned size, uint64_t v) {
    const Hart::TlbEntry &e = h.tlb_[h.data_priv()][(va >> 12) & (Hart::kTlbSize - 1)];
    const uint64_t tag = Hart::tlb_tag(va) ^ kInstrTlbMark;
    if (va & (size - 1)) return false;
    if (e.writes_code(tag)) {
        h.note_store(e.page() | (va & 0xfff), size);   // the page holds decoded code
    } else if (e.tag_w != tag) {
        return false;
    }
    std::memcpy(reinterpret_cast<uint8_t *>(e.addend + va), &v, size);
    return true;
}

uint64_t instr_load(Hart &h, uint64_t va, unsigned size) {
    uint64_t v;
    {
        FlagGuard g(h.instr_report_);
        v = load_slow_n(h, va, size);
    }
    h.instr_->report(va, size, v, false);
    return v;
}

void instr_store(Hart &h, uint64_t va, unsigned size, uint64_t v) {
    {
        FlagGuard g(h.instr_report_);
        store_slow_n(h, va, size, v);
    }
    h.instr_->report(va, size, size == 8 ? v : v & ((1ull << (8 * size)) - 1), true);
}

}  // namespace rv
