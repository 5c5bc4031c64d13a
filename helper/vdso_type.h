/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * helper/vdso_type.h: the three vdso types of x86 and what the helper knows
 * about each, from one table.
 *
 * A process's mode (the ABI of its program, from the ELF header of
 * /proc/P/exe) is named by the type of vdso its code calls, so modes take
 * the same values. The numbers are also those of the protocol's "id": they
 * never change. The kernel patch's vdso_get_info/vdso_remap number types as
 * ARCH_MAP_VDSO_* does (kernel_vdso_type() in layout.h).
 */
#ifndef VDSO_HELPER_VDSO_TYPE_H
#define VDSO_HELPER_VDSO_TYPE_H

#include <stddef.h>

enum vdso_type {
	VDSO_TYPE_UNKNOWN = -1,		/* no type, or a mode the helper does not know */
	VDSO_TYPE_I386 = 0,
	VDSO_TYPE_X86_64 = 1,
	VDSO_TYPE_X32 = 2,
};
#define VDSO_NTYPES 3

int vdso_type_valid(int type);
const char *vdso_type_name(int type);		/* "i386", "x86_64", "x32", or NULL */
const char *vdso_type_prctl_name(int type);	/* "ARCH_MAP_VDSO_32", ..., or NULL */
long arch_map_vdso_code(int type);		/* ARCH_MAP_VDSO_* for a type, or -1 */
/* Where a process of this mode ends (its TASK_SIZE); 0 for VDSO_TYPE_UNKNOWN. */
unsigned long vdso_type_limit(int type);
int vdso_type_of_name(const char *name);	/* exact name, or VDSO_TYPE_UNKNOWN */
/* The type of vdso a process of @mode calls (VDSO_TYPE_UNKNOWN for an unknown mode). */
int vdso_type_of_mode(int mode);
/* The type of an ELF image from its header, or VDSO_TYPE_UNKNOWN. */
int vdso_type_of_elf(const unsigned char *ehdr, size_t len);

#endif
