/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * helper/out.h: the helper's only output channel.
 *
 * A command builds one object with these calls; out_flush() prints it as
 * JSON (--json) or as indented "key: value" text. Nothing reaches stdout
 * before out_flush(), so an error half way prints only the error.
 */
#ifndef VDSO_HELPER_OUT_H
#define VDSO_HELPER_OUT_H

#include <errno.h>
#include <stdarg.h>
#include <string.h>

void out_init(int json);
int  out_is_json(void);
void out_obj_begin(const char *key);	/* key NULL at top level or inside an array */
void out_obj_end(void);
void out_arr_begin(const char *key);
void out_arr_end(void);
void out_str(const char *key, const char *s);	/* s NULL prints null */
void out_int(const char *key, long long v);
void out_hex(const char *key, unsigned long v);
void out_bool(const char *key, int v);
void out_null(const char *key);
void out_flush(void);

/* Stable errno-style names for the protocol ("EPERM", ...). */
const char *errno_name(int err);
/*
 * The code for a failed open, read or allocation (@err positive): ENOMEM,
 * EMFILE and ENFILE name their cause, anything else is EIO.
 */
static inline int io_code(int err)
{
	return err == ENOMEM || err == EMFILE || err == ENFILE ? err : EIO;
}

/* strerror(@err), but EMFILE and ENFILE say "out of file descriptors". */
static inline const char *err_text(int err)
{
	if (err == EMFILE)
		return "out of file descriptors (RLIMIT_NOFILE)";
	if (err == ENFILE)
		return "the system is out of file descriptors";
	return strerror(err);
}

/*
 * Run before die() exits, so that a target is released even on a path that
 * fails after seizing it. Only one hook, called with @arg; NULL clears it.
 */
void out_set_cleanup(void (*fn)(void *), void *arg);

/* Print {"error": CODE, "message": ...} (or text on stderr) and exit 1. */
__attribute__((noreturn, format(printf, 2, 3)))
void die(int err, const char *fmt, ...);
/* Same for bad usage: EINVAL, exit 2. */
__attribute__((noreturn, format(printf, 1, 2)))
void usage_error(const char *fmt, ...);

#endif
