// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test for the kvm.ko "masterclock_sync_period" parameter: with P > 0, KVM
 * refreshes a VM's master clock every P seconds, which the guest sees as a
 * new tsc_timestamp in its pvclock page (a plain kvmclock update keeps it).
 *
 * In one running VM, it shows that a period set when kvm was loaded applies
 * to a new VM, that invalid values fail with EINVAL, that 0 means no refresh
 * at all, that 0 -> P starts refreshes at the period P and that P -> 0 stops
 * them at once.  At every refresh the guest asserts that its clock did not
 * move: the old and the new parameters agree within 1 ns at the same TSC.
 * The period is checked against the host times at which the references were
 * taken (their system_time): no two refreshes closer than P, and at least
 * one pair closer than 1.5 P, so that P cannot pass for 2P; rdtsc gaps are
 * printed, never asserted.  Last, while another thread keeps rewriting the
 * parameter and a third creates and destroys VMs, the running VM must still
 * be refreshed, and the kernel's checkers watch the teardown.
 *
 * The parameter is global to the host: tests that change it run one at a
 * time (kvm_take_masterclock_sync_period()), and the test restores the
 * value it found (unless it is killed).
 */
#include <pthread.h>

#include <asm/kvm_para.h>
#include <asm/pvclock.h>
#include <asm/pvclock-abi.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define PARAM_NAME	"masterclock_sync_period"
#define PARAM_PATH	KVM_MASTERCLOCK_SYNC_PERIOD
#define PERIOD_MAX	300	/* the largest period KVM accepts */
#define OFF_WINDOW_S	3
#define MAX_WINDOWS	1000
#define RACE_S		5
/* The longest load-time period observed; kselftest's timeout is 120 s. */
#define LOADED_MAX_S	10
/* Timer slack between two refreshes: more than a jiffy at HZ >= 100. */
#define SLACK_NS	10000000ull

enum {
	STAGE_SETUP,
	STAGE_LOADED,		/* the period kvm was loaded with, if any */
	STAGE_OFF,		/* period 0: no refresh */
	STAGE_ON,		/* 0 -> P: refreshes every P seconds */
	STAGE_OFF_AGAIN,	/* P -> 0 while the VM runs: no refresh */
	STAGE_CHURN,		/* the period rewritten non-stop: still refreshed */
	NR_STAGES,
};

/* Parameters of the current guest window, written by the host. */
struct window {
	u64 window_ns;
	u64 period_ns;		/* 0: no refresh may happen; ~0: not checked */
	u64 min_refreshes;
};

static struct window window;

/* What the guest saw in the window, read back by the host. */
struct window_result {
	u64 count;		/* refreshes seen */
	u64 max_refresh_gap;	/* largest rdtsc gap across a refresh */
	u64 max_idle_gap;	/* largest rdtsc gap without one */
	s64 max_jump;		/* largest step of the clock at a refresh, ns */
	u64 min_interval;	/* host time between two refreshes, ns */
	u64 max_interval;
};

static struct window_result result;

/* A consistent copy of the pvclock data plus a TSC read in the same window. */
struct pvclock_snap {
	u32 version;
	u64 tsc_timestamp;
	u64 system_time;
	u32 mul;
	s8 shift;
	u8 flags;
	u64 tsc;
};

static void pvclock_snapshot(const struct pvclock_vcpu_time_info *pvti,
			     struct pvclock_snap *s)
{
	u32 version;

	/* pvclock_read_retry() also fails if the version was odd. */
	do {
		version = pvclock_read_begin(pvti);
		s->tsc_timestamp = pvti->tsc_timestamp;
		s->system_time = pvti->system_time;
		s->mul = pvti->tsc_to_system_mul;
		s->shift = pvti->tsc_shift;
		s->flags = pvti->flags;
		s->tsc = rdtsc();
	} while (pvclock_read_retry(pvti, version));
	s->version = version;
}

/* Guest clock in ns at @tsc according to the parameters in @s. */
static u64 snap_clock_ns(const struct pvclock_snap *s, u64 tsc)
{
	u64 delta = tsc - s->tsc_timestamp;

	if (s->shift < 0)
		delta >>= -s->shift;
	else
		delta <<= s->shift;

	return s->system_time + (u64)(((__uint128_t)delta * s->mul) >> 32);
}

static u64 abs_s64(s64 v)
{
	return v < 0 ? -(u64)v : v;
}

static void guest_window(const struct pvclock_vcpu_time_info *pvti,
			 u64 stage)
{
	u64 count = 0, max_refresh_gap = 0, max_idle_gap = 0;
	u64 min_interval = ~0ull, max_interval = 0, interval;
	struct pvclock_snap prev, cur;
	s64 jump, max_jump = 0;
	u64 start, gap;

	pvclock_snapshot(pvti, &prev);
	start = snap_clock_ns(&prev, prev.tsc);

	do {
		pvclock_snapshot(pvti, &cur);
		__GUEST_ASSERT(cur.flags & PVCLOCK_TSC_STABLE_BIT,
			       "stage %lu: PVCLOCK_TSC_STABLE_BIT clear, flags 0x%x",
			       stage, cur.flags);

		gap = cur.tsc - prev.tsc;
		if (cur.tsc_timestamp != prev.tsc_timestamp) {
			__GUEST_ASSERT(cur.version != prev.version,
				       "stage %lu: tsc_timestamp changed, version %u did not",
				       stage, cur.version);
			count++;
			if (gap > max_refresh_gap)
				max_refresh_gap = gap;

			/* Old vs. new parameters at the same TSC value. */
			jump = snap_clock_ns(&cur, cur.tsc) -
			       snap_clock_ns(&prev, cur.tsc);
			__GUEST_ASSERT(jump >= -1 && jump <= 1,
				       "stage %lu: the clock stepped by %ld ns at refresh %lu",
				       stage, jump, count);
			if (abs_s64(jump) > abs_s64(max_jump))
				max_jump = jump;

			/*
			 * system_time is the host's time of the reference, so
			 * this is the time between two refreshes, whenever
			 * the guest noticed them.
			 */
			if (count > 1) {
				interval = cur.system_time - prev.system_time;
				if (interval < min_interval)
					min_interval = interval;
				if (interval > max_interval)
					max_interval = interval;
			}
		} else if (gap > max_idle_gap) {
			max_idle_gap = gap;
		}
		prev = cur;
	} while ((s64)(snap_clock_ns(&cur, cur.tsc) - start) <
		 (s64)window.window_ns);

	__GUEST_ASSERT(window.period_ns || !count,
		       "stage %lu: %lu master clock refreshes with the period 0",
		       stage, count);
	__GUEST_ASSERT(count >= window.min_refreshes,
		       "stage %lu: %lu master clock refreshes in %lu ms, expected at least %lu",
		       stage, count, window.window_ns / 1000000,
		       window.min_refreshes);
	if (window.period_ns && window.period_ns != ~0ull && count > 1) {
		__GUEST_ASSERT(min_interval + SLACK_NS >= window.period_ns,
			       "stage %lu: refreshes %lu ns apart, the period is %lu ns",
			       stage, min_interval, window.period_ns);
		__GUEST_ASSERT(min_interval < window.period_ns / 2 * 3,
			       "stage %lu: no two refreshes closer than %lu ns, the period is %lu ns",
			       stage, min_interval, window.period_ns);
	}

	result = (struct window_result) {
		.count = count,
		.max_refresh_gap = max_refresh_gap,
		.max_idle_gap = max_idle_gap,
		.max_jump = max_jump,
		.min_interval = min_interval,
		.max_interval = max_interval,
	};
	GUEST_SYNC(stage);
}

static void guest_main(vm_paddr_t pvti_gpa,
		       const struct pvclock_vcpu_time_info *pvti)
{
	u64 stage;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pvti_gpa | KVM_MSR_ENABLED);
	GUEST_SYNC(STAGE_SETUP);

	for (stage = STAGE_LOADED; stage < NR_STAGES; stage++)
		guest_window(pvti, stage);

	GUEST_DONE();
}

static unsigned int orig_period;

static void test_invalid_values(void)
{
	/* "\n" is what an empty write ("echo > file") sends. */
	const char * const invalid[] = { "-1", "abc", "301", "1.5", "\n" };
	const unsigned int sentinel = 200;
	int i, r;

	/* The upper bound is valid. */
	kvm_set_masterclock_sync_period(PERIOD_MAX);

	/* A value no lenient parse of the inputs below would produce. */
	kvm_set_masterclock_sync_period(sentinel);

	for (i = 0; i < ARRAY_SIZE(invalid); i++) {
		r = __kvm_write_masterclock_sync_period(invalid[i]);
		TEST_ASSERT(r == -EINVAL,
			    "Writing '%s' to %s: expected EINVAL, got %d (%s)",
			    invalid[i], PARAM_PATH, r, r ? strerror(-r) : "success");
		TEST_ASSERT_EQ(get_kvm_param_integer(PARAM_NAME), sentinel);
	}
	ksft_test_result_pass("invalid values rejected with EINVAL\n");
}

static bool race_done;

static void *period_writer(void *arg)
{
	static const char * const values[] = { "1", "0", "2", "0" };
	const char *val;
	unsigned long i;
	int r;

	for (i = 0; !READ_ONCE(race_done); i++) {
		val = values[i % ARRAY_SIZE(values)];
		r = __kvm_write_masterclock_sync_period(val);
		TEST_ASSERT(!r, "Writing %s failed: %s", PARAM_PATH, strerror(-r));
	}
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
	struct ucall uc;
	unsigned long i;

	for (i = 0; !READ_ONCE(race_done); i++) {
		vm = vm_create_with_one_vcpu(&vcpu, guest_done);
		/* The first run gives the VM its master clock. */
		vcpu_run(vcpu);
		TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_DONE);
		kvm_vm_free(vm);
	}
	return (void *)i;
}

static u64 tsc_to_ns(u64 cycles)
{
	return cycles * 1000000ull / guest_tsc_khz;
}

static void run_vcpu(struct kvm_vcpu *vcpu, u64 cmd, u64 stage,
		     struct ucall *uc)
{
	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);

	switch (get_ucall(vcpu, uc)) {
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(*uc);
		break;
	case UCALL_SYNC:
		TEST_ASSERT(cmd == UCALL_SYNC && uc->args[1] == stage,
			    "Unexpected sync for stage %lu (want stage %lu)",
			    uc->args[1], stage);
		break;
	case UCALL_DONE:
		TEST_ASSERT(cmd == UCALL_DONE, "Guest finished early");
		break;
	default:
		TEST_FAIL("Unexpected ucall %lu", uc->cmd);
	}
}

/*
 * One guest window of @seconds: with @period 0 no refresh may happen;
 * otherwise at least @min refreshes, and (unless @period is ~0) none closer
 * than @period seconds and at least one pair closer than 1.5 * @period.
 */
static void run_window(struct kvm_vcpu *vcpu, u64 stage, u32 period,
		       u64 seconds, u64 min, const char *name)
{
	struct ucall uc;

	window.window_ns = seconds * NSEC_PER_SEC;
	window.period_ns = period == ~0u ? ~0ull : (u64)period * NSEC_PER_SEC;
	window.min_refreshes = min;
	sync_global_to_guest(vcpu->vm, window);

	run_vcpu(vcpu, UCALL_SYNC, stage, &uc);
	sync_global_from_guest(vcpu->vm, result);

	ksft_print_msg("%s: %lu refreshes in %lu s (at least %lu)\n",
		       name, result.count, seconds, min);
	if (result.count > 1)
		ksft_print_msg("%s: host time between refreshes %lu..%lu ns\n",
			       name, result.min_interval, result.max_interval);
	ksft_print_msg("%s: largest clock step at a refresh %ld ns\n",
		       name, result.max_jump);
	ksft_print_msg("%s: max rdtsc gap: across a refresh %lu ns, without %lu ns\n",
		       name, tsc_to_ns(result.max_refresh_gap),
		       tsc_to_ns(result.max_idle_gap));
	ksft_test_result_pass("%s\n", name);
}

/*
 * The running VM must still be refreshed while the period is rewritten
 * non-stop (a write keeps the time elapsed since the last refresh, so it
 * cannot postpone the next one forever) and while other VMs come and go.
 */
static void test_churn(struct kvm_vcpu *vcpu)
{
	pthread_t writer, churn;
	void *writes, *vms;

	WRITE_ONCE(race_done, false);
	pthread_create(&writer, NULL, period_writer, NULL);
	pthread_create(&churn, NULL, vm_churn, NULL);

	run_window(vcpu, STAGE_CHURN, ~0u, RACE_S, 1,
		   "refreshed while the period changes and VMs come and go");

	WRITE_ONCE(race_done, true);
	pthread_join(writer, &writes);
	pthread_join(churn, &vms);
	ksft_print_msg("%lu VMs created and destroyed during %lu writes\n",
		       (unsigned long)vms, (unsigned long)writes);
}

static void help(const char *name)
{
	printf("usage: %s [-h] [-p period] [-n periods]\n"
	       " -p: masterclock_sync_period to test, 1..%d s (default 1)\n"
	       " -n: length of the enabled window in periods, 3..%d (default 5)\n",
	       name, PERIOD_MAX, MAX_WINDOWS);
}

int main(int argc, char *argv[])
{
	struct kvm_clock_data data = {};
	u32 period = 1, nr = 5;
	struct kvm_vcpu *vcpu;
	vm_vaddr_t pvti_gva;
	int opt, r;
	struct kvm_vm *vm;
	struct ucall uc;
	char name[64];

	while ((opt = getopt(argc, argv, "hp:n:")) != -1) {
		switch (opt) {
		case 'p':
			period = atoi_positive("Period", optarg);
			TEST_ASSERT(period <= PERIOD_MAX, "Period must be <= %d",
				    PERIOD_MAX);
			break;
		case 'n':
			nr = atoi_positive("Number of periods", optarg);
			TEST_ASSERT(nr >= 3 && nr <= MAX_WINDOWS,
				    "Number of periods must be 3..%d", MAX_WINDOWS);
			break;
		case 'h':
		default:
			help(argv[0]);
			exit(KSFT_SKIP);
		}
	}

	ksft_print_header();

	__TEST_REQUIRE(!access(PARAM_PATH, F_OK),
		       "kernel without masterclock_sync_period");
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_ADJUST_CLOCK));

	r = kvm_take_masterclock_sync_period();
	__TEST_REQUIRE(r != -EACCES && r != -EPERM,
		       "cannot write %s (not root?)", PARAM_PATH);
	TEST_ASSERT(r >= 0, "Taking %s failed: %s", PARAM_PATH, strerror(-r));
	orig_period = r;

	vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	pvti_gva = vm_vaddr_alloc_page(vm);
	vcpu_args_set(vcpu, 2, addr_gva2gpa(vm, pvti_gva), pvti_gva);

	/*
	 * KVM enables the master clock on the first KVM_RUN (the request made
	 * at vCPU creation is processed on entry), so check after running.
	 */
	run_vcpu(vcpu, UCALL_SYNC, STAGE_SETUP, &uc);
	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	__TEST_REQUIRE(data.flags & KVM_CLOCK_TSC_STABLE,
		       "VM does not use the master clock (KVM_GET_CLOCK flags 0x%x)",
		       data.flags);

	/* The invalid values, one per guest window. */
	ksft_set_plan(1 + NR_STAGES - STAGE_LOADED);

	/* The VM was created with the period kvm was loaded with. */
	snprintf(name, sizeof(name), "period %u from load time", orig_period);
	if (!orig_period)
		run_window(vcpu, STAGE_LOADED, 0, OFF_WINDOW_S, 0, name);
	else if (orig_period <= LOADED_MAX_S)
		run_window(vcpu, STAGE_LOADED, orig_period,
			   (u64)nr * orig_period, 2, name);
	else
		/* Too long to watch; an empty window keeps the guest in step. */
		run_window(vcpu, STAGE_LOADED, ~0u, 0, 0, name);

	test_invalid_values();

	kvm_set_masterclock_sync_period(0);
	run_window(vcpu, STAGE_OFF, 0, OFF_WINDOW_S, 0, "period 0");

	kvm_set_masterclock_sync_period(period);
	snprintf(name, sizeof(name), "period 0 -> %u", period);
	run_window(vcpu, STAGE_ON, period, (u64)nr * period, 2, name);

	/* A refresh is due within the window if the write does not stop it. */
	kvm_set_masterclock_sync_period(0);
	snprintf(name, sizeof(name), "period %u -> 0", period);
	run_window(vcpu, STAGE_OFF_AGAIN, 0, period + OFF_WINDOW_S, 0, name);

	test_churn(vcpu);

	run_vcpu(vcpu, UCALL_DONE, 0, &uc);
	kvm_vm_free(vm);
	ksft_finished();
}
