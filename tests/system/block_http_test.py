#!/usr/bin/env python3
"""The Debian guest boots from a qcow2 disk image served over http by nginx on
loopback: the initramfs unpacks its root from /dev/vda (a cpio archive in a
compressed qcow2 at http://127.0.0.1:PORT/disk.qcow2, -snapshot so the
guest may write) and switch_roots into it; the disk's /sbin/init prints a
marker read from the disk and powers off.

usage: block_http_test.py TESSERA BUILD_DIR   (exit 0 pass, 1 fail, 77 skip)"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from harness import fail, free_port, log, make_guest, skip

TESSERA, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
GUESTS = os.environ.get("TESSERA_GUESTS", os.path.join(HERE, "../../../shared/guests/riscv64-debian"))


def main():
    for tool in ("nginx", "cpio", "qemu-img"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            skip(tool + " is not installed")
    image, initrd = make_guest(os.path.join(BUILD, "guest-httproot"), "init-httproot.sh")
    with tempfile.TemporaryDirectory(dir=BUILD) as tmp:
        # The root file system: busybox, an init, and a marker to read back.
        root = os.path.join(tmp, "root")
        for d in ("bin", "sbin", "dev", "proc", "sys", "tmp"):
            os.makedirs(os.path.join(root, d))
        with open(os.path.join(root, "bin/busybox"), "wb") as f:
            subprocess.run(["xz", "-dc", os.path.join(GUESTS, "busybox.xz")], stdout=f, check=True)
        os.chmod(os.path.join(root, "bin/busybox"), 0o755)
        marker = "served-over-http-%d" % os.getpid()
        with open(os.path.join(root, "marker"), "w") as f:
            f.write(marker + "\n")
        with open(os.path.join(root, "sbin/init"), "w") as f:
            f.write("#!/bin/busybox sh\n/bin/busybox --install -s /bin\nmount -t proc proc /proc\n"
                    "echo \"TESSERA-HTTP-ROOT-OK $(cat /marker)\"\n"
                    "dd if=/marker of=/dev/vda bs=512 seek=2000 conv=fsync 2>/dev/null && echo TESSERA-HTTP-WROTE\n"
                    "poweroff -f\n")
        os.chmod(os.path.join(root, "sbin/init"), 0o755)
        raw, disk = os.path.join(tmp, "disk.raw"), os.path.join(tmp, "disk.qcow2")
        files = subprocess.run("find . | LC_ALL=C sort", shell=True, cwd=root, capture_output=True).stdout
        with open(raw, "wb") as f:
            subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=files, stdout=f, check=True)
            f.truncate((f.tell() + (1 << 20)) & ~((1 << 20) - 1))
        subprocess.run(["qemu-img", "convert", "-c", "-O", "qcow2", raw, disk], check=True)
        before = open(disk, "rb").read()

        port = free_port()
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write("daemon off; master_process off; pid %s/nginx.pid; error_log %s/error.log;\n"
                    "events {}\nhttp { access_log off; server { listen 127.0.0.1:%d; root %s; } }\n"
                    % (tmp, tmp, port, tmp))
        nginx = subprocess.Popen(["nginx", "-p", tmp, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = "http://127.0.0.1:%d/disk.qcow2" % port
            for _ in range(100):
                try:
                    urllib.request.urlopen(url, timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            args = [TESSERA, "-M", "virt", "-m", "512M", "-nographic", "-kernel", image,
                    "-initrd", initrd, "-append", "console=ttyS0 quiet",
                    "-drive", "file=%s,if=none,id=d0,snapshot=on" % url, "-device", "virtio-blk-device,drive=d0"]
            log("$ " + " ".join(args))
            t0 = time.time()
            p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
                               stdin=subprocess.DEVNULL)
            out = p.stdout.decode(errors="replace")
            log(out[-3000:])
            log("(exit status %d, %.1f s)" % (p.returncode, time.time() - t0))
        finally:
            nginx.terminate()
            nginx.wait()
        if "TESSERA-HTTP-ROOT-OK " + marker not in out:
            fail("the guest did not boot from the http disk")
        if "TESSERA-HTTP-WROTE" not in out:
            fail("the guest could not write its (temporary) disk")
        if p.returncode != 0:
            fail("exit status %d" % p.returncode)
        if open(disk, "rb").read() != before:
            fail("the served image changed")
    log("PASS")


main()
