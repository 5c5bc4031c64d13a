// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "vdso_block.h"

int vdso_block_read(struct vdso_block *b)
{
	char buf[256];
	FILE *f = fopen("/proc/self/maps", "re");

	memset(b, 0, sizeof(*b));
	if (!f)
		return -1;
	while (b->n < BLOCK_MAX_VMAS && fgets(buf, sizeof(buf), f)) {
		unsigned long s, e;
		char name[64] = "";

		if (sscanf(buf, "%lx-%lx %*s %*s %*s %*s %63s", &s, &e, name) < 3)
			continue;
		if (strncmp(name, "[vvar", 5) && strcmp(name, "[vdso]"))
			continue;
		if (!strcmp(name, "[vdso]")) {
			b->text = s;
			b->text_end = e;
		}
		b->vma[b->n].start = s;
		b->vma[b->n++].end = e;
	}
	fclose(f);
	return b->n;
}
