// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test that the kvmclock MSRs follow the PV feature bits in CPUID 0x40000001
 * with KVM_CAP_ENFORCE_PV_FEATURE_CPUID: KVM_FEATURE_CLOCKSOURCE (bit 0)
 * gates MSR_KVM_WALL_CLOCK and MSR_KVM_SYSTEM_TIME, KVM_FEATURE_CLOCKSOURCE2
 * (bit 3) gates MSR_KVM_WALL_CLOCK_NEW and MSR_KVM_SYSTEM_TIME_NEW.  Each
 * vCPU gets one of the four combinations; every MSR must work when its bit
 * is set and raise #GP when it is clear.
 *
 * Then, on each vCPU with a working system time MSR, a write with the enable
 * bit (bit 0) clear must stop the updates of the pvclock page: the version
 * changes across an update forced by KVM_SET_CLOCK while the page is
 * enabled, and stays unchanged across one after it was disabled.
 */
#include <asm/kvm_para.h>
#include <asm/pvclock.h>
#include <asm/pvclock-abi.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define NR_VCPUS	4

#define HAS_CLOCKSOURCE		BIT(0)
#define HAS_CLOCKSOURCE2	BIT(1)

enum {
	STAGE_MSRS_DONE = 1,	/* #GP checks done, page enabled if possible */
	STAGE_ENABLED_UPDATE,	/* host forces an update, page enabled */
	STAGE_DISABLED_UPDATE,	/* host forces an update, page disabled */
};

struct msr_case {
	u32 index;
	u32 feature;		/* HAS_CLOCKSOURCE or HAS_CLOCKSOURCE2 */
	bool system_time;
	const char *name;
};

static const struct msr_case msr_cases[] = {
	{ MSR_KVM_WALL_CLOCK, HAS_CLOCKSOURCE, false, "MSR_KVM_WALL_CLOCK" },
	{ MSR_KVM_SYSTEM_TIME, HAS_CLOCKSOURCE, true, "MSR_KVM_SYSTEM_TIME" },
	{ MSR_KVM_WALL_CLOCK_NEW, HAS_CLOCKSOURCE2, false, "MSR_KVM_WALL_CLOCK_NEW" },
	{ MSR_KVM_SYSTEM_TIME_NEW, HAS_CLOCKSOURCE2, true, "MSR_KVM_SYSTEM_TIME_NEW" },
};

static void check_msr(const struct msr_case *m, u32 features, vm_paddr_t gpa)
{
	bool works = features & m->feature;
	u8 vector, expected = works ? 0 : GP_VECTOR;
	u64 val = gpa, read;

	if (m->system_time)
		val |= KVM_MSR_ENABLED;

	vector = wrmsr_safe(m->index, val);
	__GUEST_ASSERT(vector == expected,
		       "WRMSR %s (0x%x) with features 0x%x: vector %u, expected %u",
		       m->name, m->index, features, vector, expected);

	vector = rdmsr_safe(m->index, &read);
	__GUEST_ASSERT(vector == expected,
		       "RDMSR %s (0x%x) with features 0x%x: vector %u, expected %u",
		       m->name, m->index, features, vector, expected);
	if (works)
		__GUEST_ASSERT(read == val, "RDMSR %s: 0x%lx, wrote 0x%lx",
			       m->name, read, val);

	/* Leave the system time MSRs disabled. */
	if (works && m->system_time)
		wrmsr(m->index, 0);
}

static void guest_code(u32 features, vm_paddr_t page_gpa, void *page)
{
	struct pvclock_vcpu_time_info *pvti = page;
	u32 msr, version;
	int i;

	__GUEST_ASSERT(!!this_cpu_has(X86_FEATURE_KVM_CLOCKSOURCE) ==
		       !!(features & HAS_CLOCKSOURCE) &&
		       !!this_cpu_has(X86_FEATURE_KVM_CLOCKSOURCE2) ==
		       !!(features & HAS_CLOCKSOURCE2),
		       "CPUID 0x40000001 does not match features 0x%x", features);

	/* The wall clock goes to the second half of the page. */
	for (i = 0; i < ARRAY_SIZE(msr_cases); i++)
		check_msr(&msr_cases[i], features,
			  page_gpa + (msr_cases[i].system_time ? 0 : 2048));

	if (!features)
		GUEST_DONE();

	msr = (features & HAS_CLOCKSOURCE2) ? MSR_KVM_SYSTEM_TIME_NEW :
					      MSR_KVM_SYSTEM_TIME;
	wrmsr(msr, page_gpa | KVM_MSR_ENABLED);
	GUEST_SYNC(STAGE_MSRS_DONE);

	/* The entry after the sync wrote the page. */
	version = READ_ONCE(pvti->version);
	__GUEST_ASSERT(version && !(version & 1),
		       "features 0x%x: enabled page has version %u", features,
		       version);
	GUEST_SYNC(STAGE_ENABLED_UPDATE);
	__GUEST_ASSERT(READ_ONCE(pvti->version) != version,
		       "features 0x%x: enabled page not updated (version %u)",
		       features, version);

	wrmsr(msr, page_gpa);
	GUEST_SYNC(STAGE_DISABLED_UPDATE);
	version = READ_ONCE(pvti->version);
	GUEST_SYNC(STAGE_DISABLED_UPDATE);
	__GUEST_ASSERT(READ_ONCE(pvti->version) == version,
		       "features 0x%x: disabled page updated (version %u -> %u)",
		       features, version, READ_ONCE(pvti->version));
	GUEST_DONE();
}

static bool run_vcpu(struct kvm_vcpu *vcpu, u64 stage)
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
		return true;
	case UCALL_DONE:
		return false;
	default:
		TEST_FAIL("vCPU %u: unexpected ucall %lu", vcpu->id, uc.cmd);
	}
	return false;
}

/* KVM_SET_CLOCK requests a kvmclock update on every vCPU. */
static void force_update(struct kvm_vm *vm)
{
	struct kvm_clock_data data = {};

	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	data.flags = 0;
	vm_ioctl(vm, KVM_SET_CLOCK, &data);
}

int main(void)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	vm_vaddr_t page_gva;
	struct kvm_vm *vm;
	u32 features;
	int i;

	ksft_print_header();
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_ENFORCE_PV_FEATURE_CPUID));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_ADJUST_CLOCK));
	ksft_set_plan(NR_VCPUS);

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);

	for (i = 0; i < NR_VCPUS; i++) {
		/* vCPU i gets CLOCKSOURCE if bit 0 of i, CLOCKSOURCE2 if bit 1. */
		features = i;
		vcpu_enable_cap(vcpus[i], KVM_CAP_ENFORCE_PV_FEATURE_CPUID, 1);
		if (features & HAS_CLOCKSOURCE)
			vcpu_set_cpuid_feature(vcpus[i], X86_FEATURE_KVM_CLOCKSOURCE);
		else
			vcpu_clear_cpuid_feature(vcpus[i], X86_FEATURE_KVM_CLOCKSOURCE);
		if (features & HAS_CLOCKSOURCE2)
			vcpu_set_cpuid_feature(vcpus[i], X86_FEATURE_KVM_CLOCKSOURCE2);
		else
			vcpu_clear_cpuid_feature(vcpus[i], X86_FEATURE_KVM_CLOCKSOURCE2);

		page_gva = vm_vaddr_alloc_page(vm);
		vcpu_args_set(vcpus[i], 3, features, addr_gva2gpa(vm, page_gva),
			      page_gva);
	}

	for (i = 0; i < NR_VCPUS; i++) {
		features = i;
		if (run_vcpu(vcpus[i], STAGE_MSRS_DONE)) {
			run_vcpu(vcpus[i], STAGE_ENABLED_UPDATE);
			force_update(vm);
			run_vcpu(vcpus[i], STAGE_DISABLED_UPDATE);
			run_vcpu(vcpus[i], STAGE_DISABLED_UPDATE);
			force_update(vm);
			TEST_ASSERT(!run_vcpu(vcpus[i], 0), "vCPU %d: not done", i);
			ksft_print_msg("features 0x%x: enabled page updated, disabled not\n",
				       features);
		}
		ksft_test_result_pass("CLOCKSOURCE %s, CLOCKSOURCE2 %s: MSRs %s\n",
				      features & HAS_CLOCKSOURCE ? "on" : "off",
				      features & HAS_CLOCKSOURCE2 ? "on" : "off",
				      features ? "gated as expected" : "all #GP");
	}

	kvm_vm_free(vm);
	ksft_finished();
}
