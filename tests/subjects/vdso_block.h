/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where this process's vdso block is: every [vvar*] VMA plus [vdso], read
 * from /proc/self/maps. Uses stdio, so for the glibc subjects only.
 */
#ifndef VDSO_BLOCK_H
#define VDSO_BLOCK_H

#include <stdint.h>

#define BLOCK_MAX_VMAS 8

struct vma {
	uintptr_t start, end;
};

struct vdso_block {
	int n;				/* VMAs in vma[], in maps order */
	struct vma vma[BLOCK_MAX_VMAS];
	uintptr_t text, text_end;	/* the [vdso] VMA, 0 if none */
};

/* Returns the number of block VMAs found, or -1 if maps cannot be read. */
int vdso_block_read(struct vdso_block *b);

#endif
