#include "sifive_test.hpp"

namespace misc {

void SifiveTest::write(uint64_t offset, unsigned, uint64_t value) {
    if (offset == 0) {
        uint32_t status = value & 0xffff;
        int code = static_cast<int>((value >> 16) & 0xffff);
        switch (status) {
        case kFail: ts::host().request_shutdown(TS_SHUTDOWN_GUEST_POWEROFF, code); return;
        case kPass: ts::host().request_shutdown(TS_SHUTDOWN_GUEST_POWEROFF, 0); return;
        case kReset: ts::host().request_reset(); return;
        default: break;
        }
    }
    ts::guest_error("%s: write of 0x%llx at 0x%llx is not a finisher command", path(),
                    static_cast<unsigned long long>(value), static_cast<unsigned long long>(offset));
}

void SifiveTest::realize() {
    static const ts_mmio_ops ops = ts::mmio_ops<SifiveTest>(2, 4);
    add_mmio(type_name, kSize, ops, this);
}

}  // namespace misc
