#!/bin/busybox sh
# /init for the lifecycle tests (system_powerdown, reboot, libvirt): count
# boots on the disk, write a pattern the host can check, then wait for the
# virt board's power button (GPIO pin 0 of the SiFive GPIO at 0x10060000,
# read through sysfs since this kernel has no gpio-keys) and power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_mmio virtio_blk; do
  insmod /lib/modules/$m.ko 2>/dev/null
done
n=0
if [ -b /dev/vda ]; then
  # The boot counter lives in sector 4096 (2 MiB), after the pattern.
  n=$(dd if=/dev/vda bs=512 skip=4096 count=1 2>/dev/null | tr -dc 0-9)
  n=$((${n:-0} + 1))
  printf '%s\n' "$n" > /tmp/count
  dd if=/tmp/count of=/dev/vda bs=512 seek=4096 conv=sync,fsync 2>/dev/null
  i=0
  while [ $i -lt 4096 ]; do echo "tessera boot $n block $i of the lifecycle test pattern.........................................................................................................................................................................................................................."; i=$((i+1)); done | head -c 1048576 > /tmp/pattern
  dd if=/tmp/pattern of=/dev/vda bs=65536 conv=fsync 2>/dev/null
  sync
  echo "TESSERA-DISK-WRITTEN $(sha256sum /tmp/pattern | cut -d' ' -f1)"
fi
base=
for c in /sys/class/gpio/gpiochip*; do
  [ "$(cat $c/label)" = 10060000.gpio ] && base=$(cat $c/base)
done
if [ -z "$base" ]; then
  echo "TESSERA-NO-POWER-BUTTON"
  poweroff -f
fi
echo $base > /sys/class/gpio/export
echo in > /sys/class/gpio/gpio$base/direction
echo "TESSERA-BOOT $n waiting for the power button"
while [ "$(cat /sys/class/gpio/gpio$base/value)" != 1 ]; do sleep 0.1; done
echo "TESSERA-POWER-BUTTON boot $n"
sync
poweroff -f
