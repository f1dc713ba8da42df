#!/usr/bin/env python3
"""JIT speed: CPU-bound bare-metal kernels (bench/guests/kernels.c: hash, sort,
interp, matmul; fmadd, nbody, mandel) on `-M spike` under tessera (JIT),
tessera (interpreter, -accel tcg,jit=off), qemu-system-riscv64, and built for
the host and run natively, side by side in one run. Prints the median wall
time of each and the ratios JIT/reference and JIT/native.

Environment: TESSERA_BUILD (build dir, default build), RUNS (default 3),
KERNELS (comma list), SCALE (work per kernel, default 192), XLEN (64, or 32:
rv32gc guests on `-cpu rv32` against qemu-system-riscv32)."""
import os, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("TESSERA_BUILD", os.path.join(ROOT, "build"))
TESSERA = os.path.join(BUILD, "kernel", "main", "tessera")
RUNS = int(os.environ.get("RUNS", "3"))
COMMON = os.path.join(ROOT, "tests", "guests", "common")
SRC = os.path.join(ROOT, "bench", "guests", "kernels.c")
KERNELS = os.environ.get("KERNELS", "hash,sort,interp,matmul,fmadd,nbody,mandel").split(",")
# Same floating-point semantics on both sides: no contraction into fused ops.
CFLAGS = ["-O2", "-fno-math-errno", "-ffp-contract=off"]
XLEN = os.environ.get("XLEN", "64")
if XLEN not in ("32", "64"):
    sys.exit("XLEN is 32 or 64")
ARCH = ["-march=rv64gc", "-mabi=lp64d"] if XLEN == "64" else ["-march=rv32gc", "-mabi=ilp32d"]


def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=600)
    dt = time.perf_counter() - t0
    out = p.stdout.decode(errors="replace")
    m = re.search(r"checksum (\w+)", out)
    if p.returncode != 0 or not m:
        sys.exit(f"{' '.join(cmd[:3])}... failed ({p.returncode}): {out[-300:]} {p.stderr.decode()[-300:]}")
    return dt, m.group(1)


def build(tmp, kernel):
    gcc = shutil.which("riscv64-unknown-elf-gcc")
    if not gcc:
        sys.exit("riscv64-unknown-elf-gcc is needed (scripts/install-deps)")
    scale = [f"-DSCALE={os.environ.get('SCALE', '192')}"]   # ~1 s per kernel under a JIT
    elf = os.path.join(tmp, f"{kernel}.elf")
    subprocess.run([gcc, "-ffreestanding", *ARCH, "-mcmodel=medany", "-nostdlib",
                    "-nostartfiles", *CFLAGS, *scale, f"-DKERNEL={kernel}", "-T", os.path.join(COMMON, "spike.ld"),
                    "-o", elf, os.path.join(COMMON, "crt0.S"), os.path.join(COMMON, "htif_exit.c"), SRC, "-lgcc"],
                   check=True)
    native = os.path.join(tmp, f"{kernel}.native")
    cc = shutil.which("cc") or shutil.which("gcc")
    subprocess.run([cc, *CFLAGS, *scale, "-DNATIVE", f"-DKERNEL={kernel}", "-o", native, SRC], check=True)
    return elf, native


def main():
    spike = ["-M", "spike", "-nographic", "-bios", "none", "-kernel"]
    cpu = ["-cpu", "rv32"] if XLEN == "32" else []
    emus = [("tessera jit", [TESSERA, "-accel", "tcg", *cpu] + spike),
            ("tessera interp", [TESSERA, "-accel", "tcg,jit=off", *cpu] + spike)]
    ref = shutil.which(f"qemu-system-riscv{XLEN}")
    if ref:
        emus.append(("reference", [ref] + spike))
    cols = [name for name, _ in emus] + ["native"]
    print(f"rv{XLEN}gc guests, median of {RUNS} runs, wall seconds (startup included)")
    # ref/nat: the reference's own distance from native; native/ref is the
    # least jit/ref any emulator could reach on that kernel.
    print(f"{'kernel':<8}" + "".join(f"{c:>16}" for c in cols) +
          f"{'jit/ref':>9}{'jit/nat':>9}{'jit/int':>9}{'ref/nat':>9}")
    geo = {"ref": [], "nat": [], "int": []}
    ref_nat = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in KERNELS:
            elf, native = build(tmp, k)
            times, sums = {}, set()
            for name, cmd in emus + [("native", None)]:
                ts = []
                for _ in range(RUNS):
                    t, s = timed([native] if cmd is None else cmd + [elf])
                    ts.append(t)
                    sums.add(s)
                times[name] = statistics.median(ts)
            jit = times["tessera jit"]
            r_ref = jit / times["reference"] if ref else float("nan")
            r_nat = jit / times["native"]
            r_int = jit / times["tessera interp"]
            r_rn = times["reference"] / times["native"] if ref else float("nan")
            ref_nat.append(r_rn)
            geo["ref"].append(r_ref)
            geo["nat"].append(r_nat)
            geo["int"].append(r_int)
            flag = "" if len(sums) == 1 else f"  CHECKSUMS DIFFER {sorted(sums)}"
            print(f"{k:<8}" + "".join(f"{times[c]:16.3f}" for c in cols) +
                  f"{r_ref:9.2f}{r_nat:9.2f}{r_int:9.2f}{r_rn:9.2f}{flag}")
    g = {k: statistics.geometric_mean(v) for k, v in geo.items() if all(x == x for x in v)}
    print("geometric mean: " + ", ".join(f"jit/{k} {v:.2f}x" for k, v in g.items()) +
          (f", ref/nat {statistics.geometric_mean(ref_nat):.2f}x" if ref else ""))


if __name__ == "__main__":
    main()
