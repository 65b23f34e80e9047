#!/usr/bin/env bash
# Pack build/accelguest-VARIANT.cpio, appended to the L1 initramfs of the runs
# that use scripts/guest/accelguest.sh (after QEMU and the kernel of
# scripts/qemu-l1.sh):
#  - /accelguest/clockrate_preload.so, which makes Debian's QEMU enable
#    KVM_CAP_X86_CLOCK_RATE on its VM (built here, for the libraries that
#    qemu-l1.sh copies from this machine);
#  - /accelguest/tstamp, which stamps the guest's console lines with L1's
#    time, and /accelguest/kvmcap, which tells whether KVM has the
#    capability;
#  - the accelerated guest's initramfs, /accelguest/initrd.cpio: busybox,
#    scripts/accelguest/init, accelclock and clockcheck
#    (scripts/realguest/clockcheck.c).
source "$(dirname "$0")/../lib.sh"

variant=${1:-modules}
src=$REPO/scripts/accelguest
root=$BUILD/accelguest-$variant
rm -rf "$root" "$root-l2"
mkdir -p "$root/accelguest" "$root-l2"/{bin,dev,proc,sys}

cflags="-O2 -Wall -Wextra -Werror"
# shellcheck disable=SC2086
gcc $cflags -shared -fPIC -o "$root/accelguest/clockrate_preload.so" "$src/clockrate_preload.c" -ldl
# shellcheck disable=SC2086
gcc $cflags -static -o "$root/accelguest/tstamp" "$src/tstamp.c"
# shellcheck disable=SC2086
gcc $cflags -static -o "$root/accelguest/kvmcap" "$src/kvmcap.c"
# shellcheck disable=SC2086
gcc $cflags -static -o "$root-l2/bin/accelclock" "$src/accelclock.c"
# shellcheck disable=SC2086
gcc $cflags -static -pthread -o "$root-l2/bin/clockcheck" "$REPO/scripts/realguest/clockcheck.c"

cp /bin/busybox "$root-l2/bin/busybox"
ln -s busybox "$root-l2/bin/sh"
install -m 0755 "$src/init" "$root-l2/init"
pack_cpio "$root-l2" "$root/accelguest/initrd.cpio"
pack_cpio "$root" "$root.cpio"
log "accelguest ($variant): $(du -sh "$root" | cut -f1) of accelerated guest and tools"
