// SPDX-License-Identifier: GPL-2.0-only
/*
 * A process with syscall user dispatch on (selector set to allow, so it runs
 * normally): it prints "ready" ("unsupported" on a kernel without syscall
 * user dispatch), then sleeps until killed. Built by test_remap_refusals.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#endif
#define SELECTOR_ALLOW 0

static volatile char selector = SELECTOR_ALLOW;

int main(void)
{
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &selector)) {
		if (errno != EINVAL) {
			perror("prctl");
			return 1;
		}
		puts("unsupported");	/* a kernel built without it */
	} else {
		puts("ready");
	}
	fflush(stdout);
	for (;;)
		pause();
}
