// State shared by the loader/engine (engine.cpp) and the exported API (api.cpp).
#pragma once

#include <qemu-plugin.h>
#include <tessera/classes.h>
#include <tessera/instrument.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct qemu_plugin_scoreboard {
    size_t element_size = 0;
    size_t capacity = 0;            // entries (vCPUs)
    std::unique_ptr<uint8_t[]> data;
};

namespace tessera::instr {

// One execution-time action: a callback, a conditional callback or an inline op.
struct Action {
    enum Kind : uint8_t { Call, Cond, Inline } kind = Call;
    qemu_plugin_vcpu_udata_cb_t fn = nullptr;
    void *udata = nullptr;
    qemu_plugin_cond cond = QEMU_PLUGIN_COND_ALWAYS;
    qemu_plugin_op op = QEMU_PLUGIN_INLINE_ADD_U64;
    qemu_plugin_u64 entry{};
    uint64_t imm = 0;
};

struct MemAction {
    bool is_inline = false;
    qemu_plugin_mem_rw rw = QEMU_PLUGIN_MEM_RW;
    qemu_plugin_vcpu_mem_cb_t fn = nullptr;
    void *udata = nullptr;
    qemu_plugin_op op = QEMU_PLUGIN_INLINE_ADD_U64;
    qemu_plugin_u64 entry{};
    uint64_t imm = 0;
};

// What a block does when it runs; handed to the CPU as its ts_instr_plan.
struct Plan {
    ts_instr_plan c{};                    // first member: the CPU sees this
    std::vector<uint8_t> flags;
    std::vector<Action> block;
    std::vector<std::vector<Action>> insn;
    std::vector<std::vector<MemAction>> mem;
};

struct Plugin {
    qemu_plugin_id_t id = 0;
    std::string path;
    void *handle = nullptr;
    std::vector<std::string> args;
    std::vector<char *> argv;
    qemu_plugin_vcpu_simple_cb_t vcpu_init = nullptr, vcpu_exit = nullptr, vcpu_idle = nullptr,
                                 vcpu_resume = nullptr;
    qemu_plugin_vcpu_tb_trans_cb_t tb_trans = nullptr;
    qemu_plugin_simple_cb_t flush = nullptr;
    qemu_plugin_vcpu_discon_cb_t discon = nullptr;
    unsigned discon_mask = 0;
    qemu_plugin_udata_cb_t atexit = nullptr;
    void *atexit_udata = nullptr;
    bool installing = false;
    bool removed = false;
};

// One instrumented vCPU.
struct Vcpu {
    unsigned index = 0;
    void *cpu = nullptr;
    const ts_cpu_class *cls = nullptr;
    const ts_cpu_instrument_ops *ops = nullptr;
    // The access being reported to a memory callback.
    ts_instr_mem mem{};
};

struct State {
    std::mutex mu;                          // plugins' callback slots
    std::vector<std::unique_ptr<Plugin>> plugins;
    std::vector<std::unique_ptr<Vcpu>> vcpus;
    std::vector<qemu_plugin_scoreboard *> scoreboards;
    unsigned max_vcpus = 1;
    std::atomic<uint64_t> flush_generation{0};
    std::string target;
    bool finished = false;
};
State &state();

// The vCPU whose callback is running on this thread (nullptr outside).
extern thread_local Vcpu *t_vcpu;

// During a translation callback: the block being built.
struct TbBuild;

Plugin *plugin_of(qemu_plugin_id_t id);
// Grows every scoreboard to n entries (before the vCPUs run).
void scoreboards_reserve(size_t n);

}  // namespace tessera::instr

// The translation handles the API hands out.
struct qemu_plugin_insn {
    const ts_instr_insn *d = nullptr;
    tessera::instr::Plan *plan = nullptr;
    size_t index = 0;
};
struct qemu_plugin_tb {
    const ts_instr_block *b = nullptr;
    tessera::instr::Plan *plan = nullptr;
    std::vector<qemu_plugin_insn> insns;
};
struct qemu_plugin_hwaddr {
    uint64_t paddr = 0;
    bool is_io = false;
};
