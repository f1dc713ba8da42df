#!/usr/bin/env python3
"""libvirt as a real client of tessera: usage libvirt_test.py TESSERA BUILD_DIR.

Starts its own libvirtd (../shared/libvirt/setup.sh), defines the template domain
(../shared/libvirt/linux-domain.xml) with tessera as <emulator>, the Debian kernel, a test
initramfs (init-lifecycle.sh), a virtio disk and a file serial; starts, suspends and resumes it; the
guest writes its disk and waits for the power button; `virsh reboot` (system_powerdown, the guest
powers off, libvirt resets and continues it) boots it a second time; libvirtd is restarted and
reconnects to the running domain; `virsh shutdown` makes the guest power off; then checks
`virsh domstate --reason`, the disk content and boot counter, and `virsh domcapabilities
--emulatorbin`; finally starts it again and destroys it. Prints every virsh command with its output.
Exit 0 pass, 1 fail, 77 skip (meson's convention)."""
import hashlib, os, re, shutil, signal, subprocess, sys, tempfile, time, uuid

TESSERA, BUILD = os.path.abspath(sys.argv[1]), sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("TESSERA_LIBVIRT",
                        os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "shared", "libvirt"))
URI = "qemu:///system"
BOOT_TIMEOUT = 120  # the boot, disk write and poweroff take about 15 s
# libvirtd lives in sbin; setup.sh must find it there, or it would try to install it.
ENV = dict(os.environ, PATH=os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin")


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def log(*a):
    print(*a, flush=True)


def virsh(*args, check=True, quiet=False, timeout=60):
    """Runs one virsh command and records it in the transcript."""
    p = subprocess.run(["virsh", "-c", URI] + list(args), stdin=subprocess.DEVNULL, env=ENV,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode(errors="replace").strip()
    if not quiet:
        log("$ virsh " + " ".join(args))
        if out:
            log(out)
        log(f"(exit status {p.returncode})")
    if check and p.returncode != 0:
        raise Fail(f"virsh {args[0]} failed with status {p.returncode}: {out.splitlines()[-1:]}")
    return out


def domstate(name, quiet=True):
    return virsh("domstate", "--reason", name, quiet=quiet)


def wait_state(name, prefix, timeout):
    """Polls until `domstate --reason` starts with prefix; returns the last state seen."""
    deadline, state = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        state = domstate(name)
        if state.startswith(prefix):
            return state
        time.sleep(0.5)
    raise Fail(f"domain did not reach {prefix!r} within {timeout} s (last state: {state!r})")


def tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return f"({e})"


def start_libvirtd(state):
    """Starts libvirtd with setup.sh; returns its pid, or raises Skip when it cannot run here."""
    if not shutil.which("virsh", path=ENV["PATH"]):
        raise Skip("virsh is missing (install libvirt-clients)")
    if not shutil.which("libvirtd", path=ENV["PATH"]):
        raise Skip("libvirtd is missing (install libvirt-daemon libvirt-daemon-driver-qemu)")
    if os.geteuid() != 0:
        raise Skip("libvirtd's system instance needs root")
    setup = os.path.join(SHARED, "setup.sh")
    if not os.path.exists(setup):
        raise Skip(f"no {setup}")
    log(f"$ bash {setup} {state}")
    p = subprocess.run(["bash", setup, state], stdin=subprocess.DEVNULL, env=ENV, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode(errors="replace").strip()
    log(out)
    pid = int(out.splitlines()[-1]) if p.returncode == 0 and out.splitlines()[-1:] and \
        out.splitlines()[-1].isdigit() else None
    if pid is None:
        raise Skip(f"libvirtd could not be started (setup.sh status {p.returncode})")
    r = subprocess.run(["virsh", "-c", URI, "uri"], stdin=subprocess.DEVNULL, env=ENV, capture_output=True,
                       timeout=30)
    if r.returncode != 0:
        stop_libvirtd(pid)
        raise Skip("libvirtd does not answer: " + r.stderr.decode(errors="replace").strip())
    return pid


def stop_libvirtd(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(40):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.25)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def make_guest(out):
    r = subprocess.run(["bash", os.path.join(HERE, "make-guest.sh"), out, os.path.join(HERE, "init-lifecycle.sh")])
    if r.returncode == 77:
        raise Skip("guest images not available")
    if r.returncode != 0:
        raise Fail("could not prepare the guest")
    return os.path.join(out, "Image"), os.path.join(out, "initrd.cpio.gz")


def domain_xml(name, kernel, initrd, disk, serial):
    with open(os.path.join(SHARED, "linux-domain.xml")) as f:
        xml = f.read()
    xml = re.sub(r"<!--.*?-->\s*", "", xml, flags=re.S)  # the comment names the placeholders too
    xml = xml.replace("<name>tessera-linux</name>", f"<name>{name}</name>")
    for key, value in [("EMULATOR", TESSERA), ("KERNEL", kernel), ("INITRD", initrd), ("DISK", disk),
                       ("SERIAL", serial)]:
        if key not in xml:
            raise Fail(f"the template has no {key} placeholder")
        xml = xml.replace(key, value)
    return xml


def wait_serial(path, needle, timeout):
    """Polls the guest's serial log until it holds needle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if needle in f.read():
                    log(f"(serial: {needle})")
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise Fail(f"the guest's serial never showed {needle!r} within {timeout} s")


def test(tmp, name, state_dir, pid_box):
    kernel, initrd = make_guest(os.path.join(tmp, "guest"))
    disk, serial = os.path.join(tmp, "disk.raw"), os.path.join(tmp, "serial.log")
    with open(disk, "wb") as f:
        f.truncate(8 << 20)
    xml_path = os.path.join(tmp, "domain.xml")
    with open(xml_path, "w") as f:
        f.write(domain_xml(name, kernel, initrd, disk, serial))

    caps = virsh("domcapabilities", "--emulatorbin", TESSERA, "--arch", "riscv64", "--machine", "virt",
                 "--virttype", "qemu")
    if not re.search(r"<machine>virt(-[\d.]+)?</machine>", caps):
        raise Fail("domcapabilities does not list the virt machine")

    virsh("define", xml_path)
    virsh("start", name)
    wait_state(name, "running", 30)
    log(domstate(name))
    virsh("suspend", name)
    state = domstate(name, quiet=False)
    if not state.startswith("paused"):
        raise Fail(f"after suspend the domain is {state!r}, expected paused")
    time.sleep(1)
    virsh("resume", name)
    state = domstate(name, quiet=False)
    if not state.startswith("running") and not state.startswith("shut off"):
        raise Fail(f"after resume the domain is {state!r}, expected running")

    wait_serial(serial, "TESSERA-BOOT 1 waiting for the power button", BOOT_TIMEOUT)
    # reboot: system_powerdown, the guest powers off, libvirt resets and continues it.
    virsh("reboot", name)
    wait_serial(serial, "TESSERA-POWER-BUTTON boot 1", 60)
    wait_serial(serial, "TESSERA-BOOT 2 waiting for the power button", BOOT_TIMEOUT)
    state = domstate(name, quiet=False)
    if not state.startswith("running"):
        raise Fail(f"after the reboot the domain is {state!r}, expected running")

    # libvirtd goes away and comes back: it must find the domain and its monitor again.
    log("(restarting libvirtd)")
    pid_box[0] = start_libvirtd(state_dir)
    state = wait_state(name, "running", 30)
    log(domstate(name, quiet=False))
    virsh("suspend", name)
    state = domstate(name, quiet=False)
    if not state.startswith("paused"):
        raise Fail(f"after the reconnect, suspend left the domain {state!r}")
    virsh("resume", name)

    log(f"(virsh shutdown: waiting up to {BOOT_TIMEOUT} s for the guest to power off)")
    t0 = time.monotonic()
    virsh("shutdown", name)
    wait_state(name, "shut off", BOOT_TIMEOUT)
    log(f"(shut off after {time.monotonic() - t0:.1f} s)")
    state = domstate(name, quiet=False)
    if state != "shut off (shutdown)":
        raise Fail(f"domstate --reason says {state!r}, expected 'shut off (shutdown)'")
    wait_serial(serial, "TESSERA-POWER-BUTTON boot 2", 5)

    with open(serial, errors="replace") as f:
        console = f.read()
    log("--- guest serial (tail) ---\n" + console[-1500:] + "\n---")
    m = re.findall(r"TESSERA-DISK-WRITTEN ([0-9a-f]{64})", console)
    if len(m) != 2:
        raise Fail(f"the guest reported {len(m)} disk writes, expected one per boot (2)")
    with open(disk, "rb") as f:
        got = hashlib.sha256(f.read(1 << 20)).hexdigest()
        f.seek(2 << 20)
        count = f.read(16).split(b"\n")[0]
    log(f"disk sha256 of the first MiB: {got}; the guest wrote {m[-1]}; boot counter {count!r}")
    if got != m[-1]:
        raise Fail("the disk does not hold what the guest wrote")
    if count != b"2":
        raise Fail(f"the disk's boot counter is {count!r}, expected 2")

    # destroy: libvirt's SIGTERM (then SIGKILL) on a running domain.
    virsh("start", name)
    wait_state(name, "running", 30)
    virsh("destroy", name)
    state = domstate(name, quiet=False)
    if state != "shut off (destroyed)":
        raise Fail(f"after destroy domstate --reason says {state!r}, expected 'shut off (destroyed)'")


def main():
    name = f"tessera-lvtest-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = tempfile.mkdtemp(prefix="tessera-libvirt-", dir=BUILD if os.path.isdir(BUILD) else None)
    state = os.path.join(tmp, "libvirtd")
    pid, status = None, 1
    try:
        pid_box = [start_libvirtd(state)]
        pid = pid_box[0]
        log(f"(libvirtd pid {pid}, state in {state}, domain {name})")
        try:
            test(tmp, name, state, pid_box)
        finally:
            pid = pid_box[0]
        log("PASS")
        status = 0
    except Skip as e:
        log("SKIP: " + str(e))
        status = 77
    except (Fail, subprocess.TimeoutExpired) as e:
        log("FAIL: " + str(e))
        log("--- libvirtd.log (tail) ---\n" + tail(os.path.join(state, "libvirtd.log")))
        log(f"--- /var/log/libvirt/qemu/{name}.log (tail) ---\n" + tail(f"/var/log/libvirt/qemu/{name}.log"))
        log("--- guest serial (tail) ---\n" + tail(os.path.join(tmp, "serial.log")))
    finally:
        if pid is not None:
            for cmd in (["destroy", name], ["undefine", name]):
                try:
                    virsh(*cmd, check=False, quiet=True, timeout=30)
                except subprocess.TimeoutExpired:
                    pass
            stop_libvirtd(pid)
        try:
            os.unlink(f"/var/log/libvirt/qemu/{name}.log")
        except OSError:
            pass
        if status != 1:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"(kept {tmp} for inspection)")
    return status


if __name__ == "__main__":
    sys.exit(main())
