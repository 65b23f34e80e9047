#!/usr/bin/env bash
# Pack build/realguest-VARIANT.cpio, appended to the L1 initramfs of the runs
# that use scripts/guest/realguest.sh (after QEMU and the kernel of
# scripts/qemu-l1.sh):
#  - the real guest's initramfs: busybox, scripts/realguest/init and
#    clockcheck;
#  - clockcheck in /tests too, for the L1-side self-check.
source "$(dirname "$0")/../lib.sh"

variant=${1:-modules}
src=$REPO/scripts/realguest
root=$BUILD/realguest-$variant
rm -rf "$root" "$root-l2"
mkdir -p "$root"/{realguest,tests} "$root-l2"/{bin,dev,proc,sys}

gcc -O2 -Wall -Wextra -Werror -static -pthread -o "$root/tests/clockcheck" "$src/clockcheck.c"

cp /bin/busybox "$root-l2/bin/busybox"
ln -s busybox "$root-l2/bin/sh"
cp "$root/tests/clockcheck" "$root-l2/bin/"
install -m 0755 "$src/init" "$root-l2/init"
pack_cpio "$root-l2" "$root/realguest/initrd.cpio"
pack_cpio "$root" "$root.cpio"
log "realguest ($variant): $(du -sh "$root" | cut -f1) of real guest and checker"
