/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * helper/audit.h: one syslog line (LOG_AUTHPRIV) per decision and operation.
 *
 * Line format (after syslog's own "vdso-helper[PID]: " prefix):
 *   op=OP uid=U euid=E gid=G target=PID result="RESULT" msg="DETAIL"
 * RESULT and DETAIL are stripped of control characters and quotes, so a
 * target's command name cannot forge a second line or field.
 * syslog() may block while the log daemon is busy: log decisions before
 * stopping a target and results after releasing it, never in between.
 */
#ifndef VDSO_HELPER_AUDIT_H
#define VDSO_HELPER_AUDIT_H

#include <sys/types.h>

struct caller;

void audit_open(void);
void audit_log(const struct caller *c, const char *op, pid_t target, const char *result, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));    /* e.g. op "remap", result "ok"/"refused EPERM"/"failed EEXIST" */

#endif
