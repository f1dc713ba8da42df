#!/bin/busybox sh
# /init for the demo: a shell on the console; leaving it powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_mmio virtio_blk virtio-rng; do insmod /lib/modules/$m.ko 2>/dev/null; done
echo
echo "Debian riscv64 Linux $(uname -r) on tessera: $(grep -c ^processor /proc/cpuinfo) hart(s)."
echo "Type 'exit' (or C-a x) to leave."
setsid cttyhack sh
poweroff -f
