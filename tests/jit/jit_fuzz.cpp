// Differential fuzzer: random valid RV64 programs (ALU, M, Zb*, loads/stores to
// a RAM window and to MMIO, forward branches and jumps, CSR accesses, ecall and
// illegal-instruction traps, self-modifying stores, fence.i, F/D arithmetic,
// conversions, compares, FP loads/stores with NaNs, infinities, denormals,
// unboxed singles, every rounding mode, FS off; lr/sc and AMOs) run through the
// interpreter and through the JIT from identical states. The JIT runs one
// block at a time; the interpreter then steps to the same point and the full
// state (registers, pc, CSRs, instret, the data window) must agree.
//
// Seeds: a fixed one, then a random one (printed), for a bounded time.
// JIT_FUZZ_SEED=n reproduces one seed; JIT_FUZZ_MS sets the time budget.
#include "hart.hpp"
#include "../jit/jit.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

constexpr uint64_t kBase = 0x80000000, kData = 0x80080000, kMmio = 0x10000000;
constexpr uint64_t kHandler = 0x80010000;

class FlatBus : public rv::Bus {
public:
    std::vector<uint8_t> ram = std::vector<uint8_t>(1 << 20);
    uint64_t mmio_reg = 0x5a5a;
    bool lookup(uint64_t pa, rv::RamRange &out) override {
        if (pa < kBase || pa - kBase >= ram.size()) return false;
        out = {ram.data(), kBase, ram.size(), true};
        return true;
    }
    bool read(uint64_t pa, unsigned size, uint64_t &v) override {
        if (pa < kMmio || pa >= kMmio + 16) return false;
        v = (mmio_reg >> (8 * (pa & 7))) & (size == 8 ? ~0ull : (1ull << 8 * size) - 1);
        return true;
    }
    bool write(uint64_t pa, unsigned, uint64_t v) override {
        if (pa < kMmio || pa >= kMmio + 16) return false;
        mmio_reg = mmio_reg * 31 + v;
        return true;
    }
    void put32(uint64_t pa, uint32_t v) { std::memcpy(&ram[pa - kBase], &v, 4); }
};

// ---- Encoders ----
uint32_t r_type(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd, unsigned op) {
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
uint32_t i_type(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op) {
    return (uint32_t(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
uint32_t s_type(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3) {
    uint32_t u = uint32_t(imm);
    return (((u >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 31) << 7) | 0x23;
}
uint32_t b_type(int32_t off, unsigned rs2, unsigned rs1, unsigned f3) {
    uint32_t u = uint32_t(off);
    return (((u >> 12) & 1) << 31) | (((u >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
           (((u >> 1) & 0xf) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}
uint32_t j_type(int32_t off, unsigned rd) {
    uint32_t u = uint32_t(off);
    return (((u >> 20) & 1) << 31) | (((u >> 1) & 0x3ff) << 21) | (((u >> 11) & 1) << 20) |
           (((u >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
}
uint32_t u_type(uint32_t imm20, unsigned rd, unsigned op) { return (imm20 << 12) | (rd << 7) | op; }

// Registers with fixed roles: x10 data window, x11 MMIO, x12 code base, x13 jalr
// base, x14 the word self-modifying code stores, x15 a loop counter.
constexpr unsigned kFixed[] = {10, 11, 12, 13, 14, 15};

struct Gen {
    std::mt19937_64 rng;
    bool rv32;   // only RV32 encodings (no word forms, ld/sd/lwu, .d AMOs)
    explicit Gen(uint64_t seed, bool rv32_ = false) : rng(seed), rv32(rv32_) {}
    // Load/store/AMO widths that exist in this XLEN.
    unsigned load_f3() { static const unsigned f[] = {0, 1, 2, 4, 5}; return rv32 ? f[u(5)] : static_cast<unsigned>(u(7)); }
    unsigned store_f3() { return static_cast<unsigned>(u(rv32 ? 3 : 4)); }
    unsigned dword_f3() { return rv32 ? 2 : 3; }   // lw / ld
    uint64_t u(uint64_t n) { return rng() % n; }
    unsigned rd() {
        for (;;) {
            unsigned r = static_cast<unsigned>(u(32));
            bool fixed = false;
            for (unsigned f : kFixed) fixed |= r == f;
            if (!fixed) return r;
        }
    }
    unsigned rs() { return static_cast<unsigned>(u(32)); }

    // One unit: an instruction or a short fixed sequence, placed at index i.
    // Branch and jump units skip `skip` whole units forward.
    unsigned skip = 0;
    // A rounding mode: mostly RNE or dynamic, sometimes the others or invalid.
    unsigned rm() {
        static const unsigned pick[] = {0, 0, 7, 7, 7, 1, 1, 2, 3, 4, 5, 6};
        return pick[u(std::size(pick))];
    }
    unsigned fr() { return static_cast<unsigned>(u(32)); }

    // F/D register operations (opcode 0x53), single or double.
    void emit_fp(std::vector<uint32_t> &p) {
        const unsigned fmt = static_cast<unsigned>(u(2));
        auto op = [&](unsigned f5, unsigned rs2, unsigned f3, unsigned rd) {
            p.push_back(r_type(f5 << 2 | fmt, rs2, fr(), f3, rd, 0x53));
        };
        switch (u(16)) {
        case 0: case 1: case 2: op(static_cast<unsigned>(u(4)), fr(), rm(), fr()); break;   // add sub mul div
        case 3: op(0x0b, 0, rm(), fr()); break;                                                 // sqrt
        case 4: op(0x04, fr(), static_cast<unsigned>(u(3)), fr()); break;                       // sgnj*
        case 5: op(0x05, fr(), static_cast<unsigned>(u(2)), fr()); break;                       // min max
        case 6: case 7: op(0x14, fr(), static_cast<unsigned>(u(3)), rd()); break;               // feq flt fle
        case 8: op(0x1c, 0, u(2) ? 1 : 0, rd()); break;                                         // fclass, fmv.x
        case 9: case 10: op(0x18, static_cast<unsigned>(u(4)), rm(), rd()); break;             // fcvt.{w,wu,l,lu}.f
        case 11: p.push_back(r_type(0x1a << 2 | fmt, static_cast<unsigned>(u(4)), rs(), rm(), fr(), 0x53)); break;
        case 12: p.push_back(r_type(0x1e << 2 | fmt, 0, rs(), 0, fr(), 0x53)); break;            // fmv.{w,d}.x
        case 13: p.push_back(r_type(fmt ? 0x21 : 0x20, fmt ? 0 : 1, fr(), rm(), fr(), 0x53)); break;   // fcvt.d.s / s.d
        default: {   // fmadd fmsub fnmsub fnmadd
            static const unsigned opc[] = {0x43, 0x47, 0x4b, 0x4f};
            p.push_back(fr() << 27 | fmt << 25 | fr() << 20 | fr() << 15 | rm() << 12 | fr() << 7 | opc[u(4)]);
            break;
        }
        }
    }

    void emit(std::vector<uint32_t> &p, size_t i) {
        switch (u(32)) {
        case 31:   // cbo.zero on the data window, or a fence of any kind
            if (u(2)) {
                unsigned r = rd();
                if (r == 0) r = 5;
                p.push_back(i_type(static_cast<int32_t>(u(32)) * 64 - 1024 + static_cast<int32_t>(u(64)), 10, 0, r, 0x13));
                p.push_back(i_type(4, r, 2, 0, 0x0f));   // cbo.zero (r)
            } else {
                p.push_back(i_type(static_cast<int32_t>(u(256)), 0, 0, 0, 0x0f));   // fence pred, succ
            }
            break;
        case 29: case 30: {   // A: lr/sc pairs and AMOs on the data window (sometimes misaligned)
            unsigned r = rd();
            if (r == 0) r = 5;
            int32_t off = static_cast<int32_t>(u(256)) * 8 - 1024;
            if (u(8) == 0) off += static_cast<int32_t>(1 + u(7));
            p.push_back(i_type(off, 10, 0, r, 0x13));   // addi r, x10, off
            auto a = [&](unsigned f5, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd_) {
                return f5 << 27 | static_cast<unsigned>(u(4)) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd_ << 7 | 0x2f;
            };
            const unsigned f3 = 2 + static_cast<unsigned>(rv32 ? 0 : u(2));
            if (u(2)) {
                if (u(4)) p.push_back(a(0x02, 0, r, f3, rd()));   // lr (or not: a lone sc fails)
                if (u(2)) p.push_back(r_type(0, rs(), rs(), 0, rd(), 0x33));
                if (u(3) == 0) p.push_back(s_type(off & ~7, rs(), 10, dword_f3()));   // a store in between
                p.push_back(a(0x03, rs(), u(6) ? r : 10, u(6) || rv32 ? f3 : 5 - f3, rd()));   // sc
            } else {
                static const unsigned f5[] = {0x01, 0x00, 0x04, 0x0c, 0x08, 0x10, 0x14, 0x18, 0x1c};
                p.push_back(a(f5[u(std::size(f5))], rs(), r, f3, rd()));
            }
            break;
        }
        case 27: case 28: {   // a loop onto itself around FP, ALU and memory operations
            const unsigned k = static_cast<unsigned>(1 + u(4));
            p.push_back(i_type(static_cast<int32_t>(1 + u(4)), 0, 0, 15, 0x13));   // li x15, n
            const size_t top = p.size();
            // Mostly a few registers, so that W results meet their readers
            // (64-bit ones, W ones, stores, the next round, the exit).
            auto lr = [&] { static const unsigned pool[] = {5, 6, 7, 28}; return u(4) ? pool[u(4)] : rd(); };
            auto ls = [&] { static const unsigned pool[] = {5, 6, 7, 28}; return u(4) ? pool[u(4)] : rs(); };
            for (unsigned j = 0; j < k; ++j) {
                switch (u(8)) {
                case 0: emit_fp(p); break;
                case 1: case 7: p.push_back(r_type(0, ls(), ls(), u(2) ? 0 : 3, lr(), 0x33)); break;   // add, sltu
                case 2: p.push_back(i_type(static_cast<int32_t>(u(512)) * 8 - 2048, 10, dword_f3(), lr(), 0x03)); break;
                case 3: p.push_back(i_type(static_cast<int32_t>(u(512)) * 8 - 2048, 10, 3, fr(), 0x07)); break;
                case 4: {   // addw subw sllw srlw sraw mulw
                    static const uint32_t f[][2] = {{0, 0}, {0x20, 0}, {0, 1}, {0, 5}, {0x20, 5}, {1, 0}};
                    auto &e = f[u(std::size(f))];
                    p.push_back(rv32 ? r_type(0, ls(), ls(), 0, lr(), 0x33) : r_type(e[0], ls(), ls(), e[1], lr(), 0x3b));
                    break;
                }
                case 5: p.push_back(i_type(static_cast<int32_t>(u(4096)) - 2048, ls(), 0, lr(), rv32 ? 0x13 : 0x1b)); break;
                default: p.push_back(s_type(static_cast<int32_t>(u(512)) * 8 - 2048, ls(), 10, store_f3())); break;
                }
            }
            p.push_back(i_type(-1, 15, 0, 15, 0x13));   // addi x15, x15, -1
            p.push_back(b_type(-4 * static_cast<int32_t>(p.size() - top), 0, 15, 1));   // bnez x15, top
            break;
        }
        case 22: case 23: case 24: emit_fp(p); break;
        case 25: {   // flw fld fsw fsd on the data window
            int32_t off = static_cast<int32_t>(u(4096)) - 2048;
            if (u(4)) off &= ~7;
            const unsigned f3 = 2 + static_cast<unsigned>(u(2));
            if (u(2)) p.push_back(i_type(off, 10, f3, fr(), 0x07));
            else p.push_back(s_type(off, fr(), 10, f3) ^ 0x23 ^ 0x27);
            break;
        }
        case 26:   // frm (sometimes invalid), or FS off / dirty
            if (u(4)) {
                p.push_back(i_type(0x002, static_cast<unsigned>(u(5) ? u(5) : u(8)), 5, 0, 0x73));   // csrrwi frm
            } else {
                unsigned r = rd();
                if (r == 0) r = 5;
                p.push_back(u_type(6, r, 0x37));   // r = FS
                p.push_back(i_type(0x300, r, u(3) ? 2 : 3, 0, 0x73));   // csrrs / csrrc mstatus
            }
            break;
        case 0: case 1: case 2: {   // R-type ALU (base, M, word forms)
            static const uint32_t f[][2] = {{0, 0}, {0x20, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {0x20, 5},
                                            {0, 6}, {0, 7}, {1, 0}, {1, 1}, {1, 2}, {1, 3}, {1, 4}, {1, 5},
                                            {1, 6}, {1, 7}};
            auto &e = f[u(std::size(f))];
            bool w = !rv32 && u(3) == 0 && !(e[0] == 1 && (e[1] == 1 || e[1] == 2 || e[1] == 3)) &&
                     !(e[0] == 0 && (e[1] == 2 || e[1] == 3 || e[1] == 4 || e[1] == 6 || e[1] == 7));
            p.push_back(r_type(e[0], rs(), rs(), e[1], rd(), w ? 0x3b : 0x33));
            break;
        }
        case 3: case 4: case 5: {   // I-type ALU and shifts
            static const unsigned f3[] = {0, 2, 3, 4, 6, 7, 1, 5};
            unsigned f = f3[u(8)];
            int32_t imm = static_cast<int32_t>(u(4096)) - 2048;
            bool w = !rv32 && u(4) == 0;
            if (f == 1) imm = static_cast<int32_t>(u(w || rv32 ? 32 : 64));
            if (f == 5) imm = static_cast<int32_t>(u(w || rv32 ? 32 : 64)) | (u(2) ? 0x400 : 0);
            if (w && f != 0 && f != 1 && f != 5) f = 0;
            p.push_back(i_type(imm, rs(), f, rd(), w ? 0x1b : 0x13));
            break;
        }
        case 6: p.push_back(u_type(static_cast<uint32_t>(u(1 << 20)), rd(), u(2) ? 0x37 : 0x17)); break;
        case 7: case 8: {   // loads from the data window, sometimes misaligned
            unsigned f3 = load_f3();
            int32_t off = static_cast<int32_t>(u(4096)) - 2048;
            if (u(4)) off &= ~7;
            if (u(3) == 0) {   // through a pointer register, offset 0 (a load and a store)
                unsigned r = rd();
                if (r == 0) r = 5;
                p.push_back(i_type(off, 10, 0, r, 0x13));
                p.push_back(i_type(0, r, f3, rd(), 0x03));
                p.push_back(s_type(0, rs(), r, store_f3()));
                p.push_back(i_type(0, r, f3, u(2) ? r : rd(), 0x03));
                break;
            }
            p.push_back(i_type(off, 10, f3, rd(), 0x03));
            break;
        }
        case 9: case 10: {   // stores to the data window
            int32_t off = static_cast<int32_t>(u(4096)) - 2048;
            if (u(4)) off &= ~7;
            p.push_back(s_type(off, rs(), 10, store_f3()));
            break;
        }
        case 11: {   // forward branch over a few whole units (offset set by assemble)
            static const unsigned f3[] = {0, 1, 4, 5, 6, 7};
            p.push_back(b_type(0, rs(), rs(), f3[u(6)]));
            skip = static_cast<unsigned>(1 + u(6));
            break;
        }
        case 12:   // jal forward (with or without link)
            p.push_back(j_type(0, u(2) ? rd() : 0));
            skip = static_cast<unsigned>(1 + u(6));
            break;
        case 13:   // auipc x13; jalr rd, x13, 8: skips one instruction
            p.push_back(u_type(0, 13, 0x17));
            p.push_back(i_type(12, 13, 0, u(2) ? rd() : 0, 0x67));
            p.push_back(i_type(1, 0, 0, 5, 0x13));   // skipped
            break;
        case 14: {   // CSR reads and writes: mscratch, instret, cycle, mstatus, mtval
            static const unsigned csrs[] = {0x340, 0xc02, 0xc00, 0x300, 0x343, 0xb02};
            unsigned c = csrs[u(std::size(csrs))];
            unsigned f3 = (c == 0x340 || c == 0x343) ? 1 + static_cast<unsigned>(u(3)) : 2;
            unsigned src = (c == 0x340 || c == 0x343) ? rs() : 0;
            p.push_back(i_type(static_cast<int32_t>(c), src, f3, rd(), 0x73));
            break;
        }
        case 15:
            p.push_back(u(2) ? 0x00000073u : 0xc0001073u);   // ecall / unimp (illegal)
            break;
        case 16: {   // MMIO load/store
            if (u(2)) p.push_back(i_type(static_cast<int32_t>(u(2) * 8), 11, load_f3() & 3, rd(), 0x03));
            else p.push_back(s_type(static_cast<int32_t>(u(2) * 8), rs(), 11, store_f3()));
            break;
        }
        case 17: {   // self-modifying: overwrite a later addi (the next one, or past a fence.i)
            bool fence = u(2);
            const size_t at = 3 + (fence ? 1 : 0);   // relative to the unit's start
            uint32_t word = i_type(static_cast<int32_t>(u(2048)), rs(), 0, rd(), 0x13);
            uint32_t hi = (word + 0x800) >> 12;
            int32_t lo = static_cast<int32_t>(word << 20) >> 20;
            p.push_back(u_type(hi & 0xfffff, 14, 0x37));
            p.push_back(i_type(lo, 14, 0, 14, rv32 ? 0x13 : 0x1b));   // addi(w): the word
            p.push_back(s_type(static_cast<int32_t>(4 * (i + at)), 14, 12, 2));
            if (fence) p.push_back(0x0000100fu);   // fence.i
            p.push_back(i_type(7, rs(), 0, rd(), 0x13));   // the target
            break;
        }
        case 18: {   // Zba/Zbb/Zbs/Zicond register ops (pure handlers)
            static const uint32_t ops[][2] = {{0x10, 2}, {0x10, 4}, {0x10, 6}, {0x20, 7}, {0x20, 6}, {0x20, 4},
                                              {0x05, 4}, {0x05, 5}, {0x05, 6}, {0x05, 7}, {0x24, 1}, {0x14, 1},
                                              {0x07, 5}, {0x07, 7}, {0x30, 1}, {0x30, 5}};
            auto &e = ops[u(std::size(ops))];
            p.push_back(r_type(e[0], rs(), rs(), e[1], rd(), 0x33));
            break;
        }
        case 19:   // load from an unmapped address: access fault
            p.push_back(i_type(static_cast<int32_t>(u(64)) * 8, 0, dword_f3(), rd(), 0x03));
            break;
        case 20:   // loop: count down a register a few times
        {
            unsigned r = rd();
            if (r == 0) r = 5;
            p.push_back(i_type(static_cast<int32_t>(1 + u(5)), 0, 0, r, 0x13));   // li r, k
            p.push_back(i_type(-1, r, 0, r, 0x13));                               // addi r, r, -1
            p.push_back(i_type(15, r, 7, r, 0x13));                               // andi r, r, 15
            p.push_back(b_type(-8, 0, r, 1));                                     // bnez r, -8
            break;
        }
        default: p.push_back(i_type(static_cast<int32_t>(u(4096)) - 2048, rs(), 0, rd(), 0x13)); break;
        }
    }
};

struct Machine {
    FlatBus bus;
    std::unique_ptr<rv::Hart> hart;
    std::unique_ptr<rv::jit::Jit> jit;
    Machine(const std::vector<uint32_t> &prog, uint64_t seed, bool use_jit,
            const rv::jit::Options &opt = {}, unsigned xlen = 64) {
        rv::Config cfg;
        cfg.resetvec = kBase;
        cfg.xlen = xlen;
        hart = std::make_unique<rv::Hart>(bus, cfg);
        for (size_t i = 0; i < prog.size(); ++i) bus.put32(kBase + 4 * i, prog[i]);
        // Trap handler: skip the trapping 4-byte instruction.
        const uint32_t handler[] = {i_type(0x341, 0, 2, 31, 0x73), i_type(4, 31, 0, 31, 0x13),
                                    i_type(0x341, 31, 1, 0, 0x73), 0x30200073};
        for (size_t i = 0; i < std::size(handler); ++i) bus.put32(kHandler + 4 * i, handler[i]);
        std::mt19937_64 r(seed ^ 0x9e3779b97f4a7c15ull);
        for (unsigned i = 1; i < 32; ++i) hart->s.x[i] = ((i & 1) ? r() : r() % 4096) & hart->xmask();
        hart->s.x[10] = kData;
        hart->s.x[11] = kMmio;
        hart->s.x[12] = kBase;
        hart->s.x[13] = kBase;
        hart->s.x[14] = 0x13;   // nop
        hart->s.mtvec = kHandler;
        // F/D: FS Initial, RNE, and a mix of special values (singles mostly NaN-boxed).
        hart->s.mstatus |= 1ull << 13;
        static const uint64_t dv[] = {0, 1ull << 63, 0x3ff0000000000000, 0xbff8000000000000, 0x4004000000000000,
                                      0x7e37e43c8800759c /* 1e300 */, 0x0000b8157268fdaf /* denormal */,
                                      0x0010000000000000, 0x7ff0000000000000, 0xfff0000000000000,
                                      0x7ff8000000000000, 0x7ff0000000000001, 0xfff8000000001234,
                                      0x41dfffffffe00000 /* 2^31-0.5 */, 0xc1e0000000100000 /* -2^31-0.5 */,
                                      0x41efffffffe66666, 0x43e0000000000000, 0x3fd5555555555555, 0x20000000000000};
        static const uint32_t sv[] = {0, 0x80000000, 0x3f800000, 0xbfc00000, 0x40200000, 0x7f000000, 0x00012345,
                                      0x00800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc01234,
                                      0x4f000000, 0xcf000001, 0x4f7fffff, 0x5f000000, 0x3eaaaaab, 0x0d000000};
        for (unsigned i = 0; i < 32; ++i) {
            switch (r() % 4) {
            case 0: hart->s.f[i] = dv[r() % std::size(dv)]; break;
            case 1: hart->s.f[i] = 0xffffffff00000000ull | sv[r() % std::size(sv)]; break;
            case 2: hart->s.f[i] = r() % 8 ? 0xffffffff00000000ull | uint32_t(r()) : r(); break;
            default: hart->s.f[i] = r() % 2 ? r() : 0x3ff0000000000000 + (r() % 4096) * 0x10000000000000ull / 64; break;
            }
        }
        for (size_t i = 0; i < 8192; ++i) bus.ram[kData - kBase - 4096 + i] = static_cast<uint8_t>(r());
        if (use_jit) jit = std::make_unique<rv::jit::Jit>(*hart, opt);
    }
};

std::string diff(const rv::Hart &a, const rv::Hart &b, const FlatBus &ba, const FlatBus &bb) {
    char buf[160];
    std::string out;
    auto cmp = [&](const char *what, uint64_t x, uint64_t y) {
        if (x == y) return;
        std::snprintf(buf, sizeof buf, "  %s: interp 0x%" PRIx64 " jit 0x%" PRIx64 "\n", what, x, y);
        out += buf;
    };
    for (unsigned i = 0; i < 32; ++i) cmp(("x" + std::to_string(i)).c_str(), a.s.x[i], b.s.x[i]);
    cmp("pc", a.s.pc, b.s.pc);
    cmp("instret", a.s.instret, b.s.instret);
    cmp("priv", a.s.priv, b.s.priv);
    cmp("mstatus", a.s.mstatus, b.s.mstatus);
    cmp("mepc", a.s.mepc, b.s.mepc);
    cmp("mcause", a.s.mcause, b.s.mcause);
    cmp("mtval", a.s.mtval, b.s.mtval);
    cmp("mscratch", a.s.mscratch, b.s.mscratch);
    for (unsigned i = 0; i < 32; ++i) cmp(("f" + std::to_string(i)).c_str(), a.s.f[i], b.s.f[i]);
    cmp("fflags", a.s.fflags, b.s.fflags);
    cmp("lr_valid", a.s.lr_valid, b.s.lr_valid);
    if (a.s.lr_valid) {
        cmp("lr_addr", a.s.lr_addr, b.s.lr_addr);
        cmp("lr_val", a.s.lr_val, b.s.lr_val);
    }
    cmp("frm", a.s.frm, b.s.frm);
    cmp("mmio", ba.mmio_reg, bb.mmio_reg);
    if (std::memcmp(&ba.ram[kData - kBase - 4096], &bb.ram[kData - kBase - 4096], 8192)) out += "  data window differs\n";
    if (std::memcmp(ba.ram.data(), bb.ram.data(), 8192)) out += "  code differs\n";
    return out;
}

uint64_t g_flushes = 0;   // code-cache flushes seen by run_one (all machines)

// Runs one program both ways; returns a description of the first difference.
// budget > 1: the JIT runs up to that many instructions (random) between
// comparisons, so loops also iterate inside generated code.
std::string run_one(uint64_t seed, uint64_t &blocks, const rv::jit::Options &opt = {}, size_t min_len = 64,
                    unsigned budget = 1, unsigned xlen = 64) {
    Gen g(seed, xlen == 32);
    const size_t n = min_len + g.u(300);
    std::vector<uint32_t> prog;
    std::vector<size_t> starts;                        // unit start indices
    std::vector<std::pair<size_t, unsigned>> jumps;   // (index, units to skip)
    while (prog.size() < n) {
        starts.push_back(prog.size());
        g.skip = 0;
        g.emit(prog, prog.size());
        if (g.skip) jumps.emplace_back(prog.size() - 1, g.skip);
    }
    starts.push_back(prog.size());   // the final wfi
    for (auto [at, skip] : jumps) {
        size_t u = std::upper_bound(starts.begin(), starts.end(), at) - starts.begin();
        size_t to = starts[std::min(u + skip - 1, starts.size() - 1)];
        int32_t off = static_cast<int32_t>(4 * (to - at));
        prog[at] = (prog[at] & 0x7f) == 0x63 ? b_type(off, (prog[at] >> 20) & 31, (prog[at] >> 15) & 31, (prog[at] >> 12) & 7)
                                            : j_type(off, (prog[at] >> 7) & 31);
    }
    prog.push_back(0x10500073);   // wfi with no interrupt enabled: both halt here
    Machine ref(prog, seed, false, {}, xlen), jit(prog, seed, true, opt, xlen);
    std::mt19937_64 br(seed);
    for (int step = 0; step < 20000; ++step) {
        rv::Exit e = jit.hart->run(budget > 1 ? 1 + br() % budget : 1);   // one block, or more
        ++blocks;
        // Step the interpreter to the same point.
        for (int k = 0; k < 5000; ++k) {
            if (ref.hart->s.pc == jit.hart->s.pc && ref.hart->s.instret == jit.hart->s.instret &&
                ref.hart->s.mcause == jit.hart->s.mcause && ref.hart->s.mepc == jit.hart->s.mepc)
                break;
            if (ref.hart->run(1) == rv::Exit::Halted) break;
        }
        std::string d = diff(*ref.hart, *jit.hart, ref.bus, jit.bus);
        if (!d.empty()) {
            char head[96];
            std::snprintf(head, sizeof head, "seed %" PRIu64 ", after JIT block %d:\n", seed, step);
            return head + d;
        }
        if (e == rv::Exit::Halted) {
            g_flushes += jit.jit->stats().flushes;
            return {};
        }
    }
    return "seed " + std::to_string(seed) + ": did not finish";
}

TEST(JitFuzz, RandomProgramsAgreeWithInterpreter) {
    uint64_t ms = 3000;
    if (const char *m = std::getenv("JIT_FUZZ_MS")) ms = std::strtoull(m, nullptr, 0);
    std::vector<uint64_t> seeds;
    if (const char *s = std::getenv("JIT_FUZZ_SEED")) {
        uint64_t blocks = 0;
        rv::jit::Options opt;   // JIT_FUZZ_ASM=1: each block's guest and host code on stderr
        if (std::getenv("JIT_FUZZ_ASM"))
            opt.out_asm = [](std::string_view t) { std::fprintf(stderr, "%.*s", static_cast<int>(t.size()), t.data()); };
        std::string d = run_one(std::strtoull(s, nullptr, 0), blocks, opt);
        ASSERT_TRUE(d.empty()) << d;
        return;
    } else {
        seeds = {1, std::random_device{}()};
    }
    std::printf("jit-fuzz: seeds %" PRIu64 " (fixed) then %" PRIu64 " (random)\n", seeds[0],
                seeds.size() > 1 ? seeds[1] : 0);
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t programs = 0, blocks = 0;
    for (size_t round = 0;; ++round) {
        const uint64_t base = seeds[round < seeds.size() ? round : seeds.size() - 1];
        // Each base seed drives a stream of programs.
        for (uint64_t k = 0; k < 1000000; ++k) {
            uint64_t seed = base * 1000003 + k;
            std::string d = run_one(seed, blocks);
            ++programs;
            ASSERT_TRUE(d.empty()) << d << "(reproduce: JIT_FUZZ_SEED=" << seed << ")";
            auto el = std::chrono::steady_clock::now() - t0;
            uint64_t budget = ms / seeds.size() * (round + 1);
            if (ms == 0 || el > std::chrono::milliseconds(budget)) break;
        }
        if (round + 1 >= seeds.size()) break;
    }
    std::printf("jit-fuzz: %" PRIu64 " programs, %" PRIu64 " blocks compared\n", programs, blocks);
}

}  // namespace

namespace {

// The same comparison under the other translation settings.
void fuzz_variant(const rv::jit::Options &opt, unsigned programs, size_t min_len = 64, unsigned budget = 1) {
    uint64_t blocks = 0;
    for (unsigned k = 0; k < programs; ++k) {
        std::string d = run_one(7000 + k, blocks, opt, min_len, budget);
        ASSERT_TRUE(d.empty()) << d;
    }
}

// RV32: registers are kept zero-extended; the JIT computes in 32 bits.
TEST(JitFuzz, Rv32ProgramsAgreeWithInterpreter) {
    uint64_t blocks = 0;
    for (unsigned k = 0; k < 300; ++k) {
        std::string d = run_one(32000 + k, blocks, {}, 64, k % 2 ? 64 : 1, 32);
        ASSERT_TRUE(d.empty()) << d << "(xlen 32)";
    }
}

TEST(JitFuzz, OneInsnPerBlock) {
    rv::jit::Options o;
    o.max_insns = 1;
    fuzz_variant(o, 40);
}

// Budgets of up to 64 instructions: chained blocks and self loops run on
// inside generated code before the comparison.
TEST(JitFuzz, LargerBudgets) {
    fuzz_variant({}, 300, 64, 64);
}

TEST(JitFuzz, NoChaining) {
    rv::jit::Options o;
    o.chain = false;
    fuzz_variant(o, 40);
}

TEST(JitFuzz, TinyCacheIsFlushedAndWorkContinues) {
    rv::jit::Options o;
    o.cache_bytes = 128 << 10;   // the minimum: long programs overflow it
    g_flushes = 0;
    fuzz_variant(o, 6, 1500);
    EXPECT_GT(g_flushes, 0u);
}

// Code rewritten behind the hart's back (DMA) must be retranslated once the
// device reports it through invalidate_code.
TEST(JitInvalidate, DmaWriteReplacesTranslatedCode) {
    const uint32_t wfi = 0x10500073;
    Machine m({i_type(1, 0, 0, 5, 0x13), wfi}, 1, true);
    EXPECT_EQ(m.hart->run(100), rv::Exit::Halted);
    EXPECT_EQ(m.hart->s.x[5], 1u);
    EXPECT_GE(m.jit->stats().blocks, 1u);
    m.bus.put32(kBase, i_type(2, 0, 0, 5, 0x13));
    m.hart->invalidate_code(kBase, 4);
    m.hart->s.pc = kBase;
    m.hart->s.waiting = 0;
    EXPECT_EQ(m.hart->run(100), rv::Exit::Halted);
    EXPECT_EQ(m.hart->s.x[5], 2u);
    EXPECT_GE(m.jit->stats().invalidations, 1u);
}

// A loop is chained to itself and runs inside generated code; instret and
// the budget stay exact at block granularity.
TEST(JitChain, LoopChainsAndCountsInstructions) {
    // li x5, 1000; loop: addi x5, x5, -1; bnez x5, loop; wfi
    Machine m({i_type(1000, 0, 0, 5, 0x13), i_type(-1, 5, 0, 5, 0x13), b_type(-4, 0, 5, 1), 0x10500073}, 1, true);
    EXPECT_EQ(m.hart->run(1'000'000), rv::Exit::Halted);
    EXPECT_EQ(m.hart->s.x[5], 0u);
    EXPECT_EQ(m.hart->s.instret, 1u + 2000u + 1u);
    EXPECT_GE(m.jit->stats().chained, 1u);
}

// fmin/fmax natively: of two zeros -0 is the smaller, whichever comes first
// (the host's minsd/maxsd would answer the second operand).
TEST(JitFp, MinMaxOfSignedZeros) {
    const std::vector<uint32_t> prog = {
        r_type(0x79, 0, 0, 0, 1, 0x53),   // fmv.d.x f1, x0: +0
        r_type(0x79, 0, 5, 0, 2, 0x53),   // fmv.d.x f2, x5: -0
        r_type(0x15, 2, 1, 0, 3, 0x53),   // fmin.d f3, f1, f2
        r_type(0x15, 2, 1, 1, 4, 0x53),   // fmax.d f4, f1, f2
        r_type(0x15, 1, 2, 0, 5, 0x53),   // fmin.d f5, f2, f1
        r_type(0x15, 1, 2, 1, 6, 0x53),   // fmax.d f6, f2, f1
        r_type(0x78, 0, 0, 0, 7, 0x53),   // fmv.w.x f7, x0: +0
        r_type(0x78, 0, 6, 0, 8, 0x53),   // fmv.w.x f8, x6: -0
        r_type(0x14, 8, 7, 0, 9, 0x53),   // fmin.s f9, f7, f8
        r_type(0x14, 7, 8, 1, 10, 0x53),  // fmax.s f10, f8, f7
        0x10500073};
    for (bool use_jit : {false, true}) {
        SCOPED_TRACE(use_jit);
        Machine m(prog, 1, use_jit);
        m.hart->s.x[5] = 1ull << 63;
        m.hart->s.x[6] = 0x80000000;
        ASSERT_EQ(m.hart->run(100), rv::Exit::Halted);
        EXPECT_EQ(m.hart->s.f[3], 1ull << 63);
        EXPECT_EQ(m.hart->s.f[4], 0u);
        EXPECT_EQ(m.hart->s.f[5], 1ull << 63);
        EXPECT_EQ(m.hart->s.f[6], 0u);
        EXPECT_EQ(m.hart->s.f[9], 0xffffffff80000000ull);
        EXPECT_EQ(m.hart->s.f[10], 0xffffffff00000000ull);
        EXPECT_EQ(m.hart->s.fflags, 0u);
    }
}

// Dynamic rounding is checked once per block, and again after a CSR write:
// a block that sets frm to RTZ between two fadd.d must round the second one
// toward zero.
TEST(JitFp, FrmWrittenInsideTheBlock) {
    const std::vector<uint32_t> prog = {
        r_type(0x79, 0, 5, 0, 1, 0x53),    // fmv.d.x f1, x5: 1.0
        r_type(0x79, 0, 6, 0, 2, 0x53),    // fmv.d.x f2, x6: 0.75 ulp of 1.0
        r_type(0x01, 2, 1, 7, 3, 0x53),    // fadd.d f3, f1, f2 (dyn: RNE)
        i_type(0x002, 1, 5, 0, 0x73),      // csrwi frm, 1 (RTZ)
        r_type(0x01, 2, 1, 7, 4, 0x53),    // fadd.d f4, f1, f2 (dyn: RTZ)
        0x10500073};
    for (bool use_jit : {false, true}) {
        SCOPED_TRACE(use_jit);
        Machine m(prog, 1, use_jit);
        m.hart->s.frm = 0;
        m.hart->s.x[5] = 0x3ff0000000000000;
        m.hart->s.x[6] = 0x3ca8000000000000;
        ASSERT_EQ(m.hart->run(100), rv::Exit::Halted);
        EXPECT_EQ(m.hart->s.f[3], 0x3ff0000000000001u);
        EXPECT_EQ(m.hart->s.f[4], 0x3ff0000000000000u);
    }
}

// A fast loop may leave a W result unextended in its host register while
// nothing reads all 64 bits; every way out writes it back sign-extended:
// here the budget running out at the loop's head, with the last round's
// negative addw result in x5.
TEST(JitChain, LoopLeavesWResultsSignExtended) {
    const std::vector<uint32_t> prog = {
        i_type(1000, 0, 0, 15, 0x13),   // li x15, 1000
        r_type(0, 7, 6, 0, 5, 0x3b),    // top: addw x5, x6, x7
        i_type(-1, 15, 0, 15, 0x13),    // addi x15, x15, -1
        b_type(-8, 0, 15, 1),           // bnez x15, top
        0x10500073};
    for (uint64_t budget = 4; budget < 40; ++budget) {
        SCOPED_TRACE(budget);
        Machine ref(prog, 1, false), jit(prog, 1, true);
        for (Machine *m : {&ref, &jit}) {
            m->hart->s.x[6] = 0x7fffffff;
            m->hart->s.x[7] = 1;
            m->hart->run(budget);
        }
        while (ref.hart->s.instret < jit.hart->s.instret) ref.hart->run(1);
        EXPECT_EQ(diff(*ref.hart, *jit.hart, ref.bus, jit.bus), "");
        if (jit.hart->s.instret > 1) {
            EXPECT_EQ(jit.hart->s.x[5], 0xffffffff80000000ull);
        }
    }
}

// A register a fast loop's body writes with a W form before reading it still
// holds its value from before the loop (any 64 bits) until that write: a
// trap there must see it unchanged.
TEST(JitChain, LoopTrapBeforeItsWWrite) {
    const std::vector<uint32_t> prog = {
        i_type(3, 0, 0, 15, 0x13),      // li x15, 3
        j_type(4, 0),                   // j top: the loop is a block of its own
        i_type(0, 7, 3, 6, 0x03),       // top: ld x6, 0(x7): an access fault
        r_type(0, 8, 6, 0, 5, 0x3b),    // addw x5, x6, x8
        i_type(-1, 15, 0, 15, 0x13),    // addi x15, x15, -1
        b_type(-12, 0, 15, 1),          // bnez x15, top
        0x10500073};
    Machine m(prog, 1, true);
    m.hart->s.x[5] = 0x80000344;   // not a sign-extended word
    m.hart->s.x[7] = 8;            // below RAM
    while (m.hart->s.mcause != 5 && m.hart->s.instret < 100) m.hart->run(1);
    EXPECT_EQ(m.hart->s.mcause, 5u);   // load access fault
    EXPECT_EQ(m.hart->s.x[5], 0x80000344u);
}

// A loop of two chained blocks: the jump forward enters the second block past
// its checks, the branch back to the first checks; the budget still stops it.
TEST(JitChain, LoopOfTwoBlocksStopsAtTheBudget) {
    const std::vector<uint32_t> prog = {
        i_type(-1, 0, 0, 5, 0x13),   // li x5, -1 (counts down for ever)
        i_type(-1, 5, 0, 5, 0x13),   // top: addi x5, x5, -1
        b_type(8, 0, 0, 0),          // beq x0, x0, +8
        0x10500073,                  // (skipped)
        b_type(-12, 0, 5, 1),        // bnez x5, top
        0x10500073};                 // wfi
    Machine m(prog, 1, true);
    EXPECT_EQ(m.hart->run(10000), rv::Exit::Budget);
    EXPECT_GE(m.hart->s.instret, 10000u);
    EXPECT_LT(m.hart->s.instret, 10000u + 64);
    EXPECT_EQ(m.hart->s.instret, 1 + 3 * (static_cast<uint64_t>(-1) - m.hart->s.x[5]) -
                                     (m.hart->s.pc == kBase + 8 ? 2 : m.hart->s.pc == kBase + 16 ? 1 : 0));
    EXPECT_GE(m.jit->stats().chained, 2u);
}

// Short loops run their body two or four times per round (the checks once
// per round): traps in any copy leave the interpreter's exact state (pc,
// registers, instret, mepc), and so does leaving from any copy's exit.
TEST(JitChain, TrapsInEitherCopyOfAnUnrolledLoop) {
    const std::vector<uint32_t> prog = {
        i_type(1, 8, 0, 8, 0x13),   // loop: addi x8, x8, 1
        i_type(0, 7, 3, 6, 0x03),   // ld x6, 0(x7): past the end of RAM it faults (skipped)
        i_type(8, 7, 0, 7, 0x13),   // addi x7, x7, 8
        b_type(-12, 10, 8, 1),      // bne x8, x10, loop
        0x10500073};                // wfi
    for (unsigned k = 1; k <= 4; ++k)
        for (uint64_t rounds : {9u, 10u, 11u, 12u}) {
            SCOPED_TRACE(k * 100 + rounds);
            Machine ref(prog, 1, false), jit(prog, 1, true);
            for (Machine *m : {&ref, &jit}) {
                m->hart->s.x[7] = kBase + (1 << 20) - 8 * k;   // load k + 1 is the first to fault
                m->hart->s.x[8] = 0;
                m->hart->s.x[10] = rounds;
                EXPECT_EQ(m->hart->run(100000), rv::Exit::Halted);
            }
            EXPECT_EQ(jit.hart->s.x[8], rounds);
            EXPECT_EQ(diff(*ref.hart, *jit.hart, ref.bus, jit.bus), "");
        }
}

TEST(JitOutAsm, ShowsHostCode) {
    std::string text;
    rv::jit::Options o;
    o.out_asm = [&](std::string_view t) { text += t; };
    Machine m({i_type(1, 0, 0, 5, 0x13), 0x10500073}, 1, true, o);
    m.hart->run(10);
    EXPECT_NE(text.find("OUT: [size="), std::string::npos);
#ifdef RV_JIT_HAVE_CAPSTONE
    EXPECT_NE(text.find("jmp"), std::string::npos) << text;
#endif
}

}  // namespace

namespace {

// Sv39 page tables in the test machine's RAM, and S-mode with PMP open.
uint64_t pte_table(uint64_t pa) { return ((pa >> 12) << 10) | 1; }
uint64_t pte_leaf(uint64_t pa, uint64_t flags = 0xcf) { return ((pa >> 12) << 10) | flags; }   // V R W X A D
void put64(Machine &m, uint64_t pa, uint64_t v) { std::memcpy(&m.bus.ram[pa - kBase], &v, 8); }
void open_pmp(Machine &m) {
    m.hart->s.pmpaddr[0] = (1ull << 54) - 1;
    m.hart->s.pmpcfg[0] = 0x1f;   // NAPOT over everything, RWX
}
void enter_sv39_supervisor(Machine &m, uint64_t root) {
    open_pmp(m);
    m.hart->s.satp = (8ull << 60) | (root >> 12);
    m.hart->s.priv = rv::PRV_S;
    m.hart->flush_tlb();
}

// The same physical code reached through two virtual addresses must not share
// a block: translations bake virtual pcs in (auipc, link registers, exits).
TEST(JitPaging, AliasedCodeGetsItsOwnBlocks) {
    Machine m({}, 1, true);
    const uint64_t root = kBase + 0x20000, code_pa = kBase + 0x1000;
    put64(m, root + 8 * 2, pte_leaf(kBase));   // VA 0x80000000 -> kBase, 1 GiB
    put64(m, root + 8 * 3, pte_leaf(kBase));   // VA 0xc0000000 -> kBase
    m.bus.put32(code_pa, u_type(0, 5, 0x17));   // auipc x5, 0
    m.bus.put32(code_pa + 4, j_type(8, 6));     // jal x6, +8
    m.bus.put32(code_pa + 12, 0x10500073);      // wfi
    auto &s = m.hart->s;
    enter_sv39_supervisor(m, root);
    for (uint64_t va : {0x80001000ull, 0xc0001000ull, 0x80001000ull}) {
        s.pc = va;
        s.waiting = 0;
        ASSERT_EQ(m.hart->run(100), rv::Exit::Halted) << std::hex << s.pc;
        EXPECT_EQ(s.x[5], va);
        EXPECT_EQ(s.x[6], va + 8);
        EXPECT_EQ(s.pc, va + 16);
    }
    EXPECT_GE(m.jit->stats().blocks, 2u);
}

// A CSR write goes on in the same block unless it changed what the block
// depends on: after a satp write, an indirect jump must not reach a block
// through a jump-cache entry made under the old address space.
TEST(JitPaging, SatpWriteLeavesTheBlock) {
    Machine m({}, 1, true);
    const uint64_t roots[2] = {kBase + 0x20000, kBase + 0x30000};
    for (unsigned i = 0; i < 2; ++i) {
        const uint64_t root = roots[i], l1 = root + 0x1000, l0 = root + 0x2000;
        put64(m, root + 8 * 2, pte_leaf(kBase));   // VA 0x80000000: identity, 1 GiB
        put64(m, root + 8 * 3, pte_table(l1));     // VA 0xc0000000 -> code i
        put64(m, l1, pte_table(l0));
        put64(m, l0, pte_leaf(kBase + 0x1000 + 0x2000 * i));
        m.bus.put32(kBase + 0x1000 + 0x2000 * i, i_type(1 + i, 0, 0, 5, 0x13));   // addi x5, x0, 1 + i
        m.bus.put32(kBase + 0x1004 + 0x2000 * i, 0x10500073);
    }
    m.bus.put32(kBase + 0x5000, i_type(0x180, 10, 1, 0, 0x73));   // csrw satp, x10
    m.bus.put32(kBase + 0x5004, i_type(0, 6, 0, 0, 0x67));        // jalr x0, 0(x6)
    auto &s = m.hart->s;
    auto satp = [&](unsigned i) { return (8ull << 60) | (roots[i] >> 12); };
    enter_sv39_supervisor(m, roots[0]);
    auto run = [&](uint64_t pc) {
        s.pc = pc;
        s.waiting = 0;
        return m.hart->run(100);
    };
    ASSERT_EQ(run(0xc0000000), rv::Exit::Halted);   // code 0, now in the jump cache
    EXPECT_EQ(s.x[5], 1u);
    s.x[10] = satp(1);
    s.x[6] = 0xc0000000;
    ASSERT_EQ(run(0x80005000), rv::Exit::Halted);
    EXPECT_EQ(s.x[5], 2u);
}

// A CSR write that enables a pending interrupt takes it before the next
// instruction, even in the middle of a block; one that disables interrupts
// (or changes only SUM) lets the block go on.
TEST(JitInterrupt, EnablingAPendingInterruptInABlock) {
    for (bool use_jit : {false, true}) {
        SCOPED_TRACE(use_jit ? "jit" : "interpreter");
        // csrci mstatus, MIE; csrsi mstatus, MIE; addi x5, x0, 1; addi x6, x0, 1; wfi
        Machine m({i_type(0x300, 8, 7, 0, 0x73), i_type(0x300, 8, 6, 0, 0x73), i_type(1, 0, 0, 5, 0x13),
                   i_type(1, 0, 0, 6, 0x13), 0x10500073},
                  1, use_jit);
        // Handler: x7 = mepc; mie = 0; wfi
        m.bus.put32(kHandler, i_type(0x341, 0, 2, 7, 0x73));
        m.bus.put32(kHandler + 4, i_type(0x304, 0, 1, 0, 0x73));
        m.bus.put32(kHandler + 8, 0x10500073);
        auto &s = m.hart->s;
        s.x[5] = s.x[6] = s.x[7] = 0;
        s.mie = 1u << rv::irq::MSI;
        m.hart->set_irq_line(rv::irq::MSI, true);
        EXPECT_EQ(m.hart->run(100), rv::Exit::Halted);
        EXPECT_EQ(s.x[7], kBase + 8);   // interrupted before the first addi
        EXPECT_EQ(s.x[5], 0u);
        EXPECT_EQ(s.mcause, (1ull << 63) | rv::irq::MSI);
    }
}

// cbo.zero: 64 aligned zero bytes where menvcfg.CBZE enables it for S-mode,
// an illegal-instruction trap where it does not; both engines.
TEST(JitMemory, CboZeroFollowsMenvcfg) {
    for (bool use_jit : {false, true}) {
        for (bool enabled : {false, true}) {
            SCOPED_TRACE(std::string(use_jit ? "jit " : "interpreter ") + (enabled ? "enabled" : "disabled"));
            // sd x0, 0(x10) (the page into the TLB); addi x5, x10, 72; cbo.zero (x5); wfi
            Machine m({s_type(0, 0, 10, 3), i_type(72, 10, 0, 5, 0x13), i_type(4, 5, 2, 0, 0x0f), 0x10500073}, 1,
                      use_jit);
            for (unsigned k = 0; k < 192; ++k) m.bus.ram[kData - kBase + k] = 0xa5;
            auto &s = m.hart->s;
            open_pmp(m);
            s.menvcfg = enabled ? 0x80 : 0;
            s.priv = rv::PRV_S;
            s.x[10] = kData;
            s.x[31] = 0;
            m.hart->flush_tlb();
            for (int round = 0; round < 2; ++round) {   // the second one with the page in the TLB
                s.pc = kBase;
                s.waiting = 0;
                s.priv = rv::PRV_S;
                m.hart->run(100);
            }
            for (unsigned k = 8; k < 192; ++k)
                EXPECT_EQ(m.bus.ram[kData - kBase + k], (enabled && k >= 64 && k < 128) ? 0 : 0xa5) << k;
            EXPECT_EQ(s.mcause, enabled ? 0u : 2u);
        }
    }
}

// PMP answers are remembered per page (page walks check every PTE read); a
// PMP write must make the next access see the new permissions.
TEST(JitPaging, PmpWriteTakesEffect) {
    Machine m({}, 1, false);
    auto &s = m.hart->s;
    s.priv = rv::PRV_M;
    m.hart->csr_rw(0x3b0, 1, (1ull << 54) - 1, true);   // pmpaddr0: everything
    m.hart->csr_rw(0x3a0, 1, 0x1f, true);               // pmpcfg0: NAPOT, RWX
    s.priv = rv::PRV_S;
    EXPECT_NO_THROW((void)m.hart->load<uint64_t>(kData));
    s.priv = rv::PRV_M;
    m.hart->csr_rw(0x3a0, 1, 0x1c, true);   // NAPOT, X only
    s.priv = rv::PRV_S;
    EXPECT_THROW((void)m.hart->load<uint64_t>(kData), rv::Trap);
}

// sfence.vma does not end a block, but one naming the block's own page
// leaves it: the next instruction comes through the new mapping. Both engines.
TEST(JitPaging, FencingTheOwnCodePage) {
    for (bool use_jit : {false, true}) {
        SCOPED_TRACE(use_jit ? "jit" : "interpreter");
        Machine m({}, 1, use_jit);
        const uint64_t root = kBase + 0x20000, l1 = kBase + 0x21000, l0 = kBase + 0x22000;
        put64(m, root + 8 * 2, pte_leaf(kBase));   // VA 0x80000000: identity
        put64(m, root + 8 * 3, pte_table(l1));
        put64(m, l1, pte_table(l0));
        put64(m, l0, pte_leaf(kBase + 0x1000));   // VA 0xc0000000 -> A
        const uint64_t a = kBase + 0x1000, b = kBase + 0x3000;
        m.bus.put32(a, s_type(0, 7, 8, 3));                  // sd x7, 0(x8): remap to B
        m.bus.put32(a + 4, r_type(0x09, 0, 6, 0, 0, 0x73));  // sfence.vma x6
        m.bus.put32(a + 8, i_type(1, 0, 0, 5, 0x13));        // A: addi x5, x0, 1
        m.bus.put32(a + 12, 0x10500073);
        m.bus.put32(b + 8, i_type(2, 0, 0, 5, 0x13));        // B: addi x5, x0, 2
        m.bus.put32(b + 12, 0x10500073);
        auto &s = m.hart->s;
        enter_sv39_supervisor(m, root);
        s.x[5] = 0;
        s.x[6] = 0xc0000000;
        s.x[7] = pte_leaf(b);
        s.x[8] = 0x80000000 + (l0 - kBase);
        s.pc = 0xc0000000;
        ASSERT_EQ(m.hart->run(100), rv::Exit::Halted);
        EXPECT_EQ(s.x[5], 2u);
    }
}

// Clearing SUM drops the S-mode translations of user pages, however many
// were filled since the last flush (a short list, or a scan past its size).
TEST(JitPaging, ClearingSumDropsUserTranslations) {
    for (unsigned fills : {4u, 3000u}) {
        SCOPED_TRACE(fills);
        Machine m({}, 1, false);
        const uint64_t root = kBase + 0x20000, l1 = kBase + 0x21000;
        put64(m, root + 8 * 3, pte_table(l1));   // VA 0xc0000000: 2 MiB user leaves, all onto RAM
        for (unsigned i = 0; i < 512; ++i) put64(m, l1 + 8 * i, pte_leaf(kBase, 0xd7));   // V R W U A D
        enter_sv39_supervisor(m, root);
        constexpr uint64_t kSum = 1ull << 18;
        m.hart->csr_rw(0x100, 2, kSum, true);   // csrs sstatus, SUM
        // Even 2 MiB regions land in TLB slots 0..255; the last fill, in an
        // odd region, in a slot of its own.
        auto va = [&](unsigned i) {
            const uint64_t region = i + 1 == fills ? 1 : 2 * (i / 256);
            return 0xc0000000ull + region * 0x200000 + (i % 256) * 4096;
        };
        for (unsigned i = 0; i < fills; ++i) (void)m.hart->load<uint64_t>(va(i));
        m.hart->csr_rw(0x100, 3, kSum, true);   // csrc sstatus, SUM
        for (unsigned i : {0u, fills - 1}) EXPECT_THROW((void)m.hart->load<uint64_t>(va(i)), rv::Trap) << i;
    }
}

// A loop's loads keep one-entry TLBs of their own (memos): a CSR write in the
// loop that clears SUM must make the next iteration's user load fault.
TEST(JitPaging, ClearingSumInALoopFaultsItsNextLoad) {
    Machine m({}, 1, true);
    const uint64_t root = kBase + 0x20000;
    put64(m, root + 8 * 2, pte_leaf(kBase));          // VA 0x80000000: identity, supervisor
    put64(m, root + 8 * 3, pte_leaf(kBase, 0xd7));    // VA 0xc0000000: user (V R W U A D)
    const uint64_t code = kBase + 0x1000;
    m.bus.put32(code, i_type(0, 7, 3, 6, 0x03));           // ld x6, 0(x7)
    m.bus.put32(code + 4, i_type(1, 8, 0, 8, 0x13));       // addi x8, x8, 1
    m.bus.put32(code + 8, i_type(0x100, 9, 3, 0, 0x73));   // csrrc x0, sstatus, x9
    m.bus.put32(code + 12, b_type(-12, 10, 8, 1));         // bne x8, x10, code
    m.bus.put32(code + 16, 0x10500073);                    // wfi
    m.bus.put32(kBase + 0x2000, 0x10500073);               // the trap handler: wfi
    auto &s = m.hart->s;
    enter_sv39_supervisor(m, root);
    constexpr uint64_t kSum = 1ull << 18;
    m.hart->csr_rw(0x100, 2, kSum, true);   // csrs sstatus, SUM
    s.mtvec = kBase + 0x2000;
    s.x[7] = 0xc0003000;
    (void)m.hart->load<uint64_t>(s.x[7]);   // in the TLB: the first iteration fills the memo from it
    s.x[8] = 0;
    s.x[9] = kSum;
    s.x[10] = 5;
    s.pc = 0x80001000;
    ASSERT_EQ(m.hart->run(1000), rv::Exit::Halted);
    EXPECT_EQ(s.mcause, 13u);   // load page fault
    EXPECT_EQ(s.mepc, 0x80001000u);
    EXPECT_EQ(s.x[8], 1u);
}

// sfence.vma of one page: code reached through the jump cache at a virtual
// pc whose mapping changed must be the new page's (the jump cache keeps
// entries only across fences of pages it holds no code of). The same for a
// fence of an unrelated page in between.
TEST(JitPaging, PageFenceRemapsCode) {
    Machine m({}, 1, true);
    const uint64_t root = kBase + 0x20000, l1 = kBase + 0x21000, l0 = kBase + 0x22000;
    put64(m, root + 8 * 3, pte_table(l1));   // VA 0xc0000000
    put64(m, l1, pte_table(l0));
    put64(m, l0, pte_leaf(kBase + 0x1000));
    m.bus.put32(kBase + 0x1000, i_type(1, 0, 0, 5, 0x13));   // addi x5, x0, 1
    m.bus.put32(kBase + 0x1004, 0x10500073);
    m.bus.put32(kBase + 0x3000, i_type(2, 0, 0, 5, 0x13));   // addi x5, x0, 2
    m.bus.put32(kBase + 0x3004, 0x10500073);
    auto &s = m.hart->s;
    enter_sv39_supervisor(m, root);
    auto run = [&] {
        s.pc = 0xc0000000;
        s.waiting = 0;
        return m.hart->run(100);
    };
    ASSERT_EQ(run(), rv::Exit::Halted);
    EXPECT_EQ(s.x[5], 1u);
    m.hart->sfence_vma(0xc0345000, false);   // another page
    ASSERT_EQ(run(), rv::Exit::Halted);
    EXPECT_EQ(s.x[5], 1u);
    put64(m, l0, pte_leaf(kBase + 0x3000));
    m.hart->sfence_vma(0xc0000000, false);
    ASSERT_EQ(run(), rv::Exit::Halted);
    EXPECT_EQ(s.x[5], 2u);
}

}  // namespace

namespace {

// fence.i does not drop translations: blocks re-check their guest bytes on
// their next entry. Unchanged code is reused; code changed behind the hart's
// back (another hart's stores) is retranslated.
TEST(JitInvalidate, FenceIRechecksBlocks) {
    const uint32_t wfi = 0x10500073;
    Machine m({i_type(1, 0, 0, 5, 0x13), wfi}, 1, true);
    auto rerun = [&] {
        m.hart->s.pc = kBase;
        m.hart->s.waiting = 0;
        return m.hart->run(100);
    };
    ASSERT_EQ(rerun(), rv::Exit::Halted);
    EXPECT_EQ(m.hart->s.x[5], 1u);
    const uint64_t blocks = m.jit->stats().blocks;
    m.hart->fence_i();
    ASSERT_EQ(rerun(), rv::Exit::Halted);
    EXPECT_EQ(m.hart->s.x[5], 1u);
    EXPECT_EQ(m.jit->stats().blocks, blocks);   // verified, not retranslated
    m.bus.put32(kBase, i_type(3, 0, 0, 5, 0x13));   // not reported to this hart
    m.hart->fence_i();
    ASSERT_EQ(rerun(), rv::Exit::Halted);
    EXPECT_EQ(m.hart->s.x[5], 3u);
    EXPECT_GT(m.jit->stats().blocks, blocks);
}

// An instruction straddling two pages runs in the interpreter each time
// (the dispatcher remembers that it has no block); it goes with its page.
TEST(JitInvalidate, StraddlingInstructionInALoop) {
    Machine m({}, 1, true);
    auto put16 = [&](uint64_t pa, uint32_t v) {
        m.bus.ram[pa - kBase] = static_cast<uint8_t>(v);
        m.bus.ram[pa - kBase + 1] = static_cast<uint8_t>(v >> 8);
    };
    auto put32 = [&](uint64_t pa, uint32_t v) { put16(pa, v & 0xffff), put16(pa + 2, v >> 16); };
    put32(kBase + 0xffe, i_type(1, 5, 0, 5, 0x13));      // addi x5, x5, 1 (bytes 0xffe..0x1001)
    put32(kBase + 0x1002, i_type(-1, 6, 0, 6, 0x13));    // addi x6, x6, -1
    put32(kBase + 0x1006, b_type(-8, 0, 6, 1));          // bnez x6, 0xffe
    put32(kBase + 0x100a, 0x10500073);                   // wfi
    auto run = [&] {
        m.hart->s.x[5] = 0;
        m.hart->s.x[6] = 5;
        m.hart->s.pc = kBase + 0xffe;
        m.hart->s.waiting = 0;
        return m.hart->run(1000);
    };
    ASSERT_EQ(run(), rv::Exit::Halted);
    EXPECT_EQ(m.hart->s.x[5], 5u);
    EXPECT_EQ(m.jit->stats().stepped, 5u);
    put32(kBase + 0xffe, i_type(3, 5, 0, 5, 0x13));   // addi x5, x5, 3 (a device wrote it)
    m.hart->invalidate_code(kBase + 0xffe, 4);
    ASSERT_EQ(run(), rv::Exit::Halted);
    EXPECT_EQ(m.hart->s.x[5], 15u);
}

// Decoded code is kept in 64-byte chunks, each re-checked after fence.i: a
// 4-byte instruction that starts in one chunk and ends in the next must see
// a change to its upper half made behind the hart's back; code elsewhere in
// the page is unaffected. Both engines.
TEST(JitInvalidate, FenceISeesChangesAcrossDecodedChunks) {
    const uint32_t wfi = 0x10500073;
    for (bool use_jit : {false, true}) {
        SCOPED_TRACE(use_jit ? "jit" : "interpreter");
        Machine m({j_type(62, 0)}, 1, use_jit);   // j +62
        m.bus.put32(kBase + 62, j_type(0x100 - 62, 0));   // j 0x100 (bytes 62..65; nothing else runs in 64..127)
        m.bus.put32(kBase + 0x100, i_type(1, 0, 0, 5, 0x13));   // addi x5, x0, 1
        m.bus.put32(kBase + 0x104, wfi);
        m.bus.put32(kBase + 0x200, i_type(0x401, 0, 0, 5, 0x13));   // addi x5, x0, 0x401
        m.bus.put32(kBase + 0x204, wfi);
        m.bus.put32(kBase + 0x800, i_type(7, 0, 0, 6, 0x13));   // elsewhere: addi x6, x0, 7
        m.bus.put32(kBase + 0x804, wfi);
        auto run_at = [&](uint64_t pc) {
            m.hart->s.pc = pc;
            m.hart->s.waiting = 0;
            return m.hart->run(100);
        };
        ASSERT_EQ(run_at(kBase), rv::Exit::Halted);
        EXPECT_EQ(m.hart->s.x[5], 1u);
        ASSERT_EQ(run_at(kBase + 0x800), rv::Exit::Halted);
        EXPECT_EQ(m.hart->s.x[6], 7u);
        // j 0x200: only the upper halfword (bytes 64..65) changes.
        const uint32_t changed = j_type(0x200 - 62, 0);
        ASSERT_EQ(changed & 0xffff, j_type(0x100 - 62, 0) & 0xffff);
        m.bus.put32(kBase + 62, changed);   // not reported to this hart
        const uint64_t blocks = use_jit ? m.jit->stats().blocks : 0;
        m.hart->fence_i();
        ASSERT_EQ(run_at(kBase + 0x800), rv::Exit::Halted);
        EXPECT_EQ(m.hart->s.x[6], 7u);
        if (use_jit) {
            EXPECT_EQ(m.jit->stats().blocks, blocks);   // its chunk did not change
        }
        ASSERT_EQ(run_at(kBase), rv::Exit::Halted);
        EXPECT_EQ(m.hart->s.x[5], 0x401u);
    }
}

}  // namespace

namespace {

// -jitdump: a perf jitdump file with its header, one JIT_CODE_LOAD record per
// block (name, address, the code bytes) and the executable mapping of the
// file that `perf inject --jit` looks for.
TEST(JitDump, WritesCodeLoadRecords) {
    char dir[] = "/tmp/jit-dump-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const char *old = std::getenv("TMPDIR");
    const std::string saved = old ? old : "";
    setenv("TMPDIR", dir, 1);
    rv::jit::Options o;
    o.jitdump = true;
    // li x5, 3; loop: addi x5, x5, -1; bnez x5, loop; wfi
    Machine m({i_type(3, 0, 0, 5, 0x13), i_type(-1, 5, 0, 5, 0x13), b_type(-4, 0, 5, 1), 0x10500073}, 1, true, o);
    ASSERT_EQ(m.hart->run(1000), rv::Exit::Halted);
    const std::string path = rv::jit::jitdump_path();
    if (old) setenv("TMPDIR", saved.c_str(), 1);
    else unsetenv("TMPDIR");
    EXPECT_EQ(path, std::string(dir) + "/jit-" + std::to_string(getpid()) + ".dump");

    FILE *f = std::fopen(path.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    std::vector<uint8_t> data;
    for (int c; (c = std::fgetc(f)) != EOF;) data.push_back(static_cast<uint8_t>(c));
    std::fclose(f);
    auto u32 = [&](size_t at) { uint32_t v; std::memcpy(&v, &data[at], 4); return v; };
    auto u64 = [&](size_t at) { uint64_t v; std::memcpy(&v, &data[at], 8); return v; };
    ASSERT_GE(data.size(), 40u);
    EXPECT_EQ(u32(0), 0x4a695444u);   // "JiTD"
    EXPECT_EQ(u32(4), 1u);            // version
    EXPECT_EQ(u32(8), 40u);           // header size
    EXPECT_EQ(u32(12), 62u);          // EM_X86_64
    EXPECT_EQ(u32(20), static_cast<uint32_t>(getpid()));
    std::vector<std::string> names;
    for (size_t at = 40; at + 16 <= data.size();) {
        const uint32_t id = u32(at), size = u32(at + 4);
        ASSERT_GE(size, 16u);
        ASSERT_LE(at + size, data.size());
        if (id == 0) {   // JIT_CODE_LOAD
            const uint64_t addr = u64(at + 32), code_size = u64(at + 40);
            const std::string name(reinterpret_cast<const char *>(&data[at + 56]));
            names.push_back(name);
            EXPECT_EQ(u64(at + 24), addr);   // vma == code_addr
            EXPECT_EQ(56 + name.size() + 1 + code_size, size);
            EXPECT_EQ(u32(at + 16), static_cast<uint32_t>(getpid()));
        }
        at += size;
    }
    EXPECT_GE(names.size(), m.jit->stats().blocks);
    EXPECT_NE(std::find(names.begin(), names.end(), "riscv:0x80000000"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "riscv:0x80000004"), names.end());
    // The marker mapping perf uses to find the file.
    FILE *maps = std::fopen("/proc/self/maps", "r");
    ASSERT_NE(maps, nullptr);
    bool mapped = false;
    for (char line[512]; std::fgets(line, sizeof line, maps);) mapped |= std::strstr(line, path.c_str()) != nullptr;
    std::fclose(maps);
    EXPECT_TRUE(mapped);
    std::remove(path.c_str());
    rmdir(dir);
}

}  // namespace
