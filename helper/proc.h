/* SPDX-License-Identifier: GPL-2.0-only */
/* helper/proc.h: facts about a process read from /proc. */
#ifndef VDSO_HELPER_PROC_H
#define VDSO_HELPER_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "vdso_type.h"	/* a process's mode is the vdso type its code calls */

/* One read of a small /proc file into buf, NUL-terminated: length or -errno. */
ssize_t proc_read_small(const char *path, char *buf, size_t len);
const char *mode_name(int mode);	/* "unknown" for VDSO_TYPE_UNKNOWN */
int  proc_exe_mode(pid_t pid);		/* from /proc/P/exe's ELF header, or VDSO_TYPE_UNKNOWN */
int  proc_comm(pid_t pid, char *buf, size_t len);
/* AT_SYSINFO_EHDR (and AT_SYSINFO, 0 if absent) from /proc/P/auxv. */
int  proc_auxv_base(pid_t pid, int mode, unsigned long *ehdr, unsigned long *sysinfo);
int  proc_tracer(pid_t pid);		/* TracerPid, or -errno */
/* 1 if the thread-group leader has exited while other threads still run */
int  proc_leader_exited(pid_t pid);
int  proc_shadow_stack(pid_t pid);	/* 1 if its threads use a CET shadow stack */
int  proc_seccomp(pid_t pid);		/* 0 off, 1 strict, 2 filter; or -errno */
int  proc_tids(pid_t pid, pid_t *tids, int max);	/* count, or -errno */
int  proc_thread_state(pid_t pid, pid_t tid, char *state);
/* /proc/P/task/T/syscall: *nr = -1 in user space, -2 when running. */
int  proc_thread_syscall(pid_t pid, pid_t tid, long *nr, unsigned long *ip);
int  proc_vma_sealed(pid_t pid, unsigned long start);	/* 1, 0, or -errno */
unsigned long proc_mmap_min_addr(void);

/* Whole-range I/O on /proc/P/mem (FOLL_FORCE: works on read-only text). */
int mem_open(pid_t pid);
int mem_read(int fd, unsigned long addr, void *buf, size_t len);	/* 0 or -errno */
int mem_write(int fd, unsigned long addr, const void *buf, size_t len);

#endif
