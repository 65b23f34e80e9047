#!/usr/bin/env bash
# Pack build/hvhost-VARIANT.cpio, appended to the L1 initramfs of the runs
# that use scripts/guest/hvhost.sh (after QEMU and the kernel of
# scripts/qemu-l1.sh): the init of its L2, as /hvhost/init. hvhost.sh packs
# L2's initramfs in L1 from L1's own busybox, modules and the selftest.
source "$(dirname "$0")/../lib.sh"

variant=${1:-modules}
root=$BUILD/hvhost-$variant
rm -rf "$root"
mkdir -p "$root/hvhost"
install -m 0755 "$REPO/scripts/hvhost/init" "$root/hvhost/init"
pack_cpio "$root" "$root.cpio"
