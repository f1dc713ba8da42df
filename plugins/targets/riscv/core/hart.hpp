// One RISC-V hart: state, decoded-instruction cache, software TLB and the
// interpreter loop. No dependency on the plugin ABI.
#pragma once

#include "bus.hpp"
#include "cpu_state.hpp"
#include "page_filter.hpp"
#include "pool.hpp"

#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace rv {

class Hart;
class Instrumenter;
struct Insn;
using Handler = void (*)(Hart &, const Insn &);

// A decoded instruction (compressed ones expanded); lives in a CodePage slot.
struct Insn {
    Handler fn;       // the interpreter's handler (exec_illegal when none)
    int32_t imm;
    uint32_t raw;     // the 32-bit (expanded) encoding
    uint16_t op;      // index into the decode table (kIllegalOp: none)
    uint8_t rd, rs1, rs2, rs3;
    uint8_t len;      // 2 or 4; 0: an empty slot (not decoded)
    uint8_t pad;
};
static_assert(sizeof(Insn) == 24);
inline constexpr uint16_t kIllegalOp = 1023;

struct Config {
    unsigned xlen = 64;
    Extensions ext;
    uint64_t resetvec = 0x1000;
    uint64_t hartid = 0;
    unsigned max_satp_mode = 10;   // 8 sv39, 9 sv48, 10 sv57 (rv32: sv32)
};

enum class Access : uint8_t { Read = 0, Write = 1, Fetch = 2 };

enum class Exit { Budget, Halted, Stop, Debug };

// Debugger support. The numbers match the gdb remote protocol's Z packets
// (and tessera/debug.h), so the plugin can cast.
enum class DebugPoint : uint8_t { SwBreak = 0, HwBreak = 1, WatchWrite = 2, WatchRead = 3, WatchAccess = 4 };
enum class StopReason : uint8_t { None = 0, Break = 1, Watch = 2, Step = 3 };
struct DebugStop {
    StopReason reason = StopReason::None;
    DebugPoint point = DebugPoint::SwBreak;
    uint64_t addr = 0;   // Break: the pc; Watch: the watched address accessed
};

// 64 bytes of a code page: the bytes decoded from them (what fence.i
// compares), and the interpreter's decoded instructions, one slot per
// halfword. Allocated when first decoded from (a page is rarely executed
// all over); the slots only when the interpreter executes there (the JIT
// decodes without them): fully decoded pages (52 KiB each) were most of a
// Linux boot's memory.
struct CodeChunk {
    static constexpr unsigned kBytes = 64;
    using Slots = std::array<Insn, kBytes / 2>;
    std::array<uint8_t, kBytes> bytes;
};

// The decoded code of one 4 KiB physical page.
struct CodePage {
    uint64_t pa;           // page base
    const uint8_t *host;   // RAM backing of the page
    uint64_t epoch;        // the fence.i count its chunks were last checked at
    std::array<CodeChunk *, 4096 / CodeChunk::kBytes> chunk;   // null: nothing decoded there
    // Each chunk's slots (null: none decoded for the interpreter), kept
    // here so that the interpreter's fetch is one load away from them.
    std::array<CodeChunk::Slots *, 4096 / CodeChunk::kBytes> slots;
    // The interpreter's slot of the halfword at page offset `off`, or null.
    Insn *slot(unsigned off) const {
        CodeChunk::Slots *s = slots[off / CodeChunk::kBytes];
        return s ? &(*s)[(off % CodeChunk::kBytes) >> 1] : nullptr;
    }
};

// An engine that takes over run()'s straight-line execution (the JIT in
// ../jit). It hears about code invalidations and TLB flushes.
class ExecEngine {
public:
    virtual ~ExecEngine() = default;
    // Execute about n instructions (stops early when check_ is set); returns
    // how many count against the budget (>= 1 unless check_ was set).
    virtual uint64_t exec(uint64_t n) = 0;
    // Bytes of a decoded page changed: this hart stored there, or a page
    // found them changed when it re-checked itself after a fence.i.
    virtual void code_written(uint64_t pa, unsigned size) = 0;
    // The hart forgot a decoded page (DMA, eviction, reset).
    virtual void code_dropped(uint64_t pa_page) = 0;
    // fence.i: each decoded page compares its bytes on its next use
    // (code_page) and reports changes through code_written.
    virtual void code_flushed() = 0;
    virtual void tlb_flushed() = 0;
    // sfence.vma for one address: translations of that page went away
    // (an engine caching by virtual address drops what it has of it).
    virtual void tlb_page_flushed(uint64_t) { tlb_flushed(); }
};

class Hart {
public:
    Hart(Bus &bus, const Config &cfg);
    ~Hart();
    Hart(const Hart &) = delete;
    Hart &operator=(const Hart &) = delete;

    void reset();
    // Run at most `budget` instructions.
    Exit run(uint64_t budget);
    // Instructions the last run() executed, overshoot included (-icount).
    uint64_t run_count() const { return run_count_; }

    // ---- thread-safe inputs ----
    void set_irq_line(int n, bool level);
    void kick() { check_.store(true, std::memory_order_relaxed); kick_.store(true); }
    // Ask the run loop to return Exit::Stop (e.g. a device asked for shutdown).
    void request_stop() { stop_.store(true); kick(); }
    bool has_work() const;

    // ---- state ----
    CpuState s{};
    const Config cfg;
    Bus &bus;
    uint64_t pc_;      // pc of the instruction executing
    uint64_t npc_;     // where it goes next

    // ---- register helpers ----
    uint64_t xmask() const { return cfg.xlen == 32 ? 0xffffffffull : ~0ull; }
    uint64_t mip_effective() const;
    // Interrupt lines driven by devices (mip bit n = line n).
    uint64_t external_lines() const { return irq_lines_.load(std::memory_order_relaxed); }
    uint64_t time() { return bus.time(); }

    // ---- memory, with translation and protection ----
    template <class T> T load(uint64_t va);
    template <class T> void store(uint64_t va, T v);
    // Host pointer for an aligned read-modify-write (AMO); needs RAM.
    uint8_t *amo_ptr(uint64_t va, unsigned size, bool is_lr);
    // Debug translation (no side effects); false if unmapped.
    bool debug_translate(uint64_t va, Access acc, uint64_t &pa);
    bool debug_read(uint64_t va, void *buf, size_t len);
    // Zero a cache block (cbo.zero).
    void zero_block(uint64_t va);

    // ---- debugger (call with the hart stopped) ----
    // Breakpoints stop before the instruction at a virtual pc executes;
    // watchpoints stop after the access completes. Duplicates count once.
    // False: not a known point kind (insert) / not present (remove).
    bool debug_insert(DebugPoint type, uint64_t addr, uint64_t len);
    bool debug_remove(DebugPoint type, uint64_t addr, uint64_t len);
    void debug_remove_all();
    // While on, run() executes one instruction (or enters one trap) and
    // returns Exit::Debug; interrupts are not taken meanwhile.
    void set_single_step(bool on) { dbg_.step = on; }
    const DebugStop &last_stop() const { return dbg_.stop; }
    // A data access the slow paths made; records a stop if it hits a watchpoint.
    void watch_check(uint64_t va, unsigned size, bool write) {
        if (!dbg_.watches.empty()) [[unlikely]] watch_hit(va, size, write);
    }

    // ---- privileged ----
    [[noreturn]] void raise(uint64_t cause, uint64_t tval = 0) { throw Trap{cause, tval}; }
    [[noreturn]] void illegal() { raise(EXC_ILLEGAL, cur_raw_); }
    void take_trap(uint64_t cause, uint64_t tval, bool interrupt);
    bool check_interrupts();   // takes one if pending and enabled
    uint64_t csr_rw(unsigned num, unsigned op, uint64_t val, bool do_write);
    void do_mret();
    void do_sret();
    void do_wfi();
    void sfence_vma(uint64_t va, bool all);
    void fence_i();
    void flush_tlb();
    // SUM/MXR changed: data translations whose permissions depend on them
    // (S-mode on user pages, execute-only pages) go. Instruction fetch, so
    // the fetch TLB and an engine's pc caches, does not depend on them; nor
    // on MPRV/MPP, which only pick another TLB set (Linux toggles SUM around
    // every user access: flushing everything made each a page-walk storm).
    void flush_status_tlb();
    // Re-arm the Sstc timer from stimecmp/menvcfg (after reset or a snapshot load).
    void arm_timer_from_state() {
        bool on = cfg.ext.sstc && (s.menvcfg & menvcfg_bits::STCE);
        bus.arm_timer(on ? s.stimecmp : ~0ull);
        request_check();
    }
    void request_check() { check_.store(true, std::memory_order_relaxed); }
    void fs_check();           // illegal if FS == Off
    void fs_dirty() { s.mstatus |= mstatus_bits::FS; }
    bool ext_f() const { return (s.misa >> 5) & 1; }
    bool ext_d() const { return (s.misa >> 3) & 1; }
    // Invalidate decoded code for guest RAM written from outside (DMA).
    void invalidate_code(uint64_t pa, uint64_t len);
    void flush_code();

    // Logging hook for traps (-d int) and new blocks; set by the embedder.
    void (*on_trap)(void *opaque, const Hart &h, uint64_t cause, uint64_t tval, bool async,
                    uint64_t epc) = nullptr;
    // Called when an instruction is decoded into the cache (-d in_asm).
    void (*on_decode)(void *opaque, const Hart &h, uint64_t pc, const Insn &in) = nullptr;
    // Called before the first instruction of each straight-line run when
    // trace_blocks is set (-d exec, -d cpu).
    void (*on_block)(void *opaque, Hart &h, uint64_t pc) = nullptr;
    bool trace_blocks = false;
    // Called at each check boundary of the run loop (pending DMA invalidations).
    void (*on_check)(void *opaque, Hart &h) = nullptr;
    void *hook_opaque = nullptr;

    uint32_t cur_raw_ = 0;   // encoding of the executing insn (illegal tval)

    // Runs the decoded instruction at pc_ and commits it (pc, instret); a trap
    // (C++ exception) leaves before the commit. Every run loop (fast, debug,
    // instrumented) steps through here.
    void exec_insn(const Insn &in) {
        cur_raw_ = in.raw;
        npc_ = pc_ + in.len;
        in.fn(*this, in);
        s.pc = npc_ & xmask();
        ++s.instret;
    }

    // Software TLB. Entries keep (host - va) so a hit costs one add.
    // 32 bytes, so that generated code indexes the array with a shift.
    struct TlbEntry {
        // Tags are page-aligned virtual addresses (tlb_tag), so one compare
        // with the address masked by ~0xfff | (size - 1) also checks alignment.
        uint64_t tag_r = ~0ull, tag_w = ~0ull;
        uintptr_t addend = 0;
        uint64_t pa_page = 0;   // page base | kStatusDep | kWriteCode
        static constexpr uint64_t kStatusDep = 1;   // XlateInfo::status_dep
        // Writable, but the page holds decoded code (tag_w stays invalid):
        // stores must also clear the decoded slots they overwrite (a
        // medium-speed path for tags matching tag_r).
        static constexpr uint64_t kWriteCode = 2;
        uint64_t page() const { return pa_page & ~0xfffull; }
        bool writes_code(uint64_t tag) const { return (pa_page & kWriteCode) && tag_r == tag; }
    };
    static constexpr unsigned kTlbSize = 1024;
    static uint64_t tlb_tag(uint64_t va) { return va & ~0xfffull; }
    // An access of `size` bytes at va hits an entry when this equals its tag.
    static uint64_t tlb_key(uint64_t va, unsigned size) { return va & (~0xfffull | (size - 1)); }

    // ---- internals (public for the exec/csr/mmu files of the core) ----
    struct XlateInfo {
        bool cacheable = false;   // PMP uniform over the page
        bool can_read = false;    // a read of this page would succeed now
        bool can_write = false;   // a write would succeed without A/D work
        bool status_dep = false;  // its permissions depend on mstatus.SUM/MXR
    };
    unsigned data_priv() const;
    // Throws Trap on a fault (debug: returns ~0 instead, no side effects).
    uint64_t translate(uint64_t va, unsigned size, Access acc, unsigned priv, XlateInfo &info,
                       bool debug = false);
    bool pmp_check(uint64_t pa, unsigned size, Access acc, unsigned priv, bool &whole_page) const;
    bool pmp_check_uncached(uint64_t pa, unsigned size, Access acc, unsigned priv, bool &whole_page) const;
    struct PmpMemo {
        uint64_t key = ~0ull;   // page | access << 2 | privilege
        bool ok = false;
    };
    mutable std::array<PmpMemo, 64> pmp_memo_{};
    // A store hit [pa, pa+size): forget decoded instructions overlapping it.
    void note_store(uint64_t pa, unsigned size);
    void drop_code_page(uint64_t pa);
    void tlb_fill(unsigned priv, uint64_t va, uint64_t pa, const XlateInfo &info);

    CodePage *code_page(uint64_t pa_page);
    const Insn &fetch(uint64_t pc);
    // The instruction at pc for a translator: the interpreter's slot when
    // decoded already, else decoded into `tmp` (its bytes recorded, no slot
    // allocated). &scratch_ for one straddling two pages or outside RAM.
    const Insn &peek(uint64_t pc, Insn &tmp);
    uint32_t fetch_half(uint64_t va);   // slow fetch of 16 bits (MMIO, page crossing)
    void retire_graveyard();

    std::array<std::array<TlbEntry, kTlbSize>, 4> tlb_{};
    // Where status-dependent entries were filled since the last flush
    // (set * kTlbSize + index), so a SUM toggle need not scan every set;
    // past kMaxStatusDep fills the next one scans instead.
    std::vector<uint16_t> status_dep_at_;
    static constexpr size_t kMaxStatusDep = 1024;
    static_assert(4 * kTlbSize <= 65536);
    struct FetchEntry {
        uint64_t tag = ~0ull;
        CodePage *page = nullptr;
    };
    std::array<FetchEntry, 512> ftlb_{};   // Linux runs code from over a thousand pages
    std::unordered_map<uint64_t, std::unique_ptr<CodePage>> code_;
    // Physical pages that may be in code_ (a hashed bitmap, cleared only
    // with all of code_): every data TLB fill asks whether its page holds
    // code, and nearly all do not.
    PageFilter<16> code_filter_;   // by pa >> 12
    std::vector<std::unique_ptr<CodePage>> graveyard_;
    std::vector<std::unique_ptr<CodePage>> free_pages_;   // recycled
    // Chunks and slot arrays come from arenas and go back to free lists when
    // their page is retired (slots stay readable until then, like the page).
    Pool<CodeChunk> chunks_;
    Pool<CodeChunk::Slots> slots_;
    CodeChunk *new_chunk(CodePage &page, unsigned index);
    CodeChunk &chunk_at(CodePage &page, unsigned off);   // allocated on first use
    CodeChunk::Slots *new_slots();
    void release_chunks(CodePage &page);
    CodePage *fetch_page(uint64_t pc);
    // Decodes the instruction at pc (in RAM page `page`, not straddling)
    // into `out` and records its bytes in the chunk(s).
    void decode_at(CodePage &page, uint64_t pc, CodeChunk &c, Insn &out);
    Insn scratch_{};            // page-crossing / MMIO instructions (not cached)
    uint64_t bus_gen_ = 0;
    bool code_dirty_ = false;   // current page may have been invalidated

    struct Watch {
        uint64_t addr, len;
        DebugPoint type;
        bool operator==(const Watch &) const = default;
    };
    struct Debug {
        std::vector<std::pair<uint64_t, DebugPoint>> breaks;   // sorted by pc
        std::vector<Watch> watches;
        bool step = false;
        bool hit = false;   // a watchpoint fired in the current instruction
        DebugStop stop;
    } dbg_;
    bool debug_active() const { return dbg_.step || !dbg_.breaks.empty(); }
    bool watched_page(uint64_t va) const;   // a watch overlaps va's 4 KiB page
    void watch_hit(uint64_t va, unsigned size, bool write);
    // The slow run loop used while breakpoints or single-stepping are on:
    // at most n instructions; true when it stopped for the debugger.
    bool run_debug(uint64_t n, uint64_t &done);

    // Instrumentation (-plugin): when set, run() executes through it
    // (instrument.cpp); instr_report_ makes the slow load/store paths report
    // accesses; instr_nocache_ (set once memory callbacks exist) marks TLB
    // entries so data accesses take those paths. code_gen_ counts
    // decoded-code drops.
    Instrumenter *instr_ = nullptr;
    bool instr_report_ = false;
    bool instr_nocache_ = false;
    uint64_t code_gen_ = 0;
    uint64_t fence_epoch_ = 0;   // fence.i count: pages older than it are re-checked
    // The number of harts in the machine, when the embedder knows it. With
    // one, every write to decoded code is seen as it happens (this hart's
    // stores through note_store, devices' through invalidate_code), so
    // fence.i has nothing to re-check (Linux runs it ~40000 times booting).
    const std::atomic<unsigned> *machine_harts_ = nullptr;

    ExecEngine *engine_ = nullptr;   // set by the engine itself; null: interpreter

    std::atomic<uint64_t> irq_lines_{0};
    uint64_t run_count_ = 0;
    // Instructions between periodic checks. Everything that needs one also
    // requests it (interrupt lines, timers, DMA, kicks); the interval bounds
    // the rest (retiring dropped pages). The JIT's embedder lengthens it:
    // each check is a return to run() from generated code.
    uint64_t check_interval_ = 4096;
    std::atomic<bool> check_{true};
    std::atomic<bool> kick_{false};
    std::atomic<bool> stop_{false};
};

// Decode a 32-bit (possibly expanded) instruction into `out` for this hart's
// XLEN and extensions; unknown encodings get the illegal-instruction handler.
void decode(const Hart &h, uint32_t raw, unsigned len, Insn &out);

}  // namespace rv

#include "memory_inl.hpp"
