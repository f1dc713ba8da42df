// The RISC-V JIT: translates guest basic blocks to x86-64 (xbyak) and runs
// them, falling back to the interpreter's handlers for every instruction it
// does not translate natively. Plugs into rv::Hart as its ExecEngine.
#pragma once

#include "../core/hart.hpp"
#include "../core/pool.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rv::jit {

struct Options {
    size_t cache_bytes = 64u << 20;   // tb-size (the code cache); full: flushed
    unsigned max_insns = 64;          // per block; 1 = one-insn-per-tb
    bool chain = true;                // false: -d nochain
    // -d out_asm: called with the disassembly of each new block.
    std::function<void(std::string_view)> out_asm;
    // -perfmap: each new block is listed in /tmp/perf-<pid>.map so that perf
    // names JIT code by guest pc.
    bool perfmap = false;
    // -jitdump: each new block (name and code) goes to jit-<pid>.dump in
    // $TMPDIR or /tmp (perf's jitdump format, for `perf inject --jit`).
    bool jitdump = false;
};

// Appends "START SIZE NAME" to /tmp/perf-<pid>.map (perf's JIT map format),
// shared by every hart; flushed per line so perf sees blocks of a live VM.
void perfmap_add(const void *code, size_t size, uint64_t guest_pc);

// Appends a JIT_CODE_LOAD record to the process's jitdump file (created with
// its header and the mmap marker perf looks for on first use).
void jitdump_add(const void *code, size_t size, uint64_t guest_pc);
std::string jitdump_path();

// One mmap'd read-write-execute region; blocks are bump-allocated and the
// whole region is reset when full.
class CodeCache {
public:
    explicit CodeCache(size_t bytes);
    ~CodeCache();
    CodeCache(const CodeCache &) = delete;
    CodeCache &operator=(const CodeCache &) = delete;
    uint8_t *base() const { return base_; }
    size_t size() const { return size_; }

private:
    uint8_t *base_ = nullptr;
    size_t size_ = 0;
};

struct Block;

// A direct exit of a block to a known pc in the same page: a patchable
// `jmp`/`jcc` whose rel32 is at `site`; it goes to `stub` (back to the
// dispatcher) until chained to the target block. (A Linux boot keeps ~10^5
// blocks per hart: their records are kept small.)
struct BlockExit {
    Block *from = nullptr;
    Block *to = nullptr;             // the block it is chained to
    BlockExit *next_in = nullptr;    // the next exit chained to `to`
    uint32_t site = 0, stub = 0;     // offsets in from->code: the rel32, the stub
    uint16_t target = 0;             // the target pc's offset in from's page
    uint8_t *site_at() const;
    uint8_t *stub_at() const;
    uint64_t target_pc() const;
};

struct Block {
    uint64_t pc = 0;        // virtual pc of the first instruction
    uint64_t pa = 0;        // its physical address
    const uint8_t *code = nullptr;
    Block *hash_next = nullptr;        // the next block in its blocks_ bucket
    BlockExit *incoming = nullptr;     // exits chained to it (through next_in)
    // The code-flush epoch its page was last checked in (after a fence.i the
    // page compares its bytes and reports changes, which drop blocks).
    uint64_t epoch = 0;
    uint32_t code_size = 0;
    uint16_t bytes = 0;     // guest bytes covered (from pa)
    uint8_t mode = 0;
    // One instruction straddling two pages: its code returns to the
    // dispatcher, which interprets it.
    bool interp = false;
    uint8_t nexits = 0;
    // Offset of the entry that skips the prologue's checks (pays only):
    // chained jumps to a block at a higher pc enter there. Every cycle of
    // blocks has an edge to a block at a lower or equal pc (or an indirect
    // jump, or a loop's own back edge), which checks.
    uint8_t skip = 0;
    BlockExit exits[2];
};

inline uint8_t *BlockExit::site_at() const { return const_cast<uint8_t *>(from->code) + site; }
inline uint8_t *BlockExit::stub_at() const { return const_cast<uint8_t *>(from->code) + stub; }
inline uint64_t BlockExit::target_pc() const { return (from->pc & ~0xfffull) | target; }

// Per-entry context. It lives in the first page of the code cache so that
// generated code reaches it rip-relative (r12 holds `left` meanwhile).
struct Ctx {
    int64_t left = 0;     // instruction budget; blocks pay on entry
    // instret + left while generated code runs: blocks only pay from the
    // budget, and instret is derived when C++ code needs it.
    uint64_t base = 0;
    uint64_t mode = 0;    // jump-cache key of the current state (mode, TLB generation)
    uint64_t epoch = 0;   // bumped by fence.i: blocks' pages re-check their bytes before they run
    // Native FP: the MXCSR blocks load before their first FP op (round to
    // nearest even, all exceptions masked, no FTZ/DAZ, flags clear), a slot
    // for stmxcsr, and MXCSR exception flags -> fflags (IE->NV, ZE->DZ,
    // OE->OF, UE->UF, PE->NX; the denormal flag is ignored).
    uint32_t mxcsr_clean = 0x1f80;
    uint32_t mxcsr_tmp = 0;
    uint8_t flag_map[64] = {};
    // Loops' one-entry TLBs (Emitter::probe): the tags (key of the page and
    // alignment; -1 matches nothing). Their addends live in host registers.
    static constexpr unsigned kMemos = 4;
    uint64_t memo_tag[kMemos] = {~0ull, ~0ull, ~0ull, ~0ull};
    Ctx();
};

// (virtual pc, mode) -> block, probed by generated code for indirect jumps.
struct JcEntry {
    uint64_t pc = ~0ull;
    uint64_t mode = ~0ull;
    const uint8_t *code = nullptr;
    Block *block = nullptr;
};

class Jit final : public ExecEngine {
    Options opt_;
    CodeCache cache_;   // before ctx_, which lives in it

public:
    Jit(Hart &h, Options opt);
    ~Jit() override;
    Jit(const Jit &) = delete;
    Jit &operator=(const Jit &) = delete;

    // ExecEngine
    uint64_t exec(uint64_t n) override;
    void code_written(uint64_t pa, unsigned size) override;
    void code_dropped(uint64_t pa_page) override;
    void code_flushed() override;
    void tlb_flushed() override;
    void tlb_page_flushed(uint64_t va) override;

    // Drop every translation (e.g. tests); the cache is reused.
    void flush();

    struct Stats {
        uint64_t blocks = 0, flushes = 0, chained = 0, invalidations = 0, stepped = 0;
    };
    const Stats &stats() const { return stats_; }
    uint64_t jc_generation() const { return jc_gen_; }
    const Options &options() const { return opt_; }

    // ---- used by the generated code's helpers (translate.cpp) ----
    Hart &h;
    Ctx &ctx_;
    bool invalidated_ = false;             // blocks dropped since entry: leave generated code
    std::exception_ptr pending_;           // a non-Trap exception caught in a helper
    static constexpr unsigned kJcBits = 14;
    static constexpr size_t kCtxPage = 4096;   // the Ctx's page: no code shares it
    std::vector<JcEntry> jc_;

private:
    friend class Emitter;
    uint32_t mode_key() const;
    // Jump-cache key: the mode and the TLB-flush generation.
    uint64_t jc_key(uint32_t mode) const { return mode | jc_gen_ << 8; }
    Block *lookup(uint64_t pc, uint32_t mode);
    Block *translate(uint64_t pc, uint64_t pa, uint32_t mode);
    void emit_prelude();
    void step_one();
    void drop_block(Block *b);
    void unchain_incoming(Block *b);
    void chain(BlockExit *e, Block *to);
    void maybe_flush_for_space();

    size_t used_ = 0;            // bytes of the cache in use
    size_t prelude_end_ = 0;
    // Prelude entry points.
    using EnterFn = uintptr_t (*)(Hart *, Ctx *, const uint8_t *);
    EnterFn enter_ = nullptr;
    const uint8_t *exit0_ = nullptr;     // return 0 to the dispatcher
    const uint8_t *epilogue_ = nullptr;  // return rax
    const uint8_t *lookup_ = nullptr;    // rax = target pc: jump cache probe or exit
    const uint8_t *leave32_ = nullptr, *leave64_ = nullptr;   // store the pc after the call, exit
    const uint8_t *exit_stub_ = nullptr;  // rax = an unchained BlockExit: store its target, return it
    // helper_load / helper_store / helper_fallback with the common part of
    // their calls (translate.cpp, Emitter::call_thunk).
    const uint8_t *thunk_load_ = nullptr, *thunk_store_ = nullptr, *thunk_fallback_ = nullptr;

    // Blocks bake their virtual pcs in (auipc, links, exits): the key is the
    // physical address, the mode and the virtual pc. An intrusive hash table
    // (chains through Block::hash_next) over pooled records.
    static size_t hash_of(uint64_t pa, uint32_t mode, uint64_t pc) {
        return static_cast<size_t>(((pa * 16 + mode) * 0x9e3779b97f4a7c15ull ^ pc * 0xc2b2ae3d27d4eb4full) >> 32);
    }
    Block *&bucket(uint64_t pa, uint32_t mode, uint64_t pc) {
        return buckets_[hash_of(pa, mode, pc) & (buckets_.size() - 1)];
    }
    Block *find_block(uint64_t pa, uint32_t mode, uint64_t pc);
    void insert_block(Block *b);
    void free_blocks();
    std::vector<Block *> buckets_ = std::vector<Block *>(size_t{1} << 16);
    size_t nblocks_ = 0;
    Pool<Block> pool_;
    std::unordered_map<uint64_t, std::vector<Block *>> by_page_;    // pa >> 12 -> blocks
    uint64_t epoch_ = 0;       // bumped on any drop/flush: pending chain requests die
    uint64_t jc_gen_ = 0;      // bumped by TLB flushes: older jump-cache entries are stale
    // Virtual pages that may have jump-cache entries (a hashed bitmap,
    // cleared with each new generation): Linux fences kernel pages one at a
    // time tens of thousands of times while booting, nearly all of them
    // pages without code, which then leave the jump cache alone.
    PageFilter<13> jc_pages_;   // by va >> 12
    void new_jc_generation();
    Stats stats_;
};

// Disassemble host code (capstone when built with it).
std::string disas_host(const uint8_t *code, size_t size);

}  // namespace rv::jit
