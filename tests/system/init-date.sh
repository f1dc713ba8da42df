#!/bin/busybox sh
# /init for the RTC test: print the guest clock and the RTC, power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "GUEST-DATE $(date -u +%Y-%m-%dT%H) RTC $(cat /sys/class/rtc/rtc0/date 2>/dev/null)"
poweroff -f
