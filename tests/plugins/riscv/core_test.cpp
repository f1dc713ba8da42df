// Unit tests of the RISC-V core: decode, compressed expansion, disassembly,
// CSR rules, traps, the MMU and PMP, the decoded-code cache, debugger support.
// Programs are assembled by hand into a flat RAM bus.
#include "csr.hpp"
#include "hart.hpp"
#include "isa/isa.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

constexpr uint64_t kBase = 0x80000000;

class FlatBus : public rv::Bus {
public:
    std::vector<uint8_t> ram = std::vector<uint8_t>(1 << 20);
    uint64_t mmio_last = 0;
    bool lookup(uint64_t pa, rv::RamRange &out) override {
        if (pa < kBase || pa - kBase >= ram.size()) return false;
        out = {ram.data(), kBase, ram.size(), true};
        return true;
    }
    bool read(uint64_t pa, unsigned, uint64_t &v) override {
        if (pa == 0x10000000) {
            v = 0x1234;
            return true;
        }
        return false;
    }
    bool write(uint64_t pa, unsigned, uint64_t v) override {
        if (pa != 0x10000000) return false;
        mmio_last = v;
        return true;
    }
    uint64_t time() override { return now; }
    uint64_t now = 0;
    void put32(uint64_t pa, uint32_t v) { std::memcpy(&ram[pa - kBase], &v, 4); }
    void put16(uint64_t pa, uint16_t v) { std::memcpy(&ram[pa - kBase], &v, 2); }
    void put64(uint64_t pa, uint64_t v) { std::memcpy(&ram[pa - kBase], &v, 8); }
    uint64_t get64(uint64_t pa) {
        uint64_t v;
        std::memcpy(&v, &ram[pa - kBase], 8);
        return v;
    }
};

// Minimal encoders.
uint32_t i_type(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op) {
    return (uint32_t(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
uint32_t addi(unsigned rd, unsigned rs1, int32_t imm) { return i_type(imm, rs1, 0, rd, 0x13); }
uint32_t r_type(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd, unsigned op) {
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
uint32_t csrrs(unsigned rd, unsigned csr, unsigned rs1) { return i_type(int32_t(csr), rs1, 2, rd, 0x73); }
uint32_t sd(unsigned rs2, unsigned rs1, int32_t imm) {
    uint32_t u = uint32_t(imm);
    return ((u >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (3 << 12) | ((u & 31) << 7) | 0x23;
}
uint32_t ld(unsigned rd, unsigned rs1, int32_t imm) { return i_type(imm, rs1, 3, rd, 0x03); }
constexpr uint32_t kEcall = 0x00000073, kMret = 0x30200073, kSret = 0x10200073, kWfi = 0x10500073;

struct Fixture : ::testing::Test {
    FlatBus bus;
    rv::Config cfg;
    std::unique_ptr<rv::Hart> hart;
    void make(unsigned xlen = 64) {
        cfg.xlen = xlen;
        cfg.resetvec = kBase;
        hart = std::make_unique<rv::Hart>(bus, cfg);
    }
    void load(std::initializer_list<uint32_t> prog, uint64_t at = kBase) {
        for (uint32_t w : prog) {
            bus.put32(at, w);
            at += 4;
        }
    }
};

TEST(Decode, TableLinesAreUniqueAndWellFormed) {
    // Every line's match must lie within its mask, and fix the opcode bits.
    for (const rv::OpDesc *d : rv::all_ops()) {
        EXPECT_EQ(d->match & ~d->mask, 0u) << d->name;
        EXPECT_EQ(d->mask & 0x7f, 0x7fu) << d->name;
    }
}

TEST(Decode, CompressedExpansion) {
    // c.addi a0, 1 -> addi a0, a0, 1
    EXPECT_EQ(rv::expand_rvc(0x0505, 64), addi(10, 10, 1));
    // c.li a5, -1 -> addi a5, zero, -1
    EXPECT_EQ(rv::expand_rvc(0x57fd, 64), addi(15, 0, -1));
    // c.ld a0, 8(a1) -> ld a0, 8(a1)
    EXPECT_EQ(rv::expand_rvc(0x6588, 64), ld(10, 11, 8));
    // c.jr ra -> jalr zero, 0(ra)
    EXPECT_EQ(rv::expand_rvc(0x8082, 64), i_type(0, 1, 0, 0, 0x67));
    // All-zero halfword is illegal; c.addiw with rd=0 reserved on RV64.
    EXPECT_EQ(rv::expand_rvc(0x0000, 64), 0u);
    // 0x2001 is c.jal on RV32 (jal ra, 0) but reserved c.addiw x0 on RV64.
    EXPECT_EQ(rv::expand_rvc(0x2001, 32), 0x000000efu);
    EXPECT_EQ(rv::expand_rvc(0x2001, 64), 0u);
    // c.slli with shamt[5] is reserved on RV32.
    EXPECT_EQ(rv::expand_rvc(0x1002, 32), 0u);
}

TEST_F(Fixture, Disassembly) {
    make();
    EXPECT_EQ(rv::disassemble(*hart, kBase, addi(10, 11, -5), 4), "addi a0,a1,-5");
    EXPECT_EQ(rv::disassemble(*hart, kBase, ld(10, 2, 16), 4), "ld a0,16(sp)");
    EXPECT_EQ(rv::disassemble(*hart, kBase, csrrs(5, 0x300, 0), 4), "csrrs t0,mstatus,zero");
    EXPECT_EQ(rv::disassemble(*hart, kBase, 0x0505, 2), "addi a0,a0,1");
    EXPECT_EQ(rv::disassemble(*hart, kBase, kMret, 4), "mret");
    EXPECT_EQ(rv::disassemble(*hart, 0x1000, 0x0000006f | (8u << 21), 4), "jal zero,0x1010");
    EXPECT_EQ(rv::disassemble(*hart, kBase, 0xffffffff, 4), "illegal 0xffffffff");
    // RV64-only instructions are illegal on RV32.
    make(32);
    EXPECT_EQ(rv::disassemble(*hart, kBase, ld(10, 2, 16), 4), "illegal 0x01013503");
}

TEST_F(Fixture, ArithmeticAndInstret) {
    make();
    load({addi(1, 0, 7), addi(2, 0, -3), r_type(1, 2, 1, 0, 3, 0x33) /* mul */,
          r_type(1, 2, 1, 4, 4, 0x33) /* div */, r_type(1, 0, 1, 4, 5, 0x33) /* div by 0 */});
    hart->run(5);
    EXPECT_EQ(hart->s.x[3], uint64_t(-21));
    EXPECT_EQ(hart->s.x[4], uint64_t(-2));
    EXPECT_EQ(hart->s.x[5], ~0ull);
    EXPECT_EQ(hart->s.instret, 5u);
    EXPECT_EQ(hart->s.pc, kBase + 20);
}

TEST_F(Fixture, Rv32WrapsAndSignExtends) {
    make(32);
    load({addi(1, 0, -1), addi(2, 1, 1), i_type(31, 1, 5, 3, 0x13) /* srli x3,x1,31 */});
    hart->run(3);
    EXPECT_EQ(hart->s.x[1], 0xffffffffull);
    EXPECT_EQ(hart->s.x[2], 0u);
    EXPECT_EQ(hart->s.x[3], 1u);
}

TEST_F(Fixture, IllegalInstructionTrapsWithTval) {
    make();
    hart->s.mtvec = kBase + 0x100;
    load({0xffffffffu});
    hart->run(1);
    EXPECT_EQ(hart->s.mcause, rv::EXC_ILLEGAL);
    EXPECT_EQ(hart->s.mtval, 0xffffffffu);
    EXPECT_EQ(hart->s.mepc, kBase);
    EXPECT_EQ(hart->s.pc, kBase + 0x100);
    EXPECT_EQ(hart->s.instret, 0u);   // a trapping instruction does not retire
}

TEST_F(Fixture, EcallDelegatedToSupervisor) {
    make();
    // M: medeleg[8] = 1, stvec, mepc -> user code, MPP = U, mret.
    hart->s.pmpaddr[0] = ~0ull >> 10;   // PMP: everything RWX for S/U
    hart->s.pmpcfg[0] = 0x18 | 7;
    hart->s.medeleg = 1u << 8;
    hart->s.stvec = kBase + 0x200;
    hart->s.mepc = kBase + 0x100;
    load({kMret});
    load({kEcall}, kBase + 0x100);
    hart->run(2);
    EXPECT_EQ(hart->s.priv, rv::PRV_S);
    EXPECT_EQ(hart->s.scause, rv::EXC_ECALL_U);
    EXPECT_EQ(hart->s.sepc, kBase + 0x100);
    EXPECT_EQ(hart->s.pc, kBase + 0x200);
    EXPECT_EQ((hart->s.mstatus >> 8) & 1, 0u);   // SPP = U
}

TEST_F(Fixture, CsrPrivilegeAndReadOnly) {
    make();
    hart->s.priv = rv::PRV_U;
    EXPECT_THROW(hart->csr_rw(0x300, 2, 0, false), rv::Trap);   // mstatus from U
    hart->s.priv = rv::PRV_M;
    EXPECT_THROW(hart->csr_rw(0xf14, 1, 5, true), rv::Trap);    // mhartid is read-only
    EXPECT_NO_THROW(hart->csr_rw(0xf14, 2, 0, false));
    // Counters from S need mcounteren.
    hart->s.priv = rv::PRV_S;
    EXPECT_THROW(hart->csr_rw(0xc00, 2, 0, false), rv::Trap);
    hart->s.mcounteren = 1;
    EXPECT_NO_THROW(hart->csr_rw(0xc00, 2, 0, false));
    EXPECT_STREQ(rv::csr_name(0x180), "satp");
}

TEST_F(Fixture, MstatusWarlAndSd) {
    make();
    hart->csr_rw(0x300, 1, (2ull << 11) | (3ull << 13), true);   // MPP=2 is reserved
    EXPECT_EQ((hart->s.mstatus >> 11) & 3, 0u);
    uint64_t v = hart->csr_rw(0x300, 2, 0, false);
    EXPECT_EQ(v >> 63, 1u);                  // FS dirty -> SD
    EXPECT_EQ((v >> 32) & 3, 2u);            // UXL = 64
    // sstatus is a view.
    uint64_t sv = hart->csr_rw(0x100, 2, 0, false);
    EXPECT_EQ(sv & (1ull << 3), 0u);         // no MIE in sstatus
    EXPECT_EQ((sv >> 13) & 3, 3u);
}

TEST_F(Fixture, SatpRejectsUnsupportedModes) {
    make();
    hart->csr_rw(0x180, 1, (5ull << 60) | 123, true);
    EXPECT_EQ(hart->s.satp, 0u);
    hart->csr_rw(0x180, 1, (8ull << 60) | 123, true);
    EXPECT_EQ(hart->s.satp, (8ull << 60) | 123);
}

// Build an Sv39 mapping of VA 0x1000 -> PA kBase+0x10000 (one 4K page) via
// three levels, with given leaf flags.
void map_sv39(FlatBus &bus, uint64_t leaf_flags) {
    const uint64_t root = kBase + 0x40000, l1 = kBase + 0x41000, l0 = kBase + 0x42000;
    bus.put64(root + 0 * 8, ((l1 >> 12) << 10) | 1);
    bus.put64(l1 + 0 * 8, ((l0 >> 12) << 10) | 1);
    bus.put64(l0 + 1 * 8, (((kBase + 0x10000) >> 12) << 10) | leaf_flags);
}

TEST_F(Fixture, Sv39TranslationAndAdBits) {
    make();
    map_sv39(bus, 0x1 | 0x2 | 0x4 | 0x10);   // V R W U, A/D clear
    hart->s.satp = (8ull << 60) | ((kBase + 0x40000) >> 12);
    hart->s.priv = rv::PRV_U;
    // PMP: allow all for U.
    hart->s.pmpaddr[0] = ~0ull >> 10;
    hart->s.pmpcfg[0] = 0x18 | 7;
    bus.put64(kBase + 0x10008, 0xabcdef);
    EXPECT_EQ(hart->load<uint64_t>(0x1008), 0xabcdefu);
    uint64_t pte = bus.get64(kBase + 0x42000 + 8);
    EXPECT_TRUE(pte & 0x40);          // A set by hardware (Svadu, ADUE on)
    EXPECT_FALSE(pte & 0x80);
    hart->store<uint64_t>(0x1010, 42);
    EXPECT_TRUE(bus.get64(kBase + 0x42000 + 8) & 0x80);   // D set on write
    EXPECT_EQ(bus.get64(kBase + 0x10010), 42u);
    // Without ADUE a clear A bit faults.
    map_sv39(bus, 0x1 | 0x2 | 0x10);
    hart->s.menvcfg &= ~rv::menvcfg_bits::ADUE;
    hart->flush_tlb();
    try {
        hart->load<uint64_t>(0x1008);
        FAIL() << "expected a page fault";
    } catch (const rv::Trap &t) {
        EXPECT_EQ(t.cause, rv::EXC_LOAD_PAGE_FAULT);
        EXPECT_EQ(t.tval, 0x1008u);
    }
    // Supervisor cannot touch user pages without SUM.
    map_sv39(bus, 0x1 | 0x2 | 0x10 | 0x40);
    hart->flush_tlb();
    hart->s.priv = rv::PRV_S;
    EXPECT_THROW(hart->load<uint64_t>(0x1008), rv::Trap);
    hart->s.mstatus |= rv::mstatus_bits::SUM;
    hart->flush_tlb();
    EXPECT_EQ(hart->load<uint64_t>(0x1008), 0xabcdefu);
    // Non-canonical addresses fault.
    EXPECT_THROW(hart->load<uint64_t>(0x0000800000000000ull), rv::Trap);
}

TEST_F(Fixture, PmpDeniesAndLocks) {
    make();
    // Entry 0: NAPOT 4 KiB at kBase+0x10000, read-only, locked (applies to M).
    hart->csr_rw(0x3b0, 1, ((kBase + 0x10000) >> 2) | 0x1ff, true);
    hart->csr_rw(0x3a0, 1, 0x80 | 0x18 | 0x1, true);
    EXPECT_NO_THROW(hart->load<uint32_t>(kBase + 0x10000));
    try {
        hart->store<uint32_t>(kBase + 0x10000, 1);
        FAIL();
    } catch (const rv::Trap &t) {
        EXPECT_EQ(t.cause, rv::EXC_STORE_ACCESS);
    }
    // Locked: writes to cfg and addr are ignored.
    hart->csr_rw(0x3a0, 1, 0x1f, true);
    EXPECT_EQ(hart->s.pmpcfg[0], 0x99);
    // M-mode outside any entry succeeds; S-mode fails.
    EXPECT_NO_THROW(hart->load<uint32_t>(kBase));
    hart->s.priv = rv::PRV_S;
    EXPECT_THROW(hart->load<uint32_t>(kBase), rv::Trap);
}

TEST_F(Fixture, MisalignedLoadsAreEmulatedAmosTrap) {
    make();
    bus.put64(kBase + 0x100, 0x1122334455667788ull);
    bus.put64(kBase + 0x108, 0x99aabbccddeeff00ull);
    EXPECT_EQ(hart->load<uint32_t>(kBase + 0x103), 0x22334455u);
    EXPECT_EQ(hart->load<uint64_t>(kBase + 0x104), 0xddeeff0011223344ull);
    try {
        hart->amo_ptr(kBase + 0x102, 4, false);
        FAIL();
    } catch (const rv::Trap &t) {
        EXPECT_EQ(t.cause, rv::EXC_STORE_MISALIGNED);
    }
}

TEST_F(Fixture, MmioAndAccessFaults) {
    make();
    EXPECT_EQ(hart->load<uint32_t>(0x10000000), 0x1234u);
    hart->store<uint32_t>(0x10000000, 77);
    EXPECT_EQ(bus.mmio_last, 77u);
    EXPECT_THROW(hart->load<uint32_t>(0x20000000), rv::Trap);
}

TEST_F(Fixture, SelfModifyingCodeIsSeen) {
    make();
    // addi a0,zero,1 ; sd t0,0(t1) overwrites the first insn ; jump back.
    load({addi(10, 0, 1), sd(5, 6, 0), 0xff9ff06f /* jal zero,-8 */});
    hart->s.x[5] = addi(10, 0, 2);
    hart->s.x[6] = kBase;
    hart->run(3);   // executes, stores, jumps back
    hart->run(1);   // the rewritten instruction
    EXPECT_EQ(hart->s.x[10], 2u);
}

// Another hart's store to code this hart decoded is seen after fence.i (and
// the decoded page survives fences that changed nothing; an A-B-A rewrite
// back to the decoded bytes is not mistaken for a change, nor the reverse).
TEST_F(Fixture, FenceISeesOtherHartsStores) {
    make();
    rv::Hart other(bus, cfg);
    // addi a0,zero,1 ; jal zero,-4 (loops on itself after the first)
    load({addi(10, 0, 1), 0x0000006f /* jal zero,0 */});
    hart->run(2);
    EXPECT_EQ(hart->s.x[10], 1u);
    // The other hart rewrites the first instruction (its own stores know
    // nothing of this hart's decoded pages).
    other.s.x[5] = addi(10, 0, 2);
    other.s.x[6] = kBase;
    bus.put32(kBase + 0x1000, sd(5, 6, 0));
    other.s.pc = kBase + 0x1000;
    other.run(1);
    ASSERT_EQ(bus.ram[0], addi(10, 0, 2) & 0xff);
    hart->fence_i();
    hart->s.pc = kBase;
    hart->run(1);
    EXPECT_EQ(hart->s.x[10], 2u);
    // Decoded as 2 now; rewritten to 3 and back to 2 before the fence: 2.
    bus.put32(kBase, addi(10, 0, 3));
    bus.put32(kBase, addi(10, 0, 2));
    hart->s.x[10] = 0;
    hart->fence_i();
    hart->s.pc = kBase;
    hart->run(1);
    EXPECT_EQ(hart->s.x[10], 2u);
    // Changed and not fenced yet: the old decode may stay; fenced: the new.
    bus.put32(kBase, addi(10, 0, 4));
    hart->fence_i();
    hart->s.pc = kBase;
    hart->run(1);
    EXPECT_EQ(hart->s.x[10], 4u);
}

TEST_F(Fixture, InterruptsRespectEnablesAndDelegation) {
    make();
    hart->s.mtvec = kBase + 0x100 + 1;   // vectored
    load({addi(0, 0, 0), addi(0, 0, 0)});
    load({addi(0, 0, 0)}, kBase + 0x100 + 4 * rv::irq::MTI);
    hart->s.mie = 1u << rv::irq::MTI;
    hart->set_irq_line(rv::irq::MTI, true);
    hart->run(1);   // MIE=0 in M: not taken
    EXPECT_EQ(hart->s.pc, kBase + 4);
    hart->s.mstatus |= rv::mstatus_bits::MIE;
    hart->request_check();
    hart->run(1);
    EXPECT_EQ(hart->s.mcause, (1ull << 63) | rv::irq::MTI);
    EXPECT_EQ(hart->s.pc, kBase + 0x100 + 4 * rv::irq::MTI + 4);   // vector entry, then one insn
}

// A read-modify-write of mip (csrrc mip, SSIP) while the PLIC holds the
// external SEIP line must not latch SEIP into the software-writable bit:
// once the line drops, SEIP must read 0 (a latched bit hung Linux -smp 2).
TEST_F(Fixture, MipReadModifyWriteDoesNotLatchExternalSeip) {
    make();
    const uint32_t csrrc_mip = i_type(0x344, 5, 3, 6, 0x73);   // csrrc t1, mip, t0
    load({addi(5, 0, 2), csrrc_mip});
    hart->set_irq_line(rv::irq::SEI, true);
    hart->run(2);
    EXPECT_NE(hart->s.x[6] & (1u << rv::irq::SEI), 0u);   // the read sees the line
    hart->set_irq_line(rv::irq::SEI, false);
    EXPECT_EQ(hart->mip_effective() & (1u << rv::irq::SEI), 0u);
}

TEST_F(Fixture, WfiHaltsUntilInterrupt) {
    make();
    load({kWfi, addi(1, 0, 5)});
    hart->s.mie = 1u << rv::irq::MSI;
    EXPECT_EQ(hart->run(10), rv::Exit::Halted);
    EXPECT_FALSE(hart->has_work());
    hart->set_irq_line(rv::irq::MSI, true);
    EXPECT_TRUE(hart->has_work());
    hart->run(1);   // MIE clear: resumes after WFI without trapping
    EXPECT_EQ(hart->s.x[1], 5u);
}

TEST_F(Fixture, SstcRaisesStip) {
    make();
    hart->s.menvcfg |= rv::menvcfg_bits::STCE;
    hart->csr_rw(0x14d, 1, 100, true);
    bus.now = 50;
    EXPECT_EQ(hart->mip_effective() & (1u << rv::irq::STI), 0u);
    bus.now = 100;
    EXPECT_NE(hart->mip_effective() & (1u << rv::irq::STI), 0u);
    // S-mode access needs mcounteren.TM.
    hart->s.priv = rv::PRV_S;
    EXPECT_THROW(hart->csr_rw(0x14d, 2, 0, false), rv::Trap);
    hart->s.mcounteren = 2;
    EXPECT_EQ(hart->csr_rw(0x14d, 2, 0, false), 100u);
}

TEST_F(Fixture, LrScPairs) {
    make();
    const uint32_t lr_d = 0x1005352f;   // lr.d a0,(a0)
    const uint32_t sc_d = 0x18c5b5af;   // sc.d a1,a2,(a1)
    bus.put64(kBase + 0x800, 5);
    hart->s.x[10] = kBase + 0x800;
    hart->s.x[11] = kBase + 0x800;
    hart->s.x[12] = 9;
    load({lr_d, sc_d, sc_d});
    hart->run(2);
    EXPECT_EQ(hart->s.x[10], 5u);
    EXPECT_EQ(hart->s.x[11], 0u);   // success
    EXPECT_EQ(bus.get64(kBase + 0x800), 9u);
    hart->s.x[11] = kBase + 0x800;
    hart->run(1);
    EXPECT_EQ(hart->s.x[11], 1u);   // no reservation
}

}  // namespace

namespace {

TEST_F(Fixture, TraceHookSeesEachStraightLineRun) {
    make();
    load({addi(1, 0, 1), 0x0080006f /* jal zero,+8 */, addi(1, 0, 2), addi(1, 0, 3)});
    std::vector<uint64_t> seen;
    hart->hook_opaque = &seen;
    hart->on_block = [](void *o, rv::Hart &, uint64_t pc) { static_cast<std::vector<uint64_t> *>(o)->push_back(pc); };
    hart->trace_blocks = true;
    hart->run(3);
    EXPECT_EQ(seen, (std::vector<uint64_t>{kBase, kBase + 12}));
    EXPECT_EQ(hart->s.x[1], 3u);
}

// ---- Debugger support ----------------------------------------------------------

using rv::DebugPoint;
using rv::StopReason;

TEST_F(Fixture, BreakpointStopsBeforeTheInstruction) {
    make();
    load({addi(1, 0, 1), addi(2, 0, 2), addi(3, 0, 3), addi(4, 0, 4)});
    ASSERT_TRUE(hart->debug_insert(DebugPoint::SwBreak, kBase + 8, 4));
    ASSERT_TRUE(hart->debug_insert(DebugPoint::SwBreak, kBase + 8, 4));   // counts once
    EXPECT_EQ(hart->run(100), rv::Exit::Debug);
    EXPECT_EQ(hart->s.pc, kBase + 8);
    EXPECT_EQ(hart->s.x[2], 2u);
    EXPECT_EQ(hart->s.x[3], 0u);   // not executed
    EXPECT_EQ(hart->s.instret, 2u);
    EXPECT_EQ(hart->last_stop().reason, StopReason::Break);
    EXPECT_EQ(hart->last_stop().point, DebugPoint::SwBreak);
    EXPECT_EQ(hart->last_stop().addr, kBase + 8);
    // Resuming with the breakpoint still set stops again at once.
    EXPECT_EQ(hart->run(100), rv::Exit::Debug);
    EXPECT_EQ(hart->s.instret, 2u);
    // A single removal takes the duplicate away too; then it runs on.
    EXPECT_TRUE(hart->debug_remove(DebugPoint::SwBreak, kBase + 8, 4));
    EXPECT_FALSE(hart->debug_remove(DebugPoint::SwBreak, kBase + 8, 4));
    EXPECT_EQ(hart->run(2), rv::Exit::Budget);
    EXPECT_EQ(hart->s.x[4], 4u);
    EXPECT_EQ(hart->last_stop().reason, StopReason::None);
}

TEST_F(Fixture, HardwareBreakpointAfterAWarmCache) {
    make();
    // A loop: addi x1,x1,1 ; jal zero,-4. Decoded and cached before the breakpoint.
    load({addi(1, 1, 1), 0xffdff06f});
    EXPECT_EQ(hart->run(1000), rv::Exit::Budget);
    EXPECT_EQ(hart->s.x[1], 500u);
    ASSERT_TRUE(hart->debug_insert(DebugPoint::HwBreak, kBase + 4, 4));
    EXPECT_EQ(hart->run(1000), rv::Exit::Debug);
    EXPECT_EQ(hart->s.pc, kBase + 4);
    EXPECT_EQ(hart->s.x[1], 501u);
    EXPECT_EQ(hart->last_stop().point, DebugPoint::HwBreak);
    hart->debug_remove_all();
    EXPECT_EQ(hart->run(10), rv::Exit::Budget);
}

TEST_F(Fixture, SingleStepRunsOneInstructionPastABreakpoint) {
    make();
    load({addi(1, 0, 1), addi(2, 0, 2), addi(3, 0, 3)});
    hart->debug_insert(DebugPoint::SwBreak, kBase, 4);
    hart->debug_insert(DebugPoint::SwBreak, kBase + 4, 4);
    hart->set_single_step(true);
    // The breakpoint at the starting pc does not stop a step...
    EXPECT_EQ(hart->run(100), rv::Exit::Debug);
    EXPECT_EQ(hart->last_stop().reason, StopReason::Step);
    EXPECT_EQ(hart->s.pc, kBase + 4);
    EXPECT_EQ(hart->s.x[1], 1u);
    EXPECT_EQ(hart->s.x[2], 0u);
    EXPECT_EQ(hart->run(100), rv::Exit::Debug);
    EXPECT_EQ(hart->s.pc, kBase + 8);
    EXPECT_EQ(hart->s.instret, 2u);
    // ...and without stepping the run goes on to the end of the budget.
    hart->set_single_step(false);
    EXPECT_EQ(hart->run(1), rv::Exit::Budget);
    EXPECT_EQ(hart->s.x[3], 3u);
}

TEST_F(Fixture, SingleStepMasksInterruptsAndStepsIntoTraps) {
    make();
    load({addi(1, 0, 1), kEcall});
    load({addi(9, 0, 9)}, kBase + 0x100);
    hart->s.mtvec = kBase + 0x100;
    hart->s.mstatus |= rv::mstatus_bits::MIE;
    hart->s.mie = 1ull << rv::irq::MSI;
    hart->s.mip = 1ull << rv::irq::MSI;   // pending and enabled: would be taken at once
    hart->set_single_step(true);
    EXPECT_EQ(hart->run(100), rv::Exit::Debug);
    EXPECT_EQ(hart->s.pc, kBase + 4);   // the addi ran, no interrupt entry
    EXPECT_EQ(hart->s.x[1], 1u);
    EXPECT_EQ(hart->s.mcause, 0u);
    hart->s.mip = 0;
    EXPECT_EQ(hart->run(100), rv::Exit::Debug);   // the ecall: trap entry is one step
    EXPECT_EQ(hart->last_stop().reason, StopReason::Step);
    EXPECT_EQ(hart->s.pc, kBase + 0x100);
    EXPECT_EQ(hart->s.mcause, rv::EXC_ECALL_M);
    EXPECT_EQ(hart->s.x[9], 0u);
}

TEST_F(Fixture, SteppedWfiCompletes) {
    make();
    load({kWfi, addi(1, 0, 1)});
    hart->set_single_step(true);
    EXPECT_EQ(hart->run(100), rv::Exit::Debug);
    EXPECT_EQ(hart->s.pc, kBase + 4);
    EXPECT_EQ(hart->run(100), rv::Exit::Debug);
    EXPECT_EQ(hart->s.x[1], 1u);
}

TEST_F(Fixture, WriteWatchpointStopsAfterTheStore) {
    make();
    const uint64_t var = kBase + 0x2000;
    hart->s.x[5] = var;
    hart->s.x[6] = 0x1234;
    // Warm the TLB on the variable's page first: the watchpoint must still see it.
    load({ld(7, 5, 0), ld(7, 5, 8), sd(6, 5, 0), ld(8, 5, 0), addi(9, 0, 9)});
    EXPECT_EQ(hart->run(1), rv::Exit::Budget);
    ASSERT_TRUE(hart->debug_insert(DebugPoint::WatchWrite, var, 8));
    ASSERT_TRUE(hart->debug_insert(DebugPoint::WatchRead, var + 0x100, 8));   // same page, not touched
    EXPECT_EQ(hart->run(2), rv::Exit::Debug);   // the budget ends on the store: still reported
    EXPECT_EQ(hart->last_stop().reason, StopReason::Watch);
    EXPECT_EQ(hart->last_stop().point, DebugPoint::WatchWrite);
    EXPECT_EQ(hart->last_stop().addr, var);
    EXPECT_EQ(hart->s.pc, kBase + 12);   // the store completed: pc is the next insn
    EXPECT_EQ(bus.get64(var), 0x1234u);
    EXPECT_EQ(hart->run(2), rv::Exit::Budget);   // the load does not trip a write watch
    EXPECT_EQ(hart->s.x[8], 0x1234u);
    EXPECT_EQ(hart->s.x[9], 9u);
}

TEST_F(Fixture, ReadAndAccessWatchpoints) {
    make();
    const uint64_t var = kBase + 0x3000;
    bus.put64(var, 77);
    hart->s.x[5] = var;
    load({sd(0, 5, 8), ld(7, 5, 4) /* misaligned, overlaps var+4.. */, sd(0, 5, 0), addi(9, 0, 9)});
    ASSERT_TRUE(hart->debug_insert(DebugPoint::WatchRead, var + 8, 4));
    ASSERT_TRUE(hart->debug_insert(DebugPoint::WatchAccess, var, 4));
    // sd to var+8 is a write: the read watch there does not fire. The ld at
    // var+4 covers var+8 (read watch); reported at the watched address.
    EXPECT_EQ(hart->run(100), rv::Exit::Debug);
    EXPECT_EQ(hart->last_stop().point, DebugPoint::WatchRead);
    EXPECT_EQ(hart->last_stop().addr, var + 8);
    EXPECT_EQ(hart->s.pc, kBase + 8);
    EXPECT_EQ(hart->run(100), rv::Exit::Debug);   // the store hits the access watch
    EXPECT_EQ(hart->last_stop().point, DebugPoint::WatchAccess);
    EXPECT_EQ(hart->last_stop().addr, var);
    EXPECT_EQ(hart->s.pc, kBase + 12);
    EXPECT_EQ(bus.get64(var), 0u);
    hart->debug_remove_all();
    EXPECT_EQ(hart->run(1), rv::Exit::Budget);
    EXPECT_EQ(hart->s.x[9], 9u);
}

TEST_F(Fixture, AmoTripsWatchpoints) {
    make();
    const uint64_t var = kBase + 0x2000;
    hart->s.x[5] = var;
    hart->s.x[6] = 5;
    load({r_type(0, 6, 5, 3, 7, 0x2f) /* amoadd.d x7,x6,(x5) */, addi(9, 0, 9)});
    ASSERT_TRUE(hart->debug_insert(DebugPoint::WatchWrite, var, 8));
    EXPECT_EQ(hart->run(100), rv::Exit::Debug);
    EXPECT_EQ(hart->last_stop().reason, StopReason::Watch);
    EXPECT_EQ(hart->s.pc, kBase + 4);
    EXPECT_EQ(bus.get64(var), 5u);
}

TEST_F(Fixture, UnknownDebugPointIsRejected) {
    make();
    EXPECT_FALSE(hart->debug_insert(static_cast<DebugPoint>(7), kBase, 4));
    EXPECT_FALSE(hart->debug_remove(DebugPoint::WatchWrite, kBase, 4));
}

#ifdef RV_HAVE_FPU
TEST_F(Fixture, FloatDisassemblyAndNanBoxing) {
    make();
    // fadd.d fa0,fa1,fa2 (dynamic rounding) and fmadd.s with rtz.
    EXPECT_EQ(rv::disassemble(*hart, kBase, 0x02c5f553, 4), "fadd.d fa0,fa1,fa2");
    EXPECT_EQ(rv::disassemble(*hart, kBase, 0x68c59543, 4), "fmadd.s fa0,fa1,fa2,fa3,rtz");
    // fadd.s on an improperly boxed operand produces the canonical NaN.
    hart->s.mstatus |= rv::mstatus_bits::FS;
    hart->s.f[11] = 0x3f800000;                       // not boxed
    hart->s.f[12] = 0xffffffff3f800000ull;            // boxed 1.0f
    load({0x00c5f553});                               // fadd.s fa0,fa1,fa2
    hart->run(1);
    EXPECT_EQ(hart->s.f[10], 0xffffffff7fc00000ull);
}
#endif

}  // namespace
