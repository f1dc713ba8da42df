// The decode table's shape: one OpDesc per instruction, shared by the
// interpreter (handlers), the disassembler (name and operand syntax) and a
// future JIT. Each exec_*.cpp file contributes the lines of its extensions.
#pragma once

#include "../hart.hpp"

#include <span>

namespace rv {

// Immediate layout; decides how Insn::imm is extracted.
enum class Fmt : uint8_t { R, I, S, B, U, J, Shift, Csr, None };

enum class Ext : uint8_t { I, M, A, F, D, Zicsr, Zifencei, Zba, Zbb, Zbc, Zbs, Zicond, Zicbom, Zicboz, S };

struct OpDesc {
    const char *name;
    uint32_t mask, match;
    Fmt fmt;
    // Operand syntax for the disassembler: d/s/t x rd/rs1/rs2, D/S/T/R f
    // rd/rs1/rs2/rs3, i imm, o imm(rs1), b pc-relative target, u upper imm,
    // c csr, Z uimm in rs1, > shamt, a (rs1), f fence sets, m rounding mode.
    const char *args;
    Ext ext;
    Handler h32, h64;   // nullptr: not available on that XLEN
};

// "0000000 ..... ..... 000 ..... 0110011": bits MSB first, '.' don't care.
consteval uint32_t pattern_bits(const char *p, bool want_mask) {
    uint32_t v = 0;
    int n = 0;
    for (; *p; ++p) {
        if (*p == ' ') continue;
        v <<= 1;
        if (want_mask ? *p != '.' : *p == '1') v |= 1;
        ++n;
    }
    if (n != 32) throw "pattern must have 32 bits";
    return v;
}

#define RV_OP(name, pat, fmt, args, ext, handlers)                                             \
    ::rv::OpDesc {                                                                             \
        name, ::rv::pattern_bits(pat, true), ::rv::pattern_bits(pat, false), ::rv::Fmt::fmt, args, \
            ::rv::Ext::ext, handlers                                                           \
    }
// Handler pairs: both XLENs, RV32 only, RV64 only.
#define RV_H(fn) &fn<32>, &fn<64>
#define RV_H32(fn) &fn<32>, nullptr
#define RV_H64(fn) nullptr, &fn<64>

// Table slices, one per exec file.
std::span<const OpDesc> ops_base();       // RV32I/RV64I, M, Zicsr, Zifencei, privileged
std::span<const OpDesc> ops_atomic();     // A
std::span<const OpDesc> ops_bitmanip();   // Zba Zbb Zbc Zbs Zicond Zicbo*
std::span<const OpDesc> ops_float();      // F D (empty without the fpu library)

// All slices, in decode priority order.
std::span<const OpDesc *const> all_ops();
const OpDesc &op_desc(uint16_t idx);

// Expand a compressed instruction to its 32-bit equivalent; 0 if illegal.
uint32_t expand_rvc(uint16_t c, unsigned xlen);

// The handler for encodings that decode to nothing.
void exec_illegal(Hart &h, const Insn &in);

// Disassemble one instruction as this hart decodes it (raw: the original
// 16- or 32-bit encoding, len its size).
std::string disassemble(const Hart &h, uint64_t pc, uint32_t raw, unsigned len);

}  // namespace rv
