#!/usr/bin/env python3
"""Interpreter speed: one CPU-bound bare-metal guest (bench/guests/cpu_bound.c)
on `tessera -M spike` and on `qemu-system-riscv64 -M spike` in the same run.
Prints wall times, the ratio, and tessera's guest MIPS (retired instructions
per second, from minstret)."""
import os, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("TESSERA_BUILD", os.path.join(ROOT, "build"))
TESSERA = os.path.join(BUILD, "kernel", "main", "tessera")
RUNS = int(os.environ.get("RUNS", "3"))
COMMON = os.path.join(ROOT, "tests", "guests", "common")


def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
    dt = time.perf_counter() - t0
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0 or "instret" not in out:
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {out[-500:]}")
    return dt, out


def main():
    gcc = shutil.which("riscv64-unknown-elf-gcc")
    if not gcc:
        sys.exit("riscv64-unknown-elf-gcc is needed (scripts/install-deps)")
    with tempfile.TemporaryDirectory() as tmp:
        elf = os.path.join(tmp, "cpu_bound.elf")
        subprocess.run([gcc, "-ffreestanding", "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-nostdlib",
                        "-nostartfiles", "-O2", "-T", os.path.join(COMMON, "spike.ld"), "-o", elf,
                        os.path.join(COMMON, "crt0.S"), os.path.join(COMMON, "htif_exit.c"),
                        os.path.join(ROOT, "bench", "guests", "cpu_bound.c")], check=True)
        args = ["-M", "spike", "-nographic", "-bios", "none", "-kernel", elf]
        results = {}
        # -accel tcg,jit=off: the interpreter (the JIT is the default; bench/cpu_jit.py).
        emus = [("tessera (interpreter)", [TESSERA, "-accel", "tcg,jit=off"])]
        if shutil.which("qemu-system-riscv64"):
            emus.append(("qemu-system-riscv64", [shutil.which("qemu-system-riscv64")]))
        for name, emu in emus:
            times, out = [], ""
            for _ in range(RUNS):
                t, out = run(emu + args)
                times.append(t)
            results[name] = (statistics.median(times), out)
        checks = {re.search(r"checksum (\w+)", o).group(1) for _, o in results.values()}
        # The reference's minstret counts host cycles unless -icount: take tessera's exact count.
        instret = int(re.search(r"instret (\w+)", results["tessera (interpreter)"][1]).group(1), 16)
        print(f"cpu_bound.c on spike, median of {RUNS} runs, {instret / 1e6:.1f} M guest instructions")
        for name, (t, _) in results.items():
            print(f"{name:<26} {t:8.3f} s   {instret / t / 1e6:8.1f} MIPS")
        if len(results) == 2:
            (t1, _), (t2, _) = results.values()
            print(f"ratio tessera/reference: {t1 / t2:.2f}x wall time")
        print("checksums " + ("agree" if len(checks) == 1 else f"DIFFER: {checks}"))


if __name__ == "__main__":
    main()
