#!/usr/bin/env bash
# make qemu: the patched QEMU of the real guest's migration runs.
# Debian's QEMU 7.2 source package (the version of the qemu-system-x86 that
# make deps installed, with Debian's own patches), plus
# scripts/realguest/qemu-kvmclock.patch, configured out of tree for the
# x86_64-softmmu target with KVM and almost nothing else, built with ccache,
# installed as build/qemu-kvmclock/qemu-system-x86_64. scripts/qemu-l1.sh puts
# it into L1 as /opt/qemu-kvmclock/bin/qemu-system-x86_64, next to Debian's.
# Nothing is done when the source, the patch and the configuration are those
# of the last build (build/qemu-kvmclock/stamp). Needs root for apt.
#   qemu.sh [--check]   --check: status 0 when build/qemu-kvmclock is current
source "$(dirname "$0")/../lib.sh"

# One QEMU for every kernel: in this repo's build/, also when a run builds
# another tree (BUILD=build/compare, KSRC=).
BUILD=$REPO/build
export CCACHE_BASEDIR=$BUILD

patch=$REPO/scripts/realguest/qemu-kvmclock.patch
srcdir=$BUILD/qemu-src
obj=$BUILD/qemu-obj
out=$BUILD/qemu-kvmclock
# What a microvm (or pc/q35) guest under -accel kvm, its serial console, an
# HMP monitor on a pipe and migration through exec: need; firmware from
# Debian's qemu-system-data and seabios, where L1 has them too.
CONFIGURE="--prefix=/opt/qemu-kvmclock --firmwarepath=/usr/share/qemu:/usr/share/seabios
--target-list=x86_64-softmmu --without-default-features --enable-kvm --disable-tcg
--enable-fdt=system --disable-docs --disable-tools --disable-guest-agent --disable-werror"
PKGS="dpkg-dev gcc make ccache python3 meson ninja-build pkg-config libglib2.0-dev libpixman-1-dev
libfdt-dev zlib1g-dev"

t0=$(date +%s)
installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == *' ok installed' ]]; }
# The same QEMU as Debian's in L1: the source version of its binary package.
version=$(dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null) ||
	die "no qemu-system-x86 installed (make deps)"
stamp=$( {
	echo "$version"
	echo "$CONFIGURE"
	cat "$patch"
} | sha256sum | cut -d' ' -f1)
current=""
[ -x "$out/qemu-system-x86_64" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ] && current=yes
# --check: only say whether build/qemu-kvmclock is current (status 0) or not.
if [ "${1:-}" = --check ]; then
	[ -z "$current" ] || exit 0
	exit 1
fi
if [ -n "$current" ]; then
	log "qemu: build/qemu-kvmclock is up to date (QEMU $version + $(basename "$patch"))"
	exit 0
fi

missing="" need_src=""
for p in $PKGS; do installed "$p" || missing="$missing $p"; done
[ "$(cat "$srcdir/version" 2>/dev/null)" = "$version" ] || need_src=yes
# Does apt know any source package index?
# shellcheck disable=SC2016
apt_src() { apt-get indextargets --format '$(IDENTIFIER)' 'Identifier: Sources' 2>/dev/null | grep -q .; }
update=""
if [ -n "$missing" ] || { [ -n "$need_src" ] && ! apt_src; }; then
	[ "$(id -u)" = 0 ] || die "make qemu installs packages ($missing) or a deb-src entry: run it as root"
	update=yes
fi

# A deb-src entry for each Debian suite of this release that has a deb one
# (same URIs, components and keys), in a file of its own.
if [ -n "$need_src" ] && ! apt_src; then
	. /etc/os-release
	list=/etc/apt/sources.list.d/kvmclock-harness-deb-src
	# deb822: a copy of each enabled 'Types: deb' paragraph of the suite.
	# shellcheck disable=SC2094
	for f in /etc/apt/sources.list.d/*.sources; do
		if [ ! -f "$f" ] || [ "$f" = "$list.sources" ]; then continue; fi
		awk -v RS= -v ORS='\n\n' -v cn="$VERSION_CODENAME" '
			/(^|\n)Types:[^\n]*deb/ && !/(^|\n)Types:[^\n]*deb-src/ &&
			!/(^|\n)Enabled: *no/ && match($0, /(^|\n)Suites:[^\n]*/) &&
			substr($0, RSTART, RLENGTH) ~ (" " cn "([ -]|$)") {
				s = $0; sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src", s)
				sub(/^\n/, "", s); print s
			}' "$f"
	done >"$list.sources"
	# One-line format: each 'deb' line of the suite as a 'deb-src' one.
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -n "s/^deb\([[:space:]].*[[:space:]]$VERSION_CODENAME\(-[a-z]*\)\?[[:space:]]\)/deb-src\1/p" >"$list.list"
	for f in "$list.sources" "$list.list"; do [ -s "$f" ] || rm -f "$f"; done
	log "qemu: deb-src entries for $VERSION_CODENAME added ($list.*)"
fi
export DEBIAN_FRONTEND=noninteractive
if [ -n "$update" ]; then
	log "qemu: apt-get update${missing:+; apt-get install$missing}"
	apt-get update -qq >"$BUILD/apt-qemu.log" 2>&1 || die "apt-get update failed (see $BUILD/apt-qemu.log)"
	[ -z "$need_src" ] || apt_src || die "still no deb-src entry in apt; add one for this release and run make qemu again"
	# shellcheck disable=SC2086
	[ -z "$missing" ] || apt-get install -y -qq --no-install-recommends $missing \
		>>"$BUILD/apt-qemu.log" 2>&1 || die "apt-get install failed (see $BUILD/apt-qemu.log)"
fi

# The source package, unpacked with Debian's patches applied (dpkg-source).
if [ "$(cat "$srcdir/version" 2>/dev/null)" != "$version" ]; then
	log "qemu: apt-get source qemu=$version"
	rm -rf "$srcdir" "$obj"
	mkdir -p "$srcdir"
	(cd "$srcdir" && apt-get source -qq "qemu=$version") >"$BUILD/apt-qemu-source.log" 2>&1 ||
		die "apt-get source qemu=$version failed (see $BUILD/apt-qemu-source.log)"
	echo "$version" >"$srcdir/version"
fi
tree=$(find "$srcdir" -mindepth 1 -maxdepth 1 -type d -name 'qemu-*' | head -n 1)
[ -f "$tree/hw/i386/kvm/clock.c" ] || die "no QEMU source tree in $srcdir"

# The patch: take back the one applied last (kept in the tree), apply this one.
# GNU patch, not git apply: the tree lies inside this repository's work tree.
applied=$tree/.kvmclock.patch
if ! cmp -s "$patch" "$applied"; then
	if [ -f "$applied" ]; then
		patch -d "$tree" -p1 -R -s <"$applied" || die "cannot take back the old patch in $tree (rm -rf $srcdir)"
		rm -f "$applied"
	fi
	if ! patch -d "$tree" -p1 -N -s --dry-run <"$patch" >/dev/null; then
		die "$(basename "$patch") does not apply to QEMU $version"
	fi
	patch -d "$tree" -p1 -N -s <"$patch"
	cp "$patch" "$applied"
	log "qemu: applied $(basename "$patch")"
fi

# ccache through Debian's compiler links; QEMU's configure runs 'cc'.
[ -d /usr/lib/ccache ] && export PATH=/usr/lib/ccache:$PATH
if [ "$(cat "$obj/configured" 2>/dev/null)" != "$CONFIGURE" ] || [ ! -f "$obj/build.ninja" ]; then
	log "qemu: configure"
	rm -rf "$obj"
	mkdir -p "$obj"
	# shellcheck disable=SC2086
	(cd "$obj" && "$tree/configure" $CONFIGURE) >"$BUILD/qemu-configure.log" 2>&1 ||
		{ tail -n 20 "$BUILD/qemu-configure.log" >&2; die "QEMU's configure failed (see $BUILD/qemu-configure.log)"; }
	echo "$CONFIGURE" >"$obj/configured"
fi
log "qemu: build (ninja -j$JOBS)"
t1=$(date +%s)
ninja -C "$obj" -j"$JOBS" qemu-system-x86_64 >"$BUILD/qemu-build.log" 2>&1 ||
	{ grep -m 5 -A 5 'error' "$BUILD/qemu-build.log" >&2; die "QEMU's build failed (see $BUILD/qemu-build.log)"; }
mkdir -p "$out"
install -s -m 0755 "$obj/qemu-system-x86_64" "$out/qemu-system-x86_64"
echo "$stamp" >"$out/stamp"
log "qemu: built build/qemu-kvmclock/qemu-system-x86_64 ($(du -h "$out/qemu-system-x86_64" | cut -f1)):" \
	"compile $(($(date +%s) - t1)) s, all of make qemu $(($(date +%s) - t0)) s"
