/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * helper/hold.h: while the helper holds a target, only root may signal it.
 *
 * The caller owns the helper's real uid, and the kernel lets a process
 * signal any process whose real or saved uid is its own. A SIGKILL or
 * SIGSTOP aimed at the window in which the target is stopped and half
 * changed would leave it so: an injected stub over its text, its block
 * half moved. For that window the helper's real uid becomes 0 as well.
 * Nothing the caller chose runs in it: the helper only traces, injects and
 * reads /proc.
 */
#ifndef VDSO_HELPER_HOLD_H
#define VDSO_HELPER_HOLD_H

#include <stddef.h>
#include <sys/types.h>

struct hold {
	int active;		/* the real uid was raised and must be put back */
	uid_t ruid;		/* the caller's real uid, to put back */
};

/* Raise the real uid to 0 if the helper runs setuid for a non-root caller. 0 or -errno (why set). */
int  hold_begin(struct hold *h, char *why, size_t whylen);
/* Put the caller's real uid back; aborts if that fails. Safe to call twice. */
void hold_end(struct hold *h);

#endif
