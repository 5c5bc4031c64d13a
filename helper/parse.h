/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * helper/parse.h: bounded parsing of untrusted command-line input.
 *
 * Every number that reaches the helper from its command line goes through
 * these functions. They never allocate, never read past the terminating NUL,
 * accept no sign, no whitespace and no trailing junk, and reject strings
 * longer than PARSE_MAX_LEN. The hex digit is shared with the maps parser.
 */
#ifndef VDSO_HELPER_PARSE_H
#define VDSO_HELPER_PARSE_H

#include <sys/types.h>

/* Longest numeric argument accepted (a 64-bit value with generous leading zeros). */
#define PARSE_MAX_LEN 64

int parse_pid(const char *s, pid_t *out);           /* 0, or -EINVAL / -ERANGE; decimal only, 1..pid_max */
int parse_addr(const char *s, unsigned long *out);  /* 0, or -EINVAL / -ERANGE; "0x"-hex or decimal, full 64-bit range, no sign, no trailing junk */
int parse_hex_digit(char c);                        /* 0..15, or -1 for anything but [0-9a-fA-F] */
int parse_vdso_type(const char *s, int *out);       /* a type's name or number -> enum vdso_type; else -EINVAL */

/*
 * The pid_max that parse_pid() enforces, read once from
 * /proc/sys/kernel/pid_max (PID_MAX_LIMIT if unreadable).
 */
long parse_pid_max(void);

#endif
