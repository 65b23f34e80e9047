// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmclock helpers; kvmclock_try_snapshot() and kvmclock_snapshot() run in
 * guest code too.
 */
#include "kvmclock.h"

int kvmclock_try_snapshot(const struct pvclock_vcpu_time_info *pvti,
			  struct kvmclock_snap *snap)
{
	u32 version = READ_ONCE(pvti->version);

	/* The version before the data: KVM makes it odd before writing. */
	rmb();
	if (version & 1)
		return KVMCLOCK_SNAP_ODD;

	snap->pvti = (struct pvclock_vcpu_time_info) {
		.version = version,
		.tsc_timestamp = READ_ONCE(pvti->tsc_timestamp),
		.system_time = READ_ONCE(pvti->system_time),
		.tsc_to_system_mul = READ_ONCE(pvti->tsc_to_system_mul),
		.tsc_shift = READ_ONCE(pvti->tsc_shift),
		.flags = READ_ONCE(pvti->flags),
	};
	snap->tsc = rdtsc();

	/* The data before the version again: KVM bumps it after writing. */
	rmb();
	if (READ_ONCE(pvti->version) != version)
		return KVMCLOCK_SNAP_CHANGED;

	return KVMCLOCK_SNAP_OK;
}

void kvmclock_snapshot(const struct pvclock_vcpu_time_info *pvti,
		       struct kvmclock_snap *snap)
{
	while (kvmclock_try_snapshot(pvti, snap) != KVMCLOCK_SNAP_OK)
		cpu_relax();
}

vm_vaddr_t kvmclock_alloc(struct kvm_vm *vm, vm_paddr_t *gpa)
{
	vm_vaddr_t gva = vm_vaddr_alloc_page(vm);

	memset(addr_gva2hva(vm, gva), 0, vm->page_size);
	*gpa = addr_gva2gpa(vm, gva);
	return gva;
}
