// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmclock_test: what a guest reads from kvmclock while KVM rewrites it.
 *
 * Two vCPUs.  First both spin reading both pvclock pages while the host
 * forces kvmclock updates (KVM_SET_CLOCK continuing the clock through
 * KVM_CLOCK_REALTIME):
 *
 * 1. version protocol: a read the protocol accepts (even version, unchanged
 *    across the read) never shows data changed under the same version, a
 *    version going back or a page's clock going back; each vCPU saw each page
 *    updated and had reads of the other vCPU's page rejected (odd or changed
 *    version: KVM writes a page from its own vCPU's thread), or the protocol
 *    was not exercised;
 * 2. monotonic across vCPUs: each vCPU publishes its clock, and a reading is
 *    never below one that another vCPU published before it; at least
 *    MIN_CLOSE readings came within CLOSE_NS of another vCPU's, or the vCPUs
 *    did not run at the same time.
 *
 * Then vCPU 0, the boot vCPU, whose page a Linux guest's vDSO reads on every
 * CPU, halts in its own thread and vCPU 1 runs on the host's command.  The
 * host reads both pages and evaluates them at one host TSC (a vCPU's TSC is
 * the host's plus its KVM_VCPU_TSC_OFFSET, which each guest read confirms).
 * Whenever a page changed, its clock must not have stepped by more than 1 ns,
 * the rounding of a new reference, and while both pages have
 * PVCLOCK_TSC_STABLE_BIT they must agree within 1 ns:
 *
 * 3. the halted vCPU's page: after KVM_SET_CLOCK moves the clock, the halted
 *    vCPU publishes the change without leaving HLT;
 * 4. a host write of vCPU 1's TSC far from the expected value offsets it
 *    from vCPU 0's: the master clock stays, PVCLOCK_TSC_STABLE_BIT goes;
 *    writing vCPU 0's to match brings it back;
 * 5. the boot vCPU switching to MSR_KVM_SYSTEM_TIME and back (master clock
 *    off and on);
 * 6. kvmclock runs at CLOCK_MONOTONIC_RAW's rate: throughout a wait of -s
 *    seconds before test 3 and from its end through tests 4 and 5, each page
 *    evaluated at a host TSC, minus the CLOCK_MONOTONIC_RAW readings around
 *    that TSC, brackets the VM's offset; all brackets must intersect.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include "test_util.h"
#include "kvm_util.h"
#include "kvmclock.h"
#include "processor.h"

#define NR_VCPUS	2
#define HALTER		0
#define RUNNER		1

#define MIN_CLOSE	100
#define CLOSE_NS	1000
#define SPIN_MIN_MS	500
#define SPIN_MAX_MS	20000
#define UPDATE_US	1000
#define TSC_JUMP_S	10

enum {
	CMD_READ,		/* sync with the vCPU's TSC and kvmclock */
	CMD_SPIN,		/* tests 1 and 2 until the host stops it */
	CMD_LEGACY,		/* MSR_KVM_SYSTEM_TIME */
	CMD_NEW,		/* MSR_KVM_SYSTEM_TIME_NEW */
	CMD_HALT,		/* HLT until the host makes the vCPU runnable */
};

struct spin_stats {
	u64 reads[NR_VCPUS];	/* accepted reads of each page */
	u64 odd[NR_VCPUS];
	u64 changed[NR_VCPUS];
	u64 updates[NR_VCPUS];	/* version changes between accepted reads */
	u64 cross;		/* own readings compared to another vCPU's */
	u64 close;		/* of those, within CLOSE_NS */
};

static u64 cmd[NR_VCPUS];
static struct spin_stats stats[NR_VCPUS];
static u64 published[NR_VCPUS];
static u32 nr_spinning;
static bool stop;

static void check_page(u32 id, u32 p, const struct kvmclock_snap *old,
		       const struct kvmclock_snap *new)
{
	const struct pvclock_vcpu_time_info *a = &old->pvti, *b = &new->pvti;
	u64 then = kvmclock_at(a, old->tsc), now = kvmclock_at(b, new->tsc);
	bool same = a->tsc_timestamp == b->tsc_timestamp &&
		    a->system_time == b->system_time &&
		    a->tsc_to_system_mul == b->tsc_to_system_mul &&
		    a->tsc_shift == b->tsc_shift && a->flags == b->flags;

	__GUEST_ASSERT(same || a->version != b->version,
		       "vCPU %u: page %u changed under version %u (system_time %lu -> %lu)",
		       id, p, a->version, a->system_time, b->system_time);
	__GUEST_ASSERT((s32)(b->version - a->version) >= 0,
		       "vCPU %u: page %u's version went back from %u to %u",
		       id, p, a->version, b->version);
	__GUEST_ASSERT(now >= then,
		       "vCPU %u: page %u's clock went back %lu ns (version %u -> %u)",
		       id, p, then - now, a->version, b->version);
	stats[id].updates[p] += a->version != b->version;
}

/* A read of page @p; false if the protocol rejected it. */
static bool read_page(u32 id, u32 p, struct pvclock_vcpu_time_info *pvti,
		      struct kvmclock_snap *last)
{
	struct spin_stats *s = &stats[id];
	struct kvmclock_snap cur;

	switch (kvmclock_try_snapshot(&pvti[p], &cur)) {
	case KVMCLOCK_SNAP_ODD:
		s->odd[p]++;
		return false;
	case KVMCLOCK_SNAP_CHANGED:
		s->changed[p]++;
		return false;
	}
	if (s->reads[p]++)
		check_page(id, p, &last[p], &cur);
	last[p] = cur;
	return true;
}

static void spin(u32 id, struct pvclock_vcpu_time_info *pvti)
{
	struct kvmclock_snap last[NR_VCPUS];
	struct spin_stats *s = &stats[id];
	u64 seen[NR_VCPUS], now;
	u32 p;

	__sync_fetch_and_add(&nr_spinning, 1);
	while (!READ_ONCE(stop)) {
		for (p = 0; p < NR_VCPUS; p++) {
			if (p != id)
				read_page(id, p, pvti, last);
		}

		/* Other vCPUs' readings, published before this one starts. */
		for (p = 0; p < NR_VCPUS; p++)
			seen[p] = READ_ONCE(published[p]);
		if (!read_page(id, id, pvti, last))
			continue;

		now = kvmclock_at(&last[id].pvti, last[id].tsc);
		for (p = 0; p < NR_VCPUS; p++) {
			if (p == id || !seen[p])
				continue;
			__GUEST_ASSERT(now >= seen[p],
				       "vCPU %u's kvmclock %lu is %lu ns below vCPU %u's earlier reading",
				       id, now, seen[p] - now, p);
			s->cross++;
			s->close += now - seen[p] <= CLOSE_NS;
		}
		WRITE_ONCE(published[id], now);
	}
}

static void guest_code(u32 id, vm_paddr_t gpa, struct pvclock_vcpu_time_info *pvti)
{
	vm_paddr_t own = gpa + id * sizeof(*pvti);
	struct kvmclock_snap snap;

	kvmclock_enable(own);
	for (;;) {
		switch (READ_ONCE(cmd[id])) {
		case CMD_SPIN:
			spin(id, pvti);
			break;
		case CMD_LEGACY:
			wrmsr(MSR_KVM_SYSTEM_TIME, own | KVM_MSR_ENABLED);
			break;
		case CMD_NEW:
			kvmclock_enable(own);
			break;
		case CMD_HALT:
			/* Nothing sends interrupts: only the host gets it out. */
			asm volatile("sti; hlt; cli" ::: "memory");
			continue;
		}
		kvmclock_snapshot(&pvti[id], &snap);
		GUEST_SYNC2(snap.tsc, kvmclock_at(&snap.pvti, snap.tsc));
	}
}

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpus[NR_VCPUS];
static struct pvclock_vcpu_time_info *pvti;
static s64 tsc_off[NR_VCPUS];
static pthread_t halter;

/* The host's view of a guest variable. */
static void *hva(void *gva)
{
	return addr_gva2hva(vm, (vm_vaddr_t)gva);
}

/* The vCPU synced: its TSC is the host's plus its offset. */
static void check_sync(struct kvm_vcpu *vcpu, u64 tsc0, u64 tsc1)
{
	struct ucall uc;
	u64 tsc;

	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("vCPU %u: unexpected ucall %lu", vcpu->id, uc.cmd);
	}

	tsc = uc.args[0] - tsc_off[vcpu->id];
	TEST_ASSERT(tsc >= tsc0 && tsc <= tsc1,
		    "vCPU %u: guest TSC %lu minus KVM_VCPU_TSC_OFFSET %ld is outside the host's [%lu, %lu]",
		    vcpu->id, uc.args[0], tsc_off[vcpu->id], tsc0, tsc1);
}

static void run_cmd(struct kvm_vcpu *vcpu, u64 c)
{
	u64 tsc0;

	((u64 *)hva(cmd))[vcpu->id] = c;
	tsc0 = rdtsc();
	vcpu_run(vcpu);
	check_sync(vcpu, tsc0, rdtsc());
}

static void read_tsc_offset(int i)
{
	vcpu_device_attr_get(vcpus[i], KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET,
			     &tsc_off[i]);
}

static u32 clock_flags(void)
{
	struct kvm_clock_data data;

	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	return data.flags;
}

static void sig_nop(int sig)
{
}

/* vCPU 0 stays in HLT in its own thread until stop_halter(). */
static void *halter_fn(void *arg)
{
	int r = __vcpu_run(vcpus[HALTER]);

	TEST_ASSERT(r == -1 && errno == EINTR,
		    "The halted vCPU left KVM_RUN: %d (errno %d), exit reason %s",
		    r, errno, exit_reason_str(vcpus[HALTER]->run->exit_reason));
	return NULL;
}

static void start_halter(void)
{
	((u64 *)hva(cmd))[HALTER] = CMD_HALT;
	pthread_create(&halter, NULL, halter_fn, NULL);
}

static void stop_halter(void)
{
	struct kvm_run *run = vcpus[HALTER]->run;

	WRITE_ONCE(run->immediate_exit, 1);
	pthread_kill(halter, SIGUSR1);
	pthread_join(halter, NULL);
	WRITE_ONCE(run->immediate_exit, 0);
}

/*
 * Makes the stopped vCPU 0 run @c.  It may have been stopped after reading
 * CMD_HALT but before its HLT: a timer signal gets it out of that HLT and it
 * is made runnable again.
 */
static void wake_halter(u64 c)
{
	struct kvm_mp_state runnable = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct itimerval kick = {
		.it_interval = { .tv_usec = 50000 },
		.it_value = { .tv_usec = 50000 },
	}, off = {};
	u64 tsc0 = rdtsc();
	int r;

	((u64 *)hva(cmd))[HALTER] = c;
	TEST_ASSERT(!setitimer(ITIMER_REAL, &kick, NULL), "setitimer() failed");
	do {
		vcpu_mp_state_set(vcpus[HALTER], &runnable);
		r = __vcpu_run(vcpus[HALTER]);
	} while (r == -1 && errno == EINTR);
	TEST_ASSERT(!setitimer(ITIMER_REAL, &off, NULL), "setitimer() failed");
	TEST_ASSERT(!r, KVM_IOCTL_ERROR(KVM_RUN, r));
	check_sync(vcpus[HALTER], tsc0, rdtsc());
}

/* Both pages, each evaluated at host TSC + the offset of its vCPU. */
struct view {
	struct kvmclock_snap s[NR_VCPUS];
	s64 off[NR_VCPUS];
};

static struct view last;
static bool have_last;
static s64 div_lo = INT64_MIN, div_hi = INT64_MAX;
static u64 nr_samples, nr_cross;

static u64 clock_of(const struct view *v, int i, u64 host_tsc)
{
	return kvmclock_at(&v->s[i].pvti, host_tsc + v->off[i]);
}

static bool both_stable(const struct view *v)
{
	return v->s[0].pvti.flags & v->s[1].pvti.flags & PVCLOCK_TSC_STABLE_BIT;
}

enum {
	VIEW_STEPS = BIT(0),		/* a page change must not step */
	VIEW_DIVERGENCE = BIT(1),	/* test 6 */
};

/*
 * A reference has ns = CLOCK_MONOTONIC_RAW at its TSC, truncated, and the
 * exact rate: a page's clock is floor(raw) + offset, or 1 ns less.  So two
 * pages differ by at most 1 ns at one TSC, and the offset lies in
 * [clock - raw after, clock - raw before + 1].
 */
static void take_view(const char *stage, u32 checks)
{
	const struct pvclock_vcpu_time_info *a, *b;
	struct view v;
	u64 t0, t1, tsc;
	s64 lo, hi, d;
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		v.off[i] = tsc_off[i];
		t0 = clock_ns(CLOCK_MONOTONIC_RAW);
		kvmclock_snapshot(&pvti[i], &v.s[i]);
		t1 = clock_ns(CLOCK_MONOTONIC_RAW);
		if (!(checks & VIEW_DIVERGENCE))
			continue;

		lo = clock_of(&v, i, v.s[i].tsc) - t1;
		hi = clock_of(&v, i, v.s[i].tsc) - t0 + 1;
		TEST_ASSERT(lo <= div_hi && hi >= div_lo,
			    "%s: vCPU %d's kvmclock - CLOCK_MONOTONIC_RAW in [%ld, %ld] ns, earlier readings put it in [%ld, %ld] ns",
			    stage, i, lo, hi, div_lo, div_hi);
		div_lo = max(div_lo, lo);
		div_hi = min(div_hi, hi);
		nr_samples++;
	}

	tsc = rdtsc();
	for (i = 0; have_last && (checks & VIEW_STEPS) && i < NR_VCPUS; i++) {
		a = &last.s[i].pvti;
		b = &v.s[i].pvti;
		d = clock_of(&v, i, tsc) - clock_of(&last, i, tsc);
		TEST_ASSERT(d >= -1 && d <= 1,
			    "%s: vCPU %d's kvmclock stepped by %ld ns (version %u -> %u, tsc_timestamp %lu -> %lu, system_time %lu -> %lu, mul %u -> %u, shift %d -> %d, flags 0x%x -> 0x%x)",
			    stage, i, d, a->version, b->version, a->tsc_timestamp,
			    b->tsc_timestamp, a->system_time, b->system_time,
			    a->tsc_to_system_mul, b->tsc_to_system_mul,
			    a->tsc_shift, b->tsc_shift, a->flags, b->flags);
	}

	if (both_stable(&v)) {
		d = clock_of(&v, HALTER, tsc) - clock_of(&v, RUNNER, tsc);
		TEST_ASSERT(d >= -1 && d <= 1,
			    "%s: the halted vCPU 0's kvmclock is %ld ns off vCPU 1's at the same TSC (versions %u and %u)",
			    stage, d, v.s[0].pvti.version, v.s[1].pvti.version);
		nr_cross++;
	}
	last = v;
	have_last = true;
}

static void *spin_thread(void *arg)
{
	run_cmd(arg, CMD_SPIN);
	return NULL;
}

static void print_spin_stats(struct spin_stats *s, int i)
{
	int p;

	for (p = 0; p < NR_VCPUS; p++)
		ksft_print_msg("vCPU %d, page %d: %lu reads, %lu odd, %lu changed, %lu updates\n",
			       i, p, s->reads[p], s->odd[p], s->changed[p], s->updates[p]);
	ksft_print_msg("vCPU %d: %lu readings after the other vCPU's, %lu within %d ns\n",
		       i, s->cross, s->close, CLOSE_NS);
}

/* Whether every vCPU exercised what tests 1 and 2 need. */
static bool spun_enough(struct spin_stats *s)
{
	int i, p;

	for (i = 0; i < NR_VCPUS; i++) {
		if (s[i].close < MIN_CLOSE)
			return false;
		for (p = 0; p < NR_VCPUS; p++) {
			if (!s[i].updates[p] ||
			    (p != i && !(s[i].odd[p] + s[i].changed[p])))
				return false;
		}
	}
	return true;
}

static void test_spin(void)
{
	struct spin_stats *s = hva(stats);
	pthread_t threads[NR_VCPUS];
	struct kvm_clock_data data;
	u64 start, ms, nr_updates = 0;
	int i, p;

	for (i = 0; i < NR_VCPUS; i++)
		pthread_create(&threads[i], NULL, spin_thread, vcpus[i]);
	while (READ_ONCE(*(u32 *)hva(&nr_spinning)) < NR_VCPUS)
		usleep(1000);

	start = clock_ns(CLOCK_MONOTONIC);
	do {
		vm_ioctl(vm, KVM_GET_CLOCK, &data);
		TEST_ASSERT(data.flags & KVM_CLOCK_REALTIME,
			    "KVM_GET_CLOCK flags 0x%x: no realtime", data.flags);
		data.flags = KVM_CLOCK_REALTIME;
		vm_ioctl(vm, KVM_SET_CLOCK, &data);
		nr_updates++;
		usleep(UPDATE_US);
		ms = (clock_ns(CLOCK_MONOTONIC) - start) / 1000000;
	} while (ms < SPIN_MIN_MS || (ms < SPIN_MAX_MS && !spun_enough(s)));

	WRITE_ONCE(*(bool *)hva(&stop), true);
	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(threads[i], NULL);

	ksft_print_msg("%lu KVM_SET_CLOCK in %lu ms\n", nr_updates, ms);
	for (i = 0; i < NR_VCPUS; i++)
		print_spin_stats(&s[i], i);

	for (i = 0; i < NR_VCPUS; i++) {
		for (p = 0; p < NR_VCPUS; p++) {
			TEST_ASSERT(s[i].updates[p],
				    "vCPU %d saw no update of page %d in %lu ms", i, p, ms);
			TEST_ASSERT(p == i || s[i].odd[p] + s[i].changed[p],
				    "vCPU %d had no read of vCPU %d's page rejected in %lu ms: the version protocol was not exercised",
				    i, p, ms);
		}
	}
	ksft_test_result_pass("pvclock version protocol under %lu updates\n", nr_updates);

	for (i = 0; i < NR_VCPUS; i++)
		TEST_ASSERT(s[i].close >= MIN_CLOSE,
			    "vCPU %d: %lu readings within %d ns of the other vCPU's in %lu ms, %d needed: the vCPUs hardly ran at the same time",
			    i, s[i].close, CLOSE_NS, ms, MIN_CLOSE);
	ksft_test_result_pass("kvmclock monotonic across vCPUs\n");
}

/* Test 6's readings with nothing else going on. */
static void sample_divergence(unsigned int seconds)
{
	u64 start = clock_ns(CLOCK_MONOTONIC_RAW);

	do {
		usleep(100000);
		take_view("kvmclock - CLOCK_MONOTONIC_RAW", VIEW_STEPS | VIEW_DIVERGENCE);
	} while (clock_ns(CLOCK_MONOTONIC_RAW) - start < seconds * NSEC_PER_SEC);
}

static void test_halted_page(void)
{
	const char *stage = "halted vCPU's page";
	u32 version = READ_ONCE(pvti[HALTER].version);
	struct kvm_clock_data data;
	int i;

	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	data.clock += NSEC_PER_SEC;
	data.flags = 0;
	vm_ioctl(vm, KVM_SET_CLOCK, &data);

	for (i = 0; i < 1000 && READ_ONCE(pvti[HALTER].version) == version; i++)
		usleep(10000);
	TEST_ASSERT(READ_ONCE(pvti[HALTER].version) != version,
		    "%s: the halted vCPU 0 did not publish KVM_SET_CLOCK's +1 s in 10 s (version %u)",
		    stage, version);

	/* A new offset: test 6 starts over. */
	ksft_print_msg("kvmclock - CLOCK_MONOTONIC_RAW: %lu readings put it in [%ld, %ld] ns\n",
		       nr_samples, div_lo, div_hi);
	div_lo = INT64_MIN;
	div_hi = INT64_MAX;
	nr_samples = 0;

	run_cmd(vcpus[RUNNER], CMD_READ);
	take_view(stage, VIEW_DIVERGENCE);
	TEST_ASSERT(both_stable(&last), "%s: pvclock flags 0x%x and 0x%x, no master clock",
		    stage, last.s[0].pvti.flags, last.s[1].pvti.flags);
	ksft_print_msg("%s: %lu comparisons with vCPU 1's\n", stage, nr_cross);
	ksft_test_result_pass("%s follows KVM_SET_CLOCK, agrees with the running vCPU's\n",
			      stage);
}

static void test_tsc_write(void)
{
	const char *stage = "host TSC write";
	u64 tsc, khz = __vcpu_ioctl(vcpus[RUNNER], KVM_GET_TSC_KHZ, NULL);
	u32 flags;

	/* Far enough from the TSC KVM expects to start a new generation. */
	tsc = vcpu_get_msr(vcpus[RUNNER], MSR_IA32_TSC);
	vcpu_set_msr(vcpus[RUNNER], MSR_IA32_TSC, tsc + TSC_JUMP_S * khz * 1000);
	read_tsc_offset(RUNNER);
	run_cmd(vcpus[RUNNER], CMD_READ);
	take_view(stage, VIEW_STEPS | VIEW_DIVERGENCE);
	flags = clock_flags();
	ksft_print_msg("%s: vCPU offsets %ld and %ld, KVM_GET_CLOCK flags 0x%x\n",
		       stage, tsc_off[0], tsc_off[1], flags);
	TEST_ASSERT((flags & KVM_CLOCK_TSC_STABLE) &&
		    !(last.s[RUNNER].pvti.flags & PVCLOCK_TSC_STABLE_BIT),
		    "%s: with the vCPUs' TSCs %d s apart, KVM_GET_CLOCK flags 0x%x and pvclock flags 0x%x, expected a master clock without PVCLOCK_TSC_STABLE_BIT",
		    stage, TSC_JUMP_S, flags, last.s[RUNNER].pvti.flags);

	/* vCPU 0's TSC back in sync with vCPU 1's. */
	stop_halter();
	vcpu_set_msr(vcpus[HALTER], MSR_IA32_TSC,
		     vcpu_get_msr(vcpus[RUNNER], MSR_IA32_TSC));
	read_tsc_offset(HALTER);
	wake_halter(CMD_READ);
	start_halter();
	run_cmd(vcpus[RUNNER], CMD_READ);
	take_view(stage, VIEW_STEPS | VIEW_DIVERGENCE);
	flags = clock_flags();
	ksft_print_msg("%s: vCPU offsets %ld and %ld, KVM_GET_CLOCK flags 0x%x\n",
		       stage, tsc_off[0], tsc_off[1], flags);
	TEST_ASSERT((flags & KVM_CLOCK_TSC_STABLE) && both_stable(&last),
		    "%s: no master clock or no PVCLOCK_TSC_STABLE_BIT with both vCPUs' TSCs in sync (flags 0x%x)",
		    stage, flags);
	ksft_test_result_pass("%s: TSCs apart and back in sync, no step\n", stage);
}

static void test_legacy_msr(void)
{
	const char *stage = "boot vCPU on MSR_KVM_SYSTEM_TIME";
	u32 flags;

	stop_halter();
	wake_halter(CMD_LEGACY);
	start_halter();
	flags = clock_flags();
	run_cmd(vcpus[RUNNER], CMD_READ);
	take_view(stage, VIEW_STEPS | VIEW_DIVERGENCE);
	ksft_print_msg("%s: KVM_GET_CLOCK flags 0x%x\n", stage, flags);
	TEST_ASSERT(!(flags & KVM_CLOCK_TSC_STABLE),
		    "%s: master clock on (flags 0x%x)", stage, flags);

	stop_halter();
	wake_halter(CMD_NEW);
	start_halter();
	flags = clock_flags();
	run_cmd(vcpus[RUNNER], CMD_READ);
	take_view(stage, VIEW_STEPS | VIEW_DIVERGENCE);
	ksft_print_msg("%s: back on MSR_KVM_SYSTEM_TIME_NEW, KVM_GET_CLOCK flags 0x%x\n",
		       stage, flags);
	TEST_ASSERT(flags & KVM_CLOCK_TSC_STABLE,
		    "%s: no master clock back on MSR_KVM_SYSTEM_TIME_NEW (flags 0x%x)",
		    stage, flags);
	ksft_test_result_pass("%s and back, no step\n", stage);
}

static void help(const char *name)
{
	printf("usage: %s [-h] [-s seconds]\n"
	       " -s: how long test 6 samples before test 3 (default 5)\n", name);
}

int main(int argc, char *argv[])
{
	struct sigaction sa = { .sa_handler = sig_nop };
	unsigned int seconds = 5;
	vm_vaddr_t gva;
	vm_paddr_t gpa;
	int opt, i;

	while ((opt = getopt(argc, argv, "hs:")) != -1) {
		switch (opt) {
		case 's':
			seconds = atoi_positive("Seconds", optarg);
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
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_ADJUST_CLOCK) & KVM_CLOCK_REALTIME);
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IMMEDIATE_EXIT));

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	__TEST_REQUIRE(!__vcpu_has_device_attr(vcpus[0], KVM_VCPU_TSC_CTRL,
					       KVM_VCPU_TSC_OFFSET),
		       "KVM_VCPU_TSC_OFFSET not supported");
	gva = kvmclock_alloc(vm, &gpa);
	pvti = addr_gva2hva(vm, gva);
	for (i = 0; i < NR_VCPUS; i++) {
		vcpu_args_set(vcpus[i], 3, i, gpa, gva);
		read_tsc_offset(i);
		run_cmd(vcpus[i], CMD_READ);
	}
	__TEST_REQUIRE(clock_flags() & KVM_CLOCK_TSC_STABLE,
		       "the VM has no master clock (KVM_GET_CLOCK flags 0x%x)",
		       clock_flags());
	TEST_ASSERT(!sigaction(SIGUSR1, &sa, NULL) && !sigaction(SIGALRM, &sa, NULL),
		    "sigaction() failed");
	ksft_set_plan(6);

	test_spin();

	/* Both pages as of now, before the halted vCPU's first HLT. */
	run_cmd(vcpus[HALTER], CMD_READ);
	run_cmd(vcpus[RUNNER], CMD_READ);
	take_view("start", VIEW_DIVERGENCE);
	start_halter();

	/*
	 * Test 3 after the wait: a kvmclock MSR write (as in test 5) makes
	 * kvmclock_update_work wake every vCPU 100 ms later, which would
	 * publish KVM_SET_CLOCK's change by itself.
	 */
	sample_divergence(seconds);
	test_halted_page();
	test_tsc_write();
	test_legacy_msr();
	ksft_print_msg("kvmclock - CLOCK_MONOTONIC_RAW since test 3: %lu readings, [%ld, %ld] ns\n",
		       nr_samples, div_lo, div_hi);
	ksft_test_result_pass("kvmclock - CLOCK_MONOTONIC_RAW constant\n");

	stop_halter();
	kvm_vm_free(vm);
	ksft_finished();
}
