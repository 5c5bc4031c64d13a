// SPDX-License-Identifier: GPL-2.0-only
/*
 * helper/mmshare.c: find the processes that share a target's mm, with kcmp(2).
 *
 * KCMP_VM tells whether two tasks use the same mm. /proc lists thread-group
 * leaders only, and a leader that exited while its other threads run has no
 * mm any more: such a group is compared through its threads. A task without
 * an mm is recognised by comparing it with a reference that has none, a
 * child of ours that has exited and is not reaped yet; kernel threads have
 * no mm either but keep a fs_struct, which an exited task has dropped.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmshare.h"
#include "proc.h"

#define NO_MM (-1L)

struct scan {
	pid_t target, ref;
	long r_null;		/* how the target's mm compares with no mm at all */
	long peak;		/* the target's VmPeak before the scan (when stopped) */
	int stopped;
	struct mmshare *s;
};

static long kcmp_vm(pid_t a, pid_t b, int type)
{
	long r = syscall(SYS_kcmp, a, b, type, 0UL, 0UL);

	return r < 0 ? -errno : r;
}

/* VmPeak in kB from a status file: NO_MM when it has none, -errno on error. */
static long vm_peak(const char *path)
{
	char buf[4096], *p;
	ssize_t n = proc_read_small(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	p = strstr(buf, "\nVmPeak:");
	return p ? strtol(p + 8, NULL, 10) : NO_MM;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A number from a /proc/sys file; -1 if unreadable. */
static long read_long(const char *path)
{
	char buf[32];

	if (proc_read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static void found(struct scan *sc, pid_t pid)
{
	if (sc->s->n < MMSHARE_LIST)
		sc->s->pid[sc->s->n] = pid;
	sc->s->n++;
}

/*
 * kcmp(KCMP_VM) says 0 for two tasks that both have no mm: once the target
 * has lost its own (it exited, or is exiting) every kernel thread and
 * zombie would "share" it. A match counts only while the target still has
 * its mm; after that the answer is that the target is gone (-ESRCH).
 */
static int matched(struct scan *sc, pid_t pid)
{
	char status[64];
	long peak;

	snprintf(status, sizeof(status), "/proc/%d/status", (int)sc->target);
	peak = vm_peak(status);
	if (peak == NO_MM || peak == -ENOENT || peak == -ESRCH)
		return -ESRCH;
	if (peak < 0)
		return (int)peak;
	found(sc, pid);
	return 0;
}

/*
 * kcmp was denied for task TID of group TGID (an LSM, or a task beyond the
 * helper's privilege). With the target stopped its mm's VmPeak cannot move
 * unless a sharer moves it, and VmPeak never decreases: a task whose VmPeak,
 * read between the target's two readings, differs from them uses another
 * mm. Returns 1 when the task has no mm.
 */
static int compare_denied(struct scan *sc, pid_t tgid, pid_t tid)
{
	char status[64];
	long peak;

	if (!sc->stopped) {
		/* settled by mmshare_recheck() once the target is stopped */
		int i = sc->s->ndenied++;

		if (i < MMSHARE_LIST) {
			sc->s->denied[i] = tid;
			sc->s->denied_tgid[i] = tgid;
		}
		return 0;
	}
	snprintf(status, sizeof(status), "/proc/%d/status", (int)tid);
	peak = vm_peak(status);
	if (peak == NO_MM)
		return 1;
	if (peak == -ENOENT || peak == -ESRCH)
		return 0;	/* gone */
	if (peak >= 0 && peak != sc->peak)
		return 0;
	if (!sc->s->unproven)
		sc->s->unproven = tgid;
	return 0;
}

/* A group whose leader has no mm: compare its other threads. */
static int compare_threads(struct scan *sc, pid_t tgid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)tgid);
	dir = opendir(path);
	if (!dir)
		return 0;	/* gone */
	while ((d = readdir(dir))) {
		pid_t tid = (pid_t)strtol(d->d_name, NULL, 10);
		long r;

		if (tid <= 0 || tid == tgid)
			continue;
		r = kcmp_vm(sc->target, tid, KCMP_VM);
		if (r == 0) {
			ret = matched(sc, tgid);
			break;
		}
		if (r == -EPERM || r == -EACCES) {
			compare_denied(sc, tgid, tid);
		} else if (r < 0 && r != -ESRCH) {
			ret = (int)r;
			break;
		}
	}
	closedir(dir);
	return ret;
}

static int compare_process(struct scan *sc, pid_t pid)
{
	long r = kcmp_vm(sc->target, pid, KCMP_VM);

	sc->s->compared++;
	if (r == 0)
		return matched(sc, pid);
	if (r == -ESRCH)
		return 0;
	if (r == -EPERM || r == -EACCES)
		return compare_denied(sc, pid, pid) ? compare_threads(sc, pid) : 0;
	if (r < 0)
		return (int)r;
	if (r != sc->r_null)
		return 0;
	/* as far from the target's mm as no mm at all is: does it have one? */
	r = kcmp_vm(pid, sc->ref, KCMP_VM);
	if (r != 0)
		return r < 0 && r != -ESRCH ? (int)r : 0;
	/* no mm: a kernel thread keeps its fs_struct, an exited task does not */
	r = kcmp_vm(pid, sc->ref, KCMP_FS);
	if (r != 0)
		return r < 0 && r != -ESRCH ? (int)r : 0;
	return compare_threads(sc, pid);
}

int mmshare_scan(pid_t pid, int stopped, struct mmshare *s)
{
	struct scan sc = { .target = pid, .stopped = stopped, .s = s };
	char status[64];
	struct dirent *d;
	siginfo_t si;
	DIR *dir;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	s->full = stopped;
	s->t_begin_ns = now_ns();
	/* before anything else: every task created after this has a later pid */
	s->last_pid = read_long("/proc/sys/kernel/ns_last_pid");
	snprintf(status, sizeof(status), "/proc/%d/status", (int)pid);
	if (stopped) {
		sc.peak = vm_peak(status);
		if (sc.peak < 0)
			return sc.peak == NO_MM ? -ESRCH : (int)sc.peak;
	}
	/* the reference without an mm: a child that exits at once, left unreaped */
	sc.ref = vfork();
	if (sc.ref == 0)
		_exit(0);
	if (sc.ref < 0)
		return -errno;
	while (waitid(P_PID, (id_t)sc.ref, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	sc.r_null = kcmp_vm(pid, sc.ref, KCMP_VM);
	if (sc.r_null <= 0) {
		/* 0 would mean the target has no mm: it is exiting */
		ret = sc.r_null == 0 ? -ESRCH : (int)sc.r_null;
		goto out;
	}
	dir = opendir("/proc");
	if (!dir) {
		ret = -errno;
		goto out;
	}
	while (!ret && (d = readdir(dir))) {
		pid_t other;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		other = (pid_t)strtol(d->d_name, NULL, 10);
		if (other == pid || other == sc.ref)
			continue;
		ret = compare_process(&sc, other);
	}
	closedir(dir);
	if (!ret && stopped && vm_peak(status) != sc.peak)
		s->changed = 1;
out:
	while (waitpid(sc.ref, NULL, 0) < 0 && errno == EINTR)
		;
	return ret;
}

/*
 * Pids are handed out in a cycle: the tasks created since the scan began
 * hold the pids after its ns_last_pid, up to the current one, unless the
 * allocator went round the whole cycle meanwhile. That takes pid_max
 * clone()s, each followed by an exit and a reap before its pid is free
 * again: well over 10 us of CPU (about 150 us measured on a 2-CPU VM), so
 * CLONES_PER_MS per CPU per millisecond is a bound, and the window allows
 * half a cycle at that rate. Past the window, or with too many pids to
 * try, the full scan runs instead.
 */
#define CLONES_PER_MS 100
#define RECHECK_MAX_PIDS 4096

static int recheck_window_ok(const struct mmshare *s, long pid_max)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long long limit_ns;

	if (cpus < 1 || pid_max < 1)
		return 0;
	limit_ns = (long long)pid_max * 1000000LL / (2LL * CLONES_PER_MS * cpus);
	return now_ns() - s->t_begin_ns < limit_ns;
}

/* A task found sharing: is it one of the target's own threads? */
static int own_thread(pid_t pid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid);
	return access(path, F_OK) == 0;
}

static pid_t tgid_of(pid_t tid)
{
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (proc_read_small(path, buf, sizeof(buf)) <= 0)
		return tid;
	p = strstr(buf, "\nTgid:");
	return p ? (pid_t)strtol(p + 6, NULL, 10) : tid;
}

int mmshare_recheck(pid_t pid, struct mmshare *s)
{
	struct scan sc = { .target = pid, .stopped = 1, .s = s };
	long pid_max = read_long("/proc/sys/kernel/pid_max");
	long last = read_long("/proc/sys/kernel/ns_last_pid");
	long from = s->last_pid, count;
	char status[64];
	int ret = 0;

	if (s->n || s->unproven || s->changed)
		return 0;	/* already refused */
	if (from < 0 || last < 0 || pid_max <= 1 || s->ndenied > MMSHARE_LIST ||
	    !recheck_window_ok(s, pid_max))
		return mmshare_scan(pid, 1, s);
	count = last >= from ? last - from : pid_max - 1 - from + last;
	if (count > RECHECK_MAX_PIDS)
		return mmshare_scan(pid, 1, s);
	snprintf(status, sizeof(status), "/proc/%d/status", (int)pid);
	sc.peak = vm_peak(status);
	if (sc.peak < 0)
		return sc.peak == NO_MM ? -ESRCH : (int)sc.peak;
	s->full = 0;
	for (long i = 1; !ret && i <= count; i++) {
		pid_t tid = (pid_t)((from + i - 1) % (pid_max - 1) + 1);
		long r;

		if (tid == pid)
			continue;
		r = kcmp_vm(pid, tid, KCMP_VM);
		if (r == -ESRCH)
			continue;
		s->compared++;
		if (r > 0)
			continue;
		if (r == 0) {
			if (!own_thread(pid, tid))
				ret = matched(&sc, tgid_of(tid));
		} else if (r == -EPERM || r == -EACCES) {
			compare_denied(&sc, tgid_of(tid), tid);
		} else {
			ret = (int)r;
		}
	}
	for (int i = 0; !ret && i < s->ndenied; i++) {
		if (compare_denied(&sc, s->denied_tgid[i], s->denied[i]) &&
		    s->denied[i] == s->denied_tgid[i])
			ret = compare_threads(&sc, s->denied_tgid[i]);	/* its leader exited */
	}
	if (!ret && vm_peak(status) != sc.peak)
		s->changed = 1;
	return ret;
}
