#!/bin/sh
# A real guest under a real VMM. Debian's QEMU (-accel kvm, -machine microvm,
# 2 vCPUs) boots this kernel as a Linux guest with kvm-clock, and clockcheck
# (scripts/realguest/clockcheck.c) checks inside it that CLOCK_MONOTONIC and
# CLOCK_MONOTONIC_RAW never go backwards across CPUs and how far each
# kvm-clock update moves the guest's clock. The host side counts the master
# clock references and periodic checks (VM statistics in debugfs) meanwhile.
#   realguest.sh [-p PERIOD] [-t SECONDS] [-M PAUSE] [-q MACHINE] [-Q QEMU]
#   -p  set kvm.masterclock_sync_period to PERIOD first (restored after)
#   -t  how long clockcheck reads, in guest seconds (default 10)
#   -M  migrate the guest halfway: stop, save to a file, quit; PAUSE s later
#       a second QEMU loads it (-incoming) and the guest goes on; the
#       summary then says what the migration did to the guest's clocks
#   -q  QEMU machine type (default microvm, the fastest to boot here)
#   -Q  which QEMU runs both sides: 'stock' (Debian's, the default) or
#       'patched' (make qemu: Debian's plus scripts/realguest/qemu-kvmclock.patch,
#       which counts the pause with KVM_[GS]ET_CLOCK_GUEST)
# Needs the files of scripts/qemu-l1.sh and scripts/realguest/pack.sh in the
# initramfs.
d=/tmp/realguest
# QEMU sits where Debian installs it (scripts/qemu-l1.sh).
export PATH=$PATH:/usr/bin
param=/sys/module/kvm/parameters/masterclock_sync_period
period="" secs=10 pause="" qemus="" machine=microvm which=stock
while getopts p:t:M:q:Q: o; do
	case $o in
	p) period=$OPTARG ;;
	t) secs=$OPTARG ;;
	M) pause=$OPTARG ;;
	q) machine=$OPTARG ;;
	Q) which=$OPTARG ;;
	*) exit 2 ;;
	esac
done
rm -rf $d
mkdir -p $d

say() { echo "realguest: $*"; }
up() { cut -d' ' -f1 /proc/uptime; }
cleanup() {
	for q in $qemus; do kill -9 "$(cat $d/$q.pid)" 2>/dev/null; done
	[ -z "${sampler:-}" ] || kill $sampler 2>/dev/null
	[ -z "$period" ] || [ -z "${saved:-}" ] || echo "$saved" >$param
}
# fail CAUSE [FILE...]: one line of cause, then each FILE's tail (a console).
fail() {
	say "FAIL: $1"
	shift
	for f in "$@"; do
		[ ! -s "$f" ] || tail -n 20 "$f" | sed "s|^|realguest:   $(basename "$f"): |"
	done
	cleanup
	exit 1
}
# exited NAME: QEMU NAME is gone; how, and what L1's kernel said meanwhile.
# A guest kernel that crashed resets, and -no-reboot makes QEMU exit.
exited() {
	wait "$(cat $d/$1.pid)"
	rc=$?
	dmesg | tail -n 8 >$d/dmesg.tail
	oops=$(tr -d '\r' <$d/$1.serial 2>/dev/null | grep -m1 -E 'BUG:|Oops|general protection|Kernel panic' |
		sed 's/^\[[ 0-9.]*\] //')
	[ -z "$oops" ] || fail "the guest kernel of QEMU $1 crashed: $oops" $d/$1.serial $d/dmesg.tail
	tr -d '\r' <$d/$1.mon.log 2>/dev/null | grep 'status\|Migration' | tail -n 3 >$d/$1.mon.tail
	fail "QEMU $1 exited with status $rc: $(head -n 1 $d/$1.err)" $d/$1.serial $d/$1.mon.tail $d/dmesg.tail
}

# clockcheck can fail: in L1, a fake 1 us skew on one CPU must be caught.
# That takes L1's two CPUs reading at the same time, which a loaded host
# often does not give (it then runs L1's vCPU threads one after the other:
# 3 to 8 of 10 tries of 0.5 s missed on the shared 2-core machine, and once
# all of 10 tries of 1 s): up to 20 tries of 1 s.
try=1
until clockcheck -a -t 1 -b 1000 >$d/self.log; [ $? = 1 ]; do
	[ $try -lt 20 ] || fail "clockcheck missed an injected 1000 ns backwards step ($try tries)" $d/self.log
	try=$((try + 1))
done
say "self-check: clockcheck caught an injected 1000 ns step:" \
	"$(grep -m1 'MONOTONIC: backwards' $d/self.log | sed 's/.*: backwards/backwards/')$([ $try = 1 ] || echo " (try $try)")"

case $which in
stock) qemu_bin=qemu-system-x86_64 ;;
patched)
	qemu_bin=/opt/qemu-kvmclock/bin/qemu-system-x86_64
	[ -x $qemu_bin ] || fail "no patched QEMU in L1 ($qemu_bin): run 'make qemu' first"
	;;
*) fail "-Q $which: 'stock' or 'patched'" ;;
esac

if [ -n "$period" ]; then
	[ -w $param ] || fail "this kernel has no writable $param"
	saved=$(cat $param)
	echo "$period" >$param || fail "cannot set masterclock_sync_period=$period"
fi

# qemu NAME [ARGS]: start QEMU NAME in the background, its serial console
# in NAME.serial and its monitor on the FIFOs NAME.mon.in/out. With -M also
# a QMP monitor on NAME.qmp.in/out, for the timestamps of its events (the
# host's CLOCK_REALTIME of the source's STOP and the destination's RESUME).
qemu() {
	name=$1
	shift
	mkfifo $d/$name.mon.in $d/$name.mon.out
	[ -z "$pause" ] || mkfifo $d/$name.qmp.in $d/$name.qmp.out
	$qemu_bin -accel kvm -machine $machine -cpu host -smp 2 -m 128M \
		-nodefaults -no-user-config -display none -no-reboot -serial file:$d/$name.serial \
		-monitor pipe:$d/$name.mon -kernel /l2/bzImage -initrd /realguest/initrd.cpio \
		-append "console=ttyS0 loglevel=4 panic=-1 -- -t $secs${pause:+ -M}" \
		${pause:+-qmp pipe:$d/$name.qmp} "$@" </dev/null >$d/$name.err 2>&1 &
	echo $! >$d/$name.pid
	qemus="$qemus $name"
	cat $d/$name.mon.out >$d/$name.mon.log 2>/dev/null &
	[ -n "$pause" ] || return 0
	cat $d/$name.qmp.out >$d/$name.qmp.log 2>/dev/null &
	echo '{"execute": "qmp_capabilities"}' >$d/qmp.cmd
	timeout 5 sh -c "cat $d/qmp.cmd >$d/$name.qmp.in" || fail "QEMU $name's QMP monitor does not answer" $d/$name.err
}
# event NAME EVENT: when QEMU NAME sent EVENT (seconds, the host's CLOCK_REALTIME).
event() {
	tr -d '\r' <$d/$1.qmp.log 2>/dev/null | sed -n "s/.*\"seconds\": \([0-9]*\), \"microseconds\": \([0-9]*\)}, \"event\": \"$2\".*/\1.\2/p" |
		head -n 1 | awk -F. '{ printf "%d.%06d\n", $1, $2 }'
}
# mon NAME COMMAND: an HMP command (a writer to a dead QEMU's FIFO would block).
mon() { timeout 5 sh -c "echo '$2' >$d/$1.mon.in" || fail "QEMU $1's monitor does not answer" $d/$1.err; }
# await NAME PATTERN SECONDS: until NAME's console shows PATTERN.
await() {
	t=0
	while ! grep -q "$2" $d/$1.serial 2>/dev/null; do
		kill -0 "$(cat $d/$1.pid)" 2>/dev/null || exited "$1"
		# Ended without PATTERN (read again: it may have come meanwhile)?
		if grep -q 'realguest: done' $d/$1.serial 2>/dev/null; then
			grep -q "$2" $d/$1.serial || fail "the guest's checker ended before '$2'" $d/$1.serial
			return 0
		fi
		[ $t -lt $(($3 * 5)) ] || fail "no '$2' from the guest of QEMU $1 after $3 s" $d/$1.serial
		t=$((t + 1))
		sleep 0.2
	done
}
# A VM statistic of NAME's VM (debugfs; '-' without it): stat NAME STAT.
stat() {
	f=$(ls /sys/kernel/debug/kvm/"$(cat $d/$1.pid)"-*/"$2" 2>/dev/null | head -n 1)
	[ -n "$f" ] && cat "$f" || echo -
}
refs() { stat "$1" masterclock_references; }

t0=$(up)
qemu a
await a 'clockcheck: start' 600
boot=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
refs0=$(refs a)
last=a
# Every 0.5 s, the periodic checks of the VM's master clock (there is one
# VM at a time): the longest time without one is a figure of the summary.
while :; do
	echo "$(up) $(cat /sys/kernel/debug/kvm/*/masterclock_sync_checks 2>/dev/null)"
	sleep 0.5
done >$d/refs.log &
sampler=$!
if [ -n "$pause" ]; then
	# Halfway through clockcheck's run (the guest runs at about host speed).
	sleep $((secs / 2))
	mon a stop
	tstop=$(up)
	refs_a=$(refs a)
	# vCPU 0's TSC offset (guest TSC minus L1's): with the destination's, and
	# the pvclock step at the restore, where the guest's clock is against L1's.
	tsc_a=$(stat a vcpu0/tsc-offset)
	mon a "migrate \"exec:cat >$d/state\""
	t=0
	until grep -q 'Migration status: completed' $d/a.mon.log; do
		grep -q 'Migration status: failed' $d/a.mon.log && fail "migration failed" $d/a.mon.log
		[ $t -lt 300 ] || fail "migration not completed after 60 s" $d/a.mon.log
		t=$((t + 1))
		sleep 0.2
		mon a "info migrate"
	done
	mon a quit
	sleep "$pause"
	qemu b -incoming "exec:cat $d/state"
	# A guest stopped before its migration stays stopped after it: once
	# loaded ('paused', no longer 'inmigrate'), continue it.
	t=0
	until tr -d '\r' <$d/b.mon.log | grep -q 'VM status: paused$'; do
		kill -0 "$(cat $d/b.pid)" 2>/dev/null || exited b
		[ $t -lt 300 ] || fail "the migrated guest was not loaded after 60 s" $d/b.mon.log
		t=$((t + 1))
		sleep 0.2
		mon b "info status"
	done
	mon b cont
	hostpause=$(awk -v a="$tstop" -v b="$(up)" 'BEGIN { printf "%.2f", b - a }')
	refs_b=$(refs b)
	last=b
fi
await $last 'realguest: done' $((secs * 10 + 60))
refs1=$(refs $last)
[ -z "$pause" ] || tsc_b=$(stat b vcpu0/tsc-offset)
# The pause exactly: the source's STOP to the destination's RESUME (QMP events).
if [ -n "$pause" ]; then
	stop_at=$(event a STOP) resume_at=$(event b RESUME)
	[ -z "$stop_at" ] || [ -z "$resume_at" ] ||
		hostpause=$(awk -v a="$stop_at" -v b="$resume_at" 'BEGIN { printf "%.3f", b - a }')
fi
checks1=$(stat $last masterclock_sync_checks)
kill $sampler
cleanup

# The guest's report, all of it, then one summary line.
cat $d/a.serial ${pause:+$d/b.serial} | tr -d '\r' | grep '^realguest\|^clockcheck'
log=$(cat $d/$last.serial | tr -d '\r')
get() { printf '%s\n' "$log" | sed -n "s/$1/\\1/p" | head -n 1; }
if [ "$refs1" = - ]; then
	hrefs=-
elif [ -n "$pause" ]; then
	hrefs=$((refs_a - refs0 + refs1 - refs_b))
else
	hrefs=$((refs1 - refs0))
fi
summary="readings $(get '^clockcheck: readings \([0-9]*\).*')"
summary="$summary, backwards $(get '^clockcheck: MONOTONIC: backwards \([0-9]*\),.*')"
summary="$summary/$(get '^clockcheck: MONOTONIC_RAW: backwards \([0-9]*\),.*')"
summary="$summary, pvclock updates $(get '^clockcheck: pvclock updates \([0-9]*\),.*')"
summary="$summary (steps $(get '^clockcheck: pvclock updates .*steps \(.*\) ns'))"
quiet=$(awk 'NF == 2 {
		if (!n++) { last = $1; prev = $2 } else if ($2 != prev) { if ($1 - last > q) q = $1 - last; last = $1; prev = $2 }
		end = $1
	} END { if (end - last > q) q = end - last; if (n) printf "%.1f s", q; else print "-" }' $d/refs.log)
summary="$summary, host references $hrefs, checks $checks1 (longest without one $quiet${pause:+, the pause included}), boot ${boot} s"
[ -z "$pause" ] || summary="$summary; migration: host pause $hostpause s, guest CLOCK_MONOTONIC advanced at most $(get '^clockcheck: largest gap between two readings \([0-9.]*\) s.*') s (largest gap between two readings), TSC ahead of kvmclock after it by $(get '.*after a VM stop: the TSC ran \([-0-9.]*\) ms.*') ms"
if [ -n "$pause" ]; then
	# What the stop and the restore did to the guest's clocks (clockcheck -M):
	# the pvclock step at the restore (per vCPU), how far CLOCK_MONOTONIC and
	# CLOCK_REALTIME advanced across the stop, how far the TSC ran ahead of
	# kvmclock over the whole run (per vCPU), what the guest's clocksource
	# watchdog said, and whether the vDSO still reads pvclock.
	range() {
		printf '%s\n' "$log" | sed -n "s/$1/\\1/p" | sort -n |
			awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) print (lo == hi ? lo : lo ".." hi) }'
	}
	unstable=$(printf '%s\n' "$log" | sed -n "s/.*Marking clocksource '\([^']*\)' as unstable.*/\\1/p" | sort -u | paste -sd,)
	watchdog=${unstable:+$unstable marked unstable}
	# A watchdog interval over 1 s (the pause, or a TSC that jumped) is not
	# judged: what the watched clocksource (tsc) ran against the watchdog
	# (kvm-clock) over it, the largest such, says which.
	skipped=$(printf '%s\n' "$log" |
		sed -n 's/.*Long readout interval, skipping watchdog check: cs_nsec: \([0-9]*\) wd_nsec: \([0-9]*\).*/\1 \2/p' |
		awk '{ d = $1 - $2; if ((d < 0 ? -d : d) >= m) { m = d < 0 ? -d : d; v = d } }
			END { if (NR) printf "%+.3f ms", v / 1e6 }')
	[ -z "$skipped" ] ||
		watchdog="${watchdog:+$watchdog, }a check skipped (long readout interval, cs-wd $skipped)"
	summary="$summary, step at restore $(range '.*after a VM stop: .*(step \([-0-9]*\) ns).*') ns"
	# The guest's kvmclock against L1's clock across the migration: where
	# it is after the restore minus where it would be had the VM not
	# stopped, at one L1 instant. Its TSC is L1's plus vCPU 0's offset, so
	# that is the offset's move at kvmclock's rate plus vCPU 0's step at the
	# restore (new parameters against the old ones at one guest TSC): 0 when
	# the pause is counted exactly, minus the pause when it is not.
	mul=$(get '^clockcheck: kvmclock rate: tsc_to_system_mul \([0-9]*\) .*')
	tshift=$(get '^clockcheck: kvmclock rate: .* tsc_shift \([-0-9]*\) .*')
	step0=$(get '.*: vCPU 0 at .*after a VM stop: .*(step \([-0-9]*\) ns).*')
	if [ -n "$mul" ] && [ -n "$tshift" ] && [ -n "$step0" ] && [ "${tsc_a:--}" != - ] && [ "${tsc_b:--}" != - ]; then
		vshost=$(awk -v a="$tsc_a" -v b="$tsc_b" -v m="$mul" -v s="$tshift" -v st="$step0" 'BEGIN {
			f = m / 4294967296	# ns per TSC cycle: mul * 2^(shift - 32)
			for (i = 0; i < s; i++) f *= 2
			for (i = 0; i > s; i--) f /= 2
			printf "%+.0f ns (vCPU 0 TSC offset %+.0f)", (b - a) * f + st, b - a }')
	else
		vshost="- ns (no TSC offset or kvmclock rate)"
	fi
	summary="$summary, kvmclock against the host clock across it $vshost"
	summary="$summary, across the stop CLOCK_MONOTONIC +$(get '^clockcheck: across the VM stop: CLOCK_MONOTONIC advanced \([0-9.]*\) s.*') s"
	summary="$summary and CLOCK_REALTIME +$(get '^clockcheck: across the VM stop: .*CLOCK_REALTIME \([0-9.]*\) s.*') s"
	summary="$summary, TSC ahead of kvmclock over the run $(range '^clockcheck: CPU [0-9]*: the TSC ran \([-0-9]*\) ns ahead.*') ns"
	summary="$summary, watchdog: ${watchdog:-nothing unstable}"
	summary="$summary, vDSO: $(get '^clockcheck: vDSO at the end: [^:]*: \([^;]*\);.*')"
	summary="$summary ($(get '^clockcheck: vDSO at the end: .* \([0-9]* ns\/call\) through the vDSO.*') vDSO"
	summary="$summary, $(get '^clockcheck: vDSO at the end: .* \([0-9]* ns\/call\) through the syscall.*') syscall"
	summary="$summary, timing $(get '^clockcheck: vDSO at the end: .*; timing \([a-z]*\)).*'))"
fi
[ "$which" = stock ] || summary="$summary; QEMU $which"
# The patched QEMU warns when it falls back to Debian's way (kvmclock: ...).
warn=$(cat $d/a.err ${pause:+$d/b.err} 2>/dev/null | grep -m1 'kvmclock' | sed 's/^[^:]*: //')
[ -z "$warn" ] || summary="$summary (QEMU said: $warn)"
say "period ${period:-unchanged}: $summary"
printf '%s\n' "$log" | grep -q '^clockcheck: ok' || fail "clockcheck failed (see its report above)"
printf '%s\n' "$log" | grep -q '^clockcheck: clocksource at the end kvm-clock' ||
	fail "kvm-clock is no longer the guest's clocksource"
# The TSC jumping at a migration may make the guest give up on 'tsc', which
# is not its clocksource; kvm-clock must stay.
! printf '%s\n' "$log" | grep -q "realguest: dmesg:.*'kvm-clock' as unstable" ||
	fail "the guest marked kvm-clock unstable"
exit 0
