/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel-ABI time structures and syscall numbers shared by the subjects. */
#ifndef COMMON_H
#define COMMON_H

#include <stdint.h>
#include "rawsys.h"

/* What the vdso and the 64-bit-time syscalls fill in, on every ABI. */
struct ktimespec {
	int64_t sec;
	int64_t nsec;
};

/* __kernel_old_timeval: the width of the kernel's long on each ABI. */
struct ktimeval {
	sysarg_t sec;
	sysarg_t usec;
};

#ifdef __i386__
#define NR_CLOCK_GETTIME_K __NR_clock_gettime64
#define NR_CLOCK_NANOSLEEP_K __NR_clock_nanosleep_time64
#define NR_FUTEX_K __NR_futex_time64
#else
#define NR_CLOCK_GETTIME_K __NR_clock_gettime
#define NR_CLOCK_NANOSLEEP_K __NR_clock_nanosleep
#define NR_FUTEX_K __NR_futex
#endif

static inline int64_t ts_ns(const struct ktimespec *t)
{
	return t->sec * 1000000000LL + t->nsec;
}

#endif
