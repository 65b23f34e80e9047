# kvmclock host-side series: apply, build, boot under QEMU, run selftests.
# 'make' runs the default run; 'make check' is everything that must pass.
# See README.md.

SHELL := /bin/bash
S := scripts

RUN ?= $(firstword $(shell $(S)/runs.sh names check))
export REPEAT EXTRA_TESTS KVM_PARAMS KSRC VERBOSE JOBS TEST_TIMEOUT VM_TIMEOUT
# One clock for the per-stage times that every script logs.
export HARNESS_T0 := $(shell date +%s)

.PHONY: all deps tree kernel run check bench stress peer realguest realguest-migrate \
	qemu hvhost export reset-tree clean help

all: deps tree
	@$(S)/run.sh $(RUN)

help:
	@sed -n 's/^## //p' Makefile

## deps        install what is missing (Debian packages; as root)
deps:
	@$(S)/deps.sh

## tree        build/linux: pinned source + patches/ as commits
tree: deps
	@$(S)/tree.sh

## kernel      build the kernel of VARIANT (modules, builtin, debug, trace, nohz)
kernel: tree
	@$(S)/kernel.sh $(or $(VARIANT),modules)

## run         boot RUN (default: the first 'check' run); REPEAT=N,
##             EXTRA_TESTS="/abs/a.c ...", KVM_PARAMS="name=value ...",
##             TEST_TIMEOUT=seconds per test (600), VM_TIMEOUT=per boot (1500)
run: tree
	@$(S)/run.sh $(RUN)

## check       checkpatch, series vs mirrors, every 'check' run
check: deps tree
	@$(S)/check.sh

## bench       the 'bench' runs on the series and on a comparison kernel:
##             figures, no pass/fail on timing (build/bench.csv)
bench: tree
	@$(S)/bench.sh

## stress      the 'stress' runs (KVM built in, debug kernel)
stress: tree
	@$(S)/run.sh $(shell $(S)/runs.sh names stress)

## peer        the 'peer' runs (upstream selftests) on the series and on
##             the stock tree; prints the regressions against stock
peer: tree
	@$(S)/peer.sh

## realguest   the 'realguest' runs (QEMU + Linux with kvm-clock in L1) on
##             the series and on the comparison kernel, side by side, and the
##             accelerated real guest (accelguest) on the series
realguest: tree
	@$(S)/realguest/side-by-side.sh

## qemu        build/qemu-kvmclock: Debian's QEMU 7.2 (x86_64 only) with
##             scripts/realguest/qemu-kvmclock.patch, for realguest.sh -Q patched
qemu: deps
	@$(S)/realguest/qemu.sh

## realguest-migrate  the 'realguest-migrate' runs: the real guest migrated
##             with Debian's QEMU and with the patched one, one table
realguest-migrate: tree qemu
	@$(S)/realguest/migrate-table.sh

## hvhost      the 'hvhost' runs: selftests in a KVM host (L2 under QEMU in
##             L1) whose clocksource is Hyper-V's TSC page
hvhost: tree
	@$(S)/run.sh $(shell $(S)/runs.sh names hvhost)

## export      regenerate patches/ and the mirrors from build/linux
export:
	@$(S)/export.sh

## reset-tree  drop build/linux (and work not exported in it)
reset-tree:
	rm -rf build/linux build/linux.new

clean:
	rm -rf build
