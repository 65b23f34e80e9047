// SPDX-License-Identifier: GPL-2.0-only
/*
 * clockcheck: time as a Linux guest's applications see it.
 *
 * Runs in the real guest (L2) of the 'realguest' runs, a Linux guest with
 * kvm-clock under QEMU -accel kvm.  One thread per CPU, all at once, reads
 * CLOCK_MONOTONIC and CLOCK_MONOTONIC_RAW through the vDSO and checks each
 * reading against the largest one any thread published before it: a lower
 * one is time going backwards, whichever CPU took the earlier reading.
 *
 * The vDSO hides small steps (it clamps at cycle_last, and two readings are
 * microseconds apart under nested TCG), so each thread also watches its
 * CPU's pvclock page where the vDSO reads it (the [vvar] area) and, when the
 * parameters change, evaluates the old and the new ones at one TSC value:
 * the step the guest's clock took at that update, in ns.
 *
 * Layout of [vvar] as of Linux 6.12 (the guest runs this tree's kernel):
 * struct vdso_data at offset 128 of the first page, the pvclock page next,
 * one 64-byte pvclock_vsyscall_time_info per CPU.
 *
 * Usage: clockcheck [-t SECONDS] [-m MAX_NS] [-b NS] [-a] [-M]
 *   -t  how long to read (guest CLOCK_MONOTONIC), default 10
 *   -m  largest pvclock step allowed either way, default 1: a kvm-clock
 *       update that is not meant to move the clock moves it by at most the
 *       1 ns of system_time's rounding
 *   -b  inject a fault: the last CPU's readings are NS lower (the checker
 *       must then fail; proves it can)
 *   -a  any clocksource and vDSO mode (for a run outside a kvm-clock guest)
 *   -M  the VM is stopped and continued (a migration) meanwhile: also read
 *       CLOCK_REALTIME, report how far both clocks advanced across the stop
 *       (the gap between the readings around it), how far the TSC ran ahead
 *       of kvmclock over the run (first pvclock parameters against the last,
 *       at one TSC value), and whether the vDSO still reads pvclock at the
 *       end: its clock mode, the stable bit of the pvclock entry it reads
 *       (CPU 0's), and its clock_gettime() timed against the syscall's
 *       (200 x 1000 calls each); and CPU 0's kvmclock rate (its pvclock
 *       tsc_to_system_mul and tsc_shift)
 * Exit status 0 when nothing went backwards, 1 otherwise, 2 on usage or
 * setup errors.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define VDSO_DATA_OFFSET 128
#define VDSO_CLOCKMODE_PVCLOCK 2
#define PVTI_STRIDE 64
#define MAX_CPUS 64
#define MAX_CHANGES 4096
#define PVCLOCK_TSC_STABLE_BIT (1 << 0)
#define PVCLOCK_GUEST_STOPPED (1 << 1)
#define TIMED_BLOCKS 200
#define TIMED_CALLS 1000	/* per block */

struct pvti {			/* struct pvclock_vcpu_time_info */
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
};

struct change {
	int cpu;
	int64_t at_ns;		/* guest CLOCK_MONOTONIC when it was seen */
	int64_t step_ns;	/* new minus old parameters, at one TSC */
	bool stopped;		/* the first update after a VM stop */
};

typedef int (*gettime_fn)(clockid_t, struct timespec *);

static gettime_fn vdso_gettime;
static const volatile uint8_t *pvclock_page;
static int64_t run_ns = 10LL * 1000000000, max_step = 1, inject_ns;
static bool migration;
static int ncpus;
static pthread_barrier_t start;

static const clockid_t clocks[2] = { CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW };
static const char *const clock_names[2] = { "MONOTONIC", "MONOTONIC_RAW" };
/* Per clock: the largest reading published, and what went wrong. */
static _Atomic int64_t latest[2];
static _Atomic uint64_t backwards[2];
static _Atomic int64_t worst_back[2];

static struct change changes[MAX_CHANGES];
static _Atomic int nchanges;

struct thread {
	pthread_t tid;
	int cpu;
	uint64_t reads;
	int64_t gap_ns, gap_at;	/* largest gap between two readings */
	/* With -M: the gaps around the VM stop; TSC minus kvmclock at the end. */
	int64_t stop_gap[2];
	int64_t tsc_ahead_ns;
};

static void die(const char *what)
{
	fprintf(stderr, "clockcheck: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
	exit(2);
}

/* The vDSO's clock_gettime, found in its dynamic symbol table. */
static gettime_fn find_vdso_gettime(void)
{
	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Phdr *ph;
	const Elf64_Dyn *dyn = NULL;
	const Elf64_Sym *sym = NULL;
	const uint32_t *hash = NULL;
	const char *str = NULL;
	uintptr_t load = 0;
	int i;

	if (!base)
		return NULL;
	ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !load)
			load = base + ph[i].p_offset - ph[i].p_vaddr;
		else if (ph[i].p_type == PT_DYNAMIC)
			dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
	}
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_SYMTAB)
			sym = (const Elf64_Sym *)(load + dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_STRTAB)
			str = (const char *)(load + dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_HASH)
			hash = (const uint32_t *)(load + dyn->d_un.d_ptr);
	}
	if (!sym || !str || !hash)
		return NULL;
	for (i = 0; i < (int)hash[1]; i++)	/* nchain: the number of symbols */
		if (!strcmp(str + sym[i].st_name, "__vdso_clock_gettime"))
			return (gettime_fn)(load + sym[i].st_value);
	return NULL;
}

static const volatile uint8_t *find_vvar(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[256];
	unsigned long lo = 0;

	if (!f)
		die("/proc/self/maps");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vvar]")) {
			sscanf(line, "%lx-", &lo);
			break;
		}
	fclose(f);
	return (const volatile uint8_t *)lo;
}

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (f) {
		if (fgets(buf, len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

static int64_t now(clockid_t c)
{
	struct timespec ts;

	vdso_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* A consistent copy of a pvclock entry (the odd/even version protocol). */
static struct pvti snapshot(const volatile struct pvti *p)
{
	struct pvti s;
	uint32_t v;

	do {
		v = p->version;
		atomic_thread_fence(memory_order_acquire);
		memcpy(&s, (const void *)p, sizeof(s));
		atomic_thread_fence(memory_order_acquire);
	} while ((v & 1) || v != p->version);
	return s;
}

static int64_t pvclock_ns(const struct pvti *p, uint64_t tsc)
{
	uint64_t delta = tsc - p->tsc_timestamp;

	if (p->tsc_shift < 0)
		delta >>= -p->tsc_shift;
	else
		delta <<= p->tsc_shift;
	return p->system_time + (uint64_t)(((unsigned __int128)delta * p->tsc_to_system_mul) >> 32);
}

static bool same_params(const struct pvti *a, const struct pvti *b)
{
	return a->tsc_timestamp == b->tsc_timestamp && a->system_time == b->system_time &&
	       a->tsc_to_system_mul == b->tsc_to_system_mul && a->tsc_shift == b->tsc_shift &&
	       a->flags == b->flags;
}

static void check(int c, int64_t floor, int64_t t)
{
	int64_t cur;

	if (t < floor) {
		atomic_fetch_add(&backwards[c], 1);
		cur = atomic_load(&worst_back[c]);
		while (floor - t > cur && !atomic_compare_exchange_weak(&worst_back[c], &cur, floor - t))
			;
	}
	cur = atomic_load(&latest[c]);
	while (t > cur && !atomic_compare_exchange_weak(&latest[c], &cur, t))
		;
}

static void *reader(void *arg)
{
	struct thread *th = arg;
	const volatile struct pvti *mine = NULL;
	struct pvti first = { 0 }, last = { 0 }, cur;
	int64_t end, prev = 0, prev_real = 0, mono = 0, t, floor, skew, gap[2] = { 0, 0 };
	int stop_iterations = 0;
	bool stopped;
	cpu_set_t set;
	uint64_t tsc;
	int c, i;

	CPU_ZERO(&set);
	CPU_SET(th->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
	if (pvclock_page) {
		mine = (const volatile struct pvti *)(pvclock_page + th->cpu * PVTI_STRIDE);
		last = first = snapshot(mine);
	}
	skew = th->cpu == ncpus - 1 ? inject_ns : 0;
	pthread_barrier_wait(&start);
	end = now(CLOCK_MONOTONIC) + run_ns;

	for (;;) {
		for (c = 0; c < 2; c++) {
			/*
			 * The floor is read before the clock: every reading
			 * published by then was taken before this one.
			 */
			floor = atomic_load_explicit(&latest[c], memory_order_acquire);
			t = now(clocks[c]) - skew;
			check(c, floor, t);
			if (c == 0) {
				mono = t;
				gap[0] = prev ? t - prev : 0;
				if (gap[0] > th->gap_ns) {
					th->gap_ns = gap[0];
					th->gap_at = t;
				}
				prev = t;
			}
		}
		th->reads++;
		if (migration) {
			t = now(CLOCK_REALTIME);
			gap[1] = prev_real ? t - prev_real : 0;
			prev_real = t;
		}
		stopped = false;
		if (mine) {
			cur = snapshot(mine);
			if (!same_params(&cur, &last)) {
				tsc = rdtsc_ordered();
				stopped = (cur.flags & ~last.flags) & PVCLOCK_GUEST_STOPPED;
				i = atomic_fetch_add(&nchanges, 1);
				if (i < MAX_CHANGES)
					changes[i] = (struct change){ th->cpu, mono,
						pvclock_ns(&cur, tsc) - pvclock_ns(&last, tsc), stopped };
				last = cur;
			}
		}
		/*
		 * The update after a VM stop is in place before the guest runs
		 * again: the stop lies in the gaps of the iteration that saw it
		 * or of the next one.
		 */
		if (stopped)
			stop_iterations = 2;
		for (c = 0; stop_iterations && c < 2; c++)
			if (gap[c] > th->stop_gap[c])
				th->stop_gap[c] = gap[c];
		if (stop_iterations)
			stop_iterations--;
		if (mono >= end)
			break;
	}
	/* How far the TSC ran ahead of kvmclock: old parameters against new. */
	if (mine) {
		tsc = rdtsc_ordered();
		cur = snapshot(mine);
		th->tsc_ahead_ns = pvclock_ns(&first, tsc) - pvclock_ns(&cur, tsc);
	}
	return NULL;
}

/*
 * With -M, at the end: does the vDSO still read pvclock?  Exactly: its clock
 * mode is pvclock and the entry it reads (CPU 0's) has the stable bit, else
 * vread_pvclock() makes it fall back to the syscall.  Timed too: the vDSO's
 * clock_gettime() against the syscall's, in alternating blocks of calls,
 * each the fastest block (what a loaded host slows down least).
 */
static void vdso_report(const volatile uint8_t *vvar)
{
	int mode = vvar ? *(const volatile int32_t *)(vvar + VDSO_DATA_OFFSET + 4) : -1;
	bool stable = pvclock_page &&
		(snapshot((const volatile struct pvti *)pvclock_page).flags & PVCLOCK_TSC_STABLE_BIT);
	bool pvclock = mode == VDSO_CLOCKMODE_PVCLOCK && stable;
	/* Mode 0 is VDSO_CLOCKMODE_NONE: always the syscall. */
	bool fast = mode == VDSO_CLOCKMODE_PVCLOCK ? stable : mode > 0;
	int64_t best[2] = { INT64_MAX, INT64_MAX }, t;
	struct timespec ts;
	int b, m, i;

	for (b = 0; b < TIMED_BLOCKS; b++)
		for (m = 0; m < 2; m++) {
			t = now(CLOCK_MONOTONIC);
			for (i = 0; i < TIMED_CALLS; i++)
				if (m == 0)
					vdso_gettime(CLOCK_MONOTONIC, &ts);
				else
					syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
			t = now(CLOCK_MONOTONIC) - t;
			if (t < best[m])
				best[m] = t;
		}
	printf("clockcheck: vDSO at the end: clock mode %d, stable bit %s: %s; clock_gettime()"
	       " %.0f ns/call through the vDSO, %.0f ns/call through the syscall (fastest of %d"
	       " blocks of %d calls each; timing %s)\n",
	       mode, stable ? "set" : "clear", pvclock ? "reads pvclock" :
	       mode == VDSO_CLOCKMODE_PVCLOCK ? "falls back to the syscall" : "does not read pvclock",
	       (double)best[0] / TIMED_CALLS, (double)best[1] / TIMED_CALLS, TIMED_BLOCKS,
	       TIMED_CALLS, (best[0] < best[1] / 2) == fast ? "agrees" : "disagrees");
}

int main(int argc, char **argv)
{
	struct thread th[MAX_CPUS];
	char cs_before[64], cs_after[64];
	int64_t t0, min_step = 0, max_step_seen = 0, gap = 0, gap_at = 0, stop_gap[2] = { 0, 0 };
	uint64_t reads = 0;
	const volatile uint8_t *vvar;
	bool any = false, fail = false;
	int opt, i, n, stops = 0, mode = -1;

	while ((opt = getopt(argc, argv, "t:m:b:aM")) != -1) {
		switch (opt) {
		case 't': run_ns = (int64_t)(atof(optarg) * 1e9); break;
		case 'm': max_step = atoll(optarg); break;
		case 'b': inject_ns = atoll(optarg); break;
		case 'a': any = true; break;
		case 'M': migration = true; break;
		default:
			fprintf(stderr, "usage: %s [-t SECONDS] [-m MAX_NS] [-b NS] [-a] [-M]\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	vdso_gettime = find_vdso_gettime();
	if (!vdso_gettime)
		die("no __vdso_clock_gettime in the vDSO");
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpus < 1 || ncpus > MAX_CPUS)
		die("unsupported number of CPUs");

	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  cs_before, sizeof(cs_before));
	vvar = find_vvar();
	if (vvar)
		mode = *(const volatile int32_t *)(vvar + VDSO_DATA_OFFSET + 4);
	/* The pvclock page faults (SIGBUS) unless the vDSO used pvclock mode. */
	if (mode == VDSO_CLOCKMODE_PVCLOCK)
		pvclock_page = vvar + PAGE;
	printf("clockcheck: clocksource %s, vDSO clock mode %d (%s), %d CPUs, %.1f s\n",
	       cs_before, mode, mode == VDSO_CLOCKMODE_PVCLOCK ? "pvclock" : "not pvclock",
	       ncpus, run_ns / 1e9);
	if (!any && strcmp(cs_before, "kvm-clock")) {
		printf("clockcheck: FAIL: the clocksource is %s, not kvm-clock\n", cs_before);
		return 1;
	}
	if (!any && !pvclock_page) {
		printf("clockcheck: FAIL: the vDSO does not read kvm-clock (no stable bit?)\n");
		return 1;
	}

	pthread_barrier_init(&start, NULL, ncpus + 1);
	for (i = 0; i < ncpus; i++) {
		th[i] = (struct thread){ .cpu = i };
		if (pthread_create(&th[i].tid, NULL, reader, &th[i]))
			die("pthread_create");
	}
	pthread_barrier_wait(&start);
	t0 = now(CLOCK_MONOTONIC);
	printf("clockcheck: start\n");
	for (i = 0; i < ncpus; i++) {
		pthread_join(th[i].tid, NULL);
		reads += th[i].reads;
		if (th[i].gap_ns > gap) {
			gap = th[i].gap_ns;
			gap_at = th[i].gap_at;
		}
		for (n = 0; n < 2; n++)
			if (th[i].stop_gap[n] > stop_gap[n])
				stop_gap[n] = th[i].stop_gap[n];
	}
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  cs_after, sizeof(cs_after));

	/*
	 * A VM stop (the VMM's KVM_KVMCLOCK_CTRL sets PVCLOCK_GUEST_STOPPED)
	 * is not a step: the VMM resumes kvmclock where it stopped, while the
	 * TSC may have run on, so the old parameters at the new TSC say how
	 * far the TSC ran ahead of kvmclock.  The readings judge it.
	 */
	n = atomic_load(&nchanges);
	for (i = 0; i < n && i < MAX_CHANGES; i++) {
		if (changes[i].stopped) {
			stops++;
			printf("clockcheck: pvclock update %d: vCPU %d at %.3f s, after a VM stop:"
			       " the TSC ran %.3f ms ahead of kvmclock (step %" PRId64 " ns)\n",
			       i + 1, changes[i].cpu, (changes[i].at_ns - t0) / 1e9,
			       -changes[i].step_ns / 1e6, changes[i].step_ns);
			continue;
		}
		if (changes[i].step_ns < min_step)
			min_step = changes[i].step_ns;
		if (changes[i].step_ns > max_step_seen)
			max_step_seen = changes[i].step_ns;
		if (i < 40)
			printf("clockcheck: pvclock update %d: vCPU %d at %.3f s, step %" PRId64 " ns\n",
			       i + 1, changes[i].cpu, (changes[i].at_ns - t0) / 1e9, changes[i].step_ns);
	}
	printf("clockcheck: readings %" PRIu64 " per clock on %d CPUs\n", reads, ncpus);
	for (i = 0; i < 2; i++) {
		printf("clockcheck: %s: backwards %" PRIu64 ", largest backwards step %" PRId64 " ns\n",
		       clock_names[i], atomic_load(&backwards[i]), atomic_load(&worst_back[i]));
		fail |= atomic_load(&backwards[i]) != 0;
	}
	printf("clockcheck: pvclock updates %d, steps %" PRId64 "..%" PRId64 " ns, %d after VM stops\n",
	       n - stops, min_step, max_step_seen, stops);
	printf("clockcheck: largest gap between two readings %.3f s, at %.3f s\n",
	       gap / 1e9, (gap_at - t0) / 1e9);
	printf("clockcheck: clocksource at the end %s\n", cs_after);
	if (migration) {
		printf("clockcheck: across the VM stop: CLOCK_MONOTONIC advanced %.6f s,"
		       " CLOCK_REALTIME %.6f s (gap between the readings around it)\n",
		       stop_gap[0] / 1e9, stop_gap[1] / 1e9);
		for (i = 0; i < ncpus && pvclock_page; i++)
			printf("clockcheck: CPU %d: the TSC ran %" PRId64 " ns ahead of kvmclock over"
			       " the run\n", i, th[i].tsc_ahead_ns);
		/*
		 * kvmclock's rate (CPU 0's entry): the host converts a move of
		 * the guest's TSC offset to ns with it.
		 */
		if (pvclock_page) {
			struct pvti p = snapshot((const volatile struct pvti *)pvclock_page);

			printf("clockcheck: kvmclock rate: tsc_to_system_mul %" PRIu32 " tsc_shift %d"
			       " (a %.3f kHz TSC)\n", p.tsc_to_system_mul, p.tsc_shift,
			       1e6 / (p.tsc_to_system_mul * (p.tsc_shift < 0 ? 1.0 / (1ULL << -p.tsc_shift) :
						       (double)(1ULL << p.tsc_shift)) / 4294967296.0));
		}
		vdso_report(vvar);
	}
	if (min_step < -max_step || max_step_seen > max_step) {
		printf("clockcheck: FAIL: a pvclock update moved the clock by %" PRId64 " ns\n",
		       -min_step > max_step_seen ? min_step : max_step_seen);
		fail = true;
	}
	if (strcmp(cs_before, cs_after)) {
		printf("clockcheck: FAIL: the clocksource changed from %s to %s\n", cs_before, cs_after);
		fail = true;
	}
	printf("clockcheck: %s\n", fail ? "FAIL" : "ok");
	return fail;
}
