// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the command line (main.c) and the reply (out.c):
 * with --json anywhere before an exec's "--", every reply is one line of
 * strict JSON on stdout, whatever bytes the other arguments hold.
 *
 * The input is the argument list, NUL-separated; its first byte says where
 * --json goes. main.c and out.c are built as the helper builds them, with
 * main renamed and exit() returning here; the commands and the process
 * set-up are stubs that echo their arguments through out.c, as the real
 * ones do in their messages, so no input can act on a process or a file.
 * The reply is checked by an independent strict parser (RFC 8259 and
 * well-formed UTF-8: no stray continuation byte, overlong form, surrogate
 * or code point past U+10FFFF, raw or escaped).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cmds.h"
#include "out.h"
#include "policy.h"
#include "remap.h"
#include "vdso_type.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "check failed: %s\n", #cond); abort(); } } while (0)
#define MAX_ARGS 64
#define OUT_MAX (1 << 20)

int helper_main(int argc, char **argv);

static jmp_buf back;
static int exit_status;

void fuzz_exit(int status)
{
	exit_status = status;
	longjmp(back, 1);
}

/* ---- stubs for what main() calls beyond parse.c, vdso_type.c and out.c ---- */

void sanitize_process(void) {}
void audit_open(void) {}
int policy_load_config(const char *path) { (void)path; return 0; }

int caller_init(struct caller *c)
{
	memset(c, 0, sizeof(*c));
	return 0;
}

int drop_privileges(const struct caller *c)
{
	(void)c;
	return 0;
}

void cmd_info(int type)
{
	out_obj_begin(NULL);
	out_str("type", vdso_type_name(type));
	out_obj_end();
	out_flush();
}

void cmd_image(int type, const char *file)
{
	if (!file)
		die(EINVAL, "--json needs -o FILE");
	out_obj_begin(NULL);
	out_str("type", vdso_type_name(type));
	out_str("path", file);
	out_obj_end();
	out_flush();
}

void cmd_show(const struct caller *c, pid_t pid)
{
	(void)c;
	die(ESRCH, "no process %d", (int)pid);
}

void cmd_remap(const struct caller *c, const struct remap_req *r)
{
	(void)c;
	out_obj_begin(NULL);
	out_int("pid", r->pid);
	out_bool("dry_run", r->dry_run);
	out_hex("addr", r->addr);
	out_str("type", vdso_type_name(r->type));
	out_obj_end();
	out_flush();
}

void cmd_exec(const struct caller *c, int have_addr, unsigned long addr, char **argv)
{
	(void)c;
	(void)have_addr;
	(void)addr;
	/* as exec.c reports a program that cannot run: its name echoed */
	die(ENOENT, "cannot execute %s: %s", argv[0], strerror(ENOENT));
}

/* ---- a strict JSON parser, independent of out.c ---- */

struct p {
	const unsigned char *s, *end;
	int depth;
};

static int peek(struct p *p)
{
	return p->s < p->end ? *p->s : -1;
}

static void ws(struct p *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static int lit(struct p *p, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, w, n) != 0)
		return 0;
	p->s += n;
	return 1;
}

static int hex4(struct p *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++, p->s++) {
		int c = peek(p), d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return 0;
		*v = *v * 16 + (unsigned)d;
	}
	return 1;
}

/* One raw UTF-8 character: decode it and check the value against its length. */
static int utf8_char(struct p *p)
{
	unsigned c = *p->s++, cp, n;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		n = 1, cp = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 2, cp = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		n = 3, cp = c & 0x07;
	else
		return 0;
	for (unsigned i = 0; i < n; i++) {
		int b = peek(p);

		if (b < 0 || (b & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (unsigned)(b & 0x3f);
		p->s++;
	}
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000))
		return 0;	/* overlong */
	return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
}

static int string(struct p *p)
{
	if (peek(p) != '"')
		return 0;
	p->s++;
	for (;;) {
		int c = peek(p);
		unsigned v, lo;

		if (c < 0 || c < 0x20)
			return 0;
		if (c == '"') {
			p->s++;
			return 1;
		}
		if (c != '\\') {
			if (!utf8_char(p))
				return 0;
			continue;
		}
		p->s++;
		c = peek(p);
		if (c < 0)
			return 0;
		p->s++;
		if (strchr("\"\\/bfnrt", c))
			continue;
		if (c != 'u' || !hex4(p, &v))
			return 0;
		if (v >= 0xdc00 && v <= 0xdfff)
			return 0;	/* a lone low surrogate */
		if (v >= 0xd800 && v <= 0xdbff &&
		    (!lit(p, "\\u") || !hex4(p, &lo) || lo < 0xdc00 || lo > 0xdfff))
			return 0;
	}
}

static int digits(struct p *p)
{
	int n = 0;

	while (peek(p) >= '0' && peek(p) <= '9')
		p->s++, n++;
	return n;
}

static int number(struct p *p)
{
	if (peek(p) == '-')
		p->s++;
	if (peek(p) == '0')
		p->s++;
	else if (!digits(p))
		return 0;
	if (peek(p) == '.') {
		p->s++;
		if (!digits(p))
			return 0;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->s++;
		if (peek(p) == '+' || peek(p) == '-')
			p->s++;
		if (!digits(p))
			return 0;
	}
	return 1;
}

static int value(struct p *p);

static int members(struct p *p, int close, int keyed)
{
	p->s++;
	ws(p);
	if (peek(p) == close) {
		p->s++;
		return 1;
	}
	for (;;) {
		ws(p);
		if (keyed) {
			if (!string(p))
				return 0;
			ws(p);
			if (peek(p) != ':')
				return 0;
			p->s++;
		}
		if (!value(p))
			return 0;
		ws(p);
		if (peek(p) == close) {
			p->s++;
			return 1;
		}
		if (peek(p) != ',')
			return 0;
		p->s++;
	}
}

static int value(struct p *p)
{
	int c, ok;

	ws(p);
	c = peek(p);
	if (c == '"')
		return string(p);
	if (c == '{' || c == '[') {
		if (++p->depth > 32)
			return 0;
		ok = members(p, c == '{' ? '}' : ']', c == '{');
		p->depth--;
		return ok;
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return number(p);
	return lit(p, "true") || lit(p, "false") || lit(p, "null");
}

/* One JSON object on one line; for an error, "error" and "message" are there. */
static void check_reply(const unsigned char *out, size_t n, int status)
{
	struct p p = { out, out + n, 0 };

	CHECK(n > 0 && out[n - 1] == '\n');
	CHECK(memchr(out, '\n', n) == out + n - 1);
	ws(&p);
	CHECK(peek(&p) == '{');
	CHECK(value(&p));
	ws(&p);
	CHECK(p.s == p.end);
	CHECK(status == 0 || status == 1 || status == 2);
	if (status) {
		CHECK(memmem(out, n, "{\"error\": \"E", 12) == out);
		CHECK(memmem(out, n, "\"message\": \"", 12) != NULL);
	}
}

/* ---- the harness ---- */

static int out_fd = -1;
static unsigned char *reply;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* the helper's stdout becomes a memory file read back after each run */
	out_fd = memfd_create("reply", 0);
	if (out_fd < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
		abort();
	reply = malloc(OUT_MAX);
	if (!reply)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char copy[8192];
	char *args[MAX_ARGS + 3];
	int argc = 0, at, dashdash = -1;
	volatile int ret;
	ssize_t n;

	if (size == 0 || size >= sizeof(copy))
		return 0;
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	args[argc++] = "vdso-helper";
	for (char *s = copy; s < copy + size - 1 && argc <= MAX_ARGS; s += strlen(s) + 1) {
		if (dashdash < 0 && strcmp(s, "--") == 0)
			dashdash = argc;
		args[argc++] = s;
	}
	/* --json somewhere before an exec's "--" (after it, it is the program's) */
	at = 1 + data[0] % (dashdash < 0 ? argc : dashdash);
	memmove(&args[at + 1], &args[at], (size_t)(argc - at) * sizeof(args[0]));
	args[at] = "--json";
	argc++;
	args[argc] = NULL;

	if (ftruncate(STDOUT_FILENO, 0) || lseek(STDOUT_FILENO, 0, SEEK_SET) != 0)
		abort();
	exit_status = 0;
	if (setjmp(back) == 0) {
		ret = helper_main(argc, args);
		exit_status = ret;
	}
	fflush(stdout);
	n = pread(STDOUT_FILENO, reply, OUT_MAX, 0);
	CHECK(n >= 0 && n < OUT_MAX);
	check_reply(reply, (size_t)n, exit_status);
	return 0;
}
