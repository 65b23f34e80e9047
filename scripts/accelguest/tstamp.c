// SPDX-License-Identifier: GPL-2.0-only
/*
 * tstamp: prefix each line of stdin with the host's time of its first byte.
 *
 * In L1, between QEMU's serial output (a FIFO) and the console log of
 * scripts/guest/accelguest.sh, so that the real (L1) time at which the
 * accelerated guest printed a line can be compared with the guest's own
 * time in it.  The time is CLOCK_BOOTTIME, the clock of /proc/uptime, in
 * seconds with 6 decimals, taken when the read() that returned the line's
 * first byte came back; carriage returns are dropped.  Output is flushed
 * at each line.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	char buf[4096];
	int at_start = 1;
	struct timespec ts;
	ssize_t n, i;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	while ((n = read(0, buf, sizeof(buf))) > 0) {
		clock_gettime(CLOCK_BOOTTIME, &ts);
		for (i = 0; i < n; i++) {
			if (buf[i] == '\r')
				continue;
			if (at_start) {
				printf("%ld.%06ld ", (long)ts.tv_sec, ts.tv_nsec / 1000);
				at_start = 0;
			}
			putchar(buf[i]);
			if (buf[i] == '\n') {
				at_start = 1;
				fflush(stdout);
			}
		}
	}
	if (!at_start)
		putchar('\n');
	return 0;
}
