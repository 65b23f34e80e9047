# shellcheck shell=bash
# Shared settings and helpers for the harness scripts (sourced, not run).

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# A user's own tree (KSRC=) gets its own outputs, never mixed with the pinned one's.
BUILD=${BUILD:-$REPO/build${KSRC:+/ksrc}}
mkdir -p "$BUILD"

# The pinned kernel source: Debian bookworm-security's linux-source-6.12.
PIN_PKG=linux-source-6.12
PIN_VERSION=6.12.117-1~deb12u1

# The tree the series is applied to (make tree) or the user's own (KSRC=).
TREE=${KSRC:-$BUILD/linux}

# Fixed identity and date for the baseline commit, so that every machine gets
# the same baseline hash and the exported patches carry a stable base-commit.
BASE_IDENT_NAME="linux-source-6.12 baseline"
BASE_IDENT_EMAIL="baseline@invalid"
BASE_DATE="2025-01-01T00:00:00Z"

JOBS=${JOBS:-$(($(nproc) + 1))}

# ccache keys on paths relative to build/, so that every clone of the repo
# shares one cache.
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=$BUILD

# Seconds since the make (or script) started, for per-stage times.
export HARNESS_T0=${HARNESS_T0:-$(date +%s)}
log() { printf '==> [%4ss] %s\n' "$(($(date +%s) - HARNESS_T0))" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The kernel tree's baseline commit: the root of its history.
baseline() { git -C "$1" rev-list --max-parents=0 HEAD | tail -n 1; }

# The series files in order, as listed in patches/series.
series_files() {
	[ -f "$REPO/patches/series" ] || return 0
	grep -v '^[[:space:]]*\(#\|$\)' "$REPO/patches/series" | sed "s|^|$REPO/patches/|"
}

# A digest of the series: what the tree was last synced with.
series_digest() { series_files | xargs -r cat | sha256sum | cut -d' ' -f1; }

# Record that the tree at its HEAD is in sync with patches/.
write_stamp() {
	printf '%s\n%s\n' "$(series_digest)" "$(git -C "$TREE" rev-parse HEAD)" \
		>"$TREE/.git/kvmclock-series"
}

# Mirror folders of the repo and the kernel directories they mirror.
MIRRORS="arch-x86-kvm:arch/x86/kvm
tools-testing-selftests-kvm:tools/testing/selftests/kvm
Documentation-virt-kvm:Documentation/virt/kvm"
mirror_dirs() { for m in $MIRRORS; do echo "${m%%:*}"; done; }

# pack_cpio DIR OUT: an initramfs archive of DIR, owned by root.
pack_cpio() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$2"; }

# l2_scripts TEST...: the guest scripts among TEST that boot this kernel as L2
# under QEMU in L1. Such a script, scripts/guest/NAME.sh, has a folder
# scripts/NAME/ whose pack.sh packs its part of the L1 initramfs,
# build/NAME-VARIANT.cpio; QEMU and the kernel come from scripts/qemu-l1.sh.
l2_scripts() {
	local t
	for t in "$@"; do
		case $t in *.sh) if [ -f "$REPO/scripts/${t%.sh}/pack.sh" ]; then echo "${t%.sh}"; fi ;; esac
	done | sort -u
}
