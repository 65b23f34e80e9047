// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test that kvmclock never goes backwards across vCPUs.
 *
 * Several vCPUs read their own kvmclock in a loop (pvclock version
 * protocol) and publish each reading into a global maximum with cmpxchg.
 * Before reading, a vCPU notes the maximum published so far; its own
 * reading must not be below it, or the guest saw time go backwards between
 * two vCPUs.  If kvm.ko has masterclock_sync_period, it is set to 1 for the
 * run so that master clock refreshes (where each vCPU's page is rewritten
 * at a different moment) happen while the vCPUs read.  The largest
 * backwards step seen is reported and must be 0.
 */
#include <pthread.h>

#include <asm/kvm_para.h>
#include <asm/pvclock.h>
#include <asm/pvclock-abi.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define NR_VCPUS	4
#define RUN_SECONDS	5

#define PARAM_NAME	"masterclock_sync_period"
#define PARAM_PATH	KVM_MASTERCLOCK_SYNC_PERIOD

enum {
	STAGE_ENABLED = 1,
	STAGE_SPUN,		/* reads done, figures in stats[] */
};

struct reader_stats {
	u64 reads;
	u64 backwards;		/* readings below the max seen before them */
	u64 max_step;		/* largest such shortfall, ns */
	u64 updates;		/* version changes of the own page */
};

static struct reader_stats stats[NR_VCPUS];
static u64 max_clock;
static bool stop;

static u64 read_kvmclock(const struct pvclock_vcpu_time_info *pvti,
			 u32 *version)
{
	u64 ns;
	u32 v;

	do {
		v = pvclock_read_begin(pvti);
		ns = __pvclock_read_cycles(pvti, rdtsc());
	} while (pvclock_read_retry(pvti, v));

	*version = v;
	return ns;
}

static void guest_code(u32 id, vm_paddr_t pvti_gpa,
		       struct pvclock_vsyscall_time_info *pvti_base)
{
	struct pvclock_vcpu_time_info *pvti = &pvti_base[id].pvti;
	struct reader_stats *s = &stats[id];
	u32 version, last_version = 0;
	u64 seen, now, old, prev;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW,
	      (pvti_gpa + id * sizeof(*pvti_base)) | KVM_MSR_ENABLED);
	GUEST_SYNC(STAGE_ENABLED);

	while (!READ_ONCE(stop)) {
		/* The read below is ordered after this by its LFENCEs. */
		seen = READ_ONCE(max_clock);
		now = read_kvmclock(pvti, &version);

		if (now < seen) {
			s->backwards++;
			if (seen - now > s->max_step)
				s->max_step = seen - now;
		}
		if (version != last_version) {
			s->updates++;
			last_version = version;
		}
		s->reads++;

		old = READ_ONCE(max_clock);
		while (now > old) {
			prev = __sync_val_compare_and_swap(&max_clock, old, now);
			if (prev == old)
				break;
			old = prev;
		}
	}
	GUEST_SYNC(STAGE_SPUN);

	__GUEST_ASSERT(!s->backwards,
		       "vCPU %u: kvmclock below another vCPU's earlier reading %lu times, by up to %lu ns",
		       id, s->backwards, s->max_step);
	__GUEST_ASSERT(s->reads, "vCPU %u: no reads", id);
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
		TEST_ASSERT(!stage, "vCPU %u: guest done early", vcpu->id);
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

/* Returns whether periodic master clock refreshes are on for the run. */
static bool enable_refreshes(void)
{
	int r;

	if (access(PARAM_PATH, F_OK)) {
		ksft_print_msg("%s absent: no periodic master clock refresh\n",
			       PARAM_PATH);
		return false;
	}

	r = kvm_take_masterclock_sync_period();
	if (r < 0) {
		ksft_print_msg("Cannot write %s: %s\n", PARAM_PATH,
			       strerror(-r));
		return false;
	}
	kvm_set_masterclock_sync_period(1);
	ksft_print_msg("%s: %d -> 1\n", PARAM_NAME, r);
	return true;
}

int main(void)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	pthread_t threads[NR_VCPUS];
	u64 reads = 0, max_step = 0;
	vm_vaddr_t pvti_gva;
	struct kvm_vm *vm;
	bool refreshes;
	int i;

	ksft_print_header();
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	ksft_set_plan(1);

	refreshes = enable_refreshes();

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	pvti_gva = vm_vaddr_alloc_page(vm);
	for (i = 0; i < NR_VCPUS; i++) {
		vcpu_args_set(vcpus[i], 3, i, addr_gva2gpa(vm, pvti_gva),
			      pvti_gva);
		run_vcpu(vcpus[i], STAGE_ENABLED);
	}

	for (i = 0; i < NR_VCPUS; i++)
		pthread_create(&threads[i], NULL, vcpu_thread, vcpus[i]);
	sleep(RUN_SECONDS);
	WRITE_ONCE(*(bool *)addr_gva2hva(vm, (vm_vaddr_t)&stop), true);
	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(threads[i], NULL);

	sync_global_from_guest(vm, stats);
	for (i = 0; i < NR_VCPUS; i++) {
		ksft_print_msg("vCPU %d: %lu reads, %lu updates, %lu backwards, max %lu ns\n",
			       i, stats[i].reads, stats[i].updates,
			       stats[i].backwards, stats[i].max_step);
		reads += stats[i].reads;
		if (stats[i].max_step > max_step)
			max_step = stats[i].max_step;
	}
	ksft_print_msg("%d vCPUs, %d s%s: %lu reads, largest backwards step %lu ns\n",
		       NR_VCPUS, RUN_SECONDS,
		       refreshes ? " with a master clock refresh every second" : "",
		       reads, max_step);

	/* The guest asserts that no vCPU went backwards. */
	for (i = 0; i < NR_VCPUS; i++)
		run_vcpu(vcpus[i], 0);
	ksft_test_result_pass("kvmclock monotonic across %d vCPUs\n", NR_VCPUS);

	kvm_vm_free(vm);
	ksft_finished();
}
