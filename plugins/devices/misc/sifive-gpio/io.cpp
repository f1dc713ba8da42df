#include "sifive_gpio.hpp"

#include <tessera/sdk/regs.hpp>

namespace misc {

namespace {
// Offsets from the FU540-C000 manual, chapter "General Purpose Input/Output".
// Plain read/write registers are indexed 0..11 for rd_plain/wr_plain; the four
// interrupt-pending registers (write 1 to clear) 0..3 for rd_ip/wr_ip.
enum Plain : unsigned { kInputEn, kOutputEn, kOutputVal, kPue, kDs, kRiseIe, kFallIe, kHighIe, kLowIe, kIofEn, kIofSel, kOutXor };
enum Pending : unsigned { kRiseIp, kFallIp, kHighIp, kLowIp };

template <unsigned I>
constexpr ts::Reg<SifiveGpio> plain(uint64_t off, const char *name) {
    return {off, 1, 4, name, [](SifiveGpio &d, unsigned) { return d.rd_plain(I); },
            [](SifiveGpio &d, unsigned, uint64_t v) { d.wr_plain(I, v); }};
}
template <unsigned I>
constexpr ts::Reg<SifiveGpio> pending(uint64_t off, const char *name) {
    return {off, 1, 4, name, [](SifiveGpio &d, unsigned) { return d.rd_ip(I); },
            [](SifiveGpio &d, unsigned, uint64_t v) { d.wr_ip(I, v); }};
}

constexpr ts::Reg<SifiveGpio> kRegs[] = {
    ts::reg<&SifiveGpio::rd_input_val, nullptr>(0x00, "input_val"),
    plain<kInputEn>(0x04, "input_en"),
    plain<kOutputEn>(0x08, "output_en"),
    plain<kOutputVal>(0x0c, "output_val"),
    plain<kPue>(0x10, "pue"),
    plain<kDs>(0x14, "ds"),
    plain<kRiseIe>(0x18, "rise_ie"),
    pending<kRiseIp>(0x1c, "rise_ip"),
    plain<kFallIe>(0x20, "fall_ie"),
    pending<kFallIp>(0x24, "fall_ip"),
    plain<kHighIe>(0x28, "high_ie"),
    pending<kHighIp>(0x2c, "high_ip"),
    plain<kLowIe>(0x30, "low_ie"),
    pending<kLowIp>(0x34, "low_ip"),
    plain<kIofEn>(0x38, "iof_en"),
    plain<kIofSel>(0x3c, "iof_sel"),
    plain<kOutXor>(0x40, "out_xor"),
};
}  // namespace

uint64_t SifiveGpio::read(uint64_t offset, unsigned size) { return ts::reg_read(kRegs, *this, offset, size); }
void SifiveGpio::write(uint64_t offset, unsigned size, uint64_t value) {
    ts::reg_write(kRegs, *this, offset, size, value);
}

uint32_t *SifiveGpio::plain_reg(unsigned i) {
    uint32_t *const regs[] = {&s.input_en, &s.output_en, &s.output_val, &s.pue, &s.ds, &s.rise_ie,
                              &s.fall_ie, &s.high_ie, &s.low_ie, &s.iof_en, &s.iof_sel, &s.out_xor};
    return regs[i];
}
uint32_t *SifiveGpio::ip_reg(unsigned i) {
    uint32_t *const regs[] = {&s.rise_ip, &s.fall_ip, &s.high_ip, &s.low_ip};
    return regs[i];
}

uint64_t SifiveGpio::rd_plain(unsigned i) { return *plain_reg(i); }
void SifiveGpio::wr_plain(unsigned i, uint64_t v) {
    *plain_reg(i) = static_cast<uint32_t>(v) & mask();
    update();
}
uint64_t SifiveGpio::rd_ip(unsigned i) { return *ip_reg(i); }
// Write 1 to clear; a level condition that still holds sets its bit again.
void SifiveGpio::wr_ip(unsigned i, uint64_t v) {
    *ip_reg(i) &= ~static_cast<uint32_t>(v);
    update();
}

// What each pin carries: driven by us (output_en, through out_xor), else by
// the board, else the pull-up.
uint32_t SifiveGpio::pads() const {
    const uint32_t out = (s.output_val ^ s.out_xor) & s.output_en;
    const uint32_t ext = s.in_level & s.in_driven & ~s.output_en;
    const uint32_t pulled = s.pue & ~s.in_driven & ~s.output_en;
    return out | ext | pulled;
}

void SifiveGpio::update() {
    const uint32_t now = input_val();
    s.rise_ip |= now & ~s.last;
    s.fall_ip |= ~now & s.last & s.input_en;
    s.high_ip |= now;
    s.low_ip |= ~now & s.input_en & mask();
    s.last = now;
    const uint32_t pending = (s.rise_ie & s.rise_ip) | (s.fall_ie & s.fall_ip) | (s.high_ie & s.high_ip) |
                             (s.low_ie & s.low_ip);
    for (unsigned i = 0; i < n_; i++) irq_[i].set((pending >> i) & 1);
}

void SifiveGpio::pin_in(int line, int level) {
    if (line < 0 || unsigned(line) >= n_) return;
    const uint32_t bit = 1u << line;
    s.in_driven |= bit;
    s.in_level = level ? (s.in_level | bit) : (s.in_level & ~bit);
    update();
}

void SifiveGpio::reset() {
    // Registers reset to 0; what the board drives stays as it is.
    const uint32_t level = s.in_level, driven = s.in_driven;
    s = SifiveGpioState{};
    s.in_level = level;
    s.in_driven = driven;
    update();
}

void SifiveGpio::realize() {
    n_ = static_cast<unsigned>(prop_uint("ngpio"));
    irq_ = ts::gpio_out(object(), "irq", int(n_));
    ts::gpio_in<&SifiveGpio::pin_in>(object(), "in", int(n_), this);
    static const ts_mmio_ops ops = ts::mmio_ops<SifiveGpio>(4, 4);
    add_mmio(type_name, kSize, ops, this);
}

}  // namespace misc
