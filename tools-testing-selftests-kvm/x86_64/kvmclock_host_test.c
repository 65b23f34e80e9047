// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmclock under changes of host-wide state, which this test makes itself:
 *
 *  - kvm.masterclock_sync_period: a period set at load time applies to a new
 *    VM, invalid values fail with EINVAL and change nothing, 0 means no
 *    periodic work, 0 -> P starts it, P -> 0 stops it, and rewriting the
 *    period while VMs come and go neither stops it nor trips the kernel's
 *    checkers.  A periodic refresh that would not move the guest's clock by
 *    more than 1 ns (kvmclock runs at exactly the rate of the host's clock
 *    when the host's clocksource is the TSC and the guest's TSC is not
 *    scaled) takes no reference: the guest's page does not change, halted
 *    vCPUs are not woken, the Hyper-V TSC page is not rewritten.  Where the
 *    rates cannot match, a refresh may take a reference, and then moves the
 *    guest's clock by no more than the drift of one period.
 *
 *  - The host's clocksource, tsc -> hpet -> tsc under a running guest: the
 *    VM leaves master clock mode and comes back to it, and the guest's clock
 *    neither goes backwards nor steps by more than 1 ns at either change.
 *
 * The test restores what it changed at exit, also when it is interrupted or
 * terminated, and tests that change the same files run one at a time.  It is
 * not run by default (TEST_GEN_PROGS_EXTENDED) because it changes the host.
 */
#include <pthread.h>
#include <signal.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "hyperv.h"
#include "kvmclock.h"

#define PERIOD_MAX	300	/* the longest period KVM accepts */
#define NR_HALTED	3	/* halted vCPUs besides the one that reads */
#define WINDOW_S	3
#define CHURN_S		4
#define CLOCKSOURCE	"/sys/devices/system/clocksource/clocksource0/current_clocksource"
#define AVAILABLE	"/sys/devices/system/clocksource/clocksource0/available_clocksource"

struct ms_hyperv_tsc_page {
	u32 tsc_sequence;
	u32 reserved1;
	u64 tsc_scale;
	s64 tsc_offset;
} __packed;

/* What the reading vCPU does next, set by the host before KVM_RUN. */
static struct {
	u64 window_ns;		/* read the clock for this long */
	u64 max_step_ns;	/* largest step allowed at a page change */
} ctl;

/* What the reading vCPU saw in its last window. */
static struct {
	u64 reads;
	u64 changes;		/* page changes */
	s64 max_step;		/* largest step of the clock at a change */
	u64 stable, unstable;	/* reads with and without the stable bit */
} seen;

static s64 abs_s64(s64 v)
{
	return v < 0 ? -v : v;
}

static bool page_changed(const struct pvclock_vcpu_time_info *a,
			 const struct pvclock_vcpu_time_info *b)
{
	return a->tsc_timestamp != b->tsc_timestamp ||
	       a->system_time != b->system_time ||
	       a->tsc_to_system_mul != b->tsc_to_system_mul ||
	       a->tsc_shift != b->tsc_shift || a->flags != b->flags;
}

static void guest_watch(const struct pvclock_vcpu_time_info *pvti)
{
	struct kvmclock_snap prev, cur;
	u64 start, now, last;
	s64 step;

	memset(&seen, 0, sizeof(seen));
	kvmclock_snapshot(pvti, &prev);
	start = kvmclock_at(&prev.pvti, prev.tsc);
	last = start;
	do {
		kvmclock_snapshot(pvti, &cur);
		now = kvmclock_at(&cur.pvti, cur.tsc);
		seen.reads++;
		if (cur.pvti.flags & PVCLOCK_TSC_STABLE_BIT)
			seen.stable++;
		else
			seen.unstable++;

		/* Whatever changed, the clock must never go backwards... */
		__GUEST_ASSERT((s64)(now - last) >= 0,
			       "kvmclock went backwards by %ld ns (read %lu)",
			       (s64)(last - now), seen.reads);

		/* ...nor move when the page changes: old vs new at one TSC. */
		if (page_changed(&cur.pvti, &prev.pvti)) {
			seen.changes++;
			step = now - kvmclock_at(&prev.pvti, cur.tsc);
			__GUEST_ASSERT(step <= (s64)ctl.max_step_ns &&
				       step >= -(s64)ctl.max_step_ns,
				       "kvmclock stepped by %ld ns at page change %lu",
				       step, seen.changes);
			if (abs_s64(step) > abs_s64(seen.max_step))
				seen.max_step = step;
		}
		prev = cur;
		last = now;
	} while (now - start < ctl.window_ns);
}

static void guest_reader(vm_paddr_t pvti_gpa,
			 const struct pvclock_vcpu_time_info *pvti)
{
	kvmclock_enable(pvti_gpa);
	GUEST_SYNC(0);
	for (;;) {
		guest_watch(pvti);
		GUEST_SYNC(1);
	}
}

/* A vCPU that publishes its kvmclock and then halts for good. */
static void guest_halter(vm_paddr_t pvti_gpa)
{
	kvmclock_enable(pvti_gpa);
	for (;;)
		asm volatile("cli; hlt");
}

/* Keeps running: a vCPU rewrites the TSC page when it next enters. */
static void guest_hv_tsc_page(vm_paddr_t tsc_page_gpa)
{
	wrmsr(HV_X64_MSR_GUEST_OS_ID, HYPERV_LINUX_OS_ID);
	wrmsr(HV_X64_MSR_REFERENCE_TSC, tsc_page_gpa | 1);
	GUEST_SYNC(0);
	for (;;)
		cpu_relax();
}

struct test_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *reader;
	struct kvm_vcpu *halted[NR_HALTED];
	pthread_t threads[NR_HALTED];
	int stats_fd[NR_HALTED];
	int nr_halted;
};

static void *run_halted(void *arg)
{
	struct kvm_vcpu *vcpu = arg;

	/* Returns when the test signals the thread: KVM_RUN fails, EINTR. */
	__vcpu_run(vcpu);
	return NULL;
}

static void sig_nop(int sig)
{
}

static void run_reader(struct kvm_vcpu *vcpu, u64 window_ns, u64 max_step_ns)
{
	struct ucall uc;

	ctl.window_ns = window_ns;
	ctl.max_step_ns = max_step_ns;
	sync_global_to_guest(vcpu->vm, ctl);
	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
	default:
		TEST_FAIL("Unexpected ucall %lu", uc.cmd);
	}
	sync_global_from_guest(vcpu->vm, seen);
}

/* A VM whose vCPU 0 reads its kvmclock and whose other vCPUs halt. */
static void test_vm_create(struct test_vm *t, int nr_halted)
{
	struct pvclock_vcpu_time_info *pvti;
	vm_vaddr_t gva;
	vm_paddr_t gpa;
	int i;

	t->vm = vm_create_with_one_vcpu(&t->reader, guest_reader);
	gva = kvmclock_alloc(t->vm, &gpa);
	pvti = (void *)gva;
	vcpu_args_set(t->reader, 2, gpa, pvti);
	run_reader(t->reader, 0, 0);	/* kvmclock on, the master clock too */

	t->nr_halted = nr_halted;
	for (i = 0; i < nr_halted; i++) {
		t->halted[i] = vm_vcpu_add(t->vm, i + 1, guest_halter);
		vcpu_args_set(t->halted[i], 1, gpa + (i + 1) * sizeof(*pvti));
		t->stats_fd[i] = vcpu_get_stats_fd(t->halted[i]);
		pthread_create(&t->threads[i], NULL, run_halted, t->halted[i]);
	}
}

static void test_vm_free(struct test_vm *t)
{
	int i;

	for (i = 0; i < t->nr_halted; i++) {
		pthread_kill(t->threads[i], SIGUSR1);
		pthread_join(t->threads[i], NULL);
		close(t->stats_fd[i]);
	}
	kvm_vm_free(t->vm);
}

static u64 halt_wakeups(struct test_vm *t)
{
	u64 n = 0;
	int i;

	for (i = 0; i < t->nr_halted; i++)
		n += kvm_read_stat(t->stats_fd[i], "halt_wakeup");
	return n;
}

static bool clock_is_exact(void)
{
	char *cs = sys_get_cur_clocksource();
	bool exact = !strcmp(cs, "tsc\n");

	/* The guest's TSC is the host's here: no KVM_SET_TSC_KHZ. */
	free(cs);
	return exact;
}

static void set_period(unsigned int period)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", period);
	sysfs_write(KVM_MASTERCLOCK_SYNC_PERIOD, buf);
}

/*
 * One window of the reading vCPU with period @period already set: the
 * periodic work checks the reference every @period seconds; it takes a new
 * one only if that would move the clock by more than 1 ns, which must then
 * stay within what kvmclock drifts in one period (2^-32 of it).
 */
static void check_window(struct test_vm *t, unsigned int period, u64 seconds,
			 const char *name)
{
	u64 checks, refreshes, refs, wakeups, max_step;
	struct kvm_vm *vm = t->vm;

	max_step = 1 + (period * NSEC_PER_SEC >> 32) + 1;
	checks = vm_get_stat(vm, "masterclock_sync_checks");
	refreshes = vm_get_stat(vm, "masterclock_sync_refreshes");
	refs = vm_get_stat(vm, "masterclock_references");
	wakeups = halt_wakeups(t);

	run_reader(t->reader, seconds * NSEC_PER_SEC, max_step);

	checks = vm_get_stat(vm, "masterclock_sync_checks") - checks;
	refreshes = vm_get_stat(vm, "masterclock_sync_refreshes") - refreshes;
	refs = vm_get_stat(vm, "masterclock_references") - refs;
	wakeups = halt_wakeups(t) - wakeups;

	ksft_print_msg("%s: %lu s: %lu checks, %lu refreshes, %lu references\n",
		       name, seconds, checks, refreshes, refs);
	ksft_print_msg("%s: %lu page changes, step %ld ns, %lu wake-ups of %d halted vCPUs\n",
		       name, seen.changes, seen.max_step, wakeups, t->nr_halted);

	if (!period) {
		TEST_ASSERT(!checks, "%s: %lu periodic checks with the period 0",
			    name, checks);
	} else {
		/* Only a work that never runs fails this. */
		TEST_ASSERT(checks, "%s: no periodic check in %lu s, period %u s",
			    name, seconds, period);
	}
	TEST_ASSERT(refreshes <= checks, "%s: more refreshes than checks", name);
	TEST_ASSERT(wakeups <= refreshes * t->nr_halted,
		    "%s: %lu wake-ups of halted vCPUs for %lu refreshes",
		    name, wakeups, refreshes);
	if (clock_is_exact()) {
		TEST_ASSERT(!refreshes && !wakeups && !seen.changes,
			    "%s: exact kvmclock, yet %lu refreshes, %lu wake-ups, %lu page changes",
			    name, refreshes, wakeups, seen.changes);
	}
}

static void test_invalid_values(void)
{
	/* "\n" is what an empty write ("echo > file") sends. */
	static const char * const invalid[] = { "-1", "abc", "301", "1.5", "\n" };
	const unsigned int sentinel = 200;
	int i, r;

	/* The upper bound is valid. */
	set_period(PERIOD_MAX);
	TEST_ASSERT_EQ(get_kvm_param_integer("masterclock_sync_period"), PERIOD_MAX);

	/* A value no lenient parse of the inputs below would produce. */
	set_period(sentinel);
	for (i = 0; i < ARRAY_SIZE(invalid); i++) {
		r = __sysfs_write(KVM_MASTERCLOCK_SYNC_PERIOD, invalid[i]);
		TEST_ASSERT(r == -EINVAL,
			    "Writing '%s': expected EINVAL, got %d (%s)",
			    invalid[i], r, r ? strerror(-r) : "success");
		TEST_ASSERT_EQ(get_kvm_param_integer("masterclock_sync_period"),
			       sentinel);
	}
	ksft_test_result_pass("invalid periods fail with EINVAL\n");
}

static bool churn_done;

static void *period_writer(void *arg)
{
	static const char * const values[] = { "1", "0", "2", "0" };
	unsigned long i;

	for (i = 0; !READ_ONCE(churn_done); i++)
		sysfs_write(KVM_MASTERCLOCK_SYNC_PERIOD, values[i % 4]);
	return (void *)i;
}

static void guest_done(void)
{
	GUEST_DONE();
}

/*
 * A write re-arms every VM on vm_list while VMs come and go: a VM must never
 * be re-armed once its teardown cancelled its work.  The kernel's checkers
 * (KASAN, DEBUG_OBJECTS_WORK, lockdep) are what catch that.
 */
static void *vm_churn(void *arg)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	unsigned long i;

	for (i = 0; !READ_ONCE(churn_done); i++) {
		vm = vm_create_with_one_vcpu(&vcpu, guest_done);
		vcpu_run(vcpu);
		kvm_vm_free(vm);
	}
	return (void *)i;
}

static void test_churn(struct test_vm *t, unsigned int period)
{
	pthread_t writer, churn;
	void *writes, *vms;
	u64 checks;

	WRITE_ONCE(churn_done, false);
	pthread_create(&writer, NULL, period_writer, NULL);
	pthread_create(&churn, NULL, vm_churn, NULL);
	sleep(CHURN_S);
	WRITE_ONCE(churn_done, true);
	pthread_join(writer, &writes);
	pthread_join(churn, &vms);
	ksft_print_msg("%lu VMs created and destroyed during %lu writes\n",
		       (unsigned long)vms, (unsigned long)writes);

	/* The VM that was running all along still gets its checks. */
	set_period(period);
	checks = vm_get_stat(t->vm, "masterclock_sync_checks");
	sleep(2 * period + 1);
	TEST_ASSERT(vm_get_stat(t->vm, "masterclock_sync_checks") > checks,
		    "no periodic check after the churn, period %u s", period);
	ksft_test_result_pass("period rewritten while VMs come and go\n");
}

static void test_period(unsigned int period, unsigned int loaded)
{
	struct kvm_clock_data data = {};
	struct test_vm t;
	char name[64];

	test_vm_create(&t, NR_HALTED);
	vm_ioctl(t.vm, KVM_GET_CLOCK, &data);
	__TEST_REQUIRE(data.flags & KVM_CLOCK_TSC_STABLE,
		       "VM without master clock (KVM_GET_CLOCK flags 0x%x)",
		       data.flags);
	/* Let the updates of the vCPUs' first runs settle. */
	sleep(1);

	snprintf(name, sizeof(name), "period %u from load time", loaded);
	if (loaded <= 2 * WINDOW_S) {
		check_window(&t, loaded, loaded ? 3 * loaded : WINDOW_S, name);
		ksft_test_result_pass("%s\n", name);
	} else {
		ksft_test_result_skip("%s: too long to watch\n", name);
	}

	test_invalid_values();

	set_period(0);
	check_window(&t, 0, WINDOW_S, "period 0");
	ksft_test_result_pass("period 0: no periodic work\n");

	set_period(period);
	snprintf(name, sizeof(name), "period 0 -> %u", period);
	check_window(&t, period, 3 * period, name);
	ksft_test_result_pass("%s\n", name);

	/* A check already under way may still end; none may start after. */
	set_period(0);
	snprintf(name, sizeof(name), "period %u -> 0", period);
	usleep(100000);
	check_window(&t, 0, period + 1, name);
	ksft_test_result_pass("%s\n", name);

	test_churn(&t, period);
	test_vm_free(&t);
}

/*
 * The Hyper-V TSC page is derived from kvmclock: a refresh that leaves
 * kvmclock where it was must leave the page alone, or a Windows guest's
 * clock steps by the page's 100 ns unit at every refresh.
 */
static void test_hv_tsc_page(unsigned int period)
{
	struct ms_hyperv_tsc_page *page;
	s64 offset;
	u32 seq;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	vm_vaddr_t gva;
	struct ucall uc;
	pthread_t thread;
	u64 refreshes, changes = 0;
	int i;

	if (!kvm_has_cap(KVM_CAP_HYPERV_TIME)) {
		ksft_test_result_skip("Hyper-V TSC page: no KVM_CAP_HYPERV_TIME\n");
		return;
	}

	vm = vm_create_with_one_vcpu(&vcpu, guest_hv_tsc_page);
	vcpu_set_hv_cpuid(vcpu);
	gva = vm_vaddr_alloc_page(vm);
	page = addr_gva2hva(vm, gva);
	memset(page, 0, getpagesize());
	vcpu_args_set(vcpu, 1, addr_gva2gpa(vm, gva));
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_SYNC);

	pthread_create(&thread, NULL, run_halted, vcpu);
	sleep(1);
	set_period(period);
	refreshes = vm_get_stat(vm, "masterclock_sync_refreshes");
	seq = READ_ONCE(page->tsc_sequence);
	offset = READ_ONCE(page->tsc_offset);
	TEST_ASSERT(seq, "the TSC page was not set up");
	for (i = 0; i < 10 * WINDOW_S; i++) {
		usleep(100000);
		if (READ_ONCE(page->tsc_sequence) != seq ||
		    READ_ONCE(page->tsc_offset) != offset) {
			changes++;
			seq = READ_ONCE(page->tsc_sequence);
			offset = READ_ONCE(page->tsc_offset);
		}
	}
	refreshes = vm_get_stat(vm, "masterclock_sync_refreshes") - refreshes;
	pthread_kill(thread, SIGUSR1);
	pthread_join(thread, NULL);
	kvm_vm_free(vm);

	ksft_print_msg("Hyper-V TSC page: %lu rewrites in %u s at period %u, %lu refreshes\n",
		       changes, WINDOW_S, period, refreshes);
	TEST_ASSERT(changes <= refreshes,
		    "the TSC page was rewritten %lu times for %lu refreshes",
		    changes, refreshes);
	TEST_ASSERT(!changes || !clock_is_exact(),
		    "exact kvmclock, yet the TSC page was rewritten %lu times",
		    changes);
	ksft_test_result_pass("Hyper-V TSC page kept across refreshes\n");
}

static bool have_clocksource(const char *name)
{
	char buf[256] = {};
	FILE *f = fopen(AVAILABLE, "r");
	bool found;

	if (!f)
		return false;
	found = fgets(buf, sizeof(buf), f) && strstr(buf, name);
	fclose(f);
	return found;
}

static u32 clock_flags(struct kvm_vm *vm)
{
	struct kvm_clock_data data = {};

	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	return data.flags;
}

struct reader_args {
	struct kvm_vcpu *vcpu;
	u64 window_ns;
};

static void *reader_thread(void *arg)
{
	struct reader_args *a = arg;

	run_reader(a->vcpu, a->window_ns, 1);
	return NULL;
}

/*
 * tsc -> hpet -> tsc while the guest reads its clock: without a TSC-based
 * host clock the VM loses the master clock (the guest sees no stable bit)
 * and gets it back with the TSC; the guest's clock must not go backwards nor
 * step by more than 1 ns at either change.
 */
static void test_clocksource_switch(void)
{
	struct reader_args args;
	struct test_vm t;
	pthread_t thread;
	u32 flags_hpet, flags_back = 0;
	int i, r;

	if (!have_clocksource("hpet")) {
		ksft_test_result_skip("clocksource switch: no hpet clocksource\n");
		return;
	}
	r = sysfs_take(CLOCKSOURCE);
	TEST_ASSERT(!r, "Taking %s failed: %s", CLOCKSOURCE, strerror(-r));

	test_vm_create(&t, 1);
	args.vcpu = t.reader;
	args.window_ns = 8ull * NSEC_PER_SEC;
	pthread_create(&thread, NULL, reader_thread, &args);

	sleep(2);
	sysfs_write(CLOCKSOURCE, "hpet");
	sleep(2);
	flags_hpet = clock_flags(t.vm);
	sysfs_write(CLOCKSOURCE, "tsc");
	for (i = 0; i < 20 && !(flags_back & KVM_CLOCK_TSC_STABLE); i++) {
		usleep(100000);
		flags_back = clock_flags(t.vm);
	}
	pthread_join(thread, NULL);

	ksft_print_msg("clocksource switch: KVM_GET_CLOCK flags 0x%x on hpet, 0x%x %d ms later\n",
		       flags_hpet, flags_back, i * 100);
	ksft_print_msg("clocksource switch: %lu reads, %lu with the stable bit, %lu without\n",
		       seen.reads, seen.stable, seen.unstable);
	ksft_print_msg("clocksource switch: %lu page changes, largest step %ld ns\n",
		       seen.changes, seen.max_step);
	TEST_ASSERT(!(flags_hpet & KVM_CLOCK_TSC_STABLE),
		    "master clock still on with the hpet clocksource");
	TEST_ASSERT(flags_back & KVM_CLOCK_TSC_STABLE,
		    "no master clock 2 s after the host went back to tsc");
	TEST_ASSERT(seen.unstable && seen.stable,
		    "the guest did not see the stable bit go and come back");
	test_vm_free(&t);
	ksft_test_result_pass("clocksource tsc -> hpet -> tsc\n");
}

static void help(const char *name)
{
	printf("usage: %s [-h] [-p period]\n"
	       " -p: masterclock_sync_period to test, 1..%d s (default 1)\n",
	       name, PERIOD_MAX);
}

int main(int argc, char *argv[])
{
	unsigned int period = 1, loaded;
	struct sigaction sa = { .sa_handler = sig_nop };
	int opt, r;

	while ((opt = getopt(argc, argv, "hp:")) != -1) {
		switch (opt) {
		case 'p':
			period = atoi_positive("Period", optarg);
			TEST_ASSERT(period <= PERIOD_MAX, "Period must be <= %d",
				    PERIOD_MAX);
			break;
		case 'h':
			help(argv[0]);
			exit(0);
		default:
			help(argv[0]);
			exit(KSFT_FAIL);
		}
	}

	ksft_print_header();
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	__TEST_REQUIRE(!access(KVM_MASTERCLOCK_SYNC_PERIOD, F_OK),
		       "kernel without masterclock_sync_period");
	r = sysfs_take(KVM_MASTERCLOCK_SYNC_PERIOD);
	__TEST_REQUIRE(r != -EACCES && r != -EPERM, "cannot write %s (not root?)",
		       KVM_MASTERCLOCK_SYNC_PERIOD);
	TEST_ASSERT(!r, "Taking %s failed: %s", KVM_MASTERCLOCK_SYNC_PERIOD,
		    strerror(-r));
	loaded = get_kvm_param_integer("masterclock_sync_period");

	/* Signals end the halted vCPUs' KVM_RUN. */
	sigaction(SIGUSR1, &sa, NULL);

	ksft_set_plan(8);
	test_period(period, loaded);
	test_hv_tsc_page(period);
	test_clocksource_switch();
	ksft_finished();
}
