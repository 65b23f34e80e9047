#!/bin/sh
# needs: kvmclock_refresh_test
# Runs kvmclock_refresh_test with its arguments and, every 0.2 s meanwhile,
# reads the host-side view of its VM: /sys/kernel/debug/kvm/*/kvmclock
# (master clock references, steps, kvmclock minus CLOCK_MONOTONIC_RAW at one
# TSC read). Prints the extremes; passes if the test passes. A kernel
# without that file (the bench's comparison kernel) gets no debugfs figures.
# By path: the selftest library loads its own ELF through argv[0].
/tests/kvmclock_refresh_test "$@" &
pid=$!
: >/tmp/kvmclock.samples
while kill -0 $pid 2>/dev/null; do
	cat /sys/kernel/debug/kvm/*/kvmclock 2>/dev/null >>/tmp/kvmclock.samples
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
