#!/bin/busybox sh
# /init for the savevm/loadvm test: a counter kept both in RAM (the shell's
# $i) and on every disk (sector 8; one on virtio-mmio, one on virtio-pci),
# checked against each other on every tick. After loadvm all must have gone
# back together: a disk left newer than RAM (or older) prints
# TESSERA-SNAP-MISMATCH.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_mmio virtio_blk; do
  insmod /lib/modules/$m.ko 2>/dev/null
done
disks=$(ls /dev/vd? 2>/dev/null)
echo "TESSERA-DISKS" $disks
i=0
while true; do
  echo 3 > /proc/sys/vm/drop_caches
  for v in $disks; do
    d=$(dd if=$v bs=512 skip=8 count=1 2>/dev/null | tr -dc 0-9)
    [ "${d:-0}" = "$i" ] || echo "TESSERA-SNAP-MISMATCH $v ram $i disk ${d:-0}"
  done
  i=$((i + 1))
  printf '%s\n' "$i" > /tmp/c
  for v in $disks; do
    dd if=/tmp/c of=$v bs=512 seek=8 count=1 conv=sync,fsync 2>/dev/null
  done
  echo "TESSERA-TICK $i"
  sleep 0.2
done
