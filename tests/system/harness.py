"""What the whole-machine test scripts share: transcript logging, meson's exit
codes (0 pass, 1 fail, 77 skip), free loopback ports and the Debian guest
built by make-guest.sh with a given /init."""
import os, socket, subprocess, sys

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
