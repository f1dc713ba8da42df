#!/usr/bin/env python3
"""Block I/O from the guest: sequential and random 4 KiB reads and writes
(one request in flight, writes flushed at the end of each phase) through
virtio-blk, for a raw and a qcow2 image, on tessera and on
qemu-system-riscv64 in the same run. The guest (block_guest.c, bare metal on
-M virt) marks each phase on the UART and the host times it by the wall
clock; prints MiB/s per phase and the tessera/reference ratio (above 1:
tessera is faster).

Environment: TESSERA_BUILD (build dir, default build), COUNT (requests per
phase, default 4096 = 16 MiB), CACHE (-drive cache=, default writeback)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("TESSERA_BUILD", os.path.join(ROOT, "build"))
TESSERA = os.path.join(BUILD, "kernel", "main", "tessera")
COUNT = int(os.environ.get("COUNT", "4096"))
CACHE = os.environ.get("CACHE", "writeback")
PHASES = ["seq-write", "rand-write", "seq-read", "rand-read"]


def build_guest(tmp):
    gcc = shutil.which("riscv64-unknown-elf-gcc")
    if not gcc:
        sys.exit("riscv64-unknown-elf-gcc is needed to build the guest")
    elf = os.path.join(tmp, "block_guest.elf")
    subprocess.run([gcc, "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-ffreestanding", "-nostdlib",
                    "-nostartfiles", "-O2", "-DCOUNT=%d" % COUNT, "-I", os.path.join(ROOT, "tests", "guests", "virt"),
                    "-Wl,-Ttext=0x80000000",
                    "-Wl,--no-warn-rwx-segments", "-o", elf, os.path.join(ROOT, "bench", "block_guest.c")],
                   check=True)
    return elf


def run(emu, elf, disk, fmt):
    args = [emu, "-M", "virt", "-m", "128M", "-nographic", "-bios", "none", "-kernel", elf,
            "-drive", "file=%s,format=%s,if=none,id=d0,cache=%s" % (disk, fmt, CACHE),
            "-device", "virtio-blk-device,drive=d0"]
    # Wall time on the host between the guest's BEGIN and PHASE lines: a
    # guest clock need not follow the host's.
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    rates, begun, out = {}, {}, ""
    for raw in p.stdout:
        t = time.perf_counter()
        line = raw.decode(errors="replace").strip()
        out += line + "\n"
        m = re.match(r"BEGIN (\S+)", line)
        if m:
            begun[m.group(1)] = t
        m = re.match(r"PHASE (\S+) (\d+) (\d+)", line)
        if m and m.group(1) in begun:
            rates[m.group(1)] = int(m.group(3)) * 4096 / (1 << 20) / (t - begun[m.group(1)])
        if line == "DONE":
            break
    p.kill()
    err = p.communicate()[1].decode(errors="replace")
    if "DONE" not in out:
        sys.exit("%s did not finish:\n%s\n%s" % (emu, out[-2000:], err[-2000:]))
    return rates


def main():
    if not os.path.exists(TESSERA):
        sys.exit("build tessera first (TESSERA_BUILD=%s)" % BUILD)
    with tempfile.TemporaryDirectory() as tmp:
        elf = build_guest(tmp)
        print("%-6s %-11s %12s %12s %7s" % ("format", "phase", "tessera", "reference", "ratio"))
        for fmt in ("raw", "qcow2"):
            res = {}
            for name, emu in (("tessera", TESSERA), ("reference", "qemu-system-riscv64")):
                disk = os.path.join(tmp, "disk." + fmt)
                subprocess.run(["qemu-img", "create", "-q", "-f", fmt, disk, "128M"], check=True)
                res[name] = run(emu, elf, disk, fmt)
                os.unlink(disk)
            for ph in PHASES:
                t, r = res["tessera"].get(ph, 0), res["reference"].get(ph, 0)
                print("%-6s %-11s %9.1f MiB/s %9.1f MiB/s %6.2fx" % (fmt, ph, t, r, t / r if r else 0))


main()
