#!/bin/sh
# needs: $1
# kvmclock on a KVM host whose clocksource is Hyper-V's TSC page
# (hyperv_clocksource_tsc_page, vclock mode HVCLOCK), as when KVM runs nested
# on Hyper-V: there the clocksource's mult/shift convert the TSC page's
# 10 MHz reference counter, not TSC cycles. Debian's QEMU (-accel kvm) boots
# this kernel as L2 with Hyper-V enlightenments and without KVM's CPUID
# signature (Linux would detect KVM first and never start the Hyper-V
# clocksource). In L2, scripts/hvhost/init checks the clocksource and SVM,
# loads KVM with the run's parameters and runs TEST, whose guests (L3) run on
# nested SVM.
#   hvhost.sh TEST [ARGS]...
# Exits with TEST's status in L2 (4: skip), or 1 with a one-line cause and
# L2's console tail when L2 could not run it or its kernel logged a splat.
# Needs the files of scripts/qemu-l1.sh and scripts/hvhost/pack.sh.
d=/tmp/hvhost
# QEMU sits where Debian installs it (scripts/qemu-l1.sh).
export PATH=$PATH:/usr/bin
. /etc/run.conf
# The L1 init kills this script at TEST_TIMEOUT: give up before, with a cause.
limit=$((TEST_TIMEOUT - 30))
[ $limit -ge $((TEST_TIMEOUT / 2)) ] || limit=$((TEST_TIMEOUT / 2))
# Hyper-V's clock (TSC page and reference counter MSR, with the frequency
# MSRs), what Linux requires to take Hyper-V at all (the VP index MSR), and
# the TSC change notification that KVM on Hyper-V asks for.
hv="hv-time,hv-frequencies,hv-relaxed,hv-vpindex,hv-runtime,hv-reenlightenment"
# No XSAVE: QEMU TCG's SVM has no XSETBV intercept, so L1's KVM never sees
# L2 set XCR0 and keeps CPUID 0xd's size at x87/SSE's; L2 would warn "XSAVE
# consistency problem" at boot and turn XSAVE off anyway.
cpu="host,kvm=off,-xsave,$hv"

say() { echo "hvhost: $*"; }
up() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }'; }
# fail CAUSE [FILE...]: one line of cause, then each FILE's tail.
fail() {
	say "FAIL: $1"
	shift
	for f in "$@"; do
		[ ! -s "$f" ] || tail -n 25 "$f" | tr -d '\r' | sed "s|^|  $(basename "$f"): |"
	done
	[ -z "${pid:-}" ] || kill -9 "$pid" 2>/dev/null
	exit 1
}
[ $# -ge 1 ] || fail "usage: hvhost.sh TEST [ARGS]..."
[ -x "/tests/$1" ] || fail "no selftest /tests/$1 in L1"

# L2's initramfs, from L1's own files: L2 is the same kernel.
rm -rf $d
mkdir -p $d/root/bin $d/root/lib $d/root/tests $d/root/etc $d/root/proc $d/root/sys $d/root/dev $d/root/tmp
cp /bin/busybox $d/root/bin/
ln -s busybox $d/root/bin/sh
cp -a /lib/modules $d/root/lib/
cp "/tests/$1" $d/root/tests/
cp /hvhost/init $d/root/init
# L1's realtime too: microvm gives L2 no RTC, and tests that set kvmclock
# against the host's realtime need one that is not a few seconds after 1970.
printf 'KVM_PARAMS="%s"\nTEST="%s"\nREALTIME=%s\n' "$KVM_PARAMS" "$*" "$(date +%s)" \
	>$d/root/etc/hvhost.conf
(cd $d/root && find . | cpio -o -H newc 2>/dev/null) >$d/initrd.cpio || fail "cannot pack L2's initramfs"

t0=$(up)
qemu-system-x86_64 -accel kvm -machine microvm -cpu "$cpu" -smp 2 -m 512M \
	-nodefaults -no-user-config -display none -no-reboot -serial file:$d/serial \
	-kernel /l2/bzImage -initrd $d/initrd.cpio -append "console=ttyS0 loglevel=5 panic=-1" \
	</dev/null >$d/err 2>&1 &
pid=$!
init="" boot=""
while ! grep -q '^L2: end' $d/serial 2>/dev/null; do
	if ! kill -0 $pid 2>/dev/null; then
		wait $pid
		rc=$?
		dmesg | tail -n 8 >$d/l1-dmesg
		oops=$(tr -d '\r' <$d/serial | grep -m1 -E 'BUG:|Oops|general protection|Kernel panic' |
			sed 's/^\[[ 0-9.]*\] //')
		[ -z "$oops" ] || fail "L2's kernel crashed: $oops" $d/serial $d/l1-dmesg
		fail "QEMU exited with status $rc: $(head -n 1 $d/err)" $d/serial $d/err $d/l1-dmesg
	fi
	# When L2's init and its test started, as L1 sees them.
	[ -n "$init" ] || ! grep -q '^L2: clocksource' $d/serial 2>/dev/null || init=$(since "$t0")
	[ -n "$boot" ] || ! grep -q '^L2: test:' $d/serial 2>/dev/null || boot=$(since "$t0")
	if [ "$(since "$t0" | cut -d. -f1)" -ge $limit ]; then
		dmesg | tail -n 8 >$d/l1-dmesg
		fail "no result from L2 after $limit s (init at ${init:--} s, test at ${boot:--} s; TEST_TIMEOUT $TEST_TIMEOUT)" \
			$d/serial $d/l1-dmesg
	fi
	sleep 0.5
done
total=$(since "$t0")
kill -9 $pid
wait $pid 2>/dev/null

tr -d '\r' <$d/serial >$d/console
rc=$(sed -n 's/^L2: end //p' $d/console)
cause=$(sed -n 's/^L2: FAIL: //p' $d/console)
[ -z "$cause" ] || fail "$cause" $d/console
# L2's whole console: its checks, dmesg lines, and the test's output.
grep -v '^L2: end' $d/console
# One line with what the test did in L2 and how long each stage took.
say "$*: exit $rc in L2, $(sed -n 's/^L2: test took //p' $d/console); from QEMU's start:" \
	"L2's init ${init:--} s, the test ${boot:--} s, the end ${total} s"
splat=$(grep -m1 -E '^\[ *[0-9.]+\] .*(WARNING:|BUG:|Oops|general protection fault|Kernel panic|KASAN:|UBSAN:)' $d/console)
[ -z "$splat" ] || fail "L2's kernel logged: $splat"
exit "$rc"
