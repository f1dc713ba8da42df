// The CSR file as a table: number, name, presence, read and write handlers.
// Access rules common to all CSRs (privilege from bits 9:8, read-only from
// bits 11:10, counter enables, TVM, FS) are applied once in Hart::csr_rw.
#include "csr.hpp"

#include "hart.hpp"

#include <array>
#include <cstdio>
#include <vector>

namespace rv {

namespace {

using namespace mstatus_bits;

struct CsrDef {
    uint16_t num;
    uint16_t arg;   // index within a numbered family (pmpaddrN, hpmcounterN...)
    const char *name;
    bool (*present)(const Hart &);
    uint64_t (*read)(Hart &, unsigned);
    void (*write)(Hart &, unsigned, uint64_t);   // nullptr: writes ignored
};

bool always(const Hart &) { return true; }
bool rv32_only(const Hart &h) { return h.cfg.xlen == 32; }
bool has_s(const Hart &h) { return h.cfg.ext.s; }
bool has_f(const Hart &h) { return h.ext_f(); }
bool has_sstc(const Hart &h) { return h.cfg.ext.sstc; }
bool has_sstc32(const Hart &h) { return h.cfg.ext.sstc && h.cfg.xlen == 32; }

uint64_t sd_bit(const Hart &h) { return h.cfg.xlen == 32 ? SD32 : SD64; }

uint64_t read_mstatus(Hart &h, unsigned) {
    uint64_t v = h.s.mstatus;
    if ((v & FS) == FS || (v & XS) == XS || (v & VS) == VS) v |= sd_bit(h);
    return v;
}

void write_mstatus(Hart &h, unsigned, uint64_t v) {
    uint64_t mask = SIE | MIE | SPIE | MPIE | SPP | MPP | FS | MPRV | SUM | MXR | TVM | TW | TSR;
    uint64_t old = h.s.mstatus;
    if (((v & MPP) >> 11) == 2) v = (v & ~MPP) | (old & MPP);   // WARL: keep legal MPP
    uint64_t nv = (old & ~mask) | (v & mask);
    h.s.mstatus = nv;
    const uint64_t changed = old ^ nv;
    if (changed & (SUM | MXR)) h.flush_status_tlb();
    // The run loop re-checks interrupts when one may have become deliverable
    // (Linux toggles SIE and SUM constantly; clearing them enables nothing).
    const bool enabled_pending = (nv & changed & (SIE | MIE)) && (h.mip_effective() & h.s.mie);
    if ((changed & ~(SUM | MXR | SIE | MIE)) || enabled_pending) h.request_check();
}

uint64_t sstatus_mask(const Hart &h) {
    return SIE | SPIE | UBE | SPP | VS | FS | XS | SUM | MXR | (h.cfg.xlen == 64 ? UXL : 0);
}

uint64_t read_sstatus(Hart &h, unsigned) { return read_mstatus(h, 0) & (sstatus_mask(h) | sd_bit(h)); }

void write_sstatus(Hart &h, unsigned, uint64_t v) {
    uint64_t mask = SIE | SPIE | SPP | FS | SUM | MXR;
    write_mstatus(h, 0, (h.s.mstatus & ~mask) | (v & mask));
}

constexpr uint64_t kSInts = 0x222, kAllInts = 0xaaa;

uint64_t read_mip(Hart &h, unsigned) { return h.mip_effective(); }
void write_mip(Hart &h, unsigned, uint64_t v) {
    uint64_t mask = kSInts;
    // SEIP reads as the software bit OR the external line, but CSRRS/CSRRC
    // must modify only the software bit (privileged spec, mip). The written
    // value was built from the read: while the line is high and the software
    // bit is clear, a 1 there is the line echoed back, not a request to set.
    constexpr uint64_t seip = 1ull << irq::SEI;
    if ((h.external_lines() & seip) && !(h.s.mip & seip)) v &= ~seip;
    if (h.cfg.ext.sstc && (h.s.menvcfg & menvcfg_bits::STCE)) mask &= ~(1ull << irq::STI);
    h.s.mip = (h.s.mip & ~mask) | (v & mask);
    h.request_check();
}
uint64_t read_sip(Hart &h, unsigned) { return h.mip_effective() & h.s.mideleg; }
void write_sip(Hart &h, unsigned, uint64_t v) {
    uint64_t mask = h.s.mideleg & (1ull << irq::SSI);
    h.s.mip = (h.s.mip & ~mask) | (v & mask);
    h.request_check();
}
uint64_t read_sie(Hart &h, unsigned) { return h.s.mie & h.s.mideleg; }
void write_sie(Hart &h, unsigned, uint64_t v) {
    uint64_t mask = h.s.mideleg & kSInts;
    h.s.mie = (h.s.mie & ~mask) | (v & mask);
    h.request_check();
}

void write_tvec(uint64_t &reg, uint64_t v) {
    if ((v & 3) < 2) reg = v;   // reserved modes: the write is ignored
}

void arm_stimecmp(Hart &h) {
    bool on = h.cfg.ext.sstc && (h.s.menvcfg & menvcfg_bits::STCE);
    h.bus.arm_timer(on ? h.s.stimecmp : ~0ull);
    h.request_check();
}

uint64_t menvcfg_mask(const Hart &h) {
    uint64_t m = menvcfg_bits::FIOM | menvcfg_bits::CBIE | menvcfg_bits::CBCFE | menvcfg_bits::CBZE;
    if (h.cfg.ext.svpbmt && h.cfg.xlen == 64) m |= menvcfg_bits::PBMTE;
    if (h.cfg.ext.sstc) m |= menvcfg_bits::STCE;
    if (h.cfg.ext.svadu) m |= menvcfg_bits::ADUE;
    return m;
}

void set_menvcfg(Hart &h, uint64_t v) {
    h.s.menvcfg = v & menvcfg_mask(h);
    h.flush_tlb();
    arm_stimecmp(h);
}

// Low/high halves for RV32 views of 64-bit registers.
uint64_t lo_set(uint64_t old, uint64_t v) { return (old & ~0xffffffffull) | (v & 0xffffffffull); }
uint64_t hi_set(uint64_t old, uint64_t v) { return (old & 0xffffffffull) | (v << 32); }

void write_satp(Hart &h, unsigned, uint64_t v) {
    if (h.cfg.xlen == 64) {
        uint64_t mode = v >> 60;
        if (!(mode == 0 || (mode >= 8 && mode <= h.cfg.max_satp_mode))) return;   // WARL
    }
    h.s.satp = v & h.xmask();
    h.flush_tlb();
}

uint64_t pmpaddr_mask(const Hart &h) { return h.cfg.xlen == 32 ? 0xffffffffull : (1ull << 54) - 1; }

bool pmp_locked(const Hart &h, unsigned i) { return h.s.pmpcfg[i] & 0x80; }

void write_pmpcfg(Hart &h, unsigned reg, uint64_t v) {
    unsigned per = h.cfg.xlen / 8;
    for (unsigned k = 0; k < per; ++k) {
        unsigned i = reg * 4 + k;
        if (i >= 16) break;
        if (pmp_locked(h, i)) continue;
        uint8_t c = static_cast<uint8_t>(v >> (8 * k)) & 0x9f;
        if ((c & 2) && !(c & 1)) c &= ~3;   // W without R is reserved
        h.s.pmpcfg[i] = c;
    }
    h.flush_tlb();
}

uint64_t read_pmpcfg(Hart &h, unsigned reg) {
    uint64_t v = 0;
    unsigned per = h.cfg.xlen / 8;
    for (unsigned k = 0; k < per && reg * 4 + k < 16; ++k)
        v |= uint64_t(h.s.pmpcfg[reg * 4 + k]) << (8 * k);
    return v;
}

void write_pmpaddr(Hart &h, unsigned i, uint64_t v) {
    if (i >= 16) return;
    if (pmp_locked(h, i)) return;
    if (i + 1 < 16 && pmp_locked(h, i + 1) && ((h.s.pmpcfg[i + 1] >> 3) & 3) == 1) return;
    h.s.pmpaddr[i] = v & pmpaddr_mask(h);
    h.flush_tlb();
}

uint64_t mcycle(const Hart &h) { return h.s.instret + h.s.cycle_offset; }

std::vector<CsrDef> build_table() {
    std::vector<CsrDef> t;
    auto add = [&](uint16_t num, const char *name, bool (*present)(const Hart &),
                   uint64_t (*rd)(Hart &, unsigned), void (*wr)(Hart &, unsigned, uint64_t),
                   uint16_t arg = 0) { t.push_back(CsrDef{num, arg, name, present, rd, wr}); };
#define REG(field) [](Hart &h, unsigned) -> uint64_t { return h.s.field; }
#define SET(expr) [](Hart &h, unsigned, uint64_t v) { expr; }
    // Floating point
    add(0x001, "fflags", has_f, REG(fflags), SET(h.s.fflags = v & 0x1f; h.fs_dirty()));
    add(0x002, "frm", has_f, REG(frm), SET(h.s.frm = v & 7; h.fs_dirty()));
    add(0x003, "fcsr", has_f, [](Hart &h, unsigned) -> uint64_t { return (h.s.frm << 5) | h.s.fflags; },
        SET(h.s.fflags = v & 0x1f; h.s.frm = (v >> 5) & 7; h.fs_dirty()));
    // Unprivileged counters
    add(0xc00, "cycle", always, [](Hart &h, unsigned) { return mcycle(h); }, nullptr);
    add(0xc01, "time", always, [](Hart &h, unsigned) { return h.time(); }, nullptr);
    add(0xc02, "instret", always, REG(instret), nullptr);
    add(0xc80, "cycleh", rv32_only, [](Hart &h, unsigned) { return mcycle(h) >> 32; }, nullptr);
    add(0xc81, "timeh", rv32_only, [](Hart &h, unsigned) { return h.time() >> 32; }, nullptr);
    add(0xc82, "instreth", rv32_only, [](Hart &h, unsigned) { return h.s.instret >> 32; }, nullptr);
    static char names[6][29][20];
    for (unsigned n = 3; n < 32; ++n) {
        std::snprintf(names[0][n - 3], 20, "hpmcounter%u", n);
        std::snprintf(names[1][n - 3], 20, "hpmcounter%uh", n);
        std::snprintf(names[2][n - 3], 20, "mhpmcounter%u", n);
        std::snprintf(names[3][n - 3], 20, "mhpmcounter%uh", n);
        std::snprintf(names[4][n - 3], 20, "mhpmevent%u", n);
        auto zero = [](Hart &, unsigned) -> uint64_t { return 0; };
        add(0xc00 + n, names[0][n - 3], always, zero, nullptr);
        add(0xc80 + n, names[1][n - 3], rv32_only, zero, nullptr);
        add(0xb00 + n, names[2][n - 3], always, zero, SET((void)h; (void)v));
        add(0xb80 + n, names[3][n - 3], rv32_only, zero, SET((void)h; (void)v));
        add(0x320 + n, names[4][n - 3], always,
            [](Hart &h, unsigned i) -> uint64_t { return h.s.mhpmevent[i]; },
            [](Hart &h, unsigned i, uint64_t v) { h.s.mhpmevent[i] = v; }, n);
    }
    // Supervisor
    add(0x100, "sstatus", has_s, read_sstatus, write_sstatus);
    add(0x104, "sie", has_s, read_sie, write_sie);
    add(0x105, "stvec", has_s, REG(stvec), SET(write_tvec(h.s.stvec, v)));
    add(0x106, "scounteren", has_s, REG(scounteren), SET(h.s.scounteren = v & 0xffffffff));
    add(0x10a, "senvcfg", has_s, REG(senvcfg), SET(h.s.senvcfg = v & 0xf1));
    add(0x140, "sscratch", has_s, REG(sscratch), SET(h.s.sscratch = v));
    add(0x141, "sepc", has_s, REG(sepc), SET(h.s.sepc = v & ~1ull));
    add(0x142, "scause", has_s, REG(scause), SET(h.s.scause = v));
    add(0x143, "stval", has_s, REG(stval), SET(h.s.stval = v));
    add(0x144, "sip", has_s, read_sip, write_sip);
    add(0x14d, "stimecmp", has_sstc, [](Hart &h, unsigned) { return h.s.stimecmp; },
        SET(h.s.stimecmp = h.cfg.xlen == 32 ? lo_set(h.s.stimecmp, v) : v; arm_stimecmp(h)));
    add(0x15d, "stimecmph", has_sstc32, [](Hart &h, unsigned) { return h.s.stimecmp >> 32; },
        SET(h.s.stimecmp = hi_set(h.s.stimecmp, v); arm_stimecmp(h)));
    add(0x180, "satp", has_s, REG(satp), write_satp);
    // Machine information
    add(0xf11, "mvendorid", always, [](Hart &, unsigned) -> uint64_t { return 0; }, nullptr);
    add(0xf12, "marchid", always, [](Hart &, unsigned) -> uint64_t { return 0; }, nullptr);
    add(0xf13, "mimpid", always, [](Hart &, unsigned) -> uint64_t { return 0; }, nullptr);
    add(0xf14, "mhartid", always, REG(mhartid), nullptr);
    add(0xf15, "mconfigptr", always, [](Hart &, unsigned) -> uint64_t { return 0; }, nullptr);
    // Machine trap setup and handling
    add(0x300, "mstatus", always, read_mstatus, write_mstatus);
    add(0x301, "misa", always, REG(misa), SET((void)h; (void)v));   // WARL, not writable
    add(0x302, "medeleg", has_s, REG(medeleg), SET(h.s.medeleg = v & 0xf0b7ff));
    add(0x303, "mideleg", has_s, REG(mideleg), SET(h.s.mideleg = v & kSInts; h.request_check()));
    add(0x304, "mie", always, REG(mie), SET(h.s.mie = v & kAllInts; h.request_check()));
    add(0x305, "mtvec", always, REG(mtvec), SET(write_tvec(h.s.mtvec, v)));
    add(0x306, "mcounteren", always, REG(mcounteren), SET(h.s.mcounteren = v & 0xffffffff));
    add(0x30a, "menvcfg", always, REG(menvcfg),
        SET(set_menvcfg(h, h.cfg.xlen == 32 ? lo_set(h.s.menvcfg, v) : v)));
    add(0x310, "mstatush", rv32_only, [](Hart &, unsigned) -> uint64_t { return 0; }, SET((void)h; (void)v));
    add(0x31a, "menvcfgh", rv32_only, [](Hart &h, unsigned) { return h.s.menvcfg >> 32; },
        SET(set_menvcfg(h, hi_set(h.s.menvcfg, v))));
    add(0x320, "mcountinhibit", always, REG(mcountinhibit), SET(h.s.mcountinhibit = v & 0xfffffffd));
    add(0x340, "mscratch", always, REG(mscratch), SET(h.s.mscratch = v));
    add(0x341, "mepc", always, REG(mepc), SET(h.s.mepc = v & ~1ull));
    add(0x342, "mcause", always, REG(mcause), SET(h.s.mcause = v));
    add(0x343, "mtval", always, REG(mtval), SET(h.s.mtval = v));
    add(0x344, "mip", always, read_mip, write_mip);
    // Counters (cycle = instret: one cycle per instruction). The write lands
    // before the writing instruction retires, hence the -1.
    add(0xb00, "mcycle", always, [](Hart &h, unsigned) { return mcycle(h); },
        SET(h.s.cycle_offset = (h.cfg.xlen == 32 ? lo_set(mcycle(h), v) : v) - h.s.instret - 1));
    add(0xb02, "minstret", always, REG(instret),
        SET(h.s.instret = (h.cfg.xlen == 32 ? lo_set(h.s.instret, v) : v) - 1));
    add(0xb80, "mcycleh", rv32_only, [](Hart &h, unsigned) { return mcycle(h) >> 32; },
        SET(h.s.cycle_offset = hi_set(mcycle(h), v) - h.s.instret - 1));
    add(0xb82, "minstreth", rv32_only, [](Hart &h, unsigned) { return h.s.instret >> 32; },
        SET(h.s.instret = hi_set(h.s.instret, v) - 1));
    // PMP
    static char pnames[80][12];
    for (unsigned i = 0; i < 16; ++i) {
        std::snprintf(pnames[i], 12, "pmpcfg%u", i);
        bool (*pres)(const Hart &) = (i & 1) ? rv32_only : always;
        if (i < 4) add(0x3a0 + i, pnames[i], pres, read_pmpcfg, write_pmpcfg, i);
        else add(0x3a0 + i, pnames[i], pres, [](Hart &, unsigned) -> uint64_t { return 0; },
                 SET((void)h; (void)v), i);
    }
    for (unsigned i = 0; i < 64; ++i) {
        std::snprintf(pnames[16 + i], 12, "pmpaddr%u", i);
        add(0x3b0 + i, pnames[16 + i], always,
            [](Hart &h, unsigned n) -> uint64_t { return n < 16 ? h.s.pmpaddr[n] : 0; },
            write_pmpaddr, i);
    }
    // Debug triggers: none implemented; tselect reads back, tdata1 type 0.
    add(0x7a0, "tselect", always, [](Hart &, unsigned) -> uint64_t { return 0; }, SET((void)h; (void)v));
    add(0x7a1, "tdata1", always, [](Hart &, unsigned) -> uint64_t { return 0; }, SET((void)h; (void)v));
    add(0x7a2, "tdata2", always, [](Hart &, unsigned) -> uint64_t { return 0; }, SET((void)h; (void)v));
    add(0x7a3, "tdata3", always, [](Hart &, unsigned) -> uint64_t { return 0; }, SET((void)h; (void)v));
#undef REG
#undef SET
    return t;
}

struct CsrIndex {
    std::vector<CsrDef> defs;
    std::array<int16_t, 4096> by_num;
    CsrIndex() : defs(build_table()) {
        by_num.fill(-1);
        for (size_t i = 0; i < defs.size(); ++i) by_num[defs[i].num] = static_cast<int16_t>(i);
    }
};

const CsrIndex &index() {
    static const CsrIndex idx;
    return idx;
}

bool is_counter(unsigned num) { return (num >= 0xc00 && num <= 0xc1f) || (num >= 0xc80 && num <= 0xc9f); }

}  // namespace

const char *csr_name(unsigned num) {
    if (num >= 4096) return nullptr;
    int i = index().by_num[num];
    return i < 0 ? nullptr : index().defs[i].name;
}

bool csr_present(const Hart &h, unsigned num) {
    if (num >= 4096) return false;
    int i = index().by_num[num];
    return i >= 0 && index().defs[i].present(h);
}

bool csr_debug_read(Hart &h, unsigned num, uint64_t &out) {
    if (!csr_present(h, num)) return false;
    const CsrDef &d = index().defs[index().by_num[num]];
    out = d.read(h, d.arg) & h.xmask();
    return true;
}

bool csr_debug_write(Hart &h, unsigned num, uint64_t v) {
    if (!csr_present(h, num)) return false;
    const CsrDef &d = index().defs[index().by_num[num]];
    if (d.write) d.write(h, d.arg, v & h.xmask());
    return true;
}

// op: 1 write, 2 set bits, 3 clear bits.
uint64_t Hart::csr_rw(unsigned num, unsigned op, uint64_t val, bool do_write) {
    if (!csr_present(*this, num)) illegal();
    if (((num >> 8) & 3) > s.priv) illegal();
    if (do_write && (num >> 10) == 3) illegal();
    if (is_counter(num)) {
        unsigned bit = num & 31;
        if (s.priv < PRV_M && !((s.mcounteren >> bit) & 1)) illegal();
        if (s.priv < PRV_S && !((s.scounteren >> bit) & 1)) illegal();
    }
    if (num == 0x180 && s.priv == PRV_S && (s.mstatus & TVM)) illegal();
    if ((num == 0x14d || num == 0x15d) && s.priv == PRV_S &&
        (!(s.menvcfg & menvcfg_bits::STCE) || !(s.mcounteren & 2)))
        illegal();
    if (num <= 3) fs_check();
    const CsrDef &d = index().defs[index().by_num[num]];
    uint64_t old = d.read(*this, d.arg) & xmask();
    if (do_write && d.write) {
        uint64_t nv = op == 1 ? val : op == 2 ? (old | val) : (old & ~val);
        d.write(*this, d.arg, nv & xmask());
    }
    return old;
}

}  // namespace rv
