#!/usr/bin/env bash
# make realguest: the 'realguest' runs (scripts/guest/realguest.sh), on the
# series and on the comparison kernel (scripts/compare-tree.sh: the series before
# its jump-free patches), and one table of what the real guest saw on each.
# The exit status is the series' (the comparison kernel is expected to fail
# clockcheck: its refreshes step the guest's clock). Runs of accelerated time
# (accelguest.sh) are booted on the series only: the comparison kernel has
# no KVM_CAP_X86_CLOCK_RATE.
source "$(dirname "$0")/../lib.sh"

[ -z "${KSRC:-}" ] || die "make realguest compares the series with its comparison kernel, not KSRC"
runs=$(bash "$REPO/scripts/runs.sh" names realguest | paste -sd' ')
[ -n "$runs" ] || die "no 'realguest' run in scripts/runs.conf"
cmp_runs=$(for r in $runs; do
	bash "$REPO/scripts/runs.sh" field "$r" 5 | grep -q 'accelguest\.sh' || echo "$r"
done | paste -sd' ')

log "realguest: series: $runs"
status=0
# shellcheck disable=SC2086
REPEAT=1 bash "$REPO/scripts/run.sh" $runs >"$BUILD/realguest-series.log" 2>&1 || status=1

# The same runs on the comparison tree: realguest.sh and its checker come
# from this repo, so run.sh builds and boots them there as on the series.
cmp=$BUILD/compare
# Without a comparison tree (compare-tree.sh failed: say why), the table
# shows the series alone.
if bash "$REPO/scripts/compare-tree.sh" >/dev/null 2>"$BUILD/compare-tree.err"; then
	log "realguest: comparison: $cmp_runs"
	# shellcheck disable=SC2086
	REPEAT=1 KSRC=$cmp/linux BUILD=$cmp bash "$REPO/scripts/run.sh" $cmp_runs \
		>"$BUILD/realguest-compare.log" 2>&1 || true
else
	log "realguest: no comparison kernel: $(grep '^error: ' "$BUILD/compare-tree.err" | tail -n 1)"
	cmp_runs=""
fi

# One row per realguest.sh: its summary line and its result.
echo "# What the real guest saw (scripts/guest/realguest.sh; readings are per clock, backwards"
echo "# counts CLOCK_MONOTONIC/CLOCK_MONOTONIC_RAW readings below an earlier one on any CPU,"
echo "# steps are the guest clock's change at each kvm-clock update, host references count"
echo "# master clock references from debugfs, '-' on a kernel without that file)."
echo "# compare = the series before its jump-free patches, with v1's masterclock_sync_period"
for k in series compare; do
	dir=$BUILD/runs rs=$runs
	[ $k = series ] || dir=$cmp/runs rs=$cmp_runs
	[ -n "$rs" ] || { echo "#   $k: not booted (no comparison tree: build/compare-tree.err)"; continue; }
	for r in $rs; do
		bash "$REPO/scripts/runs.sh" field "$r" 5 | grep -q 'accelguest\.sh' && continue
		tap=$dir/$r/result.tap
		[ -f "$tap" ] || { echo "#   $k $r: no result"; continue; }
		awk -v k="$k" '
			/^# realguest: period / { line = $0; sub(/^# realguest: /, "", line) }
			/^# realguest: FAIL: / { why = $0; sub(/^# realguest: FAIL: /, "", why) }
			/^(not )?ok / {
				res = /^not ok/ ? "FAIL" : "ok"
				printf "#   %-7s %-4s %s%s\n", k, res, line ? line : "(no summary)",
					res == "FAIL" && why ? " -- " why : ""
				line = ""; why = ""
			}' "$tap"
	done
done
# Accelerated time, series only: one row per accelguest.sh.
for r in $runs; do
	bash "$REPO/scripts/runs.sh" field "$r" 5 | grep -q 'accelguest\.sh' || continue
	tap=$BUILD/runs/$r/result.tap
	[ -f "$tap" ] || { echo "#   series $r: no result"; continue; }
	echo "# Accelerated time (scripts/guest/accelguest.sh, series only), run $r:"
	awk '
		/^# accelguest: rate / { line = $0; sub(/^# accelguest: /, "", line) }
		/^# accelguest: control: a VM/ { line = line " -- " substr($0, 24) }
		/^# accelguest: FAIL: / { why = $0; sub(/^# accelguest: FAIL: /, "", why) }
		/^(not )?ok / {
			res = /^not ok/ ? "FAIL" : /# SKIP/ ? "skip" : "ok"
			printf "#   %-4s %s%s\n", res, line ? line : "(no summary)",
				res == "FAIL" && why ? " -- " why : ""
			line = ""; why = ""
		}' "$tap"
done
echo "# every boot's TAP and console: build/runs/ and build/compare/runs/"
exit $status
