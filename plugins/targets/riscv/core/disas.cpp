// Disassembler driven by the decode table's operand syntax.
#include "csr.hpp"
#include "isa/isa.hpp"

#include <cinttypes>
#include <cstdio>

namespace rv {

namespace {

constexpr const char *kXNames[32] = {"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
                                     "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
                                     "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
constexpr const char *kFNames[32] = {"ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7",
                                     "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
                                     "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
                                     "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"};
constexpr const char *kRm[8] = {"rne", "rtz", "rdn", "rup", "rmm", "", "", "dyn"};

std::string fence_set(unsigned v) {
    std::string s;
    if (v & 8) s += 'i';
    if (v & 4) s += 'o';
    if (v & 2) s += 'r';
    if (v & 1) s += 'w';
    return s.empty() ? "0" : s;
}

}  // namespace

std::string disassemble(const Hart &h, uint64_t pc, uint32_t raw, unsigned len) {
    Insn in{};
    char buf[96];
    const unsigned xlen = h.cfg.xlen;
    decode(h, raw, len, in);
    if (in.op == kIllegalOp) {
        std::snprintf(buf, sizeof buf, len == 2 ? "illegal 0x%04x" : "illegal 0x%08x", raw);
        return buf;
    }
    const OpDesc &d = op_desc(in.op);
    std::string out = d.name;
    const char *sep = " ";
    auto add = [&](const std::string &s) {
        out += sep;
        out += s;
        sep = ",";
    };
    for (const char *a = d.args; *a; ++a) {
        switch (*a) {
        case 'd': add(kXNames[in.rd]); break;
        case 's': add(kXNames[in.rs1]); break;
        case 't': add(kXNames[in.rs2]); break;
        case 'D': add(kFNames[in.rd]); break;
        case 'S': add(kFNames[in.rs1]); break;
        case 'T': add(kFNames[in.rs2]); break;
        case 'R': add(kFNames[in.rs3]); break;
        case 'i': add(std::to_string(in.imm)); break;
        case '>': add(std::to_string(in.imm)); break;
        case 'Z': add(std::to_string(in.rs1)); break;
        case 'o': add(std::to_string(in.imm) + "(" + kXNames[in.rs1] + ")"); break;
        case 'a': add(std::string("(") + kXNames[in.rs1] + ")"); break;
        case 'u': {
            std::snprintf(buf, sizeof buf, "%" PRIu32, static_cast<uint32_t>(in.imm) >> 12);
            add(buf);
            break;
        }
        case 'b': {
            uint64_t t = (pc + static_cast<int64_t>(in.imm)) & (xlen == 32 ? 0xffffffffull : ~0ull);
            std::snprintf(buf, sizeof buf, "0x%" PRIx64, t);
            add(buf);
            break;
        }
        case 'c': {
            const char *n = csr_name(static_cast<unsigned>(in.imm));
            if (n) add(n);
            else {
                std::snprintf(buf, sizeof buf, "0x%x", static_cast<unsigned>(in.imm));
                add(buf);
            }
            break;
        }
        case 'f': {
            unsigned pred = (in.raw >> 24) & 15, succ = (in.raw >> 20) & 15;
            if (pred != 15 || succ != 15) {
                add(fence_set(pred));
                add(fence_set(succ));
            }
            break;
        }
        case 'm': {
            unsigned m = (in.raw >> 12) & 7;
            if (m != 7) add(kRm[m]);
            break;
        }
        default: break;
        }
    }
    return out;
}

}  // namespace rv
