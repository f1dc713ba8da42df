#!/usr/bin/env python3
"""Differential test against the reference: random RV64 instruction
sequences (integer, M, A-free loads/stores, Zba/Zbb/Zbs/Zbc, F/D with fcsr)
run on `tessera -M spike` and on `qemu-system-riscv64 -M spike`; each block
ends by printing every register and the scratch memory's checksum through
HTIF, and the two outputs must be identical.
Usage: riscv_diff.py TESSERA WORKDIR [SEED] [PROGRAMS] ; exit 77 = skip."""
import os, random, shutil, subprocess, sys

TESSERA, WORK = sys.argv[1], sys.argv[2]
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 1
PROGRAMS = int(sys.argv[4]) if len(sys.argv) > 4 else 6
BLOCKS, INSNS = 8, 40
HERE = os.path.dirname(os.path.abspath(__file__))
COMMON = os.path.join(HERE, "..", "guests", "common")
REGS = [1] + list(range(5, 27)) + list(range(28, 32))   # not sp, gp, tp, s11 (x27: scratch base)
FREGS = list(range(32))

R3 = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
      "addw", "subw", "sllw", "srlw", "sraw",
      "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
      "mulw", "divw", "divuw", "remw", "remuw",
      "sh1add", "sh2add", "sh3add", "add.uw", "sh1add.uw", "sh2add.uw", "sh3add.uw",
      "andn", "orn", "xnor", "max", "maxu", "min", "minu", "rol", "ror", "rolw", "rorw",
      "bclr", "bext", "binv", "bset", "clmul", "clmulh", "clmulr"]
R2 = ["clz", "ctz", "cpop", "clzw", "ctzw", "cpopw", "sext.b", "sext.h", "zext.h", "rev8", "orc.b"]
I12 = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"]
SH6 = ["slli", "srli", "srai", "rori", "bclri", "bexti", "binvi", "bseti", "slli.uw"]
SH5 = ["slliw", "srliw", "sraiw", "roriw"]
LOADS = [("lb", 1), ("lh", 2), ("lw", 4), ("ld", 8), ("lbu", 1), ("lhu", 2), ("lwu", 4)]
STORES = [("sb", 1), ("sh", 2), ("sw", 4), ("sd", 8)]
FD3 = ["fadd", "fsub", "fmul", "fdiv", "fmin", "fmax", "fsgnj", "fsgnjn", "fsgnjx"]
FD4 = ["fmadd", "fmsub", "fnmadd", "fnmsub"]
RMS = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"]
INTERESTING = [0, 1, -1, 0x7fffffffffffffff, -0x8000000000000000, 0x80000000, 0xffffffff, 0x7fffffff,
               -0x80000000, 0x5555555555555555, 0x123456789abcdef0]
FP_BITS = [0x0, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000, 0x7ff0000000000000,
           0xfff0000000000000, 0x7ff8000000000000, 0x7ff4000000000000, 0x0000000000000001,
           0x000fffffffffffff, 0x7fefffffffffffff, 0x4009_21fb_5444_2d18, 0xffffffff3f800000,
           0xffffffff7fc00000, 0xffffffff00000001, 0x3f80000000000000]


def rand64(r):
    return r.choice(INTERESTING) if r.random() < 0.3 else r.getrandbits(64) - (1 << 63) * r.randint(0, 1)


def insn(r):
    k = r.random()
    rd, rs1, rs2, rs3 = (f"x{r.choice(REGS)}" for _ in range(4))
    if k < 0.45:
        return f"{r.choice(R3)} {rd}, {rs1}, {rs2}"
    if k < 0.52:
        return f"{r.choice(R2)} {rd}, {rs1}"
    if k < 0.62:
        return f"{r.choice(I12)} {rd}, {rs1}, {r.randint(-2048, 2047)}"
    if k < 0.68:
        return f"{r.choice(SH6)} {rd}, {rs1}, {r.randint(0, 63)}"
    if k < 0.71:
        return f"{r.choice(SH5)} {rd}, {rs1}, {r.randint(0, 31)}"
    if k < 0.73:
        return f"lui {rd}, {r.randint(0, 0xfffff)}"
    if k < 0.78:
        op, size = r.choice(LOADS)
        return f"{op} {rd}, {r.randrange(0, 256, size)}(x27)"
    if k < 0.83:
        op, size = r.choice(STORES)
        return f"{op} {rs2}, {r.randrange(0, 256, size)}(x27)"
    fd, fs1, fs2, fs3 = (f"f{r.choice(FREGS)}" for _ in range(4))
    sfx = r.choice([".d", ".s"])
    if k < 0.90:
        op = r.choice(FD3)
        rm = f", {r.choice(RMS)}" if op in ("fadd", "fsub", "fmul", "fdiv") else ""
        return f"{op}{sfx} {fd}, {fs1}, {fs2}{rm}"
    if k < 0.93:
        return f"{r.choice(FD4)}{sfx} {fd}, {fs1}, {fs2}, {fs3}, {r.choice(RMS)}"
    if k < 0.95:
        return f"fsqrt{sfx} {fd}, {fs1}, {r.choice(RMS)}"
    if k < 0.97:
        return f"{r.choice(['feq', 'flt', 'fle'])}{sfx} {rd}, {fs1}, {fs2}"
    if k < 0.98:
        return f"fclass{sfx} {rd}, {fs1}"
    cv = r.choice(["fcvt.w", "fcvt.wu", "fcvt.l", "fcvt.lu"])
    return f"{cv}{sfx} {rd}, {fs1}, {r.choice(RMS[:5])}"


def program(seed):
    r = random.Random(seed)
    lines = [".section .text", ".globl run_blocks", "run_blocks:", "  addi sp, sp, -16", "  sd ra, 8(sp)"]
    for b in range(BLOCKS):
        lines.append(f"  la x27, scratch")
        for reg in REGS:
            lines.append(f"  li x{reg}, {rand64(r)}")
        for fr in FREGS:
            lines.append(f"  li x5, {r.choice(FP_BITS) if r.random() < 0.6 else r.getrandbits(64)}")
            lines.append(f"  fmv.d.x f{fr}, x5")
        lines.append(f"  csrwi frm, {r.randint(0, 4)}")
        lines.append("  csrwi fflags, 0")
        lines += ["  " + insn(r) for _ in range(INSNS)]
        lines.append("  call dump")
    lines += ["  ld ra, 8(sp)", "  addi sp, sp, 16", "  ret"]
    return "\n".join(lines) + "\n"


DUMP_S = r"""
# dump: store x1..x31 and f0..f31 and fcsr to `saved`, then print them.
  .section .text
  .globl dump
dump:
  la x27, saved + 8
  sd x1, 0(x27)
""" + "".join(f"  sd x{i}, {8 * (i - 1)}(x27)\n" for i in range(2, 27)) + \
    "".join(f"  sd x{i}, {8 * (i - 1)}(x27)\n" for i in range(28, 32)) + \
    "".join(f"  fsd f{i}, {8 * (31 + i)}(x27)\n" for i in range(32)) + r"""
  csrr t0, fcsr
  sd t0, 504(x27)
  ld t0, 32(x27)
  mv t1, sp
  la sp, dump_stack_top
  addi sp, sp, -16
  sd ra, 0(sp)
  sd t1, 8(sp)
  call print_saved
  ld ra, 0(sp)
  ld sp, 8(sp)
  la x27, saved + 8
  ld t0, 32(x27)
  ld t1, 40(x27)
  ret
  .section .bss
  .align 4
  .globl saved
saved: .space 8 + 8 * 64
  .globl scratch
scratch: .space 256
  .space 4096
dump_stack_top:
"""

MAIN_C = r"""
#include "htif.h"
extern unsigned long long saved[65];
extern unsigned char scratch[256];
void run_blocks(void);
static void hex(unsigned long long v) {
    char b[17];
    for (int i = 15; i >= 0; i--) { b[i] = "0123456789abcdef"[v & 15]; v >>= 4; }
    b[16] = 0;
    htif_puts(b);
}
void print_saved(void) {
    static int block;
    htif_puts("block "); hex(block++); htif_puts("\n");
    for (int i = 1; i < 64; i++) {
        if (i == 2 || i == 3 || i == 4 || i == 27) continue;   /* sp, gp, tp, base */
        htif_puts(i < 32 ? "x" : "f"); hex(i < 32 ? i : i - 32); htif_puts("="); hex(saved[i]); htif_puts("\n");
    }
    unsigned long long h = 1469598103934665603ull;
    for (int i = 0; i < 256; i++) h = (h ^ scratch[i]) * 1099511628211ull;
    htif_puts("mem="); hex(h); htif_puts("\n");
}
int main(void) {
    unsigned long long mstatus;
    __asm__ volatile("csrr %0, mstatus" : "=r"(mstatus));
    mstatus |= 1ull << 13;   /* FS = initial */
    __asm__ volatile("csrw mstatus, %0" :: "r"(mstatus));
    run_blocks();
    htif_puts("done\n");
    return 0;
}
"""


def main():
    gcc = shutil.which("riscv64-unknown-elf-gcc")
    ref = shutil.which("qemu-system-riscv64")
    if not gcc or not ref:
        print("SKIP: needs riscv64-unknown-elf-gcc and qemu-system-riscv64")
        sys.exit(77)
    os.makedirs(WORK, exist_ok=True)
    with open(os.path.join(WORK, "dump.S"), "w") as f:
        f.write(DUMP_S)
    with open(os.path.join(WORK, "main.c"), "w") as f:
        f.write(MAIN_C)
    failures = 0
    for n in range(PROGRAMS):
        seed = SEED * 1000 + n
        src = os.path.join(WORK, f"rand{seed}.S")
        elf = os.path.join(WORK, f"rand{seed}.elf")
        with open(src, "w") as f:
            f.write(program(seed))
        subprocess.run([gcc, "-ffreestanding", "-march=rv64gc_zba_zbb_zbc_zbs", "-mabi=lp64d", "-mcmodel=medany",
                        "-nostdlib", "-nostartfiles", "-O1", "-I", COMMON, "-T", os.path.join(COMMON, "spike.ld"),
                        "-o", elf, os.path.join(COMMON, "crt0.S"), os.path.join(COMMON, "htif_exit.c"),
                        os.path.join(WORK, "main.c"), os.path.join(WORK, "dump.S"), src], check=True)
        outs = []
        for emu in (TESSERA, ref):
            p = subprocess.run([emu, "-M", "spike", "-nographic", "-bios", "none", "-kernel", elf],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            outs.append(p.stdout.decode(errors="replace").replace("\r", ""))
        if "done" not in outs[1]:
            print(f"seed {seed}: the reference did not finish; skipping this program")
            continue
        if outs[0] != outs[1]:
            failures += 1
            a, b = outs[0].splitlines(), outs[1].splitlines()
            block = "?"
            for i, (x, y) in enumerate(zip(a + [""] * len(b), b + [""] * len(a))):
                if x.startswith("block "):
                    block = x
                if x != y:
                    print(f"seed {seed} {block}: tessera '{x}' != reference '{y}' (line {i + 1}; program {src})")
                    break
        else:
            print(f"seed {seed}: {BLOCKS} blocks x {INSNS} instructions identical")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
