#!/usr/bin/env python3
"""Linux boot: wall time from start to the /init marker and to poweroff, and
the peak resident memory of the emulator process (guest RAM it touched, its
translated code and everything else), the Debian riscv64 kernel on `-M virt`
with a busybox initramfs, tessera and the reference side by side in one run."""
import os, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("TESSERA_BUILD", os.path.join(ROOT, "build"))
TESSERA = os.path.join(BUILD, "kernel", "main", "tessera")
RUNS = int(os.environ.get("RUNS", "3"))
SMP = os.environ.get("SMP", "1")
MARKER = b"TESSERA-INIT-OK"


def boot(emu, image, initrd):
    cmd = [emu, "-M", "virt", "-m", "512M", "-smp", SMP, "-nographic", "-kernel", image, "-initrd", initrd,
           "-append", "console=ttyS0 quiet"]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buf, t_init = b"", None
    while True:
        chunk = p.stdout.read1(65536)
        if not chunk:
            break
        buf += chunk
        if t_init is None and MARKER in buf:
            t_init = time.perf_counter() - t0
    # wait4 gives this child's own peak RSS (KiB).
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    t_off = time.perf_counter() - t0
    if t_init is None or p.returncode != 0:
        sys.exit(f"{emu}: boot failed (status {p.returncode}): {buf[-800:].decode(errors='replace')}")
    return t_init, t_off, usage.ru_maxrss / 1024


def main():
    guest = os.path.join(BUILD, "bench-guest")
    r = subprocess.run(["bash", os.path.join(ROOT, "tests", "system", "make-guest.sh"), guest,
                        os.path.join(ROOT, "tests", "system", "init-basic.sh")])
    if r.returncode != 0:
        sys.exit("no guest images (see ../shared/guests or scripts/fetch-guest)")
    image, initrd = os.path.join(guest, "Image"), os.path.join(guest, "initrd.cpio.gz")
    emus = [("tessera", TESSERA)]
    if shutil.which("qemu-system-riscv64"):
        emus.append(("qemu-system-riscv64", shutil.which("qemu-system-riscv64")))
    print(f"Debian riscv64 kernel on -M virt -smp {SMP}, median of {RUNS} boots")
    res = {}
    for name, emu in emus:
        runs = [boot(emu, image, initrd) for _ in range(RUNS)]
        res[name] = tuple(statistics.median(r[i] for r in runs) for i in range(3))
        print(f"{name:<22} /init marker {res[name][0]:7.2f} s   poweroff {res[name][1]:7.2f} s"
              f"   peak RSS {res[name][2]:7.1f} MiB")
    if len(res) == 2:
        (a0, a1, a2), (b0, b1, b2) = res.values()
        print(f"ratio tessera/reference: /init {a0 / b0:.2f}x, poweroff {a1 / b1:.2f}x, peak RSS {a2 / b2:.2f}x")


if __name__ == "__main__":
    main()
