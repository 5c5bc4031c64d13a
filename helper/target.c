// SPDX-License-Identifier: GPL-2.0-only
/* helper/target.c: hold a target: seize it, inject syscalls into any x86 process, release it. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "target.h"
#include "out.h"
#include "maps.h"
#include "proc.h"

#define USER64_CS 0x33
#define USER32_CS 0x23
#define USER_DS 0x2b

#define LEADER_EXITED "thread-group leader %d has exited; its other threads still run, but " \
	"the process's memory is no longer reachable through the leader"

static struct tthread *find_thread(struct target *t, pid_t tid)
{
	for (int i = 0; i < t->nthreads; i++)
		if (t->th[i].tid == tid)
			return &t->th[i];
	return NULL;
}

static void drop_thread(struct target *t, struct tthread *th)
{
	*th = t->th[--t->nthreads];
}

/* Its state letter from /proc/PID/task/TID/stat, '?' if unreadable. */
static char thread_state(pid_t pid, pid_t tid)
{
	char state = '?';

	proc_thread_state(pid, tid, &state);
	return state;
}

/*
 * Wait until @tid sits in its interrupt stop. Signals that reach it first
 * are handed back to it unchanged (the pending interrupt stops it right
 * after). Returns 0, -ESRCH if the thread died, or -ETIME if it did not stop
 * within STOP_TIMEOUT_MS: a thread sleeping uninterruptibly (a fault on a
 * userfaultfd page taken by get_user_pages() waits so) cannot stop, and an
 * exiting leader becomes a zombie that waitpid() does not report while
 * other threads live. SIGCHLD, blocked by target_seize(), says when to look
 * again.
 */
#define STOP_TIMEOUT_MS 1000
#define STOP_POLL_MS 20

static int wait_interrupt_stop(pid_t pid, pid_t tid)
{
	struct timespec slice = { 0, STOP_POLL_MS * 1000000L };
	sigset_t chld;
	int st, waited = 0;
	pid_t r;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		r = waitpid(tid, &st, __WALL | WNOHANG);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0) {
			char state;

			if (sigtimedwait(&chld, NULL, &slice) >= 0)
				continue;	/* some child changed state: look again */
			waited += STOP_POLL_MS;
			state = thread_state(pid, tid);
			if (state == 'Z' || state == 'X' || state == '?')
				return -ESRCH;
			if (waited >= STOP_TIMEOUT_MS)
				return -ETIME;
			continue;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH;
		if (!WIFSTOPPED(st))
			continue;
		if ((st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		if ((st >> 16) == 0)	/* signal-delivery-stop: deliver it as if we were not here */
			ptrace(PTRACE_CONT, tid, 0, (void *)(long)WSTOPSIG(st));
		else
			ptrace(PTRACE_CONT, tid, 0, 0);
	}
}

/*
 * While a target is held, run the helper at the highest nice level: a
 * target's busy threads would otherwise compete with it for the CPU and
 * stretch the time it stays stopped. (Not SCHED_FIFO: a real-time tracer
 * was seen to starve stopping tracees on the same CPU for a whole RT
 * throttling period.) Best effort; undone at release.
 */
static void boost(struct target *t)
{
	errno = 0;
	t->nice_saved = getpriority(PRIO_PROCESS, 0);
	t->boosted = errno == 0 && setpriority(PRIO_PROCESS, 0, -20) == 0;
}

static void unboost(struct target *t)
{
	if (t->boosted)
		setpriority(PRIO_PROCESS, 0, t->nice_saved);
	t->boosted = 0;
}

int target_seize(struct target *t, pid_t pid, char *why, size_t whylen)
{
	static pid_t tids[TARGET_MAX_THREADS];
	int changed, n, err;
	sigset_t chld;

	memset(t, 0, sizeof(*t));
	/* before anything is touched, so that a kill gets in before or not at all */
	err = hold_begin(&t->hold, why, whylen);
	if (err)
		return err;
	/* wait_interrupt_stop() waits for SIGCHLD: it must stay pending, not be discarded */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	boost(t);
	t->pid = pid;
	t->memfd = -1;
	t->th = calloc(TARGET_MAX_THREADS, sizeof(*t->th));
	if (!t->th) {
		snprintf(why, whylen, "out of memory for the thread table of %d", (int)pid);
		target_release(t);
		return -ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &t->t_seize);
	/* threads may be created until all are stopped: repeat until nothing new */
	do {
		changed = 0;
		n = proc_tids(pid, tids, TARGET_MAX_THREADS);
		if (n < 0) {
			err = n == -ENOENT ? -ESRCH : n;
			snprintf(why, whylen, "cannot list threads of %d: %s", (int)pid, strerror(-err));
			goto fail;
		}
		for (int i = 0; i < n; i++) {
			struct tthread *th;

			if (find_thread(t, tids[i]))
				continue;
			if (ptrace(PTRACE_SEIZE, tids[i], 0, 0) < 0) {
				int tracer;

				if (errno == ESRCH)
					continue;	/* the thread exited meanwhile */
				err = -errno;
				tracer = proc_tracer(pid);
				if (err == -EPERM && tids[i] == pid && proc_leader_exited(pid)) {
					err = -EOPNOTSUPP;
					snprintf(why, whylen, LEADER_EXITED, (int)pid);
				} else if (err == -EPERM && strchr("ZX", thread_state(pid, tids[i]))) {
					continue;	/* an exited thread not yet reaped */
				} else if (err == -EPERM && tracer > 0) {
					err = -EBUSY;
					snprintf(why, whylen, "target is already traced by pid %d", tracer);
				} else {
					snprintf(why, whylen, "cannot seize thread %d: %s", (int)tids[i],
						 strerror(-err));
				}
				goto fail;
			}
			th = &t->th[t->nthreads++];
			th->tid = tids[i];
			th->pending = 1;	/* seized, stop not yet seen */
			ptrace(PTRACE_INTERRUPT, th->tid, 0, 0);
			changed = 1;
		}
		/* all interrupts are in flight: now collect the stops */
		for (int i = 0; i < t->nthreads; i++) {
			struct tthread *th = &t->th[i];

			if (!th->pending)
				continue;
			th->pending = 0;
			err = wait_interrupt_stop(pid, th->tid);
			if (err == -ETIME) {
				/* left seized: the kernel detaches it when the helper exits */
				th->unstoppable = 1;
				err = -EBUSY;
				snprintf(why, whylen, "thread %d did not stop within %d ms (state %c): it "
					 "sleeps uninterruptibly in the kernel (a userfaultfd page, a "
					 "hung file system)",
					 (int)th->tid, STOP_TIMEOUT_MS, thread_state(pid, th->tid));
				goto fail;
			}
			if (err < 0) {
				ptrace(PTRACE_DETACH, th->tid, 0, 0);
				drop_thread(t, th);
				i--;
			}
		}
	} while (changed);
	if (!find_thread(t, pid)) {
		err = -ESRCH;
		snprintf(why, whylen, "target %d exited", (int)pid);
		if (proc_leader_exited(pid)) {
			err = -EOPNOTSUPP;
			snprintf(why, whylen, LEADER_EXITED, (int)pid);
		}
		goto fail;
	}
	for (int i = 0; i < t->nthreads; i++) {
		struct tthread *th = &t->th[i];

		if (ptrace(PTRACE_GETREGS, th->tid, 0, &th->regs) < 0 ||
		    ptrace(PTRACE_GETSIGMASK, th->tid, (void *)sizeof(th->sigmask), &th->sigmask) < 0) {
			err = -errno;
			snprintf(why, whylen, "cannot read registers of thread %d: %s", (int)th->tid,
				 strerror(-err));
			goto fail;
		}
		th->mode = th->regs.cs == USER32_CS ? VDSO_TYPE_I386 : VDSO_TYPE_X86_64;
	}
	t->memfd = mem_open(pid);
	if (t->memfd < 0) {
		err = t->memfd;
		snprintf(why, whylen, "cannot open memory of %d: %s", (int)pid, err_text(-err));
		goto fail;
	}
	return 0;
fail:
	target_release(t);
	return err;
}

void target_choose_stub(struct target *t, const struct maps *m)
{
	for (int i = 0; i < m->n; i++) {
		/* private: a forced write to it stays in the target (copy on write) */
		if (m->e[i].perms[2] != 'x' || m->e[i].perms[3] != 'p' || m->e[i].name[0] != '/' ||
		    m->e[i].end - m->e[i].start < 8)
			continue;
		t->stub = m->e[i].start;
		return;
	}
}

/* An executable file-backed page to run "syscall; int3" from. */
static int place_stub(struct target *t)
{
	static const unsigned char code[8] = { 0x0f, 0x05, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc };
	int err;

	if (t->stub_written)
		return 0;
	if (!t->stub) {
		struct maps m;

		err = maps_read(t->pid, &m);
		if (err)
			return err;
		target_choose_stub(t, &m);
		maps_free(&m);
	}
	if (!t->stub)
		return -ENOEXEC;
	err = mem_read(t->memfd, t->stub, t->stub_saved, sizeof(t->stub_saved));
	if (err)
		return err;
	err = mem_write(t->memfd, t->stub, code, sizeof(code));
	if (err)
		return err;
	t->stub_written = 1;
	return 0;
}

int target_syscall(struct target *t, long nr, unsigned long a1, unsigned long a2,
		   unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6,
		   long *ret)
{
	struct tthread *th = find_thread(t, t->pid);
	struct user_regs_struct r;
	/* everything blocked but SIGTRAP: blocking it would make int3 reset its handler */
	uint64_t mask = ~(1ULL << (SIGTRAP - 1));
	int err, st;

	if (!th)
		return -ESRCH;
	err = place_stub(t);
	if (err)
		return err;
	th->dirty = 1;
	r = th->regs;
	r.rip = t->stub;
	r.cs = USER64_CS;
	r.ss = USER_DS;
	r.orig_rax = (unsigned long)-1;	/* no syscall restart on the way out */
	r.rax = (unsigned long)nr;
	r.rdi = a1;
	r.rsi = a2;
	r.rdx = a3;
	r.r10 = a4;
	r.r8 = a5;
	r.r9 = a6;
	if (ptrace(PTRACE_SETSIGMASK, th->tid, (void *)sizeof(mask), &mask) < 0 ||
	    ptrace(PTRACE_SETREGS, th->tid, 0, &r) < 0 ||
	    ptrace(PTRACE_CONT, th->tid, 0, 0) < 0)
		return -errno;
	t->injections++;
	for (;;) {
		if (waitpid(th->tid, &st, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			drop_thread(t, th);
			return -ESRCH;
		}
		if (!WIFSTOPPED(st))
			continue;
		if ((st >> 16) == 0 && WSTOPSIG(st) == SIGTRAP) {
			if (ptrace(PTRACE_GETREGS, th->tid, 0, &r) < 0)
				return -errno;
			if (r.rip == t->stub + 3)
				break;
		}
		if ((st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP && WSTOPSIG(st) != SIGSTOP) {
			/* a fault in our stub: stop injecting, the caller rolls back */
			th->in_trap = 1;
			return -EFAULT;
		}
		/* group-stop or SIGSTOP: keep going, the stop is re-raised at detach */
		if (ptrace(PTRACE_CONT, th->tid, 0, 0) < 0)
			return -errno;
	}
	th->in_trap = 1;
	*ret = (long)r.rax;
	return 0;
}

void target_unstub(struct target *t)
{
	if (t->stub_written && t->memfd >= 0)
		mem_write(t->memfd, t->stub, t->stub_saved, sizeof(t->stub_saved));
	t->stub_written = 0;
}

void target_release(struct target *t)
{
	struct sched_param rt = { .sched_priority = 1 }, other = { .sched_priority = 0 };
	int fifo;

	if (!t->th) {
		unboost(t);
		hold_end(&t->hold);
		return;
	}
	target_unstub(t);
	/* seized on a failed path before its stop was collected: collect it now */
	for (int i = 0; i < t->nthreads; i++) {
		if (t->th[i].pending) {
			t->th[i].pending = 0;
			if (wait_interrupt_stop(t->pid, t->th[i].tid) == -ETIME)
				t->th[i].unstoppable = 1;
		}
	}
	/*
	 * Real-time only for this loop: it never waits (every thread is
	 * stopped), and without it the threads already let go preempt the
	 * helper and stretch the release of the others many times over.
	 */
	fifo = sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &rt) == 0;
	for (int i = 0; i < t->nthreads; i++) {
		struct tthread *th = &t->th[i];

		if (th->unstoppable)
			continue;	/* never stopped: nothing to restore */
		if (th->dirty) {
			ptrace(PTRACE_SETREGS, th->tid, 0, &th->regs);
			ptrace(PTRACE_SETSIGMASK, th->tid, (void *)sizeof(th->sigmask), &th->sigmask);
		}
		/* from our int3 stop, data 0 discards the SIGTRAP; a restart happens by itself */
		ptrace(PTRACE_DETACH, th->tid, 0, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t->t_detach);
	if (fifo)
		sched_setscheduler(0, SCHED_OTHER, &other);
	unboost(t);
	if (t->memfd >= 0)
		close(t->memfd);
	t->memfd = -1;
	free(t->th);
	t->th = NULL;
	/* last: every thread runs again, as the caller left it */
	hold_end(&t->hold);
}

long target_stop_ns(const struct target *t)
{
	return (t->t_detach.tv_sec - t->t_seize.tv_sec) * 1000000000L +
	       (t->t_detach.tv_nsec - t->t_seize.tv_nsec);
}

int target_adopt(struct target *t, pid_t pid)
{
	struct tthread *th;
	int err;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->memfd = -1;
	t->th = calloc(1, sizeof(*t->th));
	if (!t->th)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &t->t_seize);
	th = &t->th[0];
	th->tid = pid;
	t->nthreads = 1;
	if (ptrace(PTRACE_GETREGS, pid, 0, &th->regs) < 0 ||
	    ptrace(PTRACE_GETSIGMASK, pid, (void *)sizeof(th->sigmask), &th->sigmask) < 0) {
		err = -errno;
		goto fail;
	}
	th->mode = th->regs.cs == USER32_CS ? VDSO_TYPE_I386 : VDSO_TYPE_X86_64;
	/* execve has not returned yet: on its way out it writes its result, 0, to rax */
	th->regs.rax = 0;
	t->memfd = mem_open(pid);
	if (t->memfd < 0) {
		err = t->memfd;
		goto fail;
	}
	/*
	 * For the same reason the first injected syscall number is replaced
	 * by 0 (read): make that a harmless read(-1) that ends at our int3.
	 */
	{
		long ret;

		err = target_syscall(t, 0, (unsigned long)-1, 0, 0, 0, 0, 0, &ret);
		if (err)
			goto fail_release;
	}
	return 0;
fail_release:
	target_release(t);
	return err;
fail:
	free(t->th);
	t->th = NULL;
	return err;
}

void target_set_ip(struct tthread *th, unsigned long ip)
{
	th->regs.rip = ip;
	th->dirty = 1;
}

void target_set_regs(struct tthread *th, const struct user_regs_struct *regs)
{
	th->regs = *regs;
	th->dirty = 1;
}

int target_step(struct target *t, struct tthread *th)
{
	uint64_t mask = ~(1ULL << (SIGTRAP - 1));
	int st;

	(void)t;
	if (!th->masked) {
		if (ptrace(PTRACE_SETSIGMASK, th->tid, (void *)sizeof(mask), &mask) < 0)
			return -errno;
		th->masked = 1;
		th->dirty = 1;
	}
	if (ptrace(PTRACE_SINGLESTEP, th->tid, 0, 0) < 0)
		return -errno;
	for (;;) {
		if (waitpid(th->tid, &st, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH;
		if (WIFSTOPPED(st) && (st >> 16) == 0 && WSTOPSIG(st) == SIGTRAP)
			break;
		if (WIFSTOPPED(st) && (st >> 16) == 0 && WSTOPSIG(st) != SIGSTOP) {
			th->in_trap = 1;
			return -EFAULT;
		}
		if (ptrace(PTRACE_SINGLESTEP, th->tid, 0, 0) < 0)
			return -errno;
	}
	th->in_trap = 1;
	if (ptrace(PTRACE_GETREGS, th->tid, 0, &th->regs) < 0)
		return -errno;
	return 0;
}

int target_sud_active(struct target *t)
{
	/* struct ptrace_sud_config (Linux 6.4+): mode, selector, offset, len */
	struct { uint64_t mode, selector, offset, len; } cfg = { 0 };

	if (ptrace(0x4211 /* PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG */, t->pid,
		   (void *)sizeof(cfg), &cfg) < 0)
		return 0;	/* an older kernel: no syscall user dispatch to query */
	return cfg.mode != 0;
}
