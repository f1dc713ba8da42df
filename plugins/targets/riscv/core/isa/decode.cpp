// Table-driven decoder: candidates are bucketed by major opcode, the first
// line whose mask/match fits and whose extension is enabled wins.
#include "isa.hpp"

#include <array>
#include <stdexcept>
#include <vector>

namespace rv {

namespace {

int32_t sext(uint32_t v, unsigned bits) { return static_cast<int32_t>(v << (32 - bits)) >> (32 - bits); }

int32_t extract_imm(Fmt f, uint32_t r) {
    switch (f) {
    case Fmt::I: return static_cast<int32_t>(r) >> 20;
    case Fmt::S: return sext(((r >> 25) << 5) | ((r >> 7) & 31), 12);
    case Fmt::B:
        return sext(((r >> 31) << 12) | (((r >> 7) & 1) << 11) | (((r >> 25) & 0x3f) << 5) |
                        (((r >> 8) & 0xf) << 1),
                    13);
    case Fmt::U: return static_cast<int32_t>(r & 0xfffff000u);
    case Fmt::J:
        return sext(((r >> 31) << 20) | (((r >> 12) & 0xff) << 12) | (((r >> 20) & 1) << 11) |
                        (((r >> 21) & 0x3ff) << 1),
                    21);
    case Fmt::Shift: return (r >> 20) & 0x3f;
    case Fmt::Csr: return (r >> 20) & 0xfff;
    default: return 0;
    }
}

struct Tables {
    std::vector<const OpDesc *> ops;
    std::array<std::vector<uint16_t>, 128> bucket;
    Tables() {
        for (auto slice : {ops_base(), ops_atomic(), ops_bitmanip(), ops_float()})
            for (const OpDesc &d : slice) ops.push_back(&d);
        if (ops.size() >= kIllegalOp) throw std::logic_error("decode table: too many ops");
        for (size_t i = 0; i < ops.size(); ++i) {
            // Every line fixes the 7 opcode bits, so it lands in one bucket.
            bucket[ops[i]->match & 0x7f].push_back(static_cast<uint16_t>(i));
        }
    }
};

const Tables &tables() {
    static const Tables t;
    return t;
}

bool ext_enabled(const Hart &h, Ext e) {
    const Extensions &x = h.cfg.ext;
    switch (e) {
    case Ext::I: case Ext::Zicsr: return true;
    case Ext::M: return x.m;
    case Ext::A: return x.a;
    case Ext::F: return h.ext_f();
    case Ext::D: return h.ext_d();
    case Ext::Zifencei: return x.zifencei;
    case Ext::Zba: return x.zba;
    case Ext::Zbb: return x.zbb;
    case Ext::Zbc: return x.zbc;
    case Ext::Zbs: return x.zbs;
    case Ext::Zicond: return x.zicond;
    case Ext::Zicbom: return x.zicbom;
    case Ext::Zicboz: return x.zicboz;
    case Ext::S: return x.s;
    }
    return false;
}

}  // namespace

std::span<const OpDesc *const> all_ops() { return tables().ops; }
const OpDesc &op_desc(uint16_t idx) { return *tables().ops[idx]; }

void exec_illegal(Hart &h, const Insn &) { h.illegal(); }

void decode(const Hart &h, uint32_t raw, unsigned len, Insn &out) {
    out = Insn{};
    out.len = static_cast<uint8_t>(len);
    out.raw = raw;
    out.op = kIllegalOp;
    out.fn = exec_illegal;
    uint32_t word = raw;
    if (len == 2) {
        if (!h.cfg.ext.c) return;
        word = expand_rvc(static_cast<uint16_t>(raw), h.cfg.xlen);
        if (!word) return;   // illegal: tval is the 16-bit encoding
    }
    const Tables &t = tables();
    for (uint16_t i : t.bucket[word & 0x7f]) {
        const OpDesc &d = *t.ops[i];
        if ((word & d.mask) != d.match) continue;
        Handler fn = h.cfg.xlen == 32 ? d.h32 : d.h64;
        if (!fn || !ext_enabled(h, d.ext)) continue;
        out.op = i;
        out.fn = fn;
        out.raw = word;
        out.imm = extract_imm(d.fmt, word);
        out.rd = (word >> 7) & 31;
        out.rs1 = (word >> 15) & 31;
        out.rs2 = (word >> 20) & 31;
        out.rs3 = (word >> 27) & 31;
        return;
    }
}

}  // namespace rv
