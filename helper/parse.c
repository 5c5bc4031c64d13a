// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bounded parsing of untrusted command-line input. No strtol(): it accepts
 * leading whitespace and signs, and its errno protocol is easy to get wrong.
 */
#include "parse.h"
#include "vdso_type.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <unistd.h>

/* include/linux/threads.h: the kernel never allows more on 64-bit. */
#define PID_MAX_LIMIT (4L * 1024 * 1024)

static size_t bounded_len(const char *s)
{
	size_t n = 0;

	while (n <= PARSE_MAX_LEN && s[n])
		n++;
	return n;
}

long parse_pid_max(void)
{
	static long pid_max;
	char buf[32];
	ssize_t n;
	long v = 0;
	int fd, i;

	if (pid_max)
		return pid_max;
	pid_max = PID_MAX_LIMIT;
	fd = open("/proc/sys/kernel/pid_max", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pid_max;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return pid_max;
	buf[n] = '\0';
	for (i = 0; buf[i] >= '0' && buf[i] <= '9' && i < 10; i++)
		v = v * 10 + (buf[i] - '0');
	if (v > 1 && v <= PID_MAX_LIMIT)
		pid_max = v;
	return pid_max;
}

/* Decimal digits only; -ERANGE once the value exceeds max. */
static int parse_decimal(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (!s[0])
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (v > (max - d) / 10)
			goto range;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
range:
	/* Still reject junk after an overlong number as malformed. */
	for (; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	return -ERANGE;
}

int parse_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_hex(const char *s, unsigned long *out)
{
	unsigned long v = 0;
	int overflow = 0;
	size_t i;

	if (!s[0])
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		int d = parse_hex_digit(s[i]);

		if (d < 0)
			return -EINVAL;
		if (v >> (sizeof(v) * CHAR_BIT - 4))
			overflow = 1;
		v = (v << 4) | (unsigned long)d;
	}
	if (overflow)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_pid(const char *s, pid_t *out)
{
	unsigned long v;
	int ret;

	if (!s || !out)
		return -EINVAL;
	if (bounded_len(s) > PARSE_MAX_LEN)
		return -EINVAL;
	ret = parse_decimal(s, ULONG_MAX, &v);
	if (ret)
		return ret;
	/* The kernel hands out 1..pid_max-1; pid_max itself is never a PID. */
	if (v < 1 || v >= (unsigned long)parse_pid_max())
		return -ERANGE;
	*out = (pid_t)v;
	return 0;
}

int parse_addr(const char *s, unsigned long *out)
{
	if (!s || !out)
		return -EINVAL;
	if (bounded_len(s) > PARSE_MAX_LEN)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_hex(s + 2, out);
	return parse_decimal(s, ULONG_MAX, out);
}

int parse_vdso_type(const char *s, int *out)
{
	int t;

	if (!s || !out)
		return -EINVAL;
	t = vdso_type_of_name(s);
	if (t == VDSO_TYPE_UNKNOWN && s[0] >= '0' && s[0] < '0' + VDSO_NTYPES && s[1] == '\0')
		t = s[0] - '0';
	if (t == VDSO_TYPE_UNKNOWN)
		return -EINVAL;
	*out = t;
	return 0;
}
