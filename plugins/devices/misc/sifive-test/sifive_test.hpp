// SiFive test finisher (riscv.sifive.test): a guest write ends or resets the
// machine. No guest-visible state.
#pragma once

#include <tessera/sdk/device.hpp>

namespace misc {

class SifiveTest : public ts::Device {
public:
    static constexpr const char *type_name = "riscv.sifive.test";
    static constexpr uint64_t kSize = 0x1000;
    // Status codes in the low half of the written word.
    static constexpr uint32_t kFail = 0x3333, kPass = 0x5555, kReset = 0x7777;

    explicit SifiveTest(ts_object *obj) : Device(obj) {}
    void realize();
    uint64_t read(uint64_t, unsigned) { return 0; }
    void write(uint64_t offset, unsigned size, uint64_t value);
};

}  // namespace misc
