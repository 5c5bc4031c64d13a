/* SPDX-License-Identifier: GPL-2.0-only */
/* helper/vdsoelf.h: the exported functions of a vdso image in memory. */
#ifndef VDSO_HELPER_VDSOELF_H
#define VDSO_HELPER_VDSOELF_H

#include <stddef.h>

#define VDSO_MAX_SYMS 48
#define VDSO_JUMP_MAX 14	/* longest entry jump a proxy writes */

struct vdso_sym {
	char name[40];
	unsigned long off;	/* from the image start (the base) */
	unsigned long size;	/* room up to the next symbol or the end of text */
	unsigned long esize;	/* st_size as the image declares it */
};

struct vdso_elf {
	int type;		/* enum vdso_type */
	int nsyms;		/* defined functions, one per distinct address */
	struct vdso_sym sym[VDSO_MAX_SYMS];
};

/* Bounds-checked: 0, or -EINVAL if @img is not a vdso image we understand. */
int vdso_elf_parse(const unsigned char *img, size_t len, struct vdso_elf *out);
const struct vdso_sym *vdso_elf_find(const struct vdso_elf *v, const char *name);

/* The proxy mark in e_ident[EI_PAD] (see docs/protocol.md). */
#define PROXY_MARK "VDSOPXY"
#define PROXY_MARK_OFF 9
#define PROXY_MARK_LEN 7

#endif
