// SPDX-License-Identifier: GPL-2.0-only
/*
 * clockrate_preload.so: an unchanged VMM's VMs at an accelerated clock.
 *
 *   KVM_CLOCK_RATE=100 LD_PRELOAD=/path/clockrate_preload.so qemu-system-x86_64 -accel kvm ...
 *
 * Wraps ioctl(): right after a successful KVM_CREATE_VM, before the VMM can
 * create a vCPU, it enables KVM_CAP_X86_CLOCK_RATE on the new VM with the
 * rate in KVM_CLOCK_RATE, reads it back with KVM_CHECK_EXTENSION on the VM's
 * file descriptor and logs one line on stderr:
 *
 *   clockrate_preload: pid 812, VM fd 11: KVM_CAP_X86_CLOCK_RATE 100 (KVM's maximum 1000)
 *
 * A rate that is unset, not a number, refused by KVM or not read back
 * aborts the VMM with a line on stderr: a run never silently tests rate 1.
 * The VMM must call ioctl() through the C library (QEMU does).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef KVM_CAP_X86_CLOCK_RATE
#define KVM_CAP_X86_CLOCK_RATE 240
#endif

typedef int (*ioctl_fn)(int, unsigned long, ...);

static ioctl_fn real_ioctl;

static void __attribute__((noreturn, format(printf, 1, 2))) fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "clockrate_preload: FATAL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static ioctl_fn get_real_ioctl(void)
{
	ioctl_fn fn = __atomic_load_n(&real_ioctl, __ATOMIC_ACQUIRE);

	if (!fn) {
		fn = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
		if (!fn)
			fatal("no ioctl() after this library: %s", dlerror());
		__atomic_store_n(&real_ioctl, fn, __ATOMIC_RELEASE);
	}
	return fn;
}

/* The rate from KVM_CLOCK_RATE: a decimal integer, KVM checks its range. */
static unsigned long wanted_rate(void)
{
	const char *s = getenv("KVM_CLOCK_RATE");
	unsigned long rate;
	char *end;

	if (!s || !*s)
		fatal("KVM_CLOCK_RATE is not set: no rate to give the VM");
	errno = 0;
	rate = strtoul(s, &end, 10);
	if (errno || *end || *s == '-' || *s == '+')
		fatal("KVM_CLOCK_RATE='%s' is not a decimal integer", s);
	return rate;
}

static void __attribute__((constructor)) init(void)
{
	get_real_ioctl();
	wanted_rate();	/* fail at the VMM's start, not at its first VM */
}

static void set_rate(int kvm_fd, int vm_fd)
{
	unsigned long rate = wanted_rate();
	struct kvm_enable_cap cap;
	int max, got, saved = errno;

	memset(&cap, 0, sizeof(cap));
	cap.cap = KVM_CAP_X86_CLOCK_RATE;
	cap.args[0] = rate;
	if (real_ioctl(vm_fd, KVM_ENABLE_CAP, &cap))
		fatal("KVM_ENABLE_CAP(KVM_CAP_X86_CLOCK_RATE, %lu) on VM fd %d: %s",
		      rate, vm_fd, strerror(errno));
	got = real_ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_CLOCK_RATE);
	max = real_ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_CLOCK_RATE);
	if (got < 0 || (unsigned long)got != rate)
		fatal("KVM_CHECK_EXTENSION(KVM_CAP_X86_CLOCK_RATE) on VM fd %d gave %d, not %lu",
		      vm_fd, got, rate);
	fprintf(stderr, "clockrate_preload: pid %d, VM fd %d: KVM_CAP_X86_CLOCK_RATE %d (KVM's maximum %d)\n",
		(int)getpid(), vm_fd, got, max);
	errno = saved;
}

/*
 * glibc declares ioctl(int, unsigned long, ...); every KVM ioctl takes at
 * most one argument, an integer or a pointer, passed on as such.
 */
int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	int r;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);

	r = get_real_ioctl()(fd, request, arg);
	if (request == KVM_CREATE_VM && r >= 0)
		set_rate(fd, r);
	return r;
}
