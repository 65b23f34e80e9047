// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test the kvmclock wall clock MSRs, MSR_KVM_WALL_CLOCK_NEW and the legacy
 * MSR_KVM_WALL_CLOCK.
 *
 * On a write, KVM publishes in the guest's pvclock_wall_clock the host's
 * CLOCK_REALTIME at kvmclock 0, so that sec/nsec plus the guest's kvmclock
 * is the host's realtime.  The guest checks the version protocol (even
 * version, bumped by each write, even if the guest left an odd value in
 * it) and returns wall clock + kvmclock, which must lie between two host
 * CLOCK_REALTIME readings taken around the guest run.  That is done before
 * and after KVM_SET_CLOCK moves the kvmclock forward: the wall clock must
 * follow so that the sum still gives realtime.
 */
#include <time.h>

#include <asm/kvm_para.h>
#include <asm/pvclock.h>
#include <asm/pvclock-abi.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define NR_VCPUS	2
/* How far KVM_SET_CLOCK moves the kvmclock between the two rounds. */
#define CLOCK_JUMP_NS	(100 * NSEC_PER_SEC)
/* An odd junk version left by the guest before its first write. */
#define JUNK_VERSION	0x12345

enum {
	STAGE_ENABLED = 1,
	STAGE_WALL,		/* args: wall clock + kvmclock, version */
};

struct clock_msrs {
	u32 system_time;
	u32 wall_clock;
	const char *name;
};

static const struct clock_msrs msrs[NR_VCPUS] = {
	{ MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW, "MSR_KVM_WALL_CLOCK_NEW" },
	{ MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK, "MSR_KVM_WALL_CLOCK" },
};

#define NR_ROUNDS	2

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

static void guest_code(u32 id, vm_paddr_t page_gpa, void *page)
{
	struct pvclock_vcpu_time_info *pvti = page;
	struct pvclock_wall_clock *wc = page + 64;
	u32 version, prev_version = JUNK_VERSION;
	u64 sec, nsec, wall;
	int round;

	wrmsr(msrs[id].system_time, page_gpa | KVM_MSR_ENABLED);
	WRITE_ONCE(wc->version, JUNK_VERSION);
	GUEST_SYNC(STAGE_ENABLED);

	for (round = 0; round < NR_ROUNDS; round++) {
		wrmsr(msrs[id].wall_clock, page_gpa + 64);

		version = READ_ONCE(wc->version);
		/* Version before data, data before the version again. */
		rmb();
		sec = READ_ONCE(wc->sec);
		nsec = READ_ONCE(wc->nsec);
		wall = sec * NSEC_PER_SEC + nsec + read_kvmclock(pvti);
		/* Pairs with the rmb() above. */
		rmb();

		__GUEST_ASSERT(!(version & 1),
			       "%s: odd wall clock version %u after the write",
			       msrs[id].name, version);
		__GUEST_ASSERT(version == READ_ONCE(wc->version),
			       "%s: wall clock version changed under a read (%u -> %u)",
			       msrs[id].name, version, READ_ONCE(wc->version));
		__GUEST_ASSERT(version != prev_version,
			       "%s: wall clock version %u unchanged by a write",
			       msrs[id].name, version);
		__GUEST_ASSERT(nsec < NSEC_PER_SEC,
			       "%s: wall clock nsec %lu out of range",
			       msrs[id].name, nsec);
		prev_version = version;

		GUEST_SYNC_ARGS(STAGE_WALL, wall, version, sec, nsec);
	}
	GUEST_DONE();
}

static u64 realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void run_vcpu(struct kvm_vcpu *vcpu, u64 stage, struct ucall *uc)
{
	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);

	switch (get_ucall(vcpu, uc)) {
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(*uc);
		break;
	case UCALL_SYNC:
		TEST_ASSERT(uc->args[1] == stage,
			    "vCPU %u: sync for stage %lu, expected stage %lu",
			    vcpu->id, uc->args[1], stage);
		break;
	case UCALL_DONE:
		TEST_ASSERT(!stage, "vCPU %u: guest done early", vcpu->id);
		break;
	default:
		TEST_FAIL("vCPU %u: unexpected ucall %lu", vcpu->id, uc->cmd);
	}
}

/*
 * The guest computes wall clock + kvmclock at some point of the run, so it
 * must lie in [before, after].  The slack covers the two clocks' rates
 * differing over the bracket (1000 ppm of it) and ns rounding.
 */
static void check_wall(struct kvm_vcpu *vcpu, int round)
{
	u64 before, after, wall, slack;
	struct ucall uc;

	before = realtime_ns();
	run_vcpu(vcpu, STAGE_WALL, &uc);
	after = realtime_ns();

	wall = uc.args[2];
	slack = (after - before) / 1000 + 1000;

	ksft_print_msg("%s, round %d: version %lu, %lu.%09lu s, minus realtime [%ld, %ld] ns\n",
		       msrs[vcpu->id].name, round, uc.args[3], uc.args[4],
		       uc.args[5], (s64)(wall - after), (s64)(wall - before));
	TEST_ASSERT(wall + slack >= before && wall <= after + slack,
		    "%s, round %d: wall clock + kvmclock %lu ns outside the host realtime bracket [%lu, %lu] (slack %lu ns)",
		    msrs[vcpu->id].name, round, wall, before, after, slack);
}

int main(void)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	struct kvm_clock_data data = {};
	vm_vaddr_t page_gva;
	struct kvm_vm *vm;
	struct ucall uc;
	int i;

	ksft_print_header();
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_ADJUST_CLOCK));
	ksft_set_plan(NR_VCPUS);

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	for (i = 0; i < NR_VCPUS; i++) {
		page_gva = vm_vaddr_alloc_page(vm);
		vcpu_args_set(vcpus[i], 3, i, addr_gva2gpa(vm, page_gva),
			      page_gva);
		run_vcpu(vcpus[i], STAGE_ENABLED, &uc);
	}

	for (i = 0; i < NR_VCPUS; i++) {
		check_wall(vcpus[i], 0);

		/* Move the kvmclock forward: the wall clock must follow. */
		vm_ioctl(vm, KVM_GET_CLOCK, &data);
		data.clock += CLOCK_JUMP_NS;
		data.flags = 0;
		vm_ioctl(vm, KVM_SET_CLOCK, &data);

		check_wall(vcpus[i], 1);
		run_vcpu(vcpus[i], 0, &uc);
		ksft_test_result_pass("%s\n", msrs[i].name);
	}

	kvm_vm_free(vm);
	ksft_finished();
}
