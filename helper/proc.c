// SPDX-License-Identifier: GPL-2.0-only
/* helper/proc.c: facts about a process read from /proc. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

const char *mode_name(int mode)
{
	return vdso_type_name(mode) ?: "unknown";
}

int proc_exe_mode(pid_t pid)
{
	unsigned char h[64];
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return VDSO_TYPE_UNKNOWN;
	n = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (n < 24)
		return VDSO_TYPE_UNKNOWN;
	return vdso_type_of_elf(h, (size_t)n);
}

ssize_t proc_read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

int proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	n = proc_read_small(path, buf, len);
	if (n < 0)
		return (int)n;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int proc_auxv_base(pid_t pid, int mode, unsigned long *ehdr, unsigned long *sysinfo)
{
	unsigned char raw[4096];
	char path[64];
	size_t w = (mode == VDSO_TYPE_I386 || mode == VDSO_TYPE_X32) ? 4 : 8;	/* compat auxv is packed */
	ssize_t n;
	int fd;

	*ehdr = 0;
	*sysinfo = 0;
	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, raw, sizeof(raw));
	close(fd);
	if (n < 0)
		return -errno;
	for (size_t off = 0; off + 2 * w <= (size_t)n; off += 2 * w) {
		unsigned long key = 0, val = 0;

		memcpy(&key, raw + off, w);
		memcpy(&val, raw + off + w, w);
		if (key == AT_NULL)
			break;
		if (key == AT_SYSINFO_EHDR)
			*ehdr = val;
		else if (key == AT_SYSINFO)
			*sysinfo = val;
	}
	return *ehdr ? 0 : -ENOENT;
}

/*
 * Find the "Key:" line of /proc/PID/status in buf (NUL-terminated at the end
 * of that line). Returns its value's start, NULL if the kernel has no such
 * line, or sets *err on a read failure.
 */
static char *status_line(pid_t pid, const char *key, char *buf, size_t len, int *err)
{
	char path[64], *p, *eol;
	ssize_t n;

	*err = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	n = proc_read_small(path, buf, len);
	if (n < 0) {
		*err = (int)n;
		return NULL;
	}
	p = strstr(buf, key);
	if (!p)
		return NULL;
	p += strlen(key);
	eol = strchr(p, '\n');
	if (eol)
		*eol = '\0';
	return p;
}

int proc_tracer(pid_t pid)
{
	char buf[4096], *p;
	int err;

	p = status_line(pid, "\nTracerPid:", buf, sizeof(buf), &err);
	if (err)
		return err;
	return p ? atoi(p) : -EIO;
}

int proc_seccomp(pid_t pid)
{
	char buf[4096], *p;
	int err;

	p = status_line(pid, "\nSeccomp:", buf, sizeof(buf), &err);
	if (err)
		return err;
	return p ? atoi(p) : 0;	/* no line: a kernel without seccomp */
}

int proc_leader_exited(pid_t pid)
{
	char buf[4096], *p;
	int err;

	p = status_line(pid, "\nState:", buf, sizeof(buf), &err);
	if (err || !p)
		return 0;
	p += strspn(p, " \t");
	if (*p != 'Z')
		return 0;
	p = status_line(pid, "\nThreads:", buf, sizeof(buf), &err);
	return !err && p && atoi(p) > 1;
}

int proc_shadow_stack(pid_t pid)
{
	char buf[4096], *p;
	int err;

	p = status_line(pid, "\nx86_Thread_features:", buf, sizeof(buf), &err);
	if (err)
		return err;
	return p && strstr(p, "shstk") != NULL;
}

int proc_tids(pid_t pid, pid_t *tids, int max)
{
	char path[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		long t;
		char *end;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		t = strtol(d->d_name, &end, 10);
		if (*end || t <= 0)
			continue;
		if (n == max) {
			closedir(dir);
			return -E2BIG;
		}
		tids[n++] = (pid_t)t;
	}
	closedir(dir);
	return n;
}

int proc_thread_state(pid_t pid, pid_t tid, char *state)
{
	char path[96], buf[1024], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	n = proc_read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	p = strrchr(buf, ')');	/* comm may hold spaces and parentheses */
	if (!p || p[1] != ' ' || !p[2])
		return -EIO;
	*state = p[2];
	return 0;
}

int proc_thread_syscall(pid_t pid, pid_t tid, long *nr, unsigned long *ip)
{
	char path[96], buf[512], *p, *last;
	ssize_t n;

	*ip = 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	n = proc_read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (strncmp(buf, "running", 7) == 0) {
		*nr = -2;
		return 0;
	}
	*nr = strtol(buf, &p, 10);
	buf[strcspn(buf, "\n")] = '\0';
	last = strrchr(buf, ' ');
	if (!last)
		return -EIO;
	*ip = strtoul(last + 1, NULL, 16);
	return 0;
}

int proc_vma_sealed(pid_t pid, unsigned long start)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	int in = 0, ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (s == start);
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			ret = strstr(line, " sl") != NULL;
			break;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

unsigned long proc_mmap_min_addr(void)
{
	char buf[64];
	unsigned long v;

	if (proc_read_small("/proc/sys/vm/mmap_min_addr", buf, sizeof(buf)) <= 0)
		return 65536;
	v = strtoul(buf, NULL, 10);
	return v < 4096 ? 4096 : v;
}

int mem_open(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int mem_read(int fd, unsigned long addr, void *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len, (off_t)addr);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int mem_write(int fd, unsigned long addr, const void *buf, size_t len)
{
	ssize_t n = pwrite(fd, buf, len, (off_t)addr);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}
