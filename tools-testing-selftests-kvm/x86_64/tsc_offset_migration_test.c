// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test the TSC migration algorithm of Documentation/virt/kvm/devices/vcpu.rst
 * (the KVM_VCPU_TSC_OFFSET attribute of group KVM_VCPU_TSC_CTRL) between two
 * VMs of the same process.
 *
 * The source vCPUs run with different TSC offsets (each guest writes its own
 * IA32_TSC) and record their TSC and kvmclock.  The host runs the seven steps
 * with a pause between the source and the destination side, as if the
 * destination host's CLOCK_REALTIME were SKEW_S seconds ahead of the
 * source's: step 4 gets the source's realtime minus SKEW_S.  The algorithm
 * then moves kvmclock and, through the offsets, the guest TSC forward by the
 * pause plus SKEW_S; a copy of the source's offsets would leave the TSC
 * SKEW_S behind the kvmclock.  Each destination vCPU asserts that both its
 * TSC and its kvmclock advanced that way, within bounds the host computes
 * from its own TSC and CLOCK_REALTIME readings around the guest reads and
 * the ioctls.  Invalid uses of the attribute must fail with EFAULT or ENXIO
 * and leave the offset alone.
 */
#include <sys/mman.h>

#include "test_util.h"
#include "kvm_util.h"
#include "kvmclock.h"
#include "processor.h"

#define NR_VCPUS	3
#define PAUSE_US	500000
#define SKEW_S		10
/* Guest TSC values the source vCPUs start from, far apart. */
#define TSC_BASE	BIT_ULL(40)
#define TSC_STEP	BIT_ULL(36)

struct reading {
	u64 tsc;
	u64 clock;
};

/* What the destination vCPU must see, relative to the source reading. */
struct bounds {
	struct reading src;
	u64 tsc_lo, tsc_hi;	/* dst TSC - src TSC */
	u64 clock_lo, clock_hi;	/* dst kvmclock - src kvmclock */
};

static struct reading readings[NR_VCPUS];
static struct bounds bounds[NR_VCPUS];

static void guest_code(u32 id, bool source, vm_paddr_t gpa,
		       struct pvclock_vcpu_time_info *pvti)
{
	struct bounds *b = &bounds[id];
	struct kvmclock_snap snap;
	u64 dtsc, dclock;

	if (source)
		wrmsr(MSR_IA32_TSC, TSC_BASE + id * TSC_STEP);
	kvmclock_enable(gpa + id * sizeof(*pvti));
	GUEST_SYNC(1);

	kvmclock_snapshot(&pvti[id], &snap);
	readings[id].tsc = snap.tsc;
	readings[id].clock = kvmclock_at(&snap.pvti, snap.tsc);
	GUEST_SYNC(2);
	if (source)
		GUEST_DONE();

	dtsc = readings[id].tsc - b->src.tsc;
	dclock = readings[id].clock - b->src.clock;
	__GUEST_ASSERT(dtsc >= b->tsc_lo && dtsc <= b->tsc_hi,
		       "vCPU %u: TSC advanced %ld cycles across the migration, expected [%lu, %lu]",
		       id, (s64)dtsc, b->tsc_lo, b->tsc_hi);
	__GUEST_ASSERT(dclock >= b->clock_lo && dclock <= b->clock_hi,
		       "vCPU %u: kvmclock advanced %ld ns across the migration, expected [%lu, %lu]",
		       id, (s64)dclock, b->clock_lo, b->clock_hi);
	GUEST_DONE();
}

static void run_vcpu(struct kvm_vcpu *vcpu, u64 cmd)
{
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);

	switch (get_ucall(vcpu, &uc)) {
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	case UCALL_SYNC:
	case UCALL_DONE:
		TEST_ASSERT(uc.cmd == cmd, "vCPU %u: ucall %lu, expected %lu",
			    vcpu->id, uc.cmd, cmd);
		break;
	default:
		TEST_FAIL("vCPU %u: unexpected ucall %lu", vcpu->id, uc.cmd);
	}
}

/* Host TSC and CLOCK_REALTIME, the TSC first. */
struct host_time {
	u64 tsc;
	u64 real;
};

static void host_now(struct host_time *t)
{
	t->tsc = rdtsc();
	t->real = clock_ns(CLOCK_REALTIME);
}

/* Each vCPU's TSC and kvmclock, with the host's time around each read. */
static void read_vcpus(struct kvm_vm *vm, struct kvm_vcpu **vcpus,
		       struct reading *r, struct host_time (*t)[2])
{
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		run_vcpu(vcpus[i], UCALL_SYNC);
	for (i = 0; i < NR_VCPUS; i++) {
		host_now(&t[i][0]);
		run_vcpu(vcpus[i], UCALL_SYNC);
		host_now(&t[i][1]);
	}
	sync_global_from_guest(vm, readings);
	memcpy(r, readings, sizeof(readings));
}

static u64 get_offset(struct kvm_vcpu *vcpu)
{
	u64 offset;

	vcpu_device_attr_get(vcpu, KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET, &offset);
	return offset;
}

static void expect_errno(int r, int err, const char *what)
{
	TEST_ASSERT(r == -1 && errno == err,
		    "%s: %d (errno %d), expected errno %d", what, r, errno, err);
}

static void test_invalid_attr(struct kvm_vcpu *vcpu)
{
	u64 before = get_offset(vcpu), val = 0;
	void *bad;

	bad = mmap(NULL, getpagesize(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(bad != MAP_FAILED, "mmap() failed");

	expect_errno(__vcpu_device_attr_get(vcpu, KVM_VCPU_TSC_CTRL,
					    KVM_VCPU_TSC_OFFSET, bad),
		     EFAULT, "KVM_GET_DEVICE_ATTR, bad address");
	expect_errno(__vcpu_device_attr_set(vcpu, KVM_VCPU_TSC_CTRL,
					    KVM_VCPU_TSC_OFFSET, bad),
		     EFAULT, "KVM_SET_DEVICE_ATTR, bad address");

	expect_errno(__vcpu_has_device_attr(vcpu, KVM_VCPU_TSC_CTRL + 1,
					    KVM_VCPU_TSC_OFFSET),
		     ENXIO, "KVM_HAS_DEVICE_ATTR, wrong group");
	expect_errno(__vcpu_device_attr_get(vcpu, KVM_VCPU_TSC_CTRL + 1,
					    KVM_VCPU_TSC_OFFSET, &val),
		     ENXIO, "KVM_GET_DEVICE_ATTR, wrong group");
	expect_errno(__vcpu_device_attr_set(vcpu, KVM_VCPU_TSC_CTRL + 1,
					    KVM_VCPU_TSC_OFFSET, &val),
		     ENXIO, "KVM_SET_DEVICE_ATTR, wrong group");

	expect_errno(__vcpu_has_device_attr(vcpu, KVM_VCPU_TSC_CTRL,
					    KVM_VCPU_TSC_OFFSET + 1),
		     ENXIO, "KVM_HAS_DEVICE_ATTR, wrong attribute");
	expect_errno(__vcpu_device_attr_get(vcpu, KVM_VCPU_TSC_CTRL,
					    KVM_VCPU_TSC_OFFSET + 1, &val),
		     ENXIO, "KVM_GET_DEVICE_ATTR, wrong attribute");
	expect_errno(__vcpu_device_attr_set(vcpu, KVM_VCPU_TSC_CTRL,
					    KVM_VCPU_TSC_OFFSET + 1, &val),
		     ENXIO, "KVM_SET_DEVICE_ATTR, wrong attribute");

	munmap(bad, getpagesize());
	TEST_ASSERT_EQ(get_offset(vcpu), before);
	ksft_test_result_pass("invalid KVM_VCPU_TSC_CTRL uses: EFAULT, ENXIO, offset unchanged\n");
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

int main(void)
{
	struct kvm_vcpu *src_vcpus[NR_VCPUS], *dst_vcpus[NR_VCPUS];
	struct host_time src_read[NR_VCPUS][2], dst_read[NR_VCPUS][2];
	struct host_time get_src[2], set_dst[2];
	struct reading src[NR_VCPUS], dst[NR_VCPUS];
	u64 ofs_src[NR_VCPUS], ofs_dst[NR_VCPUS], freq_khz;
	u64 guest_src, host_src, tsc_src, guest_dest, tsc_dest;
	u64 tol_ns, tol_tsc, skew_ns = SKEW_S * NSEC_PER_SEC;
	struct kvm_clock_data data = {};
	struct kvm_vm *src_vm, *dst_vm;
	u32 src_flags;
	s64 delta;
	int i;

	ksft_print_header();
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_ADJUST_CLOCK) & KVM_CLOCK_REALTIME);

	src_vm = create_vm(src_vcpus, true);
	TEST_REQUIRE(!__vcpu_has_device_attr(src_vcpus[0], KVM_VCPU_TSC_CTRL,
					     KVM_VCPU_TSC_OFFSET));
	ksft_set_plan(2);

	read_vcpus(src_vm, src_vcpus, src, src_read);
	test_invalid_attr(src_vcpus[0]);

	/* 1. The source's kvmclock, with the realtime and host TSC it is at. */
	host_now(&get_src[0]);
	vm_ioctl(src_vm, KVM_GET_CLOCK, &data);
	host_now(&get_src[1]);
	src_flags = data.flags;
	guest_src = data.clock;
	if ((data.flags & (KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC)) ==
	    (KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC)) {
		host_src = data.realtime;
		tsc_src = data.host_tsc;
	} else {
		/* No master clock: take the host readings after the call. */
		host_src = get_src[1].real;
		tsc_src = get_src[1].tsc;
	}

	/* 2. and 3. Each vCPU's offset, the TSC frequency. */
	for (i = 0; i < NR_VCPUS; i++)
		ofs_src[i] = get_offset(src_vcpus[i]);
	freq_khz = __vcpu_ioctl(src_vcpus[0], KVM_GET_TSC_KHZ, NULL);
	TEST_ASSERT((s64)freq_khz > 0, "KVM_GET_TSC_KHZ failed: %ld", (s64)freq_khz);

	/* The VM is "in flight". */
	usleep(PAUSE_US);

	/* 4. and 5., on a destination whose realtime is SKEW_S ahead. */
	dst_vm = create_vm(dst_vcpus, false);
	host_now(&set_dst[0]);
	memset(&data, 0, sizeof(data));
	data.clock = guest_src;
	data.realtime = host_src - skew_ns;
	data.flags = KVM_CLOCK_REALTIME;
	vm_ioctl(dst_vm, KVM_SET_CLOCK, &data);
	vm_ioctl(dst_vm, KVM_GET_CLOCK, &data);
	host_now(&set_dst[1]);
	guest_dest = data.clock;
	tsc_dest = (data.flags & KVM_CLOCK_HOST_TSC) ? data.host_tsc : set_dst[1].tsc;

	/* 6. and 7. */
	for (i = 0; i < NR_VCPUS; i++) {
		delta = (s64)(guest_src - guest_dest) * (s64)freq_khz / 1000000;
		ofs_dst[i] = ofs_src[i] - delta + (tsc_src - tsc_dest);
		vcpu_device_attr_set(dst_vcpus[i], KVM_VCPU_TSC_CTRL,
				     KVM_VCPU_TSC_OFFSET, &ofs_dst[i]);
		TEST_ASSERT_EQ(get_offset(dst_vcpus[i]), ofs_dst[i]);
		ksft_print_msg("vCPU %d: TSC offset source %ld, destination %ld (%+ld)\n",
			       i, (s64)ofs_src[i], (s64)ofs_dst[i],
			       (s64)(ofs_dst[i] - ofs_src[i]));
	}

	read_vcpus(dst_vm, dst_vcpus, dst, dst_read);
	vm_ioctl(dst_vm, KVM_GET_CLOCK, &data);
	ksft_print_msg("KVM_GET_CLOCK flags: source 0x%x, destination 0x%x\n",
		       src_flags, data.flags);

	/*
	 * Where the algorithm can be off: the host's realtime and TSC pairing
	 * in steps 1 and 5 (at most the brackets around those calls), the
	 * clock reference KVM_SET_CLOCK counts from (within its bracket), and
	 * realtime, kvmclock and TSC rates differing (500 ppm).
	 */
	tol_ns = (get_src[1].real - get_src[0].real) +
		 (set_dst[1].real - set_dst[0].real) +
		 (set_dst[1].real - get_src[0].real + skew_ns) / 2000 + 1000;
	tol_tsc = tol_ns * freq_khz / 1000000 + 1;

	for (i = 0; i < NR_VCPUS; i++) {
		struct bounds *b = &bounds[i];

		b->src = src[i];
		b->clock_lo = dst_read[i][0].real - src_read[i][1].real + skew_ns - tol_ns;
		b->clock_hi = dst_read[i][1].real - src_read[i][0].real + skew_ns + tol_ns;
		b->tsc_lo = dst_read[i][0].tsc - src_read[i][1].tsc +
			    skew_ns * freq_khz / 1000000 - tol_tsc;
		b->tsc_hi = dst_read[i][1].tsc - src_read[i][0].tsc +
			    skew_ns * freq_khz / 1000000 + tol_tsc;
		ksft_print_msg("vCPU %d: TSC %+ld [%lu, %lu] cycles, kvmclock %+ld [%lu, %lu] ns\n",
			       i, (s64)(dst[i].tsc - src[i].tsc), b->tsc_lo,
			       b->tsc_hi, (s64)(dst[i].clock - src[i].clock),
			       b->clock_lo, b->clock_hi);
	}
	sync_global_to_guest(dst_vm, bounds);

	for (i = 0; i < NR_VCPUS; i++)
		run_vcpu(dst_vcpus[i], UCALL_DONE);
	ksft_test_result_pass("TSC and kvmclock continued, %d ms pause, realtime %d s ahead\n",
			      PAUSE_US / 1000, SKEW_S);

	kvm_vm_free(dst_vm);
	kvm_vm_free(src_vm);
	ksft_finished();
}
