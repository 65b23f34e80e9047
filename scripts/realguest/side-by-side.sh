#!/usr/bin/env bash
# make realguest: the 'realguest' runs (scripts/guest/realguest.sh), on the
# series and on the comparison kernel (scripts/compare-tree.sh: the series before
# its jump-free patches), and one table of what the real guest saw on each.
# The exit status is the series' (the comparison kernel is expected to fail
# clockcheck: its refreshes step the guest's clock).
source "$(dirname "$0")/../lib.sh"

[ -z "${KSRC:-}" ] || die "make realguest compares the series with its comparison kernel, not KSRC"
runs=$(bash "$REPO/scripts/runs.sh" names realguest | paste -sd' ')
[ -n "$runs" ] || die "no 'realguest' run in scripts/runs.conf"

log "realguest: series: $runs"
status=0
# shellcheck disable=SC2086
REPEAT=1 bash "$REPO/scripts/run.sh" $runs >"$BUILD/realguest-series.log" 2>&1 || status=1

# The same runs on the comparison tree: realguest.sh and its checker come
# from this repo, so run.sh builds and boots them there as on the series.
cmp=$BUILD/compare
bash "$REPO/scripts/compare-tree.sh" >/dev/null
log "realguest: comparison: $runs"
# shellcheck disable=SC2086
REPEAT=1 KSRC=$cmp/linux BUILD=$cmp bash "$REPO/scripts/run.sh" $runs \
	>"$BUILD/realguest-compare.log" 2>&1 || true

# One row per realguest.sh: its summary line and its result.
echo "# What the real guest saw (scripts/guest/realguest.sh; readings are per clock, backwards"
echo "# counts CLOCK_MONOTONIC/CLOCK_MONOTONIC_RAW readings below an earlier one on any CPU,"
echo "# steps are the guest clock's change at each kvm-clock update, host references count"
echo "# master clock references from debugfs, '-' on a kernel without that file)."
echo "# compare = the series before its jump-free patches, with v1's masterclock_sync_period"
for k in series compare; do
	dir=$BUILD/runs
	[ $k = series ] || dir=$cmp/runs
	for r in $runs; do
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
echo "# every boot's TAP and console: build/runs/ and build/compare/runs/"
exit $status
