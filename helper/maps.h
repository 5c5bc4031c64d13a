/* SPDX-License-Identifier: GPL-2.0-only */
/* helper/maps.h: /proc/PID/maps parsing and the vdso block. */
#ifndef VDSO_HELPER_MAPS_H
#define VDSO_HELPER_MAPS_H

#include <sys/types.h>

#define MAPS_NAME_MAX 256
#define BLOCK_MAX_VMAS 8

struct maps_entry {
	unsigned long start, end, offset, inode;
	unsigned int dev_major, dev_minor;
	char perms[5];			/* "r-xp" */
	char name[MAPS_NAME_MAX];	/* "" for anonymous; truncated if longer */
};

/*
 * Parse one line of /proc/PID/maps (with or without its newline).
 * Pure: no I/O, no allocation. 0, or -EINVAL for anything malformed
 * (start >= end, non-hex fields, bad perms, trailing junk in numbers).
 */
int maps_parse_line(const char *line, struct maps_entry *e);

struct maps {
	int n;
	struct maps_entry *e;
};

int  maps_read(pid_t pid, struct maps *m);	/* 0 or -errno */
void maps_free(struct maps *m);

/* The vdso block: [vvar*] VMAs directly in front of [vdso], however many. */
struct block {
	int nvmas;
	struct maps_entry vma[BLOCK_MAX_VMAS];
	unsigned long vvar_start;	/* start of the first VMA */
	unsigned long base;		/* start of [vdso] = the text */
	unsigned long end;		/* end of [vdso] */
};

int maps_find_block(const struct maps *m, struct block *b);	/* 0 or -ENOENT */
/* Is [start, end) free of mappings, ignoring those inside @skip (may be NULL)? */
int maps_range_free(const struct maps *m, unsigned long start, unsigned long end,
		    const struct block *skip, struct maps_entry *clash);
/* Mapping that holds @addr, or NULL. */
const struct maps_entry *maps_find(const struct maps *m, unsigned long addr);

#endif
