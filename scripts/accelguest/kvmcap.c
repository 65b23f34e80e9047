// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmcap: print what KVM_CHECK_EXTENSION on /dev/kvm returns for
 * KVM_CAP_X86_CLOCK_RATE: the largest rate KVM accepts, 0 on a kernel
 * without the capability (scripts/guest/accelguest.sh then skips).
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>

#ifndef KVM_CAP_X86_CLOCK_RATE
#define KVM_CAP_X86_CLOCK_RATE 240
#endif

int main(void)
{
	int fd = open("/dev/kvm", O_RDWR), r;

	if (fd < 0) {
		perror("/dev/kvm");
		return 1;
	}
	r = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_CLOCK_RATE);
	if (r < 0) {
		perror("KVM_CHECK_EXTENSION");
		return 1;
	}
	printf("%d\n", r);
	return 0;
}
