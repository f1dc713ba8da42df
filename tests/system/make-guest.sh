#!/usr/bin/env bash
# Prepares the Debian riscv64 guest for system tests from ../shared/guests:
#   make-guest.sh OUTDIR INIT_SCRIPT
# writes OUTDIR/Image (the kernel) and OUTDIR/initrd.cpio.gz (busybox, the
# decompressed modules, and INIT_SCRIPT as /init). Exits 77 (skip) when the
# guest files are not there.
set -euo pipefail
out=$1 init=$2
src=${TESSERA_GUESTS:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/guests/riscv64-debian}
if [ ! -f "$src/Image.xz" ] || [ ! -f "$src/busybox.xz" ]; then
  echo "SKIP: no guest images in $src (see ../shared/guests/README.md)"
  exit 77
fi
mkdir -p "$out"
if [ ! -f "$out/Image" ] || [ "$src/Image.xz" -nt "$out/Image" ]; then
  xz -dc "$src/Image.xz" > "$out/Image.tmp" && mv "$out/Image.tmp" "$out/Image"
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,mnt,lib/modules}
xz -dc "$src/busybox.xz" > "$root/bin/busybox"
chmod +x "$root/bin/busybox"
for m in "$src"/modules/*.ko.xz; do
  xz -dc "$m" > "$root/lib/modules/$(basename "$m" .xz)"
done
cp "$src/modules/load-order.txt" "$root/lib/modules/"
cp "$init" "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1 > "$out/initrd.cpio.gz.tmp")
mv "$out/initrd.cpio.gz.tmp" "$out/initrd.cpio.gz"
