// SPDX-License-Identifier: GPL-2.0
/*
 * vdso symbol lookup: ELF program headers -> PT_DYNAMIC -> dynsym, with
 * symbol versions checked against the verdef chain. No libc calls, so the
 * static subjects can link it.
 */
#include <elf.h>
#include "vdso_sym.h"

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

#define W(x) Elf32_##x
#define FN(x) x##32
#include "vdso_sym_impl.h"
#undef W
#undef FN

#define W(x) Elf64_##x
#define FN(x) x##64
#include "vdso_sym_impl.h"
#undef W
#undef FN

static const unsigned char elfmag[4] = { 0x7f, 'E', 'L', 'F' };

int vdso_parse(struct vdso_image *img, uintptr_t base)
{
	const unsigned char *id = (const unsigned char *)base;

	*img = (struct vdso_image){ .base = base };
	if (!base)
		return -1;
	for (int i = 0; i < 4; i++)
		if (id[i] != elfmag[i])
			return -1;
	if (id[EI_CLASS] == ELFCLASS64) {
		img->is64 = 1;
		return parse64(img, base);
	}
	if (id[EI_CLASS] == ELFCLASS32)
		return parse32(img, base);
	return -1;
}

uintptr_t vdso_sym(const struct vdso_image *img, const char *version,
		   const char *name)
{
	return img->is64 ? sym64(img, version, name) : sym32(img, version, name);
}
