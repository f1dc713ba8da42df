// Compressed instructions, expanded to their 32-bit equivalents so the
// interpreter and disassembler only know one encoding.
#include "isa.hpp"

namespace rv {

namespace {

constexpr uint32_t bits(uint32_t v, unsigned hi, unsigned lo) { return (v >> lo) & ((1u << (hi - lo + 1)) - 1); }
constexpr uint32_t enc_r(uint32_t f7, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op) {
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
constexpr uint32_t enc_i(int32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op) {
    return (static_cast<uint32_t>(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
constexpr uint32_t enc_s(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t op) {
    uint32_t u = static_cast<uint32_t>(imm);
    return (bits(u, 11, 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (bits(u, 4, 0) << 7) | op;
}
constexpr uint32_t enc_b(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3) {
    uint32_t u = static_cast<uint32_t>(imm);
    return (bits(u, 12, 12) << 31) | (bits(u, 10, 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
           (bits(u, 4, 1) << 8) | (bits(u, 11, 11) << 7) | 0x63;
}
constexpr uint32_t enc_j(int32_t imm, uint32_t rd) {
    uint32_t u = static_cast<uint32_t>(imm);
    return (bits(u, 20, 20) << 31) | (bits(u, 10, 1) << 21) | (bits(u, 11, 11) << 20) |
           (bits(u, 19, 12) << 12) | (rd << 7) | 0x6f;
}
constexpr int32_t sext(uint32_t v, unsigned n) { return static_cast<int32_t>(v << (32 - n)) >> (32 - n); }

constexpr uint32_t OP_LOAD = 0x03, OP_LOAD_FP = 0x07, OP_IMM = 0x13, OP_IMM32 = 0x1b, OP_STORE = 0x23,
                   OP_STORE_FP = 0x27, OP = 0x33, OP_LUI = 0x37, OP_32 = 0x3b, OP_JALR = 0x67,
                   OP_SYSTEM = 0x73;

}  // namespace

uint32_t expand_rvc(uint16_t c, unsigned xlen) {
    const uint32_t f3 = bits(c, 15, 13);
    const uint32_t rd = bits(c, 11, 7), rs2 = bits(c, 6, 2);
    const uint32_t rdp = bits(c, 4, 2) + 8, rs1p = bits(c, 9, 7) + 8;
    const int32_t imm6 = sext((bits(c, 12, 12) << 5) | bits(c, 6, 2), 6);
    // Offsets of the register-based loads/stores (word, double).
    const uint32_t off_w = (bits(c, 12, 10) << 3) | (bits(c, 6, 6) << 2) | (bits(c, 5, 5) << 6);
    const uint32_t off_d = (bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6);
    const int32_t j_off = sext((bits(c, 12, 12) << 11) | (bits(c, 11, 11) << 4) | (bits(c, 10, 9) << 8) |
                                   (bits(c, 8, 8) << 10) | (bits(c, 7, 7) << 6) | (bits(c, 6, 6) << 7) |
                                   (bits(c, 5, 3) << 1) | (bits(c, 2, 2) << 5),
                               12);
    const int32_t b_off = sext((bits(c, 12, 12) << 8) | (bits(c, 11, 10) << 3) | (bits(c, 6, 5) << 6) |
                                   (bits(c, 4, 3) << 1) | (bits(c, 2, 2) << 5),
                               9);
    const bool rv64 = xlen == 64;
    switch (c & 3) {
    case 0:
        switch (f3) {
        case 0: {
            uint32_t nz = (bits(c, 12, 11) << 4) | (bits(c, 10, 7) << 6) | (bits(c, 6, 6) << 2) |
                          (bits(c, 5, 5) << 3);
            if (!nz) return 0;
            return enc_i(static_cast<int32_t>(nz), 2, 0, rdp, OP_IMM);   // c.addi4spn
        }
        case 1: return enc_i(static_cast<int32_t>(off_d), rs1p, 3, rdp, OP_LOAD_FP);   // c.fld
        case 2: return enc_i(static_cast<int32_t>(off_w), rs1p, 2, rdp, OP_LOAD);      // c.lw
        case 3:
            return rv64 ? enc_i(static_cast<int32_t>(off_d), rs1p, 3, rdp, OP_LOAD)        // c.ld
                        : enc_i(static_cast<int32_t>(off_w), rs1p, 2, rdp, OP_LOAD_FP);   // c.flw
        case 5: return enc_s(static_cast<int32_t>(off_d), rdp, rs1p, 3, OP_STORE_FP);   // c.fsd
        case 6: return enc_s(static_cast<int32_t>(off_w), rdp, rs1p, 2, OP_STORE);      // c.sw
        case 7:
            return rv64 ? enc_s(static_cast<int32_t>(off_d), rdp, rs1p, 3, OP_STORE)        // c.sd
                        : enc_s(static_cast<int32_t>(off_w), rdp, rs1p, 2, OP_STORE_FP);   // c.fsw
        default: return 0;
        }
    case 1:
        switch (f3) {
        case 0: return enc_i(imm6, rd, 0, rd, OP_IMM);   // c.addi / c.nop
        case 1:
            if (!rv64) return enc_j(j_off, 1);            // c.jal
            if (!rd) return 0;
            return enc_i(imm6, rd, 0, rd, OP_IMM32);      // c.addiw
        case 2: return enc_i(imm6, 0, 0, rd, OP_IMM);    // c.li
        case 3:
            if (rd == 2) {
                int32_t nz = sext((bits(c, 12, 12) << 9) | (bits(c, 6, 6) << 4) | (bits(c, 5, 5) << 6) |
                                      (bits(c, 4, 3) << 7) | (bits(c, 2, 2) << 5),
                                  10);
                if (!nz) return 0;
                return enc_i(nz, 2, 0, 2, OP_IMM);        // c.addi16sp
            }
            if (!imm6) return 0;
            return (static_cast<uint32_t>(imm6) << 12 & 0xfffff000u) | (rd << 7) | OP_LUI;   // c.lui
        case 4: {
            uint32_t sh = (bits(c, 12, 12) << 5) | bits(c, 6, 2);
            switch (bits(c, 11, 10)) {
            case 0:
                if (!rv64 && (sh & 32)) return 0;
                return enc_i(static_cast<int32_t>(sh), rs1p, 5, rs1p, OP_IMM);            // c.srli
            case 1:
                if (!rv64 && (sh & 32)) return 0;
                return enc_i(static_cast<int32_t>(sh | 0x400), rs1p, 5, rs1p, OP_IMM);    // c.srai
            case 2: return enc_i(imm6, rs1p, 7, rs1p, OP_IMM);                            // c.andi
            default: {
                uint32_t f2 = bits(c, 6, 5);
                if (!bits(c, 12, 12)) {
                    static constexpr uint32_t f7[] = {0x20, 0, 0, 0}, f3s[] = {0, 4, 6, 7};
                    return enc_r(f7[f2], rdp, rs1p, f3s[f2], rs1p, OP);   // c.sub/xor/or/and
                }
                if (!rv64 || f2 >= 2) return 0;
                return enc_r(f2 == 0 ? 0x20 : 0, rdp, rs1p, 0, rs1p, OP_32);   // c.subw/c.addw
            }
            }
        }
        case 5: return enc_j(j_off, 0);                  // c.j
        case 6: return enc_b(b_off, 0, rs1p, 0);         // c.beqz
        default: return enc_b(b_off, 0, rs1p, 1);       // c.bnez
        }
    case 2:
        switch (f3) {
        case 0: {
            uint32_t sh = (bits(c, 12, 12) << 5) | bits(c, 6, 2);
            if (!rv64 && (sh & 32)) return 0;
            return enc_i(static_cast<int32_t>(sh), rd, 1, rd, OP_IMM);   // c.slli
        }
        case 1: {
            uint32_t off = (bits(c, 12, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6);
            return enc_i(static_cast<int32_t>(off), 2, 3, rd, OP_LOAD_FP);   // c.fldsp
        }
        case 2: {
            if (!rd) return 0;
            uint32_t off = (bits(c, 12, 12) << 5) | (bits(c, 6, 4) << 2) | (bits(c, 3, 2) << 6);
            return enc_i(static_cast<int32_t>(off), 2, 2, rd, OP_LOAD);   // c.lwsp
        }
        case 3: {
            if (rv64) {
                if (!rd) return 0;
                uint32_t off = (bits(c, 12, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6);
                return enc_i(static_cast<int32_t>(off), 2, 3, rd, OP_LOAD);   // c.ldsp
            }
            uint32_t off = (bits(c, 12, 12) << 5) | (bits(c, 6, 4) << 2) | (bits(c, 3, 2) << 6);
            return enc_i(static_cast<int32_t>(off), 2, 2, rd, OP_LOAD_FP);   // c.flwsp
        }
        case 4:
            if (!bits(c, 12, 12)) {
                if (!rs2) {
                    if (!rd) return 0;
                    return enc_i(0, rd, 0, 0, OP_JALR);   // c.jr
                }
                return enc_r(0, rs2, 0, 0, rd, OP);       // c.mv
            }
            if (!rs2) {
                if (!rd) return 0x00100073;               // c.ebreak
                return enc_i(0, rd, 0, 1, OP_JALR);       // c.jalr
            }
            return enc_r(0, rs2, rd, 0, rd, OP);          // c.add
        case 5: {
            uint32_t off = (bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6);
            return enc_s(static_cast<int32_t>(off), rs2, 2, 3, OP_STORE_FP);   // c.fsdsp
        }
        case 6: {
            uint32_t off = (bits(c, 12, 9) << 2) | (bits(c, 8, 7) << 6);
            return enc_s(static_cast<int32_t>(off), rs2, 2, 2, OP_STORE);   // c.swsp
        }
        default: {
            if (rv64) {
                uint32_t off = (bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6);
                return enc_s(static_cast<int32_t>(off), rs2, 2, 3, OP_STORE);   // c.sdsp
            }
            uint32_t off = (bits(c, 12, 9) << 2) | (bits(c, 8, 7) << 6);
            return enc_s(static_cast<int32_t>(off), rs2, 2, 2, OP_STORE_FP);   // c.fswsp
        }
        }
    default: return 0;
    }
    (void)OP_SYSTEM;
}

}  // namespace rv
