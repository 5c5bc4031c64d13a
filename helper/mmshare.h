/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * helper/mmshare.h: other processes that share a target's address space.
 *
 * clone(CLONE_VM) without CLONE_THREAD, or a vfork child that has not
 * exec'd yet, runs in another thread group but in the same mm, hence the
 * same vdso. The helper stops only the target's own threads, so such a
 * process could be running in the vdso while it moves.
 */
#ifndef VDSO_HELPER_MMSHARE_H
#define VDSO_HELPER_MMSHARE_H

#include <sys/types.h>

#define MMSHARE_LIST 8

struct mmshare {
	int n;				/* processes found sharing the mm */
	pid_t pid[MMSHARE_LIST];	/* the first MMSHARE_LIST of them */
	pid_t unproven;			/* kcmp was denied for it and its VmPeak matches */
	int changed;			/* the mm's VmPeak changed while every thread was stopped */
	int compared;			/* processes (and, in a recheck, new tasks) compared */
	int full;			/* the last stopped check was a full scan */
	/* for mmshare_recheck(): what the scan could not settle, and when it began */
	int ndenied;			/* tasks kcmp may not compare; > MMSHARE_LIST: too many */
	pid_t denied[MMSHARE_LIST], denied_tgid[MMSHARE_LIST];
	long last_pid;			/* ns_last_pid when the scan began, -1 if unknown */
	long long t_begin_ns;
};

/*
 * Compare @pid's mm with every other process (kcmp KCMP_VM). With @stopped
 * (every thread of @pid is stopped) a process kcmp may not compare is told
 * apart by its VmPeak instead, and @changed is checked. Returns 0 (read @s),
 * -ENOSYS when the kernel has no kcmp, or another -errno when the scan
 * itself failed.
 */
int mmshare_scan(pid_t pid, int stopped, struct mmshare *s);

/*
 * The same answer as mmshare_scan(@pid, 1, @s), for a target stopped since
 * an unstopped mmshare_scan() that found nothing: only the tasks created
 * since that scan began are compared (a process's mm never becomes another
 * one's, so only a new task can have joined the target's), and the denied
 * ones again by VmPeak. Falls back to a full scan whenever that cannot be
 * proven enough (see mmshare.c).
 */
int mmshare_recheck(pid_t pid, struct mmshare *s);

/* Share nothing? (nothing found, nothing unproven, nothing changed) */
static inline int mmshare_none(const struct mmshare *s)
{
	return !s->n && !s->unproven && !s->changed;
}

#endif
