#!/bin/busybox sh
# /init for the network system tests. The kernel command line picks the job:
#   net.ip=dhcp|A.B.C.D/NN   how eth0 gets its address (default dhcp)
#   net.wget=URL             fetch URL, print "SHA256 <sum>"
#   net.blob=KB              put KB KiB of random bytes in /srv/blob, print "BLOB <sha256>"
#   net.serve=PORT           serve /srv (index.html holds "tessera-guest-ok") and wait
#   net.hold=PORT            then wait until the host connects to PORT, print "HTTP DONE"
#   net.ping=A.B.C.D         ping it, print "PING OK" or "PING FAIL"
#   net.tx=PORT:MB           send MB MiB to the host's PORT (nc), print "TX DONE"
#   net.rx=URL               fetch URL into /dev/null, print "RX DONE"
#   net.wait=N               stay up N seconds before powering off (default 0)
# It prints "NET UP <addr>" once eth0 has an address.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_mmio failover net_failover virtio_net; do insmod /lib/modules/$m.ko 2>/dev/null; done
arg() { for w in $(cat /proc/cmdline); do case $w in "$1"=*) echo "${w#*=}"; return;; esac; done; }
ip=$(arg net.ip); ip=${ip:-dhcp}
ip link set lo up
ip link set eth0 up
if [ "$ip" = dhcp ]; then
  mkdir -p /usr/share/udhcpc
  cat > /usr/share/udhcpc/default.script <<'S'
#!/bin/sh
case $1 in
  bound|renew)
    ip addr flush dev $interface
    ip addr add $ip/${mask:-24} dev $interface
    [ -n "$router" ] && ip route add default via ${router%% *} dev $interface
    : > /etc/resolv.conf; for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done;;
esac
S
  chmod +x /usr/share/udhcpc/default.script
  mkdir -p /etc
  udhcpc -i eth0 -n -q -t 10 -T 2 -s /usr/share/udhcpc/default.script || echo "DHCP FAIL"
else
  ip addr add "$ip" dev eth0
fi
echo "NET UP $(ip -4 addr show dev eth0 | sed -n 's/.*inet \([0-9.]*\).*/\1/p')"
url=$(arg net.wget)
if [ -n "$url" ]; then
  if wget -q -O /tmp/f "$url"; then echo "SHA256 $(sha256sum /tmp/f | cut -d' ' -f1)"; else echo "WGET FAIL"; fi
fi
# A bulk guest->host transfer the host can check (busybox httpd sends it
# with sendfile: TSO frames).
blob=$(arg net.blob)
if [ -n "$blob" ]; then
  mkdir -p /srv && dd if=/dev/urandom of=/srv/blob bs=1024 count="$blob" 2>/dev/null
  echo "BLOB $(sha256sum /srv/blob | cut -d' ' -f1)"
fi
port=$(arg net.serve)
if [ -n "$port" ]; then
  mkdir -p /srv && echo tessera-guest-ok > /srv/index.html
  httpd -p "$port" -h /srv && echo "SERVING $port"
fi
hold=$(arg net.hold)
if [ -n "$hold" ]; then
  nc -l -p "$hold" </dev/null >/dev/null
  echo "HTTP DONE"
fi
# Bulk TCP for bench/net_throughput.py: send MB megabytes to the host's PORT,
# and fetch URL into nothing.
tx=$(arg net.tx)
if [ -n "$tx" ]; then
  dd if=/dev/zero bs=65536 count=$(( ${tx#*:} * 16 )) 2>/dev/null | nc 10.0.2.2 "${tx%%:*}" && echo "TX DONE"
fi
rx=$(arg net.rx)
if [ -n "$rx" ]; then
  wget -q -O /dev/null "$rx" && echo "RX DONE" || echo "RX FAIL"
fi
peer=$(arg net.ping)
if [ -n "$peer" ]; then
  ok=FAIL
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    if ping -c 1 -W 2 "$peer" >/dev/null 2>&1; then ok=OK; break; fi
  done
  echo "PING $ok"
fi
# PCI functions as lspci -n shows them (from sysfs: busybox may lack lspci).
for d in /sys/bus/pci/devices/*; do
  [ -e "$d/vendor" ] && echo "PCI ${d##*/} $(cat $d/class) $(cat $d/vendor):$(cat $d/device) driver=$(basename "$(readlink $d/driver)" 2>/dev/null)"
done
wait=$(arg net.wait); sleep "${wait:-0}"
echo "NET DONE"
poweroff -f
