// SPDX-License-Identifier: GPL-2.0-only
/* helper/vdso_type.c: the table of vdso types. */
#include <elf.h>
#include <string.h>

#include "vdso_type.h"

/* arch/x86/include/uapi/asm/prctl.h */
#define ARCH_MAP_VDSO_X32 0x2001
#define ARCH_MAP_VDSO_32 0x2002
#define ARCH_MAP_VDSO_64 0x2003

static const struct {
	const char *name;
	const char *prctl_name;
	long arch_map_code;
	unsigned long limit;		/* TASK_SIZE of a process of this mode */
	unsigned char elf_class;	/* how an image of this type says so */
	unsigned short elf_machine;
} types[VDSO_NTYPES] = {
	[VDSO_TYPE_I386] = { "i386", "ARCH_MAP_VDSO_32", ARCH_MAP_VDSO_32,
			     0xffffe000UL, ELFCLASS32, EM_386 },
	/* 47-bit user space: the default mmap limit */
	[VDSO_TYPE_X86_64] = { "x86_64", "ARCH_MAP_VDSO_64", ARCH_MAP_VDSO_64,
			       0x7ffffffff000UL, ELFCLASS64, EM_X86_64 },
	[VDSO_TYPE_X32] = { "x32", "ARCH_MAP_VDSO_X32", ARCH_MAP_VDSO_X32,
			    0xffffe000UL, ELFCLASS32, EM_X86_64 },
};

int vdso_type_valid(int type)
{
	return type >= 0 && type < VDSO_NTYPES;
}

const char *vdso_type_name(int type)
{
	return vdso_type_valid(type) ? types[type].name : NULL;
}

const char *vdso_type_prctl_name(int type)
{
	return vdso_type_valid(type) ? types[type].prctl_name : NULL;
}

long arch_map_vdso_code(int type)
{
	return vdso_type_valid(type) ? types[type].arch_map_code : -1;
}

unsigned long vdso_type_limit(int type)
{
	return vdso_type_valid(type) ? types[type].limit : 0;
}

int vdso_type_of_name(const char *name)
{
	for (int t = 0; name && t < VDSO_NTYPES; t++)
		if (strcmp(name, types[t].name) == 0)
			return t;
	return VDSO_TYPE_UNKNOWN;
}

int vdso_type_of_mode(int mode)
{
	return vdso_type_valid(mode) ? mode : VDSO_TYPE_UNKNOWN;
}

int vdso_type_of_elf(const unsigned char *h, size_t len)
{
	unsigned int machine;

	if (len < EI_NIDENT + 4 || memcmp(h, ELFMAG, SELFMAG) != 0)
		return VDSO_TYPE_UNKNOWN;
	machine = (unsigned int)h[18] | ((unsigned int)h[19] << 8);	/* e_machine, LE */
	for (int t = 0; t < VDSO_NTYPES; t++)
		if (h[EI_CLASS] == types[t].elf_class && machine == types[t].elf_machine)
			return t;
	return VDSO_TYPE_UNKNOWN;
}
