// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the vdso ELF parser and the proxy code. Their input
 * is memory of the target process: a target can write anything into an
 * anonymous executable mapping and make it look like a proxy, so this is
 * attacker-controlled data parsed by the privileged helper.
 * Checks: every symbol the parser reports lies inside the image; a proxy
 * patched from an accepted image still parses, is marked, and points at
 * the new base.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "vdso_type.h"
#include "vdsoelf.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "check failed: %s\n", #cond); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long old_base = 0x7f0000000000UL, new_base = 0x7f0000100000UL;
	struct vdso_elf e, again;
	unsigned char *img;
	char why[256];
	int i;

	if (size > 65536)
		return 0;
	img = malloc(size ? size : 1);
	if (!img)
		return 0;
	memcpy(img, data, size);
	(void)proxy_is_marked(img, size);
	if (vdso_elf_parse(img, size, &e) != 0) {
		free(img);
		return 0;
	}
	CHECK(vdso_type_valid(e.type));
	if (e.type == VDSO_TYPE_I386) {
		/* An i386 vdso lives below 4 GiB; its rel32 jumps wrap there. */
		old_base = 0xf7f00000UL;
		new_base = 0xf7e00000UL;
	}
	CHECK(e.nsyms >= 0 && e.nsyms <= VDSO_MAX_SYMS);
	for (i = 0; i < e.nsyms; i++) {
		const struct vdso_sym *s = &e.sym[i];

		CHECK(memchr(s->name, '\0', sizeof(s->name)) != NULL);
		CHECK(s->off < size);
		CHECK(s->size <= size - s->off);
		CHECK(vdso_elf_find(&e, s->name) != NULL);
	}
	(void)proxy_target(img, size, &e, old_base);
	if (proxy_patch(img, size, &e, old_base, new_base, why, sizeof(why)) == 0) {
		CHECK(proxy_is_marked(img, size));
		CHECK(vdso_elf_parse(img, size, &again) == 0);
		CHECK(again.nsyms == e.nsyms);
		if (e.nsyms > 0) {
			unsigned long to = proxy_target(img, size, &again, old_base);

			/* All entries may be kept (sigreturn only): then there is no jump to read. */
			CHECK(to == new_base || to == 0);
		}
	}
	free(img);
	return 0;
}
