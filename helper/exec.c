// SPDX-License-Identifier: GPL-2.0-only
/*
 * helper/exec.c: start a program with its vdso already where it is wanted.
 *
 * Every privilege is dropped before fork: the program runs with the
 * caller's credentials, and the helper traces only its own child.
 */
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
#include "remap.h"

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
