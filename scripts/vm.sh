#!/usr/bin/env bash
# Boot one run of scripts/runs.conf under QEMU/TCG and check its console.
#   vm.sh RUN [EXTRA_TEST_NAME...]      (env: BOOT, TEST_TIMEOUT, VM_TIMEOUT)
# Writes build/runs/RUN/console.log and build/runs/RUN/result.tap (with
# BOOT=i: console.i.log and result.i.tap, so that repeated boots keep each
# console); the exit status is non-zero when a test fails, the boot times
# out or the kernel logged a WARNING/BUG/Oops/lockdep/KASAN report.
source "$(dirname "$0")/lib.sh"

run=$1
shift
variant=$(bash "$REPO/scripts/runs.sh" field "$run" 2)
params=$(bash "$REPO/scripts/runs.sh" field "$run" 3)
tests=$(bash "$REPO/scripts/runs.sh" field "$run" 5)
params=${KVM_PARAMS:-$params}
obj=$BUILD/obj-$variant
dir=$BUILD/runs/$run
mkdir -p "$dir/root/etc"
console=$dir/console${BOOT:+.$BOOT}.log
result=$dir/result${BOOT:+.$BOOT}.tap

# The run: kvm parameters and one test command per line.
printf 'KVM_PARAMS="%s"\nTEST_TIMEOUT=%s\n' "$params" "${TEST_TIMEOUT:-600}" >"$dir/root/etc/run.conf"
{
	printf '%s\n' "$tests" | tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep .
	for t in "$@"; do echo "$t"; done
} >"$dir/root/etc/run.tests"
pack_cpio "$dir/root" "$dir/run.cpio"
cat "$BUILD/initramfs-$variant.cpio" "$dir/run.cpio" >"$dir/initrd.cpio"
# QEMU, the kernel and each L2 guest script's files (l2_scripts in lib.sh).
# shellcheck disable=SC2046
l2=$(l2_scripts $(awk '{ print $1 }' "$dir/root/etc/run.tests"))
[ -z "$l2" ] || cat "$BUILD/qemu-l1-$variant.cpio" >>"$dir/initrd.cpio"
for g in $l2; do cat "$BUILD/$g-$variant.cpio" >>"$dir/initrd.cpio"; done

append="console=ttyS0 loglevel=5 panic=-1 tsc=reliable"
# Built-in KVM takes its parameters from the command line.
[ "$variant" = modules ] || for p in $params; do append="$append kvm.$p"; done

timeout=${VM_TIMEOUT:-1500}
start=$(date +%s)
set +e
timeout "$timeout" qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp 2 -m 1G \
	-display none -monitor none -serial stdio -no-reboot \
	-kernel "$obj/arch/x86/boot/bzImage" -initrd "$dir/initrd.cpio" \
	-append "$append" </dev/null >"$console" 2>"$dir/qemu.err"
qrc=$?
set -e
secs=$(($(date +%s) - start))

tr -d '\r' <"$console" | sed -n '/^KTAP version/,$p' |
	grep -E '^(ok|not ok|1\.\.|Bail out!|KTAP|#)' >"$result" || true

status=0
if [ $qrc = 124 ]; then
	tail -n 15 "$console" | sed 's/^/#   /' >>"$result"
	echo "not ok - QEMU timed out after ${timeout}s (console tail above)" >>"$result"
	status=1
elif [ $qrc != 0 ]; then
	echo "not ok - QEMU exited with $qrc: $(head -n 1 "$dir/qemu.err")" >>"$result"
	status=1
fi
# A splat fails the run even when every test passed.
splat=$(grep -m1 -nE '^\[ *[0-9.]+\] .*(WARNING:|BUG:|Oops|general protection fault|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|KASAN:|UBSAN:|Kernel panic|sleeping function called from invalid context)' \
	"$console" || true)
if [ -n "$splat" ]; then
	echo "not ok - kernel report at $(basename "$console"):${splat%%:*}: ${splat#*:}" >>"$result"
	status=1
fi
grep -q '^# run done' "$result" || { [ $status = 1 ] || {
	tail -n 15 "$console" | sed 's/^/#   /' >>"$result"
	echo "not ok - the run did not finish (console tail above)" >>"$result"
	status=1
}; }
grep -q '^not ok' "$result" && status=1
# Name the console this boot kept: with REPEAT it is one of many.
[ $status = 0 ] || echo "# $run: console of this boot: ${console#"$REPO"/}" >>"$result"
echo "# $run: ${secs}s in QEMU, kernel $variant, kvm: ${params:-(none)}" >>"$result"
exit $status
