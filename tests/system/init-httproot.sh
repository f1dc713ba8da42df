#!/bin/busybox sh
# /init for the http boot test: load virtio, unpack the root file system
# from /dev/vda (a cpio archive inside a qcow2 image the host serves over
# http; the guest kernel has no disk file system without extra modules) and
# boot its /sbin/init.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_mmio virtio_blk; do
  insmod /lib/modules/$m.ko 2>/dev/null
done
mkdir -p /newroot
mount -t tmpfs root /newroot
if ! (cd /newroot && cpio -i -d -m < /dev/vda 2>/dev/null) || [ ! -x /newroot/sbin/init ]; then
  echo "TESSERA-HTTP-ROOT-FAILED: no root archive on /dev/vda"
  poweroff -f
fi
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
