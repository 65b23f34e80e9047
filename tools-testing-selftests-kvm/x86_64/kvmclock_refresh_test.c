// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmclock_refresh_test: whatever makes KVM rewrite a vCPU's pvclock page,
 * the guest's clock must not move.
 *
 * The guest watches the pvclock pages of two vCPUs.  Whenever a page changes
 * between two consistent reads, it evaluates the old and the new parameters
 * at the same TSC value (the TSC read inside the new read, and the new
 * tsc_timestamp) and asserts that they agree within 1 ns.  It also evaluates
 * both vCPUs' pages at the same TSC and asserts that they agree within 1 ns
 * while both claim PVCLOCK_TSC_STABLE_BIT: a Linux guest's vDSO then reads
 * vCPU 0's page on every CPU, so vCPU 0 is the one that stays halted.
 *
 * The page changes come from, one stage each: the periodic master clock
 * refresh (kvm.masterclock_sync_period, a short and a long period), a
 * host-initiated TSC write that starts a new TSC generation (the master
 * clock goes off, then on when the other vCPU joins the generation), and the
 * boot vCPU switching to the legacy MSR_KVM_SYSTEM_TIME and back (the master
 * clock goes off and on).  Last, over a longer run with refreshes, the
 * guest's clock must not diverge from the host's CLOCK_MONOTONIC_RAW by more
 * than the host can resolve with its ucall brackets.
 *
 * The TSC offsets of both vCPUs come from KVM_VCPU_TSC_OFFSET, so a page can
 * be evaluated for any vCPU at the same instant even when their TSCs differ.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include <asm/kvm_para.h>
#include <asm/pvclock.h>
#include <asm/pvclock-abi.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define PARAM_NAME		"masterclock_sync_period"
#define PARAM_PATH		KVM_MASTERCLOCK_SYNC_PERIOD
#define PERIOD_MAX		300

#define NR_VCPUS		2
#define HALTED_VCPU		0	/* the boot vCPU, whose page a vDSO reads */
#define RUNNER_VCPU		1

#define MAX_STEP_NS		1
#define SHORT_PERIOD_S		1
#define SHORT_WINDOW_S		5
#define NR_BRACKETS		64
#define TSC_JUMP_S		10

enum {
	STAGE_SETUP,
	STAGE_PERIOD_SHORT,	/* kvm.masterclock_sync_period = 1 */
	STAGE_PERIOD_LONG,	/* kvm.masterclock_sync_period >= 10 */
	STAGE_TSC_WRITE,	/* host write of MSR_IA32_TSC: new generation */
	STAGE_LEGACY_MSR,	/* vCPU 0: MSR_KVM_SYSTEM_TIME and back */
	STAGE_DIVERGENCE,	/* guest clock vs. CLOCK_MONOTONIC_RAW */
	NR_STAGES,
};

static const char * const stage_names[NR_STAGES] = {
	[STAGE_SETUP]		= "setup",
	[STAGE_PERIOD_SHORT]	= "periodic refresh, short period",
	[STAGE_PERIOD_LONG]	= "periodic refresh, long period",
	[STAGE_TSC_WRITE]	= "host TSC write, new TSC generation",
	[STAGE_LEGACY_MSR]	= "boot vCPU on MSR_KVM_SYSTEM_TIME and back",
	[STAGE_DIVERGENCE]	= "divergence from CLOCK_MONOTONIC_RAW",
};

/* What the running vCPU does on its next KVM_RUN. */
enum {
	CMD_CHECK,		/* read both pages once */
	CMD_WATCH,		/* read both pages for ctl.window_ns */
};

/* What the halted vCPU does when the host wakes it. */
enum {
	HCMD_NONE,
	HCMD_SYNC,		/* nothing: entering refreshes its page */
	HCMD_LEGACY,		/* MSR_KVM_SYSTEM_TIME */
	HCMD_NEW,		/* MSR_KVM_SYSTEM_TIME_NEW */
};

/* Written by the host only. */
static struct {
	u64 stage;
	u64 cmd;
	u64 window_ns;
	u64 stop_after;		/* end a watch after this many re-bases */
	u64 min_rebases;	/* re-bases a watch must see */
	bool keep_going;	/* record failures instead of asserting */
	s64 tsc_off[NR_VCPUS];	/* KVM_VCPU_TSC_OFFSET of each vCPU */
	vm_vaddr_t pvti_gva[NR_VCPUS];
	vm_paddr_t pvti_gpa[NR_VCPUS];
} ctl;

static u64 halter_cmd;

/* Written by the guest, read and cleared by the host at each stage. */
static struct {
	u64 changes[NR_VCPUS];	/* any change of the page */
	u64 rebases[NR_VCPUS];	/* changes with a new tsc_timestamp */
	s64 step[NR_VCPUS];	/* largest step at the new read's TSC */
	s64 step_ts[NR_VCPUS];	/* largest step at the new tsc_timestamp */
	u64 stable_changes;	/* PVCLOCK_TSC_STABLE_BIT toggles */
	u64 cross_checks;
	s64 cross;		/* largest vCPU 0 - vCPU 1 at the same TSC */
	u64 failures;
	char msg[512];		/* the first failure with -k */
} stats;

/* A consistent read of one pvclock page. */
struct snap {
	u32 version;
	u8 flags;
	s8 shift;
	u32 mul;
	u64 tsc_timestamp;
	u64 system_time;
	/* The runner's TSC inside the read, minus the runner's TSC offset. */
	u64 now;
	/* The TSC offset of the page's vCPU when KVM wrote the page. */
	s64 dom;
};

/* Guest only: the previous read of each page. */
static struct snap last[NR_VCPUS];
static bool have_last[NR_VCPUS];

#define guest_check(cond, fmt, args...)				\
	__guest_check(cond, #cond, __LINE__, fmt, ##args)

/* Asserts, or with -k records the first failure and goes on. */
static void __printf(4, 5) __guest_check(bool ok, const char *exp, int line,
					 const char *fmt, ...)
{
	char buf[sizeof(stats.msg)];
	va_list ap;

	if (ok)
		return;

	va_start(ap, fmt);
	guest_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	if (!ctl.keep_going)
		ucall_assert(UCALL_ABORT, exp, __FILE__, line, "%s", buf);
	if (!stats.failures++)
		guest_snprintf(stats.msg, sizeof(stats.msg), "%s", buf);
}

static u64 abs_s64(s64 v)
{
	return v < 0 ? -(u64)v : v;
}

static u64 scale_delta(u64 delta, u32 mul, s8 shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;

	return ((__uint128_t)delta * mul) >> 32;
}

/* The clock of the page in @s at the instant the runner's TSC was @now. */
static u64 clock_at(const struct snap *s, u64 now)
{
	s64 delta = now + s->dom - s->tsc_timestamp;

	if (delta < 0)
		return s->system_time - scale_delta(-(u64)delta, s->mul, s->shift);

	return s->system_time + scale_delta(delta, s->mul, s->shift);
}

static void read_page(int idx, struct snap *s)
{
	const struct pvclock_vcpu_time_info *pvti = (void *)ctl.pvti_gva[idx];
	u32 version;
	u64 tsc;

	do {
		version = pvclock_read_begin(pvti);
		s->tsc_timestamp = pvti->tsc_timestamp;
		s->system_time = pvti->system_time;
		s->mul = pvti->tsc_to_system_mul;
		s->shift = pvti->tsc_shift;
		s->flags = pvti->flags;
		tsc = rdtsc();
	} while (pvclock_read_retry(pvti, version));

	s->version = version;
	s->now = tsc - ctl.tsc_off[RUNNER_VCPU];

	/*
	 * KVM writes a vCPU's page only on that vCPU's entry, with the TSC
	 * offset in force then, and the host changes offsets only with the
	 * vCPU out of the guest and tells us before we run again.
	 */
	if (have_last[idx] && version == last[idx].version)
		s->dom = last[idx].dom;
	else
		s->dom = ctl.tsc_off[idx];
}

static bool page_changed(const struct snap *a, const struct snap *b)
{
	return a->version != b->version ||
	       a->tsc_timestamp != b->tsc_timestamp ||
	       a->system_time != b->system_time ||
	       a->mul != b->mul || a->shift != b->shift;
}

static void keep_largest(s64 *largest, s64 v)
{
	if (abs_s64(v) > abs_s64(*largest))
		*largest = v;
}

static void check_step(int idx, const struct snap *old, const struct snap *new)
{
	u64 at_ts = new->tsc_timestamp - new->dom;
	s64 step, step_ts;

	/* Old and new parameters at the same instant. */
	step = clock_at(new, new->now) - clock_at(old, new->now);
	step_ts = new->system_time - clock_at(old, at_ts);

	stats.changes[idx]++;
	if (new->tsc_timestamp != old->tsc_timestamp)
		stats.rebases[idx]++;
	if ((new->flags ^ old->flags) & PVCLOCK_TSC_STABLE_BIT)
		stats.stable_changes++;
	keep_largest(&stats.step[idx], step);
	keep_largest(&stats.step_ts[idx], step_ts);

	guest_check(abs_s64(step) <= MAX_STEP_NS && abs_s64(step_ts) <= MAX_STEP_NS,
		    "%s: vCPU %d's kvmclock stepped by %ld ns (%ld ns at the new tsc_timestamp) when its pvclock page changed, at most %d ns allowed; version %u -> %u, tsc_timestamp %lu -> %lu, system_time %lu -> %lu, mul %u -> %u, shift %d -> %d, flags 0x%x -> 0x%x",
		    stage_names[ctl.stage], idx, step, step_ts, MAX_STEP_NS,
		    old->version, new->version, old->tsc_timestamp,
		    new->tsc_timestamp, old->system_time, new->system_time,
		    old->mul, new->mul, old->shift, new->shift, old->flags,
		    new->flags);
}

/* Reads both pages once; returns the runner's clock at its read. */
static u64 check_pass(void)
{
	struct snap cur[NR_VCPUS];
	s64 cross;
	u64 now;
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		read_page(i, &cur[i]);
		if (have_last[i] && page_changed(&last[i], &cur[i]))
			check_step(i, &last[i], &cur[i]);
		last[i] = cur[i];
		have_last[i] = true;
	}

	now = cur[RUNNER_VCPU].now;
	if (cur[0].flags & cur[1].flags & PVCLOCK_TSC_STABLE_BIT) {
		cross = clock_at(&cur[0], now) - clock_at(&cur[1], now);
		stats.cross_checks++;
		keep_largest(&stats.cross, cross);
		guest_check(abs_s64(cross) <= MAX_STEP_NS,
			    "%s: vCPU 0's and vCPU 1's kvmclock differ by %ld ns at the same TSC, at most %d ns allowed; versions %u and %u, tsc_timestamp %lu and %lu, system_time %lu and %lu",
			    stage_names[ctl.stage], cross, MAX_STEP_NS,
			    cur[0].version, cur[1].version,
			    cur[0].tsc_timestamp, cur[1].tsc_timestamp,
			    cur[0].system_time, cur[1].system_time);
	}

	return clock_at(&cur[RUNNER_VCPU], now);
}

static u64 guest_watch(void)
{
	u64 start, now;

	start = check_pass();
	do {
		now = check_pass();
		if (ctl.stop_after &&
		    stats.rebases[RUNNER_VCPU] >= ctl.stop_after)
			break;
	} while ((s64)(now - start) < (s64)ctl.window_ns);

	guest_check(stats.rebases[RUNNER_VCPU] >= ctl.min_rebases,
		    "%s: vCPU %d's tsc_timestamp never changed in %lu ms: no master clock refresh happened, so nothing was tested",
		    stage_names[ctl.stage], RUNNER_VCPU,
		    (now - start) / 1000000);
	return now;
}

static void runner_main(void)
{
	u64 ns = 0;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW,
	      ctl.pvti_gpa[RUNNER_VCPU] | KVM_MSR_ENABLED);

	for (;;) {
		switch (READ_ONCE(ctl.cmd)) {
		case CMD_CHECK:
			ns = check_pass();
			break;
		case CMD_WATCH:
			ns = guest_watch();
			break;
		default:
			GUEST_FAIL("Unknown command %lu", ctl.cmd);
		}
		GUEST_SYNC2(ctl.stage, ns);
	}
}

static void halter_main(void)
{
	vm_paddr_t gpa = ctl.pvti_gpa[HALTED_VCPU] | KVM_MSR_ENABLED;
	u64 cmd;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, gpa);
	GUEST_SYNC1(HCMD_NONE);
	/* Once more after vCPU 1's first entry refreshed the master clock. */
	GUEST_SYNC1(HCMD_NONE);

	for (;;) {
		cmd = READ_ONCE(halter_cmd);
		switch (cmd) {
		case HCMD_LEGACY:
			wrmsr(MSR_KVM_SYSTEM_TIME, gpa);
			break;
		case HCMD_NEW:
			wrmsr(MSR_KVM_SYSTEM_TIME_NEW, gpa);
			break;
		case HCMD_SYNC:
			break;
		default:
			/* Nothing sends interrupts: only the host gets us out. */
			asm volatile("sti; hlt; cli" ::: "memory");
			continue;
		}
		GUEST_SYNC1(cmd);
	}
}

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpus[NR_VCPUS];
static pthread_t halter_thread;
static bool have_param;

/* Host-side failures of the current stage. */
static u64 host_failures;
static char host_msg[512];

#define host_check(cond, fmt, args...)				\
	__host_check(cond, #cond, __LINE__, fmt, ##args)

static void __printf(4, 5) __host_check(bool ok, const char *exp, int line,
					const char *fmt, ...)
{
	char buf[sizeof(host_msg)];
	va_list ap;

	if (ok)
		return;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	if (!ctl.keep_going)
		test_assert(false, exp, __FILE__, line, "%s", buf);
	if (!host_failures++)
		snprintf(host_msg, sizeof(host_msg), "%s", buf);
}

/* A TAP comment about @stage. */
static void __printf(2, 3) pr_stage(u64 stage, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ksft_print_msg("%s: %s\n", stage_names[stage], buf);
}

static u64 raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sig_nop(int sig)
{
}

static void check_ucall(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	switch (get_ucall(vcpu, uc)) {
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(*uc);
		break;
	case UCALL_SYNC:
		break;
	default:
		TEST_FAIL("vCPU %u: unexpected ucall %lu", vcpu->id, uc->cmd);
	}
}

/* vCPU 0 sits in HLT in its own thread until stop_halter() kicks it. */
static void *halter_fn(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;
	int r;

	r = __vcpu_run(vcpu);
	if (r == -1 && errno == EINTR)
		return NULL;

	TEST_ASSERT(!r, KVM_IOCTL_ERROR(KVM_RUN, r));
	check_ucall(vcpu, &uc);
	TEST_FAIL("The halted vCPU exited (%s)",
		  exit_reason_str(vcpu->run->exit_reason));
	return NULL;
}

static void start_halter(void)
{
	pthread_create(&halter_thread, NULL, halter_fn, vcpus[HALTED_VCPU]);
}

static void stop_halter(void)
{
	struct kvm_run *run = vcpus[HALTED_VCPU]->run;

	WRITE_ONCE(run->immediate_exit, 1);
	pthread_kill(halter_thread, SIGUSR1);
	pthread_join(halter_thread, NULL);
	WRITE_ONCE(run->immediate_exit, 0);
}

/*
 * Makes the stopped vCPU 0 execute @cmd.  It may have been stopped after it
 * read no command but before its HLT, so a timer signal gets it out of a
 * HLT it enters after that and it is made runnable again.
 */
static void wake_halter(u64 cmd)
{
	struct kvm_mp_state mp_state = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct itimerval kick = {
		.it_interval = { .tv_usec = 50000 },
		.it_value = { .tv_usec = 50000 },
	};
	struct itimerval off = {};
	struct ucall uc;
	int r;

	halter_cmd = cmd;
	sync_global_to_guest(vm, halter_cmd);
	TEST_ASSERT(!setitimer(ITIMER_REAL, &kick, NULL), "setitimer failed");
	do {
		vcpu_mp_state_set(vcpus[HALTED_VCPU], &mp_state);
		r = __vcpu_run(vcpus[HALTED_VCPU]);
	} while (r == -1 && errno == EINTR);
	TEST_ASSERT(!setitimer(ITIMER_REAL, &off, NULL), "setitimer failed");
	TEST_ASSERT(!r, KVM_IOCTL_ERROR(KVM_RUN, r));
	TEST_ASSERT_KVM_EXIT_REASON(vcpus[HALTED_VCPU], KVM_EXIT_IO);
	check_ucall(vcpus[HALTED_VCPU], &uc);
	TEST_ASSERT_EQ(uc.args[0], cmd);
	halter_cmd = HCMD_NONE;
	sync_global_to_guest(vm, halter_cmd);
}

/*
 * KVM_RUN holds the vCPU's mutex while the vCPU is halted, so vCPU 0's offset
 * is read only with its thread stopped; only the host changes it.
 */
static void read_tsc_offset(int idx)
{
	vcpu_device_attr_get(vcpus[idx], KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET,
			     &ctl.tsc_off[idx]);
}

/* Runs the running vCPU for one command; returns its clock. */
static u64 run_runner(u64 cmd)
{
	struct kvm_vcpu *vcpu = vcpus[RUNNER_VCPU];
	struct ucall uc;

	ctl.cmd = cmd;
	sync_global_to_guest(vm, ctl);
	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	check_ucall(vcpu, &uc);
	TEST_ASSERT(uc.args[0] == ctl.stage,
		    "Sync for stage %lu, expected stage %lu", uc.args[0],
		    ctl.stage);
	return uc.args[1];
}

static u32 clock_flags(void)
{
	struct kvm_clock_data data = {};

	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	return data.flags;
}

static void stage_begin(u64 stage)
{
	ctl.stage = stage;
	ctl.window_ns = 0;
	ctl.stop_after = 0;
	ctl.min_rebases = 0;
	memset(&stats, 0, sizeof(stats));
	sync_global_to_guest(vm, stats);
	host_failures = 0;
}

static void stage_end(void)
{
	const char *name = stage_names[ctl.stage];
	int i;

	sync_global_from_guest(vm, stats);
	for (i = 0; i < NR_VCPUS; i++)
		pr_stage(ctl.stage,
			 "vCPU %d%s: %lu pvclock changes (%lu new tsc_timestamp), largest step %ld ns at the read's TSC, %ld ns at the new tsc_timestamp",
			 i, i == HALTED_VCPU ? " (halted)" : "",
			 stats.changes[i], stats.rebases[i], stats.step[i],
			 stats.step_ts[i]);
	pr_stage(ctl.stage,
		 "%lu cross-page checks, largest vCPU 0 - vCPU 1 at the same TSC %ld ns; PVCLOCK_TSC_STABLE_BIT changed %lu times",
		 stats.cross_checks, stats.cross, stats.stable_changes);

	if (stats.failures || host_failures) {
		ksft_test_result_fail("%s: %lu failures, first: %s\n", name,
				      stats.failures + host_failures,
				      stats.failures ? stats.msg : host_msg);
	} else {
		ksft_test_result_pass("%s\n", name);
	}
}

static void test_period(u64 stage, unsigned int period, u64 window_s,
			u64 stop_after)
{
	if (!have_param) {
		ksft_test_result_skip("%s: %s does not exist\n",
				      stage_names[stage], PARAM_PATH);
		return;
	}

	kvm_set_masterclock_sync_period(period);
	stage_begin(stage);
	ctl.window_ns = window_s * NSEC_PER_SEC;
	ctl.stop_after = stop_after;
	ctl.min_rebases = 1;
	pr_stage(stage, "%s=%u, watching for up to %lu s", PARAM_NAME, period,
		 window_s);
	run_runner(CMD_WATCH);
	stage_end();
}

static void test_tsc_write(void)
{
	u64 before, after, ta, tb, tsc;
	s64 old_off;
	u32 flags;

	stage_begin(STAGE_TSC_WRITE);
	read_tsc_offset(RUNNER_VCPU);
	old_off = ctl.tsc_off[RUNNER_VCPU];

	ta = raw_ns();
	before = run_runner(CMD_CHECK);

	/* Far enough from the TSC KVM expects to start a new generation. */
	tsc = vcpu_get_msr(vcpus[RUNNER_VCPU], MSR_IA32_TSC);
	vcpu_set_msr(vcpus[RUNNER_VCPU], MSR_IA32_TSC,
		     tsc + TSC_JUMP_S * guest_tsc_khz * 1000);
	read_tsc_offset(RUNNER_VCPU);

	after = run_runner(CMD_CHECK);
	tb = raw_ns();
	flags = clock_flags();

	pr_stage(ctl.stage,
		 "vCPU %d's TSC offset %ld -> %ld (%+ld cycles), KVM_GET_CLOCK flags 0x%x after it",
		 RUNNER_VCPU, old_off, ctl.tsc_off[RUNNER_VCPU],
		 ctl.tsc_off[RUNNER_VCPU] - old_off, flags);
	pr_stage(ctl.stage,
		 "vCPU %d's kvmclock %lu -> %lu ns across the write (%ld ns), host CLOCK_MONOTONIC_RAW bracket %lu ns",
		 RUNNER_VCPU, before, after, (s64)(after - before), tb - ta);
	host_check((s64)(after - before) >= 0 &&
		   after - before <= tb - ta + MAX_STEP_NS,
		   "%s: vCPU %d's kvmclock went %lu -> %lu ns (%ld ns) across its TSC write, the host bracket allows 0..%lu ns",
		   stage_names[ctl.stage], RUNNER_VCPU, before, after,
		   (s64)(after - before), tb - ta + MAX_STEP_NS);

	/* vCPU 0 joins the new generation: the master clock comes back. */
	stop_halter();
	tsc = vcpu_get_msr(vcpus[RUNNER_VCPU], MSR_IA32_TSC);
	vcpu_set_msr(vcpus[HALTED_VCPU], MSR_IA32_TSC, tsc);
	read_tsc_offset(HALTED_VCPU);
	wake_halter(HCMD_SYNC);
	start_halter();
	run_runner(CMD_CHECK);
	flags = clock_flags();
	pr_stage(ctl.stage, "vCPU %d's TSC offset now %ld, KVM_GET_CLOCK flags 0x%x",
		 HALTED_VCPU, ctl.tsc_off[HALTED_VCPU], flags);
	host_check(flags & KVM_CLOCK_TSC_STABLE,
		   "%s: no master clock once both vCPUs are in the same TSC generation (KVM_GET_CLOCK flags 0x%x)",
		   stage_names[ctl.stage], flags);
	stage_end();
}

static void test_legacy_msr(void)
{
	u32 flags;

	stage_begin(STAGE_LEGACY_MSR);

	stop_halter();
	wake_halter(HCMD_LEGACY);
	start_halter();
	flags = clock_flags();
	pr_stage(ctl.stage, "KVM_GET_CLOCK flags 0x%x on MSR_KVM_SYSTEM_TIME",
		 flags);
	host_check(!(flags & KVM_CLOCK_TSC_STABLE),
		   "%s: the master clock stayed on with the boot vCPU on MSR_KVM_SYSTEM_TIME",
		   stage_names[ctl.stage]);
	run_runner(CMD_CHECK);

	stop_halter();
	wake_halter(HCMD_NEW);
	start_halter();
	flags = clock_flags();
	pr_stage(ctl.stage,
		 "KVM_GET_CLOCK flags 0x%x back on MSR_KVM_SYSTEM_TIME_NEW",
		 flags);
	host_check(flags & KVM_CLOCK_TSC_STABLE,
		   "%s: no master clock with the boot vCPU back on MSR_KVM_SYSTEM_TIME_NEW",
		   stage_names[ctl.stage]);
	run_runner(CMD_CHECK);
	stage_end();
}

struct bracket {
	u64 guest;		/* the guest's kvmclock */
	u64 h0, h1;		/* CLOCK_MONOTONIC_RAW before and after */
};

/* The narrowest of NR_BRACKETS ucall round trips. */
static struct bracket best_bracket(void)
{
	struct bracket b, best = { .h1 = -1ull };
	int i;

	for (i = 0; i < NR_BRACKETS; i++) {
		b.h0 = raw_ns();
		b.guest = run_runner(CMD_CHECK);
		b.h1 = raw_ns();
		if (b.h1 - b.h0 < best.h1 - best.h0)
			best = b;
	}
	return best;
}

static void test_divergence(u64 run_s)
{
	struct bracket start, end;
	s64 d0, d1, change;
	u64 bound, elapsed;

	if (have_param)
		kvm_set_masterclock_sync_period(SHORT_PERIOD_S);

	stage_begin(STAGE_DIVERGENCE);
	pr_stage(ctl.stage, "%lu s, %s", run_s,
		 have_param ? "master clock refreshed every second" :
		 "no periodic refresh (no " PARAM_NAME ")");

	start = best_bracket();
	ctl.window_ns = run_s * NSEC_PER_SEC;
	ctl.min_rebases = have_param ? 1 : 0;
	run_runner(CMD_WATCH);
	end = best_bracket();

	/* Guest clock minus host raw clock, at each bracket's middle. */
	d0 = start.guest - (start.h0 + (start.h1 - start.h0) / 2);
	d1 = end.guest - (end.h0 + (end.h1 - end.h0) / 2);
	change = d1 - d0;
	bound = (start.h1 - start.h0) + (end.h1 - end.h0) + MAX_STEP_NS;
	elapsed = end.h0 - start.h0;

	pr_stage(ctl.stage, "brackets %lu ns and %lu ns wide (narrowest of %d)",
		 start.h1 - start.h0, end.h1 - end.h0, NR_BRACKETS);
	pr_stage(ctl.stage,
		 "guest kvmclock - CLOCK_MONOTONIC_RAW changed by %ld ns in %.3f s (%.1f ns/s), allowed +-%lu ns",
		 change, (double)elapsed / NSEC_PER_SEC,
		 (double)change * NSEC_PER_SEC / elapsed, bound);
	host_check(abs_s64(change) <= bound,
		   "%s: the guest's kvmclock diverged from CLOCK_MONOTONIC_RAW by %ld ns in %.3f s (%.1f ns/s), more than the brackets resolve (%lu ns)",
		   stage_names[ctl.stage], change,
		   (double)elapsed / NSEC_PER_SEC,
		   (double)change * NSEC_PER_SEC / elapsed, bound);
	stage_end();
}

static void help(const char *name)
{
	printf("usage: %s [-h] [-k] [-p period] [-s seconds]\n"
	       " -k: report a failing stage and go on to the next one\n"
	       " -p: the long masterclock_sync_period, 2..%d s (default 10)\n"
	       " -s: length of the divergence run in seconds (default 30)\n",
	       name, PERIOD_MAX);
}

int main(int argc, char *argv[])
{
	struct sigaction sa = { .sa_handler = sig_nop };
	unsigned int long_period = 10;
	u64 run_s = 30;
	bool keep_going = false;
	int opt, r, i;

	while ((opt = getopt(argc, argv, "hkp:s:")) != -1) {
		switch (opt) {
		case 'k':
			keep_going = true;
			break;
		case 'p':
			long_period = atoi_positive("Period", optarg);
			TEST_ASSERT(long_period >= 2 && long_period <= PERIOD_MAX,
				    "The long period must be 2..%d", PERIOD_MAX);
			break;
		case 's':
			run_s = atoi_positive("Run length", optarg);
			break;
		case 'h':
		default:
			help(argv[0]);
			exit(KSFT_SKIP);
		}
	}

	ksft_print_header();

	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_ADJUST_CLOCK));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IMMEDIATE_EXIT));

	have_param = !access(PARAM_PATH, F_OK);
	if (have_param) {
		r = kvm_take_masterclock_sync_period();
		__TEST_REQUIRE(r != -EACCES && r != -EPERM,
			       "cannot write %s (not root?)", PARAM_PATH);
		TEST_ASSERT(r >= 0, "Taking %s failed: %s", PARAM_PATH,
			    strerror(-r));
	}

	TEST_ASSERT(!sigaction(SIGUSR1, &sa, NULL) &&
		    !sigaction(SIGALRM, &sa, NULL), "sigaction failed");

	vm = vm_create(NR_VCPUS);
	vcpus[HALTED_VCPU] = vm_vcpu_add(vm, HALTED_VCPU, halter_main);
	vcpus[RUNNER_VCPU] = vm_vcpu_add(vm, RUNNER_VCPU, runner_main);

	__TEST_REQUIRE(!__vcpu_has_device_attr(vcpus[HALTED_VCPU], KVM_VCPU_TSC_CTRL,
					       KVM_VCPU_TSC_OFFSET),
		       "KVM_VCPU_TSC_OFFSET not supported");

	for (i = 0; i < NR_VCPUS; i++) {
		ctl.pvti_gva[i] = vm_vaddr_alloc_page(vm);
		ctl.pvti_gpa[i] = addr_gva2gpa(vm, ctl.pvti_gva[i]);
	}
	/*
	 * vCPU 1's first entry refreshes the master clock, which leaves vCPU
	 * 0's page stale until vCPU 0 enters again: report, don't assert.
	 */
	ctl.keep_going = true;
	ctl.stage = STAGE_SETUP;
	ctl.cmd = CMD_CHECK;
	for (i = 0; i < NR_VCPUS; i++)
		read_tsc_offset(i);
	sync_global_to_guest(vm, ctl);

	/* Both vCPUs register their page, then vCPU 0 halts for good. */
	vcpu_run(vcpus[HALTED_VCPU]);
	TEST_ASSERT_KVM_EXIT_REASON(vcpus[HALTED_VCPU], KVM_EXIT_IO);
	check_ucall(vcpus[HALTED_VCPU], &(struct ucall){});
	run_runner(CMD_CHECK);
	vcpu_run(vcpus[HALTED_VCPU]);
	TEST_ASSERT_KVM_EXIT_REASON(vcpus[HALTED_VCPU], KVM_EXIT_IO);
	check_ucall(vcpus[HALTED_VCPU], &(struct ucall){});

	/* The master clock comes with the first KVM_RUN, check after it. */
	__TEST_REQUIRE(clock_flags() & KVM_CLOCK_TSC_STABLE,
		       "VM does not use the master clock (KVM_GET_CLOCK flags 0x%x)",
		       clock_flags());

	start_halter();
	run_runner(CMD_CHECK);
	sync_global_from_guest(vm, stats);
	if (stats.failures)
		pr_stage(STAGE_SETUP, "%lu failures (not asserted), first: %s",
			 stats.failures, stats.msg);
	ctl.keep_going = keep_going;

	ksft_set_plan(NR_STAGES - 1);

	test_period(STAGE_PERIOD_SHORT, SHORT_PERIOD_S, SHORT_WINDOW_S, 0);
	test_period(STAGE_PERIOD_LONG, long_period, 2 * long_period, 1);
	test_tsc_write();
	test_legacy_msr();
	test_divergence(run_s);

	stop_halter();
	kvm_vm_free(vm);

	ksft_finished();
}
