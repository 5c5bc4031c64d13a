// SPDX-License-Identifier: GPL-2.0-only
/*
 * Targets whose address space or thread group is unusual, for
 * test_unsafe_targets. Usage: mm_target MODE COUNTERS-FILE
 *
 *   clone-vm  the process clone()s a child with CLONE_VM but not CLONE_THREAD:
 *             two thread groups, one address space (one vdso)
 *   vfork     the process vfork()s a child that never execs: the parent waits
 *             in vfork while the child runs in the parent's address space
 *   thread    a plain second thread (CLONE_THREAD), the control
 *   zombie    the thread-group leader calls pthread_exit() while its second
 *             thread keeps running
 *
 * Both runners (main and the other one) call clock_gettime() through the
 * vdso in a loop and count their rounds in the shared COUNTERS-FILE:
 * u64 [0] main heartbeat, [1] other heartbeat, [2] errors (time went back),
 * [3] the second thread's tid.
 * Once both run it prints "ready OTHER" (OTHER: the child's pid or the
 * thread's tid) and runs until killed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE (256 * 1024)

static volatile uint64_t *counters;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Never returns: a vfork child must not return into its parent's frames. */
static void __attribute__((noreturn)) run(int slot)
{
	const struct timespec pause = { 0, 1000000 };
	int64_t last = now_ns();

	for (;;) {
		int64_t t = now_ns();

		if (t < last)
			counters[2]++;
		last = t;
		counters[slot]++;
		/* raw syscall: a CLONE_VM child shares the parent's errno */
		syscall(SYS_nanosleep, &pause, NULL);
	}
}

static int child_main(void *arg)
{
	(void)arg;
	run(1);
}

static void *thread_main(void *arg)
{
	(void)arg;
	counters[3] = (uint64_t)gettid();
	run(1);
}

static void wait_other_running(void)
{
	while (counters[1] < 3)
		usleep(1000);
}

static void ready(long other)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "ready %ld\n", other);

	/* write(2), not stdio: the vfork child must not touch the parent's FILEs */
	if (write(1, line, (size_t)n) != n)
		_exit(1);
}

int main(int argc, char **argv)
{
	pthread_t th;
	pid_t pid;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: mm_target clone-vm|vfork|thread|zombie COUNTERS-FILE\n");
		return 2;
	}
	fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4096)) {
		perror(argv[2]);
		return 1;
	}
	counters = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (counters == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	close(fd);

	if (!strcmp(argv[1], "clone-vm")) {
		char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

		if (stack == MAP_FAILED)
			return 1;
		pid = clone(child_main, stack + STACK_SIZE, CLONE_VM | SIGCHLD, NULL);
		if (pid < 0) {
			perror("clone");
			return 1;
		}
		wait_other_running();
		ready(pid);
		run(0);
	} else if (!strcmp(argv[1], "vfork")) {
		/* the child reports itself: the parent runs again only when it exits */
		pid = vfork();
		if (pid == 0) {
			ready(getpid());
			run(1);
		}
		return 1;
	} else if (!strcmp(argv[1], "thread") || !strcmp(argv[1], "zombie")) {
		if (pthread_create(&th, NULL, thread_main, NULL)) {
			perror("pthread_create");
			return 1;
		}
		wait_other_running();
		ready((long)counters[3]);
		if (!strcmp(argv[1], "zombie"))
			pthread_exit(NULL);
		run(0);
	}
	fprintf(stderr, "mm_target: unknown mode %s\n", argv[1]);
	return 2;
}
