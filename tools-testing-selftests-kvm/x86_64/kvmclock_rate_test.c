// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmclock_rate_test: a VM whose clock runs N times as fast as the host's
 * (KVM_CAP_X86_CLOCK_RATE), at N = 1, 10, 100 and 1000 (-r N for one rate).
 *
 * For each rate, one vCPU with kvmclock and the x2APIC:
 * 1. kvmclock, its page evaluated at host TSC values, advances N times the
 *    host's CLOCK_MONOTONIC_RAW over -s seconds, within 1 ppm; so does the
 *    guest's wall clock (the wall clock MSR plus kvmclock) against the
 *    host's CLOCK_REALTIME, and the wall clock epoch stays put;
 * 2. a TSC-deadline timer armed T guest seconds ahead, with the TSC
 *    frequency that the guest derives from kvmclock as Linux does, a
 *    one-shot and a periodic LAPIC timer (whose current count must run at
 *    the guest's pace) each take T/N of the host's time: at least T/N less
 *    0.1 ms, and, for N > 1, closer to T/N than to T, the time it would
 *    take unaccelerated (a vCPU that waits to be scheduled, or a nested
 *    host that delivers interrupts slowly, is late, never early); and the
 *    guest's kvmclock saw T or more pass;
 * 3. new master clock references (vCPUs added) move kvmclock by at most
 *    1 ns;
 * 4. KVM_SET_CLOCK sets the accelerated clock, and with KVM_CLOCK_REALTIME
 *    counts the realtime that passed N times;
 * 5. KVM_SET_CLOCK_GUEST takes another VM's kvmclock at the same rate, and
 *    refuses one at another rate (ERANGE).
 * Then: rate 1 gives the same kvmclock parameters as no rate at all, and a
 * rate of 0, above KVM's maximum, with other arguments or flags, or after
 * vCPUs were created fails with EINVAL.
 */
#include <sys/mman.h>

#include "apic.h"
#include "test_util.h"
#include "kvm_util.h"
#include "kvmclock.h"
#include "processor.h"

#define TIMER_VECTOR	0xec
#define T_HOST_MS	200		/* each timer's host time */
#define PERIODS		100
#define EARLY_NS	100000ULL	/* timer advance and rounding */
#define MAX_VCPUS	4
#define WALL_OFFSET	2048		/* the wall clock, in the kvmclock page */

enum {
	CMD_NOP,
	CMD_TSC_DEADLINE,
	CMD_ONESHOT,
	CMD_PERIODIC,
	CMD_WALL,
};

struct job {
	u64 cmd;
	u64 ns;		/* the timer's guest time */
	u64 n;		/* periods */
};

struct result {
	u64 clock0, clock1;	/* kvmclock around the timer */
	u64 tsc_khz;		/* the TSC frequency kvmclock implies */
	s64 tmcct_ns;		/* guest time the current count ran for */
	s64 tmcct_clock;	/* ... and kvmclock meanwhile */
	s64 tmcct_slack;	/* kvmclock around the two TMCCT reads */
};

static struct job job;
static struct result result;
static u64 irqs;

static void timer_handler(struct ex_regs *regs)
{
	WRITE_ONCE(irqs, irqs + 1);
	x2apic_write_reg(APIC_EOI, 0);
}

/* Linux's pvclock_tsc_khz(). */
static u64 pvclock_khz(const struct pvclock_vcpu_time_info *pvti)
{
	u64 khz = (1000000ULL << 32) / pvti->tsc_to_system_mul;

	return pvti->tsc_shift < 0 ? khz << -pvti->tsc_shift :
				     khz >> pvti->tsc_shift;
}

static void wait_irqs(u64 n)
{
	while (READ_ONCE(irqs) < n)
		asm volatile("sti; hlt; cli");
}

static void guest_code(vm_paddr_t gpa, struct pvclock_vcpu_time_info *pvti)
{
	struct kvmclock_snap snap;
	u64 t, cc0, cc1, t0, t1, w0, w1;

	x2apic_enable();
	kvmclock_enable(gpa);

	for (;;) {
		GUEST_SYNC(0);
		WRITE_ONCE(irqs, 0);
		kvmclock_snapshot(pvti, &snap);
		result.tsc_khz = pvclock_khz(&snap.pvti);

		switch (job.cmd) {
		case CMD_TSC_DEADLINE:
			x2apic_write_reg(APIC_LVTT, APIC_LVT_TIMER_TSCDEADLINE |
				       TIMER_VECTOR);
			result.clock0 = kvmclock_read(pvti);
			wrmsr(MSR_IA32_TSC_DEADLINE,
			      rdtsc() + job.ns * result.tsc_khz / 1000000);
			wait_irqs(1);
			result.clock1 = kvmclock_read(pvti);
			break;
		case CMD_ONESHOT:
			/* Divide by 128; the bus cycle is 1 ns of the guest's. */
			x2apic_write_reg(APIC_LVTT, APIC_LVT_TIMER_ONESHOT |
				       TIMER_VECTOR);
			x2apic_write_reg(APIC_TDCR, 0xa);
			result.clock0 = kvmclock_read(pvti);
			x2apic_write_reg(APIC_TMICT, job.ns / 128);
			/* Each TMCCT read (an exit) between two kvmclock reads. */
			t0 = kvmclock_read(pvti);
			cc0 = x2apic_read_reg(APIC_TMCCT);
			w0 = kvmclock_read(pvti) - t0;
			do {
				t = kvmclock_read(pvti);
			} while (t - t0 < job.ns / 4);
			t1 = kvmclock_read(pvti);
			cc1 = x2apic_read_reg(APIC_TMCCT);
			w1 = kvmclock_read(pvti) - t1;
			result.tmcct_ns = (cc0 - cc1) * 128;
			result.tmcct_clock = (t1 + w1 / 2) - (t0 + w0 / 2);
			result.tmcct_slack = (w0 + w1) / 2;
			wait_irqs(1);
			result.clock1 = kvmclock_read(pvti);
			break;
		case CMD_PERIODIC:
			x2apic_write_reg(APIC_LVTT, APIC_LVT_TIMER_PERIODIC |
				       TIMER_VECTOR);
			x2apic_write_reg(APIC_TDCR, 0xb);
			result.clock0 = kvmclock_read(pvti);
			x2apic_write_reg(APIC_TMICT, job.ns);
			wait_irqs(job.n);
			result.clock1 = kvmclock_read(pvti);
			x2apic_write_reg(APIC_TMICT, 0);
			break;
		case CMD_WALL:
			wrmsr(MSR_KVM_WALL_CLOCK_NEW, gpa + WALL_OFFSET);
			break;
		}
	}
}

struct vm_ctx {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpus[MAX_VCPUS];
	int nr_vcpus;
	struct pvclock_vcpu_time_info *pvti;	/* host view */
	struct pvclock_wall_clock *wall;
	vm_paddr_t gpa;
	vm_vaddr_t gva;
	u32 rate;
};

static void run_cmd(struct vm_ctx *c, int idx, u64 cmd, u64 ns, u64 n)
{
	struct kvm_vcpu *vcpu = c->vcpus[idx];
	struct ucall uc;

	job = (struct job) { .cmd = cmd, .ns = ns, .n = n };
	sync_global_to_guest(c->vm, job);
	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	case UCALL_SYNC:
		break;
	default:
		TEST_FAIL("unexpected ucall %lu", uc.cmd);
	}
	sync_global_from_guest(c->vm, result);
}

static void add_vcpu(struct vm_ctx *c)
{
	struct kvm_vcpu *vcpu;

	vcpu = vm_vcpu_add(c->vm, c->nr_vcpus, guest_code);
	vcpu_set_cpuid_feature(vcpu, X86_FEATURE_TSC_DEADLINE_TIMER);
	c->vcpus[c->nr_vcpus++] = vcpu;
	/* Each vCPU's page: its own slot in the page, as kvmclock.h says. */
	vcpu_args_set(vcpu, 2, c->gpa + vcpu->id * sizeof(*c->pvti),
		      c->gva + vcpu->id * sizeof(*c->pvti));
	run_cmd(c, vcpu->id, CMD_NOP, 0, 0);
}

/* A VM at @rate (0: without the capability) with one vCPU running. */
static void create_vm(struct vm_ctx *c, u32 rate)
{
	memset(c, 0, sizeof(*c));
	c->rate = rate ?: 1;
	c->vm = vm_create(MAX_VCPUS);
	if (rate)
		vm_enable_cap(c->vm, KVM_CAP_X86_CLOCK_RATE, rate);
	TEST_ASSERT_EQ(vm_check_cap(c->vm, KVM_CAP_X86_CLOCK_RATE), c->rate);
	vm_install_exception_handler(c->vm, TIMER_VECTOR, timer_handler);
	c->gva = kvmclock_alloc(c->vm, &c->gpa);
	c->pvti = addr_gva2hva(c->vm, c->gva);
	c->wall = (void *)c->pvti + WALL_OFFSET;
	add_vcpu(c);
}

static u64 get_offset(struct kvm_vcpu *vcpu)
{
	u64 offset;

	vcpu_device_attr_get(vcpu, KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET, &offset);
	return offset;
}

/*
 * A host clock and vCPU 0's kvmclock (its page, evaluated at the host TSC
 * read around the host clock) at one instant, the closest of many tries.
 */
struct sample {
	u64 host;
	u64 guest;
	u64 width;	/* host TSC cycles around the host clock read */
};

static void sample(struct vm_ctx *c, clockid_t clk, struct sample *s)
{
	u64 ofs = get_offset(c->vcpus[0]), t0, t1, host;
	struct kvmclock_snap snap;
	int i;

	s->width = ~0ULL;
	for (i = 0; i < 200; i++) {
		TEST_ASSERT(kvmclock_try_snapshot(c->pvti, &snap) == KVMCLOCK_SNAP_OK,
			    "vCPU 0's kvmclock page changed while no vCPU runs");
		t0 = rdtsc();
		host = clock_ns(clk);
		t1 = rdtsc();
		if (t1 - t0 < s->width) {
			s->width = t1 - t0;
			s->host = host;
			s->guest = kvmclock_at(&snap.pvti, t0 + (t1 - t0) / 2 + ofs);
		}
	}
}

static u64 wall_ns(struct vm_ctx *c)
{
	u32 version;
	u64 ns;

	do {
		version = READ_ONCE(c->wall->version);
		/* The data after the version, as kvmclock.h's protocol says. */
		rmb();
		ns = c->wall->sec * NSEC_PER_SEC + c->wall->nsec;
		/* The data before the version again. */
		rmb();
	} while ((version & 1) || version != READ_ONCE(c->wall->version));
	return ns;
}

/* 1. kvmclock's rate and the wall clock, over @secs seconds. */
static void test_rate(struct vm_ctx *c, int secs)
{
	struct sample a, b, ra, rb;
	s64 err, werr, epoch;
	u64 wall0;
	double ppm;

	run_cmd(c, 0, CMD_WALL, 0, 0);
	wall0 = wall_ns(c);
	sample(c, CLOCK_MONOTONIC_RAW, &a);
	sample(c, CLOCK_REALTIME, &ra);
	sleep(secs);
	sample(c, CLOCK_MONOTONIC_RAW, &b);
	sample(c, CLOCK_REALTIME, &rb);
	run_cmd(c, 0, CMD_WALL, 0, 0);
	epoch = wall_ns(c) - wall0;

	err = (s64)(b.guest - a.guest) - (s64)(b.host - a.host) * c->rate;
	ppm = (double)err * 1e6 / ((double)(b.host - a.host) * c->rate);
	/* The guest's realtime is the wall clock plus kvmclock. */
	werr = (s64)(rb.guest - ra.guest) - (s64)(rb.host - ra.host) * c->rate;
	ksft_print_msg("rate %u: kvmclock (mul %u shift %d): %lu ns in %lu raw ns, %+.4f ppm\n",
		       c->rate, c->pvti->tsc_to_system_mul, c->pvti->tsc_shift,
		       b.guest - a.guest, b.host - a.host, ppm);
	ksft_print_msg("rate %u: realtime %+ld ns from %u x the host's, epoch moved %+ld ns\n",
		       c->rate, werr, c->rate, epoch);
	TEST_ASSERT(ppm >= -1 && ppm <= 1,
		    "rate %u: kvmclock ran %+.4f ppm from %u times CLOCK_MONOTONIC_RAW",
		    c->rate, ppm, c->rate);
	TEST_ASSERT(llabs(werr) <= (rb.host - ra.host) * c->rate / 1000000,
		    "rate %u: the guest's realtime ran %+ld ns from %u times CLOCK_REALTIME's",
		    c->rate, werr, c->rate);
	TEST_ASSERT(llabs(epoch) <= 10000,
		    "rate %u: the wall clock epoch moved %+ld ns in %d s", c->rate,
		    epoch, secs);
}

/* 2. A timer of @guest_ns of the guest's must take @guest_ns / rate. */
static void check_timer(struct vm_ctx *c, const char *what, u64 cmd,
			u64 guest_ns, u64 arg, u64 n)
{
	u64 t0, t1, host, want = guest_ns / c->rate;
	/* Halfway to the time it would take unaccelerated, or any time. */
	u64 late = c->rate == 1 ? ~0ULL : want + (guest_ns - want) / 2;

	t0 = clock_ns(CLOCK_MONOTONIC);
	run_cmd(c, 0, cmd, arg, n);
	t1 = clock_ns(CLOCK_MONOTONIC);
	host = t1 - t0;

	ksft_print_msg("rate %u: %s of %lu ms: %lu us (want %lu us), kvmclock %lu ms, %lu kHz\n",
		       c->rate, what, guest_ns / 1000000, host / 1000,
		       want / 1000, (result.clock1 - result.clock0) / 1000000,
		       result.tsc_khz);
	TEST_ASSERT(host + EARLY_NS >= want && host <= late,
		    "rate %u: %s of %lu ns of the guest's took %lu ns of the host's, expected %lu (at most %lu)",
		    c->rate, what, guest_ns, host, want, late);
	TEST_ASSERT(result.clock1 - result.clock0 + EARLY_NS * c->rate >= guest_ns,
		    "rate %u: %s of %lu ns fired after %lu ns of kvmclock",
		    c->rate, what, guest_ns, result.clock1 - result.clock0);
}

static void test_timers(struct vm_ctx *c)
{
	u64 t = T_HOST_MS * 1000000ULL * c->rate;
	u64 period = 1000000ULL * c->rate;

	check_timer(c, "TSC deadline", CMD_TSC_DEADLINE, t, t, 0);
	check_timer(c, "one-shot LAPIC timer", CMD_ONESHOT, t, t, 0);
	/* The current count, over a quarter of it, at the guest's pace. */
	ksft_print_msg("rate %u: TMCCT counted %ld ns of the guest's, kvmclock %ld +/- %ld\n",
		       c->rate, result.tmcct_ns, result.tmcct_clock,
		       result.tmcct_slack);
	TEST_ASSERT(llabs(result.tmcct_ns - result.tmcct_clock) <=
		    result.tmcct_clock / 1000 + result.tmcct_slack + 256,
		    "rate %u: TMCCT counted %ld ns while kvmclock counted %ld +/- %ld",
		    c->rate, result.tmcct_ns, result.tmcct_clock,
		    result.tmcct_slack);
	check_timer(c, "periodic LAPIC timer", CMD_PERIODIC,
		    period * PERIODS, period, PERIODS);
}

/* 3. New references: each vCPU added makes one. */
static void test_references(struct vm_ctx *c)
{
	struct kvmclock_snap before, after;
	u64 host, ofs = get_offset(c->vcpus[0]);
	s64 step, worst = 0;

	while (c->nr_vcpus < MAX_VCPUS) {
		run_cmd(c, 0, CMD_NOP, 0, 0);
		kvmclock_snapshot(c->pvti, &before);
		add_vcpu(c);
		run_cmd(c, 0, CMD_NOP, 0, 0);
		kvmclock_snapshot(c->pvti, &after);
		TEST_ASSERT(after.pvti.version != before.pvti.version,
			    "rate %u: no new kvmclock reference for a new vCPU",
			    c->rate);
		host = rdtsc() + ofs;
		step = kvmclock_at(&after.pvti, host) - kvmclock_at(&before.pvti, host);
		if (llabs(step) > llabs(worst))
			worst = step;
	}
	ksft_print_msg("rate %u: %d new references, largest step %+ld ns\n",
		       c->rate, MAX_VCPUS - 1, worst);
	TEST_ASSERT(llabs(worst) <= 1,
		    "rate %u: a new reference stepped kvmclock by %+ld ns",
		    c->rate, worst);
}

/* 4. KVM_SET_CLOCK, and KVM_CLOCK_REALTIME counting N times. */
static void test_set_clock(struct vm_ctx *c)
{
	struct kvm_clock_data data = {}, got = {};
	u64 set_at, get_at, back = NSEC_PER_SEC;
	s64 err;

	data.clock = 1000 * NSEC_PER_SEC;
	set_at = clock_ns(CLOCK_MONOTONIC_RAW);
	vm_ioctl(c->vm, KVM_SET_CLOCK, &data);
	vm_ioctl(c->vm, KVM_GET_CLOCK, &got);
	get_at = clock_ns(CLOCK_MONOTONIC_RAW);
	TEST_ASSERT(got.clock >= data.clock &&
		    got.clock - data.clock <= (get_at - set_at) * c->rate,
		    "rate %u: KVM_SET_CLOCK %llu, KVM_GET_CLOCK %llu %lu ns later",
		    c->rate, data.clock, got.clock, get_at - set_at);

	/* Saved a second ago, e.g. on a migration's source. */
	vm_ioctl(c->vm, KVM_GET_CLOCK, &data);
	TEST_REQUIRE(data.flags & KVM_CLOCK_REALTIME);
	data.realtime -= back;
	data.flags = KVM_CLOCK_REALTIME;
	vm_ioctl(c->vm, KVM_SET_CLOCK, &data);
	vm_ioctl(c->vm, KVM_GET_CLOCK, &got);
	err = (s64)(got.clock - data.clock) -
	      (s64)(got.realtime - data.realtime) * c->rate;
	ksft_print_msg("rate %u: SET_CLOCK(REALTIME 1 s old): %+ld ns from %u x time passed\n",
		       c->rate, err, c->rate);
	TEST_ASSERT(llabs(err) <= 1000LL * c->rate,
		    "rate %u: KVM_SET_CLOCK(KVM_CLOCK_REALTIME) landed %+ld ns from %u x the realtime that passed",
		    c->rate, err, c->rate);

	/* A realtime so old that N times its age overflows: EINVAL. */
	data.realtime = 1;
	if (__builtin_mul_overflow(clock_ns(CLOCK_REALTIME), (u64)c->rate, &back)) {
		TEST_ASSERT(__vm_ioctl(c->vm, KVM_SET_CLOCK, &data) == -1 &&
			    errno == EINVAL,
			    "rate %u: KVM_SET_CLOCK with a realtime of 1 ns did not fail with EINVAL",
			    c->rate);
		vm_ioctl(c->vm, KVM_GET_CLOCK, &data);
		TEST_ASSERT(data.clock - got.clock < 60 * NSEC_PER_SEC * c->rate,
			    "rate %u: a failed KVM_SET_CLOCK moved the clock to %llu",
			    c->rate, data.clock);
	}
}

/* 5. KVM_SET_CLOCK_GUEST between VMs at the same rate, or not. */
static void test_clock_guest(struct vm_ctx *c)
{
	struct kvm_clock_guest src, dst;
	struct vm_ctx same, other;

	if (!kvm_has_cap(KVM_CAP_CLOCK_GUEST))
		return;

	create_vm(&same, c->rate);
	create_vm(&other, c->rate == 1 ? 10 : 1);
	vcpu_ioctl(c->vcpus[0], KVM_GET_CLOCK_GUEST, &src);
	vcpu_ioctl(same.vcpus[0], KVM_SET_CLOCK_GUEST, &src);
	vcpu_ioctl(same.vcpus[0], KVM_GET_CLOCK_GUEST, &dst);
	TEST_ASSERT(dst.tsc_to_system_mul == src.tsc_to_system_mul &&
		    dst.tsc_shift == src.tsc_shift,
		    "rate %u: two VMs at one rate have kvmclock rates %u/%d and %u/%d",
		    c->rate, src.tsc_to_system_mul, src.tsc_shift,
		    dst.tsc_to_system_mul, dst.tsc_shift);
	TEST_ASSERT(__vcpu_ioctl(other.vcpus[0], KVM_SET_CLOCK_GUEST, &src) == -1 &&
		    errno == ERANGE,
		    "rate %u: KVM_SET_CLOCK_GUEST into a VM at rate %u did not fail with ERANGE",
		    c->rate, other.rate);
	kvm_vm_free(same.vm);
	kvm_vm_free(other.vm);
}

static void test_one_rate(u32 rate, int secs)
{
	struct vm_ctx c;

	create_vm(&c, rate);
	test_rate(&c, secs);
	test_timers(&c);
	test_set_clock(&c);
	test_clock_guest(&c);
	test_references(&c);
	kvm_vm_free(c.vm);
	ksft_test_result_pass("rate %u\n", rate);
}

/* Rate 1 is no rate at all: the same kvmclock parameters. */
static void test_rate_one(void)
{
	struct vm_ctx none, one;

	create_vm(&none, 0);
	create_vm(&one, 1);
	TEST_ASSERT(none.pvti->tsc_to_system_mul == one.pvti->tsc_to_system_mul &&
		    none.pvti->tsc_shift == one.pvti->tsc_shift &&
		    none.pvti->flags == one.pvti->flags,
		    "rate 1: mul %u shift %d flags 0x%x, without a rate: mul %u shift %d flags 0x%x",
		    one.pvti->tsc_to_system_mul, one.pvti->tsc_shift, one.pvti->flags,
		    none.pvti->tsc_to_system_mul, none.pvti->tsc_shift,
		    none.pvti->flags);
	kvm_vm_free(none.vm);
	kvm_vm_free(one.vm);
	ksft_test_result_pass("rate 1 is the same kvmclock as no rate\n");
}

static void expect_einval(struct kvm_vm *vm, struct kvm_enable_cap *cap,
			  const char *what)
{
	int r = __vm_ioctl(vm, KVM_ENABLE_CAP, cap);

	TEST_ASSERT(r == -1 && errno == EINVAL,
		    "KVM_ENABLE_CAP(KVM_CAP_X86_CLOCK_RATE), %s: %d (errno %d), expected EINVAL",
		    what, r, errno);
}

static void test_invalid(u32 max)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_CLOCK_RATE };
	struct kvm_vm *vm = vm_create_barebones();

	cap.args[0] = 0;
	expect_einval(vm, &cap, "rate 0");
	cap.args[0] = max + 1;
	expect_einval(vm, &cap, "above the maximum");
	cap.args[0] = 2;
	cap.args[1] = 1;
	expect_einval(vm, &cap, "args[1] set");
	cap.args[1] = 0;
	cap.flags = 1;
	expect_einval(vm, &cap, "flags set");
	TEST_ASSERT_EQ(vm_check_cap(vm, KVM_CAP_X86_CLOCK_RATE), 1);
	kvm_vm_free(vm);

	vm = vm_create(1);
	vm_vcpu_add(vm, 0, guest_code);
	cap.flags = 0;
	expect_einval(vm, &cap, "after a vCPU was created");
	TEST_ASSERT_EQ(vm_check_cap(vm, KVM_CAP_X86_CLOCK_RATE), 1);
	kvm_vm_free(vm);
	ksft_test_result_pass("EINVAL for rate 0, above %u, other arguments, flags, vCPUs\n",
			      max);
}

int main(int argc, char *argv[])
{
	static const u32 rates[] = { 1, 10, 100, 1000 };
	int opt, secs = 3, one = 0, i;
	u32 max;

	while ((opt = getopt(argc, argv, "r:s:")) != -1) {
		switch (opt) {
		case 'r':
			one = atoi_positive("Rate", optarg);
			break;
		case 's':
			secs = atoi_positive("Seconds", optarg);
			break;
		default:
			printf("usage: %s [-r RATE] [-s SECONDS]\n", argv[0]);
			exit(KSFT_SKIP);
		}
	}

	ksft_print_header();
	max = kvm_check_cap(KVM_CAP_X86_CLOCK_RATE);
	TEST_REQUIRE(max);
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_TSC_DEADLINE_TIMER));
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	TEST_ASSERT(max >= 1000, "KVM's maximum clock rate is %u, below 1000", max);

	ksft_set_plan((one ? 1 : ARRAY_SIZE(rates)) + 2);
	for (i = 0; i < ARRAY_SIZE(rates); i++)
		if (!one || rates[i] == one)
			test_one_rate(rates[i], secs);
	if (one && one != 1 && one != 10 && one != 100 && one != 1000)
		test_one_rate(one, secs);
	test_rate_one();
	test_invalid(max);
	ksft_finished();
}
