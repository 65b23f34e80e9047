#!/bin/sh
# Accelerated time in a real guest: Debian's QEMU, unchanged (-accel kvm,
# -machine microvm, 2 vCPUs), boots this kernel as a Linux guest whose
# kvmclock runs N times as fast as L1's clock. QEMU knows nothing of
# KVM_CAP_X86_CLOCK_RATE: scripts/accelguest/clockrate_preload.c, an
# LD_PRELOAD library, enables it on the VM right after KVM_CREATE_VM and
# logs the rate that KVM_CHECK_EXTENSION reads back on the VM.
#   accelguest.sh [-n N] [-t SECONDS] [-s SLEEP] [-c SECONDS] [-w WORK] [-l LEVEL] [-P] [-x E]
#   -n  the clock rate (default 100)
#   -t  real seconds of the idle and of the periodic phase (default 5)
#   -s  the guest's sleep to time, in guest seconds (default 60)
#   -c  real seconds of clockcheck (default: -t)
#   -w  the CPU-bound job, shell loop iterations (default 2000)
#   -l  the guest's console loglevel (default 2, quiet); 8 shows its boot
#       as it goes, with the guest's printk times next to L1's stamps
#   -P  no preload library: QEMU exactly as Debian ships it, the VM at
#       KVM's default rate 1 (needs -n 1)
#   -x  the control: check against rate E instead of N. Passes only if the
#       checks that depend on the rate (sleep, clocks, periodic job) all
#       fail and the others pass: proof that a VM not at rate E fails them
# On a kernel without KVM_CAP_X86_CLOCK_RATE (KVM_CHECK_EXTENSION on
# /dev/kvm gives 0, e.g. the comparison kernel of 'make realguest') it
# skips (exit 4).
#
# The guest (scripts/accelguest/init, accelclock.c) prints its own
# CLOCK_BOOTTIME and CLOCK_REALTIME at each step, read just before the line
# is written; tstamp stamps each console line with L1's CLOCK_BOOTTIME as it
# arrives. Checks, with E the rate expected (-x, else N); a failure exits 1
# with one line of cause:
#  - the library aborts QEMU on a rate KVM refuses (1001), and the rate
#    KVM_CHECK_EXTENSION reads back on the VM is N;
#  - sleep S (clock_nanosleep, as sleep(1) does it) takes S/E of L1's time:
#    at least S/E - 0.05 s (console jitter), at most S/E + 2 s (the wake-up
#    and console latency under nested TCG, 0.3..1 s in the runs so far on a
#    loaded 2-core host, see below), and at least S of the guest's;
#  - over the idle phase (an S = E*T sleep) the guest's CLOCK_BOOTTIME and
#    CLOCK_REALTIME each advance E times L1's, within 2 % (of the range
#    that the guest's time to send its mark lines leaves, see there);
#  - a job every 10 guest seconds (a 'while sleep 10' loop, in accelclock)
#    never runs sooner than 10 guest seconds after its previous run, runs
#    at most E/10 times per real second (plus one run), and at least as
#    often as it would if each run cost 1 s of L1's time on top of its
#    10/E s sleep (minus one run);
#  - clockcheck (scripts/realguest/clockcheck.c): no backwards reading of
#    CLOCK_MONOTONIC or CLOCK_MONOTONIC_RAW across the CPUs, no kvm-clock
#    update that moves the clock by more than 1 ns;
#  - the clocksource is kvm-clock at the start and at the end, the guest
#    never marks kvm-clock unstable, and its kernel logs no WARNING, BUG or
#    Oops (but one: see the comment where it is checked). What its
#    clocksource watchdog did with the tsc clocksource and the kernel's
#    other complaints (hrtimer hangs: the CPU does not accelerate) are
#    reported, not checked.
# Why the latencies are this large on this harness: the guest's CPU does not
# accelerate, and while a vCPU runs, Linux's tick asks for HZ (250) timer
# interrupts per second of the guest's, N * 250 per second of L1's, each a
# few VM exits; nested TCG delivers a few thousand exits per second. A woken
# guest (a sleep's end, a periodic run) thus runs 1/20..1/40 of its speed at
# N = 100 until it idles again, and a wake-up takes tenths of a second of L1.
# Figures, no bounds: busybox's 'sleep S' as a shell runs it (exec costs),
# the periodic job's runs per real second and share of E/10, a CPU-bound
# shell loop's host and guest time, the VM's exits and interrupt injections
# per real second (debugfs, sampled every 0.2 s) over the idle and the
# periodic phase and while clockcheck keeps both vCPUs busy, guest hours
# per real hour.
# Needs the files of scripts/qemu-l1.sh and scripts/accelguest/pack.sh.
d=/tmp/accelguest
# QEMU sits where Debian installs it (scripts/qemu-l1.sh).
export PATH="$PATH:/usr/bin"
preload=/accelguest/clockrate_preload.so
n=100 t=5 s=60 c="" w=2000 P="" x="" l=2
while getopts n:t:s:c:w:l:Px: o; do
	case $o in
	n) n=$OPTARG ;;
	t) t=$OPTARG ;;
	s) s=$OPTARG ;;
	c) c=$OPTARG ;;
	w) w=$OPTARG ;;
	l) l=$OPTARG ;;
	P) P=1 ;;
	x) x=$OPTARG ;;
	*) exit 2 ;;
	esac
done
c=${c:-$t}
e=${x:-$n}
[ -z "$P" ] || [ "$n" = 1 ] || { echo "accelguest: -P runs the VM at rate 1: use -n 1"; exit 2; }
rm -rf $d
mkdir -p $d

say() { echo "accelguest: $*"; }
up() { cut -d' ' -f1 /proc/uptime; }
cleanup() {
	[ -z "${spid:-}" ] || kill "$spid" 2>/dev/null
	[ -z "${qpid:-}" ] || kill -9 "$qpid" 2>/dev/null
	[ -z "${tpid:-}" ] || kill "$tpid" 2>/dev/null
	spid="" qpid="" tpid=""
}
# fail CAUSE [FILE...]: one line of cause, then each FILE's tail (a console).
fail() {
	say "FAIL: $1"
	shift
	for f in "$@"; do
		[ ! -s "$f" ] || tail -n 40 "$f" | sed "s|^|accelguest:   $(basename "$f"): |"
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

max=$(/accelguest/kvmcap) || fail "KVM_CHECK_EXTENSION(KVM_CAP_X86_CLOCK_RATE) on /dev/kvm failed"
if [ "$max" = 0 ]; then
	echo "SKIP: this KVM has no KVM_CAP_X86_CLOCK_RATE"
	exit 4
fi

# qemu RATE EXTRA-APPEND: QEMU (under the preload library unless -P) in
# the background, its console through tstamp into $d/serial. The guest's
# CPU does not accelerate: per second of its own it gets 1/N of the CPU
# time, so RCU's stall timeout (21 s of its time) would report stalls, each
# with stack dumps that cost more CPU, whenever one CPU is busy for 21/N s
# of L1's: an aging test turns them off (rcu_cpu_stall_suppress).
# -xsave: with TCG's XSAVE in L1's CPUID, L2's fpu__init_system_xstate()
# warns now and then (xstate.c:605) at any rate; it has nothing to do with
# time and would fail the no-WARNING check.
qemu() {
	rm -f $d/fifo
	mkfifo $d/fifo
	/accelguest/tstamp <$d/fifo >$d/serial &
	tpid=$!
	pre="KVM_CLOCK_RATE=$1 LD_PRELOAD=$preload"
	[ -z "$P" ] || pre=""
	# shellcheck disable=SC2086
	env $pre qemu-system-x86_64 -accel kvm -machine microvm -cpu host,-xsave -smp 2 -m 128M \
		-nodefaults -no-user-config -display none -no-reboot -monitor none \
		-serial file:$d/fifo -kernel /l2/bzImage -initrd /accelguest/initrd.cpio \
		-append "console=ttyS0 loglevel=$l panic=-1 rcupdate.rcu_cpu_stall_suppress=1 -- $2" </dev/null >$d/err 2>&1 &
	qpid=$!
}

if [ -z "$P" ]; then
	# The library fails loudly: a rate KVM refuses aborts QEMU before its
	# guest runs (and one started without KVM_CLOCK_RATE never gets that far).
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
	tpid=""
	say "self-check: KVM_CLOCK_RATE=1001 aborted QEMU (status $rc): $(grep -m1 FATAL $d/err | sed 's/^clockrate_preload: //')"
fi

t0=$(up)
qemu "$n" "-n $n -s $s -T $t -c $c -w $w"
if [ -z "$P" ]; then
	# The library's line: the rate KVM reads back on the VM.
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
else
	say "QEMU without the preload library: the VM at KVM's default rate"
fi
# The VM's debugfs directory: QEMU's pid and the VM's fd.
i=0
until vm=$(ls -d /sys/kernel/debug/kvm/"$qpid"-* 2>/dev/null | head -n 1) && [ -n "$vm" ]; do
	kill -0 "$qpid" 2>/dev/null || exited
	[ $i -lt 300 ] || fail "no debugfs directory for QEMU's VM after 60 s"
	i=$((i + 1))
	sleep 0.2
done

# The VM's statistics (summed over its vCPUs), with L1's time first, every
# 0.2 s; only shell builtins, so that the sampler costs L1 little.
STATS="exits halt_exits irq_exits irq_injections io_exits halt_wakeup"
while :; do
	read -r u _ </proc/uptime
	l=$u
	for f in $STATS; do
		v=0
		read -r v <"$vm/$f" 2>/dev/null
		l="$l $v"
	done
	echo "$l"
	sleep 0.2
done >$d/stats &
spid=$!

# progress: how far a guest that is too slow got, from the printk times on
# its console (guest time) against L1's stamps.
progress() {
	awk -v t0="$t0" '/^[0-9.]+ \[ *[0-9]+\.[0-9]+\]/ {
		g = $0; sub(/^[0-9.]+ \[ */, "", g); sub(/\].*/, "", g)
		if (!n++) { h0 = $1; g0 = g } h1 = $1; g1 = g }
		END { if (n < 2) { print "accelguest: guest console: no printk lines"; exit }
		  printf "accelguest: guest console: %d printk lines, the last at guest %.1f s, %.1f s after QEMU started;", n, g1, h1 - t0
		  printf " the guest clock ran x%.0f of L1 over them\n", (g1 - g0) / (h1 - h0) }' $d/serial
}
# await PATTERN: until the console shows PATTERN, at most until the
# deadline: 30 s before the harness's per-test limit (TEST_TIMEOUT), so that
# a guest too slow to finish fails with its console's tail, which shows
# how far it got.
limit=$(sed -n 's/^TEST_TIMEOUT=//p' /etc/run.conf 2>/dev/null)
deadline=$(awk -v a="$t0" -v l="${limit:-600}" 'BEGIN { printf "%d", a + l - 30 }')
await() {
	while ! grep -q "$1" $d/serial 2>/dev/null; do
		kill -0 "$qpid" 2>/dev/null || exited
		grep -q 'accel: done' $d/serial 2>/dev/null && { grep -q "$1" $d/serial ||
			fail "the guest ended before '$1'" $d/serial; }
		u=$(up)
		[ "${u%.*}" -lt "$deadline" ] || {
			progress
			fail "no '$1' from the guest after $(awk -v a="$t0" -v b="$u" 'BEGIN { printf "%.0f", b - a }') s" $d/serial
		}
		sleep 0.5
	done
}
await 'accel: booted'
boot=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
await 'accel: done'
cleanup

grep '^[0-9.]* \(accel\|clockcheck\):' $d/serial >$d/report
sed 's/^/accelguest:   /' $d/report
# at WHAT [FIELD]: L1's time of WHAT's line ('host'), or its 'boot' or
# 'real' field. The guest's kernel may print amid a line: drop from '['.
at() { grep -m1 " accel: $1 boot " $d/serial | sed 's/\[.*//' | awk -v f="${2:-host}" '{
	if (f == "host") print $1; else for (i = 2; i < NF; i++) if ($i == f) print $(i + 1) }'; }
calc() { awk "BEGIN { $1 }"; }
# need VALUE...: none of them is empty.
need() { for v; do [ -n "$v" ] || return 1; done; }
# rate A B: the statistics per real second from the first sample at or
# after L1 time A to the last one at or before B.
rate() { awk -v a="$1" -v b="$2" -v names="$STATS" '
	$1 >= a && !f { split($0, x); f = 1 } $1 <= b { split($0, y) }
	END { k = split(names, nm, " "); dt = y[1] - x[1]; if (!f || dt <= 0) { print "-"; exit }
	  for (i = 2; i <= k + 1; i++) s = s sprintf("%s%s %.0f", i > 2 ? ", " : "", nm[i - 1], (y[i] - x[i]) / dt)
	  printf "%s (over %.2f s)\n", s, dt }' $d/stats; }
# Checks that depend on the rate (rerr) and the others (err).
rerrs="" errs=""
rerr() { rerrs="$rerrs${rerrs:+; }$*"; }
err() { errs="$errs${errs:+; }$*"; }
ex=${x:+ (expected: rate $x)}

# The sleep, clock_nanosleep as sleep(1) does it.
s0=$(at "sleep $s begin") s1=$(at "sleep $s end")
need "$s0" "$s1" || fail "the guest's sleep markers are missing" $d/serial
sg=$(calc "printf \"%.3f\", $(at "sleep $s end" boot) - $(at "sleep $s begin" boot)")
host=$(calc "printf \"%.3f\", $s1 - $s0")
lo=$(calc "printf \"%.3f\", $s / $e - 0.05")
hi=$(calc "printf \"%.3f\", $s / $e + 2")
say "sleep $s: host $host s (bound $lo..$hi: $s/$e -0.05/+2 s), guest $sg s"
calc "exit !($host >= $lo && $host <= $hi)" || rerr "sleep $s took $host s of the host's, not $lo..$hi"
calc "exit !($sg >= $s)" || err "sleep $s took $sg s of the guest's"
# busybox's sleep as a shell runs it: a figure.
z0=$(at "shell sleep 0 begin") z1=$(at "shell sleep 0 end")
b0=$(at "shell sleep $s begin") b1=$(at "shell sleep $s end")
need "$z0" "$z1" "$b0" "$b1" || fail "the guest's shell sleep markers are missing" $d/serial
shost=$(calc "printf \"%.3f\", $b1 - $b0")
say "shell 'sleep $s': host $shost s, guest" \
	"$(calc "printf \"%.3f\", $(at "shell sleep $s end" boot) - $(at "shell sleep $s begin" boot)") s;" \
	"'sleep 0' (the exec of sleep and of the mark): host $(calc "printf \"%.3f\", $z1 - $z0") s, guest" \
	"$(calc "printf \"%.3f\", $(at "shell sleep 0 end" boot) - $(at "shell sleep 0 begin" boot)") s"

# The guest's clocks over the idle phase. L1 stamps the first byte of a
# mark's line; the guest sent it between the line's reading and the one of
# its 'drained' line (accelclock.c), so each clock's rate lies between
# LO = (end - begin drained) / L1's time and HI = (end drained - begin) /
# L1's time: E within 2 % of LO..HI passes. A guest slow to send its lines
# widens LO..HI (reported), it does not fail the check.
i0=$(at "idle begin") i1=$(at "idle end")
need "$i0" "$i1" || fail "the guest's idle markers are missing" $d/serial
dh=$(calc "print $i1 - $i0")
# window CLOCK: "MID LO HI", the rate of CLOCK (boot, real) over the phase.
window() {
	b0=$(at "idle begin" "$1") b0d=$(at "idle begin drained" "$1")
	b1=$(at "idle end" "$1") b1d=$(at "idle end drained" "$1")
	need "$b0" "$b1" || fail "the guest's idle markers are missing" $d/serial
	# Not a terminal (no drained lines): the readings alone.
	b0d=${b0d:-$b0} b1d=${b1d:-$b1}
	calc "printf \"%.3f %.3f %.3f\", ($b1 - $b0) / $dh, ($b1 - $b0d) / $dh, ($b1d - $b0) / $dh"
}
# check NAME MID LO HI
check() {
	calc "exit !($3 <= 1.02 * $e && $4 >= 0.98 * $e)" ||
		rerr "$1 ran x$2 (x$3..x$4), not x$e within 2 %"
}
# shellcheck disable=SC2046 # three numbers
set -- $(window boot)
mrate=$1 mlo=$2 mhi=$3
check CLOCK_BOOTTIME "$@"
# shellcheck disable=SC2046
set -- $(window real)
rrate=$1 rlo=$2 rhi=$3
check CLOCK_REALTIME "$@"
say "idle $(calc "printf \"%.3f\", $dh") s of L1's: guest CLOCK_BOOTTIME x$mrate (x$mlo..x$mhi)," \
	"CLOCK_REALTIME x$rrate (x$rlo..x$rhi) (expected x$e)"
idle=$(rate "$i0" "$i1")
say "idle: per real second: $idle"

# The periodic job.
p0=$(at "periodic begin") p1=$(at "periodic end")
need "$p0" "$p1" || fail "the guest's periodic markers are missing" $d/serial
pr=$(grep -m1 'accel: periodic runs' $d/serial | sed 's/\[.*//')
runs=$(echo "$pr" | sed -n 's/.*periodic runs \([0-9]*\) .*/\1/p')
gmin=$(echo "$pr" | sed -n 's/.* gap \([0-9.]*\)\.\.\([0-9.]*\).*/\1/p')
gmax=$(echo "$pr" | sed -n 's/.* gap \([0-9.]*\)\.\.\([0-9.]*\).*/\2/p')
need "$runs" "$gmin" "$gmax" || fail "the guest's periodic job did not report" $d/serial
dp=$(calc "print $p1 - $p0")
per=$(calc "printf \"%.2f\", $runs / $dp")
frac=$(calc "printf \"%.0f\", 100 * $runs / ($dp * $e / 10)")
rmin=$(calc "r = $dp / (10 / $e + 1) - 1; printf \"%d\", r < 0 ? 0 : r")
rmax=$(calc "printf \"%d\", $dp * $e / 10 + 1")
say "periodic job (every 10 guest s): $runs runs in $(calc "printf \"%.2f\", $dp") s of L1's, $per per real second," \
	"$frac % of $e/10 (bound $rmin..$rmax runs); guest time between runs $gmin..$gmax s"
if [ "$runs" -lt "$rmin" ] || [ "$runs" -gt "$rmax" ]; then rerr "the periodic job ran $runs times in $dp s, not $rmin..$rmax"; fi
[ "$runs" -lt 2 ] || calc "exit !($gmin >= 10)" || err "a run came $gmin guest s after the previous one, less than 10"
periodic=$(rate "$p0" "$p1")
say "periodic: per real second: $periodic"

# CPU-bound work: its host time, and the guest's.
w0=$(at "cpu $w begin") w1=$(at "cpu $w end")
need "$w0" "$w1" || fail "the guest's CPU job markers are missing" $d/serial
wh=$(calc "printf \"%.2f\", $w1 - $w0")
wg=$(calc "printf \"%.2f\", $(at "cpu $w end" boot) - $(at "cpu $w begin" boot)")
say "cpu job ($w shell loop iterations): host $wh s, guest $wg s"

# clockcheck, the clocksource and the watchdog.
log=$(sed 's/^[0-9.]* //' $d/serial)
get() { printf '%s\n' "$log" | sed -n "s/$1/\\1/p" | head -n 1; }
cc="readings $(get '^clockcheck: readings \([0-9]*\).*'), backwards"
cc="$cc $(get '^clockcheck: MONOTONIC: backwards \([0-9]*\),.*')/$(get '^clockcheck: MONOTONIC_RAW: backwards \([0-9]*\),.*')"
cc="$cc, pvclock updates $(get '^clockcheck: pvclock updates \([0-9]*\),.*') (steps $(get '^clockcheck: pvclock updates .*steps \(.*\) ns,.*') ns)"
say "clockcheck: $cc"
# Both vCPUs busy: what the VM's exits come to when the guest's tick runs.
c0=$(grep -m1 '^[0-9.]* clockcheck: start' $d/serial | cut -d' ' -f1)
c1=$(grep -m1 '^[0-9.]* clockcheck: readings' $d/serial | cut -d' ' -f1)
busy=-
! need "$c0" "$c1" || busy=$(rate "$c0" "$c1")
say "clockcheck (both vCPUs busy): per real second: $busy"
printf '%s\n' "$log" | grep -q '^clockcheck: ok' || err "clockcheck failed (see its report above)"
printf '%s\n' "$log" | grep -q '^accel: clocksource kvm-clock' || err "the guest's clocksource at boot was not kvm-clock"
printf '%s\n' "$log" | grep -q 'clocksource at the end kvm-clock' || err "kvm-clock is no longer the guest's clocksource"
end_cs=$(get '.*clocksource at the end \([^ ]*\) boot.*')
unstable=$(printf '%s\n' "$log" | grep "^accel: dmesg:.*'kvm-clock'.*unstable" | head -n 1 | sed 's/^accel: dmesg: //')
[ -z "$unstable" ] || err "the guest marked kvm-clock unstable: $unstable"
# One WARNING is reported, not failed: hrtimer_forward() on a timer that is
# enqueued again while its callback runs (kernel/time/hrtimer.c), seen at
# N = 100 from the scheduler's timers when the guest's timers run far behind
# (its CPU is 1/N as fast); a guest kernel race that the lag exposes, not a
# clock that went wrong (clockcheck and the clocks above say so).
lagwarn=$(printf '%s\n' "$log" | grep -E '^accel: dmesg:.*WARNING:.*kernel/time/hrtimer\.c:[0-9]+ hrtimer_forward\+' |
	head -n 1 | sed 's/^accel: dmesg: //')
[ -z "$lagwarn" ] || say "guest kernel WARNING, reported, not failed: $lagwarn"
splat=$(printf '%s\n' "$log" | grep -E '^accel: dmesg:.*(WARNING:|BUG:|Oops)' |
	grep -vE 'WARNING:.*kernel/time/hrtimer\.c:[0-9]+ hrtimer_forward\+' | head -n 1 | sed 's/^accel: dmesg: //')
[ -z "$splat" ] || err "the guest's kernel reported: $splat"
# What the watchdog and the kernel said: each kind of line once, counted.
notes=$(printf '%s\n' "$log" | grep '^accel: dmesg:' | grep -vE 'Switched to clocksource|PCI: |ommand line:' |
	sed 's/^accel: dmesg: \[[ 0-9.]*\] //; s/[0-9][0-9]*/#/g' | sort | uniq -c | sort -rn | sed 's/^ *//' |
	head -n 8 | paste -sd'|')
say "guest kernel notes (count, message with numbers as #): ${notes:-none}"

hours=$(calc "printf \"%.0f h = %.1f days\", $mrate, $mrate / 24")
say "rate $n$ex: boot $boot s; sleep $s: $host s of L1's (guest $sg s); shell sleep $s: $shost s;" \
	"clocks x$mrate (x$mlo..x$mhi)/x$rrate; periodic $per/s ($frac % of $e/10); cpu job host $wh s guest $wg s;" \
	"exits/s idle $(echo "$idle" | sed -n 's/^exits \([0-9]*\),.*/\1/p'), periodic" \
	"$(echo "$periodic" | sed -n 's/^exits \([0-9]*\),.*/\1/p'), busy $(echo "$busy" | sed -n 's/^exits \([0-9]*\),.*/\1/p'); clockcheck $cc; clocksource at the end $end_cs;" \
	"guest time per real hour $hours (idle clock)${lagwarn:+; guest WARNING (not failed) in hrtimer_forward}"
if [ -n "$x" ]; then
	# The control: every rate check must have failed, nothing else.
	say "control: rate checks against rate $x: ${rerrs:-none failed}"
	[ -z "$errs" ] || fail "$errs"
	for what in "sleep $s took" "CLOCK_BOOTTIME ran" "CLOCK_REALTIME ran" "the periodic job ran"; do
		case $rerrs in *"$what"*) ;; *) fail "control: the check '$what' passed for a VM at rate $n checked against rate $x" ;; esac
	done
	say "control: a VM at rate $n fails every rate check of rate $x"
	exit 0
fi
errs="$rerrs${rerrs:+${errs:+; }}$errs"
[ -z "$errs" ] || fail "$errs"
exit 0
