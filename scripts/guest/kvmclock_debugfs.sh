#!/bin/sh
# needs: kvmclock_bench
# Runs kvmclock_bench with its arguments and, every 0.2 s meanwhile, reads
# the host-side view of its VM: /sys/kernel/debug/kvm/*/kvmclock (steps of
# new references, what was carried, kvmclock minus CLOCK_MONOTONIC_RAW at
# one TSC value) and the VM statistic masterclock_references.  Prints the
# extremes; a kernel without them (the bench's comparison kernel) gets no
# debugfs figures.
# By path: the selftest library loads its own ELF through argv[0].
/tests/kvmclock_bench "$@" &
pid=$!
: >/tmp/kvmclock.samples
while kill -0 $pid 2>/dev/null; do
	for d in /sys/kernel/debug/kvm/*-*; do
		[ -f "$d/kvmclock" ] || continue
		cat "$d/kvmclock"
		echo "references: $(cat "$d/masterclock_references" 2>/dev/null)"
	done >>/tmp/kvmclock.samples 2>/dev/null
	sleep 0.2
done
wait $pid
rc=$?
awk -F': ' '
	function abs(v) { return v < 0 ? -v : v }
	$1 == "references" && $2 > refs { refs = $2 }
	$1 == "max_step_ns" && abs($2) > abs(step) { step = $2 }
	$1 == "carried_ns" && abs($2) > abs(carried) { carried = $2 }
	$1 == "divergence_ns" { n++; if (n == 1 || abs($2) > abs(div)) div = $2 }
	END {
		if (!n) { print "# debugfs kvmclock: no samples (no such file)"; exit }
		printf "# debugfs kvmclock: %d samples, references %d, max_step_ns %d, carried_ns %d, max |divergence_ns| %d\n",
			n, refs, step, carried, div
	}' /tmp/kvmclock.samples
exit $rc
