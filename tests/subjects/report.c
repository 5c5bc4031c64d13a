// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include "report.h"

struct subject_status *st;

static int error_lock;

void fail(const char *msg, long long val)
{
	char *out = st->last_error;
	size_t n = 0;

	ST_ADD(st->errors, 1);
	if (__atomic_exchange_n(&error_lock, 1, __ATOMIC_ACQUIRE))
		return;		/* someone is writing one: counting is enough */
	while (*msg && n < sizeof(st->last_error) - 24)
		out[n++] = *msg++;
	if (val != NOVAL) {
		char digits[24];
		int d = 0;
		unsigned long long u = val < 0 ? -(unsigned long long)val :
						 (unsigned long long)val;

		out[n++] = ' ';
		if (val < 0)
			out[n++] = '-';
		do {
			digits[d++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		while (d)
			out[n++] = digits[--d];
	}
	out[n] = 0;
	__atomic_store_n(&error_lock, 0, __ATOMIC_RELEASE);
}
