/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw system calls that never go through the vdso.
 *
 * i386 glibc enters the kernel through __kernel_vsyscall inside the vdso;
 * code that runs while the vdso block is being moved (or before anything
 * is set up, in the static subjects) must use int $0x80 directly.
 */
#ifndef RAWSYS_H
#define RAWSYS_H

#include <asm/unistd.h>
#include <stdint.h>

#if defined(__x86_64__)
typedef long long sysarg_t;

static inline sysarg_t rawsys(sysarg_t nr, sysarg_t a1, sysarg_t a2,
			      sysarg_t a3, sysarg_t a4, sysarg_t a5)
{
	sysarg_t ret;
	register sysarg_t r10 __asm__("r10") = a4;
	register sysarg_t r8 __asm__("r8") = a5;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline sysarg_t rawsys6(sysarg_t nr, sysarg_t a1, sysarg_t a2,
			       sysarg_t a3, sysarg_t a4, sysarg_t a5,
			       sysarg_t a6)
{
	sysarg_t ret;
	register sysarg_t r10 __asm__("r10") = a4;
	register sysarg_t r8 __asm__("r8") = a5;
	register sysarg_t r9 __asm__("r9") = a6;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__i386__)
typedef long sysarg_t;

static inline sysarg_t rawsys(sysarg_t nr, sysarg_t a1, sysarg_t a2,
			      sysarg_t a3, sysarg_t a4, sysarg_t a5)
{
	sysarg_t ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5)
			 : "memory");
	return ret;
}
#else
#error "x86 only"
#endif

/* zero-extend pointers on x32; the kernel truncates int arguments */
#define SYSARG(x) ((sysarg_t)(uintptr_t)(x))
#define RAW0(nr) rawsys((nr), 0, 0, 0, 0, 0)
#define RAW1(nr, a) rawsys((nr), SYSARG(a), 0, 0, 0, 0)
#define RAW2(nr, a, b) rawsys((nr), SYSARG(a), SYSARG(b), 0, 0, 0)
#define RAW3(nr, a, b, c) \
	rawsys((nr), SYSARG(a), SYSARG(b), SYSARG(c), 0, 0)
#define RAW4(nr, a, b, c, d) \
	rawsys((nr), SYSARG(a), SYSARG(b), SYSARG(c), SYSARG(d), 0)
/* -4095..-1 are errnos */
#define RAW_ERR(r) ((r) < 0 && (r) > -4096)
#define RAW5(nr, a, b, c, d, e)                                       \
	rawsys((nr), SYSARG(a), SYSARG(b), SYSARG(c), \
	       SYSARG(d), SYSARG(e))

#endif
