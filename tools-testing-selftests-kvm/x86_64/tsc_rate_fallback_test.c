// SPDX-License-Identifier: GPL-2.0-only
/*
 * A vCPU created with a default TSC rate that the host cannot provide
 * (the VM-wide KVM_SET_TSC_KHZ below the host's rate, without TSC scaling)
 * must still get a working TSC and kvmclock: its TSC runs at the host's
 * rate, and the guest's TSC and kvmclock agree with what the host reports
 * for them.  KVM used to leave such a vCPU with a zero TSC multiplier,
 * which made the guest's kvmclock off by about the host's uptime.  KVM
 * built into the kernel on a host without constant TSC hit that at random,
 * when the refined TSC calibration came out more than 250 ppm above the
 * early one.
 *
 * With TSC scaling, the vCPU gets the rate asked for; the same checks
 * apply.
 */
#include <asm/kvm_para.h>
#include <asm/pvclock.h>
#include <asm/pvclock-abi.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define NR_READS	5

static void guest_main(vm_paddr_t pvti_gpa, struct pvclock_vcpu_time_info *pvti)
{
	int i;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pvti_gpa | KVM_MSR_ENABLED);
	for (i = 0; i < NR_READS; i++)
		GUEST_SYNC_ARGS(i, __pvclock_read_cycles(pvti, rdtsc()), rdtsc(),
				0, 0);
	GUEST_DONE();
}

static void check_rate(struct kvm_vcpu *vcpu, u32 host_khz, u32 asked_khz)
{
	u32 khz = __vcpu_ioctl(vcpu, KVM_GET_TSC_KHZ, NULL);

	if (kvm_has_cap(KVM_CAP_TSC_CONTROL))
		TEST_ASSERT(khz == asked_khz,
			    "vCPU TSC rate %u kHz, asked for %u kHz", khz,
			    asked_khz);
	else
		TEST_ASSERT(khz == host_khz,
			    "vCPU TSC rate %u kHz, the host's is %u kHz", khz,
			    host_khz);
	ksft_print_msg("vCPU TSC rate %u kHz (host %u kHz, asked for %u kHz)\n",
		       khz, host_khz, asked_khz);
}

int main(void)
{
	struct kvm_clock_data before, after;
	u64 tsc_before, tsc_after, clock, tsc;
	u32 host_khz, asked_khz;
	struct kvm_vcpu *vcpu;
	vm_vaddr_t pvti_gva;
	struct kvm_vm *vm;
	struct ucall uc;
	int i, r;

	ksft_print_header();
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_ADJUST_CLOCK));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_GET_TSC_KHZ));
	ksft_set_plan(1);

	vm = vm_create(1);
	host_khz = __vm_ioctl(vm, KVM_GET_TSC_KHZ, NULL);
	TEST_ASSERT(host_khz > 0, "KVM_GET_TSC_KHZ on the VM failed");

	/* Far below the host's rate: beyond any tolerance, not 0 (= host). */
	asked_khz = host_khz / 2;
	r = __vm_ioctl(vm, KVM_SET_TSC_KHZ, (void *)(unsigned long)asked_khz);
	__TEST_REQUIRE(!r, "VM-wide KVM_SET_TSC_KHZ not supported");

	vcpu = vm_vcpu_add(vm, 0, guest_main);
	pvti_gva = vm_vaddr_alloc_page(vm);
	vcpu_args_set(vcpu, 2, addr_gva2gpa(vm, pvti_gva), pvti_gva);

	for (i = 0; i < NR_READS; i++) {
		vm_ioctl(vm, KVM_GET_CLOCK, &before);
		tsc_before = vcpu_get_msr(vcpu, MSR_IA32_TSC);
		vcpu_run(vcpu);
		tsc_after = vcpu_get_msr(vcpu, MSR_IA32_TSC);
		vm_ioctl(vm, KVM_GET_CLOCK, &after);

		switch (get_ucall(vcpu, &uc)) {
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		case UCALL_SYNC:
			break;
		default:
			TEST_FAIL("Unexpected ucall %lu", uc.cmd);
		}

		/* The host's view of the guest brackets the guest's own. */
		clock = uc.args[2];
		tsc = uc.args[3];
		TEST_ASSERT(before.clock <= clock && clock <= after.clock,
			    "read %d: guest kvmclock %lu ns, KVM_GET_CLOCK said [%llu, %llu]",
			    i, clock, before.clock, after.clock);
		TEST_ASSERT(tsc_before <= tsc && tsc <= tsc_after,
			    "read %d: guest TSC %lu, MSR_IA32_TSC said [%lu, %lu]",
			    i, tsc, tsc_before, tsc_after);
		ksft_print_msg("read %d: kvmclock %lu in [%llu, %llu], TSC %lu in [%lu, %lu]\n",
			       i, clock, before.clock, after.clock, tsc,
			       tsc_before, tsc_after);
	}

	check_rate(vcpu, host_khz, asked_khz);
	kvm_vm_free(vm);
	ksft_test_result_pass("TSC and kvmclock of a vCPU created at an unsupported rate\n");
	ksft_finished();
}
