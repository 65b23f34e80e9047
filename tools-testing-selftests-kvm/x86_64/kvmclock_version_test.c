// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test the version protocol of the kvmclock pvclock_vcpu_time_info page.
 *
 * While the host keeps forcing kvmclock updates from another thread (a
 * forward-only KVM_SET_CLOCK in a loop, which updates every vCPU's page),
 * each vCPU spins reading its own page and the other vCPU's page.  A
 * snapshot is accepted only if the version was even and unchanged across
 * the read.  Every accepted snapshot must be self-consistent, the data must
 * never change without the version changing, the version must never go
 * backwards and the clock computed from one page must never go backwards.
 * Once the updates stopped, every page must hold an even version.
 */
#include <pthread.h>

#include <time.h>

#include <asm/kvm_para.h>
#include <asm/pvclock.h>
#include <asm/pvclock-abi.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define NR_VCPUS	2
#define NR_UPDATES	1000
/* Each KVM_SET_CLOCK moves the clock this much ahead of where it was. */
#define STEP_NS		20000
#define UPDATE_GAP_US	1000
/* A vCPU rewrites its system time MSR every so many read rounds. */
#define REWRITE_MASK	0xfff

enum {
	STAGE_ENABLED = 1,	/* kvmclock enabled on the vCPU */
	STAGE_READY,		/* every vCPU's page was written once */
	STAGE_SPUN,		/* reads done while the host forced updates */
	STAGE_FINAL,		/* final read, no update in flight */
};

enum {
	READ_OK,
	READ_ODD,
	READ_CHANGED,
};

struct page_stats {
	u64 accepted;
	u64 retried;
	u64 odd;
	u64 updates;		/* version changes between accepted reads */
};

/* stats[reader][page], read by the host at the end. */
static struct page_stats stats[NR_VCPUS][NR_VCPUS];
static u32 nr_spinning;
static bool stop;

struct last_read {
	bool valid;
	u32 version;
	u64 tsc_timestamp;
	u64 system_time;
	u32 mul;
	s8 shift;
	u8 flags;
	u64 clock;
};

static int read_page(const struct pvclock_vcpu_time_info *pvti, u32 id,
		     u32 page, struct last_read *last, struct page_stats *s)
{
	struct last_read cur;
	u32 version;
	u64 tsc;

	version = READ_ONCE(pvti->version);
	/* Read the version before the data, as KVM writes it first. */
	rmb();
	if (version & 1) {
		s->odd++;
		return READ_ODD;
	}

	cur.tsc_timestamp = READ_ONCE(pvti->tsc_timestamp);
	cur.system_time = READ_ONCE(pvti->system_time);
	cur.mul = READ_ONCE(pvti->tsc_to_system_mul);
	cur.shift = READ_ONCE(pvti->tsc_shift);
	cur.flags = READ_ONCE(pvti->flags);
	tsc = rdtsc();
	/* Read the data before the version again, as KVM writes it last. */
	rmb();
	if (READ_ONCE(pvti->version) != version) {
		s->retried++;
		return READ_CHANGED;
	}

	s->accepted++;
	cur.valid = true;
	cur.version = version;

	__GUEST_ASSERT(cur.mul, "vCPU %u, page %u: tsc_to_system_mul is 0 (version %u)",
		       id, page, version);
	__GUEST_ASSERT(cur.shift >= -32 && cur.shift <= 32,
		       "vCPU %u, page %u: tsc_shift %d out of range", id, page,
		       cur.shift);
	__GUEST_ASSERT(!(cur.flags & ~(PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED)),
		       "vCPU %u, page %u: unexpected pvclock flags 0x%x", id,
		       page, cur.flags);
	__GUEST_ASSERT(tsc >= cur.tsc_timestamp,
		       "vCPU %u, page %u: tsc_timestamp %lu is ahead of the TSC %lu",
		       id, page, cur.tsc_timestamp, tsc);

	cur.clock = cur.system_time +
		    pvclock_scale_delta(tsc - cur.tsc_timestamp, cur.mul,
					cur.shift);

	if (last->valid) {
		__GUEST_ASSERT((s32)(version - last->version) >= 0,
			       "vCPU %u, page %u: version went back from %u to %u",
			       id, page, last->version, version);
		if (version == last->version)
			__GUEST_ASSERT(cur.tsc_timestamp == last->tsc_timestamp &&
				       cur.system_time == last->system_time &&
				       cur.mul == last->mul &&
				       cur.shift == last->shift,
				       "vCPU %u, page %u: data changed under version %u (system_time %lu -> %lu)",
				       id, page, version, last->system_time,
				       cur.system_time);
		else
			s->updates++;
		__GUEST_ASSERT(cur.clock >= last->clock,
			       "vCPU %u, page %u: kvmclock went back %lu ns (versions %u -> %u)",
			       id, page, last->clock - cur.clock,
			       last->version, version);
	}
	*last = cur;
	return READ_OK;
}

static void guest_code(u32 id, vm_paddr_t pvti_gpa,
		       struct pvclock_vsyscall_time_info *pvti)
{
	u64 msr_val = (pvti_gpa + id * sizeof(*pvti)) | KVM_MSR_ENABLED;
	struct last_read last[NR_VCPUS] = {};
	struct page_stats unused = {};
	u32 page;
	u64 i;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, msr_val);
	GUEST_SYNC(STAGE_ENABLED);
	/* The update of this page ran on the way in. */
	GUEST_SYNC(STAGE_READY);

	/* The host starts the updates once every vCPU reads. */
	__sync_fetch_and_add(&nr_spinning, 1);
	for (i = 0; !READ_ONCE(stop); i++) {
		for (page = 0; page < NR_VCPUS; page++)
			read_page(&pvti[page].pvti, id, page, &last[page],
				  &stats[id][page]);
		/* Rewriting the MSR requests a clock update too. */
		if (!(i & REWRITE_MASK))
			wrmsr(MSR_KVM_SYSTEM_TIME_NEW, msr_val);
	}
	GUEST_SYNC(STAGE_SPUN);

	/* Only this vCPU runs now and its own update ran on entry. */
	for (page = 0; page < NR_VCPUS; page++) {
		u32 version = READ_ONCE(pvti[page].pvti.version);

		__GUEST_ASSERT(!(version & 1),
			       "vCPU %u, page %u: odd version %u with no update in flight",
			       id, page, version);
		__GUEST_ASSERT(read_page(&pvti[page].pvti, id, page,
					 &last[page], &unused) == READ_OK,
			       "vCPU %u, page %u: read failed with no update in flight",
			       id, page);
		__GUEST_ASSERT(stats[id][page].accepted,
			       "vCPU %u, page %u: no snapshot accepted in %lu rounds",
			       id, page, i);
	}
	GUEST_DONE();
}

static void run_vcpu(struct kvm_vcpu *vcpu, u64 stage)
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
	case UCALL_DONE:
		TEST_ASSERT(stage == STAGE_FINAL, "vCPU %u: guest done early",
			    vcpu->id);
		break;
	default:
		TEST_FAIL("vCPU %u: unexpected ucall %lu", vcpu->id, uc.cmd);
	}
}

static void *vcpu_thread(void *arg)
{
	run_vcpu(arg, STAGE_SPUN);
	return NULL;
}

/* Move the clock forward: now (per the realtime delta) plus STEP_NS. */
static void set_clock_forward(struct kvm_vm *vm)
{
	struct kvm_clock_data data = {};
	struct timespec ts;

	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	if (!(data.flags & KVM_CLOCK_REALTIME)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		data.realtime = ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
	}
	data.clock += STEP_NS;
	data.flags = KVM_CLOCK_REALTIME;
	vm_ioctl(vm, KVM_SET_CLOCK, &data);
}

int main(void)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	pthread_t threads[NR_VCPUS];
	struct page_stats total = {};
	vm_vaddr_t pvti_gva;
	struct kvm_vm *vm;
	u32 *spinning_hva;
	bool *stop_hva;
	int i, j;

	ksft_print_header();
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_ADJUST_CLOCK) & KVM_CLOCK_REALTIME);
	ksft_set_plan(1);

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	pvti_gva = vm_vaddr_alloc_page(vm);
	for (i = 0; i < NR_VCPUS; i++) {
		vcpu_args_set(vcpus[i], 3, i, addr_gva2gpa(vm, pvti_gva),
			      pvti_gva);
		run_vcpu(vcpus[i], STAGE_ENABLED);
	}
	for (i = 0; i < NR_VCPUS; i++)
		run_vcpu(vcpus[i], STAGE_READY);

	stop_hva = addr_gva2hva(vm, (vm_vaddr_t)&stop);
	spinning_hva = addr_gva2hva(vm, (vm_vaddr_t)&nr_spinning);
	for (i = 0; i < NR_VCPUS; i++)
		pthread_create(&threads[i], NULL, vcpu_thread, vcpus[i]);
	while (READ_ONCE(*spinning_hva) < NR_VCPUS)
		usleep(1000);

	/* Pause between updates so that the readers see most of them. */
	for (i = 0; i < NR_UPDATES; i++) {
		set_clock_forward(vm);
		usleep(UPDATE_GAP_US);
	}

	WRITE_ONCE(*stop_hva, true);
	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(threads[i], NULL);

	for (i = 0; i < NR_VCPUS; i++)
		run_vcpu(vcpus[i], STAGE_FINAL);

	sync_global_from_guest(vm, stats);
	for (i = 0; i < NR_VCPUS; i++) {
		for (j = 0; j < NR_VCPUS; j++) {
			struct page_stats *s = &stats[i][j];

			ksft_print_msg("vCPU %d, page %d: %lu ok, %lu retry, %lu odd, %lu upd\n",
				       i, j, s->accepted, s->retried, s->odd,
				       s->updates);
			total.accepted += s->accepted;
			total.retried += s->retried;
			total.odd += s->odd;
			total.updates += s->updates;
		}
	}
	ksft_print_msg("%d KVM_SET_CLOCK: %lu ok, %lu retried, %lu odd, %lu updates\n",
		       NR_UPDATES, total.accepted, total.retried, total.odd,
		       total.updates);
	ksft_test_result_pass("pvclock snapshots consistent under concurrent updates\n");

	kvm_vm_free(vm);
	ksft_finished();
}
