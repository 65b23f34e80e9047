// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmclock_migration_test: save and restore a VM's kvmclock with
 * KVM_GET_CLOCK_GUEST and KVM_SET_CLOCK_GUEST.
 *
 * The source vCPUs' TSCs are offset from each other (each guest writes its
 * own IA32_TSC).  What a guest computes from its kvmclock page must be, at
 * every TSC value, within 1 ns of the saved parameters evaluated at that
 * TSC; the host checks the same through KVM_GET_CLOCK_GUEST at TSC values
 * from the saved reference to 2^40 cycles after it:
 *
 * 1. KVM_GET_CLOCK_GUEST describes what each vCPU's guest computes, and all
 *    vCPUs' descriptions give one clock at one host instant;
 * 2. the same VM: KVM_SET_CLOCK moves the clock by an hour, and
 *    KVM_SET_CLOCK_GUEST on another vCPU than the one saved restores it;
 * 3. a new VM, after a pause that is not counted: the destination gets each
 *    vCPU's TSC offset (the source's, minus the pause), TSC_ADJUST and then
 *    KVM_SET_CLOCK_GUEST; kvmclock continues the source's, and the
 *    destination has the source's KVM_GET_CLOCK flags and
 *    PVCLOCK_TSC_STABLE_BIT;
 * 4. invalid parameters fail with EINVAL, another rate with ERANGE, a bad
 *    address with EFAULT, all leaving the clock alone, without even a new
 *    master clock reference; the same rate written with another shift is
 *    accepted;
 * 5. without the master clock (a vCPU at another TSC rate), both ioctls fail
 *    with EINVAL.
 */
#include <sys/mman.h>

#include "test_util.h"
#include "kvm_util.h"
#include "kvmclock.h"
#include "processor.h"

#define NR_VCPUS	3
#define PAUSE_US	200000
/* Guest TSC values the source vCPUs start from, far apart. */
#define TSC_BASE	BIT_ULL(40)
#define TSC_STEP	BIT_ULL(36)

static_assert(sizeof(struct kvm_clock_guest) ==
	      sizeof(struct pvclock_vcpu_time_info));

/* What each vCPU's guest checks its kvmclock page against, if armed. */
struct expect {
	bool armed;
	struct pvclock_vcpu_time_info pvti;
};

static struct expect expect[NR_VCPUS];

static void guest_code(u32 id, bool source, vm_paddr_t gpa,
		       struct pvclock_vcpu_time_info *pvti)
{
	struct kvmclock_snap snap;
	s64 diff;

	if (source)
		wrmsr(MSR_IA32_TSC, TSC_BASE + id * TSC_STEP);
	kvmclock_enable(gpa + id * sizeof(*pvti));

	for (;;) {
		GUEST_SYNC(0);
		if (!READ_ONCE(expect[id].armed))
			continue;
		kvmclock_snapshot(&pvti[id], &snap);
		diff = kvmclock_at(&snap.pvti, snap.tsc) -
		       kvmclock_at(&expect[id].pvti, snap.tsc);
		__GUEST_ASSERT(diff >= -1 && diff <= 1,
			       "vCPU %u: kvmclock %ld ns from the saved one at TSC %lu",
			       id, diff, snap.tsc);
		__GUEST_ASSERT(!((snap.pvti.flags ^ expect[id].pvti.flags) &
				 PVCLOCK_TSC_STABLE_BIT),
			       "vCPU %u: kvmclock flags 0x%x, saved 0x%x",
			       id, snap.pvti.flags, expect[id].pvti.flags);
	}
}

static void run_vcpu(struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);

	switch (get_ucall(vcpu, &uc)) {
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	case UCALL_SYNC:
		break;
	default:
		TEST_FAIL("vCPU %u: unexpected ucall %lu", vcpu->id, uc.cmd);
	}
}

static struct kvm_vm *create_vm(struct kvm_vcpu **vcpus, bool source)
{
	struct kvm_vm *vm;
	vm_vaddr_t gva;
	vm_paddr_t gpa;
	int i;

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	gva = kvmclock_alloc(vm, &gpa);
	for (i = 0; i < NR_VCPUS; i++)
		vcpu_args_set(vcpus[i], 4, i, source, gpa, gva);
	return vm;
}

static void get_clock_guest(struct kvm_vcpu *vcpu, struct kvm_clock_guest *c)
{
	memset(c, 0xff, sizeof(*c));
	vcpu_ioctl(vcpu, KVM_GET_CLOCK_GUEST, c);
}

static u64 get_offset(struct kvm_vcpu *vcpu)
{
	u64 offset;

	vcpu_device_attr_get(vcpu, KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET, &offset);
	return offset;
}

/* The clock @c describes at guest TSC @tsc, before its timestamp too. */
static s64 clock_at(const struct kvm_clock_guest *c, u64 tsc)
{
	struct pvclock_vcpu_time_info p;

	memcpy(&p, c, sizeof(p));
	if (tsc >= p.tsc_timestamp)
		return kvmclock_at(&p, tsc);

	/* Back from the timestamp by the clock of a timestamp that far back. */
	p.tsc_timestamp = tsc;
	p.system_time = 0;
	return (s64)c->system_time - (s64)kvmclock_at(&p, c->tsc_timestamp);
}

/*
 * Each vCPU's kvmclock now must be @saved[i] within 1 ns, at TSC values
 * from the saved timestamp to 2^40 cycles after the current one; then each
 * guest checks its page.  Returns the largest difference.
 */
static s64 check_clock(struct kvm_vm *vm, struct kvm_vcpu **vcpus,
		       const struct kvm_clock_guest *saved)
{
	static const u64 after[] = { 0, 1, 1000, BIT_ULL(20), BIT_ULL(32), BIT_ULL(40) };
	struct kvm_clock_guest now;
	s64 diff, worst = 0;
	int i, j;

	for (i = 0; i < NR_VCPUS; i++) {
		get_clock_guest(vcpus[i], &now);
		TEST_ASSERT(now.tsc_to_system_mul == saved[i].tsc_to_system_mul &&
			    now.tsc_shift == saved[i].tsc_shift,
			    "vCPU %d: kvmclock rate changed: mul %u shift %d, saved mul %u shift %d",
			    i, now.tsc_to_system_mul, now.tsc_shift,
			    saved[i].tsc_to_system_mul, saved[i].tsc_shift);
		for (j = -1; j < (int)ARRAY_SIZE(after); j++) {
			u64 tsc = j < 0 ? saved[i].tsc_timestamp :
					  now.tsc_timestamp + after[j];

			diff = clock_at(&now, tsc) - clock_at(&saved[i], tsc);
			TEST_ASSERT(diff >= -1 && diff <= 1,
				    "vCPU %d: kvmclock %ld ns from the saved one at TSC %lu",
				    i, diff, tsc);
			if (llabs(diff) > llabs(worst))
				worst = diff;
		}
		memcpy(&expect[i].pvti, &saved[i], sizeof(expect[i].pvti));
		expect[i].armed = true;
	}
	sync_global_to_guest(vm, expect);
	for (i = 0; i < NR_VCPUS; i++)
		run_vcpu(vcpus[i]);
	return worst;
}

static u32 clock_flags(struct kvm_vm *vm)
{
	struct kvm_clock_data data = {};

	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	return data.flags;
}

static void test_get(struct kvm_vm *vm, struct kvm_vcpu **vcpus,
		     struct kvm_clock_guest *saved)
{
	u64 host, ofs[NR_VCPUS];
	s64 clock0, diff;
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		get_clock_guest(vcpus[i], &saved[i]);
		TEST_ASSERT(!saved[i].version && !saved[i].pad0 &&
			    !saved[i].pad[0] && !saved[i].pad[1],
			    "vCPU %d: version %u, pads %u %u %u: expected zeroes",
			    i, saved[i].version, saved[i].pad0, saved[i].pad[0],
			    saved[i].pad[1]);
		ofs[i] = get_offset(vcpus[i]);
	}

	/* One host instant in each vCPU's TSC (no TSC scaling here). */
	host = rdtsc();
	clock0 = clock_at(&saved[0], host + ofs[0]);
	for (i = 1; i < NR_VCPUS; i++) {
		diff = clock_at(&saved[i], host + ofs[i]) - clock0;
		TEST_ASSERT(diff >= -1 && diff <= 1,
			    "vCPU %d's kvmclock is %ld ns from vCPU 0's at one host TSC",
			    i, diff);
	}

	check_clock(vm, vcpus, saved);
	ksft_test_result_pass("KVM_GET_CLOCK_GUEST is what each guest computes\n");
}

static void test_same_vm(struct kvm_vm *vm, struct kvm_vcpu **vcpus)
{
	struct kvm_clock_guest saved[NR_VCPUS];
	struct kvm_clock_data data = {};
	s64 worst;
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		get_clock_guest(vcpus[i], &saved[i]);

	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	data.clock += 3600 * NSEC_PER_SEC;
	data.flags = 0;
	vm_ioctl(vm, KVM_SET_CLOCK, &data);

	/* Restored through another vCPU than the first. */
	vcpu_ioctl(vcpus[1], KVM_SET_CLOCK_GUEST, &saved[1]);
	worst = check_clock(vm, vcpus, saved);
	ksft_test_result_pass("same VM: restored after KVM_SET_CLOCK, within %ld ns\n",
			      worst);
}

static void test_new_vm(struct kvm_vm *src_vm, struct kvm_vcpu **src_vcpus)
{
	struct kvm_clock_guest saved[NR_VCPUS];
	struct kvm_vcpu *vcpus[NR_VCPUS];
	u64 ofs[NR_VCPUS], adjust[NR_VCPUS];
	u64 src_host, pause;
	struct kvm_vm *vm;
	u32 src_flags;
	s64 worst;
	int i;

	/* The source, stopped: the state of each vCPU and the host TSC. */
	for (i = 0; i < NR_VCPUS; i++) {
		get_clock_guest(src_vcpus[i], &saved[i]);
		ofs[i] = get_offset(src_vcpus[i]);
		adjust[i] = vcpu_get_msr(src_vcpus[i], MSR_IA32_TSC_ADJUST);
	}
	src_flags = clock_flags(src_vm);
	src_host = rdtsc();

	usleep(PAUSE_US);

	/* The destination, with the pause taken out of the guest TSC. */
	vm = create_vm(vcpus, false);
	pause = rdtsc() - src_host;
	for (i = 0; i < NR_VCPUS; i++) {
		u64 val = ofs[i] - pause;

		vcpu_device_attr_set(vcpus[i], KVM_VCPU_TSC_CTRL,
				     KVM_VCPU_TSC_OFFSET, &val);
		vcpu_set_msr(vcpus[i], MSR_IA32_TSC_ADJUST, adjust[i]);
	}
	vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, &saved[0]);

	/* The guests enable kvmclock, as after a restore of their MSRs. */
	for (i = 0; i < NR_VCPUS; i++)
		run_vcpu(vcpus[i]);

	TEST_ASSERT_EQ(clock_flags(vm), src_flags);
	worst = check_clock(vm, vcpus, saved);
	ksft_test_result_pass("new VM: continued within %ld ns after a %d ms pause, flags 0x%x\n",
			      worst, PAUSE_US / 1000, src_flags);
	kvm_vm_free(vm);
}

static void expect_errno(int r, int err, const char *what)
{
	TEST_ASSERT(r == -1 && errno == err,
		    "%s: %d (errno %d), expected errno %d", what, r, errno, err);
}

static void test_invalid(struct kvm_vm *vm, struct kvm_vcpu **vcpus)
{
	struct kvm_clock_guest saved[NR_VCPUS], c, *bad;
	u64 refs;
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		get_clock_guest(vcpus[i], &saved[i]);
	refs = vm_get_stat(vm, "masterclock_references");

	c = saved[0];
	c.version = 2;
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, &c), EINVAL,
		     "KVM_SET_CLOCK_GUEST, version set");
	c = saved[0];
	c.flags |= PVCLOCK_GUEST_STOPPED;
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, &c), EINVAL,
		     "KVM_SET_CLOCK_GUEST, PVCLOCK_GUEST_STOPPED in flags");

	c = saved[0];
	c.pad0 = 1;
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, &c), EINVAL,
		     "KVM_SET_CLOCK_GUEST, pad0 set");
	c = saved[0];
	c.pad[1] = 1;
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, &c), EINVAL,
		     "KVM_SET_CLOCK_GUEST, pad[1] set");
	c = saved[0];
	c.tsc_to_system_mul = 0;
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, &c), EINVAL,
		     "KVM_SET_CLOCK_GUEST, zero multiplier");
	c = saved[0];
	c.tsc_shift = 32;
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, &c), EINVAL,
		     "KVM_SET_CLOCK_GUEST, shift 32");
	c.tsc_shift = -32;
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, &c), EINVAL,
		     "KVM_SET_CLOCK_GUEST, shift -32");

	/* 15 ppm faster: continuing it would not be exact. */
	c = saved[0];
	c.tsc_to_system_mul += c.tsc_to_system_mul >> 16;
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, &c), ERANGE,
		     "KVM_SET_CLOCK_GUEST, another rate");

	bad = mmap(NULL, getpagesize(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(bad != MAP_FAILED, "mmap() failed");
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, bad), EFAULT,
		     "KVM_SET_CLOCK_GUEST, bad address");
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_GET_CLOCK_GUEST, bad), EFAULT,
		     "KVM_GET_CLOCK_GUEST, bad address");
	munmap(bad, getpagesize());

	/* Not even a new master clock reference. */
	TEST_ASSERT_EQ(vm_get_stat(vm, "masterclock_references"), refs);
	check_clock(vm, vcpus, saved);

	/* The same rate, with a multiplier of half and a shift one more. */
	c = saved[0];
	if (c.tsc_shift < 31) {
		c.tsc_to_system_mul = (c.tsc_to_system_mul + 1) / 2;
		c.tsc_shift++;
		vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, &c);
	}
	ksft_test_result_pass("%s\n",
			      "EINVAL, ERANGE, EFAULT leave the clock alone; the same rate is accepted");
}

static void test_no_master_clock(void)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	struct kvm_clock_guest c = {};
	struct kvm_vm *vm;
	int khz, i;

	vm = create_vm(vcpus, false);
	khz = __vcpu_ioctl(vcpus[1], KVM_GET_TSC_KHZ, NULL);
	TEST_ASSERT(khz > 0, "KVM_GET_TSC_KHZ failed: %d", khz);
	/* Scaled, or without TSC scaling caught up on entries. */
	vcpu_ioctl(vcpus[1], KVM_SET_TSC_KHZ, (void *)(unsigned long)(2 * khz));
	/* A host TSC write makes KVM look at the vCPUs' rates again. */
	vcpu_set_msr(vcpus[1], MSR_IA32_TSC, 0);
	for (i = 0; i < NR_VCPUS; i++)
		run_vcpu(vcpus[i]);

	TEST_ASSERT(!(clock_flags(vm) & KVM_CLOCK_TSC_STABLE),
		    "a master clock with vCPUs at %d and %d kHz", khz, 2 * khz);
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_GET_CLOCK_GUEST, &c), EINVAL,
		     "KVM_GET_CLOCK_GUEST without the master clock");
	c.tsc_to_system_mul = 1U << 31;
	expect_errno(__vcpu_ioctl(vcpus[0], KVM_SET_CLOCK_GUEST, &c), EINVAL,
		     "KVM_SET_CLOCK_GUEST without the master clock");
	kvm_vm_free(vm);
	ksft_test_result_pass("EINVAL without the master clock\n");
}

int main(void)
{
	struct kvm_clock_guest saved[NR_VCPUS];
	struct kvm_vcpu *vcpus[NR_VCPUS];
	struct kvm_vm *vm;
	int i;

	ksft_print_header();
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_CLOCK_GUEST));
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());

	vm = create_vm(vcpus, true);
	TEST_REQUIRE(!__vcpu_has_device_attr(vcpus[0], KVM_VCPU_TSC_CTRL,
					     KVM_VCPU_TSC_OFFSET));
	for (i = 0; i < NR_VCPUS; i++)
		run_vcpu(vcpus[i]);
	TEST_REQUIRE(clock_flags(vm) & KVM_CLOCK_TSC_STABLE);
	ksft_set_plan(5);

	test_get(vm, vcpus, saved);
	test_same_vm(vm, vcpus);
	test_new_vm(vm, vcpus);
	test_invalid(vm, vcpus);
	test_no_master_clock();

	kvm_vm_free(vm);
	ksft_finished();
}
