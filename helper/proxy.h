/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * helper/proxy.h: the copy of an old vdso left at the old base by a live
 * move. It holds the old text byte for byte, except that each exported
 * function's entry jumps to the same function of the new vdso; the i386
 * sigreturn trampolines and the int80 landing pad stay untouched, so
 * in-flight signal returns and blocked syscalls still work.
 */
#ifndef VDSO_HELPER_PROXY_H
#define VDSO_HELPER_PROXY_H

#include <stddef.h>

#include "maps.h"
#include "vdsoelf.h"

/*
 * Write the entry jumps of a proxy at @proxy_base into @img (a copy of the
 * image, @len bytes) so that they reach @new_base; mark the header.
 * 0, or -ERANGE if an entry has no room for a jump that reaches.
 */
int proxy_patch(unsigned char *img, size_t len, const struct vdso_elf *e,
		unsigned long proxy_base, unsigned long new_base, char *why, size_t whylen);

/* Is this image a proxy (marked header)? */
int proxy_is_marked(const unsigned char *img, size_t len);

/* Where the proxy's entries jump to (the base of the vdso it serves), or 0. */
unsigned long proxy_target(const unsigned char *img, size_t len, const struct vdso_elf *e,
			   unsigned long proxy_base);

/* Proxies of a process: anonymous r-x mappings whose header bears the mark. */
#define PROXY_MAX 1024

struct proxy_list {
	int n;
	unsigned long base[PROXY_MAX];
	unsigned long size[PROXY_MAX];
};
int proxy_find_all(int memfd, const struct maps *m, struct proxy_list *out);

#endif
