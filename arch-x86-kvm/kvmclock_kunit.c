// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for kvmclock's rate and for how KVM reads kvmclock.
 *
 * kvm_pvclock_scale() turns the rate of the host's clock, in host TSC cycles,
 * into kvmclock's tsc_to_system_mul/tsc_shift for a guest TSC at some ratio
 * of the host's.  kvm_pvclock_read() is how KVM_GET_CLOCK, the wall clock
 * epoch and debugfs read kvmclock.  Hosts and ratios that this harness cannot
 * run (TSC scaling of either vendor, Hyper-V's TSC page as the host's
 * clocksource) are covered here, on the functions that KVM itself uses.
 */

#include <kunit/test.h>
#include <linux/prandom.h>
#include <asm/pvclock.h>

#include "x86.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define SEED			0x6b766d636c6f636bULL
#define MIN_KHZ			1000000
#define MAX_KHZ			5000000
#define SECS_PER_YEAR		(365ULL * 24 * 60 * 60)
/* Report only the first few mismatches of a case, not thousands. */
#define MAX_REPORTS		5

/* TSC frequencies that are not a round number of MHz. */
static const u32 odd_khz[] = {
	1000001, 1193182, 1799999, 2099998, 2445411, 2893300, 3192614,
	3399987, 3700019, 4199996, 4999999,
};

/*
 * A clocksource's mult and shift for @freq units of @scale Hz, as
 * __clocksource_update_freq_scale() computes them for a 64-bit counter: a
 * conversion range of 600 seconds, then mult halved until mult +/- 11%
 * (clocksource_max_adjustment()) fits in 32 bits.
 */
static void cs_mult_shift(u32 freq, u32 scale, u32 *mult, u32 *shift)
{
	clocks_calc_mult_shift(mult, shift, freq, NSEC_PER_SEC / scale,
			       600 * scale);

	while ((u64)*mult + div_u64((u64)*mult * 11, 100) > U32_MAX) {
		*mult >>= 1;
		(*shift)--;
	}
}

/* The TSC clocksource: clocksource_register_khz(). */
static void tsc_mult_shift(u32 khz, u32 *mult, u32 *shift)
{
	cs_mult_shift(khz, 1000, mult, shift);
}

/*
 * Hyper-V's TSC page as the host's clocksource: a 10 MHz counter
 * (clocksource_register_hz(NSEC_PER_SEC / 100)) that the TSC drives through
 * the page's scale, 2^64 * 10^7 / TSC Hz; KVM reads its rate in TSC cycles
 * as do_kvmclock_base() computes it.
 */
static void hv_rate(u32 khz, u64 *rate_mult, u32 *rate_shift)
{
	u64 scale = div64_u64(~0ULL, (u64)khz * 1000) * 10000000;
	u32 mult, shift;

	cs_mult_shift(NSEC_PER_SEC / 100, 1, &mult, &shift);
	*rate_mult = mul_u64_u32_shr(scale, mult, 32);
	*rate_shift = shift + 32;
}

/* A pseudo-random number in [0, @range). */
static u64 rand_below(struct rnd_state *rnd, u64 range)
{
	u64 r = (u64)prandom_u32_state(rnd) << 32 | prandom_u32_state(rnd);

	return mul_u64_u64_shr(r, range, 64);
}

/*
 * Does kvmclock, read as the guest reads it (pvclock_scale_delta()), give
 * the same nanoseconds for @delta cycles as the clocksource itself?
 */
static void check_exact(struct kunit *test, unsigned int *bad, u32 khz,
			u32 mult, u32 shift, u32 tsc_mul, s8 tsc_shift,
			u64 delta)
{
	u64 want = mul_u64_u32_shr(delta, mult, shift);
	u64 got = pvclock_scale_delta(delta, tsc_mul, tsc_shift);

	if (likely(got == want))
		return;
	if ((*bad)++ < MAX_REPORTS)
		KUNIT_FAIL(test,
			   "%u kHz, mult %u shift %u -> mul %u shift %d: %llu cycles are %llu ns, kvmclock says %llu ns",
			   khz, mult, shift, tsc_mul, tsc_shift, delta, want, got);
}

/* Checks one frequency; returns the number of deltas it tried. */
static unsigned int check_unscaled_khz(struct kunit *test,
				       struct rnd_state *rnd,
				       unsigned int *bad, u32 khz)
{
	u64 hz = (u64)khz * 1000;
	u64 year = hz * SECS_PER_YEAR;
	const u64 edges[] = { 0, 1, hz - 1, hz, 600 * hz, year - 1, year };
	unsigned int i, n = 0;
	u32 mult, shift, tsc_mul;
	s8 tsc_shift;
	u64 delta;

	tsc_mult_shift(khz, &mult, &shift);
	if (!kvm_pvclock_scale(mult, shift, 1, 0, &tsc_shift, &tsc_mul)) {
		if ((*bad)++ < MAX_REPORTS)
			KUNIT_FAIL(test, "%u kHz, mult %u shift %u: rejected",
				   khz, mult, shift);
		return 0;
	}

	for (i = 0; i < ARRAY_SIZE(edges); i++, n++)
		check_exact(test, bad, khz, mult, shift, tsc_mul, tsc_shift,
			    edges[i]);

	/* All bits of mult meet all bits of the delta. */
	for (delta = 2; delta <= year; delta <<= 1, n += 2) {
		check_exact(test, bad, khz, mult, shift, tsc_mul, tsc_shift,
			    delta);
		check_exact(test, bad, khz, mult, shift, tsc_mul, tsc_shift,
			    delta - 1);
	}

	for (i = 0; i < 8; i++, n++)
		check_exact(test, bad, khz, mult, shift, tsc_mul, tsc_shift,
			    rand_below(rnd, year));
	return n;
}

/*
 * With a TSC clocksource and an unscaled guest TSC, kvmclock must count
 * exactly what the host's clock counts: bit for bit the same nanoseconds
 * for any delta up to a year, at every TSC frequency from 1 to 5 GHz.
 */
static void kvmclock_test_unscaled(struct kunit *test)
{
	unsigned int i, freqs = 0, deltas = 0, bad = 0;
	struct rnd_state rnd;
	u32 khz;

	prandom_seed_state(&rnd, SEED);

	for (khz = MIN_KHZ; khz <= MAX_KHZ; khz += 1000, freqs++)
		deltas += check_unscaled_khz(test, &rnd, &bad, khz);
	for (i = 0; i < ARRAY_SIZE(odd_khz); i++, freqs++)
		deltas += check_unscaled_khz(test, &rnd, &bad, odd_khz[i]);
	for (i = 0; i < 256; i++, freqs++)
		deltas += check_unscaled_khz(test, &rnd, &bad, MIN_KHZ +
					     rand_below(&rnd, MAX_KHZ - MIN_KHZ + 1));

	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "%u of %u conversions are not exact",
			    bad, deltas);
	kunit_info(test, "%u frequencies, %u deltas: %u not exact\n",
		   freqs, deltas, bad);
}

struct scaling {
	const char *name;
	unsigned int frac_bits;
	u64 max_ratio;		/* the largest ratio KVM accepts */
};

/* Each vendor's TSC ratio format, and the largest ratio of each. */
static const struct scaling scalings[] = {
	{ .name = "AMD", .frac_bits = 32, .max_ratio = 0xffffffffffULL },
	{ .name = "Intel", .frac_bits = 48, .max_ratio = U64_MAX },
};

static void scaling_desc(const struct scaling *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s, %u fraction bits", p->name,
		 p->frac_bits);
}

KUNIT_ARRAY_PARAM(scaling, scalings, scaling_desc);

struct worst {
	u64 drift_fs;	/* femtoseconds per second */
	u32 khz;
	u64 ratio;
	unsigned int n;
	unsigned int bad;
};

/*
 * Checks one conversion against the exact ns per guest TSC cycle,
 * mult * 2^frac_bits / (ratio * 2^shift): a relative error of at most 2^-32
 * (plus 2^-50 for what the computation truncates), the worst kept.
 */
static void check_scaled(struct kunit *test, struct worst *worst,
			 unsigned int frac_bits, u32 khz, u64 mult, u32 shift,
			 u64 ratio)
{
	u128 got, want, diff;
	u32 tsc_mul;
	s8 tsc_shift;
	int k, t;
	u64 drift;

	worst->n++;
	if (!kvm_pvclock_scale(mult, shift, ratio, frac_bits, &tsc_shift,
			       &tsc_mul)) {
		if (worst->bad++ < MAX_REPORTS)
			KUNIT_FAIL(test, "%u kHz, mult %llu shift %u, ratio %#llx: rejected",
				   khz, mult, shift, ratio);
		return;
	}

	/*
	 * tsc_mul * 2^(tsc_shift - 32) against mult * 2^frac_bits /
	 * (ratio * 2^shift), both multiplied by ratio * 2^(shift + tsc_shift).
	 */
	k = 32 + frac_bits - shift - tsc_shift;
	got = (u128)tsc_mul * ratio;
	want = mult;
	if (k >= 0)
		want <<= k;
	else
		got <<= -k;
	diff = got > want ? got - want : want - got;

	if (diff > (want >> 32) + (want >> 50) + 1) {
		if (worst->bad++ < MAX_REPORTS)
			KUNIT_FAIL(test,
				   "%u kHz, mult %llu shift %u, ratio %#llx: mul %u shift %d is off by more than 2^-32",
				   khz, mult, shift, ratio, tsc_mul, tsc_shift);
		return;
	}

	/* Down to 64 bits; diff keeps 32 significant bits or more. */
	t = (u64)(want >> 64) ? fls64((u64)(want >> 64)) : 0;
	drift = mul_u64_u64_div_u64((u64)(diff >> t), FSEC_PER_SEC,
				    (u64)(want >> t));
	if (drift > worst->drift_fs) {
		worst->drift_fs = drift;
		worst->khz = khz;
		worst->ratio = ratio;
	}
}

/* All ratios for one host clock rate. */
static void check_ratios(struct kunit *test, struct worst *worst,
			 struct rnd_state *rnd, const struct scaling *p,
			 u32 khz, u64 mult, u32 shift)
{
	const u64 one = BIT_ULL(p->frac_bits);
	unsigned int i;

	/* 1/4 to 4 in steps of 1/64, just off 1.0, and any fraction... */
	for (i = 16; i <= 256; i++)
		check_scaled(test, worst, p->frac_bits, khz, mult, shift,
			     (u64)i << (p->frac_bits - 6));
	check_scaled(test, worst, p->frac_bits, khz, mult, shift, one - 1);
	check_scaled(test, worst, p->frac_bits, khz, mult, shift, one + 1);
	for (i = 0; i < 32; i++)
		check_scaled(test, worst, p->frac_bits, khz, mult, shift,
			     one / 4 + rand_below(rnd, one * 15 / 4 + 1));

	/* ...and up to the vendor's largest ratio, 128 times and more. */
	for (i = 0; i < 32; i++)
		check_scaled(test, worst, p->frac_bits, khz, mult, shift,
			     one * 4 + rand_below(rnd, p->max_ratio - one * 4));
	check_scaled(test, worst, p->frac_bits, khz, mult, shift, one * 128);
	check_scaled(test, worst, p->frac_bits, khz, mult, shift, one * 200);
	check_scaled(test, worst, p->frac_bits, khz, mult, shift, p->max_ratio);
}

static void report(struct kunit *test, const char *what, struct worst *worst)
{
	u64 ps = div_u64(worst->drift_fs * 300, 1000);

	KUNIT_EXPECT_EQ_MSG(test, worst->bad, 0, "%s: %u of %u conversions are off",
			    what, worst->bad, worst->n);
	kunit_info(test,
		   "%s: %u conversions, worst drift %llu.%06llu ns/s (%u kHz, ratio %#llx), %llu.%03llu ns after 300 s\n",
		   what, worst->n, div_u64(worst->drift_fs, 1000000),
		   worst->drift_fs % 1000000, worst->khz, worst->ratio,
		   div_u64(ps, 1000), ps % 1000);
}

/*
 * With TSC scaling kvmclock cannot be exact, but it must not drift from the
 * host's clock by more than 2^-32 (0.233 ns per second), whatever the ratio
 * in either vendor's format, 200 times the host's rate included.  A ratio
 * of exactly 1.0 takes the exact path.
 */
static void kvmclock_test_scaled(struct kunit *test)
{
	const struct scaling *p = test->param_value;
	struct worst worst = {};
	u32 khz, mult, shift, tsc_mul, tsc_mul1;
	s8 tsc_shift, tsc_shift1;
	struct rnd_state rnd;
	unsigned int i;

	prandom_seed_state(&rnd, SEED + p->frac_bits);

	for (khz = MIN_KHZ; khz <= MAX_KHZ + ARRAY_SIZE(odd_khz) * 50000;
	     khz += 50000) {
		u32 k = khz <= MAX_KHZ ? khz :
			odd_khz[(khz - MAX_KHZ) / 50000 - 1];

		tsc_mult_shift(k, &mult, &shift);
		KUNIT_ASSERT_TRUE(test, kvm_pvclock_scale(mult, shift,
							  BIT_ULL(p->frac_bits),
							  p->frac_bits,
							  &tsc_shift, &tsc_mul));
		KUNIT_ASSERT_TRUE(test, kvm_pvclock_scale(mult, shift, 1, 0,
							  &tsc_shift1,
							  &tsc_mul1));
		KUNIT_EXPECT_TRUE_MSG(test, tsc_mul == tsc_mul1 &&
				      tsc_shift == tsc_shift1,
				      "%u kHz: a ratio of 1.0 is not exact", k);

		check_ratios(test, &worst, &rnd, p, k, mult, shift);
	}
	for (i = 0; i < 8; i++) {
		khz = MIN_KHZ + rand_below(&rnd, MAX_KHZ - MIN_KHZ + 1);
		tsc_mult_shift(khz, &mult, &shift);
		check_ratios(test, &worst, &rnd, p, khz, mult, shift);
	}
	report(test, p->name, &worst);
}

/*
 * A host whose clocksource is Hyper-V's TSC page: kvmclock's rate is the
 * page's scale composed with the clocksource's 10 MHz conversion, rounded,
 * unscaled or scaled: within 2^-32 too, never a factor off.
 */
static void kvmclock_test_hyperv(struct kunit *test)
{
	const struct scaling *p = test->param_value;
	struct worst worst = {};
	struct rnd_state rnd;
	u32 khz, shift;
	u64 mult;

	prandom_seed_state(&rnd, SEED + 1);
	for (khz = MIN_KHZ; khz <= MAX_KHZ; khz += 10000) {
		hv_rate(khz, &mult, &shift);
		check_scaled(test, &worst, 0, khz, mult, shift, 1);
		if (khz % 100000 == 0)
			check_ratios(test, &worst, &rnd, p, khz, mult, shift);
	}
	report(test, p->name, &worst);
}

/*
 * KVM_GET_CLOCK, the wall clock epoch and debugfs read kvmclock with
 * kvm_pvclock_read(): for any TSC ratio it must give what the guest
 * computes from its page, where the guest's TSC is offset and scaled
 * (kvm_read_l1_tsc()) and tsc_timestamp is the guest's TSC at the
 * reference, bit for bit.
 */
static void kvmclock_test_read(struct kunit *test)
{
	const struct scaling *p = test->param_value;
	struct pvclock_vcpu_time_info ref, page;
	u64 ratio, host_tsc, offset, got, want;
	unsigned int i, bad = 0;
	u32 khz, mult, shift;
	struct rnd_state rnd;

	prandom_seed_state(&rnd, SEED + 2);
	for (i = 0; i < 10000; i++) {
		khz = MIN_KHZ + rand_below(&rnd, MAX_KHZ - MIN_KHZ + 1);
		tsc_mult_shift(khz, &mult, &shift);
		ratio = i % 4 ? BIT_ULL(p->frac_bits) / 4 +
				rand_below(&rnd, p->max_ratio / 64) :
				BIT_ULL(p->frac_bits);
		KUNIT_ASSERT_TRUE(test, kvm_pvclock_scale(mult, shift, ratio,
							  p->frac_bits,
							  &ref.tsc_shift,
							  &ref.tsc_to_system_mul));
		ref.tsc_timestamp = rand_below(&rnd, 1ULL << 60);
		ref.system_time = rand_below(&rnd, 1ULL << 60);
		host_tsc = ref.tsc_timestamp +
			   rand_below(&rnd, (u64)khz * 1000 * 3600);
		offset = (u64)prandom_u32_state(&rnd) << 32;

		page = ref;
		page.tsc_timestamp = offset +
			mul_u64_u64_shr(ref.tsc_timestamp, ratio, p->frac_bits);
		want = __pvclock_read_cycles(&page, offset +
			mul_u64_u64_shr(host_tsc, ratio, p->frac_bits));
		got = kvm_pvclock_read(&ref, ratio, p->frac_bits, host_tsc);
		if (got != want && bad++ < MAX_REPORTS)
			KUNIT_FAIL(test, "ratio %#llx: KVM reads %llu, the guest %llu",
				   ratio, got, want);
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
}

/* Two rates, mul * 2^(shift - 32), as integers at the smaller shift. */
static void rates_at(u32 mul1, s8 shift1, u32 mul2, s8 shift2, u64 *a, u64 *b)
{
	int lo = min(shift1, shift2);

	*a = (u64)mul1 << (shift1 - lo);
	*b = (u64)mul2 << (shift2 - lo);
}

/*
 * Migration to a host of another TSC frequency, whose VMM restores the
 * source's KVM_GET_TSC_KHZ with KVM_SET_TSC_KHZ and TSC scaling: the
 * destination's kvmclock, as a function of the guest TSC, runs at the
 * source's rate up to the two hosts' clocksource roundings (mult has some
 * 24 bits for a TSC) and 2^-31 for the ratio and kvmclock's own rounding.
 * KVM_SET_CLOCK_GUEST must then accept the source's parameters.
 */
static void kvmclock_test_migration(struct kunit *test)
{
	const struct scaling *p = test->param_value;
	u64 ratio, a, b, diff, bound, worst_ppt = 0;
	u32 khz_s, khz_d, mult_s, shift_s, mult_d, shift_d, mul_s, mul_d;
	unsigned int i, n = 0;
	struct rnd_state rnd;
	s8 sh_s, sh_d;

	prandom_seed_state(&rnd, SEED + p->frac_bits + 1);

	for (i = 0; i < 4000; i++) {
		khz_s = i < ARRAY_SIZE(odd_khz) ? odd_khz[i] :
			MIN_KHZ + rand_below(&rnd, MAX_KHZ - MIN_KHZ + 1);
		khz_d = MIN_KHZ + rand_below(&rnd, MAX_KHZ - MIN_KHZ + 1);

		tsc_mult_shift(khz_s, &mult_s, &shift_s);
		KUNIT_ASSERT_TRUE(test, kvm_pvclock_scale(mult_s, shift_s,
							  BIT_ULL(p->frac_bits),
							  p->frac_bits, &sh_s,
							  &mul_s));

		/* set_tsc_khz()'s ratio for the source's rate. */
		ratio = mul_u64_u32_div(BIT_ULL(p->frac_bits), khz_s, khz_d);
		if (ratio > p->max_ratio)
			continue;
		tsc_mult_shift(khz_d, &mult_d, &shift_d);
		KUNIT_ASSERT_TRUE(test, kvm_pvclock_scale(mult_d, shift_d, ratio,
							  p->frac_bits, &sh_d,
							  &mul_d));

		rates_at(mul_s, sh_s, mul_d, sh_d, &a, &b);
		diff = abs_diff(a, b);
		bound = div64_u64(b, 2ULL * mult_s) + div64_u64(b, 2ULL * mult_d) +
			(b >> 31) + 1;
		n++;
		if (diff > bound)
			KUNIT_FAIL(test,
				   "%u kHz to %u kHz: rates %llu ppt apart, expected at most %llu",
				   khz_s, khz_d,
				   mul_u64_u64_div_u64(diff, 1000000000000ULL, b),
				   mul_u64_u64_div_u64(bound, 1000000000000ULL, b));
		if (!kvm_clock_rates_close(mul_s, sh_s, mul_d, sh_d))
			KUNIT_FAIL(test, "%u kHz to %u kHz: KVM_SET_CLOCK_GUEST would refuse it",
				   khz_s, khz_d);
		worst_ppt = max(worst_ppt, mul_u64_u64_div_u64(diff, 1000000000000ULL, b));
	}
	KUNIT_EXPECT_GT(test, n, 1000);
	kunit_info(test, "%s: %u migrations, rates at most %llu.%03llu ppb apart\n",
		   p->name, n, worst_ppt / 1000, worst_ppt % 1000);
}

/*
 * KVM_SET_CLOCK_GUEST evaluates the saved parameters at the vCPU's TSC,
 * which may be before their timestamp (a TSC restored behind it); the
 * parameters it publishes from there must continue the saved clock within
 * 1 ns at every later TSC.  A rate 2^-20 away is accepted, 2^-19 not.
 */
static void kvmclock_test_clock_guest(struct kunit *test)
{
	struct kvm_clock_guest saved = {}, now;
	u32 mult, shift, mul;
	struct rnd_state rnd;
	unsigned int i, j;
	u64 tsc, later;
	s64 diff;
	s8 sh;

	prandom_seed_state(&rnd, SEED + 2);
	for (i = 0; i < 2000; i++) {
		tsc_mult_shift(MIN_KHZ + rand_below(&rnd, MAX_KHZ - MIN_KHZ + 1),
			       &mult, &shift);
		KUNIT_ASSERT_TRUE(test, kvm_pvclock_scale(mult, shift, 1, 0,
							  &sh, &mul));
		saved.tsc_to_system_mul = mul;
		saved.tsc_shift = sh;
		saved.tsc_timestamp = BIT_ULL(50) + rand_below(&rnd, BIT_ULL(50));
		saved.system_time = BIT_ULL(60) + rand_below(&rnd, BIT_ULL(55));

		/* Up to 2^44 cycles (hours) either side of the timestamp. */
		tsc = saved.tsc_timestamp - BIT_ULL(44) + rand_below(&rnd, BIT_ULL(45));
		now = saved;
		now.tsc_timestamp = tsc;
		now.system_time = kvm_clock_guest_at(&saved, tsc);
		for (j = 0; j < 8; j++) {
			later = tsc + rand_below(&rnd, BIT_ULL(4 + 5 * j));
			diff = kvm_clock_guest_at(&now, later) -
			       kvm_clock_guest_at(&saved, later);
			if (diff < -1 || diff > 1)
				KUNIT_FAIL(test, "TSC %#llx from %#llx: %lld ns off at %#llx",
					   tsc, saved.tsc_timestamp, diff, later);
		}
	}

	KUNIT_EXPECT_TRUE(test, kvm_clock_rates_close(mul, sh, mul + (mul >> 21), sh));
	KUNIT_EXPECT_TRUE(test, kvm_clock_rates_close(mul, sh, mul / 2, sh + 1));
	KUNIT_EXPECT_FALSE(test, kvm_clock_rates_close(mul, sh, mul + (mul >> 18), sh));
	KUNIT_EXPECT_FALSE(test, kvm_clock_rates_close(mul, sh, mul - (mul >> 18), sh));
	KUNIT_EXPECT_FALSE(test, kvm_clock_rates_close(mul, -31, mul, 31));
}

/*
 * KVM_CAP_X86_CLOCK_RATE: kvm_clock_scale() for a VM whose clock runs N
 * times as fast as the host's, on a TSC or a Hyper-V TSC page host, unscaled
 * or scaled: within 2^-32 of N times the host clock's rate, exact where an
 * unscaled N * mult fits in 32 bits, and N = 1 exactly kvm_pvclock_scale().
 */
static void kvmclock_test_rate(struct kunit *test)
{
	static const u32 rates[] = { 1, 2, 3, 10, 100, 257, 997, 1000 };
	const struct scaling *p = test->param_value;
	const u64 one = BIT_ULL(p->frac_bits);
	u32 khz, mult, shift, tsc_mul, mul1, i, j, k, exact = 0, n = 0;
	u64 ratio, rate_mult, want_mult;
	u32 rate_shift;
	s8 tsc_shift, sh1;
	struct rnd_state rnd;
	u128 got, want;
	int e;

	prandom_seed_state(&rnd, SEED + p->frac_bits + 3);
	for (i = 0; i < 200; i++) {
		khz = i < ARRAY_SIZE(odd_khz) ? odd_khz[i] :
		      MIN_KHZ + rand_below(&rnd, MAX_KHZ - MIN_KHZ + 1);
		for (j = 0; j < ARRAY_SIZE(rates); j++) {
			for (k = 0; k < 4; k++) {
				ratio = k == 0 ? one : k == 1 ? one * 3 / 2 :
					one / 4 + rand_below(&rnd, one * 4);
				if (k == 3) {
					hv_rate(khz, &rate_mult, &rate_shift);
				} else {
					tsc_mult_shift(khz, &mult, &shift);
					rate_mult = mult;
					rate_shift = shift;
				}
				kvm_clock_scale(rates[j], rate_mult, rate_shift,
						ratio, p->frac_bits, khz,
						&tsc_shift, &tsc_mul);
				n++;

				/* N * rate_mult * 2^frac / (ratio * 2^shift). */
				e = 32 + p->frac_bits - rate_shift - tsc_shift;
				got = (u128)tsc_mul * ratio;
				want = (u128)rate_mult * rates[j];
				if (e >= 0)
					want <<= e;
				else
					got <<= -e;
				want_mult = rate_mult * rates[j];
				if (k == 0 && rate_mult <= U32_MAX &&
				    want_mult <= U32_MAX) {
					exact += got == want;
					if (got != want)
						KUNIT_FAIL(test,
							   "%u kHz, rate %u: mul %u shift %d is not exact",
							   khz, rates[j], tsc_mul, tsc_shift);
				}
				if ((got > want ? got - want : want - got) >
				    (want >> 32) + (want >> 50) + 1)
					KUNIT_FAIL(test,
						   "%u kHz, rate %u, ratio %#llx%s: mul %u shift %d is off by more than 2^-32",
						   khz, rates[j], ratio,
						   k == 3 ? ", Hyper-V" : "",
						   tsc_mul, tsc_shift);

				if (rates[j] != 1)
					continue;
				KUNIT_ASSERT_TRUE(test, kvm_pvclock_scale(rate_mult, rate_shift,
									  ratio, p->frac_bits,
									  &sh1, &mul1));
				KUNIT_EXPECT_TRUE(test, mul1 == tsc_mul && sh1 == tsc_shift);
			}
		}
	}
	kunit_info(test, "%s: %u conversions within 2^-32, %u of them exact as expected\n",
		   p->name, n, exact);
}

/* What kvm_pvclock_scale() cannot express must be refused, not guessed. */
static void kvmclock_test_rejected(struct kunit *test)
{
	u32 mult, shift, tsc_mul = 0;
	s8 tsc_shift = 0;

	tsc_mult_shift(2445411, &mult, &shift);

	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(0, shift, 1, 0, &tsc_shift,
						   &tsc_mul));
	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(mult, shift, 0, 0,
						   &tsc_shift, &tsc_mul));
	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(mult, shift, 0, 48,
						   &tsc_shift, &tsc_mul));
	/* Slower than 1 ns per 2^31 cycles, faster than 2^31 ns per cycle. */
	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(1, 64, 1, 0, &tsc_shift,
						   &tsc_mul));
	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(U32_MAX, 0, 1, 0,
						   &tsc_shift, &tsc_mul));
	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(mult, 200, 1, 0,
						   &tsc_shift, &tsc_mul));

	/* Just inside: tsc_shift stays within [-31, 31]. */
	KUNIT_EXPECT_TRUE(test, kvm_pvclock_scale(1, 32, 1, 0, &tsc_shift,
						  &tsc_mul));
	KUNIT_EXPECT_TRUE(test, kvm_pvclock_scale(U32_MAX, 1, 1, 0,
						  &tsc_shift, &tsc_mul));
	KUNIT_EXPECT_LE(test, tsc_shift, 31);
}

static struct kunit_case kvmclock_test_cases[] = {
	KUNIT_CASE(kvmclock_test_unscaled),
	KUNIT_CASE_PARAM(kvmclock_test_scaled, scaling_gen_params),
	KUNIT_CASE_PARAM(kvmclock_test_hyperv, scaling_gen_params),
	KUNIT_CASE_PARAM(kvmclock_test_read, scaling_gen_params),
	KUNIT_CASE(kvmclock_test_rejected),
	KUNIT_CASE_PARAM(kvmclock_test_migration, scaling_gen_params),
	KUNIT_CASE(kvmclock_test_clock_guest),
	KUNIT_CASE_PARAM(kvmclock_test_rate, scaling_gen_params),
	{}
};

static struct kunit_suite kvmclock_test_suite = {
	.name = "kvm_x86_kvmclock",
	.test_cases = kvmclock_test_cases,
};

kunit_test_suite(kvmclock_test_suite);

MODULE_DESCRIPTION("KUnit tests for kvmclock's rate and KVM's reads of it");
MODULE_LICENSE("GPL");
