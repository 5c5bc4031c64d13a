// SPDX-License-Identifier: GPL-2.0-only
/* helper/proxy.c: build, find and re-point vdso proxies. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proc.h"
#include "proxy.h"
#include "vdso_type.h"

#define JMP_REL32_LEN 5
#define JMP_ABS64_LEN VDSO_JUMP_MAX	/* jmp *0(%rip); .quad target */

/* Entries left alone: an in-flight signal frame may return into them. */
static int keep_entry(const char *name)
{
	return strcmp(name, "__kernel_sigreturn") == 0 || strcmp(name, "__kernel_rt_sigreturn") == 0;
}

static int write_jump(unsigned char *at, size_t room, unsigned long from, unsigned long to, int is32)
{
	int64_t rel = (int64_t)(to - (from + JMP_REL32_LEN));

	if (room < JMP_REL32_LEN)
		return -ERANGE;
	/* 32-bit code wraps around at 4 GiB, so rel32 always reaches */
	if (is32 || (rel >= INT32_MIN && rel <= INT32_MAX)) {
		int32_t r32 = (int32_t)rel;

		at[0] = 0xe9;
		memcpy(at + 1, &r32, 4);
		return 0;
	}
	if (room < JMP_ABS64_LEN)
		return -ERANGE;
	at[0] = 0xff;
	at[1] = 0x25;
	memset(at + 2, 0, 4);
	memcpy(at + 6, &to, 8);
	return 0;
}

int proxy_patch(unsigned char *img, size_t len, const struct vdso_elf *e,
		unsigned long proxy_base, unsigned long new_base, char *why, size_t whylen)
{
	int is32 = e->type == VDSO_TYPE_I386;
	struct vdso_elf again;

	if (len < 16) {
		snprintf(why, whylen, "an image of %zu bytes has no room for the mark", len);
		return -EINVAL;
	}
	memcpy(img + PROXY_MARK_OFF, PROXY_MARK, PROXY_MARK_LEN);
	for (int k = 0; k < e->nsyms; k++) {
		const struct vdso_sym *s = &e->sym[k];

		if (keep_entry(s->name))
			continue;
		if (s->off > len || s->size > len - s->off ||
		    write_jump(img + s->off, s->size, proxy_base + s->off, new_base + s->off, is32)) {
			snprintf(why, whylen, "%s has %lu bytes, too few for a jump from 0x%lx to 0x%lx",
				 s->name, s->size, proxy_base, new_base);
			return -ERANGE;
		}
	}
	/*
	 * The jumps are written over the entries' code; an image whose ELF
	 * tables lie in that code would no longer read as the same vdso, and
	 * its proxy could not be found or re-pointed later.
	 */
	if (vdso_elf_parse(img, len, &again) || again.nsyms != e->nsyms)
		goto clobbered;
	for (int k = 0; k < e->nsyms; k++)
		if (again.sym[k].off != e->sym[k].off ||
		    strcmp(again.sym[k].name, e->sym[k].name) != 0)
			goto clobbered;
	return 0;
clobbered:
	snprintf(why, whylen, "the entry jumps would overwrite the image's own ELF tables");
	return -EINVAL;
}

int proxy_is_marked(const unsigned char *img, size_t len)
{
	return len >= 16 && vdso_type_of_elf(img, len) != VDSO_TYPE_UNKNOWN &&
	       memcmp(img + PROXY_MARK_OFF, PROXY_MARK, PROXY_MARK_LEN) == 0;
}

unsigned long proxy_target(const unsigned char *img, size_t len, const struct vdso_elf *e,
			   unsigned long proxy_base)
{
	for (int k = 0; k < e->nsyms; k++) {
		const struct vdso_sym *s = &e->sym[k];
		const unsigned char *p = img + s->off;
		unsigned long to;

		if (keep_entry(s->name) || s->off > len || len - s->off < JMP_ABS64_LEN)
			continue;
		if (p[0] == 0xe9) {
			int32_t r32;

			memcpy(&r32, p + 1, 4);
			to = proxy_base + s->off + JMP_REL32_LEN + (unsigned long)(long)r32;
			if (e->type == VDSO_TYPE_I386)
				to &= 0xffffffffUL;
		} else if (p[0] == 0xff && p[1] == 0x25 && !p[2] && !p[3] && !p[4] && !p[5]) {
			memcpy(&to, p + 6, 8);
		} else {
			return 0;
		}
		return to - s->off;
	}
	return 0;
}

int proxy_find_all(int memfd, const struct maps *m, struct proxy_list *out)
{
	out->n = 0;
	for (int i = 0; i < m->n && out->n < PROXY_MAX; i++) {
		const struct maps_entry *v = &m->e[i];
		unsigned char h[64];

		if (v->inode || v->name[0] || strcmp(v->perms, "r-xp") != 0)
			continue;
		if (mem_read(memfd, v->start, h, sizeof(h)) || !proxy_is_marked(h, sizeof(h)))
			continue;
		out->base[out->n] = v->start;
		out->size[out->n] = v->end - v->start;
		out->n++;
	}
	return 0;
}
