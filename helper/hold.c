// SPDX-License-Identifier: GPL-2.0-only
/* helper/hold.c: only root may signal the helper while it holds a target. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hold.h"

int hold_begin(struct hold *h, char *why, size_t whylen)
{
	uid_t r, e, s;

	memset(h, 0, sizeof(*h));
	if (getresuid(&r, &e, &s)) {
		int err = errno;

		snprintf(why, whylen, "cannot read the helper's own uids: %s", strerror(err));
		return -err;
	}
	/* A root caller may signal anything anyway; an unprivileged helper cannot raise. */
	if (r == 0 || e != 0)
		return 0;
	/*
	 * Signals sent before this call are acted on when it returns, so a
	 * SIGKILL or SIGSTOP the caller got in lands before the target is
	 * touched; any sent later fail with EPERM.
	 */
	if (setresuid(0, (uid_t)-1, (uid_t)-1)) {
		int err = errno;

		snprintf(why, whylen, "cannot shut the caller out while the target is held: %s",
			 strerror(err));
		return -err;
	}
	h->active = 1;
	h->ruid = r;
	return 0;
}

void hold_end(struct hold *h)
{
	uid_t r, e, s;

	if (!h->active)
		return;
	/* With the real uid left at 0, the rest of the run would not be the caller's. */
	if (setresuid(h->ruid, (uid_t)-1, (uid_t)-1) || getresuid(&r, &e, &s) || r != h->ruid)
		abort();
	h->active = 0;
}
