#!/usr/bin/env python3
"""Network throughput: bulk TCP guest->host and host->guest through user
networking (virtio-net-pci on -netdev user), on tessera and on
qemu-system-riscv64 in the same run, with the Debian guest of the system
tests (tests/system/init-net.sh). Prints MiB/s per direction and the ratio.

Guest->host: the guest pipes MB MiB of zeros into `nc` to a host socket; the
rate is taken on the host from the first byte to the guest's EOF.
Host->guest: the guest `wget`s MB MiB from a host HTTP server; the rate is
from the request to the guest saying it is done.

Environment: TESSERA_BUILD (build dir, default build), MB (default 32),
NIC (default virtio-net-pci)."""
import http.server, os, re, shutil, socket, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("TESSERA_BUILD", os.path.join(ROOT, "build"))
TESSERA = os.path.join(BUILD, "kernel", "main", "tessera")
MB = int(os.environ.get("MB", "32"))
NIC = os.environ.get("NIC", "virtio-net-pci")
SYSTEM = os.path.join(ROOT, "tests", "system")


class Sink:
    """Counts bytes the guest sends; records first byte and EOF times."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.bytes, self.t0, self.t1 = 0, None, None
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        c, _ = self.sock.accept()
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            if self.t0 is None:
                self.t0 = time.perf_counter()
            self.bytes += len(b)
        self.t1 = time.perf_counter()
        c.close()


class Source(http.server.BaseHTTPRequestHandler):
    started = None
    chunk = b"\0" * (1 << 16)

    def do_GET(self):
        Source.started = time.perf_counter()
        self.send_response(200)
        self.send_header("Content-Length", str(MB << 20))
        self.end_headers()
        for _ in range(MB * 16):
            self.wfile.write(Source.chunk)

    def log_message(self, *a):
        pass


def run_guest(emu, image, initrd, append, timeout=1800):
    """Boots the guest and returns {marker: time seen} for TX/RX DONE lines."""
    args = [emu, "-M", "virt", "-m", "512M", "-nographic", "-kernel", image, "-initrd", initrd,
            "-append", "console=ttyS0 quiet " + append, "-netdev", "user,id=n0", "-device", f"{NIC},netdev=n0"]
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen, tail = {}, []
    end = time.time() + timeout
    for raw in p.stdout:
        line = raw.decode(errors="replace").strip()
        tail = (tail + [line])[-20:]
        for m in ("NET UP", "TX DONE", "RX DONE", "RX FAIL", "NET DONE"):
            if line.startswith(m):
                seen[m] = time.perf_counter()
        if "NET DONE" in seen or time.time() > end:
            break
    p.terminate()
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
    if "NET DONE" not in seen:
        sys.exit(f"{emu}: the guest did not finish:\n" + "\n".join(tail))
    return seen


def measure(name, emu, image, initrd):
    sink = Sink()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Source)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Source.started = None
    seen = run_guest(emu, image, initrd,
                     f"net.tx={sink.port}:{MB} net.rx=http://10.0.2.2:{httpd.server_address[1]}/blob")
    httpd.shutdown()
    if sink.t1 is None or sink.bytes != MB << 20 or "RX DONE" not in seen:
        sys.exit(f"{name}: transfer incomplete (sent {sink.bytes} bytes, {seen})")
    tx = sink.bytes / (1 << 20) / (sink.t1 - sink.t0)
    rx = MB / (seen["RX DONE"] - Source.started)
    print(f"{name:28s} guest->host {tx:8.2f} MiB/s   host->guest {rx:8.2f} MiB/s", flush=True)
    return tx, rx


def main():
    if not os.path.exists(TESSERA):
        sys.exit(f"no tessera at {TESSERA} (set TESSERA_BUILD)")
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["bash", os.path.join(SYSTEM, "make-guest.sh"), tmp, os.path.join(SYSTEM, "init-net.sh")])
        if r.returncode != 0:
            sys.exit("the Debian guest is not available (see tests/system/make-guest.sh)")
        image, initrd = os.path.join(tmp, "Image"), os.path.join(tmp, "initrd.cpio.gz")
        print(f"bulk TCP through -netdev user, {NIC}, {MB} MiB each way")
        t = measure("tessera", TESSERA, image, initrd)
        qemu = shutil.which("qemu-system-riscv64")
        if not qemu:
            print("qemu-system-riscv64 not installed: no comparison")
            return
        q = measure("qemu-system-riscv64", qemu, image, initrd)
        print(f"{'ratio tessera/reference':28s} guest->host {t[0] / q[0]:8.2f}x        host->guest {t[1] / q[1]:8.2f}x")


if __name__ == "__main__":
    main()
