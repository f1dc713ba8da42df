// Instrumented execution (the `-plugin` path): blocks of straight-line code
// are formed, reported once to the embedder (which answers with a plan), and
// executed with the plan's callbacks around blocks, instructions and memory
// accesses. Used only while an embedder attached hooks; the normal run loop
// does not change otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace rv {

class Hart;

// These mirror ts_instr_insn / ts_instr_plan / ts_instr_mem (tessera/instrument.h)
// field for field, so the plugin glue can hand them through unchanged.
struct InstrInsn {
    uint64_t vaddr;
    uint64_t paddr;
    const void *haddr;
    uint32_t len;
    uint8_t bytes[16];
};
struct InstrPlan {
    uint32_t block_flags;
    const uint8_t *insn_flags;
};
struct InstrMem {
    uint64_t vaddr;
    uint64_t value;
    uint8_t size_shift;
    uint8_t is_store;
    uint8_t sign_extended;
};
constexpr uint8_t kInstrExec = 1, kInstrMem = 2;
// Discontinuity kinds (the values of QEMU_PLUGIN_DISCON_*).
constexpr unsigned kDisconInterrupt = 1, kDisconException = 2;

struct InstrHooks {
    void *ctx = nullptr;
    const InstrPlan *(*translate)(void *ctx, uint64_t vaddr, const InstrInsn *insns, uint32_t n) = nullptr;
    void (*release)(void *ctx, const InstrPlan *plan) = nullptr;
    void (*block_exec)(void *ctx, const InstrPlan *plan) = nullptr;
    void (*insn_exec)(void *ctx, const InstrPlan *plan, uint32_t index) = nullptr;
    void (*mem)(void *ctx, const InstrPlan *plan, uint32_t index, const InstrMem &m) = nullptr;
    void (*flushed)(void *ctx) = nullptr;
    void (*discon)(void *ctx, unsigned type, uint64_t from, uint64_t to) = nullptr;
    void (*idle)(void *ctx) = nullptr;
    void (*resume)(void *ctx) = nullptr;
    const volatile uint64_t *flush_generation = nullptr;
};

class Instrumenter {
public:
    static constexpr unsigned kMaxBlockInsns = 512;

    Instrumenter(Hart &h, const InstrHooks &hooks);
    ~Instrumenter();
    Instrumenter(const Instrumenter &) = delete;
    Instrumenter &operator=(const Instrumenter &) = delete;

    // Runs whole blocks until at least n instructions are done or the hart
    // asks for a check.
    void run(uint64_t n, uint64_t &done);
    // A data access the slow paths made (called only while reporting is on).
    void report(uint64_t va, unsigned size, uint64_t value, bool store);
    // Drops every block (and tells the embedder).
    void flush();
    // Around each exec() of the embedder: reports idle (the hart halted in
    // WFI) and resume (it runs again after that).
    void exec_begin() {
        if (idle_ && hooks_.resume) hooks_.resume(hooks_.ctx);
        idle_ = false;
    }
    // The hart took an interrupt at epc (called from take_trap).
    void interrupted(uint64_t epc, uint64_t to) {
        if (hooks_.discon) hooks_.discon(hooks_.ctx, kDisconInterrupt, epc, to);
    }
    void exec_end(bool halted) {
        if (halted && hooks_.idle) hooks_.idle(hooks_.ctx);
        idle_ = halted;
    }

private:
    struct Block {
        uint64_t pc;
        uint8_t priv;
        uint64_t pa;                    // physical address of the first byte
        std::vector<InstrInsn> insns;
        std::vector<uint32_t> raw;      // decoded (expanded) encodings, to notice changed code
        const InstrPlan *plan = nullptr;
    };
    Block *translate(uint64_t pc, uint64_t pa);
    void execute(Block &b, uint64_t &done);
    void drop(uint64_t key);

    Hart &h_;
    InstrHooks hooks_;
    std::unordered_map<uint64_t, std::unique_ptr<Block>> blocks_;   // key: pc | priv
    uint64_t code_gen_seen_;
    uint64_t flush_gen_seen_;
    const InstrPlan *cur_plan_ = nullptr;
    uint32_t cur_index_ = 0;
    bool idle_ = false;
};

// TLB entries filled while memory callbacks are on carry this mark in their
// tags (see Hart::tlb_fill): a page offset bit no access key has, so only the
// helpers below match them.
constexpr uint64_t kInstrTlbMark = 1ull << 11;
bool instr_tlb_load(Hart &h, uint64_t va, unsigned size, uint64_t &v);
bool instr_tlb_store(Hart &h, uint64_t va, unsigned size, uint64_t v);

// Slow-path loads and stores while reporting: do the access, then report it.
uint64_t instr_load(Hart &h, uint64_t va, unsigned size);
void instr_store(Hart &h, uint64_t va, unsigned size, uint64_t v);

}  // namespace rv
