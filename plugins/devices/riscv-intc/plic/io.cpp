// PLIC register I/O and the gateway/notification logic.
#include "plic.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>

namespace intc {

std::vector<PlicContext> parse_hart_config(std::string_view config, unsigned num_harts, unsigned hartid_base) {
    std::vector<std::string_view> harts;
    for (size_t pos = 0;;) {
        size_t comma = config.find(',', pos);
        harts.push_back(config.substr(pos, comma == config.npos ? config.npos : comma - pos));
        if (comma == config.npos) break;
        pos = comma + 1;
    }
    if (harts.size() == 1 && num_harts > 1) harts.assign(num_harts, harts.front());
    std::vector<PlicContext> out;
    for (unsigned h = 0; h < harts.size(); h++) {
        if (harts[h].empty()) throw ts::Error("hart-config: hart " + std::to_string(h) + " has no modes");
        unsigned seen = 0;
        for (char c : harts[h]) {
            std::string_view modes = "MSU";
            size_t m = modes.find(c);
            if (m == modes.npos)
                throw ts::Error(std::string("hart-config: invalid mode '") + c + "' (expected M, S or U)");
            if (seen & (1u << m)) throw ts::Error(std::string("hart-config: mode '") + c + "' given twice");
            seen |= 1u << m;
            out.push_back({hartid_base + h, c});
        }
    }
    if (out.size() > kPlicMaxContexts)
        throw ts::Error("hart-config: more than " + std::to_string(kPlicMaxContexts) + " contexts");
    return out;
}

uint64_t Plic::read(uint64_t offset, unsigned size) {
    return ts::reg_read(std::span<const ts::Reg<Plic>>(regs_), *this, offset, size);
}
void Plic::write(uint64_t offset, unsigned size, uint64_t value) {
    ts::reg_write(std::span<const ts::Reg<Plic>>(regs_), *this, offset, size, value);
}

void Plic::wr_priority(unsigned src, uint64_t v) {
    if (src == 0) return;  // source 0 does not exist
    // WARL: priorities above the implemented maximum read back as it.
    s.priority[src] = static_cast<uint32_t>(v > num_priorities_ ? num_priorities_ : v);
    update();
}

// Enable words: each context has enable_stride bytes; only the first words_
// words hold bits.
uint64_t Plic::rd_enable(unsigned i) {
    unsigned per_ctx = static_cast<unsigned>(enable_stride_ / 4);
    unsigned ctx = i / per_ctx, word = i % per_ctx;
    return word < words_ ? enables(ctx)[word] : 0;
}

void Plic::wr_enable(unsigned i, uint64_t v) {
    unsigned per_ctx = static_cast<unsigned>(enable_stride_ / 4);
    unsigned ctx = i / per_ctx, word = i % per_ctx;
    if (word >= words_) return;
    uint32_t mask = ~0u;
    if (word == 0) mask &= ~1u;  // source 0
    if (word == words_ - 1 && num_sources_ % 32) mask &= (1u << (num_sources_ % 32)) - 1;
    enables(ctx)[word] = static_cast<uint32_t>(v) & mask;
    update();
}

// Context block: word 0 threshold, word 1 claim/complete, the rest reserved.
uint64_t Plic::rd_context(unsigned i) {
    unsigned per_ctx = static_cast<unsigned>(context_stride_ / 4);
    unsigned ctx = i / per_ctx, word = i % per_ctx;
    if (word == 0) return s.threshold[ctx];
    if (word == 1) return claim(ctx);
    return 0;
}

void Plic::wr_context(unsigned i, uint64_t v) {
    unsigned per_ctx = static_cast<unsigned>(context_stride_ / 4);
    unsigned ctx = i / per_ctx, word = i % per_ctx;
    if (word == 0) {
        s.threshold[ctx] = static_cast<uint32_t>(v > num_priorities_ ? num_priorities_ : v);
        update();
    } else if (word == 1) {
        complete(ctx, v);
    } else {
        ts::guest_error("%s: write to reserved context register at word %u", path(), word);
    }
}

unsigned Plic::best(unsigned ctx) {
    unsigned best_src = 0;
    uint32_t best_prio = s.threshold[ctx];
    const uint32_t *en = enables(ctx);
    for (unsigned w = 0; w < words_; w++) {
        uint32_t cand = s.pending[w] & ~s.claimed[w] & en[w];
        while (cand) {
            unsigned b = static_cast<unsigned>(__builtin_ctz(cand));
            cand &= cand - 1;
            unsigned src = w * 32 + b;
            if (s.priority[src] > best_prio) {
                best_prio = s.priority[src];
                best_src = src;
            }
        }
    }
    return best_src;
}

uint32_t Plic::claim(unsigned ctx) {
    unsigned src = best(ctx);
    if (src) {
        set_bit(s.pending, src, false);
        set_bit(s.claimed, src, true);
        update();
    }
    return src;
}

void Plic::complete(unsigned ctx, uint64_t src) {
    if (src == 0 || src >= num_sources_) {
        ts::guest_error("%s: completion of invalid source %llu", path(), static_cast<unsigned long long>(src));
        return;
    }
    unsigned id = static_cast<unsigned>(src);
    // The spec ignores completions for sources not enabled in this context.
    if (!bit(enables(ctx), id)) return;
    set_bit(s.claimed, id, false);
    // Level-triggered: a line still high becomes pending again.
    if (bit(s.level, id)) set_bit(s.pending, id, true);
    update();
}

void Plic::set_input(int line, int level) {
    if (line <= 0 || static_cast<unsigned>(line) >= num_sources_) return;
    unsigned id = static_cast<unsigned>(line);
    set_bit(s.level, id, level != 0);
    // While claimed the gateway holds new requests until completion.
    if (!bit(s.claimed, id)) set_bit(s.pending, id, level != 0);
    update();
}

void Plic::update() {
    for (unsigned c = 0; c < contexts_.size(); c++) outs_[c].set(best(c) != 0);
}

void Plic::reset() {
    // Lines that are high stay high across a reset of the controller.
    uint32_t level[kPlicWords];
    std::copy(std::begin(s.level), std::end(s.level), level);
    std::memset(&s, 0, sizeof s);  // large: no temporary on the stack
    std::copy(std::begin(level), std::end(level), s.level);
    std::copy(std::begin(level), std::end(level), s.pending);
    update();
}

void Plic::realize() {
    uint64_t sources = prop_uint("num-sources");
    if (sources < 2 || sources >= kPlicMaxSources)
        throw ts::Error("num-sources must be between 2 and " + std::to_string(kPlicMaxSources - 1));
    num_sources_ = static_cast<unsigned>(sources);
    words_ = (num_sources_ + 31) / 32;
    num_priorities_ = static_cast<unsigned>(prop_uint("num-priorities"));
    contexts_ = parse_hart_config(prop_str("hart-config"), static_cast<unsigned>(prop_uint("num-harts")),
                                  static_cast<unsigned>(prop_uint("hartid-base")));
    // As in the reference, priority-base is source 1's register (0x4 on virt).
    uint64_t prio_base = prop_uint("priority-base"), pending_base = prop_uint("pending-base");
    if (prio_base < 4) throw ts::Error("priority-base must be at least 4 (it addresses source 1)");
    uint64_t enable_base = prop_uint("enable-base"), context_base = prop_uint("context-base");
    enable_stride_ = prop_uint("enable-stride");
    context_stride_ = prop_uint("context-stride");
    if (enable_stride_ < words_ * 4 || enable_stride_ % 4 || context_stride_ < 8 || context_stride_ % 4)
        throw ts::Error("enable-stride/context-stride too small for num-sources");
    auto n = static_cast<uint32_t>(contexts_.size());
    regs_ = {
        // The reference's window reaches one past the last source (its
        // device tree says riscv,ndev = num-sources); that register holds a
        // priority for a source with no input line.
        ts::reg_array<&Plic::rd_priority, &Plic::wr_priority>(prio_base - 4, num_sources_ + 1, 4, "priority"),
        ts::reg_array<&Plic::rd_pending, nullptr>(pending_base, words_, 4, "pending"),
        ts::reg_array<&Plic::rd_enable, &Plic::wr_enable>(enable_base, n * static_cast<uint32_t>(enable_stride_ / 4),
                                                         4, "enable"),
        ts::reg_array<&Plic::rd_context, &Plic::wr_context>(
            context_base, n * static_cast<uint32_t>(context_stride_ / 4), 4, "threshold/claim"),
    };
    uint64_t size = prop_uint("aperture-size");
    if (size == 0) size = context_base + n * context_stride_;
    outs_ = ts::gpio_out(object(), "ctx", static_cast<int>(n));
    ts::gpio_in<&Plic::set_input>(object(), "irq", static_cast<int>(num_sources_), this);
    static const ts_mmio_ops ops = ts::mmio_ops<Plic>(4, 4);
    add_mmio("riscv.sifive.plic", size, ops, this);
}

}  // namespace intc
