/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * helper/target.h: a target the helper holds: stop every thread of it, run
 * syscalls in it, and put everything back.
 *
 * Every injected syscall runs in 64-bit mode (CS 0x33), also in i386 and x32
 * targets: ARCH_MAP_VDSO_* exists only there, and 64-bit mremap/mmap reach
 * the whole address space. The thread's own CS is restored afterwards.
 */
#ifndef VDSO_HELPER_TARGET_H
#define VDSO_HELPER_TARGET_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>
#include <time.h>

#include "hold.h"

#define TARGET_MAX_THREADS 4096

struct tthread {
	pid_t tid;
	int mode;			/* from CS: VDSO_TYPE_X86_64 or VDSO_TYPE_I386 */
	int dirty;			/* regs or mask changed: restore before detach */
	int in_trap;			/* stopped at our int3 (signal-delivery-stop) */
	int masked;			/* our signal mask is installed */
	int pending;			/* interrupted, stop not yet collected */
	int unstoppable;		/* seized but never stopped: left to the kernel's detach */
	struct user_regs_struct regs;	/* as found; edited only by target_set_ip/_regs() */
	uint64_t sigmask;
};

struct target {
	pid_t pid;
	int memfd;
	int nthreads;
	struct tthread *th;
	unsigned long stub;		/* where "syscall; int3" is written */
	unsigned char stub_saved[8];
	int stub_written;
	struct timespec t_seize, t_detach;
	int injections;
	int boosted, nice_saved;	/* nice -20 while the target is held */
	struct hold hold;		/* the caller cannot signal the helper meanwhile */
};

/* Seize and interrupt every thread until the set is stable, the caller shut out. 0 or -errno. */
int  target_seize(struct target *t, pid_t pid, char *why, size_t whylen);
struct maps;
/* Pick the stub's place from maps read while stopped (else the first injection reads them). */
void target_choose_stub(struct target *t, const struct maps *m);
/* A single-threaded tracee already in a ptrace stop (exec event). */
int  target_adopt(struct target *t, pid_t pid);
/* Run one syscall; its return value (or -errno) in *ret. 0, or -errno if injection failed. */
int  target_syscall(struct target *t, long nr, unsigned long a1, unsigned long a2,
		    unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6,
		    long *ret);
/*
 * What @th runs with once released (written back at detach): th->regs
 * changes only through these and by target_step().
 */
void target_set_ip(struct tthread *th, unsigned long ip);
void target_set_regs(struct tthread *th, const struct user_regs_struct *regs);
/* Single-step @th once, signals blocked; th->regs becomes its new state. */
int  target_step(struct target *t, struct tthread *th);
/* Does the injecting thread have syscall user dispatch on (SIGSYS for our syscalls)? */
int  target_sud_active(struct target *t);
/* Put the text under the stub back now; the next injection writes the stub again. */
void target_unstub(struct target *t);
/* Restore registers, masks and code; detach all; let the caller in again. Safe to call twice. */
void target_release(struct target *t);
long target_stop_ns(const struct target *t);

#endif
