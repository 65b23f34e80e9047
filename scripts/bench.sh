#!/usr/bin/env bash
# make bench: figures, never a pass/fail on timing.
#  - every 'bench' run of scripts/runs.conf on the series;
#  - the same runs, but the trace kernel's, on the comparison kernel
#    (scripts/compare-tree.sh: the series before its exact-rate patch, with
#    series v1's masterclock_sync_period);
#  - tables, also in build/bench.csv: the guest's clock at the pages it saw
#    change (kvmclock_bench steps), the wake-ups of halted vCPUs
#    (kvmclock_bench idle), the host's view (debugfs) and the cost of the
#    periodic work (function_graph).
source "$(dirname "$0")/lib.sh"

[ -z "${KSRC:-}" ] || die "make bench compares the series with its comparison kernel, not KSRC"

runs=$(bash "$REPO/scripts/runs.sh" names bench)
cmp_runs=""
for r in $runs; do
	[ "$(bash "$REPO/scripts/runs.sh" field "$r" 2)" = trace ] || cmp_runs="$cmp_runs $r"
done

log "bench: series:$(printf ' %s' $runs)"
# shellcheck disable=SC2086
bash "$REPO/scripts/run.sh" $runs >"$BUILD/bench-series.log" 2>&1 || true

cmp=$BUILD/compare
bash "$REPO/scripts/compare-tree.sh" >/dev/null

# Its kernels, with the series' selftests and benchmarks.
mkdir -p "$cmp/selftests"
rm -rf "$cmp/selftests/bin" && cp -r "$BUILD/selftests/bin" "$cmp/selftests/bin"
for v in $(for r in $cmp_runs; do bash "$REPO/scripts/runs.sh" field "$r" 2; done | sort -u); do
	KSRC=$cmp/linux BUILD=$cmp bash "$REPO/scripts/kernel.sh" "$v" >"$cmp/kernel-$v.log" 2>&1 ||
		die "comparison kernel ($v) failed to build; see $cmp/kernel-$v.log"
	KSRC=$cmp/linux BUILD=$cmp bash "$REPO/scripts/initramfs.sh" "$v"
done
for r in $cmp_runs; do
	log "bench: comparison: $r"
	KSRC=$cmp/linux BUILD=$cmp bash "$REPO/scripts/vm.sh" "$r" >/dev/null 2>&1 || true
done

# "# bench steps: period P s, S s: N page changes, largest step X ns" and
# "# bench idle: period P s, N vCPUs, S s: W wake-ups (R per vCPU per s), ..."
csv=$BUILD/bench.csv
echo "what,kernel,variant,period_s,vcpus,seconds,count,value" >"$csv"
for k in series compare; do
	dir=$BUILD/runs
	[ $k = series ] || dir=$cmp/runs
	for r in $runs; do
		v=$(bash "$REPO/scripts/runs.sh" field "$r" 2)
		[ -f "$dir/$r/result.tap" ] || continue
		awk -v k="$k" -v v="$v" '
			function num(s, re) { if (match(s, re)) { s = substr(s, RSTART, RLENGTH); gsub(/[^0-9.-]/, "", s); return s } return "" }
			/# bench steps:/ {
				printf "steps,%s,%s,%s,1,%s,%s,%s\n", k, v, num($0, "period [0-9]+"),
					num($0, ", [0-9]+ s:"), num($0, "[0-9]+ page changes"),
					num($0, "largest step -?[0-9]+")
			}
			/# bench idle:/ {
				printf "idle,%s,%s,%s,%s,%s,%s,%s\n", k, v, num($0, "period [0-9]+"),
					num($0, "[0-9]+ vCPUs"), num($0, "vCPUs, [0-9]+ s"),
					num($0, "[0-9]+ wake-ups"), num($0, "\\([0-9.]+ per")
			}' "$dir/$r/result.tap" >>"$csv"
	done
done

echo "# The guest's kvmclock when its page changed, read for S s with kvm.masterclock_sync_period=P"
echo "# (kvmclock_bench steps: old against new parameters at one TSC value; compare = before the exact rate)"
awk -F, '$1 == "steps" { printf "#   %-7s %-8s period %3s s, %3s s: %4s page changes, largest step %6s ns\n", $2, $3, $4, $6, $7, $8 }' "$csv"
echo "# Halted vCPUs woken by the host (kvmclock_bench idle: KVM's halt_wakeup over S s, after 1 s to settle)"
awk -F, '$1 == "idle" { printf "#   %-7s %-8s period %3s s, %2s vCPUs, %3s s: %5s wake-ups, %s per vCPU per s\n", $2, $3, $4, $5, $6, $7, $8 }' "$csv"
echo "# The host's view (debugfs kvmclock and masterclock_references, sampled every 0.2 s):"
for k in series compare; do
	dir=$BUILD/runs
	[ $k = series ] || dir=$cmp/runs
	for r in $cmp_runs; do
		grep -h 'debugfs kvmclock' "$dir/$r/result.tap" 2>/dev/null |
			sed "s/^[# ]*/#   $k $(bash "$REPO/scripts/runs.sh" field "$r" 2): /" || true
	done
done
echo "# Cost of one run of the periodic work (function_graph on kvmclock_sync_fn, series):"
for r in $runs; do
	grep -h 'refresh cost' "$BUILD/runs/$r/result.tap" 2>/dev/null | sed "s/^[# ]*/#   $r: /" || true
done
echo "# CSV: $csv; every boot's TAP: build/runs/ and build/compare/runs/"
