// The JIT's dispatcher, block bookkeeping, chaining and invalidation.
#include "jit.hpp"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>
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

Ctx::Ctx() {
    for (unsigned m = 0; m < 64; ++m) {
        flag_map[m] = static_cast<uint8_t>((m & 1 ? 0x10 : 0) | (m & 4 ? 0x08 : 0) | (m & 8 ? 0x04 : 0) |
                                           (m & 16 ? 0x02 : 0) | (m & 32 ? 0x01 : 0));
    }
}

// rip-relative reach from every block to the Ctx at the cache's start.
constexpr size_t kMaxCache = size_t(1) << 30;

Jit::Jit(Hart &hart, Options opt)
    : opt_(std::move(opt)), cache_(std::min(opt_.cache_bytes, kMaxCache)), h(hart),
      ctx_(*new (cache_.base()) Ctx), jc_(size_t(1) << kJcBits) {
    static_assert(sizeof(Ctx) <= Jit::kCtxPage && std::is_trivially_destructible_v<Ctx>);
    emit_prelude();
    h.engine_ = this;
}

Jit::~Jit() {
    if (h.engine_ == this) h.engine_ = nullptr;
    if (std::getenv("TESSERA_JIT_STATS"))   // a tuning aid, documented in README.md
        std::fprintf(stderr,
                     "jit: %llu blocks, %llu flushes, %llu chained, %llu invalidated, %llu stepped; "
                     "%zu KiB code, %zu live blocks, %zu decoded pages, %zu chunks, %zu slot arrays\n",
                     static_cast<unsigned long long>(stats_.blocks), static_cast<unsigned long long>(stats_.flushes),
                     static_cast<unsigned long long>(stats_.chained),
                     static_cast<unsigned long long>(stats_.invalidations),
                     static_cast<unsigned long long>(stats_.stepped), used_ / 1024, nblocks_,
                     h.code_.size(), h.chunks_.in_use(), h.slots_.in_use());
}

uint32_t Jit::mode_key() const { return h.s.priv | (h.data_priv() << 2); }

void Jit::flush() {
    free_blocks();
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
    for (BlockExit *e = b->incoming, *next; e; e = next) {
        next = e->next_in;
        int32_t rel = static_cast<int32_t>(e->stub_at() - (e->site_at() + 4));
        std::memcpy(e->site_at(), &rel, 4);
        e->to = nullptr;
        e->next_in = nullptr;
    }
    b->incoming = nullptr;
}

void Jit::drop_block(Block *b) {
    unchain_incoming(b);
    for (unsigned i = 0; i < b->nexits; ++i) {
        BlockExit &e = b->exits[i];
        if (!e.to) continue;
        for (BlockExit **p = &e.to->incoming; *p; p = &(*p)->next_in)
            if (*p == &e) {
                *p = e.next_in;
                break;
            }
    }
    // A block can only sit in the jump-cache slot of its own virtual pc.
    if (JcEntry &je = jc_[(b->pc >> 1) & ((1u << kJcBits) - 1)]; je.block == b) je = JcEntry{};
    ++stats_.invalidations;
    for (Block **p = &bucket(b->pa, b->mode, b->pc); *p; p = &(*p)->hash_next)
        if (*p == b) {
            *p = b->hash_next;
            break;
        }
    --nblocks_;
    pool_.put(b);
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

// fence.i: stores of other harts become visible. Rather than dropping
// everything (Linux runs fence.i thousands of times while booting), a
// block's page compares its bytes before the block next runs (the prologue
// checks the epoch) and reports what changed through code_written, which
// drops the blocks made from those bytes.
void Jit::code_flushed() {
    ++ctx_.epoch;
    new_jc_generation();   // jump-cache entries must not lead to blocks of unchecked pages
    invalidated_ = true;   // leave generated code: a loop's back edge does not check the epoch
}

void Jit::tlb_flushed() { new_jc_generation(); }

// Virtual -> block associations may be stale now: entries of older
// generations no longer match (Linux flushes often; clearing 128 KiB each
// time was a tenth of its boot).
void Jit::new_jc_generation() {
    ++jc_gen_;
    jc_pages_.clear();
}

void Jit::tlb_page_flushed(uint64_t va) {
    if (jc_pages_.maybe(va >> 12)) new_jc_generation();
}

// ---- Dispatch -------------------------------------------------------------------

void Jit::chain(BlockExit *e, Block *to) {
    const uint8_t *entry = to->code + (to->pc > e->from->pc ? to->skip : 0);
    int32_t rel = static_cast<int32_t>(entry - (e->site_at() + 4));
    std::memcpy(e->site_at(), &rel, 4);
    e->to = to;
    e->next_in = to->incoming;
    to->incoming = e;
    ++stats_.chained;
}

Block *Jit::lookup(uint64_t pc, uint32_t mode) {
    JcEntry &je = jc_[(pc >> 1) & ((1u << kJcBits) - 1)];
    if (je.pc == pc && je.mode == jc_key(mode) && je.block->epoch == ctx_.epoch) return je.block;
    // The hart's fetch TLB knows the page when it was fetched from lately
    // (it holds only cacheable RAM pages that are code, and goes with every
    // TLB flush, fence.i and dropped page): no page walk then.
    uint64_t pa;
    const uint64_t vpn = pc >> 12, tag = (vpn << 2) | h.s.priv;
    Hart::FetchEntry &fe = h.ftlb_[vpn & (h.ftlb_.size() - 1)];
    if (fe.tag == tag && fe.page) {
        pa = fe.page->pa | (pc & 0xfff);
        // After a fence.i the page re-checks its bytes first.
        if (fe.page->epoch != h.fence_epoch_ && !h.code_page(fe.page->pa)) return nullptr;
    } else {
        Hart::XlateInfo info;
        pa = h.translate(pc, 2, Access::Fetch, h.s.priv, info);   // may throw Trap
        if (!info.cacheable) return nullptr;   // PMP splits the page: interpret
        CodePage *page = h.code_page(pa & ~0xfffull);
        if (!page) return nullptr;   // not RAM
        fe = Hart::FetchEntry{tag, page};
    }
    Block *b = find_block(pa, mode, pc);
    if (b && b->epoch != ctx_.epoch) {
        // The page re-checks its bytes (when not yet done since the fence.i):
        // changed ones drop their blocks, perhaps this one.
        if (!h.code_page(pa & ~0xfffull)) return nullptr;   // no longer RAM
        b = find_block(pa, mode, pc);
        if (b) b->epoch = ctx_.epoch;
    }
    if (!b) {
        b = translate(pc, pa, mode);
        if (!b) return nullptr;
    }
    je = JcEntry{pc, jc_key(mode), b->code, b};
    jc_pages_.add(pc >> 12);
    return b;
}

Block *Jit::find_block(uint64_t pa, uint32_t mode, uint64_t pc) {
    for (Block *b = bucket(pa, mode, pc); b; b = b->hash_next)
        if (b->pa == pa && b->pc == pc && b->mode == mode) return b;
    return nullptr;
}

void Jit::insert_block(Block *b) {
    if (++nblocks_ > buckets_.size()) {   // load factor 1: rehash into twice the buckets
        std::vector<Block *> old(buckets_.size() * 2);
        old.swap(buckets_);
        for (Block *c : old)
            for (Block *next; c; c = next) {
                next = c->hash_next;
                Block *&head = bucket(c->pa, c->mode, c->pc);
                c->hash_next = head;
                head = c;
            }
    }
    Block *&head = bucket(b->pa, b->mode, b->pc);
    b->hash_next = head;
    head = b;
}

void Jit::free_blocks() {
    for (Block *&head : buckets_) {
        for (Block *b = head, *next; b; b = next) {
            next = b->hash_next;
            pool_.put(b);
        }
        head = nullptr;
    }
    nblocks_ = 0;
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
        if (pending && pending_epoch == epoch_ && pending->target_pc() == pc &&
            pending->from->mode == mode && !pending->to)
            chain(pending, b);
        pending = nullptr;
        if (b->interp) {
            step_one();
            --ctx_.left;
            continue;
        }
        ctx_.mode = jc_key(mode);
        invalidated_ = false;
        ctx_.base = h.s.instret + static_cast<uint64_t>(ctx_.left);
        uintptr_t r = enter_(&h, &ctx_, b->code);
        h.s.instret = ctx_.base - static_cast<uint64_t>(ctx_.left);
        if (pending_) std::rethrow_exception(std::exchange(pending_, nullptr));
        if (r && opt_.chain && !invalidated_) {
            pending = reinterpret_cast<BlockExit *>(r);
            pending_epoch = epoch_;
        }
    }
    return static_cast<uint64_t>(static_cast<int64_t>(n) - ctx_.left);
}

// ---- jitdump (tools/perf/Documentation/jitdump-specification.txt) -------------

namespace {

struct DumpHeader {
    uint32_t magic = 0x4a695444;   // "JiTD" as written by the host (little endian)
    uint32_t version = 1;
    uint32_t total_size = sizeof(DumpHeader);
    uint32_t elf_mach = 62;   // EM_X86_64
    uint32_t pad1 = 0;
    uint32_t pid = 0;
    uint64_t timestamp = 0;
    uint64_t flags = 0;
};
struct CodeLoad {   // followed by the name (NUL-terminated) and the code
    uint32_t id = 0;   // JIT_CODE_LOAD
    uint32_t total_size = 0;
    uint64_t timestamp = 0;
    uint32_t pid = 0, tid = 0;
    uint64_t vma = 0, code_addr = 0, code_size = 0, code_index = 0;
};
static_assert(sizeof(DumpHeader) == 40 && sizeof(CodeLoad) == 56);

// perf record -k mono: the same clock.
uint64_t mono_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

std::string jitdump_path() {
    const char *dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/jit-" + std::to_string(getpid()) + ".dump";
}

void jitdump_add(const void *code, size_t size, uint64_t guest_pc) {
    static std::mutex lock;
    static FILE *dump = nullptr;
    static bool failed = false;
    static uint64_t index = 0;
    std::lock_guard g(lock);
    if (!dump && !failed) {
        const std::string path = jitdump_path();
        dump = std::fopen(path.c_str(), "w+");
        if (!dump) {
            failed = true;
            std::fprintf(stderr, "tessera: -jitdump: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
            return;
        }
        DumpHeader hdr;
        hdr.pid = static_cast<uint32_t>(getpid());
        hdr.timestamp = mono_ns();
        std::fwrite(&hdr, sizeof hdr, 1, dump);
        std::fflush(dump);
        // perf finds the file through this executable mapping of it (kept for
        // the process's life).
        void *marker = mmap(nullptr, static_cast<size_t>(sysconf(_SC_PAGESIZE)), PROT_READ | PROT_EXEC,
                            MAP_PRIVATE, fileno(dump), 0);
        if (marker == MAP_FAILED)
            std::fprintf(stderr, "tessera: -jitdump: cannot map %s: %s\n", path.c_str(), std::strerror(errno));
    }
    if (!dump) return;
    char name[32];
    const int len = std::snprintf(name, sizeof name, "riscv:0x%llx", static_cast<unsigned long long>(guest_pc));
    CodeLoad rec;
    rec.total_size = static_cast<uint32_t>(sizeof rec + static_cast<size_t>(len) + 1 + size);
    rec.timestamp = mono_ns();
    rec.pid = static_cast<uint32_t>(getpid());
    rec.tid = static_cast<uint32_t>(gettid());
    rec.vma = rec.code_addr = reinterpret_cast<uintptr_t>(code);
    rec.code_size = size;
    rec.code_index = index++;
    std::fwrite(&rec, sizeof rec, 1, dump);
    std::fwrite(name, static_cast<size_t>(len) + 1, 1, dump);
    std::fwrite(code, size, 1, dump);
    std::fflush(dump);
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
