// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelclock: the accelerated guest's clock readings and timed waits, in
 * one process each, so that no fork or exec sits between a reading and
 * the console line that L1 stamps with its own time (tstamp.c).
 *
 *   accelclock mark WHAT...   accel: WHAT boot B real R
 *   accelclock sleep S WHAT   accel: WHAT begin boot B real R, then
 *                             clock_nanosleep(CLOCK_MONOTONIC) for S
 *                             seconds (what sleep(1) does), then
 *                             accel: WHAT end boot B real R
 *   accelclock periodic P D   accel: periodic begin ...; then a job every P
 *                             seconds (sleep P, take the time, as a
 *                             'while sleep P' loop of a shell would) until
 *                             D seconds have passed (at least one run),
 *                             counted in memory;
 *                             then accel: periodic runs N gap MIN..MAX and
 *                             accel: periodic end ...
 *
 * B is CLOCK_BOOTTIME, R CLOCK_REALTIME, in seconds with 9 decimals, read
 * just before the line is written with one write(2) to stdout. When stdout
 * is a terminal (the serial console), the output before is drained first,
 * and after the line is sent another follows, accel: WHAT drained boot B2
 * real R2, read once it is: the line's first byte left between the two
 * readings, so L1's stamp on it is the guest's time B..B2, however long the
 * guest took to send it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void line(const char *what, const char *extra)
{
	char buf[512];
	double b = now(CLOCK_BOOTTIME), r = now(CLOCK_REALTIME);
	int n = snprintf(buf, sizeof(buf), "accel: %s%s boot %.9f real %.9f\n",
			 what, extra, b, r);

	if (write(1, buf, n) != n)
		exit(1);
}

static void mark(const char *what, const char *extra)
{
	char drained[64];
	int tty = isatty(1);

	if (tty)
		tcdrain(1);
	line(what, extra);
	if (tty) {
		tcdrain(1);
		snprintf(drained, sizeof(drained), "%s drained", extra);
		line(what, drained);
	}
}

static void nap(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

int main(int argc, char **argv)
{
	char what[256] = "";

	if (argc >= 3 && !strcmp(argv[1], "mark")) {
		for (int i = 2; i < argc; i++)
			snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%s",
				 i > 2 ? " " : "", argv[i]);
		mark(what, "");
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "sleep")) {
		mark(argv[3], " begin");
		nap(atof(argv[2]));
		mark(argv[3], " end");
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "periodic")) {
		double p = atof(argv[2]), d = atof(argv[3]), t0, prev, t, min = 0, max = 0;
		long runs = 0;

		mark("periodic", " begin");
		prev = t0 = now(CLOCK_BOOTTIME);
		while (prev - t0 < d) {
			nap(p);
			t = now(CLOCK_BOOTTIME);
			if (!runs || t - prev < min)
				min = t - prev;
			if (t - prev > max)
				max = t - prev;
			runs++;
			prev = t;
		}
		printf("accel: periodic runs %ld gap %.6f..%.6f\n", runs, min, max);
		fflush(stdout);
		mark("periodic", " end");
		return 0;
	}
	fprintf(stderr, "usage: accelclock mark WHAT... | sleep S WHAT | periodic P D\n");
	return 2;
}
