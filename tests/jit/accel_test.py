#!/usr/bin/env python3
"""The JIT's command-line controls on a small spike guest: -accel tcg (JIT),
tcg,jit=off (interpreter), one-insn-per-tb, tb-size, -perfmap, -jitdump,
-d out_asm/nochain, and
one-line errors for bad values. Usage: accel_test.py TESSERA HELLO_ELF TMPDIR"""
import os, subprocess, sys

TESSERA, ELF, TMP = sys.argv[1:4]
SPIKE = ["-M", "spike", "-nographic", "-bios", "none", "-kernel", ELF]
WANT = "fib(20) = 06765"


def run(args):
    print("$ tessera " + " ".join(args), flush=True)
    p = subprocess.run([TESSERA] + args, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    print(out[-2000:], flush=True)
    return out, p.returncode


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


os.makedirs(TMP, exist_ok=True)
for accel in ["tcg", "tcg,jit=on", "tcg,jit=off", "tcg,one-insn-per-tb=on,tb-size=1", "tcg,thread=single"]:
    out, st = run(["-accel", accel] + SPIKE)
    if st != 0 or WANT not in out:
        fail(f"-accel {accel}: guest output missing (status {st})")

# -perfmap: perf's JIT map names each translated block by its guest pc.
p = subprocess.Popen([TESSERA, "-perfmap"] + SPIKE, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
out = p.communicate(timeout=60)[0].decode(errors="replace")
mapf = f"/tmp/perf-{p.pid}.map"
lines = open(mapf).read().splitlines() if os.path.exists(mapf) else []
if os.path.exists(mapf):
    os.remove(mapf)
print(f"$ tessera -perfmap ...: {len(lines)} lines in {mapf}: {lines[:2]}", flush=True)
if p.returncode != 0 or WANT not in out:
    fail("-perfmap: guest output missing")
import re
if not lines or not all(re.fullmatch(r"[0-9a-f]+ [0-9a-f]+ riscv:0x[0-9a-f]+", l) for l in lines):
    fail("-perfmap: the map is missing or malformed")
if "riscv:0x80000000" not in {l.split()[2] for l in lines}:
    fail("-perfmap: the guest's entry block is not in the map")

# -jitdump: perf's jitdump file (header "JiTD", JIT_CODE_LOAD records named by guest pc).
import struct
env = dict(os.environ, TMPDIR=TMP)
p = subprocess.Popen([TESSERA, "-jitdump"] + SPIKE, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT, env=env)
out = p.communicate(timeout=60)[0].decode(errors="replace")
dumpf = os.path.join(TMP, f"jit-{p.pid}.dump")
data = open(dumpf, "rb").read() if os.path.exists(dumpf) else b""
if os.path.exists(dumpf):
    os.remove(dumpf)
if p.returncode != 0 or WANT not in out:
    fail("-jitdump: guest output missing")
if len(data) < 40 or struct.unpack_from("<IIIII", data) != (0x4A695444, 1, 40, 62, 0):
    fail(f"-jitdump: bad or missing header in {dumpf}")
names, at = [], 40
while at + 16 <= len(data):
    rid, size = struct.unpack_from("<II", data, at)
    if size < 16 or at + size > len(data):
        fail("-jitdump: truncated record")
    if rid == 0:
        names.append(data[at + 56:data.index(b"\0", at + 56)].decode())
    at += size
print(f"$ tessera -jitdump ...: {len(names)} code loads in {dumpf}: {names[:2]}", flush=True)
if "riscv:0x80000000" not in names:
    fail("-jitdump: the guest's entry block is not in the dump")

# -d out_asm shows host code for the JIT, nothing for the interpreter.
for accel, expect in [("tcg", True), ("tcg,jit=off", False)]:
    logf = os.path.join(TMP, "out_asm.log")
    if os.path.exists(logf):
        os.remove(logf)
    out, st = run(["-accel", accel, "-d", "out_asm,nochain", "-D", logf] + SPIKE)
    text = open(logf).read() if os.path.exists(logf) else ""
    if st != 0 or WANT not in out:
        fail(f"-accel {accel} -d out_asm: guest output missing")
    if ("OUT: [size=" in text) != expect:
        fail(f"-accel {accel}: out_asm log {'lacks' if expect else 'has'} host code")

for bad, needle in [("tcg,tb-size=lots", "tb-size"), ("tcg,jit=maybe", "jit"),
                    ("tcg,one-insn-per-tb=2", "one-insn-per-tb")]:
    out, st = run(["-accel", bad] + SPIKE)
    lines = [l for l in out.splitlines() if l.strip()]
    if st != 1 or len(lines) != 1 or needle not in lines[0]:
        fail(f"-accel {bad}: expected a one-line error naming {needle}")
print("PASS")
