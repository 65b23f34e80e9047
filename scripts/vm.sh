#!/usr/bin/env bash
# Boot one run of scripts/runs.conf under QEMU/TCG and check its console.
#   vm.sh RUN [EXTRA_TEST_NAME...]
# Writes build/runs/RUN/console.log and build/runs/RUN/result.tap; the exit
# status is non-zero when a test fails, the boot times out or the kernel
# logged a WARNING/BUG/Oops/lockdep/KASAN report.
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

# The run: kvm parameters and one test command per line.
printf 'KVM_PARAMS="%s"\nTEST_TIMEOUT=%s\n' "$params" "${TEST_TIMEOUT:-600}" >"$dir/root/etc/run.conf"
{
	printf '%s\n' "$tests" | tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep .
	for t in "$@"; do echo "$t"; done
} >"$dir/root/etc/run.tests"
pack_cpio "$dir/root" "$dir/run.cpio"
cat "$BUILD/initramfs-$variant.cpio" "$dir/run.cpio" >"$dir/initrd.cpio"

append="console=ttyS0 loglevel=5 panic=-1 tsc=reliable"
# Built-in KVM takes its parameters from the command line.
[ "$variant" = modules ] || for p in $params; do append="$append kvm.$p"; done

timeout=${VM_TIMEOUT:-1500}
start=$(date +%s)
set +e
timeout "$timeout" qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp 2 -m 1G \
	-display none -monitor none -serial stdio -no-reboot \
	-kernel "$obj/arch/x86/boot/bzImage" -initrd "$dir/initrd.cpio" \
	-append "$append" </dev/null >"$dir/console.log" 2>"$dir/qemu.err"
qrc=$?
set -e
secs=$(($(date +%s) - start))

tr -d '\r' <"$dir/console.log" | sed -n '/^KTAP version/,$p' |
	grep -E '^(ok|not ok|1\.\.|Bail out!|KTAP|#)' >"$dir/result.tap" || true

status=0
if [ $qrc = 124 ]; then
	tail -n 15 "$dir/console.log" | sed 's/^/#   /' >>"$dir/result.tap"
	echo "not ok - QEMU timed out after ${timeout}s (console tail above)" >>"$dir/result.tap"
	status=1
elif [ $qrc != 0 ]; then
	echo "not ok - QEMU exited with $qrc: $(head -n 1 "$dir/qemu.err")" >>"$dir/result.tap"
	status=1
fi
# A splat fails the run even when every test passed.
splat=$(grep -m1 -nE '^\[ *[0-9.]+\] .*(WARNING:|BUG:|Oops|general protection fault|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|KASAN:|UBSAN:|Kernel panic|sleeping function called from invalid context)' \
	"$dir/console.log" || true)
if [ -n "$splat" ]; then
	echo "not ok - kernel report at console.log:${splat%%:*}: ${splat#*:}" >>"$dir/result.tap"
	status=1
fi
grep -q '^# run done' "$dir/result.tap" || { [ $status = 1 ] || {
	tail -n 15 "$dir/console.log" | sed 's/^/#   /' >>"$dir/result.tap"
	echo "not ok - the run did not finish (console tail above)" >>"$dir/result.tap"
	status=1
}; }
grep -q '^not ok' "$dir/result.tap" && status=1
echo "# $run: ${secs}s in QEMU, kernel $variant, kvm: ${params:-(none)}" >>"$dir/result.tap"
exit $status
