// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test KVM_GET_CLOCK and KVM_SET_CLOCK with KVM_CLOCK_REALTIME.
 *
 * KVM_GET_CLOCK must report KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
 * KVM_CLOCK_HOST_TSC while the VM uses the master clock on a TSC-based host,
 * with realtime and host_tsc inside host readings taken around the call.
 * KVM_SET_CLOCK must refuse unknown flags (EINVAL) and bad pointers (EFAULT)
 * without touching the clock.  With KVM_CLOCK_REALTIME, a realtime in the
 * past advances the clock by the time elapsed since then, one in the future
 * leaves the clock where it was set (it never steps it backwards).  The
 * guest's kvmclock, read on each vCPU after the set, must lie in the bracket
 * the host computes from its own CLOCK_REALTIME readings.
 */
#include <sys/mman.h>

#include <time.h>

#include <asm/kvm_para.h>
#include <asm/pvclock.h>
#include <asm/pvclock-abi.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define NR_VCPUS	2
#define OFFSET_NS	(10 * NSEC_PER_SEC)

#define ALL_FLAGS	(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | \
			 KVM_CLOCK_HOST_TSC)

enum {
	STAGE_ENABLED = 1,
	STAGE_READ,		/* arg: kvmclock */
};

static u64 read_kvmclock(const struct pvclock_vcpu_time_info *pvti)
{
	u32 version;
	u64 ns;

	do {
		version = pvclock_read_begin(pvti);
		ns = __pvclock_read_cycles(pvti, rdtsc());
	} while (pvclock_read_retry(pvti, version));

	return ns;
}

static void guest_code(u32 id, vm_paddr_t pvti_gpa,
		       struct pvclock_vsyscall_time_info *pvti)
{
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW,
	      (pvti_gpa + id * sizeof(*pvti)) | KVM_MSR_ENABLED);
	GUEST_SYNC(STAGE_ENABLED);

	for (;;)
		GUEST_SYNC_ARGS(STAGE_READ, read_kvmclock(&pvti[id].pvti), 0,
				0, 0);
}

static u64 realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static u64 run_vcpu(struct kvm_vcpu *vcpu, u64 stage)
{
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);

	switch (get_ucall(vcpu, &uc)) {
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == stage,
			    "vCPU %u: sync for stage %lu, expected stage %lu",
			    vcpu->id, uc.args[1], stage);
		break;
	default:
		TEST_FAIL("vCPU %u: unexpected ucall %lu", vcpu->id, uc.cmd);
	}
	return uc.args[2];
}

static void test_get_flags(struct kvm_vm *vm)
{
	struct kvm_clock_data data = {};
	u64 rt0, rt1, tsc0, tsc1;

	rt0 = realtime_ns();
	tsc0 = rdtsc();
	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	tsc1 = rdtsc();
	rt1 = realtime_ns();

	ksft_print_msg("KVM_GET_CLOCK flags 0x%x, realtime - host realtime in [%ld, %ld] ns\n",
		       data.flags, (s64)(data.realtime - rt1),
		       (s64)(data.realtime - rt0));
	if (!(data.flags & KVM_CLOCK_TSC_STABLE)) {
		ksft_test_result_skip("KVM_GET_CLOCK flags: master clock not in use\n");
		return;
	}

	TEST_ASSERT(data.flags == ALL_FLAGS,
		    "KVM_GET_CLOCK flags 0x%x with the master clock, expected 0x%x",
		    data.flags, ALL_FLAGS);
	TEST_ASSERT(data.realtime >= rt0 && data.realtime <= rt1,
		    "KVM_GET_CLOCK realtime %llu outside the host's [%lu, %lu]",
		    data.realtime, rt0, rt1);
	TEST_ASSERT(data.host_tsc >= tsc0 && data.host_tsc <= tsc1,
		    "KVM_GET_CLOCK host_tsc %llu outside the host's [%lu, %lu]",
		    data.host_tsc, tsc0, tsc1);
	ksft_test_result_pass("KVM_GET_CLOCK flags 0x%x\n", data.flags);
}

static void test_invalid(struct kvm_vm *vm)
{
	struct kvm_clock_data data = {}, before, after;
	struct kvm_clock_data *bad;
	int bit, r;

	/* KVM_GET_CLOCK's output, flags included, is valid input. */
	vm_ioctl(vm, KVM_GET_CLOCK, &before);
	vm_ioctl(vm, KVM_SET_CLOCK, &before);

	for (bit = 0; bit < 32; bit++) {
		if (BIT(bit) & ALL_FLAGS)
			continue;
		data.flags = BIT(bit);
		data.clock = 0;
		r = __vm_ioctl(vm, KVM_SET_CLOCK, &data);
		TEST_ASSERT(r == -1 && errno == EINVAL,
			    "KVM_SET_CLOCK with flags 0x%x: %d (errno %d), expected EINVAL",
			    data.flags, r, errno);
	}

	bad = mmap(NULL, getpagesize(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	TEST_ASSERT(bad != MAP_FAILED, "mmap() failed");
	r = __vm_ioctl(vm, KVM_SET_CLOCK, bad);
	TEST_ASSERT(r == -1 && errno == EFAULT,
		    "KVM_SET_CLOCK with a bad pointer: %d (errno %d), expected EFAULT",
		    r, errno);
	r = __vm_ioctl(vm, KVM_GET_CLOCK, bad);
	TEST_ASSERT(r == -1 && errno == EFAULT,
		    "KVM_GET_CLOCK with a bad pointer: %d (errno %d), expected EFAULT",
		    r, errno);
	munmap(bad, getpagesize());

	/* None of the failed calls set the clock to 0. */
	vm_ioctl(vm, KVM_GET_CLOCK, &after);
	TEST_ASSERT(after.clock >= before.clock,
		    "failed KVM_SET_CLOCK calls moved the clock back from %llu to %llu",
		    before.clock, after.clock);
	ksft_test_result_pass("KVM_SET_CLOCK: EINVAL for unknown flags, EFAULT for bad pointers\n");
}

/*
 * Set the clock to @base with a realtime @offset ns from now, then read the
 * kvmclock in the guest on each vCPU.
 *
 * KVM sets the clock to base + (its realtime - data.realtime) if that is
 * positive, else to base, at some point of the ioctl, so the guest must
 * read at least the same computed with the host's realtime before the
 * ioctl.  Above, it may have advanced by no more than the whole bracket,
 * counted twice: the realtime KVM takes is read after the clock snapshot it
 * counts from.  The slack covers kvmclock and realtime rates differing
 * (1000 ppm of the bracket).
 */
static void test_set_realtime(struct kvm_vm *vm, struct kvm_vcpu **vcpus,
			      s64 offset, const char *name)
{
	struct kvm_clock_data data = {}, get;
	u64 base, rt0, rt1, lo, hi, slack, obs;
	s64 adv0, adv1;
	int i;

	vm_ioctl(vm, KVM_GET_CLOCK, &get);
	base = get.clock + 60 * NSEC_PER_SEC;

	rt0 = realtime_ns();
	data.clock = base;
	data.realtime = rt0 + offset;
	data.flags = KVM_CLOCK_REALTIME;
	vm_ioctl(vm, KVM_SET_CLOCK, &data);

	/* The advance KVM must add, at the earliest possible moment. */
	adv0 = (s64)(rt0 - data.realtime);
	lo = base + (adv0 > 0 ? adv0 : 0);

	for (i = 0; i < NR_VCPUS; i++) {
		obs = run_vcpu(vcpus[i], STAGE_READ);
		vm_ioctl(vm, KVM_GET_CLOCK, &get);
		rt1 = realtime_ns();

		adv1 = (s64)(rt1 - data.realtime);
		slack = (rt1 - rt0) / 1000 + 1000;
		hi = base + (adv1 > 0 ? adv1 : 0) + (rt1 - rt0) + slack;

		ksft_print_msg("%s, vCPU %d: kvmclock - set value %ld ns, bracket [%ld, %ld] ns\n",
			       name, i, (s64)(obs - base), (s64)(lo - base),
			       (s64)(hi - base));
		TEST_ASSERT(obs >= lo && obs <= hi,
			    "%s, vCPU %d: guest kvmclock %lu outside [%lu, %lu] (set %lu, realtime offset %ld ns)",
			    name, i, obs, lo, hi, base, offset);
		TEST_ASSERT(get.clock >= obs && get.clock <= hi,
			    "%s, vCPU %d: KVM_GET_CLOCK %llu outside [%lu, %lu]",
			    name, i, get.clock, obs, hi);
	}
	ksft_test_result_pass("%s\n", name);
}

int main(void)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	vm_vaddr_t pvti_gva;
	struct kvm_vm *vm;
	int i;

	ksft_print_header();
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_ADJUST_CLOCK) & KVM_CLOCK_REALTIME);
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	ksft_set_plan(5);

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	pvti_gva = vm_vaddr_alloc_page(vm);
	for (i = 0; i < NR_VCPUS; i++) {
		vcpu_args_set(vcpus[i], 3, i, addr_gva2gpa(vm, pvti_gva),
			      pvti_gva);
		run_vcpu(vcpus[i], STAGE_ENABLED);
	}

	test_get_flags(vm);
	test_invalid(vm);
	test_set_realtime(vm, vcpus, -OFFSET_NS,
			  "realtime 10 s in the past: clock advanced by 10 s");
	test_set_realtime(vm, vcpus, OFFSET_NS,
			  "realtime 10 s in the future: clock not moved back");
	test_set_realtime(vm, vcpus, 0, "realtime now: clock as set");

	kvm_vm_free(vm);
	ksft_finished();
}
