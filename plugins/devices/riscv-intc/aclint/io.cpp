// ACLINT MSWI/MTIMER behaviour and register layouts.
#include "aclint.hpp"

#include <tessera/sdk/riscv_cpu.h>

#include <atomic>
#include <limits>
#include <string>

namespace intc {

namespace {

// timebase-freq as the reference names it; timebase-frequency wins if set.
uint64_t timebase(const ts::Device &d) {
    uint64_t hz = 0;
    if (ts::host().prop_get_uint(d.object(), "timebase-frequency", &hz) == TS_OK) return hz;
    return d.prop_uint("timebase-freq");
}

HartProps hart_props(const ts::Device &d) {
    uint64_t n = d.prop_uint("num-harts"), base = d.prop_uint("hartid-base");
    if (n < 1 || n > kAclintMaxHarts)
        throw ts::Error("num-harts must be between 1 and " + std::to_string(kAclintMaxHarts));
    return {static_cast<unsigned>(n), static_cast<unsigned>(base)};
}

}  // namespace

// ---- MSWI -----------------------------------------------------------------------

void MswiCore::realize(ts_object *obj, unsigned num_harts) { outs_ = ts::gpio_out(obj, "msip", static_cast<int>(num_harts)); }

void MswiCore::write(unsigned hart, uint64_t v) {
    s_.msip[hart] = v & 1;  // bits 31:1 are zero
    outs_.at(hart).set(v & 1);
}

void MswiCore::reset() {
    for (unsigned h = 0; h < outs_.size(); h++) write(h, 0);
}

// ---- MTIMER -----------------------------------------------------------------------

uint64_t MtimerCore::ticks(int64_t ns) const {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(ns < 0 ? 0 : ns) * hz_ / 1'000'000'000u);
}

// May be called from vCPU threads without the kernel lock (the `time` CSR):
// only atomic reads of time_delta.
uint64_t MtimerCore::mtime() const {
    uint64_t delta = std::atomic_ref<uint64_t>(s_.time_delta).load(std::memory_order_relaxed);
    return ticks(ts::host().clock_ns(TS_CLOCK_VIRTUAL)) + delta;
}

void MtimerCore::set_mtime(uint64_t v) {
    std::atomic_ref<uint64_t>(s_.time_delta)
        .store(v - ticks(ts::host().clock_ns(TS_CLOCK_VIRTUAL)), std::memory_order_relaxed);
    for (unsigned h = 0; h < outs_.size(); h++) update(h);
}

void MtimerCore::set_mtimecmp(unsigned hart, uint64_t v) {
    s_.mtimecmp[hart] = v;
    update(hart);
}

// MTIP = mtime >= mtimecmp; otherwise arm a timer for the first virtual
// nanosecond at which mtime reaches mtimecmp.
void MtimerCore::update(unsigned hart) {
    HartTimer &t = *timers_.at(hart);
    int64_t now = ts::host().clock_ns(TS_CLOCK_VIRTUAL);
    uint64_t time = ticks(now) + s_.time_delta;
    uint64_t cmp = s_.mtimecmp[hart];
    if (time >= cmp) {
        outs_[hart].raise();
        t.timer.del();
        return;
    }
    outs_[hart].lower();
    unsigned __int128 wait_ns = (static_cast<unsigned __int128>(cmp - time) * 1'000'000'000u + hz_ - 1) / hz_;
    auto limit = static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max() - now);
    if (wait_ns >= limit) {
        t.timer.del();  // beyond the end of time
        return;
    }
    t.timer.mod(now + static_cast<int64_t>(wait_ns));
}

void MtimerCore::realize(ts_object *obj, unsigned num_harts, unsigned hartid_base, uint64_t timebase_hz) {
    if (timebase_hz == 0) throw ts::Error("timebase-frequency must not be 0");
    hz_ = timebase_hz;
    outs_ = ts::gpio_out(obj, "mtip", static_cast<int>(num_harts));
    for (unsigned h = 0; h < num_harts; h++) {
        auto ht = std::make_unique<HartTimer>(HartTimer{this, h, {}});
        ht->timer = ts::Timer::make<&HartTimer::fire>(TS_CLOCK_VIRTUAL, ht.get());
        timers_.push_back(std::move(ht));
    }
    // The harts' `time` CSR reads this timer.
    const ts_host &host = ts::host();
    for (unsigned h = 0; h < num_harts; h++) {
        ts_object *cpu = host.cpu_get(hartid_base + h);
        if (!cpu) continue;
        auto *cap = static_cast<const ts_riscv_timer_v1 *>(host.cpu_get_capability(cpu, TS_RISCV_TIMER_V1));
        if (cap && cap->set_time_source) cap->set_time_source(host.object_instance(cpu), read_time, this, hz_);
    }
}

// The ACLINT spec: mtime is cleared on reset, mtimecmp is unspecified (kept).
void MtimerCore::reset() { set_mtime(0); }

// ---- Device layouts -----------------------------------------------------------------

void AclintSwi::realize() {
    HartProps hp = hart_props(*this);
    if (prop_uint("sswi")) throw ts::Error("sswi=1 (supervisor software interrupts) is not supported yet");
    core_.realize(object(), hp.num_harts);
    regs_ = {ts::reg_array<&AclintSwi::rd_msip, &AclintSwi::wr_msip>(0, hp.num_harts, 4, "msip")};
    static const ts_mmio_ops ops = ts::mmio_ops<AclintSwi>(4, 4);
    add_mmio(type_name, 0x4000, ops, this);
}
uint64_t AclintSwi::read(uint64_t off, unsigned size) {
    return ts::reg_read(std::span<const ts::Reg<AclintSwi>>(regs_), *this, off, size);
}
void AclintSwi::write(uint64_t off, unsigned size, uint64_t v) {
    ts::reg_write(std::span<const ts::Reg<AclintSwi>>(regs_), *this, off, size, v);
}

void AclintMtimer::realize() {
    HartProps hp = hart_props(*this);
    uint64_t size = prop_uint("aperture-size"), cmp_base = prop_uint("timecmp-base"),
             time_base = prop_uint("time-base");
    if (cmp_base + hp.num_harts * 8ull > size || time_base + 8 > size)
        throw ts::Error("timecmp-base/time-base do not fit in aperture-size");
    core_.realize(object(), hp.num_harts, hp.hartid_base, timebase(*this));
    regs_ = {
        ts::reg_array<&AclintMtimer::rd_cmp, &AclintMtimer::wr_cmp>(cmp_base, hp.num_harts, 8, "mtimecmp"),
        ts::reg<&AclintMtimer::rd_time, &AclintMtimer::wr_time>(time_base, "mtime", 8),
    };
    static const ts_mmio_ops ops = ts::mmio_ops<AclintMtimer>(4, 8);
    add_mmio(type_name, size, ops, this);
}
uint64_t AclintMtimer::read(uint64_t off, unsigned size) {
    return ts::reg_read(std::span<const ts::Reg<AclintMtimer>>(regs_), *this, off, size);
}
void AclintMtimer::write(uint64_t off, unsigned size, uint64_t v) {
    ts::reg_write(std::span<const ts::Reg<AclintMtimer>>(regs_), *this, off, size, v);
}

void SifiveClint::realize() {
    HartProps hp = hart_props(*this);
    if (hp.num_harts > (kTimeOffset - kTimecmpBase) / 8) throw ts::Error("too many harts for a CLINT");
    swi_.realize(object(), hp.num_harts);
    timer_.realize(object(), hp.num_harts, hp.hartid_base, timebase(*this));
    regs_ = {
        ts::reg_array<&SifiveClint::rd_msip, &SifiveClint::wr_msip>(0, hp.num_harts, 4, "msip"),
        ts::reg_array<&SifiveClint::rd_cmp, &SifiveClint::wr_cmp>(kTimecmpBase, hp.num_harts, 8, "mtimecmp"),
        ts::reg<&SifiveClint::rd_time, &SifiveClint::wr_time>(kTimeOffset, "mtime", 8),
    };
    static const ts_mmio_ops ops = ts::mmio_ops<SifiveClint>(4, 8);
    add_mmio(type_name, kSize, ops, this);
}
uint64_t SifiveClint::read(uint64_t off, unsigned size) {
    return ts::reg_read(std::span<const ts::Reg<SifiveClint>>(regs_), *this, off, size);
}
void SifiveClint::write(uint64_t off, unsigned size, uint64_t v) {
    ts::reg_write(std::span<const ts::Reg<SifiveClint>>(regs_), *this, off, size, v);
}

}  // namespace intc
