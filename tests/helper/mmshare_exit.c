// SPDX-License-Identifier: GPL-2.0-only
/*
 * helper/mmshare.c with a target that exits in the middle of a scan.
 * kcmp(KCMP_VM) finds two tasks without an mm equal, so once the target has
 * exited every task without an mm (a zombie, a kernel thread) would compare
 * equal to it. This program's syscall() stands in front of libc's and
 * kills the target right before the Nth kcmp, then lets it run: exactly
 * between the scan's own check that the target has an mm and the
 * comparisons. A zombie of ours is there to be mistaken for a sharer.
 * Prints "scan=R n=N recheck=R n=N"; the answer wanted is R = -3 (ESRCH).
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmshare.h"

static pid_t victim;
static int kcmps, kill_at;

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (nr == SYS_kcmp && victim && ++kcmps == kill_at) {
		siginfo_t si;

		kill(victim, SIGKILL);
		waitid(P_PID, (id_t)victim, &si, WEXITED | WNOWAIT);	/* its mm is gone now */
	}
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static pid_t start_target(void)
{
	pid_t p = fork();

	if (p == 0) {
		pause();
		_exit(0);
	}
	return p;
}

static pid_t make_zombie(void)
{
	siginfo_t si;
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT);
	return p;
}

int main(void)
{
	struct mmshare s;
	pid_t t1, t2, z1, z2;
	int scan, n_scan, recheck;

	/* 1. the unstopped scan: the 1st kcmp checks the target's mm, the 2nd compares */
	z1 = make_zombie();
	t1 = start_target();
	victim = t1;
	kcmps = 0;
	kill_at = 2;
	scan = mmshare_scan(t1, 0, &s);
	n_scan = s.n;

	/* 2. the stopped recheck: a clean scan, then a new zombie, then the target exits */
	t2 = start_target();
	victim = 0;
	mmshare_scan(t2, 0, &s);
	z2 = make_zombie();
	victim = t2;
	kcmps = 0;
	kill_at = 1;
	recheck = mmshare_recheck(t2, &s);
	printf("scan=%d n=%d recheck=%d n=%d\n", scan, n_scan, recheck, s.n);
	for (pid_t *p = (pid_t[]){ z1, t1, t2, z2, 0 }; *p; p++) {
		kill(*p, SIGKILL);
		waitpid(*p, NULL, 0);
	}
	return 0;
}
