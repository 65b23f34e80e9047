#!/bin/sh
# Accelerated time in a real guest: Debian's QEMU, unchanged (-accel kvm,
# -machine microvm, 2 vCPUs), boots this kernel as a Linux guest whose
# kvmclock runs N times as fast as L1's clock. QEMU knows nothing of
# KVM_CAP_X86_CLOCK_RATE: scripts/accelguest/clockrate_preload.c, an
# LD_PRELOAD library, enables it on the VM right after KVM_CREATE_VM and
# logs the rate that KVM_CHECK_EXTENSION reads back on the VM.
#   accelguest.sh [-n N] [-t SECONDS] [-s SLEEP] [-c SECONDS] [-w WORK]
#   -n  the clock rate (default 100)
#   -t  real seconds of the idle and of the periodic phase (default 5)
#   -s  the guest's sleep to time, in guest seconds (default 60)
#   -c  real seconds of clockcheck (default: -t)
#   -w  the CPU-bound job, shell loop iterations (default 20000)
# The guest (scripts/accelguest/init) prints its own CLOCK_BOOTTIME and
# CLOCK_REALTIME at each step; tstamp stamps each console line with L1's
# time as it arrives. Figures, and a failure (exit 1, one line of cause)
# when a check fails:
#  - the preload library must abort QEMU on a rate KVM refuses (1001);
#  - 'sleep S' takes S/N of the host's time: at least S/N, at most S/N
#    plus the console and fork latency that 'sleep 0' took (measured just
#    before) plus 0.25 s, and at least S of the guest's;
#  - over the idle phase the guest's CLOCK_BOOTTIME advances N times L1's,
#    within 1 %, its CLOCK_REALTIME too, within 1 % plus 2 s (date +%s has
#    1 s of resolution at each end);
#  - a job every 10 guest seconds (sleep 10 in a loop) never runs sooner
#    than 10 guest seconds after the previous run, nor more often than N/10
#    times per real second (plus one run); how often it does run is a
#    figure (the fraction of N/10 per real second);
#  - clockcheck (scripts/realguest/clockcheck.c): no backwards reading of
#    CLOCK_MONOTONIC or CLOCK_MONOTONIC_RAW across the CPUs, no kvm-clock
#    update that moves the clock by more than 1 ns;
#  - the clocksource is kvm-clock at the start and at the end, and the
#    guest's dmesg marks no clocksource unstable; a WARNING, BUG or Oops in
#    it fails too. The kernel's other complaints (RCU stalls, hrtimer
#    hangs: CPU time does not accelerate) are reported.
# The VM's exits and interrupt injections per real second (debugfs) over the
# idle and the periodic phase are figures.
# Needs the files of scripts/qemu-l1.sh and scripts/accelguest/pack.sh.
d=/tmp/accelguest
ACCEL_TAIL=300
# QEMU sits where Debian installs it (scripts/qemu-l1.sh).
export PATH="$PATH:/usr/bin"
preload=/accelguest/clockrate_preload.so
n=100 t=5 s=60 c="" w=20000
while getopts n:t:s:c:w: o; do
	case $o in
	n) n=$OPTARG ;;
	t) t=$OPTARG ;;
	s) s=$OPTARG ;;
	c) c=$OPTARG ;;
	w) w=$OPTARG ;;
	*) exit 2 ;;
	esac
done
c=${c:-$t}
rm -rf $d
mkdir -p $d

say() { echo "accelguest: $*"; }
up() { cut -d' ' -f1 /proc/uptime; }
cleanup() {
	[ -z "${qpid:-}" ] || kill -9 "$qpid" 2>/dev/null
	[ -z "${tpid:-}" ] || kill "$tpid" 2>/dev/null
}
# fail CAUSE [FILE...]: one line of cause, then each FILE's tail (a console).
fail() {
	say "FAIL: $1"
	shift
	for f in "$@"; do
		[ ! -s "$f" ] || tail -n "${ACCEL_TAIL:-20}" "$f" | sed "s|^|accelguest:   $(basename "$f"): |"
	done
	cleanup
	exit 1
}
# exited: QEMU is gone; how, and what L1's kernel said meanwhile.
exited() {
	wait "$qpid"
	rc=$?
	qpid=""
	dmesg | tail -n 8 >$d/dmesg.tail
	oops=$(grep -m1 -E 'BUG:|Oops|general protection|Kernel panic' $d/serial 2>/dev/null |
		sed 's/^[0-9.]* //; s/^\[[ 0-9.]*\] //')
	[ -z "$oops" ] || fail "the guest kernel crashed: $oops" $d/serial $d/dmesg.tail
	fail "QEMU exited with status $rc: $(head -n 1 $d/err)" $d/serial $d/err $d/dmesg.tail
}

# qemu RATE EXTRA-APPEND: QEMU under the preload library in the background,
# its console through tstamp into $d/serial.
qemu() {
	rm -f $d/fifo
	mkfifo $d/fifo
	/accelguest/tstamp <$d/fifo >$d/serial &
	tpid=$!
	KVM_CLOCK_RATE=$1 LD_PRELOAD=$preload qemu-system-x86_64 -accel kvm -machine microvm \
		-cpu host,-xsave -smp 2 -m 128M -nodefaults -no-user-config -display none -no-reboot \
		-monitor none -serial file:$d/fifo -kernel /l2/bzImage -initrd /accelguest/initrd.cpio \
		-append "console=ttyS0 loglevel=2 panic=-1 -- $2" </dev/null >$d/err 2>&1 &
	qpid=$!
}

# The library fails loudly: a rate KVM refuses aborts QEMU before its guest
# runs (and a QEMU started without KVM_CLOCK_RATE never gets that far).
qemu 1001 ""
i=0
while kill -0 "$qpid" 2>/dev/null; do
	[ $i -lt 300 ] || fail "QEMU still runs after 60 s with KVM_CLOCK_RATE=1001" $d/err
	i=$((i + 1))
	sleep 0.2
done
wait "$qpid"
rc=$?
qpid=""
grep -q 'clockrate_preload: FATAL: KVM_ENABLE_CAP(KVM_CAP_X86_CLOCK_RATE, 1001).*Invalid argument' $d/err ||
	fail "QEMU with KVM_CLOCK_RATE=1001 (status $rc) did not fail on KVM_ENABLE_CAP" $d/err
kill "$tpid" 2>/dev/null
say "self-check: KVM_CLOCK_RATE=1001 aborted QEMU (status $rc): $(grep -m1 FATAL $d/err | sed 's/^clockrate_preload: //')"

t0=$(up)
qemu "$n" "-n $n -s $s -T $t -c $c -w $w"
# The library's line: the VM's pid and fd name its debugfs directory.
i=0
until grep -q '^clockrate_preload: pid' $d/err; do
	kill -0 "$qpid" 2>/dev/null || exited
	[ $i -lt 300 ] || fail "no line from $preload after 60 s" $d/err
	i=$((i + 1))
	sleep 0.2
done
line=$(grep -m1 '^clockrate_preload: pid' $d/err)
say "QEMU: ${line#clockrate_preload: }"
got=$(echo "$line" | sed -n 's/.*KVM_CAP_X86_CLOCK_RATE \([0-9]*\) .*/\1/p')
[ "$got" = "$n" ] || fail "the VM's rate is '$got', not $n" $d/err
vm=/sys/kernel/debug/kvm/$(echo "$line" | sed -n 's/^clockrate_preload: pid \([0-9]*\), VM fd \([0-9]*\):.*/\1-\2/p')
[ -d "$vm" ] || fail "no debugfs directory $vm for QEMU's VM"

# await PATTERN SECONDS: until the console shows PATTERN (real seconds).
await() {
	i=0
	while ! grep -q "$1" $d/serial 2>/dev/null; do
		kill -0 "$qpid" 2>/dev/null || exited
		grep -q 'accel: done' $d/serial 2>/dev/null && { grep -q "$1" $d/serial ||
			fail "the guest ended before '$1'" $d/serial; }
		[ $i -lt $(($2 * 2)) ] || fail "no '$1' from the guest after $2 s" $d/serial
		i=$((i + 1))
		sleep 0.5
	done
}
# The VM's statistics (summed over its vCPUs), with L1's time first.
STATS="exits halt_exits irq_exits irq_injections io_exits mmio_exits halt_wakeup"
snap() {
	printf '%s' "$(up)"
	for f in $STATS; do printf ' %s' "$(cat "$vm/$f" 2>/dev/null || echo 0)"; done
	echo
}
await 'accel: booted' 600
boot=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
hostdate=$(date +%s)
await 'accel: idle begin' $((s / n + 300))
snap >$d/idle.0
await 'accel: idle end' $((t + 300))
snap >$d/idle.1
await 'accel: periodic begin' 300
snap >$d/periodic.0
await 'accel: periodic end' $((t + 300))
snap >$d/periodic.1
await 'accel: done' $((c + 600))
cleanup

grep '^[0-9.]* \(accel\|clockcheck\):' $d/serial | grep -v 'accel: tick' >$d/report
sed 's/^/accelguest:   /' $d/report
# The host time of a marker line, and a field of it: at WHAT [FIELD].
# The guest's kernel may print amid a line: drop what starts with '['.
at() { grep -m1 "accel: $1 up" $d/serial | sed 's/\[.*//' | awk -v f="${2:-host}" '{
	if (f == "host") print $1; else for (i = 2; i < NF; i++) if ($i == f) print $(i + 1) }'; }
# rate FILE0 FILE1: the statistics per real second between two snapshots.
rate() { awk -v names="$STATS" 'NR == FNR { for (i = 1; i <= NF; i++) a[i] = $i; next }
	{ split(names, nm, " "); dt = $1 - a[1]; s = ""
	  for (i = 2; i <= NF; i++) s = s sprintf("%s%s %.0f", i > 2 ? ", " : "", nm[i - 1], ($i - a[i]) / dt)
	  print s }' "$1" "$2"; }
calc() { awk "BEGIN { $1 }"; }
# need VALUE...: none of them is empty.
need() { for v; do [ -n "$v" ] || return 1; done; }
errs=""
err() { errs="$errs${errs:+; }$*"; }

# The sleep, against the console/fork latency of a null sleep.
z0=$(at "sleep 0 begin") z1=$(at "sleep 0 end")
s0=$(at "sleep $s begin") s1=$(at "sleep $s end")
sg=$(calc "print $(at "sleep $s end" up) - $(at "sleep $s begin" up)")
need "$z0" "$z1" "$s0" "$s1" || fail "the guest's sleep markers are missing" $d/serial
lat=$(calc "printf \"%.3f\", $z1 - $z0")
host=$(calc "printf \"%.3f\", $s1 - $s0")
lo=$(calc "printf \"%.3f\", $s / $n")
hi=$(calc "printf \"%.3f\", $s / $n + $lat + 0.25")
say "sleep $s: host $host s (bound $lo..$hi: $s/$n plus the ${lat} s of 'sleep 0' plus 0.25 s), guest $sg s"
calc "exit !($host >= $lo && $host <= $hi)" || err "sleep $s took $host s of the host's, not $lo..$hi"
calc "exit !($sg >= $s)" || err "sleep $s took $sg s of the guest's"

# The guest's clocks over the idle phase.
i0=$(at "idle begin") i1=$(at "idle end")
need "$i0" "$i1" || fail "the guest's idle markers are missing" $d/serial
dh=$(calc "print $i1 - $i0")
dm=$(calc "print $(at "idle end" up) - $(at "idle begin" up)")
dr=$(calc "print $(at "idle end" date) - $(at "idle begin" date)")
mrate=$(calc "printf \"%.2f\", $dm / $dh")
rrate=$(calc "printf \"%.2f\", $dr / $dh")
say "idle $(calc "printf \"%.2f\", $dh") s: guest CLOCK_BOOTTIME x$mrate, CLOCK_REALTIME x$rrate (rate $n);" \
	"guest date minus L1's at boot $(($(at booted date) - hostdate)) s"
calc "d = $dm - $n * $dh; exit !(d <= 0.01 * $n * $dh && -d <= 0.01 * $n * $dh)" ||
	err "CLOCK_BOOTTIME ran x$mrate, not x$n within 1 %"
calc "d = $dr - $n * $dh; exit !(d <= 0.01 * $n * $dh + 2 && -d <= 0.01 * $n * $dh + 2)" ||
	err "CLOCK_REALTIME ran x$rrate, not x$n within 1 % + 2 s"
say "idle: per real second: $(rate $d/idle.0 $d/idle.1)"

# The periodic job: its runs between the phase's markers.
p0=$(at "periodic begin") p1=$(at "periodic end")
need "$p0" "$p1" || fail "the guest's periodic markers are missing" $d/serial
grep 'accel: tick ' $d/serial | awk -v a="$p0" -v b="$p1" '$1 >= a && $1 <= b' >$d/ticks
runs=$(wc -l <$d/ticks)
dp=$(calc "print $p1 - $p0")
per=$(calc "printf \"%.2f\", $runs / $dp")
frac=$(calc "printf \"%.0f\", 100 * $runs / ($dp * $n / 10)")
gap=$(awk '{ for (i = 2; i < NF; i++) if ($i == "up") u = $(i + 1)
	if (NR > 1 && (m == "" || u - p < m)) m = u - p; if (NR > 1 && u - p > x) x = u - p; p = u }
	END { printf "%s..%s", m == "" ? "-" : m, x == "" ? "-" : x }' $d/ticks)
say "periodic job (every 10 guest s): $runs runs in $(calc "printf \"%.2f\", $dp") s, $per per real second," \
	"$frac % of $n/10; guest time between runs $gap s; guest hours per real hour $(calc "printf \"%.1f\", $per * 10")"
say "periodic: per real second: $(rate $d/periodic.0 $d/periodic.1)"
[ "$runs" -gt 0 ] || calc "exit !($dp * $n / 10 < 3)" || err "the periodic job never ran"
calc "exit !($runs <= $dp * $n / 10 + 1)" || err "the periodic job ran $runs times in $dp s, more than $n/10 per second"
[ "${gap%%..*}" = - ] || calc "exit !(${gap%%..*} >= 10)" || err "a run came ${gap%%..*} guest s after the previous one, less than 10"

# CPU-bound work: its host time, and the guest's.
w0=$(at "cpu $w begin") w1=$(at "cpu $w end")
need "$w0" "$w1" || fail "the guest's CPU job markers are missing" $d/serial
wh=$(calc "printf \"%.2f\", $w1 - $w0")
wg=$(calc "printf \"%.2f\", $(at "cpu $w end" up) - $(at "cpu $w begin" up)")
say "cpu job ($w shell loop iterations): host $wh s, guest $wg s"

# clockcheck, the clocksource and the watchdog.
log=$(sed 's/^[0-9.]* //' $d/serial)
get() { printf '%s\n' "$log" | sed -n "s/$1/\\1/p" | head -n 1; }
say "clockcheck: readings $(get '^clockcheck: readings \([0-9]*\).*'), backwards" \
	"$(get '^clockcheck: MONOTONIC: backwards \([0-9]*\),.*')/$(get '^clockcheck: MONOTONIC_RAW: backwards \([0-9]*\),.*'), pvclock updates" \
	"$(get '^clockcheck: pvclock updates \([0-9]*\),.*') (steps $(get '^clockcheck: pvclock updates .*steps \(.*\) ns'))"
printf '%s\n' "$log" | grep -q '^clockcheck: ok' || err "clockcheck failed (see its report above)"
printf '%s\n' "$log" | grep -q '^accel: clocksource kvm-clock' || err "the guest's clocksource at boot was not kvm-clock"
printf '%s\n' "$log" | grep -q 'clocksource at the end kvm-clock' || err "kvm-clock is no longer the guest's clocksource"
unstable=$(printf '%s\n' "$log" | grep '^accel: dmesg:.*unstable' | head -n 3 | sed 's/^accel: dmesg: //' | paste -sd'|')
[ -z "$unstable" ] || err "the guest's watchdog marked a clocksource unstable: $unstable"
splat=$(printf '%s\n' "$log" | grep -m1 -E '^accel: dmesg:.*(WARNING:|BUG:|Oops)' | sed 's/^accel: dmesg: //')
[ -z "$splat" ] || err "the guest's kernel reported: $splat"
notes=$(printf '%s\n' "$log" | grep -E '^accel: dmesg:.*(stall|hrtimer|lockup|retried|skew|watchdog)' |
	sed 's/^accel: dmesg: \[[ 0-9.]*\] //' | sort | uniq -c | sed 's/^ *//' | head -n 5 | paste -sd'|')
[ -z "$notes" ] || say "guest kernel notes: $notes"

say "rate $n: boot $boot s, sleep $s $host s (guest $sg s), clocks x$mrate/x$rrate, periodic $per/s ($frac %)," \
	"cpu job host $wh s guest $wg s, idle exits $(rate $d/idle.0 $d/idle.1 | sed 's/^exits \([0-9]*\),.*/\1/')/s"
[ -z "$errs" ] || fail "$errs"
exit 0
