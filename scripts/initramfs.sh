#!/usr/bin/env bash
# Pack build/initramfs-VARIANT.cpio: busybox, the init, the kernel's
# modules and the built selftests. The run itself is a second, tiny cpio
# that scripts/vm.sh appends.
source "$(dirname "$0")/lib.sh"

variant=${1:-modules}
obj=$BUILD/obj-$variant
root=$BUILD/initramfs-$variant
rm -rf "$root"
mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,tests}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$REPO/scripts/init" "$root/init"
if [ -d "$obj/mod-install/lib/modules" ] && [ -n "$(find "$obj/mod-install" -name 'kvm.ko')" ]; then
	cp -a "$obj/mod-install/lib" "$root/"
	rm -f "$root"/lib/modules/*/build
fi
cp "$BUILD"/selftests/bin/* "$root/tests/"
pack_cpio "$root" "$root.cpio"
