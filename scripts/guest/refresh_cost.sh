#!/bin/sh
# needs: kvmclock_bench
# Runs kvmclock_bench with its arguments while function_graph times every
# kvmclock_sync_fn(): with a period set, each call is one periodic check (a
# refresh when kvmclock moved), and the vCPUs are held out of the guest
# (KVM_REQ_MCLOCK_INPROGRESS) for at most its duration. Prints the
# durations; passes if the bench does.
t=/sys/kernel/tracing
[ -f $t/trace ] || mount -t tracefs tracefs $t
[ -f $t/set_graph_function ] || { echo "1..0 # SKIP no function_graph tracer (trace kernel)"; exit 4; }
grep -qw kvmclock_sync_fn $t/available_filter_functions ||
	{ echo "1..0 # SKIP kvmclock_sync_fn is not traceable"; exit 4; }
echo kvmclock_sync_fn >$t/set_graph_function
echo 1 >$t/max_graph_depth
echo function_graph >$t/current_tracer
echo >$t/trace
echo 1 >$t/tracing_on

# By path: the selftest library loads its own ELF through argv[0].
/tests/kvmclock_bench "$@"
rc=$?

echo 0 >$t/tracing_on
grep 'kvmclock_sync_fn' $t/trace | sed 's/.*[^0-9.]\([0-9.]*\) us.*/\1/' | sort -n >/tmp/cost
n=$(grep -c . /tmp/cost)
if [ "$n" -gt 0 ]; then
	awk -v n="$n" 'NR == 1 { min = $1 } NR == int((n + 1) / 2) { med = $1 } { max = $1; sum += $1 }
		END { printf "# refresh cost (kvmclock_sync_fn, %d calls): min %.1f us, median %.1f us, mean %.1f us, max %.1f us\n", n, min, med, sum / n, max }' /tmp/cost
else
	echo "# refresh cost: no kvmclock_sync_fn call traced"
fi
echo nop >$t/current_tracer
exit $rc
