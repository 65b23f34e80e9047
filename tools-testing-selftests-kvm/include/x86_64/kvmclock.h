/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmclock helpers for guest and host code.
 *
 * A vCPU's kvmclock is the pvclock_vcpu_time_info that KVM writes where the
 * guest pointed MSR_KVM_SYSTEM_TIME_NEW.  Guest code reads its own or another
 * vCPU's; host code reads the same memory through its HVA and evaluates it
 * at the vCPU's TSC, host TSC + KVM_VCPU_TSC_OFFSET for an unscaled TSC.
 */
#ifndef SELFTEST_KVM_KVMCLOCK_H
#define SELFTEST_KVM_KVMCLOCK_H

#include <asm/barrier.h>
#include <asm/kvm_para.h>
#include <asm/pvclock-abi.h>

#include "kvm_util.h"
#include "processor.h"

#define KVM_MASTERCLOCK_SYNC_PERIOD "/sys/module/kvm/parameters/masterclock_sync_period"

/* A consistent copy of a pvclock page and a TSC value read within it. */
struct kvmclock_snap {
	struct pvclock_vcpu_time_info pvti;
	u64 tsc;
};

enum {
	KVMCLOCK_SNAP_OK,
	KVMCLOCK_SNAP_ODD,	/* the version was odd: KVM was writing */
	KVMCLOCK_SNAP_CHANGED,	/* the version changed during the copy */
};

/* One try of the version protocol; @snap is valid for KVMCLOCK_SNAP_OK. */
int kvmclock_try_snapshot(const struct pvclock_vcpu_time_info *pvti,
			  struct kvmclock_snap *snap);

/* Tries until the copy is consistent. */
void kvmclock_snapshot(const struct pvclock_vcpu_time_info *pvti,
		       struct kvmclock_snap *snap);

/* The clock @pvti describes at TSC @tsc, as Linux's __pvclock_read_cycles(). */
static inline u64 kvmclock_at(const struct pvclock_vcpu_time_info *pvti,
			      u64 tsc)
{
	u64 delta = tsc - pvti->tsc_timestamp;

	if (pvti->tsc_shift < 0)
		delta >>= -pvti->tsc_shift;
	else
		delta <<= pvti->tsc_shift;

	return pvti->system_time +
	       (u64)(((__uint128_t)delta * pvti->tsc_to_system_mul) >> 32);
}

/* Guest: the kvmclock of @pvti now. */
static inline u64 kvmclock_read(const struct pvclock_vcpu_time_info *pvti)
{
	struct kvmclock_snap snap;

	kvmclock_snapshot(pvti, &snap);
	return kvmclock_at(&snap.pvti, snap.tsc);
}

/* Guest: this vCPU's kvmclock goes to @gpa. */
static inline void kvmclock_enable(vm_paddr_t gpa)
{
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, gpa | KVM_MSR_ENABLED);
}

/*
 * Host: a zeroed page for the vCPUs' pvclock_vcpu_time_info, vCPU i's at
 * index i (gpa + i * sizeof(struct pvclock_vcpu_time_info)).
 */
vm_vaddr_t kvmclock_alloc(struct kvm_vm *vm, vm_paddr_t *gpa);

#endif /* SELFTEST_KVM_KVMCLOCK_H */
