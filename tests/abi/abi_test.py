#!/usr/bin/env python3
"""ABI and SDK tests, one mode per meson test.

  abi_test.py abi10 TESSERA PROBE_DIR
      A plugin built against the frozen ABI 1.0 headers loads and runs.
  abi_test.py install BUILD_ROOT SOURCE_ROOT
      meson install into a temporary DESTDIR; build sdk/examples/crc-accel
      against that install only; it is listed by -device help through
      TESSERA_PLUGIN_PATH; a bare-metal guest drives it and prints PASS.
Exit 77 is meson's "skipped".
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(cmd, env=None, timeout=120, expect=0):
    print("+ " + " ".join(cmd))
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    if expect is not None and p.returncode != expect:
        print(p.stdout)
        fail("%s exited %d, expected %d" % (cmd[0], p.returncode, expect))
    return p.stdout


def plugin_env(dirs, index=None):
    """Only these plugin folders; a DESTDIR install's plugin index is not
    where the executable was built to look, so it is passed explicitly."""
    env = dict(os.environ)
    env.update(TESSERA_PLUGIN_PATH=":".join(dirs), TESSERA_PLUGIN_PATH_ONLY="1", TESSERA_PLUGIN_CACHE="off")
    if index:
        env["TESSERA_PLUGIN_INDEX"] = index
    return env


def abi10(tessera, probe_dir):
    tmp = tempfile.mkdtemp(prefix="tessera-abi10-")
    try:
        env = plugin_env([probe_dir])
        # The build tree's plugins come first (the executable runs from it).
        out = run([tessera, "-device", "help"], env=env)
        if 'name "abi10-probe"' not in out:
            fail("abi10-probe not listed:\n" + out)
        out = run([tessera, "-device", "abi10-probe,help"], env=env)
        if "magic=" not in out:
            fail("abi10-probe properties not listed:\n" + out)
        out = run([tessera, "-M", "virt,dumpdtb=" + os.path.join(tmp, "virt.dtb"), "-nographic",
                   "-device", "abi10-probe,magic=42"], env=env)
        if "abi10-probe: realized by a 1." not in out or "magic=42, type abi10-probe" not in out:
            fail("the ABI 1.0 plugin did not run:\n" + out)
        print(out.strip())
    finally:
        shutil.rmtree(tmp)


def build_guest(gcc, source_root, tmp):
    """The example's bare-metal test guest (sdk/examples/crc-accel/guest)."""
    gdir = os.path.join(source_root, "sdk/examples/crc-accel/guest")
    elf = os.path.join(tmp, "crc_test.elf")
    run([gcc, "-march=rv64imac_zicsr", "-mabi=lp64", "-mcmodel=medany", "-O2", "-ffreestanding", "-nostdlib",
         "-nostartfiles", "-Wl,--no-warn-rwx-segments", "-T", os.path.join(gdir, "link.ld"), "-o", elf,
         os.path.join(gdir, "start.S"), os.path.join(gdir, "crc_test.c")])
    return elf


def find_one(root, pattern):
    hits = glob.glob(os.path.join(root, "**", pattern), recursive=True)
    if len(hits) != 1:
        fail("expected one %s under %s, found %s" % (pattern, root, hits))
    return hits[0]


def install(build_root, source_root):
    if not shutil.which("pkg-config"):
        print("pkg-config not installed")
        sys.exit(SKIP)
    tmp = tempfile.mkdtemp(prefix="tessera-sdk-")
    try:
        dest = os.path.join(tmp, "dest")
        run(["meson", "install", "-C", build_root, "--no-rebuild", "--quiet", "--destdir", dest], timeout=120)
        pc = find_one(dest, "tessera-sdk.pc")
        tessera = find_one(dest, "bin/tessera")
        for h in ["tessera/abi.h", "tessera/host.h", "tessera/sdk/device.hpp", "tessera/sdk/regs.hpp"]:
            find_one(dest, h)
        readme = glob.glob(os.path.join(dest, "**", "doc", "tessera*", "README.md"), recursive=True)
        if not readme:
            fail("the SDK guide was not installed")

        # Only the temporary install is visible to pkg-config; the sysroot
        # maps the .pc's /usr/local paths into the DESTDIR.
        env = dict(os.environ)
        env.update(PKG_CONFIG_LIBDIR=os.path.dirname(pc), PKG_CONFIG_PATH="", PKG_CONFIG_SYSROOT_DIR=dest)
        plugindir = run(["pkg-config", "--variable=plugindir", "tessera-sdk"], env=env).strip()
        if not plugindir.endswith("/tessera/plugins"):
            fail("plugindir is " + plugindir)
        # pkgconf applies the sysroot to variables too; pkg-config does not.
        installed_plugins = plugindir if plugindir.startswith(dest) else dest + plugindir
        if not glob.glob(os.path.join(installed_plugins, "*.so")):
            fail("no plugins in the installed plugindir " + installed_plugins)

        ex_build = os.path.join(tmp, "crc-accel-build")
        run(["meson", "setup", ex_build, os.path.join(source_root, "sdk/examples/crc-accel")], env=env, timeout=120)
        run(["ninja", "-C", ex_build], env=env, timeout=180)
        so = os.path.join(ex_build, "crc-accel.so")
        if not os.path.exists(so):
            fail("the example did not build crc-accel.so")
        # It was compiled against the install, not the source tree.
        cmds = run(["ninja", "-C", ex_build, "-t", "commands"], env=env)
        if source_root + "/plugin-api" in cmds or source_root + "/sdk/include" in cmds:
            fail("the example build used the source tree's headers:\n" + cmds)

        penv = plugin_env([ex_build, installed_plugins])
        out = run([tessera, "-device", "help"], env=penv)
        if 'name "crc-accel", desc "CRC-32/CRC-32C accelerator' not in out:
            fail("crc-accel not listed by -device help:\n" + out)
        out = run([tessera, "-device", "crc-accel,help"], env=penv)
        if "addr=" not in out:
            fail("crc-accel properties not listed:\n" + out)
        out = run([tessera, "-M", "spike", "-nographic", "-device", "crc-accel"], env=penv, expect=1)
        if "No 'platform-bus' bus found" not in out:
            fail("crc-accel on a board without a platform bus:\n" + out)

        gcc = shutil.which("riscv64-unknown-elf-gcc")
        if not gcc:
            print("riscv64-unknown-elf-gcc not installed: guest part skipped")
            sys.exit(SKIP)
        elf = build_guest(gcc, source_root, tmp)
        out = run([tessera, "-M", "virt", "-bios", "none", "-nographic", "-kernel", elf,
                   "-device", "crc-accel,addr=0x4000000"], env=penv, timeout=60)
        if "PASS" not in out:
            fail("guest did not pass:\n" + out)
        print(out.strip())
        # An address outside the platform bus window is refused in one line.
        out = run([tessera, "-M", "virt", "-bios", "none", "-nographic", "-kernel", elf,
                   "-device", "crc-accel,addr=0x10000000"], env=penv, expect=1)
        if "outside the platform bus window" not in out or out.count("\n") != 1:
            fail("bad addr message:\n" + out)
    finally:
        shutil.rmtree(tmp)


# ---- Packaging ---------------------------------------------------------------

# Plugins the shipped boards instantiate: not optional (PACKAGING.md).
CORE = {"target-riscv.so", "board-riscv-virt.so", "device-riscv-intc.so", "device-serial.so", "device-misc.so",
        "block-file.so"}


def install_tree(build_root, source_root, tmp):
    """meson install into tmp/dest, the example built against it, the guest.
    Returns (tessera, installed plugin dir, example build dir, guest ELF)."""
    dest = os.path.join(tmp, "dest")
    run(["meson", "install", "-C", build_root, "--no-rebuild", "--quiet", "--destdir", dest], timeout=120)
    pc = find_one(dest, "tessera-sdk.pc")
    env = dict(os.environ)
    env.update(PKG_CONFIG_LIBDIR=os.path.dirname(pc), PKG_CONFIG_PATH="", PKG_CONFIG_SYSROOT_DIR=dest)
    plugindir = run(["pkg-config", "--variable=plugindir", "tessera-sdk"], env=env).strip()
    plugins = plugindir if plugindir.startswith(dest) else dest + plugindir
    ex_build = os.path.join(tmp, "crc-accel-build")
    run(["meson", "setup", ex_build, os.path.join(source_root, "sdk/examples/crc-accel")], env=env, timeout=120)
    run(["ninja", "-C", ex_build], env=env, timeout=180)
    elf = build_guest(shutil.which("riscv64-unknown-elf-gcc"), source_root, tmp)
    return find_one(dest, "bin/tessera"), plugins, ex_build, elf


def packaging(build_root, source_root):
    """Removing any optional plugin leaves every feature that does not need it
    working; a feature that needs it names the missing file."""
    if not (shutil.which("pkg-config") and shutil.which("riscv64-unknown-elf-gcc")):
        print("pkg-config or riscv64-unknown-elf-gcc not installed")
        sys.exit(SKIP)
    tmp = tempfile.mkdtemp(prefix="tessera-pkg-")
    try:
        tessera, installed, ex_build, elf = install_tree(build_root, source_root, tmp)
        shutil.copy(os.path.join(ex_build, "crc-accel.so"), installed)
        available = sorted(os.path.basename(p) for p in glob.glob(os.path.join(installed, "*.so")))
        dtb = os.path.join(tmp, "out.dtb")
        raw = os.path.join(tmp, "disk.raw")
        with open(raw, "wb") as f:
            f.truncate(1 << 20)
        # (name, arguments, plugin files it needs beyond the core, expected output)
        probes = [
            ("virt guest + crc-accel", ["-M", "virt", "-bios", "none", "-kernel", elf,
                                        "-device", "crc-accel,addr=0x4000000"], {"crc-accel.so"}, "PASS"),
            ("spike", ["-M", "spike,dumpdtb=" + dtb], {"board-riscv-spike.so"}, ""),
            ("default machine", ["-machine", "dumpdtb=" + dtb], {"board-riscv-spike.so"}, ""),
            ("virtio-rng", ["-M", "virt,dumpdtb=" + dtb, "-device", "virtio-rng-device"], {"device-virtio.so"}, ""),
            ("raw disk", ["-M", "virt,dumpdtb=" + dtb, "-drive", "file=%s,format=raw,if=none,id=d0" % raw,
                          "-device", "virtio-blk-device,drive=d0"], {"block-raw.so", "device-virtio.so"}, ""),
        ]
        if "block-qcow2.so" in available and shutil.which("qemu-img"):
            q = os.path.join(tmp, "disk.qcow2")
            run(["qemu-img", "create", "-q", "-f", "qcow2", q, "1M"])
            probes.append(("qcow2 disk", ["-M", "virt,dumpdtb=" + dtb, "-drive",
                                          "file=%s,format=qcow2,if=none,id=d1" % q,
                                          "-device", "virtio-blk-device,drive=d1"],
                           {"block-qcow2.so", "device-virtio.so"}, ""))
        if "device-pci.so" in available:
            probes.append(("virtio-rng-pci", ["-M", "virt,dumpdtb=" + dtb, "-device", "virtio-rng-pci"],
                           {"device-pci.so"}, ""))
        if "net-user.so" in available:
            probes.append(("user net", ["-M", "virt,dumpdtb=" + dtb, "-netdev", "user,id=n0",
                                        "-device", "virtio-net-device,netdev=n0"],
                           {"net-user.so", "device-virtio.so"}, ""))
        optional = [p for p in available if p not in CORE]
        print("optional plugins: " + " ".join(optional))
        for removed in [None] + optional:
            pdir = os.path.join(tmp, "plugins-" + (removed or "all"))
            shutil.copytree(installed, pdir)
            if removed:
                os.unlink(os.path.join(pdir, removed))
            env = plugin_env([pdir], find_one(os.path.join(tmp, "dest"), "share/tessera/plugin-index"))
            for name, args, needs, want in probes:
                p = subprocess.run([tessera, "-nographic"] + args, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, timeout=60)
                if removed in needs:
                    # Out-of-tree plugins are not in the build's index.
                    msg = ("no plugin provides this type" if removed == "crc-accel.so" else
                           "provided by plugin %s, which is not installed" % removed)
                    first = p.stdout.split("\n")[0]
                    if p.returncode != 1 or msg not in first or p.stdout.count("\n") > 2:
                        fail("without %s, %s: expected one line naming it, got %d:\n%s"
                             % (removed, name, p.returncode, p.stdout))
                elif p.returncode != 0 or want not in p.stdout:
                    fail("without %s, %s failed (%d):\n%s" % (removed or "nothing", name, p.returncode, p.stdout))
            print("without %s: every other feature works" % (removed or "nothing"))
            shutil.rmtree(pdir)
    finally:
        shutil.rmtree(tmp)


def upgrade(build_root, source_root):
    """A package upgrade replaces plugin files under a running VM: the VM
    keeps the plugins it loaded at startup (reset and device use still work)."""
    if not (shutil.which("pkg-config") and shutil.which("riscv64-unknown-elf-gcc")):
        print("pkg-config or riscv64-unknown-elf-gcc not installed")
        sys.exit(SKIP)
    import time
    tmp = tempfile.mkdtemp(prefix="tessera-upgrade-")
    proc = None
    try:
        tessera, installed, ex_build, elf = install_tree(build_root, source_root, tmp)
        serial = os.path.join(tmp, "serial.txt")
        proc = subprocess.Popen([tessera, "-M", "virt", "-bios", "none", "-kernel", elf, "-display", "none",
                                 "-device", "crc-accel,addr=0x4000000", "-no-shutdown",
                                 "-serial", "file:" + serial, "-monitor", "stdio"],
                                env=plugin_env([ex_build, installed]), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def wait_passes(n):
            deadline = time.time() + 60
            while time.time() < deadline:
                if os.path.exists(serial) and open(serial).read().count("PASS") >= n:
                    return
                if proc.poll() is not None:
                    fail("tessera exited: " + proc.stdout.read())
                time.sleep(0.1)
            fail("guest pass %d not seen: %r" % (n, open(serial).read() if os.path.exists(serial) else ""))

        wait_passes(1)
        # The upgrade: every plugin file replaced (new inode, as dpkg and rpm
        # do) by something that is not even a plugin.
        replaced = glob.glob(os.path.join(installed, "*.so")) + [os.path.join(ex_build, "crc-accel.so")]
        for path in replaced:
            with open(path + ".new", "wb") as f:
                f.write(b"upgraded: not loadable\n")
            os.rename(path + ".new", path)
        proc.stdin.write("system_reset\ncont\n")
        proc.stdin.flush()
        wait_passes(2)
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        out = proc.communicate(timeout=30)[0]
        if proc.returncode != 0:
            fail("tessera exited %d after the upgrade:\n%s" % (proc.returncode, out))
        print("%d plugin files replaced under the running VM; it reset and drove crc-accel again" % len(replaced))
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "abi10":
        abi10(sys.argv[2], sys.argv[3])
    elif mode == "install":
        install(sys.argv[2], sys.argv[3])
    elif mode == "packaging":
        packaging(sys.argv[2], sys.argv[3])
    elif mode == "upgrade":
        upgrade(sys.argv[2], sys.argv[3])
    else:
        fail("unknown mode " + mode)
    print("PASS")
