// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for helper/parse.c: every command-line number and type.
 * Beyond "does not crash", each result is compared with a second,
 * deliberately naive implementation of the same grammar, and every accepted
 * value must survive a print-and-reparse round trip.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "vdso_type.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "check failed: %s\n", #cond); abort(); } } while (0)

static int ref_decimal(const char *s, unsigned __int128 limit, unsigned long *out)
{
	unsigned __int128 v = 0;
	int over = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (!over)
			v = v * 10 + (unsigned)(*s - '0');
		if (v > limit)
			over = 1;
	}
	if (over)
		return -ERANGE;
	*out = (unsigned long)v;
	return 0;
}

static int ref_addr(const char *s, unsigned long *out)
{
	const char *d;
	size_t sig = 0;
	unsigned long v = 0;

	if (strlen(s) > PARSE_MAX_LEN)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		d = s + 2;
		if (!*d)
			return -EINVAL;
		for (; *d; d++) {
			int x;

			if (*d >= '0' && *d <= '9')
				x = *d - '0';
			else if (*d >= 'a' && *d <= 'f')
				x = *d - 'a' + 10;
			else if (*d >= 'A' && *d <= 'F')
				x = *d - 'A' + 10;
			else
				return -EINVAL;
			if (sig || x)
				sig++;
			v = (v << 4) | (unsigned long)x;
		}
		if (sig > 16)
			return -ERANGE;
		*out = v;
		return 0;
	}
	return ref_decimal(s, UINT64_MAX, out);
}

static int ref_pid(const char *s, long pid_max, unsigned long *out)
{
	int ret;

	if (strlen(s) > PARSE_MAX_LEN)
		return -EINVAL;
	ret = ref_decimal(s, UINT64_MAX, out);
	if (ret)
		return ret;
	if (*out < 1 || *out >= (unsigned long)pid_max)
		return -ERANGE;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	unsigned long a = 0, ra = 0, rp = 0, back = 0;
	char buf[64];
	pid_t pid = 0;
	int ret, ref, type = -1;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	ret = parse_addr(s, &a);
	ref = ref_addr(s, &ra);
	CHECK(ret == ref);
	if (ret == 0) {
		CHECK(a == ra);
		snprintf(buf, sizeof(buf), "0x%lx", a);
		CHECK(parse_addr(buf, &back) == 0 && back == a);
		snprintf(buf, sizeof(buf), "%lu", a);
		CHECK(parse_addr(buf, &back) == 0 && back == a);
	}

	ret = parse_pid(s, &pid);
	ref = ref_pid(s, parse_pid_max(), &rp);
	CHECK(ret == ref);
	if (ret == 0) {
		CHECK(pid >= 1 && (long)pid < parse_pid_max() && (unsigned long)pid == rp);
	}

	ret = parse_vdso_type(s, &type);
	if (ret == 0) {
		CHECK(vdso_type_valid(type));
		CHECK(!strcmp(s, vdso_type_name(type)) || (s[0] == '0' + type && s[1] == '\0'));
	} else {
		CHECK(ret == -EINVAL);
		CHECK(strcmp(s, "i386") && strcmp(s, "x86_64") && strcmp(s, "x32"));
	}
	free(s);
	return 0;
}
