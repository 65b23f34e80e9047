#!/bin/sh
# KUnit suites of the kernel under test: kvm.ko's suites ran when the init
# loaded it (at boot when KVM is built in). Prints each suite's KTAP from
# /sys/kernel/debug/kunit/*/results and how long the suite took by the
# kernel log; passes if every suite passed, skips if there is none.
d=/sys/kernel/debug/kunit
[ -d /sys/kernel/debug/kunit ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d $d ] || { echo "1..0 # SKIP no $d (CONFIG_KUNIT_DEBUGFS)"; exit 4; }
set -- $d/*/results
[ -f "$1" ] || { echo "1..0 # SKIP no KUnit suite ran"; exit 4; }

# Seconds of the kernel log timestamp of the first line matching $1.
stamp() {
	dmesg | grep -m1 -E "$1" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'
}

rc=0 n=0 failed=""
for r in "$@"; do
	suite=$(basename "$(dirname "$r")")
	n=$((n + 1))
	cat "$r"
	t0=$(stamp "# Subtest: $suite\$")
	t1=$(stamp "(not )?ok [0-9]+ $suite( |\$)")
	[ -z "$t0" ] || [ -z "$t1" ] ||
		echo "# $suite: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s of guest time"
	# The suite's own result is its last unindented result line.
	res=$(grep -E '^(not )?ok [0-9]+ ' "$r" | tail -n 1)
	case $res in
	"ok "*) ;;
	*)
		rc=1
		failed="$failed $suite"
		;;
	esac
done
if [ $rc = 0 ]; then
	echo "# kunit: $n suite(s) passed"
else
	echo "# kunit: failed:$failed"
fi
exit $rc
