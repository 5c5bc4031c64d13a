// SPDX-License-Identifier: GPL-2.0-only
/* helper/out.c: JSON or text rendering of one result object, and errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"

#define OUT_MAX_DEPTH 16
#define OUT_STATIC 8192

static int json_mode;
/*
 * Output starts in a static buffer and moves to the heap only when it grows
 * past it: an error reply (die() starts over at length 0) then never needs
 * memory, and so gets out even when memory is what ran out.
 */
static char static_buf[OUT_STATIC];
static char *buf = static_buf;
static size_t len, cap = OUT_STATIC;
static int depth;
static int count[OUT_MAX_DEPTH];	/* items already written at each depth */
static int is_arr[OUT_MAX_DEPTH];
static void (*cleanup_hook)(void *);
static void *cleanup_arg;
static int dash_open;	/* text: "- " written for an object; its first key follows on that line */

void out_init(int json)
{
	json_mode = json;
}

int out_is_json(void)
{
	return json_mode;
}

void out_set_cleanup(void (*fn)(void *), void *arg)
{
	cleanup_hook = fn;
	cleanup_arg = fn ? arg : NULL;
}

static void emit(const char *s, size_t n)
{
	if (len + n + 1 > cap) {
		size_t ncap = cap * 2;
		char *nb;

		while (ncap < len + n + 1)
			ncap *= 2;
		nb = buf == static_buf ? malloc(ncap) : realloc(buf, ncap);
		if (!nb)
			die(ENOMEM, "out of memory for the reply");
		if (buf == static_buf)
			memcpy(nb, buf, len);
		buf = nb;
		cap = ncap;
	}
	memcpy(buf + len, s, n);
	len += n;
	buf[len] = '\0';
}

static void emits(const char *s)
{
	emit(s, strlen(s));
}

/*
 * Length of the well-formed UTF-8 sequence at @s (1 to 4), or 0 when none
 * starts there: a stray continuation byte, an overlong form, a surrogate,
 * a code point above U+10FFFF or a sequence cut short (by the NUL).
 */
static int utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * A JSON string that is valid UTF-8 whatever @s holds: text echoed from the
 * command line or a target may be any bytes, and each byte that does not
 * belong to a well-formed UTF-8 sequence becomes U+FFFD.
 */
static void emit_json_string(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char tmp[8];

	emits("\"");
	while (*s) {
		unsigned char c = *s;
		int n = utf8_len(s);

		if (n == 0) {
			emits("\\ufffd");
			s++;
		} else if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			emit(tmp, 2);
			s++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			emits(tmp);
			s++;
		} else {
			emit((const char *)s, (size_t)n);
			s += n;
		}
	}
	emits("\"");
}

static void indent(void)
{
	for (int i = 1; i < depth; i++)
		emits("  ");
}

/* Separator and key for the next value; text values follow on the same line. */
static void begin_item(const char *key)
{
	if (json_mode) {
		if (depth > 0 && count[depth - 1]++)
			emits(", ");
		if (key) {
			emit_json_string(key);
			emits(": ");
		}
		return;
	}
	if (depth == 0)
		return;
	count[depth - 1]++;
	if (dash_open) {
		dash_open = 0;
	} else {
		indent();
		if (is_arr[depth - 1])
			emits("- ");
	}
	if (key) {
		emits(key);
		emits(":");
	}
}

static void open_container(const char *key, int arr)
{
	int dash = !json_mode && !arr && !key && depth > 0 && is_arr[depth - 1];

	begin_item(key);
	if (json_mode)
		emits(arr ? "[" : "{");
	else if (dash)
		dash_open = 1;		/* an object in a list: "- first: value" */
	else if (depth > 0)
		emits("\n");
	if (depth < OUT_MAX_DEPTH) {
		count[depth] = 0;
		is_arr[depth] = arr;
	}
	depth++;
}

static void close_container(int arr)
{
	depth--;
	if (json_mode)
		emits(arr ? "]" : "}");
}

void out_obj_begin(const char *key) { open_container(key, 0); }
void out_obj_end(void) { close_container(0); }
void out_arr_begin(const char *key) { open_container(key, 1); }
void out_arr_end(void) { close_container(1); }

static void scalar(const char *key, const char *json, const char *text)
{
	begin_item(key);
	if (json_mode) {
		emits(json);
	} else {
		emits(key ? " " : "");
		emits(text);
		emits("\n");
	}
}

void out_str(const char *key, const char *s)
{
	if (!s) {
		out_null(key);
		return;
	}
	begin_item(key);
	if (json_mode) {
		emit_json_string(s);
	} else {
		emits(key ? " " : "");
		for (const char *p = s; *p; p++) {
			char c = (*p >= 0x20 && *p != 0x7f) ? *p : '?';

			emit(&c, 1);
		}
		emits("\n");
	}
}

void out_int(const char *key, long long v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lld", v);
	scalar(key, tmp, tmp);
}

void out_hex(const char *key, unsigned long v)
{
	char tmp[32], q[36];

	snprintf(tmp, sizeof(tmp), "0x%lx", v);
	snprintf(q, sizeof(q), "\"%s\"", tmp);
	scalar(key, q, tmp);
}

void out_bool(const char *key, int v)
{
	scalar(key, v ? "true" : "false", v ? "yes" : "no");
}

void out_null(const char *key)
{
	scalar(key, "null", "-");
}

void out_flush(void)
{
	if (json_mode)
		emits("\n");
	if (len && fwrite(buf, 1, len, stdout) != len)
		_exit(1);
	fflush(stdout);
	len = 0;
	depth = 0;
}

const char *errno_name(int err)
{
	switch (err) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case ENOEXEC: return "ENOEXEC";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	default: return "EIO";
	}
}

static void __attribute__((noreturn, format(printf, 3, 0)))
vdie(int status, int err, const char *fmt, va_list ap)
{
	char msg[512];

	if (cleanup_hook) {
		void (*fn)(void *) = cleanup_hook;

		cleanup_hook = NULL;
		fn(cleanup_arg);
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* one line for a person: no control characters from echoed input */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	/* discard a half-built result: only the error is printed */
	len = 0;
	depth = 0;
	if (json_mode) {
		out_obj_begin(NULL);
		out_str("error", errno_name(err));
		out_str("message", msg);
		out_obj_end();
		out_flush();
	} else {
		fflush(stdout);
		fprintf(stderr, "vdso-helper: %s: %s\n", errno_name(err), msg);
	}
	exit(status);
}

void die(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(1, err, fmt, ap);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(2, EINVAL, fmt, ap);
}
