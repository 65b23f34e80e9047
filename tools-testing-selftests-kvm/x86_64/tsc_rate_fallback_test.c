// SPDX-License-Identifier: GPL-2.0-only
/*
 * A vCPU created with a default TSC rate (the VM-wide KVM_SET_TSC_KHZ) that
 * the host cannot provide without TSC scaling must still get a working TSC
 * and kvmclock:
 *
 * - below the host's rate, KVM refuses the rate and creates the vCPU at the
 *   host's rate;
 * - above it, the vCPU runs in catch-up mode: its TSC runs at the host's rate
 *   and KVM moves it forward, at kvmclock updates, to where the rate asked
 *   for would have it.
 *
 * In both cases the guest's TSC and kvmclock must lie between what the host
 * reports for them (MSR_IA32_TSC, KVM_GET_CLOCK) before and after the guest
 * read them.  KVM used to leave such a vCPU with a zero TSC multiplier, which
 * makes every guest TSC value KVM computes the bare TSC offset: the guest's
 * kvmclock was then off by about the host's uptime.  KVM built into the kernel
 * on a host without constant TSC hit that at random, when the refined TSC
 * calibration came out more than 250 ppm above the early one.
 *
 * A host with TSC scaling provides any rate: there is no fallback to test.
 */
#include "test_util.h"
#include "kvm_util.h"
#include "kvmclock.h"
#include "processor.h"

#define NR_READS	5

static void guest_main(vm_paddr_t gpa, struct pvclock_vcpu_time_info *pvti)
{
	struct kvmclock_snap snap;
	int i;

	kvmclock_enable(gpa);
	for (i = 0; i < NR_READS; i++) {
		kvmclock_snapshot(pvti, &snap);
		GUEST_SYNC2(kvmclock_at(&snap.pvti, snap.tsc), snap.tsc);
	}
	GUEST_DONE();
}

static void test_rate(u32 host_khz, u32 asked_khz, u32 expected_khz,
		      const char *name)
{
	struct kvm_clock_data before, after;
	u64 tsc_before, tsc_after, clock, tsc;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	vm_vaddr_t gva;
	vm_paddr_t gpa;
	struct ucall uc;
	u32 khz;
	int i, r;

	vm = vm_create(1);
	r = __vm_ioctl(vm, KVM_SET_TSC_KHZ, (void *)(unsigned long)asked_khz);
	__TEST_REQUIRE(!r, "VM-wide KVM_SET_TSC_KHZ not supported");
	vcpu = vm_vcpu_add(vm, 0, guest_main);
	gva = kvmclock_alloc(vm, &gpa);
	vcpu_args_set(vcpu, 2, gpa, gva);

	khz = __vcpu_ioctl(vcpu, KVM_GET_TSC_KHZ, NULL);
	ksft_print_msg("%s: vCPU TSC rate %u kHz (host %u kHz, asked for %u kHz)\n",
		       name, khz, host_khz, asked_khz);
	TEST_ASSERT(khz == expected_khz, "%s: vCPU TSC rate %u kHz, expected %u kHz",
		    name, khz, expected_khz);

	for (i = 0; i < NR_READS; i++) {
		vm_ioctl(vm, KVM_GET_CLOCK, &before);
		tsc_before = vcpu_get_msr(vcpu, MSR_IA32_TSC);
		vcpu_run(vcpu);
		tsc_after = vcpu_get_msr(vcpu, MSR_IA32_TSC);
		vm_ioctl(vm, KVM_GET_CLOCK, &after);

		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			break;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("Unexpected ucall %lu", uc.cmd);
		}

		clock = uc.args[0];
		tsc = uc.args[1];
		ksft_print_msg("%s, read %d: kvmclock %lu in [%llu, %llu], TSC %lu in [%lu, %lu]\n",
			       name, i, clock, before.clock, after.clock, tsc,
			       tsc_before, tsc_after);
		TEST_ASSERT(before.clock <= clock && clock <= after.clock,
			    "%s, read %d: guest kvmclock %lu ns, KVM_GET_CLOCK said [%llu, %llu]",
			    name, i, clock, before.clock, after.clock);
		TEST_ASSERT(tsc_before <= tsc && tsc <= tsc_after,
			    "%s, read %d: guest TSC %lu, MSR_IA32_TSC said [%lu, %lu]",
			    name, i, tsc, tsc_before, tsc_after);
	}

	kvm_vm_free(vm);
	ksft_test_result_pass("%s\n", name);
}

int main(void)
{
	struct kvm_vm *vm;
	u32 host_khz;

	ksft_print_header();
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_ADJUST_CLOCK));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_GET_TSC_KHZ));
	__TEST_REQUIRE(!kvm_has_cap(KVM_CAP_TSC_CONTROL),
		       "the host has TSC scaling (KVM_CAP_TSC_CONTROL): no fallback to test");
	ksft_set_plan(2);

	vm = vm_create_barebones();
	host_khz = __vm_ioctl(vm, KVM_GET_TSC_KHZ, NULL);
	TEST_ASSERT((int)host_khz > 0, "KVM_GET_TSC_KHZ on a VM failed");
	kvm_vm_free(vm);

	/* Far from the host's rate: beyond any tolerance. */
	test_rate(host_khz, host_khz / 2, host_khz,
		  "half the host's TSC rate: the vCPU runs at the host's");
	test_rate(host_khz, host_khz * 2, host_khz * 2,
		  "twice the host's TSC rate: the vCPU catches up");

	ksft_finished();
}
