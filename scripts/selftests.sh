#!/usr/bin/env bash
# Build the named KVM selftests statically, plus the sources in
# EXTRA_TESTS, into build/selftests/bin (flat, one program per test).
source "$(dirname "$0")/lib.sh"

kdir=$TREE/tools/testing/selftests/kvm
out=$BUILD/selftests
hdr=$BUILD/hdr
mkdir -p "$out/bin"

# UAPI headers out of tree: an in-tree headers_install would leave
# generated files that make every later 'make O=...' refuse the tree.
log "selftests: uapi headers"
make -C "$TREE" O="$BUILD/obj-hdr" -s headers_install INSTALL_HDR_PATH="$hdr" >/dev/null

# Guest scripts (scripts/guest/) name the selftests they run ("$1": the one
# their first argument names, which runs.sh lists).
scripts=""
for t in "$@"; do
	case $t in *.sh)
		[ -f "$REPO/scripts/guest/$t" ] || die "no guest script scripts/guest/$t"
		scripts="$scripts $REPO/scripts/guest/$t"
		set -- "$@" $(sed -n 's/^# needs: //p' "$REPO/scripts/guest/$t" | sed 's/\$[0-9]//g')
		;;
	esac
done

targets="" extra=""
for t in $(printf '%s\n' "$@" | grep -v '\.sh$' | sort -u); do
	if [ -f "$kdir/x86_64/$t.c" ]; then
		targets="$targets $out/x86_64/$t"
	elif [ -f "$kdir/$t.c" ]; then
		targets="$targets $out/$t"
	elif [ -f "$REPO/scripts/bench/$t.c" ]; then
		# The harness's own benchmarks, built like EXTRA_TESTS.
		extra="$extra $REPO/scripts/bench/$t.c"
	else
		die "no selftest '$t' in $kdir"
	fi
done

for src in ${EXTRA_TESTS:-}; do
	case $src in /*) ;; *) src=$(pwd)/$src ;; esac
	[ -f "$src" ] || die "EXTRA_TESTS: no file $src"
	extra="$extra $src"
done

kmake() {
	make -C "$kdir" -f Makefile -f "$REPO/scripts/extra-tests.mk" \
		OUTPUT="$out" KHDR_INCLUDES="-isystem $hdr/include" EXTRA_CFLAGS=-static \
		EXTRA_SRCS="$extra" -j"$JOBS" "$@"
}

log "selftests: build$(printf ' %s' "$@")${extra:+ +extra}"
# No targets (a run of guest scripts only): make would build every selftest.
# shellcheck disable=SC2086
if [ -n "$targets" ] && ! kmake $targets >"$out/build.log" 2>&1; then
	grep -m1 -A3 'error:' "$out/build.log" >&2 || tail -n 20 "$out/build.log" >&2
	die "selftest build failed; full log: $out/build.log"
fi
if [ -n "$extra" ] && ! kmake extra-tests >"$out/extra.log" 2>&1; then
	grep -m1 -A3 'error:' "$out/extra.log" >&2 || tail -n 20 "$out/extra.log" >&2
	die "an EXTRA_TESTS source does not compile; full log: $out/extra.log"
fi

rm -rf "$out/bin" && mkdir -p "$out/bin"
for t in $targets; do cp "$t" "$out/bin/"; done
for src in $extra; do cp "$out/extra/$(basename "${src%.c}")" "$out/bin/"; done
for sh in $scripts; do cp "$sh" "$out/bin/"; done
