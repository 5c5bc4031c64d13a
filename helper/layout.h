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

/* <linux/vdso.h> of the kernel patch */
#define VDSO_PART_DATA 1		/* data pages shared with the kernel */
#define VDSO_PART_TEXT 2		/* the ELF image */
#define VDSO_INFO_MAX_PARTS 8
#define VDSO_INFO_SIZE_VER0 24		/* the three sizes: the least a caller may ask for */
/*
 * vdso_remap flag: other tasks share the mm and the caller takes care of
 * their registers. Without it the kernel refuses a target with more than
 * one thread (EBUSY). The helper may pass it: it stops every thread of the
 * target, moves what they hold into the old block (or has them step out),
 * and refuses a target whose mm another process shares.
 */
#define VDSO_REMAP_SHARED_MM 2U

struct vdso_part_uapi {
	unsigned long long offset;	/* from the start of the block */
	unsigned long long size;
	unsigned int kind;		/* VDSO_PART_* */
	unsigned int reserved;
};

struct vdso_info_uapi {			/* struct vdso_info */
	unsigned long long space_needed_before;
	unsigned long long space_needed_after;
	unsigned long long alignment;
	unsigned long long nr_parts;
	struct vdso_part_uapi parts[VDSO_INFO_MAX_PARTS];
};

/*
 * The kernel's number for a vdso type (<asm/vdso_types.h>: VDSO_X86_*,
 * the ARCH_MAP_VDSO_* values), or -1. The helper's own numbers (the
 * protocol's ids) are not the kernel's.
 */
long kernel_vdso_type(int type);

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
