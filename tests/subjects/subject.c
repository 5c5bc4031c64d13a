// SPDX-License-Identifier: GPL-2.0
/*
 * Test subject: a glibc process that keeps calling every vdso function and
 * checks the answers, reporting through a shared status file
 * (docs/protocol.md). SIGUSR1 makes it move its own vdso block; SIGTERM
 * ends it with 0 if no check ever failed.
 *
 * Built as x86_64, i386 and x32 from this one source.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "report.h"
#include "status.h"
#include "status_file.h"
#include "vdso_block.h"
#include "vdso_sym.h"

#define MAX_THREADS 64
#define CHECK_EVERY 64		/* rounds between comparisons with the kernel */

static volatile sig_atomic_t want_move, want_stop;
static int quit;

static const clockid_t clocks[] = {
	CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
	CLOCK_BOOTTIME, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE,
};
#define NCLOCKS (sizeof(clocks) / sizeof(clocks[0]))
static const int clock_is_mono[NCLOCKS] = { 0, 1, 1, 1, 0, 1 };

/*
 * After a self-move glibc's cached vdso pointers are stale, so every call
 * goes through these, looked up in the moved image. Written only while
 * every other thread is parked (see gate_*).
 */
static struct {
	int moved;
	int (*clock_gettime)(clockid_t, struct ktimespec *);
	int (*gettimeofday)(struct ktimeval *, void *);
	sysarg_t (*time)(sysarg_t *);
	int (*getcpu)(unsigned int *, unsigned int *, void *);
} vd;

static unsigned int ncpus;


/* ---- the calls ---- */

static int t_clock(clockid_t clk, struct ktimespec *out)
{
	struct timespec t;
	int r;

	if (vd.moved)
		return vd.clock_gettime(clk, out);
	r = clock_gettime(clk, &t);
	out->sec = t.tv_sec;
	out->nsec = t.tv_nsec;
	return r;
}

static int t_gettimeofday(struct ktimeval *out)
{
	struct timeval tv;
	int r;

	if (vd.moved)
		return vd.gettimeofday(out, NULL);
	r = gettimeofday(&tv, NULL);
	out->sec = tv.tv_sec;
	out->usec = tv.tv_usec;
	return r;
}

static long long t_time(void)
{
	if (vd.moved)
		return vd.time(NULL);
	return time(NULL);
}

static int t_getcpu(unsigned int *cpu)
{
	if (vd.moved) {
		if (vd.getcpu)
			return vd.getcpu(cpu, NULL, NULL);
		/* this vdso type has no getcpu: ask the kernel directly */
		return (int)RAW3(__NR_getcpu, cpu, 0, 0);
	}
	return getcpu(cpu, NULL);
}

struct tstate {
	int64_t last[NCLOCKS];
	int64_t last_sig;	/* for the signal handler's own monotonic check */
	unsigned long long pending_calls;
	unsigned long rounds;
	unsigned int flush_every;	/* rounds between adds to the shared count */
};

static __thread struct tstate *self_state;

static int64_t kernel_realtime(void)
{
	struct ktimespec k;

	RAW2(NR_CLOCK_GETTIME_K, CLOCK_REALTIME, &k);
	return ts_ns(&k);
}

static void flush_calls(struct tstate *t)
{
	if (t->pending_calls) {
		ST_ADD(st->calls, t->pending_calls);
		t->pending_calls = 0;
	}
}

/* One call of everything; returns CLOCK_MONOTONIC in ns. */
static int64_t one_round(struct tstate *t)
{
	struct ktimespec ts[NCLOCKS];
	struct ktimeval tv;
	unsigned int cpu = UINT_MAX;
	long long secs;
	int64_t mono = 0;
	/*
	 * The kernel's realtime is read before and after a check round's
	 * vdso calls: a thread stopped in between (a checkpoint, a long
	 * ptrace stop) then still sees every vdso clock inside the window.
	 */
	bool check = (t->rounds + 1) % CHECK_EVERY == 0;
	int64_t k0 = check ? kernel_realtime() : 0;

	for (unsigned int i = 0; i < NCLOCKS; i++) {
		int64_t ns;

		if (t_clock(clocks[i], &ts[i])) {
			fail("clock_gettime failed, clock", clocks[i]);
			continue;
		}
		ns = ts_ns(&ts[i]);
		if (clock_is_mono[i]) {
			if (ns < t->last[i])
				fail("monotonic went back (ns), clock", clocks[i]);
			t->last[i] = ns;
		}
		if (clocks[i] == CLOCK_MONOTONIC)
			mono = ns;
	}
	if (t_gettimeofday(&tv))
		fail("gettimeofday failed", NOVAL);
	secs = t_time();
	if (t_getcpu(&cpu) || cpu >= ncpus)
		fail("getcpu failed or out of range, cpu", cpu);
#ifdef __i386__
	/*
	 * Goes through __kernel_vsyscall (%gs:0x10), like every i386 syscall.
	 * The parent may change in between (a restored task is reparented
	 * when criu exits): the answer must be one of the raw ones around it.
	 */
	{
		long p0 = RAW0(__NR_getppid);
		long pv = getppid();

		if (pv != p0 && pv != RAW0(__NR_getppid))
			fail("getppid through __kernel_vsyscall disagrees", pv);
	}
#endif
	t->pending_calls += NCLOCKS + 3;

	t->rounds++;
	if (check) {
		int64_t k = kernel_realtime();
		int64_t r = ts_ns(&ts[0]);
		int64_t c = ts_ns(&ts[4]);
		int64_t g = (int64_t)tv.sec * 1000000000LL + tv.usec * 1000LL;

		/* Outside [k0 - 1 s, k + 1 s]: the offset from the nearer end. */
		if (r - k > 1000000000LL || k0 - r > 1000000000LL)
			fail("realtime far from the kernel's (ns)", r > k ? r - k : r - k0);
		if (c - k > 1000000000LL || k0 - c > 1000000000LL)
			fail("realtime_coarse far from the kernel's (ns)", c > k ? c - k : c - k0);
		if (g - k > 1000000000LL || k0 - g > 1000000000LL)
			fail("gettimeofday far from the kernel's (ns)", g > k ? g - k : g - k0);
		if (secs - k / 1000000000LL > 1 || k0 / 1000000000LL - secs > 1)
			fail("time() far from the kernel's (s)",
			     secs > k / 1000000000LL ? secs - k / 1000000000LL : secs - k0 / 1000000000LL);
	}
	if (t->rounds % t->flush_every == 0)
		flush_calls(t);
	return mono;
}

/* ---- keeping threads out of the vdso while it moves ---- */

static int pause_req;		/* futex word: 1 while the main thread moves */
static int active;		/* threads (not main) that may touch the vdso */
static unsigned int move_gen;
static uintptr_t vsyscall_addr;	/* i386: current __kernel_vsyscall */
static __thread unsigned int my_gen;

static void futex_wait(int *addr, int val)
{
	RAW4(NR_FUTEX_K, addr, FUTEX_WAIT_PRIVATE, val, 0);
}

static void futex_wake(int *addr)
{
	RAW3(NR_FUTEX_K, addr, FUTEX_WAKE_PRIVATE, INT_MAX);
}

/* glibc copies the TCB's sysinfo into each thread: each fixes its own. */
static void fix_sysinfo(void)
{
	unsigned int gen = __atomic_load_n(&move_gen, __ATOMIC_SEQ_CST);

	if (gen == my_gen)
		return;
	my_gen = gen;
#ifdef __i386__
	__asm__ volatile("movl %0, %%gs:0x10" : : "r"(vsyscall_addr) : "memory");
#endif
}

static void gate_join(void)
{
	for (;;) {
		__atomic_add_fetch(&active, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&pause_req, __ATOMIC_SEQ_CST))
			break;
		__atomic_sub_fetch(&active, 1, __ATOMIC_SEQ_CST);
		futex_wake(&active);
		while (__atomic_load_n(&pause_req, __ATOMIC_SEQ_CST))
			futex_wait(&pause_req, 1);
	}
	fix_sysinfo();
}

static void gate_leave(void)
{
	__atomic_sub_fetch(&active, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&pause_req, __ATOMIC_SEQ_CST))
		futex_wake(&active);
}

static uint64_t sigmask_bit(int sig)
{
	return 1ULL << (sig - 1);
}

/*
 * Park here if a move is wanted. SIGALRM is blocked while parked: its
 * handler calls the vdso and (i386) returns through the vdso trampoline.
 */
static void gate_pass(void)
{
	uint64_t block = sigmask_bit(SIGALRM), old;

	if (!__atomic_load_n(&pause_req, __ATOMIC_SEQ_CST))
		return;
	RAW4(__NR_rt_sigprocmask, SIG_BLOCK, &block, &old, 8);
	gate_leave();
	gate_join();
	RAW4(__NR_rt_sigprocmask, SIG_SETMASK, &old, 0, 8);
}

/* ---- self-move ---- */

struct syms {
	uintptr_t cgt, gtod, time, getcpu, vsyscall;
};

static int lookup(uintptr_t base, struct syms *s)
{
	struct vdso_image img;

	memset(s, 0, sizeof(*s));
	if (vdso_parse(&img, base))
		return -1;
#ifdef __i386__
	s->cgt = vdso_sym(&img, "LINUX_2.6", "__vdso_clock_gettime64");
	s->vsyscall = vdso_sym(&img, "LINUX_2.5", "__kernel_vsyscall");
	if (!s->vsyscall)
		return -1;
#else
	s->cgt = vdso_sym(&img, "LINUX_2.6", "__vdso_clock_gettime");
#endif
	s->gtod = vdso_sym(&img, "LINUX_2.6", "__vdso_gettimeofday");
	s->time = vdso_sym(&img, "LINUX_2.6", "__vdso_time");
	s->getcpu = vdso_sym(&img, "LINUX_2.6", "__vdso_getcpu");
	return s->cgt && s->gtod && s->time ? 0 : -1;
}

static int move_via_vsyscall;

static uintptr_t rebase(uintptr_t addr, uintptr_t from, uintptr_t to)
{
	return addr ? addr - from + to : 0;
}

/* Called with every other thread parked and SIGALRM blocked here. */
static void self_move(void)
{
	struct vdso_block b;
	struct vma *v = b.vma;
	struct syms s;
	uintptr_t text, lo = UINTPTR_MAX, hi = 0, dst, new_text;
	int n, moved;
	void *res;

	if (vdso_block_read(&b) < 0 || !b.text) {
		fail("self-move: no [vdso] in /proc/self/maps", NOVAL);
		return;
	}
	n = b.n;
	text = b.text;
	/* symbols first: never move to an image we could not call */
	if (lookup(text, &s)) {
		fail("self-move: vdso symbols not found", NOVAL);
		return;
	}
#ifdef __i386__
	{
		uintptr_t cur;

		__asm__ volatile("movl %%gs:0x10, %0" : "=r"(cur));
		if (cur != s.vsyscall) {
			fail("self-move: %gs:0x10 is not __kernel_vsyscall", (long long)cur);
			return;
		}
	}
#endif
	for (int i = 0; i < n; i++) {
		if (v[i].start < lo)
			lo = v[i].start;
		if (v[i].end > hi)
			hi = v[i].end;
	}
	res = mmap(NULL, hi - lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		fail("self-move: cannot reserve space, errno", errno);
		return;
	}
	dst = (uintptr_t)res;

	/* the text last: see move_via_vsyscall */
	for (int i = 0; i < n - 1; i++) {
		if (v[i].start == text) {
			struct vma tmp = v[i];

			v[i] = v[n - 1];
			v[n - 1] = tmp;
		}
	}
	/* From here on only raw syscalls: the old vdso is going away. */
	for (moved = 0; moved < n; moved++) {
		size_t len = v[moved].end - v[moved].start;
		uintptr_t to = dst + (v[moved].start - lo);
		sysarg_t r;

		if (move_via_vsyscall && v[moved].start == text) {
			/*
			 * i386 glibc enters through __kernel_vsyscall; the
			 * kernel must land this thread in the moved copy.
			 */
			void *p = mremap((void *)v[moved].start, len, len,
					 MREMAP_MAYMOVE | MREMAP_FIXED, (void *)to);

			r = p == MAP_FAILED ? -errno : (sysarg_t)(uintptr_t)p;
		} else {
			r = RAW5(__NR_mremap, v[moved].start, len, len,
				 MREMAP_MAYMOVE | MREMAP_FIXED, to);
		}
		if (r < 0 && r > -4096) {
			fail("self-move: mremap failed, errno", -r);
			break;
		}
	}
	if (moved < n) {
		/* put back what moved, drop the rest of the reservation */
		for (int i = 0; i < moved; i++)
			RAW5(__NR_mremap, dst + (v[i].start - lo),
			     v[i].end - v[i].start, v[i].end - v[i].start,
			     MREMAP_MAYMOVE | MREMAP_FIXED, v[i].start);
		RAW2(__NR_munmap, dst, hi - lo);
		return;
	}

	new_text = dst + (text - lo);
	vd.clock_gettime = (void *)rebase(s.cgt, text, new_text);
	vd.gettimeofday = (void *)rebase(s.gtod, text, new_text);
	vd.time = (void *)rebase(s.time, text, new_text);
	vd.getcpu = (void *)rebase(s.getcpu, text, new_text);
	vd.moved = 1;
	vsyscall_addr = rebase(s.vsyscall, text, new_text);
	__atomic_add_fetch(&move_gen, 1, __ATOMIC_SEQ_CST);
	fix_sysinfo();
	ST_SET(st->vdso_base, (uint64_t)new_text);
	ST_ADD(st->self_moves, 1);
}

static void move_with_threads_parked(void)
{
	sigset_t alrm, old;
	int a;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, &old);
	__atomic_store_n(&pause_req, 1, __ATOMIC_SEQ_CST);
	while ((a = __atomic_load_n(&active, __ATOMIC_SEQ_CST)) != 0)
		futex_wait(&active, a);
	self_move();
	__atomic_store_n(&pause_req, 0, __ATOMIC_SEQ_CST);
	futex_wake(&pause_req);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- threads ---- */

static int running;

static void block_control_signals(void)
{
	sigset_t s;

	/* SIGUSR1/SIGTERM belong to the main thread */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void *worker(void *arg)
{
	struct tstate t = { .flush_every = 16 };

	(void)arg;
	block_control_signals();
	self_state = &t;
	gate_join();
	__atomic_add_fetch(&running, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&quit, __ATOMIC_SEQ_CST)) {
		one_round(&t);
		gate_pass();
	}
	flush_calls(&t);
	self_state = NULL;
	gate_leave();
	return NULL;
}

static long blocker_ms = 2000;
static int blocker_started;

static void *blocker(void *arg)
{
	struct ktimespec t0, t1, req;
	sigset_t all;
	sysarg_t r;
	int forever = 0;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	RAW2(NR_CLOCK_GETTIME_K, CLOCK_MONOTONIC, &t0);
	req.sec = blocker_ms / 1000;
	req.nsec = (blocker_ms % 1000) * 1000000LL;
	__atomic_store_n(&blocker_started, 1, __ATOMIC_SEQ_CST);
	/*
	 * Raw syscall: i386 glibc would sleep inside __kernel_vsyscall,
	 * where a self-move would pull the code out from under it.
	 */
	r = RAW4(NR_CLOCK_NANOSLEEP_K, CLOCK_MONOTONIC, 0, &req, 0);
	RAW2(NR_CLOCK_GETTIME_K, CLOCK_MONOTONIC, &t1);
	if (r != 0)
		fail("blocker: clock_nanosleep did not complete, ret", r);
	else if (ts_ns(&t1) - ts_ns(&t0) < blocker_ms * 1000000LL)
		fail("blocker: slept too short (ns)", ts_ns(&t1) - ts_ns(&t0));
	else
		ST_SET(st->blocker_done, 1);
	/* Never return: glibc's thread exit path would use the vdso on i386. */
	for (;;)
		futex_wait(&forever, 0);
	return NULL;
}

/* ---- signals ---- */

static void on_usr1(int sig)
{
	(void)sig;
	want_move = 1;
}

static void on_term(int sig)
{
	(void)sig;
	want_stop = 1;
}

static void on_alrm(int sig)
{
	struct tstate *t = self_state;
	struct ktimespec ts;
	int saved = errno;

	(void)sig;
	ST_ADD(st->signals, 1);
	if (!t)
		goto out;
	if (t_clock(CLOCK_MONOTONIC, &ts)) {
		fail("clock_gettime in signal handler failed", NOVAL);
	} else {
		if (ts_ns(&ts) < t->last_sig)
			fail("monotonic went back in signal handler (ns)",
			     ts_ns(&ts) - t->last_sig);
		t->last_sig = ts_ns(&ts);
	}
	ST_ADD(st->calls, 1);
out:
	errno = saved;
}

static void install_alrm(void)
{
#ifdef __i386__
	/*
	 * No SA_RESTORER: the kernel then returns from the handler through
	 * the vdso's __kernel_rt_sigreturn, which is what we want exercised.
	 */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} ka = { on_alrm, SA_RESTART, NULL, 0 };
	sysarg_t r = RAW4(__NR_rt_sigaction, SIGALRM, &ka, 0, 8);

	if (r) {
		fprintf(stderr, "subject: rt_sigaction: %s\n", strerror((int)-r));
		exit(2);
	}
#else
	struct sigaction sa = { .sa_handler = on_alrm, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
#endif
}

static void install(int sig, void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: subject --status FILE [--threads N] [--blocker] [--blocker-ms MS]\n"
		"               [--signals] [--signal-us US] [--exit-after-ms MS] [--move-every-ms MS]\n"
		"               [--busy | --idle-in-vdso | --idle-ms MS] [--move-via-vsyscall]\n");
	exit(2);
}

static long parse_num(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi) {
		fprintf(stderr, "subject: %s wants a number in %ld..%ld, got '%s'\n",
			opt, lo, hi, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "blocker", no_argument, NULL, 'b' },
		{ "blocker-ms", required_argument, NULL, 'B' },
		{ "signals", no_argument, NULL, 'S' },
		{ "signal-us", required_argument, NULL, 'u' },
		{ "exit-after-ms", required_argument, NULL, 'x' },
		{ "busy", no_argument, NULL, 'y' },
		{ "idle-in-vdso", no_argument, NULL, 'i' },
		{ "idle-ms", required_argument, NULL, 'I' },
		{ "move-every-ms", required_argument, NULL, 'm' },
		{ "move-via-vsyscall", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *status_path = NULL;
	long nthreads = 0, exit_after = 0, move_every = 0;
	int use_blocker = 0, use_signals = 0, busy = 0, idle_in_vdso = 0, c;
	long idle_us = 100, signal_us = 100;
	pthread_t tids[MAX_THREADS], btid;
	/* the main thread's calls keep step with its heartbeat */
	struct tstate t = { .flush_every = 1 };
	int64_t start, now, last_move;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': status_path = optarg; break;
		case 't': nthreads = parse_num("--threads", optarg, 0, MAX_THREADS); break;
		case 'b': use_blocker = 1; break;
		case 'B':
			blocker_ms = parse_num("--blocker-ms", optarg, 1, 3600000);
			use_blocker = 1;
			break;
		case 'S': use_signals = 1; break;
		case 'u':
			signal_us = parse_num("--signal-us", optarg, 1, 1000000);
			use_signals = 1;
			break;
		case 'x': exit_after = parse_num("--exit-after-ms", optarg, 1, LONG_MAX); break;
		case 'm': move_every = parse_num("--move-every-ms", optarg, 1, LONG_MAX); break;
		case 'y': busy = 1; break;
		case 'i': idle_in_vdso = 1; break;
		case 'I':
			idle_us = parse_num("--idle-ms", optarg, 1, 3600000) * 1000;
			idle_in_vdso = 1;
			break;
		case 'v': move_via_vsyscall = 1; break;
		default: usage();
		}
	}
	if (!status_path || optind != argc) {
		if (!status_path)
			fprintf(stderr, "subject: --status FILE is required\n");
		else
			fprintf(stderr, "subject: unexpected argument '%s'\n", argv[optind]);
		usage();
	}

	st = open_status("subject", status_path);
	if (!st->vdso_base) {
		fail("no vdso (AT_SYSINFO_EHDR is 0)", NOVAL);
		return 1;
	}
	ncpus = (unsigned int)get_nprocs_conf();

	install(SIGUSR1, on_usr1);
	install(SIGTERM, on_term);
	self_state = &t;
	if (use_signals)
		install_alrm();

	for (long i = 0; i < nthreads; i++) {
		int e = pthread_create(&tids[i], NULL, worker, NULL);

		if (e) {
			fprintf(stderr, "subject: pthread_create: %s\n", strerror(e));
			return 2;
		}
	}
	if (use_blocker) {
		int e = pthread_create(&btid, NULL, blocker, NULL);

		if (e) {
			fprintf(stderr, "subject: pthread_create: %s\n", strerror(e));
			return 2;
		}
	}
	while (__atomic_load_n(&running, __ATOMIC_SEQ_CST) < nthreads ||
	       (use_blocker && !__atomic_load_n(&blocker_started, __ATOMIC_SEQ_CST)))
		sched_yield();
	if (use_signals) {
		struct itimerval it = {
			{ signal_us / 1000000, signal_us % 1000000 },
			{ signal_us / 1000000, signal_us % 1000000 },
		};

		setitimer(ITIMER_REAL, &it, NULL);
	}
	ST_SET(st->threads, (uint32_t)(nthreads + 1));

	start = last_move = one_round(&t);
	ST_SET(st->ready, 1);
	while (!want_stop) {
		if (want_move) {
			want_move = 0;
			move_with_threads_parked();
		}
		now = one_round(&t);
		ST_ADD(st->heartbeat, 1);
		if (move_every && now - last_move >= move_every * 1000000LL) {
			last_move = now;
			want_move = 1;
		}
		if (exit_after && now - start >= exit_after * 1000000LL)
			break;
		if (idle_in_vdso) {
			/* i386: glibc sleeps inside __kernel_vsyscall */
			struct timespec d = { idle_us / 1000000, idle_us % 1000000 * 1000 };

			clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
		} else if (!busy) {
			/* leave CPU to the others; workers are the hammering kind */
			struct ktimespec d = { 0, 100000 };

			RAW4(NR_CLOCK_NANOSLEEP_K, CLOCK_MONOTONIC, 0, &d, 0);
		}
	}

	if (use_signals) {
		struct itimerval off = { { 0, 0 }, { 0, 0 } };

		setitimer(ITIMER_REAL, &off, NULL);
	}
	flush_calls(&t);
	__atomic_store_n(&quit, 1, __ATOMIC_SEQ_CST);
	for (long i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	ST_SET(st->threads, 0);
	if (move_every && !st->self_moves)
		fail("--move-every-ms: no self-move happened", NOVAL);
	return __atomic_load_n(&st->errors, __ATOMIC_SEQ_CST) ? 1 : 0;
}
