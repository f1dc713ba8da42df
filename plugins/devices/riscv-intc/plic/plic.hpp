// SiFive PLIC (riscv.sifive.plic), as the RISC-V PLIC spec and the
// reference's virt board lay it out: priorities, pending bits, per-context
// enables, per-context threshold and claim/complete. Sources are
// level-triggered; line 0 does not exist.
#pragma once

#include <tessera/sdk/device.hpp>
#include <tessera/sdk/regs.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

namespace intc {

inline constexpr unsigned kPlicMaxSources = 1024;
inline constexpr unsigned kPlicWords = kPlicMaxSources / 32;
inline constexpr unsigned kPlicMaxContexts = 1024;  // 512 harts with M and S

struct PlicState {
    uint32_t priority[kPlicMaxSources];
    uint32_t pending[kPlicWords];
    uint32_t claimed[kPlicWords];  // claimed, not yet completed
    uint32_t level[kPlicWords];    // current input line levels
    uint32_t enable[kPlicMaxContexts * kPlicWords];
    uint32_t threshold[kPlicMaxContexts];
};

// A context: one privilege mode of one hart.
struct PlicContext {
    unsigned hart;
    char mode;  // 'M', 'S' or 'U'
};

// "MS,MS" -> contexts in order; a single entry is repeated for num_harts.
std::vector<PlicContext> parse_hart_config(std::string_view config, unsigned num_harts, unsigned hartid_base);

class Plic : public ts::Device {
public:
    static constexpr const char *type_name = "riscv.sifive.plic";
    PlicState s{};

    explicit Plic(ts_object *obj) : Device(obj) {}
    void realize();
    void reset();

    uint64_t read(uint64_t offset, unsigned size);
    void write(uint64_t offset, unsigned size, uint64_t value);
    void set_input(int line, int level);

    // Register accessors (index = element of the register array).
    uint64_t rd_priority(unsigned src) { return s.priority[src]; }
    void wr_priority(unsigned src, uint64_t v);
    uint64_t rd_pending(unsigned word) { return s.pending[word]; }
    uint64_t rd_enable(unsigned i);
    void wr_enable(unsigned i, uint64_t v);
    uint64_t rd_context(unsigned i);
    void wr_context(unsigned i, uint64_t v);

    unsigned context_count() const { return static_cast<unsigned>(contexts_.size()); }

private:
    bool bit(const uint32_t *words, unsigned src) const { return (words[src / 32] >> (src % 32)) & 1; }
    void set_bit(uint32_t *words, unsigned src, bool on) {
        if (on) words[src / 32] |= 1u << (src % 32);
        else words[src / 32] &= ~(1u << (src % 32));
    }
    uint32_t *enables(unsigned ctx) { return &s.enable[ctx * kPlicWords]; }
    // Highest-priority pending, enabled source above the threshold (lowest
    // id on ties), or 0.
    unsigned best(unsigned ctx);
    uint32_t claim(unsigned ctx);
    void complete(unsigned ctx, uint64_t src);
    void update();

    unsigned num_sources_ = 0, num_priorities_ = 0, words_ = 0;
    uint64_t enable_stride_ = 0, context_stride_ = 0;
    std::vector<PlicContext> contexts_;
    std::vector<ts::IrqOut> outs_;
    std::vector<ts::Reg<Plic>> regs_;
};

}  // namespace intc
