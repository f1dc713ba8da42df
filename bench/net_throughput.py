#!/usr/bin/env python3
"""Network throughput: bulk TCP guest->host and host->guest through user
networking (virtio-net-pci on -netdev user), on tessera and on
qemu-system-riscv64 in the same run, with the Debian guest of the system
tests (its kernel, busybox and modules) and their /init for networking,
tests/system/init-net.sh, whose kernel-command-line steps pick the work.
Prints MiB/s per direction and the ratio.

Guest->host is measured twice:
 - "nc": the guest pipes MB MiB of zeros into busybox `nc` to a host socket;
   the rate is taken on the host from the first byte to the guest's EOF.
   busybox nc writes 1 KiB at a time and slirp acks each short segment at
   once, so this is one 1 KiB round trip per write: it measures how fast the
   guest runs nc's read/write loop more than the network.
 - "http": the host fetches an MB MiB file from busybox httpd in the guest
   (sendfile, so the guest's TCP sends full windows, TSO when offered)
   through hostfwd; the rate is from the request to the last byte.
Host->guest: the guest `wget`s MB MiB from a host HTTP server; the rate is
from the request to the guest saying it is done.

Environment: TESSERA_BUILD (build dir, default build), MB (default 32),
NIC (default virtio-net-pci)."""
import http.server, os, shutil, socket, subprocess, sys, tempfile, threading, time, urllib.request

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


def fetch_from_guest(port, done_port, result):
    """Fetches the guest's /blob through hostfwd, then tells the guest to go on."""
    t0 = time.perf_counter()
    n = 0
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/blob", timeout=600) as r:
        while True:
            b = r.read(1 << 16)
            if not b:
                break
            n += len(b)
    result["http"] = (n, time.perf_counter() - t0)
    socket.create_connection(("127.0.0.1", done_port), timeout=60).close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_guest(emu, image, initrd, append, fwd, done_fwd, timeout=1800):
    """Boots the guest; returns ({marker: time seen}, {"http": (bytes, seconds)})."""
    netdev = f"user,id=n0,hostfwd=tcp:127.0.0.1:{fwd}-:80,hostfwd=tcp:127.0.0.1:{done_fwd}-:81"
    args = [emu, "-M", "virt", "-m", "512M", "-nographic", "-kernel", image, "-initrd", initrd,
            "-append", "console=ttyS0 quiet " + append, "-netdev", netdev, "-device", f"{NIC},netdev=n0"]
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen, tail, result = {}, [], {}
    end = time.time() + timeout
    for raw in p.stdout:
        line = raw.decode(errors="replace").strip()
        tail = (tail + [line])[-20:]
        for m in ("SERVING", "HTTP DONE", "TX DONE", "RX DONE", "RX FAIL", "NET DONE"):
            if line.startswith(m):
                seen[m] = time.perf_counter()
        if line.startswith("SERVING"):
            threading.Thread(target=fetch_from_guest, args=(fwd, done_fwd, result), daemon=True).start()
        if "NET DONE" in seen or time.time() > end:
            break
    p.terminate()
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
    if "NET DONE" not in seen:
        sys.exit(f"{emu}: the guest did not finish:\n" + "\n".join(tail))
    return seen, result


def measure(name, emu, image, initrd):
    sink = Sink()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Source)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Source.started = None
    # init-net.sh steps: httpd serves an MB MiB blob until the host fetched it
    # (and connects to :81), then nc to the sink, then wget from the source.
    seen, result = run_guest(emu, image, initrd,
                             f"net.blob={MB * 1024} net.serve=80 net.hold=81 net.tx={sink.port}:{MB} "
                             f"net.rx=http://10.0.2.2:{httpd.server_address[1]}/blob",
                             free_port(), free_port())
    httpd.shutdown()
    if sink.t1 is None or sink.bytes != MB << 20 or "RX DONE" not in seen or result.get("http", (0,))[0] != MB << 20:
        sys.exit(f"{name}: transfer incomplete (nc sent {sink.bytes} bytes, http {result}, {seen})")
    tx = sink.bytes / (1 << 20) / (sink.t1 - sink.t0)
    txh = MB / result["http"][1]
    rx = MB / (seen["RX DONE"] - Source.started)
    print(f"{name:24s} guest->host nc {tx:7.2f}  http {txh:7.2f} MiB/s   host->guest {rx:7.2f} MiB/s", flush=True)
    return tx, txh, rx


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
        print(f"{'ratio tessera/reference':24s} guest->host nc {t[0] / q[0]:6.2f}x  http {t[1] / q[1]:6.2f}x        "
              f"host->guest {t[2] / q[2]:6.2f}x")


if __name__ == "__main__":
    main()
