#!/usr/bin/env python3
"""Startup benchmark: time and peak memory from process start to an empty
machine ready and back out (`echo quit | EMU -M none -display none -monitor
stdio`), tessera with 50 extra plugins installed against the reference, in
one run. Prints each median and the ratios."""
import os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("TESSERA_BUILD", os.path.join(ROOT, "build"))
TESSERA = os.path.join(BUILD, "kernel", "main", "tessera")
REFERENCE = shutil.which("qemu-system-riscv64")
RUNS = int(os.environ.get("RUNS", "20"))
PLUGIN_SRC = os.path.join(ROOT, "tests", "plugins", "abi-refusal", "abi_plugin.c")


def make_plugins(folder, n):
    for i in range(n):
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-fvisibility=hidden",
                        "-I", os.path.join(ROOT, "plugin-api", "include"),
                        "-DTEST_ABI_MAJOR=1", "-DTEST_ABI_MINOR=0",
                        f'-DTEST_TYPE="bench-dev-{i}"', f'-DTEST_VARIANT="bench-{i}"',
                        "-o", os.path.join(folder, f"bench-{i}.so"), PLUGIN_SRC], check=True)


MEASURE = None  # bench/measure.c, compiled at start


def measure(cmd, env):
    """Wall time (s) and peak RSS (KiB) of one run that reads 'quit'."""
    out = subprocess.run([MEASURE] + cmd, env=env, capture_output=True, text=True, check=True).stdout.split()
    ns, rss, status = int(out[0]), int(out[1]), int(out[2])
    if status != 0:
        sys.exit(f"{cmd[0]} exited with {status}")
    return ns / 1e9, rss


def bench(name, cmd, env):
    measure(cmd, env)  # warm caches (and tessera's manifest cache)
    times, rss = [], []
    for _ in range(RUNS):
        t, m = measure(cmd, env)
        times.append(t)
        rss.append(m)
    t, m = statistics.median(times), max(rss)
    print(f"{name:<34} {t * 1000:8.2f} ms  {m / 1024:7.2f} MiB")
    return t, m


def main():
    if not os.path.exists(TESSERA):
        sys.exit(f"build tessera first ({TESSERA} missing)")
    args = ["-M", "none", "-display", "none", "-monitor", "stdio"]
    global MEASURE
    with tempfile.TemporaryDirectory() as tmp:
        MEASURE = os.path.join(tmp, "measure")
        subprocess.run(["cc", "-O2", "-o", MEASURE, os.path.join(ROOT, "bench", "measure.c")], check=True)
        plugdir = os.path.join(tmp, "plugins")
        os.mkdir(plugdir)
        make_plugins(plugdir, 50)
        env = dict(os.environ, TESSERA_PLUGIN_PATH=plugdir,
                   TESSERA_PLUGIN_CACHE=os.path.join(tmp, "cache"))
        print(f"median of {RUNS} runs of: echo quit | EMU {' '.join(args)}")
        t, m = bench("tessera (+50 plugins)", [TESSERA] + args, env)
        if REFERENCE:
            rt, rm = bench("qemu-system-riscv64", [REFERENCE] + args, dict(os.environ))
            print(f"ratio tessera/reference: time {t / rt:.2f}x, peak memory {m / rm:.2f}x")
        else:
            print("qemu-system-riscv64 not installed: no reference run")
        print(f"targets: < 10 ms ({'met' if t < 0.010 else 'NOT met'}), "
              f"< 15 MiB ({'met' if m / 1024 < 15 else 'NOT met'})")


if __name__ == "__main__":
    main()
