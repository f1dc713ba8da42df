#!/usr/bin/env python3
"""Crash safety of qcow2: a bare-metal guest (blk-guest/writer.c) writes
4 KiB blocks to a qcow2 disk and reports every completed flush on the UART;
tessera is killed with SIGKILL at random moments, many times over the same
image. After every kill `qemu-img check` must find no corruption (leaked
clusters are allowed) and every block the guest saw flushed must hold that
write or a later one of the same run, whole.

usage: block_crash_test.py TESSERA BUILD_DIR WRITER_ELF [ROUNDS]"""
import os
import random
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time

TESSERA, BUILD, ELF = sys.argv[1], sys.argv[2], sys.argv[3]
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 12
NBLOCKS = 4096
MASK64 = (1 << 64) - 1


def log(*a):
    print("[block-crash]", *a, flush=True)


def fail(msg):
    log("FAIL:", msg)
    sys.exit(1)


def block_of(run, n):
    return (((n * 2654435761 + run) & MASK64) >> 16) % NBLOCKS


def one_round(disk, rng, cluster_note):
    args = [TESSERA, "-M", "virt", "-nographic", "-bios", "none", "-kernel", ELF, "-m", "64M",
            "-drive", "file=%s,if=none,id=d0,format=qcow2" % disk, "-device", "virtio-blk-device,drive=d0"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    out = b""
    started = None
    deadline = time.time() + 30
    kill_after = rng.uniform(0.2, 2.5)
    while time.time() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.05)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
        if started is None and b"\nF " in b"\n" + out:
            started = time.time()
        if started is not None and time.time() - started > kill_after:
            break
    p.send_signal(signal.SIGKILL)
    rest, err = p.communicate()
    out += rest
    text = out.decode(errors="replace")
    run, flushed = None, 0
    # Only whole lines count: the kill can cut the last one anywhere (a cut
    # "F 0" would otherwise read as zero writes flushed).
    for line in text.split("\n")[:-1]:
        if line.startswith("R ") and len(line) == 18:
            run = int(line[2:], 16)
        elif line.startswith("F ") and len(line) == 18:
            flushed = int(line[2:], 16)
    if run is None or flushed == 0:
        fail("guest did not start writing (%s): %r ... %r %s" % (cluster_note, text[:200], text[-100:], err.decode()[-500:]))
    return run, flushed


def check_image(disk):
    r = subprocess.run(["qemu-img", "check", "-f", "qcow2", disk], capture_output=True, text=True)
    if r.returncode not in (0, 3):  # 3: leaked clusters only
        fail("qemu-img check found corruption:\n" + r.stdout + r.stderr)
    return r.returncode


def verify(disk, raw, run, flushed):
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", disk, raw], check=True)
    latest = {}
    for n in range(1, flushed + 1):
        latest[block_of(run, n)] = n
    with open(raw, "rb") as f:
        for b, n_min in latest.items():
            f.seek(b * 4096)
            data = f.read(4096)
            for s in range(8):
                sec = data[s * 512:(s + 1) * 512]
                r0, n, idx = struct.unpack_from("<QQQ", sec)
                if r0 != run or n < n_min or idx != b * 8 + s or block_of(run, n) != b:
                    fail("block %d sector %d: want run %x write >= %d, found run %x write %d index %d"
                         % (b, s, run, n_min, r0, n, idx))
                want = b"".join(struct.pack("<Q", (run ^ ((n * 0x9e3779b97f4a7c15) & MASK64) ^ i) & MASK64)
                                for i in range(3, 64))
                if sec[24:] != want:
                    fail("block %d sector %d: torn or stale filler" % (b, s))
    return len(latest)


def main():
    if not os.path.exists(ELF):
        print("SKIP: riscv64-unknown-elf-gcc not available")
        sys.exit(77)
    rng = random.Random(int(os.environ.get("CRASH_SEED", time.time())))
    with tempfile.TemporaryDirectory(dir=BUILD) as d:
        for cluster in ("65536", "4096"):
            disk, raw = os.path.join(d, "disk.qcow2"), os.path.join(d, "disk.raw")
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=" + cluster, disk, "64M"],
                           check=True)
            leaks = 0
            for i in range(ROUNDS // 2):
                run, flushed = one_round(disk, rng, "cluster_size=" + cluster)
                leaks += check_image(disk) == 3
                blocks = verify(disk, raw, run, flushed)
                log("cluster %s round %d: run %x, %d writes flushed, %d blocks verified" %
                    (cluster, i, run, flushed, blocks))
            log("cluster %s: %d of %d rounds left leaked clusters (allowed)" % (cluster, leaks, ROUNDS // 2))
    log("PASS")


main()
