// The JIT's dispatcher, block bookkeeping, chaining and invalidation.
#include "jit.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace rv::jit {

CodeCache::CodeCache(size_t bytes) : size_(std::max<size_t>(bytes, 128u << 10)) {
    // Read-write-execute: blocks are patched in place when chained. (A
    // dual-mapped W^X cache is a later refinement.)
    void *p = mmap(nullptr, size_, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("jit: cannot map the code cache");
    base_ = static_cast<uint8_t *>(p);
}

CodeCache::~CodeCache() { munmap(base_, size_); }

Jit::Jit(Hart &hart, Options opt)
    : h(hart), jc_(size_t(1) << kJcBits), opt_(std::move(opt)), cache_(opt_.cache_bytes) {
    emit_prelude();
    h.engine_ = this;
}

Jit::~Jit() {
    if (h.engine_ == this) h.engine_ = nullptr;
    if (std::getenv("TESSERA_JIT_STATS"))   // a tuning aid, documented in README.md
        std::fprintf(stderr, "jit: %llu blocks, %llu flushes, %llu chained, %llu invalidated, %llu stepped\n",
                     static_cast<unsigned long long>(stats_.blocks), static_cast<unsigned long long>(stats_.flushes),
                     static_cast<unsigned long long>(stats_.chained),
                     static_cast<unsigned long long>(stats_.invalidations),
                     static_cast<unsigned long long>(stats_.stepped));
}

uint32_t Jit::mode_key() const { return h.s.priv | (h.data_priv() << 2); }

void Jit::flush() {
    blocks_.clear();
    by_page_.clear();
    std::fill(jc_.begin(), jc_.end(), JcEntry{});
    used_ = prelude_end_;
    ++epoch_;
    ++stats_.flushes;
    invalidated_ = true;
}

void Jit::maybe_flush_for_space() {
    constexpr size_t kHeadroom = 64u << 10;   // more than any block needs
    if (cache_.size() - used_ < kHeadroom) flush();
}

// ---- Invalidation -------------------------------------------------------------

void Jit::unchain_incoming(Block *b) {
    for (BlockExit *e : b->incoming) {
        int32_t rel = static_cast<int32_t>(e->stub - (e->site + 5));
        std::memcpy(e->site + 1, &rel, 4);
        e->to = nullptr;
    }
    b->incoming.clear();
}

void Jit::drop_block(Block *b) {
    unchain_incoming(b);
    for (unsigned i = 0; i < b->nexits; ++i) {
        BlockExit &e = b->exits[i];
        if (!e.to || e.to == b) continue;
        auto &in = e.to->incoming;
        in.erase(std::remove(in.begin(), in.end(), &e), in.end());
    }
    for (JcEntry &je : jc_)
        if (je.block == b) je = JcEntry{};
    ++stats_.invalidations;
    blocks_.erase(key_of(b->pa, b->mode, b->pc));   // frees b
}

void Jit::code_written(uint64_t pa, unsigned size) {
    auto it = by_page_.find(pa >> 12);
    if (it == by_page_.end()) return;
    std::vector<Block *> keep;
    for (Block *b : it->second) {
        if (pa < b->pa + b->bytes && pa + size > b->pa) {
            drop_block(b);
            invalidated_ = true;
            ++epoch_;
        } else {
            keep.push_back(b);
        }
    }
    if (keep.empty()) by_page_.erase(it);
    else it->second = std::move(keep);
}

void Jit::code_dropped(uint64_t pa_page) {
    auto it = by_page_.find(pa_page >> 12);
    if (it == by_page_.end()) return;
    for (Block *b : it->second) drop_block(b);
    by_page_.erase(it);
    invalidated_ = true;
    ++epoch_;
}

// fence.i, reset, memory-map changes: the hart forgot its decoded pages, so
// stores to them are no longer reported. Rather than dropping everything
// (Linux runs fence.i thousands of times while booting), blocks compare their
// guest bytes on their next entry (the prologue checks the epoch).
void Jit::code_flushed() {
    ++ctx_.epoch;
}

bool Jit::still_valid(Block *b) {
    // Re-registers the page as code, so stores to it are reported again.
    CodePage *page = h.code_page(b->pa & ~0xfffull);
    if (!page || std::memcmp(page->host + (b->pa & 0xfff), b->guest.data(), b->guest.size()) != 0) return false;
    b->epoch = ctx_.epoch;
    return true;
}

void Jit::tlb_flushed() {
    // Virtual -> block associations may be stale now.
    std::fill(jc_.begin(), jc_.end(), JcEntry{});
}

// ---- Dispatch -------------------------------------------------------------------

void Jit::chain(BlockExit *e, Block *to) {
    int32_t rel = static_cast<int32_t>(to->code - (e->site + 5));
    std::memcpy(e->site + 1, &rel, 4);
    e->to = to;
    to->incoming.push_back(e);
    ++stats_.chained;
}

Block *Jit::lookup(uint64_t pc, uint32_t mode) {
    JcEntry &je = jc_[(pc >> 1) & ((1u << kJcBits) - 1)];
    if (je.pc == pc && je.mode == mode && je.block->epoch == ctx_.epoch) return je.block;
    Hart::XlateInfo info;
    uint64_t pa = h.translate(pc, 2, Access::Fetch, h.s.priv, info);   // may throw Trap
    if (!info.cacheable) return nullptr;   // PMP splits the page: interpret
    if (!h.code_page(pa & ~0xfffull)) return nullptr;   // not RAM
    Block *b = nullptr;
    auto it = blocks_.find(key_of(pa, mode, pc));
    if (it != blocks_.end()) {
        b = it->second.get();
        if (b->epoch != ctx_.epoch && !still_valid(b)) {
            auto &list = by_page_[pa >> 12];
            list.erase(std::remove(list.begin(), list.end(), b), list.end());
            drop_block(b);
            ++epoch_;
            b = nullptr;
        }
    }
    if (!b) {
        b = translate(pc, pa, mode);
        if (!b) return nullptr;
    }
    je = JcEntry{pc, mode, b->code, b};
    return b;
}

// One instruction through the interpreter (code that is not translated).
void Jit::step_one() {
    ++stats_.stepped;
    h.pc_ = h.s.pc;
    try {
        const Insn &in = h.fetch(h.pc_);
        h.cur_raw_ = in.raw;
        h.npc_ = h.pc_ + in.len;
        in.fn(h, in);
        h.s.pc = h.npc_ & h.xmask();
        ++h.s.instret;
    } catch (const Trap &t) {
        h.take_trap(t.cause, t.tval, false);
    }
}

uint64_t Jit::exec(uint64_t n) {
    ctx_.left = static_cast<int64_t>(std::min<uint64_t>(n, INT64_MAX));
    BlockExit *pending = nullptr;   // a direct exit that asked to be chained
    uint64_t pending_epoch = 0;
    while (ctx_.left > 0 && !h.check_.load(std::memory_order_relaxed)) {
        invalidated_ = false;
        const uint32_t mode = mode_key();
        const uint64_t pc = h.s.pc;
        Block *b;
        try {
            b = lookup(pc, mode);
        } catch (const Trap &t) {   // instruction fetch fault
            h.pc_ = pc;
            h.take_trap(t.cause, t.tval, false);
            --ctx_.left;
            pending = nullptr;
            continue;
        }
        if (!b) {
            step_one();
            --ctx_.left;
            pending = nullptr;
            continue;
        }
        if (pending && pending_epoch == epoch_ && pending->target_pc == pc &&
            pending->from->mode == mode && !pending->to)
            chain(pending, b);
        pending = nullptr;
        ctx_.mode = mode;
        invalidated_ = false;
        uintptr_t r = enter_(&h, &ctx_, b->code);
        if (pending_) std::rethrow_exception(std::exchange(pending_, nullptr));
        if (r && opt_.chain && !invalidated_) {
            pending = reinterpret_cast<BlockExit *>(r);
            pending_epoch = epoch_;
        }
    }
    return static_cast<uint64_t>(static_cast<int64_t>(n) - ctx_.left);
}

void perfmap_add(const void *code, size_t size, uint64_t guest_pc) {
    static std::mutex lock;
    static FILE *map = nullptr;
    static bool failed = false;
    std::lock_guard g(lock);
    if (!map && !failed) {
        const std::string path = "/tmp/perf-" + std::to_string(getpid()) + ".map";
        map = std::fopen(path.c_str(), "w");
        if (!map) {
            failed = true;
            std::fprintf(stderr, "tessera: -perfmap: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
            return;
        }
    }
    if (!map) return;
    std::fprintf(map, "%zx %zx riscv:0x%llx\n", reinterpret_cast<uintptr_t>(code), size,
                 static_cast<unsigned long long>(guest_pc));
    std::fflush(map);
}

}  // namespace rv::jit
