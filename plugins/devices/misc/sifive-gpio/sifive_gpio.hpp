// SiFive GPIO controller (sifive,gpio0, as on the FU540): up to 32 pins with
// input/output enables, pull-ups, and per-pin rise/fall/high/low interrupt
// pending bits, one interrupt output per pin. Input lines "in" let a board
// drive pins (the virt board's power button).
#pragma once

#include <tessera/sdk/device.hpp>

#include <vector>

namespace misc {

struct SifiveGpioState {
    uint32_t input_en, output_en, output_val, pue, ds;
    uint32_t rise_ie, rise_ip, fall_ie, fall_ip, high_ie, high_ip, low_ie, low_ip;
    uint32_t iof_en, iof_sel, out_xor;
    uint32_t in_level;   // what the board drives on each pin
    uint32_t in_driven;  // pins the board drives (the rest float: pull-up or 0)
    uint32_t last;       // input_val at the last update (edge detection)
};

class SifiveGpio : public ts::Device {
public:
    static constexpr const char *type_name = "sifive.gpio";
    static constexpr uint64_t kSize = 0x1000;
    SifiveGpioState s{};

    explicit SifiveGpio(ts_object *obj) : Device(obj) {}
    void realize();
    void reset();
    uint64_t read(uint64_t offset, unsigned size);
    void write(uint64_t offset, unsigned size, uint64_t value);
    void post_load() { update(); }

    // Register accessors (the table in io.cpp maps offsets onto these).
    uint64_t rd_input_val() { return input_val(); }
    uint64_t rd_plain(unsigned i);
    void wr_plain(unsigned i, uint64_t v);
    uint64_t rd_ip(unsigned i);
    void wr_ip(unsigned i, uint64_t v);

    void pin_in(int line, int level);

private:
    uint32_t mask() const { return n_ == 32 ? ~0u : (1u << n_) - 1; }
    uint32_t pads() const;
    uint32_t input_val() const { return pads() & s.input_en & mask(); }
    void update();
    uint32_t *plain_reg(unsigned i);
    uint32_t *ip_reg(unsigned i);

    unsigned n_ = 16;
    std::vector<ts::IrqOut> irq_;
};

}  // namespace misc
