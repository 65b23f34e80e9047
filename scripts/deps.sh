#!/usr/bin/env bash
# Install whatever the harness needs that is missing, from Debian packages.
source "$(dirname "$0")/lib.sh"

PKGS="qemu-system-x86 qemu-system-data seabios busybox-static flex bison bc libelf-dev libssl-dev cpio
ccache gcc make git xz-utils perl python3 python3-ply python3-git python3-docutils python3-sphinx kmod rsync"

# No 'producer | grep -q' under pipefail: grep -q exits at the first match and
# a producer still writing then dies of SIGPIPE, which fails the pipeline.
installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == *' ok installed' ]]; }
installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

missing=""
for p in $PKGS; do installed "$p" || missing="$missing $p"; done
want_src=""
[ "$(installed_version "$PIN_PKG")" = "$PIN_VERSION" ] || want_src=yes
# A user's own tree (KSRC=) does not need the Debian source.
[ -n "${KSRC:-}" ] && want_src=""

[ -z "$missing" ] && [ -z "$want_src" ] && exit 0
[ "$(id -u)" = 0 ] || die "missing packages:$missing${want_src:+ $PIN_PKG=$PIN_VERSION}; run 'make deps' as root"

export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
apt-get update -qq >"$BUILD/apt.log" 2>&1 ||
	die "cannot reach the Debian package registry (apt-get update failed; see $BUILD/apt.log)"

src=""
if [ -n "$want_src" ]; then
	if grep -qF "| $PIN_VERSION |" <<<"$(apt-cache madison "$PIN_PKG")"; then
		src="$PIN_PKG=$PIN_VERSION"
	else
		log "WARNING: $PIN_PKG $PIN_VERSION is no longer in the registry; using the newest $PIN_PKG"
		src="$PIN_PKG"
	fi
fi
log "apt-get install$missing $src"
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends --allow-downgrades $missing $src \
	>>"$BUILD/apt.log" 2>&1 || die "apt-get install failed (see $BUILD/apt.log)"
