#!/usr/bin/env bash
# make bench: figures, never a pass/fail on timing.
#  - every 'bench' run of scripts/runs.conf on the series;
#  - the 'bench' runs that use kvmclock_refresh_test (or kvmclock_debugfs.sh,
#    which runs it) again on the comparison kernel (scripts/compare-tree.sh:
#    the series as it was before the refresh was made jump-free);
#  - one table, also written to build/bench.csv: kernel, variant, period,
#    largest clock step at a refresh of that period, drift per second.
source "$(dirname "$0")/lib.sh"

[ -z "${KSRC:-}" ] || die "make bench compares the series with its comparison kernel, not KSRC"

runs=$(bash "$REPO/scripts/runs.sh" names bench)
steps_runs=""
for r in $runs; do
	# Not 'producer | grep -q' under pipefail (see deps.sh).
	grep -q 'kvmclock_refresh_test\|kvmclock_debugfs' <<<"$(bash "$REPO/scripts/runs.sh" field "$r" 5)" &&
		steps_runs="$steps_runs $r"
done

log "bench: series:$(printf ' %s' $runs)"
# shellcheck disable=SC2086
bash "$REPO/scripts/run.sh" $runs >"$BUILD/bench-series.log" 2>&1 || true

cmp=$BUILD/compare
bash "$REPO/scripts/compare-tree.sh" >/dev/null

# Its kernels, with the series' selftests (the comparison tree has none of
# the new ones).
mkdir -p "$cmp/selftests"
rm -rf "$cmp/selftests/bin" && cp -r "$BUILD/selftests/bin" "$cmp/selftests/bin"
for v in $(for r in $steps_runs; do bash "$REPO/scripts/runs.sh" field "$r" 2; done | sort -u); do
	KSRC=$cmp/linux BUILD=$cmp bash "$REPO/scripts/kernel.sh" "$v" >"$cmp/kernel-$v.log" 2>&1 ||
		die "comparison kernel ($v) failed to build; see $cmp/kernel-$v.log"
	KSRC=$cmp/linux BUILD=$cmp bash "$REPO/scripts/initramfs.sh" "$v"
done
for r in $steps_runs; do
	log "bench: comparison: $r"
	KSRC=$cmp/linux BUILD=$cmp bash "$REPO/scripts/vm.sh" "$r" >/dev/null 2>&1 || true
done

# The table: the largest step of the watching vCPU in the periodic stages of
# kvmclock_refresh_test ("short period" is 1 s, "long period" is -p).
csv=$BUILD/bench.csv
echo "kernel,variant,period_s,refreshes,max_abs_step_ns,drift_ns_per_s" >"$csv"
for k in series compare; do
	dir=$BUILD/runs
	[ $k = series ] || dir=$cmp/runs
	for r in $steps_runs; do
		v=$(bash "$REPO/scripts/runs.sh" field "$r" 2)
		[ -f "$dir/$r/result.tap" ] || { echo "$k,$v,,,no result," >>"$csv"; continue; }
		awk -v k="$k" -v v="$v" '
			/periodic refresh, (short|long) period: masterclock_sync_period=/ {
				p = $0; sub(/.*masterclock_sync_period=/, "", p); sub(/,.*/, "", p)
			}
			/periodic refresh, (short|long) period: vCPU 1: / {
				n = $0; sub(/.*\(/, "", n); sub(/ new tsc_timestamp.*/, "", n)
				s = $0; sub(/.*largest step /, "", s); sub(/ ns.*/, "", s)
				a = s < 0 ? -s : s
				if (!((p) in best) || a > best[p]) { best[p] = a; cnt[p] = n }
			}
			END {
				for (p in best)
					printf "%s,%s,%s,%s,%d,%.1f\n", k, v, p, cnt[p], best[p], best[p] / p
			}' "$dir/$r/result.tap" | sort -t, -k3n >>"$csv"
	done
done

echo "# kvmclock step at a master clock refresh (kvmclock_refresh_test, guest-side, old vs new parameters at one TSC)"
echo "# compare = the series before its jump-free patches, with v1's masterclock_sync_period"
column -s, -t "$csv" | sed 's/^/# /'
echo "# the host's view (debugfs kvmclock, sampled every 0.2 s while the test ran):"
for k in series compare; do
	dir=$BUILD/runs
	[ $k = series ] || dir=$cmp/runs
	for r in $steps_runs; do
		grep -h 'debugfs kvmclock' "$dir/$r/result.tap" 2>/dev/null |
			sed "s/^[# ]*/#   $k $(bash "$REPO/scripts/runs.sh" field "$r" 2): /" || true
	done
done
echo "# cost of one periodic refresh (function_graph on kvmclock_sync_fn, series):"
for r in $runs; do
	grep -h 'refresh cost' "$BUILD/runs/$r/result.tap" 2>/dev/null | sed "s/^[# ]*/#   $r: /" || true
done
echo "# CSV: $csv; every boot's TAP: build/runs/ and build/compare/runs/"
