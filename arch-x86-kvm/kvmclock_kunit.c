// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for kvm_pvclock_scale(), the conversion of the host's TSC
 * clocksource mult/shift into kvmclock's tsc_to_system_mul/tsc_shift.
 *
 * Included at the end of x86.c so that the tests can call the static
 * function; built only with CONFIG_KVM_KVMCLOCK_KUNIT_TEST.
 */

#include <kunit/test.h>
#include <linux/prandom.h>

#define KVMCLOCK_TEST_SEED		0x6b766d636c6f636bULL
#define KVMCLOCK_TEST_MIN_KHZ		1000000
#define KVMCLOCK_TEST_MAX_KHZ		5000000
#define KVMCLOCK_TEST_SECS_PER_YEAR	(365ULL * 24 * 60 * 60)
/* Report only the first few mismatches of a case, not thousands. */
#define KVMCLOCK_TEST_MAX_REPORTS	5

/* TSC frequencies that are not a round number of MHz. */
static const u32 kvmclock_test_odd_khz[] = {
	1000001, 1193182, 1799999, 2099998, 2445411, 2893300, 3192614,
	3399987, 3700019, 4199996, 4999999,
};

/*
 * The TSC clocksource's mult and shift for @khz: clocksource_register_khz()
 * ends in __clocksource_update_freq_scale(cs, 1000, khz), which for a 64-bit
 * mask caps the conversion range at 600 seconds, then halves mult until
 * mult +/- 11% (clocksource_max_adjustment()) fits in 32 bits.
 */
static void kvmclock_test_tsc_mult_shift(u32 khz, u32 *mult, u32 *shift)
{
	clocks_calc_mult_shift(mult, shift, khz, NSEC_PER_SEC / 1000,
			       600 * 1000);

	while ((u64)*mult + div_u64((u64)*mult * 11, 100) > U32_MAX) {
		*mult >>= 1;
		(*shift)--;
	}
}

/* A pseudo-random number in [0, @range). */
static u64 kvmclock_test_rand(struct rnd_state *rnd, u64 range)
{
	u64 r = (u64)prandom_u32_state(rnd) << 32 | prandom_u32_state(rnd);

	return mul_u64_u64_shr(r, range, 64);
}

/*
 * Does kvmclock, read as the guest reads it (__pvclock_read_cycles()), give
 * the same nanoseconds for @delta cycles as the clocksource itself?
 */
static bool kvmclock_test_exact(struct kunit *test, unsigned int *bad, u32 khz,
				u32 mult, u32 shift, u32 tsc_mul, s8 tsc_shift,
				u64 delta)
{
	u64 want = mul_u64_u32_shr(delta, mult, shift);
	u64 got = pvclock_scale_delta(delta, tsc_mul, tsc_shift);

	if (likely(got == want))
		return true;

	if ((*bad)++ < KVMCLOCK_TEST_MAX_REPORTS)
		KUNIT_FAIL(test,
			   "%u kHz, mult %u shift %u -> mul %u shift %d: %llu cycles are %llu ns, kvmclock says %llu ns",
			   khz, mult, shift, tsc_mul, tsc_shift, delta, want, got);
	return false;
}

/* Checks one frequency; returns the number of deltas it tried. */
static unsigned int kvmclock_test_unscaled_khz(struct kunit *test,
					       struct rnd_state *rnd,
					       unsigned int *bad, u32 khz)
{
	u64 hz = (u64)khz * 1000;
	u64 year = hz * KVMCLOCK_TEST_SECS_PER_YEAR;
	const u64 edges[] = { 0, 1, hz - 1, hz, 600 * hz, year - 1, year };
	unsigned int i, n = 0;
	u32 mult, shift, tsc_mul;
	s8 tsc_shift;
	u64 delta;

	kvmclock_test_tsc_mult_shift(khz, &mult, &shift);
	if (!kvm_pvclock_scale(mult, shift, 1, 0, &tsc_shift, &tsc_mul)) {
		if ((*bad)++ < KVMCLOCK_TEST_MAX_REPORTS)
			KUNIT_FAIL(test, "%u kHz, mult %u shift %u: rejected",
				   khz, mult, shift);
		return 0;
	}

	for (i = 0; i < ARRAY_SIZE(edges); i++, n++)
		kvmclock_test_exact(test, bad, khz, mult, shift, tsc_mul,
				    tsc_shift, edges[i]);

	/* All bits of mult meet all bits of the delta. */
	for (delta = 2; delta <= year; delta <<= 1, n += 2) {
		kvmclock_test_exact(test, bad, khz, mult, shift, tsc_mul,
				    tsc_shift, delta);
		kvmclock_test_exact(test, bad, khz, mult, shift, tsc_mul,
				    tsc_shift, delta - 1);
	}

	for (i = 0; i < 8; i++, n++)
		kvmclock_test_exact(test, bad, khz, mult, shift, tsc_mul,
				    tsc_shift, kvmclock_test_rand(rnd, year));
	return n;
}

/*
 * Without TSC scaling, kvmclock must count exactly what the host's clock
 * counts: bit for bit the same nanoseconds for any delta up to a year, at
 * every TSC frequency from 1 to 5 GHz.
 */
static void kvmclock_test_unscaled(struct kunit *test)
{
	unsigned int i, freqs = 0, deltas = 0, bad = 0;
	struct rnd_state rnd;
	u32 khz;

	prandom_seed_state(&rnd, KVMCLOCK_TEST_SEED);

	for (khz = KVMCLOCK_TEST_MIN_KHZ; khz <= KVMCLOCK_TEST_MAX_KHZ;
	     khz += 1000, freqs++)
		deltas += kvmclock_test_unscaled_khz(test, &rnd, &bad, khz);

	for (i = 0; i < ARRAY_SIZE(kvmclock_test_odd_khz); i++, freqs++)
		deltas += kvmclock_test_unscaled_khz(test, &rnd, &bad,
						     kvmclock_test_odd_khz[i]);

	for (i = 0; i < 256; i++, freqs++) {
		khz = KVMCLOCK_TEST_MIN_KHZ +
		      kvmclock_test_rand(&rnd, KVMCLOCK_TEST_MAX_KHZ -
						KVMCLOCK_TEST_MIN_KHZ + 1);
		deltas += kvmclock_test_unscaled_khz(test, &rnd, &bad, khz);
	}

	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "%u of %u conversions are not exact",
			    bad, deltas);
	kunit_info(test, "%u frequencies, %u deltas: %u not exact\n",
		   freqs, deltas, bad);
}

struct kvmclock_test_scaling {
	const char *name;
	unsigned int frac_bits;
};

/* The fraction bits of the TSC ratio MSR of each vendor. */
static const struct kvmclock_test_scaling kvmclock_test_scalings[] = {
	{ .name = "AMD", .frac_bits = 32 },
	{ .name = "Intel", .frac_bits = 48 },
};

static void kvmclock_test_scaling_desc(const struct kvmclock_test_scaling *p,
				       char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s, %u fraction bits", p->name,
		 p->frac_bits);
}

KUNIT_ARRAY_PARAM(kvmclock_test_scaling, kvmclock_test_scalings,
		  kvmclock_test_scaling_desc);

struct kvmclock_test_worst {
	u64 drift_fs;	/* femtoseconds per second */
	u32 khz;
	u64 ratio;
	unsigned int n;
	unsigned int bad;
};

/*
 * Checks one scaled conversion against the exact ns per guest cycle,
 * mult * 2^frac_bits / (ratio * 2^shift), and keeps the worst drift.
 */
static void kvmclock_test_scaled_one(struct kunit *test,
				     struct kvmclock_test_worst *worst,
				     unsigned int frac_bits, u32 khz, u32 mult,
				     u32 shift, u64 ratio)
{
	u128 got, want, diff;
	u32 tsc_mul;
	s8 tsc_shift;
	u64 drift;
	int k, t;

	worst->n++;
	if (!kvm_pvclock_scale(mult, shift, ratio, frac_bits, &tsc_shift,
			       &tsc_mul)) {
		if (worst->bad++ < KVMCLOCK_TEST_MAX_REPORTS)
			KUNIT_FAIL(test, "%u kHz, mult %u shift %u, ratio %#llx: rejected",
				   khz, mult, shift, ratio);
		return;
	}

	/*
	 * tsc_mul * 2^(tsc_shift - 32) against the exact value, both
	 * multiplied by ratio * 2^(32 + frac_bits - shift - tsc_shift).
	 */
	k = 32 + frac_bits - shift - tsc_shift;
	if (k < 0 || k > 95) {
		if (worst->bad++ < KVMCLOCK_TEST_MAX_REPORTS)
			KUNIT_FAIL(test,
				   "%u kHz, mult %u shift %u, ratio %#llx: mul %u shift %d is out of range",
				   khz, mult, shift, ratio, tsc_mul, tsc_shift);
		return;
	}
	got = (u128)tsc_mul * ratio;
	want = (u128)mult << k;
	diff = got > want ? got - want : want - got;

	/* A relative error below 2^-31: diff * 2^31 < want. */
	if (diff > (want - 1) >> 31) {
		if (worst->bad++ < KVMCLOCK_TEST_MAX_REPORTS)
			KUNIT_FAIL(test,
				   "%u kHz, mult %u shift %u, ratio %#llx: mul %u shift %d is off by more than 2^-31",
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

/* Prints a drift in femtoseconds per second as ns after @secs seconds. */
static void kvmclock_test_step(char *buf, size_t size, u64 drift_fs,
			       unsigned int secs)
{
	u64 ps = div_u64(drift_fs * secs, 1000);

	snprintf(buf, size, "%llu.%03llu ns after %u s", div_u64(ps, 1000),
		 ps % 1000, secs);
}

/* All scaled conversions of one frequency. */
static void kvmclock_test_scaled_khz(struct kunit *test,
				     struct kvmclock_test_worst *worst,
				     struct rnd_state *rnd,
				     unsigned int frac_bits, u32 khz)
{
	const u64 one = BIT_ULL(frac_bits);
	u32 mult, shift, tsc_mul, tsc_mul1;
	s8 tsc_shift, tsc_shift1;
	unsigned int i;

	kvmclock_test_tsc_mult_shift(khz, &mult, &shift);

	/* A ratio of exactly 1.0 takes the exact path. */
	KUNIT_ASSERT_TRUE(test, kvm_pvclock_scale(mult, shift, one, frac_bits,
						  &tsc_shift, &tsc_mul));
	KUNIT_ASSERT_TRUE(test, kvm_pvclock_scale(mult, shift, 1, 0,
						  &tsc_shift1, &tsc_mul1));
	KUNIT_EXPECT_EQ_MSG(test, tsc_mul, tsc_mul1,
			    "%u kHz: a ratio of 1.0 is not exact", khz);
	KUNIT_EXPECT_EQ_MSG(test, tsc_shift, tsc_shift1,
			    "%u kHz: a ratio of 1.0 is not exact", khz);

	/* 1/4 to 4 in steps of 1/64, just off 1.0, and any fraction. */
	for (i = 16; i <= 256; i++)
		kvmclock_test_scaled_one(test, worst, frac_bits, khz, mult,
					 shift, (u64)i << (frac_bits - 6));
	kvmclock_test_scaled_one(test, worst, frac_bits, khz, mult, shift,
				 one - 1);
	kvmclock_test_scaled_one(test, worst, frac_bits, khz, mult, shift,
				 one + 1);
	for (i = 0; i < 64; i++)
		kvmclock_test_scaled_one(test, worst, frac_bits, khz, mult,
					 shift, one / 4 +
					 kvmclock_test_rand(rnd, one * 15 / 4 + 1));
}

/*
 * With TSC scaling, kvmclock cannot be exact, but it must not drift from
 * the host's clock by 2^-31 (0.47 ns per second) or more for any guest TSC
 * rate from 1/4 to 4 times the host's, in either vendor's ratio format.
 */
static void kvmclock_test_scaled(struct kunit *test)
{
	const struct kvmclock_test_scaling *p = test->param_value;
	struct kvmclock_test_worst worst = {};
	char s1[48], s10[48], s300[48];
	struct rnd_state rnd;
	unsigned int i;
	u32 khz;

	prandom_seed_state(&rnd, KVMCLOCK_TEST_SEED + p->frac_bits);

	for (khz = KVMCLOCK_TEST_MIN_KHZ; khz <= KVMCLOCK_TEST_MAX_KHZ;
	     khz += 50000)
		kvmclock_test_scaled_khz(test, &worst, &rnd, p->frac_bits, khz);
	for (i = 0; i < ARRAY_SIZE(kvmclock_test_odd_khz); i++)
		kvmclock_test_scaled_khz(test, &worst, &rnd, p->frac_bits,
					 kvmclock_test_odd_khz[i]);

	KUNIT_EXPECT_EQ_MSG(test, worst.bad, 0,
			    "%u of %u scaled conversions are off", worst.bad,
			    worst.n);

	kvmclock_test_step(s1, sizeof(s1), worst.drift_fs, 1);
	kvmclock_test_step(s10, sizeof(s10), worst.drift_fs, 10);
	kvmclock_test_step(s300, sizeof(s300), worst.drift_fs,
			   KVMCLOCK_SYNC_PERIOD_SECS);
	kunit_info(test,
		   "%s: %u conversions, worst drift %llu.%06llu ns/s (%u kHz, ratio %#llx): %s, %s, %s\n",
		   p->name, worst.n, div_u64(worst.drift_fs, 1000000),
		   worst.drift_fs % 1000000, worst.khz, worst.ratio, s1, s10,
		   s300);
}

/* What kvm_pvclock_scale() cannot express must be refused, not guessed. */
static void kvmclock_test_rejected(struct kunit *test)
{
	u32 mult, shift, tsc_mul = 0;
	s8 tsc_shift = 0;

	kvmclock_test_tsc_mult_shift(2445411, &mult, &shift);

	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(0, shift, 1, 0, &tsc_shift,
						   &tsc_mul));
	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(0, shift, 1ULL << 31, 32,
						   &tsc_shift, &tsc_mul));
	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(mult, 33, 1, 0, &tsc_shift,
						   &tsc_mul));
	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(mult, 64, 1ULL << 33, 32,
						   &tsc_shift, &tsc_mul));
	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(mult, U32_MAX, 1, 0,
						   &tsc_shift, &tsc_mul));
	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(mult, shift, 0, 0,
						   &tsc_shift, &tsc_mul));
	KUNIT_EXPECT_FALSE(test, kvm_pvclock_scale(mult, shift, 0, 48,
						   &tsc_shift, &tsc_mul));

	/* The limits themselves are fine. */
	KUNIT_EXPECT_TRUE(test, kvm_pvclock_scale(1, 32, 1, 0, &tsc_shift,
						  &tsc_mul));
	KUNIT_EXPECT_TRUE(test, kvm_pvclock_scale(U32_MAX, 0, 1, 0, &tsc_shift,
						  &tsc_mul));
}

static struct kunit_case kvmclock_test_cases[] = {
	KUNIT_CASE(kvmclock_test_unscaled),
	KUNIT_CASE_PARAM(kvmclock_test_scaled, kvmclock_test_scaling_gen_params),
	KUNIT_CASE(kvmclock_test_rejected),
	{}
};

static struct kunit_suite kvmclock_test_suite = {
	.name = "kvm_x86_kvmclock",
	.test_cases = kvmclock_test_cases,
};

kunit_test_suite(kvmclock_test_suite);
