#!/usr/bin/env bash
# Pack build/qemu-l1-VARIANT.cpio, appended to the L1 initramfs of the runs
# whose guest scripts boot this kernel as L2 under QEMU -accel kvm in L1
# (realguest.sh, hvhost.sh; each has its own part in scripts/NAME/pack.sh):
#  - Debian's qemu-system-x86_64, the shared libraries ldd names for it and
#    its firmware: the files of qemu-system-data (microvm's qboot) and
#    seabios (the PC machines'), where QEMU looks for them;
#  - the variant's own bzImage as /l2/bzImage: base.config makes the one
#    kernel a KVM host, a kvm-clock guest and a Hyper-V guest;
#  - when 'make qemu' built it, the patched QEMU (build/qemu-kvmclock) as
#    /opt/qemu-kvmclock/bin/qemu-system-x86_64, with its libraries
#    (realguest.sh -Q patched).
source "$(dirname "$0")/lib.sh"

variant=${1:-modules}
root=$BUILD/qemu-l1-$variant
rm -rf "$root"
mkdir -p "$root/l2"
cp "$BUILD/obj-$variant/arch/x86/boot/bzImage" "$root/l2/bzImage"

qemu=$(command -v qemu-system-x86_64) || die "no qemu-system-x86_64 (make deps)"
# The QEMU of make qemu is the same for every kernel (the comparison's too).
patched=$REPO/build/qemu-kvmclock/qemu-system-x86_64
# Each file at its own path; --parents keeps the directories.
copy() { cp -L --parents "$@" "$root/"; }
libs() { ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'; }
copy "$qemu"
for lib in $(libs "$qemu") $([ ! -x "$patched" ] || libs "$patched"); do
	[ -e "$root$lib" ] || copy "$lib"
done
if [ -x "$patched" ]; then
	install -D -m 0755 "$patched" "$root/opt/qemu-kvmclock/bin/qemu-system-x86_64"
fi
for f in $(dpkg -L qemu-system-data seabios | grep '^/usr/share/\(qemu\|seabios\)/'); do
	[ -f "$f" ] && copy "$f"
done
[ -e "$root/usr/share/qemu/bios-microvm.bin" ] || die "qemu-system-data has no bios-microvm.bin"
pack_cpio "$root" "$root.cpio"
log "qemu-l1 ($variant): $(du -sh "$root" | cut -f1) of QEMU$([ ! -x "$patched" ] || echo " (and the patched one)") and the L2 kernel"
