// SPDX-License-Identifier: GPL-2.0-only
/*
 * Access policy, process hygiene and privilege drop for vdso-helper.
 *
 * The helper runs setuid root so that a permitted caller is not stopped by
 * Yama's ptrace scope and so that an operator group can act on other users'
 * processes. Everything here exists to make sure that privilege buys nothing
 * else: see vdso-helper(8), SECURITY, for the rules in prose.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "policy.h"
#include "audit.h"
#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define PF_KTHREAD_FLAG 0x00200000UL	/* include/linux/sched.h PF_KTHREAD */
#define CONFIG_MAX_SIZE 4096
#define STATUS_MAX_SIZE 16384
#define DEFAULT_OPERATOR_MIN_UID 1000

extern char **environ;

static struct caller g_caller;
static int g_caller_set;
static gid_t *g_groups;		/* the caller's full supplementary group list */
static int g_ngroups;
static char **g_saved_env;
static mode_t g_saved_umask = 077;
static char *g_empty_env[] = { NULL };

static struct caller g_last_checked;	/* caller of the last policy_check() */
static int g_last_checked_set;

static int g_have_operator;
static gid_t g_operator_gid;
static char g_operator_name[64];
static uid_t g_operator_min_uid = DEFAULT_OPERATOR_MIN_UID;

/* Limits a caller could lower to make the helper die half way through. */
static const int raised_limits[] = {
	RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE,
};
#define NLIMITS (sizeof(raised_limits) / sizeof(raised_limits[0]))
static struct rlimit g_saved_limits[NLIMITS];
static int g_limits_saved;

/* ---- process hygiene ---------------------------------------------------- */

static void ensure_std_fds(void)
{
	int fd;

	/*
	 * A caller can start us with 0, 1 or 2 closed; the next file we open
	 * would then take that number and receive our output.
	 */
	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR | O_NOCTTY) != fd)
			abort();
	}
}

static void close_other_fds(void)
{
	struct rlimit rl;
	long fd, max = 65536;

	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max)
		max = (long)rl.rlim_cur;
	for (fd = 3; fd < max; fd++)
		close((int)fd);
}

static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* glibc-reserved real-time signals fail with EINVAL: harmless. */
		sigaction(sig, &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void raise_limits(void)
{
	size_t i;

	for (i = 0; i < NLIMITS; i++) {
		struct rlimit want;

		if (getrlimit(raised_limits[i], &g_saved_limits[i]))
			return;
		if (raised_limits[i] == RLIMIT_CORE) {
			/* Never dump a privileged image. */
			want.rlim_cur = 0;
			want.rlim_max = g_saved_limits[i].rlim_max;
		} else if (raised_limits[i] == RLIMIT_NOFILE) {
			want.rlim_cur = 1024;
			want.rlim_max = 1024;
			if (g_saved_limits[i].rlim_max > want.rlim_max)
				want.rlim_max = g_saved_limits[i].rlim_max;
			if (g_saved_limits[i].rlim_cur > want.rlim_cur)
				want.rlim_cur = g_saved_limits[i].rlim_cur;
		} else {
			want.rlim_cur = RLIM_INFINITY;
			want.rlim_max = RLIM_INFINITY;
		}
		/* Raising a hard limit needs root; without it take the hard one. */
		if (setrlimit(raised_limits[i], &want)) {
			want.rlim_max = g_saved_limits[i].rlim_max;
			if (want.rlim_cur > want.rlim_max)
				want.rlim_cur = want.rlim_max;
			setrlimit(raised_limits[i], &want);
		}
	}
	g_limits_saved = 1;
}

static int restore_limits(void)
{
	size_t i;

	if (!g_limits_saved)
		return 0;
	for (i = 0; i < NLIMITS; i++)
		if (setrlimit(raised_limits[i], &g_saved_limits[i]))
			return -errno;
	return 0;
}

void sanitize_process(void)
{
	ensure_std_fds();
	close_other_fds();
	reset_signals();
	g_saved_umask = umask(077);
	/*
	 * The initial environment lives on the stack and clearenv() does not
	 * free it, so the saved pointer stays valid for `exec`.
	 */
	g_saved_env = environ;
	clearenv();
	raise_limits();
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

char **sanitized_environ(void)
{
	return g_saved_env ? g_saved_env : g_empty_env;
}

/* ---- the caller --------------------------------------------------------- */

int caller_init(struct caller *c)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	int n;

	if (getresuid(&ruid, &euid, &suid) || getresgid(&rgid, &egid, &sgid))
		return -errno;
	memset(c, 0, sizeof(*c));
	c->uid = ruid;
	c->euid = euid;
	c->gid = rgid;
	n = getgroups(0, NULL);
	if (n < 0)
		return -errno;
	free(g_groups);
	g_groups = calloc((size_t)n + 1, sizeof(gid_t));
	if (!g_groups)
		return -ENOMEM;
	n = getgroups(n, g_groups);
	if (n < 0)
		return -errno;
	g_ngroups = n;
	c->ngroups = n < 64 ? n : 64;
	memcpy(c->groups, g_groups, (size_t)c->ngroups * sizeof(gid_t));
	g_caller = *c;
	g_caller_set = 1;
	return 0;
}

const struct caller *policy_caller(void)
{
	return g_caller_set ? &g_caller : NULL;
}

static int caller_in_group(const struct caller *c, gid_t g)
{
	int i;

	if (c->gid == g)
		return 1;
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] == g)
			return 1;
	/* Past the 64 the struct holds, the full list saved by caller_init(). */
	if (g_caller_set && c->uid == g_caller.uid)
		for (i = 0; i < g_ngroups; i++)
			if (g_groups[i] == g)
				return 1;
	return 0;
}

/* ---- configuration ------------------------------------------------------ */

static void config_warn(const char *path, const char *why)
{
	fprintf(stderr, "vdso-helper: warning: ignoring %s: %s\n", path, why);
	audit_log(NULL, "config", 0, "ignored", "%s: %s", path, why);
}

static int unsafe_mode(const struct stat *st, int is_dir)
{
	if (st->st_uid != 0)
		return 1;
	/* A sticky directory keeps others from replacing root's entries. */
	if (is_dir && (st->st_mode & S_ISVTX))
		return 0;
	return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/*
 * Open path component by component without following symlinks, checking
 * every directory on the way: a root-owned file is no better than its least
 * protected parent, which could be renamed away under us.
 */
static char g_why[160];

/* A reason naming the failed step and errno, in a static buffer. */
static const char *why_errno(const char *what, int err)
{
	snprintf(g_why, sizeof(g_why), "%s: %s", what, strerror(err));
	return g_why;
}

static int open_trusted(const char *path, const char **why)
{
	char buf[PATH_MAX];
	char *p, *slash;
	struct stat st;
	int dfd, fd, err;

	if (path[0] != '/' || strlen(path) >= sizeof(buf)) {
		*why = "not an absolute path";
		return -EINVAL;
	}
	strcpy(buf, path);
	dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = errno;
		*why = why_errno("cannot open /", err);
		return -err;
	}
	p = buf + 1;
	for (;;) {
		if (fstat(dfd, &st)) {
			err = errno;
			*why = why_errno("cannot stat a parent directory", err);
			goto fail;
		}
		if (unsafe_mode(&st, 1)) {
			*why = "a parent directory is not root-owned or is writable by group or others";
			err = EPERM;
			goto fail;
		}
		slash = strchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
		fd = openat(dfd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			err = errno;
			*why = err == ENOTDIR || err == ELOOP ?
			       "a parent directory is a symlink or not a directory" :
			       why_errno("cannot open a parent directory", err);
			goto fail;
		}
		close(dfd);
		dfd = fd;
		p = slash + 1;
	}
	fd = openat(dfd, p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		*why = err == ELOOP ? "is a symlink" : why_errno("cannot open", err);
		goto fail;
	}
	close(dfd);
	return fd;
fail:
	close(dfd);
	return -err;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int config_number(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 10)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* The whole file is taken or left: a half-understood policy is no policy. */
int policy_parse_config(const char *path, char *text)
{
	char *line, *next, *key, *val, *eq;
	char name[sizeof(g_operator_name)] = "";
	unsigned long min_uid = DEFAULT_OPERATOR_MIN_UID, num;
	int have_group = 0, lineno = 0;
	gid_t gid = 0;
	char why[128];

	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		key = trim(line);
		if (!*key)
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(why, sizeof(why), "line %d: expected key = value", lineno);
			config_warn(path, why);
			return -EINVAL;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if (!strcmp(key, "operator_group")) {
			struct group gr, *res = NULL;
			char grbuf[4096];

			if (!*val || strlen(val) >= sizeof(name)) {
				snprintf(why, sizeof(why), "line %d: bad operator_group", lineno);
				config_warn(path, why);
				return -EINVAL;
			}
			if (config_number(val, UINT_MAX - 1, &num) == 0) {
				gid = (gid_t)num;
			} else if (getgrnam_r(val, &gr, grbuf, sizeof(grbuf), &res) == 0 && res) {
				gid = gr.gr_gid;
			} else {
				snprintf(why, sizeof(why), "line %d: no such group", lineno);
				config_warn(path, why);
				return -EINVAL;
			}
			if (gid == 0) {
				snprintf(why, sizeof(why), "line %d: the root group cannot be the operator group", lineno);
				config_warn(path, why);
				return -EINVAL;
			}
			strcpy(name, val);
			have_group = 1;
		} else if (!strcmp(key, "operator_min_uid")) {
			if (config_number(val, UINT_MAX - 1, &num) || num < 1) {
				snprintf(why, sizeof(why), "line %d: bad operator_min_uid", lineno);
				config_warn(path, why);
				return -EINVAL;
			}
			min_uid = num;
		} else {
			snprintf(why, sizeof(why), "line %d: unknown key", lineno);
			config_warn(path, why);
			return -EINVAL;
		}
	}
	g_have_operator = have_group;
	g_operator_gid = gid;
	strcpy(g_operator_name, name);
	g_operator_min_uid = (uid_t)min_uid;
	return 0;
}

int policy_load_config(const char *path)
{
	char text[CONFIG_MAX_SIZE + 1];
	const char *why = "";
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd;

	if (!path)
		path = POLICY_DEFAULT_CONFIG;
	g_have_operator = 0;
	fd = open_trusted(path, &why);
	if (fd == -ENOENT)
		return 0;	/* no config: no operator group */
	if (fd < 0) {
		config_warn(path, why);
		return fd;
	}
	if (fstat(fd, &st)) {
		int err = errno;

		close(fd);
		config_warn(path, why_errno("cannot stat", err));
		return -err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		config_warn(path, "not a regular file");
		return -EPERM;
	}
	if (unsafe_mode(&st, 0)) {
		close(fd);
		config_warn(path, st.st_uid ? "not owned by root" : "writable by group or others");
		return -EPERM;
	}
	while (len < sizeof(text)) {
		n = read(fd, text + len, sizeof(text) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > CONFIG_MAX_SIZE) {
		config_warn(path, "larger than 4096 bytes");
		return -EFBIG;
	}
	if (memchr(text, '\0', len)) {
		config_warn(path, "contains a NUL byte");
		return -EINVAL;
	}
	text[len] = '\0';
	return policy_parse_config(path, text);
}

const char *policy_operator_group(void)
{
	return g_have_operator ? g_operator_name : NULL;
}

/* ---- the target --------------------------------------------------------- */

int pidfd_open_checked(pid_t pid)
{
	long fd;

	if (pid <= 0)
		return -EINVAL;
	fd = syscall(SYS_pidfd_open, pid, 0U);
	if (fd < 0)
		return -errno;
	return (int)fd;
}

static int pidfd_alive(int pidfd)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0U) == 0)
		return 0;
	return errno == ESRCH ? -ESRCH : -errno;
}

/* The PID a pidfd names, from /proc/self/fdinfo; -1 once it has been reaped. */
static int pidfd_pid(int pidfd, pid_t *out)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	long v;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strstr(buf, "\nPid:\t");
	if (!p)
		return -EINVAL;
	v = strtol(p + 6, NULL, 10);
	*out = (pid_t)v;
	return 0;
}

/* What /proc says about a target, for the verdict. */
struct target_facts {
	uid_t uid[4];		/* real, effective, saved, fs */
	gid_t gid[4];
	unsigned long long capprm;
	int ngroups;		/* supplementary groups ("Groups:"), -1 if more than fit */
	gid_t groups[64];
	unsigned long flags;	/* /proc/P/stat field 9 */
	char state;
	int kthread;		/* "Kthread:\t1" in status (newer kernels) */
	int threads;		/* "Threads:", an exited leader included */
	int dumpable;
	char name[32];
};

static ssize_t read_at(int dfd, const char *name, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

static int parse_ids(const char *line, unsigned int ids[4])
{
	return sscanf(line, "%u %u %u %u", &ids[0], &ids[1], &ids[2], &ids[3]) == 4 ? 0 : -EINVAL;
}

static int read_target_facts(int procfd, struct target_facts *t)
{
	static char buf[STATUS_MAX_SIZE];
	int have_uid = 0, have_gid = 0, have_cap = 0, have_groups = 0;
	char *line, *next, *p;
	unsigned int ids[4];
	struct stat st;
	ssize_t n;
	int i, field;

	memset(t, 0, sizeof(*t));
	n = read_at(procfd, "status", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "Name:\t", 6)) {
			snprintf(t->name, sizeof(t->name), "%s", line + 6);
		} else if (!strncmp(line, "Uid:\t", 5)) {
			if (parse_ids(line + 5, ids))
				return -EINVAL;
			for (i = 0; i < 4; i++)
				t->uid[i] = ids[i];
			have_uid = 1;
		} else if (!strncmp(line, "Gid:\t", 5)) {
			if (parse_ids(line + 5, ids))
				return -EINVAL;
			for (i = 0; i < 4; i++)
				t->gid[i] = ids[i];
			have_gid = 1;
		} else if (!strncmp(line, "CapPrm:\t", 8)) {
			t->capprm = strtoull(line + 8, NULL, 16);
			have_cap = 1;
		} else if (!strncmp(line, "Groups:\t", 8)) {
			char *q = line + 8, *end;

			t->ngroups = 0;
			for (;;) {
				unsigned long g = strtoul(q, &end, 10);

				if (end == q)
					break;
				if (t->ngroups == (int)(sizeof(t->groups) / sizeof(t->groups[0]))) {
					t->ngroups = -1;
					break;
				}
				t->groups[t->ngroups++] = (gid_t)g;
				q = end;
			}
			have_groups = 1;
		} else if (!strncmp(line, "Threads:\t", 9)) {
			t->threads = atoi(line + 9);
		} else if (!strncmp(line, "Kthread:\t", 9)) {
			t->kthread = line[9] == '1';
		}
	}
	if (!have_uid || !have_gid || !have_cap || !have_groups)
		return -EINVAL;

	n = read_at(procfd, "stat", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	/* comm may hold spaces and ')': the fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	t->state = *p;
	for (field = 3; field < 9 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return -EINVAL;
	t->flags = strtoul(p, NULL, 10);

	/*
	 * Dumpability is not exported, but procfs makes every non-directory
	 * file of a non-dumpable task owned by root (task_dump_owner()), as the
	 * kernel's own ptrace check would treat it; a dumpable task's files
	 * belong to its effective ids.
	 */
	if (fstatat(procfd, "status", &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	t->dumpable = st.st_uid == t->uid[1] && st.st_gid == t->gid[1];
	return 0;
}

static void refuse(struct verdict *v, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse(struct verdict *v, int err, const char *fmt, ...)
{
	va_list ap;

	v->allowed = 0;
	v->err = err;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

static int all_uids(const struct target_facts *t, uid_t uid)
{
	return t->uid[0] == uid && t->uid[1] == uid && t->uid[2] == uid && t->uid[3] == uid;
}

static int all_gids(const struct target_facts *t, gid_t gid)
{
	return t->gid[0] == gid && t->gid[1] == gid && t->gid[2] == gid && t->gid[3] == gid;
}

static int ids_at_least(const struct target_facts *t, uid_t min)
{
	int i;

	for (i = 0; i < 4; i++)
		if (t->uid[i] < min || t->gid[i] == 0)
			return 0;
	return 1;
}

/*
 * A group of the target the caller lacks, or -1 if none. ptrace ignores
 * supplementary groups, but acting through a process that holds a group
 * (say, one given to a service by root) would hand that group's access to
 * the caller, which the helper's privilege must not do.
 */
static long foreign_group(const struct caller *c, const struct target_facts *t)
{
	int i;

	if (t->ngroups < 0)
		return (long)UINT_MAX;
	for (i = 0; i < t->ngroups; i++)
		if (!caller_in_group(c, t->groups[i]))
			return (long)t->groups[i];
	return -1;
}

static int has_group(const struct target_facts *t, gid_t g)
{
	int i;

	if (t->ngroups < 0)
		return 1;
	for (i = 0; i < t->ngroups; i++)
		if (t->groups[i] == g)
			return 1;
	return 0;
}

/* Why a non-root caller may not act on t, for the verdict. */
static void refuse_ownership(const struct caller *c, const struct target_facts *t,
			     struct verdict *v)
{
	if (t->uid[0] != t->uid[1] || t->uid[0] != t->uid[2] || t->uid[0] != t->uid[3])
		refuse(v, EPERM, "target changed identity (uids real %u, effective %u, saved %u, fs %u)",
		       t->uid[0], t->uid[1], t->uid[2], t->uid[3]);
	else if (t->uid[0] != c->uid)
		refuse(v, EPERM, "target is owned by uid %u", t->uid[0]);
	else if (t->gid[0] != t->gid[1] || t->gid[0] != t->gid[2] || t->gid[0] != t->gid[3])
		refuse(v, EPERM, "target changed group (gids real %u, effective %u, saved %u, fs %u)",
		       t->gid[0], t->gid[1], t->gid[2], t->gid[3]);
	else
		refuse(v, EPERM, "target runs as gid %u, caller as gid %u", t->gid[0], c->gid);
}

static void judge(const struct caller *c, const struct target_facts *t, struct verdict *v)
{
	if (t->kthread || (t->flags & PF_KTHREAD_FLAG)) {
		refuse(v, EPERM, "target is a kernel thread");
		return;
	}
	/*
	 * A leader that called pthread_exit() is a zombie whose other threads
	 * run on. Its /proc files no longer show the process's mm (maps, auxv,
	 * exe are empty or gone), ptrace cannot seize it and injection runs in
	 * it: the helper has no safe way in, and "exited" would be wrong.
	 */
	if (t->state == 'Z' && t->threads > 1) {
		refuse(v, EOPNOTSUPP, "thread-group leader has exited; its %d other thread%s still "
		       "run%s, but the process's memory is no longer reachable through the leader",
		       t->threads - 1, t->threads == 2 ? "" : "s", t->threads == 2 ? "s" : "");
		return;
	}
	if (t->state == 'Z' || t->state == 'X') {
		refuse(v, ESRCH, "target has exited");
		return;
	}
	if (c->uid == 0) {
		v->allowed = 1;
		v->err = 0;
		snprintf(v->reason, sizeof(v->reason), "caller is root");
		return;
	}
	if (all_uids(t, c->uid) && all_gids(t, c->gid)) {
		if (!t->dumpable)
			refuse(v, EPERM, "target is not dumpable (it changed credentials or asked not to be traced)");
		else if (t->capprm)
			refuse(v, EPERM, "target holds capabilities (CapPrm %llx)", t->capprm);
		else if (foreign_group(c, t) >= 0)
			refuse(v, EPERM, "target has supplementary group %ld, which the caller lacks",
			       foreign_group(c, t));
		else {
			v->allowed = 1;
			v->err = 0;
			snprintf(v->reason, sizeof(v->reason), "same user");
		}
		return;
	}
	if (g_have_operator && caller_in_group(c, g_operator_gid) &&
	    all_uids(t, t->uid[0]) && all_gids(t, t->gid[0])) {
		if (!ids_at_least(t, g_operator_min_uid))
			refuse(v, EPERM, "target uid %u is below operator_min_uid %u or runs as group root",
			       t->uid[0], (unsigned int)g_operator_min_uid);
		else if (!t->dumpable)
			refuse(v, EPERM, "target is not dumpable (it changed credentials or asked not to be traced)");
		else if (t->capprm)
			refuse(v, EPERM, "target holds capabilities (CapPrm %llx)", t->capprm);
		else if (has_group(t, 0))
			refuse(v, EPERM, "target has the root group among its supplementary groups");
		else {
			v->allowed = 1;
			v->err = 0;
			snprintf(v->reason, sizeof(v->reason), "operator group %s", g_operator_name);
		}
		return;
	}
	refuse_ownership(c, t, v);
}

int policy_check(const struct caller *c, pid_t pid, int pidfd, struct verdict *v)
{
	char path[32];
	struct statfs sfs;
	struct target_facts t;
	int procfd, ret, own_pidfd = -1;

	refuse(v, EPERM, "policy not evaluated");
	if (!c) {
		refuse(v, EINVAL, "no caller");
		return -EINVAL;
	}
	g_last_checked = *c;
	g_last_checked_set = 1;
	if (pid <= 0) {
		refuse(v, ESRCH, "no such process");
		return -ESRCH;
	}
	/* A failed injection into init panics the kernel: refused even for root. */
	if (pid == 1) {
		refuse(v, EPERM, "pid 1 (init) is never a target");
		return 0;
	}
	if (pid == getpid()) {
		refuse(v, EPERM, "target is vdso-helper itself");
		return 0;
	}
	if (pidfd < 0) {
		own_pidfd = pidfd_open_checked(pid);
		if (own_pidfd < 0) {
			if (own_pidfd == -ESRCH)
				refuse(v, ESRCH, "no such process");
			else
				refuse(v, -own_pidfd, "cannot open a pidfd for the target: %s",
				       err_text(-own_pidfd));
			return own_pidfd;
		}
		pidfd = own_pidfd;
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	procfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (procfd < 0) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ESRCH)
			refuse(v, ESRCH, "no such process");
		else
			refuse(v, io_code(-ret), "cannot open %s: %s", path, err_text(-ret));
		goto out;
	}
	if (fstatfs(procfd, &sfs) || sfs.f_type != PROC_SUPER_MAGIC) {
		ret = -EIO;
		refuse(v, EIO, "/proc is not procfs");
		goto out_proc;
	}
	/*
	 * The pidfd pins the process that had this PID when it was opened;
	 * while that process still exists its PID cannot be reused, so if it is
	 * alive now, procfd (opened before this check) names the same process
	 * and everything read through it below is about the right target.
	 */
	ret = pidfd_alive(pidfd);
	if (ret == 0) {
		pid_t named = 0;

		/* A pidfd for another process than pid would confirm the wrong thing. */
		if (pidfd_pid(pidfd, &named) == 0 && named != pid)
			ret = -ESRCH;
	}
	if (ret == -ESRCH) {
		refuse(v, ESRCH, "target exited (its PID may have been reused)");
		goto out_proc;
	} else if (ret) {
		refuse(v, -ret, "cannot confirm the target through its pidfd: %s", strerror(-ret));
		goto out_proc;
	}
	ret = read_target_facts(procfd, &t);
	if (ret) {
		if (ret == -ESRCH || ret == -ENOENT)
			refuse(v, ESRCH, "target exited");
		else
			refuse(v, io_code(-ret), "cannot read the target's status: %s", err_text(-ret));
		goto out_proc;
	}
	judge(c, &t, v);
	ret = 0;
out_proc:
	close(procfd);
out:
	if (own_pidfd >= 0)
		close(own_pidfd);
	return ret;
}

int policy_recheck_verdict(pid_t pid, int pidfd, struct verdict *v)
{
	pid_t now = 0;
	int ret;

	refuse(v, ESRCH, "target exited (its PID may have been reused)");
	if (pidfd < 0 || pidfd_alive(pidfd))
		return -ESRCH;
	ret = pidfd_pid(pidfd, &now);
	if (ret == 0 && now != pid)
		return -ESRCH;
	if (!g_last_checked_set) {
		refuse(v, EPERM, "no policy check before the re-check");
		return -EPERM;
	}
	ret = policy_check(&g_last_checked, pid, pidfd, v);
	if (ret)
		return ret;
	return v->allowed ? 0 : -v->err;
}

int policy_recheck(pid_t pid, int pidfd)
{
	struct verdict v;

	return policy_recheck_verdict(pid, pidfd, &v);
}

/* ---- dropping privilege ------------------------------------------------- */

static int have_any_capability(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int i;

	if (syscall(SYS_capget, &hdr, data))
		return 1;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted)
			return 1;
	return 0;
}

int drop_privileges(const struct caller *c)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	int ret;

	if (!c)
		return -EINVAL;
	/* Give the caller's own limits back before the privilege to set them goes. */
	ret = restore_limits();
	if (ret)
		return ret;
	if (geteuid() == 0) {
		const gid_t *groups = c->groups;
		int n = c->ngroups;

		if (g_caller_set && c->uid == g_caller.uid) {
			groups = g_groups;
			n = g_ngroups;
		}
		if (setgroups((size_t)n, groups))
			return -errno;
	}
	if (setresgid(c->gid, c->gid, c->gid))
		return -errno;
	if (setresuid(c->uid, c->uid, c->uid))
		return -errno;
	if (getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg))
		return -errno;
	if (r != c->uid || e != c->uid || s != c->uid || rg != c->gid || eg != c->gid || sg != c->gid)
		return -EPERM;
	if (c->uid != 0) {
		/* Each of these must fail now; if one works, stop right here. */
		if (setuid(0) == 0 || seteuid(0) == 0 || setreuid((uid_t)-1, 0) == 0)
			abort();
		if (c->gid != 0 && (setgid(0) == 0 || setegid(0) == 0))
			abort();
		if (have_any_capability())
			abort();
	}
	/* Files written from here on, and programs started, get the caller's umask. */
	umask(g_saved_umask);
	/* Nothing run from here on may gain privilege through setuid bits or file caps. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}
