// SPDX-License-Identifier: GPL-2.0-only
/*
 * Figures for 'make bench', never a pass/fail: built with the KVM selftest
 * library (EXTRA_TESTS), run on the series and on the comparison kernel.
 *
 *   kvmclock_bench steps -p P -s S
 *	With kvm.masterclock_sync_period = P, a guest reads its kvmclock for
 *	S seconds and reports every change of its page: how many, and the
 *	largest step of its clock at one (old against new parameters at one
 *	TSC value).
 *   kvmclock_bench idle -n N -p P -s S
 *	N vCPUs publish kvmclock and halt; after a second to settle, S
 *	seconds with the period P: how often their threads were woken and
 *	polled (KVM's halt_wakeup, halt_attempted_poll and poll time).
 *
 * The period is restored at exit, also on SIGTERM/SIGINT.
 */
#include <pthread.h>
#include <signal.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "kvmclock.h"

#define MAX_VCPUS	64

static struct {
	u64 window_ns;
} ctl;

static struct {
	u64 changes;
	s64 max_step;
} seen;

static void guest_steps(vm_paddr_t gpa, const struct pvclock_vcpu_time_info *pvti)
{
	struct kvmclock_snap prev, cur;
	u64 start, now;
	s64 step;

	kvmclock_enable(gpa);
	GUEST_SYNC(0);
	kvmclock_snapshot(pvti, &prev);
	start = kvmclock_at(&prev.pvti, prev.tsc);
	do {
		kvmclock_snapshot(pvti, &cur);
		now = kvmclock_at(&cur.pvti, cur.tsc);
		if (cur.pvti.version != prev.pvti.version &&
		    (cur.pvti.tsc_timestamp != prev.pvti.tsc_timestamp ||
		     cur.pvti.system_time != prev.pvti.system_time ||
		     cur.pvti.tsc_to_system_mul != prev.pvti.tsc_to_system_mul)) {
			seen.changes++;
			step = now - kvmclock_at(&prev.pvti, cur.tsc);
			if ((step < 0 ? -step : step) >
			    (seen.max_step < 0 ? -seen.max_step : seen.max_step))
				seen.max_step = step;
		}
		prev = cur;
	} while (now - start < ctl.window_ns);
	GUEST_SYNC(1);
}

static void guest_halt(vm_paddr_t gpa)
{
	kvmclock_enable(gpa);
	for (;;)
		asm volatile("cli; hlt");
}

static void set_period(unsigned int period)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", period);
	sysfs_write(KVM_MASTERCLOCK_SYNC_PERIOD, buf);
}

static void run_sync(struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	if (get_ucall(vcpu, &uc) == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
}

static void bench_steps(unsigned int period, unsigned int secs)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	vm_vaddr_t gva;
	vm_paddr_t gpa;

	vm = vm_create_with_one_vcpu(&vcpu, guest_steps);
	gva = kvmclock_alloc(vm, &gpa);
	vcpu_args_set(vcpu, 2, gpa, gva);
	run_sync(vcpu);
	set_period(period);
	ctl.window_ns = (u64)secs * NSEC_PER_SEC;
	sync_global_to_guest(vm, ctl);
	run_sync(vcpu);
	sync_global_from_guest(vm, seen);
	printf("# bench steps: period %u s, %u s: %lu page changes, largest step %ld ns\n",
	       period, secs, seen.changes, seen.max_step);
	kvm_vm_free(vm);
}

static void *run_halted(void *arg)
{
	__vcpu_run(arg);	/* until the bench signals the thread */
	return NULL;
}

static void sig_nop(int sig)
{
}

static void bench_idle(int nr, unsigned int period, unsigned int secs)
{
	static const char * const names[] = {
		"halt_wakeup", "halt_attempted_poll", "halt_poll_success_ns",
		"halt_poll_fail_ns",
	};
	struct kvm_vcpu *vcpus[MAX_VCPUS];
	pthread_t threads[MAX_VCPUS];
	int fds[MAX_VCPUS];
	u64 before[4] = {}, after[4] = {};
	struct kvm_vm *vm;
	vm_vaddr_t gva;
	vm_paddr_t gpa;
	int i, j;

	vm = vm_create_with_vcpus(nr, guest_halt, vcpus);
	gva = kvmclock_alloc(vm, &gpa);
	for (i = 0; i < nr; i++) {
		vcpu_args_set(vcpus[i], 1,
			      gpa + i * sizeof(struct pvclock_vcpu_time_info));
		fds[i] = vcpu_get_stats_fd(vcpus[i]);
		pthread_create(&threads[i], NULL, run_halted, vcpus[i]);
	}
	set_period(period);
	sleep(1);
	for (i = 0; i < nr; i++)
		for (j = 0; j < 4; j++)
			before[j] += kvm_read_stat(fds[i], names[j]);
	sleep(secs);
	for (i = 0; i < nr; i++)
		for (j = 0; j < 4; j++)
			after[j] += kvm_read_stat(fds[i], names[j]);
	printf("# bench idle: period %u s, %d vCPUs, %u s: %lu wake-ups (%.3f per vCPU per s), %lu polls, %lu us polling\n",
	       period, nr, secs, after[0] - before[0],
	       (double)(after[0] - before[0]) / nr / secs,
	       after[1] - before[1],
	       (after[2] - before[2] + after[3] - before[3]) / 1000);

	for (i = 0; i < nr; i++) {
		pthread_kill(threads[i], SIGUSR1);
		pthread_join(threads[i], NULL);
		close(fds[i]);
	}
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	struct sigaction sa = { .sa_handler = sig_nop };
	unsigned int period = 1, secs = 10;
	int opt, nr = 1, r;

	TEST_ASSERT(argc > 1, "usage: %s steps|idle [-n vcpus] [-p period] [-s secs]",
		    argv[0]);
	while ((opt = getopt(argc - 1, argv + 1, "n:p:s:")) != -1) {
		switch (opt) {
		case 'n':
			nr = atoi_positive("vCPUs", optarg);
			TEST_ASSERT(nr <= MAX_VCPUS, "at most %d vCPUs", MAX_VCPUS);
			break;
		case 'p':
			period = atoi_non_negative("Period", optarg);
			break;
		case 's':
			secs = atoi_positive("Seconds", optarg);
			break;
		}
	}

	r = sysfs_take(KVM_MASTERCLOCK_SYNC_PERIOD);
	__TEST_REQUIRE(!r, "cannot take %s: %s", KVM_MASTERCLOCK_SYNC_PERIOD,
		       strerror(-r));
	sigaction(SIGUSR1, &sa, NULL);

	if (!strcmp(argv[1], "steps"))
		bench_steps(period, secs);
	else
		bench_idle(nr, period, secs);
	return 0;
}
