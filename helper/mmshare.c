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
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmshare.h"

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
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	p = strstr(buf, "\nVmPeak:");
	return p ? strtol(p + 8, NULL, 10) : NO_MM;
}

static void found(struct scan *sc, pid_t pid)
{
	if (sc->s->n < MMSHARE_LIST)
		sc->s->pid[sc->s->n] = pid;
	sc->s->n++;
}

/*
 * kcmp was denied for this task (an LSM, or a task beyond the helper's
 * privilege). With the target stopped its mm's VmPeak cannot move unless a
 * sharer moves it, and VmPeak never decreases: a task whose VmPeak, read
 * between the target's two readings, differs from them uses another mm.
 * Returns 1 when the task has no mm.
 */
static int compare_denied(struct scan *sc, pid_t tgid, const char *status)
{
	long peak;

	if (!sc->stopped)
		return 0;	/* show: only what kcmp proves */
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
			found(sc, tgid);
			break;
		}
		if (r == -EPERM || r == -EACCES) {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)tgid, (int)tid);
			compare_denied(sc, tgid, path);
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
	char path[64];
	long r = kcmp_vm(sc->target, pid, KCMP_VM);

	sc->s->compared++;
	if (r == 0) {
		found(sc, pid);
		return 0;
	}
	if (r == -ESRCH)
		return 0;
	if (r == -EPERM || r == -EACCES) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		return compare_denied(sc, pid, path) ? compare_threads(sc, pid) : 0;
	}
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
