// SPDX-License-Identifier: GPL-2.0-only
/*
 * helper/exec.c: start a program with its vdso already where it is wanted.
 *
 * Every privilege is dropped before fork: the program runs with the
 * caller's credentials, and the helper traces only its own child.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "cmds.h"
#include "out.h"
#include "policy.h"
#include "layout.h"
#include "maps.h"
#include "proc.h"
#include "remap.h"
#include "remap_ctx.h"
#include "target.h"
#include "vdso_type.h"

/* ---- placement at the exec event, before any user code ran ---- */

/* Rewrite AT_SYSINFO_EHDR (and AT_SYSINFO) in the auxv on the new stack. */
static int patch_auxv(struct remap_ctx *x, unsigned long old_base, unsigned long new_base, int wide, char *why,
		      size_t whylen)
{
	unsigned char stack[65536], want[1024];
	size_t w = wide ? 8 : 4, idx, nw;
	unsigned long sp = x->tgt.th[0].regs.rsp, argc;
	char path[64];
	ssize_t alen;
	int fd, patched = 0;

#define WORD(i) ({ unsigned long _v = 0; memcpy(&_v, stack + (i) * w, w); _v; })
	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)x->tgt.pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	alen = fd >= 0 ? read(fd, want, sizeof(want)) : -1;
	if (fd >= 0)
		close(fd);
	/* from sp up to the end of the stack mapping, at most 64 KiB */
	nw = 0;
	{
		struct maps sm;
		const struct maps_entry *se;

		if (maps_read(x->tgt.pid, &sm) == 0) {
			se = maps_find(&sm, sp);
			if (se)
				nw = se->end - sp < sizeof(stack) ? se->end - sp : sizeof(stack);
			maps_free(&sm);
		}
	}
	if (alen <= 0 || nw < 64 || mem_read(x->tgt.memfd, sp, stack, nw)) {
		snprintf(why, whylen, "cannot read the new stack or auxv");
		return -EIO;
	}
	nw /= w;
	argc = WORD(0);
	if (argc > nw)
		goto bad;
	idx = 1 + argc + 1;
	while (idx < nw && WORD(idx) != 0)
		idx++;
	idx++;
	/* compat auxv is packed 4-byte words; /proc may pad it: compare up to AT_NULL */
	{
		size_t k = 0;
		unsigned long key;

		do {
			key = 0;
			if ((k + 2) * w > (size_t)alen)
				goto bad;
			memcpy(&key, want + k * w, w);
			k += 2;
		} while (key != AT_NULL);
		alen = (ssize_t)(k * w);
	}
	if ((idx * w) + (size_t)alen > nw * w || memcmp(stack + idx * w, want, (size_t)alen) != 0)
		goto bad;
	for (; idx + 1 < nw && WORD(idx) != AT_NULL; idx += 2) {
		unsigned long key = WORD(idx), val = WORD(idx + 1), nv;

		if (key != AT_SYSINFO_EHDR && key != AT_SYSINFO)
			continue;
		nv = val - old_base + new_base;
		if (mem_write(x->tgt.memfd, sp + (idx + 1) * w, &nv, w))
			goto bad;
		add_step(x, "auxv %s 0x%lx -> 0x%lx", key == AT_SYSINFO ? "AT_SYSINFO" : "AT_SYSINFO_EHDR",
			 val, nv);
		patched++;
	}
	if (!patched)
		goto bad;
	return 0;
bad:
	snprintf(why, whylen, "cannot find the auxv on the new stack at 0x%lx", sp);
	return -EIO;
#undef WORD
}

/*
 * @pid is a tracee at its exec event. Move its block so the text is at @addr
 * and patch its auxv; detach. 0, or -errno with @why filled.
 */
static int place_at_exec(pid_t pid, unsigned long addr, unsigned long *base_out, char *why,
		  size_t whylen)
{
	unsigned long before, after, limit;
	int mode, type, lost;
	struct maps_entry clash;
	struct block b;
	struct maps m;
	struct remap_ctx *x = calloc(1, sizeof(*x));
	long r;

	*base_out = 0;
	if (!x) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	if (target_adopt(&x->tgt, pid)) {
		snprintf(why, whylen, "cannot read the new program's state");
		free(x);
		return -EIO;
	}
	x->held = 1;
	mode = proc_exe_mode(pid);
	memset(&m, 0, sizeof(m));
	if (proc_seccomp(pid) > 0) {
		snprintf(why, whylen, "the program inherits a seccomp filter: an injected syscall "
			 "could kill it");
		r = -EPERM;
		goto out;
	}
	if (maps_read(pid, &m) || maps_find_block(&m, &b)) {
		snprintf(why, whylen, "the new program has no vdso");
		r = -ENOENT;
		goto out;
	}
	*base_out = b.base;
	before = b.base - b.vvar_start;
	after = b.end - b.base;
	type = image_type_at(x->tgt.memfd, b.base);
	/* an unknown mode gets the smaller limit, which holds in every mode */
	limit = vdso_type_limit(vdso_type_valid(mode) ? mode : VDSO_TYPE_I386);
	x->path = kernel_has_vdso_syscalls() ? PATH_SYSCALL : PATH_STOCK;
	r = check_dest(addr, before, after, limit, mode, why, whylen);
	if (r) {
		goto out;
	} else if (!maps_range_free(&m, addr - before, addr + after, &b, &clash)) {
		snprintf(why, whylen, "destination 0x%lx-0x%lx is occupied by %s 0x%lx-0x%lx",
			 addr - before, addr + after, vma_label(&clash), clash.start, clash.end);
		r = -EEXIST;
	} else if (addr == b.base) {
		r = 0;		/* already there: nothing to move */
		goto out;
	} else {
		r = block_move(x, &b, type, type, addr - before, addr, &lost);
		if (r)
			snprintf(why, whylen, "move failed: %s", strerror((int)-r));
	}
	if (r)
		goto out;
	r = patch_auxv(x, b.base, addr, mode == VDSO_TYPE_X86_64, why, whylen);
	if (r) {
		/* leave the program as the kernel made it */
		block_move(x, NULL, type, type, b.vvar_start, b.base, &lost);
		goto out;
	}
	*base_out = addr;
out:
	maps_free(&m);
	remap_release(x);
	free(x);
	return (int)r;
}

/* execve, searching PATH from the caller's environment for a bare name. */
static void run_program(char **argv, char **envp)
{
	const char *pathvar = "/usr/local/bin:/usr/bin:/bin";
	char buf[4096];

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		return;
	}
	for (char **e = envp; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			pathvar = *e + 5;
	for (const char *p = pathvar; *p;) {
		size_t n = strcspn(p, ":");
		int err;

		if (n && n + strlen(argv[0]) + 2 <= sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, argv[0]);
			execve(buf, argv, envp);
			err = errno;
			if (err != ENOENT && err != ENOTDIR && err != EACCES)
				return;
		}
		p += n;
		if (*p == ':')
			p++;
	}
	errno = ENOENT;
}

void cmd_exec(const struct caller *c, int have_addr, unsigned long addr, char **argv)
{
	char why[256] = "";
	unsigned long base = 0;
	int st, err, status;
	int pfd[2];
	pid_t child;

	err = drop_privileges(c);
	if (err) {
		audit_log(c, "exec", 0, "failed", "cannot drop privileges: %s", strerror(-err));
		die(EPERM, "cannot drop privileges: %s", strerror(-err));
	}
	/* the child reports a failed execve here (close-on-exec: EOF on success) */
	if (pipe2(pfd, O_CLOEXEC) < 0)
		die(errno, "pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		die(errno, "fork: %s", strerror(errno));
	if (child == 0) {
		close(pfd[0]);
		if (have_addr) {
			if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
				_exit(127);
			raise(SIGSTOP);	/* lets the parent set its options first */
		}
		run_program(argv, sanitized_environ());
		err = errno;
		if (write(pfd[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	if (have_addr) {
		guard_signals_block();
		if (waitpid(child, &st, 0) < 0 || !WIFSTOPPED(st) ||
		    ptrace(PTRACE_SETOPTIONS, child, 0, (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) < 0 ||
		    ptrace(PTRACE_CONT, child, 0, 0) < 0) {
			kill(child, SIGKILL);
			die(EIO, "cannot trace the new program");
		}
		for (;;) {
			if (waitpid(child, &st, 0) < 0)
				die(errno, "waitpid: %s", strerror(errno));
			if (WIFEXITED(st) || WIFSIGNALED(st))
				break;
			if (WIFSTOPPED(st) && st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
				err = place_at_exec(child, addr, &base, why, sizeof(why));
				if (err) {
					kill(child, SIGKILL);
					waitpid(child, &st, 0);
					audit_log(c, "exec", child, "failed", "%s: %s", argv[0], why);
					die(-err, "%s", why);
				}
				break;
			}
			/* anything else before the exec (none expected): pass it on */
			ptrace(PTRACE_CONT, child, 0,
			       (void *)(long)(WIFSTOPPED(st) && WSTOPSIG(st) != SIGSTOP ? WSTOPSIG(st) : 0));
		}
		if (!base)	/* the child exited before exec: the pipe says why */
			goto exec_failed;
		audit_log(c, "exec", child, "ok", "%s with vdso at 0x%lx", argv[0], base);
		/* the program runs now; do not die on the terminal's ^C before it does */
		sigset_t all;

		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
	}
	{
		ssize_t n = read(pfd[0], &err, sizeof(err));

		if (n == (ssize_t)sizeof(err)) {
			waitpid(child, &st, 0);
			goto exec_failed_err;
		}
	}
	close(pfd[0]);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR)
			die(errno, "waitpid: %s", strerror(errno));
	status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (out_is_json()) {
		out_obj_begin(NULL);
		out_int("pid", child);
		if (base)
			out_hex("base", base);
		else
			out_null("base");
		out_int("status", status);
		out_obj_end();
		out_flush();
	}
	exit(status);
exec_failed:
	if (read(pfd[0], &err, sizeof(err)) != (ssize_t)sizeof(err))
		err = ENOEXEC;
exec_failed_err:
	audit_log(c, "exec", child, "failed", "%s: %s", argv[0], strerror(err));
	die(err == ENOENT ? ENOENT : err == EACCES ? EACCES : ENOEXEC, "cannot execute %s: %s",
	    argv[0], strerror(err));
}
