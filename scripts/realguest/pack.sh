#!/usr/bin/env bash
# Pack build/realguest-VARIANT.cpio, appended to the L1 initramfs of the runs
# that use scripts/guest/realguest.sh:
#  - Debian's qemu-system-x86_64, the shared libraries ldd names for it and
#    its firmware: the files of qemu-system-data (microvm's qboot) and
#    seabios (the PC machines'), where QEMU looks for them;
#  - the real guest: the variant's own bzImage (base.config makes the one
#    kernel a KVM host and a kvm-clock guest) and an initramfs with busybox,
#    scripts/realguest/init and clockcheck;
#  - clockcheck in /tests too, for the L1-side self-check.
source "$(dirname "$0")/../lib.sh"

variant=${1:-modules}
obj=$BUILD/obj-$variant
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
cp "$obj/arch/x86/boot/bzImage" "$root/realguest/bzImage"

qemu=$(command -v qemu-system-x86_64) || die "no qemu-system-x86_64 (make deps)"
# Each file at its own path; --parents keeps the directories.
copy() { cp -L --parents "$@" "$root/"; }
copy "$qemu"
for lib in $(ldd "$qemu" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
	copy "$lib"
done
for f in $(dpkg -L qemu-system-data seabios | grep '^/usr/share/\(qemu\|seabios\)/'); do
	[ -f "$f" ] && copy "$f"
done
[ -e "$root/usr/share/qemu/bios-microvm.bin" ] || die "qemu-system-data has no bios-microvm.bin"
pack_cpio "$root" "$root.cpio"
log "realguest ($variant): $(du -sh "$root" | cut -f1) of QEMU, real guest and checker"
