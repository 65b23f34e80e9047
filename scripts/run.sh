#!/usr/bin/env bash
# Build what the runs need, boot each run REPEAT times, print one TAP
# document with every test of every boot, and a summary line.
#   run.sh RUN...      (env: REPEAT, EXTRA_TESTS, KVM_PARAMS, VERBOSE)
source "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || die "usage: run.sh RUN..."
repeat=${REPEAT:-1}
extra_names=""
for src in ${EXTRA_TESTS:-}; do extra_names="$extra_names $(basename "${src%.c}")"; done

variants=$(for r in "$@"; do bash "$REPO/scripts/runs.sh" field "$r" 2; done | sort -u)
# Tests that run the patched QEMU (realguest.sh -Q patched) need make qemu's.
tests=$(for r in "$@"; do bash "$REPO/scripts/runs.sh" field "$r" 5; done)
if [[ $tests == *"-Q patched"* ]] && ! bash "$REPO/scripts/realguest/qemu.sh" --check; then
	die "$* runs the patched QEMU (realguest.sh -Q patched), which is not built or is older than scripts/realguest/qemu-kvmclock.patch: run 'make qemu' first"
fi
# shellcheck disable=SC2046
bash "$REPO/scripts/selftests.sh" $(bash "$REPO/scripts/runs.sh" tests "$@")
# shellcheck disable=SC2046
l2=$(l2_scripts $(bash "$REPO/scripts/runs.sh" tests "$@"))
for v in $variants; do
	t0=$(date +%s)
	bash "$REPO/scripts/kernel.sh" "$v"
	bash "$REPO/scripts/initramfs.sh" "$v"
	[ -z "$l2" ] || bash "$REPO/scripts/qemu-l1.sh" "$v"
	for g in $l2; do bash "$REPO/scripts/$g/pack.sh" "$v"; done
	log "kernel + initramfs ($v): $(($(date +%s) - t0))s"
done

# A run's numbered consoles and TAPs are from its last REPEAT; drop those of
# an earlier one, which would otherwise pass for this one's.
for r in "$@"; do rm -f "$BUILD/runs/$r"/console.[0-9]*.log "$BUILD/runs/$r"/result.[0-9]*.tap; done

out=$BUILD/results.tap
echo "TAP version 13" >"$out"
n=0 pass=0 fail=0 skip=0
for i in $(seq 1 "$repeat"); do
	for r in "$@"; do
		log "run $r${extra_names:+ +$extra_names}$([ "$repeat" = 1 ] || echo " ($i/$repeat)")"
		# Repeated boots each keep their console and TAP (console.i.log).
		boot=$([ "$repeat" = 1 ] || echo "$i")
		BOOT=$boot bash "$REPO/scripts/vm.sh" "$r" $extra_names || true
		tap=$BUILD/runs/$r/result${boot:+.$boot}.tap
		[ -z "${VERBOSE:-}" ] || cat "$tap" >&2
		echo "# run $r" >>"$out"
		# A test's output comes before its result line; keep it for the
		# tests the user passed in and for failures.
		diag=""
		while IFS= read -r line; do
			case $line in
			"ok "* | "not ok "*)
				n=$((n + 1))
				status=${line%% [0-9-]*}
				rest=$(printf '%s' "$line" | sed -E 's/^(not )?ok [0-9]* ?-? ?//')
				name=${rest%% *}
				if [ "$status" = "not ok" ] || [[ " $extra_names " == *" $name "* ]]; then
					printf '%s' "$diag" >>"$out"
				fi
				echo "$status $n - $r: $rest" >>"$out"
				case $line in
				"not ok"*) fail=$((fail + 1)) ;;
				*"# SKIP"*) skip=$((skip + 1)) ;;
				*) pass=$((pass + 1)) ;;
				esac
				diag=""
				;;
			"# $r: "*) echo "$line" >>"$out" ;;
			"#"*) diag="$diag    $line"$'\n' ;;
			esac
		done <"$tap"
	done
done
echo "1..$n" >>"$out"
cat "$out"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
