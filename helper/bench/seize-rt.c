// SPDX-License-Identifier: GPL-2.0-only
/*
 * seize-rt: the floor under a live move's stop time. Seize every thread of
 * PID, interrupt it, wait for all stops, detach; print nanoseconds from the
 * first seize to the last detach, once per round.
 *
 *   seize-rt PID ROUNDS [nice|helper]
 * nice: at nice -20 throughout; helper: like vdso-helper, nice -20 while
 * stopping and SCHED_FIFO for the detach loop (which never waits).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXT 4096

static int list_tids(pid_t pid, pid_t *tids)
{
	char path[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)) && n < MAXT)
		if (d->d_name[0] >= '0' && d->d_name[0] <= '9')
			tids[n++] = atoi(d->d_name);
	closedir(dir);
	return n;
}

int main(int argc, char **argv)
{
	static pid_t tids[MAXT];
	pid_t pid;
	int rounds;

	if (argc < 3) {
		fprintf(stderr, "usage: seize-rt PID ROUNDS [nice|helper]\n");
		return 2;
	}
	pid = atoi(argv[1]);
	rounds = atoi(argv[2]);
	for (int r = 0; r < rounds; r++) {
		struct sched_param sp = { .sched_priority = 1 };
		struct timespec t0, t1;
		int n, st;

		if (argc > 3)
			setpriority(PRIO_PROCESS, 0, -20);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		n = list_tids(pid, tids);
		if (n <= 0)
			return 1;
		for (int i = 0; i < n; i++) {
			if (ptrace(PTRACE_SEIZE, tids[i], 0, 0) < 0) {
				tids[i] = 0;
				continue;
			}
			ptrace(PTRACE_INTERRUPT, tids[i], 0, 0);
		}
		for (int i = 0; i < n; i++) {
			if (!tids[i])
				continue;
			for (;;) {
				if (waitpid(tids[i], &st, __WALL) < 0)
					break;
				if (!WIFSTOPPED(st) || (st >> 16) == PTRACE_EVENT_STOP)
					break;
				ptrace(PTRACE_CONT, tids[i], 0, (void *)(long)WSTOPSIG(st));
			}
		}
		if (argc > 3 && !strcmp(argv[3], "helper"))
			sched_setscheduler(0, SCHED_FIFO, &sp);
		for (int i = 0; i < n; i++)
			if (tids[i])
				ptrace(PTRACE_DETACH, tids[i], 0, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		sp.sched_priority = 0;
		if (argc > 3 && !strcmp(argv[3], "helper"))
			sched_setscheduler(0, SCHED_OTHER, &sp);
		if (argc > 3)
			setpriority(PRIO_PROCESS, 0, 0);
		printf("%ld\n", (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec));
		fflush(stdout);
		usleep(20000);
	}
	return 0;
}
