#!/usr/bin/env bash
# make realguest-migrate: the 'realguest-migrate' runs (scripts/guest/realguest.sh
# -M, with Debian's QEMU and with the patched one of make qemu) and one table,
# a row per migration, of what it did to the guest's clocks. The exit status
# is the runs'.
#   migrate-table.sh [--table]   --table: the table of the last runs, no boot
source "$(dirname "$0")/../lib.sh"

[ -z "${KSRC:-}" ] || die "make realguest-migrate runs on the series' tree, not KSRC"
runs=$(bash "$REPO/scripts/runs.sh" names realguest-migrate | paste -sd' ')
[ -n "$runs" ] || die "no 'realguest-migrate' run in scripts/runs.conf"

status=0
if [ "${1:-}" != --table ]; then
	log "realguest-migrate: $runs"
	# shellcheck disable=SC2086
	REPEAT=1 bash "$REPO/scripts/run.sh" $runs >"$BUILD/realguest-migrate.log" 2>&1 || status=1
fi

echo "# The real guest (L2: QEMU -accel kvm -machine microvm -smp 2 in L1) migrated: stop,"
echo "# save, quit, a new QEMU loads it, cont (scripts/guest/realguest.sh -M). stock = Debian's"
echo "# QEMU 7.2, patched = the same with scripts/realguest/qemu-kvmclock.patch (make qemu)."
echo "#   pause     host (L1) CLOCK_REALTIME from 'stop' on the source to 'cont' on the destination"
echo "#   step      the guest's clock at the restore, new pvclock parameters against the old"
echo "#             ones at one TSC value (each vCPU)"
echo "#   MONO/REAL how far the guest's CLOCK_MONOTONIC/CLOCK_REALTIME advanced across the stop"
echo "#             (the gap between a guest CPU's readings around it); REAL-pause: what the"
echo "#             guest's CLOCK_REALTIME gained (+) or lost (-) against the host's, the gap's"
echo "#             time the guest ran but did not read included"
echo "#   clock-host where the guest's kvmclock is after the restore against where it would be"
echo "#             had the VM not stopped, at one host instant (in L1: vCPU 0's TSC offset, guest"
echo "#             TSC minus L1's, destination against source, at kvmclock's rate, plus vCPU 0's"
echo "#             step): 0 when the pause is counted exactly, minus the pause when it is not"
echo "#   TSC-kvm   how far the guest's TSC ran ahead of kvmclock over the run (each vCPU)"
echo "#   watchdog  the guest's clocksource watchdog (dmesg): what it marked unstable, and a check it"
echo "#             skipped for an interval over 1 s with what the watched clocksource (tsc) ran"
echo "#             against the watchdog (kvm-clock) over it (cs-wd)"
echo "#   vDSO      whether the guest's vDSO still reads pvclock at the end (clock mode and"
echo "#             stable bit), and clock_gettime() through the vDSO / the syscall (ns/call, the"
echo "#             fastest of 200 blocks of 1000 calls each), whether that timing agrees"
for r in $runs; do
	tap=$BUILD/runs/$r/result.tap
	[ -f "$tap" ] || { echo "#   $r: no result"; continue; }
	awk '
		function between(s, a, b,   i, j) {
			i = index(s, a)
			if (!i) return "-"
			s = substr(s, i + length(a))
			j = index(s, b)
			return j ? substr(s, 1, j - 1) : s
		}
		BEGIN {
			printf "#   %-7s %-6s %-4s %-8s %-26s %-12s %-12s %-10s %-15s %-24s %-58s %s\n", "QEMU",
				"period", "", "pause", "step", "MONO", "REAL", "REAL-pause", "clock-host",
				"TSC-kvm", "watchdog", "vDSO"
		}
		/^# realguest: period / { line = $0 }
		/^# realguest: FAIL: / { why = $0; sub(/^# realguest: FAIL: /, "", why) }
		/^(not )?ok / {
			res = /^not ok/ ? "FAIL" : "ok"
			qemu = / -Q patched/ ? "patched" : "stock"
			if (!line) {
				printf "#   %-7s %-6s %-4s (no summary)%s\n", qemu, "-", res, why ? " -- " why : ""
			} else {
				v = between(line, "vDSO: ", ")")
				vdso = between(v, "", " (") " (" between(v, "(", " ns/call vDSO") "/" \
					between(v, "vDSO, ", " ns/call syscall") " ns, timing " \
					between(v, "timing ", ")") ")"
				pause = between(line, "host pause ", " s")
				real = between(line, " and CLOCK_REALTIME +", " s")
				printf "#   %-7s %-6s %-4s %-8s %-26s %-12s %-12s %-10s %-15s %-24s %-58s %s%s\n", qemu,
					between(line, "period ", ":"), res, pause " s",
					between(line, "step at restore ", " ns") " ns",
					"+" between(line, "across the stop CLOCK_MONOTONIC +", " s") " s",
					"+" real " s", sprintf("%+.3f s", real - pause),
					between(line, "kvmclock against the host clock across it ", " ns") " ns",
					between(line, "kvmclock over the run ", " ns") " ns",
					between(line, "watchdog: ", ", vDSO: "), vdso,
					res == "FAIL" && why ? " -- " why : ""
			}
			line = ""; why = ""
		}' "$tap"
done
echo "# every boot's TAP and console: build/runs/realguest-migrate/; the runs' output: build/realguest-migrate.log"
exit $status
