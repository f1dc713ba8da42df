// RISC-V ACLINT (riscv.aclint.swi, riscv.aclint.mtimer) and the SiFive CLINT
// that combines both in one 64 KiB region (riscv.sifive.clint, for spike).
// The two cores below hold the behaviour; the device classes lay registers
// out over them.
#pragma once

#include <tessera/sdk/device.hpp>
#include <tessera/sdk/regs.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace intc {

inline constexpr unsigned kAclintMaxHarts = 512;

struct MswiState {
    uint32_t msip[kAclintMaxHarts];
};

struct MtimerState {
    uint64_t mtimecmp[kAclintMaxHarts];
    uint64_t time_delta;  // mtime = ticks(virtual clock) + time_delta
};

// Machine-level software interrupts: one msip bit per hart.
class MswiCore {
public:
    explicit MswiCore(MswiState &s) : s_(s) {}
    void realize(ts_object *obj, unsigned num_harts);
    uint64_t read(unsigned hart) const { return s_.msip[hart]; }
    void write(unsigned hart, uint64_t v);
    void reset();

private:
    MswiState &s_;
    std::vector<ts::IrqOut> outs_;
};

// Machine timer: mtime from the virtual clock at timebase_hz, one mtimecmp
// and MTIP line per hart, host timers to raise MTIP when mtime gets there.
class MtimerCore {
public:
    explicit MtimerCore(MtimerState &s) : s_(s) {}
    void realize(ts_object *obj, unsigned num_harts, unsigned hartid_base, uint64_t timebase_hz);
    uint64_t mtime() const;
    void set_mtime(uint64_t v);
    uint64_t mtimecmp(unsigned hart) const { return s_.mtimecmp[hart]; }
    void set_mtimecmp(unsigned hart, uint64_t v);
    void reset();
    // After loadvm: MTIP and the host timers follow the loaded mtimecmp.
    void post_load() {
        for (unsigned h = 0; h < timers_.size(); h++) update(h);
    }

private:
    struct HartTimer {
        MtimerCore *core;
        unsigned hart;
        ts::Timer timer;
        void fire() { core->update(hart); }
    };
    void update(unsigned hart);
    uint64_t ticks(int64_t ns) const;
    static uint64_t read_time(void *opaque) { return static_cast<MtimerCore *>(opaque)->mtime(); }

    MtimerState &s_;
    uint64_t hz_ = 10'000'000;
    std::vector<ts::IrqOut> outs_;
    std::vector<std::unique_ptr<HartTimer>> timers_;
};

struct HartProps {
    unsigned num_harts, hartid_base;
};

class AclintSwi : public ts::Device {
public:
    static constexpr const char *type_name = "riscv.aclint.swi";
    MswiState s{};
    explicit AclintSwi(ts_object *obj) : Device(obj) {}
    void realize();
    void reset() { core_.reset(); }
    uint64_t read(uint64_t off, unsigned size);
    void write(uint64_t off, unsigned size, uint64_t v);
    uint64_t rd_msip(unsigned h) { return core_.read(h); }
    void wr_msip(unsigned h, uint64_t v) { core_.write(h, v); }

private:
    MswiCore core_{s};
    std::vector<ts::Reg<AclintSwi>> regs_;
};

class AclintMtimer : public ts::Device {
public:
    static constexpr const char *type_name = "riscv.aclint.mtimer";
    MtimerState s{};
    explicit AclintMtimer(ts_object *obj) : Device(obj) {}
    void realize();
    void reset() { core_.reset(); }
    void post_load() { core_.post_load(); }
    uint64_t read(uint64_t off, unsigned size);
    void write(uint64_t off, unsigned size, uint64_t v);
    uint64_t rd_cmp(unsigned h) { return core_.mtimecmp(h); }
    void wr_cmp(unsigned h, uint64_t v) { core_.set_mtimecmp(h, v); }
    uint64_t rd_time() { return core_.mtime(); }
    void wr_time(uint64_t v) { core_.set_mtime(v); }

private:
    MtimerCore core_{s};
    std::vector<ts::Reg<AclintMtimer>> regs_;
};

struct ClintState {
    MswiState swi;
    MtimerState timer;
};

class SifiveClint : public ts::Device {
public:
    static constexpr const char *type_name = "riscv.sifive.clint";
    static constexpr uint64_t kSize = 0x10000, kTimecmpBase = 0x4000, kTimeOffset = 0xbff8;
    ClintState s{};
    explicit SifiveClint(ts_object *obj) : Device(obj) {}
    void realize();
    void reset() {
        swi_.reset();
        timer_.reset();
    }
    void post_load() { timer_.post_load(); }
    uint64_t read(uint64_t off, unsigned size);
    void write(uint64_t off, unsigned size, uint64_t v);
    uint64_t rd_msip(unsigned h) { return swi_.read(h); }
    void wr_msip(unsigned h, uint64_t v) { swi_.write(h, v); }
    uint64_t rd_cmp(unsigned h) { return timer_.mtimecmp(h); }
    void wr_cmp(unsigned h, uint64_t v) { timer_.set_mtimecmp(h, v); }
    uint64_t rd_time() { return timer_.mtime(); }
    void wr_time(uint64_t v) { timer_.set_mtime(v); }

private:
    MswiCore swi_{s.swi};
    MtimerCore timer_{s.timer};
    std::vector<ts::Reg<SifiveClint>> regs_;
};

}  // namespace intc
