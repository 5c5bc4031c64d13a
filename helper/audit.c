// SPDX-License-Identifier: GPL-2.0-only
/*
 * Audit log: one LOG_AUTHPRIV line per decision and operation.
 */
#include "audit.h"
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#define AUDIT_FIELD_MAX 400

/*
 * Copy src into dst keeping only printable ASCII other than '"' and '\\':
 * the detail often carries text from the target (its command name) or the
 * caller, which must not be able to start a new line or close a field.
 */
static void clean(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src && *src && i + 1 < size; src++) {
		unsigned char ch = (unsigned char)*src;

		dst[i++] = (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') ? '?' : (char)ch;
	}
	dst[i] = '\0';
}

void audit_open(void)
{
	/*
	 * A fixed ident: glibc would otherwise use argv[0], which the caller
	 * chooses. LOG_NDELAY connects now, before any privilege is dropped.
	 */
	openlog("vdso-helper", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void audit_log(const struct caller *c, const char *op, pid_t target, const char *result, const char *fmt, ...)
{
	char raw[AUDIT_FIELD_MAX], msg[AUDIT_FIELD_MAX], res[64], opc[32];
	va_list ap;

	if (!c)
		c = policy_caller();
	raw[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
	}
	clean(msg, sizeof(msg), raw);
	clean(res, sizeof(res), result ? result : "-");
	clean(opc, sizeof(opc), op ? op : "-");
	if (c)
		syslog(LOG_AUTHPRIV | LOG_NOTICE,
		       "op=%s uid=%u euid=%u gid=%u target=%d result=\"%s\" msg=\"%s\"",
		       opc, (unsigned int)c->uid, (unsigned int)c->euid, (unsigned int)c->gid,
		       (int)target, res, msg);
	else
		syslog(LOG_AUTHPRIV | LOG_NOTICE,
		       "op=%s uid=? euid=? gid=? target=%d result=\"%s\" msg=\"%s\"",
		       opc, (int)target, res, msg);
}
