#!/usr/bin/env python3
"""Network system tests: the Debian guest with virtio-net-pci on user
networking (DHCP, HTTP from the host's loopback, hostfwd into the guest,
filter-dump pcap, the PCI functions it enumerates) and two guests with
virtio-net-device (mmio) on a stream netdev. Usage: net_test.py TESSERA BUILD_DIR CASE
Exit 0 pass, 1 fail, 77 skip (meson's convention)."""
import hashlib, http.server, os, shutil, socket, subprocess, sys, tempfile, threading, time, urllib.request

from harness import Vm, fail, free_port, log, make_guest, skip

TESSERA, BUILD, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_DIR = os.path.join(BUILD, "guest-net")


def guest():
    return make_guest(GUEST_DIR, "init-net.sh")


def base_args(image, initrd, append):
    return ["-M", "virt", "-m", "512M", "-nographic", "-kernel", image, "-initrd", initrd,
            "-append", "console=ttyS0 quiet " + append]


def case_user():
    """virtio-net-pci on user networking: DHCP, HTTP from the host's loopback
    (sha256), the guest's PCI functions, hostfwd into the guest (a page, and
    a 2 MiB random file checked by sha256), pcap."""
    image, initrd = guest()
    with tempfile.TemporaryDirectory() as tmp:
        blob = os.urandom(256 * 1024)
        with open(os.path.join(tmp, "blob"), "wb") as f:
            f.write(blob)
        handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=tmp, **k)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        port, fwd = httpd.server_address[1], free_port()
        pcap = os.path.join(tmp, "dump.pcap")
        vm = Vm(TESSERA, "guest", base_args(image, initrd, f"net.wget=http://10.0.2.2:{port}/blob net.blob=2048 net.serve=80 net.wait=300") +
                ["-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{fwd}-:80", "-device", "virtio-net-pci,netdev=n0",
                 "-device", "virtio-rng-pci,addr=5", "-object", f"filter-dump,id=f0,netdev=n0,file={pcap}"])
        try:
            up = vm.wait_for("NET UP")
            if "10.0.2.15" not in up:
                fail(f"the guest did not get 10.0.2.15 by DHCP: {up!r}")
            got = vm.wait_for("SHA256").split()[1]
            want = hashlib.sha256(blob).hexdigest()
            if got != want:
                fail(f"guest sha256 {got} != {want}")
            # The PCI functions the guest enumerated, and their drivers.
            for want in ("0000:00:00.0 0x060000 0x1b36:0x0008", "0000:00:01.0 0x020000 0x1af4:0x1041 driver=virtio-pci",
                         "0000:00:05.0 0x00ff00 0x1af4:0x1044 driver=virtio-pci"):
                if not vm.wait_for("PCI " + want[:12]).startswith("PCI " + want):
                    fail(f"PCI function {want[:12]} is not {want!r}")
            vm.wait_for("SERVING")
            body = urllib.request.urlopen(f"http://127.0.0.1:{fwd}/index.html", timeout=60).read()
            if b"tessera-guest-ok" not in body:
                fail(f"hostfwd: unexpected answer {body!r}")
            log("hostfwd: the host fetched the guest's page")
            want = vm.wait_for("BLOB").split()[1]
            data = urllib.request.urlopen(f"http://127.0.0.1:{fwd}/blob", timeout=120).read()
            if hashlib.sha256(data).hexdigest() != want or len(data) != 2 << 20:
                fail(f"hostfwd: the guest's 2 MiB file arrived as {len(data)} bytes with another sha256")
            log("hostfwd: the guest's 2 MiB file arrived intact")
        finally:
            vm.stop()
            httpd.shutdown()
        if shutil.which("tshark"):
            r = subprocess.run(["tshark", "-r", pcap, "-Y", "dhcp || http"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            out = r.stdout.decode(errors="replace")
            log(out[-2000:])
            if r.returncode != 0 or "DHCP" not in out or "HTTP" not in out:
                fail("tshark did not find DHCP and HTTP in the filter-dump pcap")
        else:
            log("tshark not installed: pcap contents not checked")


def case_stream():
    """Two guests linked by a stream netdev on loopback ping each other, and
    b fetches a 1 MiB random file from a's httpd (sha256): TCP between two
    virtio-nets, each segmenting what its guest sends as TSO and joining
    what it receives."""
    image, initrd = guest()
    port = free_port()
    a = Vm(TESSERA, "a", base_args(image, initrd, "net.ip=192.168.77.1/24 net.blob=1024 net.serve=80 "
                                   "net.ping=192.168.77.2 net.wait=60") +
           ["-netdev", f"stream,id=s0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port={port}",
            "-device", "virtio-net-device,netdev=s0"])
    try:
        want = a.wait_for("BLOB").split()[1]
        a.wait_for("SERVING")
        # Both stay up after pinging: the other may still be trying.
        b = Vm(TESSERA, "b", base_args(image, initrd, "net.ip=192.168.77.2/24 net.wget=http://192.168.77.1/blob "
                                       "net.ping=192.168.77.1 net.wait=60") +
               ["-netdev", f"stream,id=s0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port={port}",
                "-device", "virtio-net-device,netdev=s0,mac=52:54:00:12:34:99"])
        try:
            line = b.wait_for(("SHA256", "WGET FAIL"))  # a prefix tuple: either line
            got = line.split()[1]
            if got != want:
                fail(f"b fetched a's file with sha256 {got}, a has {want}")
            log("b fetched a's 1 MiB file intact")
            for vm in (a, b):
                if vm.wait_for("PING") != "PING OK":
                    fail(f"{vm.name} could not ping its peer")
        finally:
            b.stop()
    finally:
        a.stop()


def case_tap():
    """A tap netdev, with vnet_hdr=on (headers and TSO/GSO frames pass
    between guest and host kernel) and off: the guest pings the host's end of
    the TAP interface, fetches a 1 MiB file from a host HTTP server on it and
    serves one the host fetches (both checked by sha256)."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        skip("tap needs root (CAP_NET_ADMIN) and the ip tool")
    try:
        os.close(os.open("/dev/net/tun", os.O_RDWR))
    except OSError as e:
        skip(f"/dev/net/tun is not usable here: {e.strerror}")
    image, initrd = guest()
    with tempfile.TemporaryDirectory() as tmp:
        blob = os.urandom(1 << 20)
        with open(os.path.join(tmp, "blob"), "wb") as f:
            f.write(blob)
        for vnet in ("on", "off"):
            tap_run(image, initrd, tmp, hashlib.sha256(blob).hexdigest(), vnet)


def tap_run(image, initrd, tmp, want, vnet):
    ifname = f"tstap{os.getpid() % 100000}"
    port = free_port()
    vm = Vm(TESSERA, "guest", base_args(image, initrd, f"net.ip=192.168.231.2/24 net.wget=http://192.168.231.1:{port}/blob "
                                        "net.blob=1024 net.serve=80 net.ping=192.168.231.1 net.wait=120") +
            ["-netdev", f"tap,id=t0,ifname={ifname},script=no,downscript=no,vnet_hdr={vnet}",
             "-device", "virtio-net-pci,netdev=t0"])
    httpd = None
    try:
        for _ in range(100):
            if subprocess.run(["ip", "link", "show", ifname], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            fail(f"tessera did not create {ifname}")
        subprocess.run(["ip", "addr", "add", "192.168.231.1/24", "dev", ifname], check=True)
        subprocess.run(["ip", "link", "set", ifname, "up"], check=True)
        handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=tmp, **k)
        httpd = http.server.ThreadingHTTPServer(("192.168.231.1", port), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        got = vm.wait_for(("SHA256", "WGET FAIL")).split()[1]
        if got != want:
            fail(f"vnet_hdr={vnet}: the guest fetched the host's file with sha256 {got}")
        gwant = vm.wait_for("BLOB").split()[1]
        vm.wait_for("SERVING")
        data = urllib.request.urlopen("http://192.168.231.2/blob", timeout=120).read()
        if hashlib.sha256(data).hexdigest() != gwant:
            fail(f"vnet_hdr={vnet}: the host fetched the guest's file as {len(data)} bytes with another sha256")
        if vm.wait_for("PING") != "PING OK":
            fail(f"vnet_hdr={vnet}: the guest could not ping the host through the tap")
        log(f"vnet_hdr={vnet}: ping and 1 MiB each way through the tap")
    finally:
        if httpd:
            httpd.shutdown()
            httpd.server_close()
        vm.stop()


CASES = {"net-user": case_user, "net-stream": case_stream, "net-tap": case_tap}

if __name__ == "__main__":
    CASES[CASE]()
    log("PASS")
