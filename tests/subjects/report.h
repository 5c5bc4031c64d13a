/* SPDX-License-Identifier: GPL-2.0 */
/* Counting and describing failed checks in the status file. */
#ifndef REPORT_H
#define REPORT_H

#include "status.h"

extern struct subject_status *st;

/* No value to print after the message. */
#define NOVAL (-9223372036854775807LL - 1)

/*
 * errors += 1 and last_error = "msg val". Async-signal-safe and free of
 * libc, so signal handlers and the static subjects use it too.
 */
void fail(const char *msg, long long val);

#endif
