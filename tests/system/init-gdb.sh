#!/bin/busybox sh
# /init for the gdb test: publish where a kernel function and a kernel
# variable are (this kernel's System.map is not shipped: /proc/kallsyms is),
# then keep calling sync(2) so a breakpoint on ksys_sync is hit.
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo "TESSERA-SYM $(grep -E ' (ksys_sync|linux_banner)$' /proc/kallsyms | tr '\n' ' ')"
i=0
while [ $i -lt 600 ]; do sync; sleep 0.2; i=$((i+1)); done
poweroff -f
