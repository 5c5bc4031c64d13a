// SPDX-License-Identifier: GPL-2.0-only
/* helper/vdsoelf.c: the exported functions of a vdso image in memory. */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdso_type.h"
#include "vdsoelf.h"

/* Read a little-endian field of @w bytes at @off, bounds-checked. */
static int rd(const unsigned char *img, size_t len, size_t off, size_t w, uint64_t *v)
{
	if (off > len || w > len - off)
		return -1;
	*v = 0;
	memcpy(v, img + off, w);
	return 0;
}

/* Do [a, a+alen) and [b, b+blen) share a byte? (no overflow) */
static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	if (!alen || !blen)
		return 0;
	return a < b ? b - a < alen : a - b < blen;
}

static int cmp_off(const void *a, const void *b)
{
	const struct vdso_sym *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}



int vdso_elf_parse(const unsigned char *img, size_t len, struct vdso_elf *out)
{
	int is64, type = vdso_type_of_elf(img, len);
	uint64_t shoff, shentsize, shnum, load_vaddr = 0, phoff, phentsize, phnum;
	uint64_t symoff = 0, symsize = 0, symentsize = 0, stroff = 0, strsize = 0;
	size_t W;

	memset(out, 0, sizeof(*out));
	if (type == VDSO_TYPE_UNKNOWN)
		return -EINVAL;
	out->type = type;
	is64 = img[EI_CLASS] == ELFCLASS64;
	W = is64 ? 8 : 4;
	/* offsets of e_phoff, e_shoff, e_phentsize... differ between classes */
	if (rd(img, len, is64 ? 32 : 28, W, &phoff) || rd(img, len, is64 ? 40 : 32, W, &shoff) ||
	    rd(img, len, is64 ? 54 : 42, 2, &phentsize) || rd(img, len, is64 ? 56 : 44, 2, &phnum) ||
	    rd(img, len, is64 ? 58 : 46, 2, &shentsize) || rd(img, len, is64 ? 60 : 48, 2, &shnum))
		return -EINVAL;
	/* symbol values are virtual addresses: relative to the first PT_LOAD */
	for (uint64_t i = 0; i < phnum; i++) {
		uint64_t ptype, vaddr, o = phoff + i * phentsize;

		if (rd(img, len, o, 4, &ptype) || rd(img, len, o + (is64 ? 16 : 8), W, &vaddr))
			return -EINVAL;
		if (ptype == PT_LOAD) {
			load_vaddr = vaddr;
			break;
		}
	}
	for (uint64_t i = 0; i < shnum; i++) {
		uint64_t o = shoff + i * shentsize, sh_type, off, size, link, entsize;

		if (rd(img, len, o + 4, 4, &sh_type))
			return -EINVAL;
		if (sh_type != SHT_DYNSYM)
			continue;
		if (rd(img, len, o + (is64 ? 24 : 16), W, &off) ||
		    rd(img, len, o + (is64 ? 32 : 20), W, &size) ||
		    rd(img, len, o + (is64 ? 40 : 24), 4, &link) ||
		    rd(img, len, o + (is64 ? 56 : 36), W, &entsize))
			return -EINVAL;
		symoff = off;
		symsize = size;
		symentsize = entsize;
		o = shoff + link * shentsize;
		if (link >= shnum || rd(img, len, o + (is64 ? 24 : 16), W, &stroff) ||
		    rd(img, len, o + (is64 ? 32 : 20), W, &strsize))
			return -EINVAL;
		break;
	}
	if (!symentsize || symoff > len || symsize > len - symoff || stroff > len ||
	    strsize > len - stroff)
		return -EINVAL;
	for (uint64_t o = symoff; o + symentsize <= symoff + symsize; o += symentsize) {
		uint64_t name, value, info, shndx, size;
		const char *s;
		size_t maxn;
		int dup = 0;

		if (rd(img, len, o, 4, &name) ||
		    rd(img, len, o + (is64 ? 8 : 4), W, &value) ||
		    rd(img, len, o + (is64 ? 4 : 12), 1, &info) ||
		    rd(img, len, o + (is64 ? 6 : 14), 2, &shndx) ||
		    rd(img, len, o + (is64 ? 16 : 8), W, &size))
			return -EINVAL;
		if (ELF64_ST_TYPE(info) != STT_FUNC || shndx == SHN_UNDEF || name >= strsize)
			continue;
		if (value < load_vaddr || value - load_vaddr >= len)
			continue;
		s = (const char *)img + stroff + name;
		maxn = strnlen(s, strsize - name);
		if (maxn == strsize - name || maxn >= sizeof(out->sym[0].name))
			continue;
		for (int k = 0; k < out->nsyms; k++)
			if (out->sym[k].off == value - load_vaddr)
				dup = 1;
		/* prefer the __vdso_/__kernel_ name of aliased entries */
		if (dup || out->nsyms == VDSO_MAX_SYMS)
			continue;
		memcpy(out->sym[out->nsyms].name, s, maxn + 1);
		out->sym[out->nsyms].off = value - load_vaddr;
		out->sym[out->nsyms].size = size;
		out->sym[out->nsyms].esize = size;
		out->nsyms++;
	}
	qsort(out->sym, (size_t)out->nsyms, sizeof(out->sym[0]), cmp_off);
	/* room for a jump: the symbol's size, else up to the next symbol */
	for (int k = 0; k < out->nsyms; k++) {
		struct vdso_sym *v = &out->sym[k];
		unsigned long next = k + 1 < out->nsyms ? out->sym[k + 1].off : len;

		if (!v->size || v->size > next - v->off)
			v->size = next - v->off;
		if (v->esize > len - v->off)
			v->esize = len - v->off;
		/*
		 * Entry jumps are written over function starts: a function that
		 * shares bytes with the ELF header, the program or section headers
		 * or the symbol tables is not a vdso we would patch (a target can
		 * forge its image, and proxies are found by their header).
		 */
		if (overlaps(v->off, VDSO_JUMP_MAX, 0, 64) ||
		    overlaps(v->off, VDSO_JUMP_MAX, phoff, phnum * phentsize) ||
		    overlaps(v->off, VDSO_JUMP_MAX, shoff, shnum * shentsize) ||
		    overlaps(v->off, VDSO_JUMP_MAX, symoff, symsize) ||
		    overlaps(v->off, VDSO_JUMP_MAX, stroff, strsize))
			return -EINVAL;
	}
	return out->nsyms ? 0 : -EINVAL;
}

const struct vdso_sym *vdso_elf_find(const struct vdso_elf *v, const char *name)
{
	for (int k = 0; k < v->nsyms; k++)
		if (strcmp(v->sym[k].name, name) == 0)
			return &v->sym[k];
	return NULL;
}
