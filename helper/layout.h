/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * helper/layout.h: what each vdso type looks like on this kernel.
 *
 * vdso_get_info (473) when the kernel has it, proved by what it answers;
 * otherwise a probe: a child
 * that unmaps its own vdso block, maps the wanted type with
 * arch_prctl(ARCH_MAP_VDSO_*) and reports what it got.
 */
#ifndef VDSO_HELPER_LAYOUT_H
#define VDSO_HELPER_LAYOUT_H

#include <stddef.h>

#define NR_vdso_get_info 473
#define NR_vdso_remap 474

struct vdso_info_uapi {			/* struct vdso_info of the kernel patch */
	unsigned long long space_needed_before;
	unsigned long long space_needed_after;
	unsigned long long alignment;
};

struct layout {
	int available;
	int from_syscall;
	unsigned long before, after, alignment;
	int vvar_vmas;			/* -1 when unknown */
	char reason[160];
};

/* 473/474 are vdso_get_info/vdso_remap: they answered as only those can. */
int  kernel_has_vdso_syscalls(void);
/* Fill @l for @type. With @img, also the raw text (malloc'ed) into *img / *imglen. */
int  layout_get(int type, struct layout *l, unsigned char **img, size_t *imglen);

#endif
