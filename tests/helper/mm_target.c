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
 *   stuck     the second thread vmsplice()s a page of a userfaultfd region
 *             that nobody fills: the kernel waits for the page killably,
 *             so the thread can neither stop nor be interrupted. SIGUSR1
 *             (handled by main) fills the page; the thread then runs like
 *             the others. Needs CAP_SYS_PTRACE (a fault taken in the kernel).
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
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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

static int uffd = -1;
static char *stuck_page;
static int stuck_pipe[2];
static long page_size;

static void fill_stuck_page(int sig)
{
	struct uffdio_zeropage z = {
		.range = { (uintptr_t)stuck_page, (uint64_t)page_size },
	};

	(void)sig;
	if (ioctl(uffd, UFFDIO_ZEROPAGE, &z))
		counters[2]++;
}

static void *stuck_main(void *arg)
{
	struct iovec iov = { stuck_page, (size_t)page_size };
	sigset_t usr1;

	(void)arg;
	/* main fills the page: SIGUSR1 must not pick this thread */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	__atomic_store_n(&counters[3], (uint64_t)gettid(), __ATOMIC_SEQ_CST);
	/* get_user_pages() faults killably, not interruptibly */
	if (vmsplice(stuck_pipe[1], &iov, 1, 0) != page_size)
		counters[2]++;
	run(1);
}

/* A userfaultfd-registered page nobody fills yet, and SIGUSR1 to fill it. */
static int setup_stuck(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct sigaction sa = { .sa_handler = fill_stuck_page, .sa_flags = SA_RESTART };

	page_size = sysconf(_SC_PAGESIZE);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		perror("userfaultfd");
		return -1;
	}
	stuck_page = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stuck_page == MAP_FAILED)
		return -1;
	reg.range.start = (uintptr_t)stuck_page;
	reg.range.len = (uint64_t)page_size;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) || pipe(stuck_pipe) ||
	    sigaction(SIGUSR1, &sa, NULL)) {
		perror("stuck setup");
		return -1;
	}
	return 0;
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
		fprintf(stderr, "usage: mm_target clone-vm|vfork|thread|zombie|stuck COUNTERS-FILE\n");
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
	} else if (!strcmp(argv[1], "stuck")) {
		if (setup_stuck() || pthread_create(&th, NULL, stuck_main, NULL))
			return 1;
		while (!__atomic_load_n(&counters[3], __ATOMIC_SEQ_CST))
			usleep(1000);
		ready((long)counters[3]);
		run(0);
	}
	fprintf(stderr, "mm_target: unknown mode %s\n", argv[1]);
	return 2;
}
