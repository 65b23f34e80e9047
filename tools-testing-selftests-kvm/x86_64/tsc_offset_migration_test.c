// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test the TSC migration algorithm of Documentation/virt/kvm/devices/vcpu.rst
 * (the KVM_VCPU_TSC_OFFSET attribute of group KVM_VCPU_TSC_CTRL): within one
 * VM, and between two VMs of the same process.
 *
 * The source vCPUs run with different TSC offsets (each guest writes its own
 * IA32_TSC).  The host runs the algorithm with a pause between the source
 * and the destination side, as if the destination host's CLOCK_REALTIME were
 * SKEW_S seconds ahead of the source's: step 4 gets the source's realtime
 * minus SKEW_S.  The algorithm then moves kvmclock and, through the offsets,
 * each guest TSC forward by the pause plus SKEW_S.  Step 6 converts that
 * time to TSC cycles with the kvmclock parameters of KVM_GET_CLOCK_GUEST
 * (exact), or with KVM_GET_TSC_KHZ (the variant for older kernels, off by up
 * to the frequency's rounding to 1 kHz).
 *
 * The host then checks, from KVM_GET_CLOCK's paired readings of kvmclock,
 * realtime and host TSC on either side:
 * - KVM_SET_CLOCK with KVM_CLOCK_REALTIME landed within 1 us of the clock
 *   plus the realtime that passed;
 * - each vCPU's TSC advanced by that same time within 1 us (exact variant);
 * - the destination has the source's KVM_GET_CLOCK flags: the master clock
 *   survives vCPUs with different offsets.
 * Each destination vCPU asserts that its TSC and kvmclock advanced that way,
 * within bounds the host computes from its own TSC and CLOCK_REALTIME
 * readings around the guest reads, and that its kvmclock page has the
 * source's PVCLOCK_TSC_STABLE_BIT.  Invalid uses of the attribute must fail
 * with EFAULT or ENXIO and leave the offset alone.
 */
#include <sys/mman.h>

#include "test_util.h"
#include "kvm_util.h"
#include "kvmclock.h"
#include "processor.h"

#define NR_VCPUS	3
#define PAUSE_US	500000
#define SKEW_S		10
#define SET_CLOCK_NS	1000
/* Guest TSC values the source vCPUs start from, far apart. */
#define TSC_BASE	BIT_ULL(40)
#define TSC_STEP	BIT_ULL(36)

struct reading {
	u64 tsc;
	u64 clock;
	u8 flags;
};

/* What the destination vCPU must see, relative to the source reading. */
struct bounds {
	bool armed;
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

	for (;;) {
		GUEST_SYNC(1);
		kvmclock_snapshot(&pvti[id], &snap);
		readings[id].tsc = snap.tsc;
		readings[id].clock = kvmclock_at(&snap.pvti, snap.tsc);
		readings[id].flags = snap.pvti.flags;
		GUEST_SYNC(2);
		if (!READ_ONCE(b->armed))
			continue;

		dtsc = readings[id].tsc - b->src.tsc;
		dclock = readings[id].clock - b->src.clock;
		__GUEST_ASSERT(dtsc >= b->tsc_lo && dtsc <= b->tsc_hi,
			       "vCPU %u: TSC advanced %ld cycles across the migration, expected [%lu, %lu]",
			       id, (s64)dtsc, b->tsc_lo, b->tsc_hi);
		__GUEST_ASSERT(dclock >= b->clock_lo && dclock <= b->clock_hi,
			       "vCPU %u: kvmclock advanced %ld ns across the migration, expected [%lu, %lu]",
			       id, (s64)dclock, b->clock_lo, b->clock_hi);
		__GUEST_ASSERT(!((readings[id].flags ^ b->src.flags) & PVCLOCK_TSC_STABLE_BIT),
			       "vCPU %u: kvmclock flags 0x%x after the migration, 0x%x before",
			       id, readings[id].flags, b->src.flags);
	}
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
		TEST_ASSERT(uc.args[1] == cmd, "vCPU %u: stage %lu, expected %lu",
			    vcpu->id, uc.args[1], cmd);
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

/*
 * Each vCPU's TSC and kvmclock, with the host's time around each read; the
 * guests wait at stage 2, and check their bounds (if armed) when they go
 * on to stage 1.
 */
static void read_vcpus(struct kvm_vm *vm, struct kvm_vcpu **vcpus,
		       struct reading *r, struct host_time (*t)[2])
{
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		host_now(&t[i][0]);
		run_vcpu(vcpus[i], 2);
		host_now(&t[i][1]);
	}
	sync_global_from_guest(vm, readings);
	memcpy(r, readings, sizeof(readings));
}

static void release_vcpus(struct kvm_vm *vm, struct kvm_vcpu **vcpus, bool armed)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		bounds[i].armed = armed;
	sync_global_to_guest(vm, bounds);
	for (i = 0; i < NR_VCPUS; i++)
		run_vcpu(vcpus[i], 1);
}

static u64 get_offset(struct kvm_vcpu *vcpu)
{
	u64 offset;

	vcpu_device_attr_get(vcpu, KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET, &offset);
	return offset;
}

static void set_offset(struct kvm_vcpu *vcpu, u64 offset)
{
	vcpu_device_attr_set(vcpu, KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET, &offset);
	TEST_ASSERT_EQ(get_offset(vcpu), offset);
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
	for (i = 0; i < NR_VCPUS; i++) {
		vcpu_args_set(vcpus[i], 4, i, source, gpa, gva);
		run_vcpu(vcpus[i], 1);
	}
	return vm;
}

/* TSC cycles to ns at kvmclock's rate, and back (cycles after @ns). */
static u64 cycles_to_ns(const struct kvm_clock_guest *c, u64 cycles)
{
	__uint128_t x = cycles;

	x = c->tsc_shift < 0 ? x >> -c->tsc_shift : x << c->tsc_shift;
	return (x * c->tsc_to_system_mul) >> 32;
}

static u64 ns_to_cycles(const struct kvm_clock_guest *c, u64 ns)
{
	__uint128_t x = ((__uint128_t)ns << 32) / c->tsc_to_system_mul;

	return c->tsc_shift < 0 ? x << -c->tsc_shift : x >> c->tsc_shift;
}

/* The guest TSC at which @c's clock reads @ns. */
static u64 tsc_at(const struct kvm_clock_guest *c, u64 ns)
{
	if (ns >= c->system_time)
		return c->tsc_timestamp + ns_to_cycles(c, ns - c->system_time);
	return c->tsc_timestamp - ns_to_cycles(c, c->system_time - ns);
}

enum variant {
	SAME_VM_EXACT,		/* restored into the source VM */
	NEW_VM_EXACT,
	NEW_VM_KHZ,		/* step 6 with KVM_GET_TSC_KHZ */
};

static const char * const variant_name[] = {
	[SAME_VM_EXACT] = "same VM",
	[NEW_VM_EXACT] = "new VM",
	[NEW_VM_KHZ] = "new VM, TSC kHz",
};

static void migrate(struct kvm_vm *src_vm, struct kvm_vcpu **src_vcpus,
		    enum variant v)
{
	struct kvm_vcpu *new_vcpus[NR_VCPUS], **dst_vcpus = src_vcpus;
	struct host_time src_read[NR_VCPUS][2], dst_read[NR_VCPUS][2];
	struct host_time get_src[2], set_dst[2];
	struct kvm_clock_guest guest_src[NR_VCPUS], guest_dst;
	struct reading src[NR_VCPUS], dst[NR_VCPUS];
	u64 ofs_src[NR_VCPUS], ofs_dst[NR_VCPUS], adjust[NR_VCPUS];
	u64 tol_ns, tol_tsc, tol_rate, skew_ns = SKEW_S * NSEC_PER_SEC;
	struct kvm_clock_data data = {}, src_data, dst_data;
	struct kvm_vm *dst_vm = src_vm;
	s64 set_err, tsc_err, elapsed;
	u64 freq_khz, cycles;
	int i;

	read_vcpus(src_vm, src_vcpus, src, src_read);
	release_vcpus(src_vm, src_vcpus, false);

	/* 1. The source's kvmclock, with the realtime and host TSC it is at. */
	host_now(&get_src[0]);
	vm_ioctl(src_vm, KVM_GET_CLOCK, &src_data);
	host_now(&get_src[1]);
	TEST_ASSERT((src_data.flags & (KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC)) ==
		    (KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC),
		    "KVM_GET_CLOCK flags 0x%x: no realtime and host TSC", src_data.flags);

	/* 2. and 3. Each vCPU's offset and TSC_ADJUST, the TSC's rate. */
	for (i = 0; i < NR_VCPUS; i++) {
		ofs_src[i] = get_offset(src_vcpus[i]);
		adjust[i] = vcpu_get_msr(src_vcpus[i], MSR_IA32_TSC_ADJUST);
		vcpu_ioctl(src_vcpus[i], KVM_GET_CLOCK_GUEST, &guest_src[i]);
	}
	freq_khz = __vcpu_ioctl(src_vcpus[0], KVM_GET_TSC_KHZ, NULL);
	TEST_ASSERT((s64)freq_khz > 0, "KVM_GET_TSC_KHZ failed: %ld", (s64)freq_khz);

	/* The VM is "in flight". */
	usleep(PAUSE_US);

	if (v != SAME_VM_EXACT) {
		dst_vm = create_vm(new_vcpus, false);
		dst_vcpus = new_vcpus;
	}

	/* 4. and 5., on a destination whose realtime is SKEW_S ahead. */
	host_now(&set_dst[0]);
	data.clock = src_data.clock;
	data.realtime = src_data.realtime - skew_ns;
	data.flags = KVM_CLOCK_REALTIME;
	vm_ioctl(dst_vm, KVM_SET_CLOCK, &data);
	vm_ioctl(dst_vm, KVM_GET_CLOCK, &data);
	host_now(&set_dst[1]);

	/* 6. and 7. */
	for (i = 0; i < NR_VCPUS; i++) {
		if (v == NEW_VM_KHZ) {
			elapsed = (s64)(src_data.clock - data.clock) * (s64)freq_khz / 1000000;
			ofs_dst[i] = ofs_src[i] - elapsed + (src_data.host_tsc - data.host_tsc);
		} else {
			/* The TSC at which the source's clock reads the destination's. */
			vcpu_ioctl(dst_vcpus[i], KVM_GET_CLOCK_GUEST, &guest_dst);
			ofs_dst[i] = get_offset(dst_vcpus[i]) - guest_dst.tsc_timestamp +
				     tsc_at(&guest_src[i], guest_dst.system_time);
		}
		set_offset(dst_vcpus[i], ofs_dst[i]);
		if (dst_vm != src_vm)
			vcpu_set_msr(dst_vcpus[i], MSR_IA32_TSC_ADJUST, adjust[i]);
		ksft_print_msg("%s: vCPU %d: TSC offset %+ld\n", variant_name[v], i,
			       (s64)(ofs_dst[i] - ofs_src[i]));
	}

	/*
	 * KVM_SET_CLOCK's own error, from step 5's reading: little time
	 * passed since, in which realtime and kvmclock (CLOCK_MONOTONIC_RAW's
	 * rate) could run apart if NTP slews the host's clock.
	 */
	elapsed = data.realtime - src_data.realtime + skew_ns;
	set_err = (s64)(data.clock - src_data.clock) - elapsed;
	vm_ioctl(dst_vm, KVM_GET_CLOCK, &dst_data);
	ksft_print_msg("%s: kvmclock advanced %lu ns, realtime %ld ns: %+ld ns\n",
		       variant_name[v], (u64)(data.clock - src_data.clock),
		       elapsed, set_err);
	TEST_ASSERT(set_err >= -SET_CLOCK_NS && set_err <= SET_CLOCK_NS,
		    "%s: KVM_SET_CLOCK(KVM_CLOCK_REALTIME) landed %+ld ns from the clock plus the realtime that passed",
		    variant_name[v], set_err);

	/* The kHz rounding of step 6: up to 0.5 kHz of the frequency. */
	tol_rate = v == NEW_VM_KHZ ? (dst_data.clock - src_data.clock) / (2 * freq_khz) : 0;
	for (i = 0; i < NR_VCPUS; i++) {
		cycles = dst_data.host_tsc + ofs_dst[i] - (src_data.host_tsc + ofs_src[i]);
		tsc_err = (s64)cycles_to_ns(&guest_src[i], cycles) -
			  (s64)(dst_data.clock - src_data.clock);
		ksft_print_msg("%s: vCPU %d: TSC advanced %lu cycles, %+ld ns from kvmclock\n",
			       variant_name[v], i, cycles, tsc_err);
		TEST_ASSERT(llabs(tsc_err) <= SET_CLOCK_NS + tol_rate,
			    "%s: vCPU %d: TSC advanced %+ld ns from kvmclock, expected at most %lu",
			    variant_name[v], i, tsc_err, SET_CLOCK_NS + tol_rate);
	}

	read_vcpus(dst_vm, dst_vcpus, dst, dst_read);

	/* The vCPUs ran: KVM took their TSC offsets into account. */
	vm_ioctl(dst_vm, KVM_GET_CLOCK, &data);
	ksft_print_msg("%s: KVM_GET_CLOCK flags: source 0x%x, destination 0x%x\n",
		       variant_name[v], src_data.flags, data.flags);
	TEST_ASSERT(data.flags == src_data.flags,
		    "%s: KVM_GET_CLOCK flags 0x%x after the migration, 0x%x before",
		    variant_name[v], data.flags, src_data.flags);

	/*
	 * Where the guest's readings can be off: the host's realtime and TSC
	 * brackets of steps 1 and 5, the clock reference KVM_SET_CLOCK counts
	 * from (within its bracket), realtime, kvmclock and TSC rates
	 * differing (500 ppm), and step 6's rounding.
	 */
	tol_ns = (get_src[1].real - get_src[0].real) +
		 (set_dst[1].real - set_dst[0].real) +
		 (set_dst[1].real - get_src[0].real + skew_ns) / 2000 + 1000 + tol_rate;
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
		ksft_print_msg("%s: vCPU %d: TSC %+ld [%lu, %lu], kvmclock %+ld [%lu, %lu] ns\n",
			       variant_name[v], i, (s64)(dst[i].tsc - src[i].tsc),
			       b->tsc_lo, b->tsc_hi, (s64)(dst[i].clock - src[i].clock),
			       b->clock_lo, b->clock_hi);
	}
	release_vcpus(dst_vm, dst_vcpus, true);

	ksft_test_result_pass("%s: TSC and kvmclock continued, %d ms pause, realtime %d s ahead\n",
			      variant_name[v], PAUSE_US / 1000, SKEW_S);
	if (dst_vm != src_vm)
		kvm_vm_free(dst_vm);
}

int main(void)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	struct kvm_vm *vm;

	ksft_print_header();
	TEST_REQUIRE(sys_clocksource_is_based_on_tsc());
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_ADJUST_CLOCK) & KVM_CLOCK_REALTIME);
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_CLOCK_GUEST));

	vm = create_vm(vcpus, true);
	TEST_REQUIRE(!__vcpu_has_device_attr(vcpus[0], KVM_VCPU_TSC_CTRL,
					     KVM_VCPU_TSC_OFFSET));
	ksft_set_plan(4);

	test_invalid_attr(vcpus[0]);
	migrate(vm, vcpus, SAME_VM_EXACT);
	migrate(vm, vcpus, NEW_VM_EXACT);
	migrate(vm, vcpus, NEW_VM_KHZ);

	kvm_vm_free(vm);
	ksft_finished();
}
