/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * helper/policy.h: who may act on what.
 *
 * The rules are ptrace's "attach with real credentials" mode, checked by the
 * helper itself (see vdso-helper(8), SECURITY):
 *  - never pid 1, a kernel thread, a zombie or the helper itself, not even
 *    for root;
 *  - root (real uid 0) may act on any other process;
 *  - anyone else only on a process whose real, effective, saved and fs uids
 *    and gids all equal the caller's real uid and gid, that is dumpable,
 *    holds no capabilities and no supplementary group the caller lacks;
 *  - members of the operator group named in the root-owned config may also
 *    act on dumpable, capability-free processes of other users whose ids are
 *    all at least operator_min_uid (never root's, never the root group).
 */
#ifndef VDSO_HELPER_POLICY_H
#define VDSO_HELPER_POLICY_H

#include <sys/types.h>

#define POLICY_DEFAULT_CONFIG "/etc/vdso-helper.conf"

struct caller {
	uid_t uid, euid; gid_t gid;   /* real ids of whoever ran the helper */
	int ngroups; gid_t groups[64];
};
struct verdict {
	int allowed;          /* 1 = may act */
	int err;              /* when refused: EPERM, ESRCH, EACCES, ... */
	char reason[192];     /* one line for a person, e.g. "target is owned by uid 0" */
};
int  caller_init(struct caller *c);              /* read real ids; call first */
void sanitize_process(void);                      /* clear the environment, set a safe PATH-less env, umask 077, close fds > 2, reset signal dispositions; call at start of main */
int  policy_load_config(const char *path);       /* operator group config; default path /etc/vdso-helper.conf; ignored with a warning (to stderr and audit) unless root-owned, a regular file, not a symlink, not writable by group/others */
int  policy_check(const struct caller *c, pid_t pid, int pidfd, struct verdict *v); /* the rules at the top of this file */
int  policy_recheck(pid_t pid, int pidfd);       /* after attaching: 0 if pidfd still names pid (no reuse), else -ESRCH */
int  drop_privileges(const struct caller *c);     /* permanent: setgroups, setresgid, setresuid to the caller's real ids; verify they cannot be regained; 0 or -errno */
int  pidfd_open_checked(pid_t pid);               /* pidfd_open(2) via syscall(); -errno on failure */

/*
 * Notes for callers:
 *
 * policy_check() returns 0 when it reached a verdict (read v->allowed), or
 * -errno when it could not (v is then filled as a refusal too, so printing
 * v->err / v->reason is always right).
 *
 * policy_recheck() also re-runs the whole policy_check() for the caller of
 * the last policy_check() and returns -EPERM (or the verdict's -err) if the
 * target's credentials changed since (e.g. it exec'd a setuid program between
 * check and attach). Call it once every thread is stopped, so the answer
 * cannot change any more; policy_recheck_verdict() gives the reason.
 *
 * sanitize_process() saves the original environment pointer before clearing
 * it; sanitized_environ() returns it (or an empty one) for `exec`, which
 * may pass it to the program only after drop_privileges(). glibc has already
 * removed LD_PRELOAD and friends from it because the helper ran setuid.
 *
 * sanitize_process() also raises resource limits a caller could lower to
 * make the helper fail half way (RLIMIT_CPU, _NOFILE, _AS, _DATA, _STACK,
 * _FSIZE) and sets RLIMIT_CORE to 0; drop_privileges() puts the caller's
 * limits back before dropping, so programs started later get exactly them.
 * drop_privileges() also gives back the caller's umask (077 until then) and
 * sets PR_SET_NO_NEW_PRIVS, so nothing executed
 * afterwards can gain privilege through setuid bits or file capabilities.
 */
int  policy_recheck_verdict(pid_t pid, int pidfd, struct verdict *v);
char **sanitized_environ(void);
const struct caller *policy_caller(void);        /* the caller of the last caller_init(), or NULL */
const char *policy_operator_group(void);         /* name of the configured operator group, or NULL */
/*
 * The config file's text parser, exposed for the fuzzer: text is modified;
 * label names the file in warnings. Takes the whole text or nothing.
 */
int  policy_parse_config(const char *label, char *text);

#endif
