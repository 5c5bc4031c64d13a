/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal vdso symbol lookup for the test subjects.
 *
 * Works without libc (the static subjects use it) and for both ELF
 * classes whatever the caller's own class is (the 64-bit restorer looks
 * up symbols in an i386 image).
 */
#ifndef VDSO_SYM_H
#define VDSO_SYM_H

#include <stdint.h>

struct vdso_image {
	uintptr_t base;		/* where the image is mapped */
	uintptr_t load_offset;	/* base + p_offset - p_vaddr of PT_LOAD */
	int is64;
	uintptr_t symtab, strtab, versym, verdef;
	uint32_t nsyms;
};

/* Returns 0, or -1 if base does not hold a usable ELF vdso image. */
int vdso_parse(struct vdso_image *img, uintptr_t base);

/*
 * Address of symbol name (with version, if version is not NULL) in the
 * mapped image, or 0 if absent.
 */
uintptr_t vdso_sym(const struct vdso_image *img, const char *version,
		   const char *name);

#endif
