#!/bin/busybox sh
# /init for the boot test: mount, load the virtio modules, print the marker,
# write a known pattern to /dev/vda when there is one, power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_mmio virtio_blk virtio-rng; do
  insmod /lib/modules/$m.ko 2>/dev/null
done
echo "TESSERA-INIT-OK harts=$(grep -c ^processor /proc/cpuinfo)"
if [ -b /dev/vda ]; then
  # 1 MiB of a pattern the host can check.
  i=0
  while [ $i -lt 4096 ]; do echo "tessera block $i of the virtio disk test pattern......................................................................................................................................................................................................................"; i=$((i+1)); done | head -c 1048576 > /tmp/pattern
  dd if=/tmp/pattern of=/dev/vda bs=65536 conv=fsync 2>/dev/null
  sync
  echo "TESSERA-DISK-WRITTEN $(sha256sum /tmp/pattern | cut -d' ' -f1)"
fi
poweroff -f
