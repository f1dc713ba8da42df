// Architectural state of one RISC-V hart: everything that is guest-visible
// and saved in snapshots. Plain data (no pointers) so it can be declared field
// by field to the kernel's state machinery.
#pragma once

#include <cstdint>

namespace rv {

enum Priv : uint8_t { PRV_U = 0, PRV_S = 1, PRV_M = 3 };

// Enabled extensions of a CPU model. Letters that misa reports are derived.
struct Extensions {
    bool m = true, a = true, f = true, d = true, c = true;
    bool s = true, u = true;
    bool zicsr = true, zifencei = true, zicntr = true, zihpm = true;
    bool zba = true, zbb = true, zbc = true, zbs = true, zicond = true;
    bool zicbom = true, zicboz = true, zicbop = true, zihintpause = true;
    bool sstc = true, svpbmt = true, svadu = true;
};

struct CpuState {
    uint64_t x[32];
    uint64_t f[32];
    uint64_t pc;
    uint8_t priv;
    uint8_t fflags, frm;
    uint8_t waiting;        // in WFI
    uint8_t lr_valid;
    uint64_t lr_addr, lr_val;

    // Machine CSRs
    uint64_t mstatus, misa, medeleg, mideleg, mie, mip /* software-set bits */;
    uint64_t mtvec, mcounteren, menvcfg, mscratch, mepc, mcause, mtval;
    uint64_t mcountinhibit, mhartid;
    uint64_t instret, cycle_offset;   // mcycle = instret + cycle_offset
    uint64_t mhpmevent[32];           // 3..31 used
    uint8_t pmpcfg[16];
    uint64_t pmpaddr[16];

    // Supervisor CSRs
    uint64_t stvec, scounteren, senvcfg, sscratch, sepc, scause, stval, satp;
    uint64_t stimecmp;

    // Debug trigger select (no triggers implemented)
    uint64_t tselect;
};

// CSR field masks (privileged spec 1.12).
namespace mstatus_bits {
inline constexpr uint64_t SIE = 1ull << 1, MIE = 1ull << 3, SPIE = 1ull << 5, UBE = 1ull << 6,
                          MPIE = 1ull << 7, SPP = 1ull << 8, VS = 3ull << 9, MPP = 3ull << 11,
                          FS = 3ull << 13, XS = 3ull << 15, MPRV = 1ull << 17, SUM = 1ull << 18,
                          MXR = 1ull << 19, TVM = 1ull << 20, TW = 1ull << 21, TSR = 1ull << 22,
                          UXL = 3ull << 32, SXL = 3ull << 34, SD64 = 1ull << 63,
                          SD32 = 1ull << 31;
}

namespace irq {
inline constexpr int SSI = 1, MSI = 3, STI = 5, MTI = 7, SEI = 9, MEI = 11;
}

namespace menvcfg_bits {
inline constexpr uint64_t FIOM = 1, CBIE = 3ull << 4, CBCFE = 1ull << 6, CBZE = 1ull << 7,
                          ADUE = 1ull << 61, PBMTE = 1ull << 62, STCE = 1ull << 63;
}

enum Exc : uint64_t {
    EXC_INSN_MISALIGNED = 0,
    EXC_INSN_ACCESS = 1,
    EXC_ILLEGAL = 2,
    EXC_BREAKPOINT = 3,
    EXC_LOAD_MISALIGNED = 4,
    EXC_LOAD_ACCESS = 5,
    EXC_STORE_MISALIGNED = 6,
    EXC_STORE_ACCESS = 7,
    EXC_ECALL_U = 8,
    EXC_ECALL_S = 9,
    EXC_ECALL_M = 11,
    EXC_INSN_PAGE_FAULT = 12,
    EXC_LOAD_PAGE_FAULT = 13,
    EXC_STORE_PAGE_FAULT = 15,
};

// Thrown inside the interpreter to raise a synchronous exception; caught by
// the run loop, which enters the trap. Never leaves the core.
struct Trap {
    uint64_t cause;
    uint64_t tval;
};

}  // namespace rv
