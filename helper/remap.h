/* SPDX-License-Identifier: GPL-2.0-only */
/* helper/remap.h: the show and remap commands (a live target). */
#ifndef VDSO_HELPER_REMAP_H
#define VDSO_HELPER_REMAP_H

#include <stddef.h>
#include <sys/types.h>

struct caller;

struct remap_req {
	pid_t pid;
	int have_addr, auto_addr;
	unsigned long addr;
	int type;			/* enum vdso_type; VDSO_TYPE_UNKNOWN: keep the current one */
	int no_proxy, force, dry_run;
};

void cmd_remap(const struct caller *c, const struct remap_req *r);
void cmd_show(const struct caller *c, pid_t pid);

/* Signals that must not cut an operation short: blocked while a target is held. */
void guard_signals_block(void);
int  guard_signal_pending(void);	/* the pending one, or 0 */

#endif
