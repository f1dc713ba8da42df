"""What the whole-machine test scripts share: transcript logging, meson's exit
codes (0 pass, 1 fail, 77 skip), free loopback ports and the Debian guest
built by make-guest.sh with a given /init."""
import os, socket, subprocess, sys, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))


def log(*a):
    print(*a, flush=True)


def fail(msg):
    log("FAIL: " + msg)
    sys.exit(1)


def skip(msg):
    log("SKIP: " + msg)
    sys.exit(77)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_guest(out_dir, init_script):
    """The Debian kernel and an initramfs with init_script (a file beside this
    one) as /init, in out_dir; skips when the guest images are missing."""
    r = subprocess.run(["bash", os.path.join(HERE, "make-guest.sh"), out_dir, os.path.join(HERE, init_script)])
    if r.returncode == 77:
        skip("guest images not available")
    if r.returncode != 0:
        fail("could not prepare the guest")
    return os.path.join(out_dir, "Image"), os.path.join(out_dir, "initrd.cpio.gz")


class Vm:
    """tessera with the guest console on a pipe; lines are collected by a thread."""

    def __init__(self, tessera, name, args):
        self.name, self.lines, self.cv = name, [], threading.Condition()
        log(f"$ [{name}] tessera " + " ".join(args))
        self.p = subprocess.Popen([tessera] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.p.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            log(f"[{self.name}] {line}")
            with self.cv:
                self.lines.append(line)
                self.cv.notify_all()
        with self.cv:
            self.lines.append(None)
            self.cv.notify_all()

    def wait_for(self, prefix, timeout=400):
        """The first console line starting with prefix (fails on timeout or exit)."""
        end = time.time() + timeout
        i = 0
        with self.cv:
            while True:
                while i < len(self.lines):
                    l = self.lines[i]
                    i += 1
                    if l is None:
                        fail(f"{self.name}: tessera exited before printing {prefix!r}")
                    if l.startswith(prefix):
                        return l
                left = end - time.time()
                if left <= 0:
                    fail(f"{self.name}: no {prefix!r} within {timeout} s")
                self.cv.wait(left)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
