// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the /proc/PID/maps parser and the block finder in
 * helper/maps.c. The input is a maps file; each accepted line must be sane
 * and survive formatting back into the kernel's layout, and whatever block
 * maps_find_block() reports must be made of those lines, in order.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "check failed: %s\n", #cond); abort(); } } while (0)
#define MAX_LINES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maps_entry entries[MAX_LINES], again;
	struct maps m = { 0, entries };
	struct block b;
	char *text, *line, *next, buf[MAPS_NAME_MAX + 128];
	int i;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line && m.n < MAX_LINES; line = next) {
		struct maps_entry *e = &entries[m.n];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (maps_parse_line(line, e))
			continue;
		CHECK(e->start < e->end);
		CHECK(strlen(e->perms) == 4 && strchr("r-", e->perms[0]) && strchr("w-", e->perms[1]) &&
		      strchr("x-", e->perms[2]) && strchr("ps", e->perms[3]));
		CHECK(memchr(e->name, '\0', sizeof(e->name)) != NULL);
		snprintf(buf, sizeof(buf), "%lx-%lx %s %08lx %02x:%02x %lu %s", e->start, e->end, e->perms,
			 e->offset, e->dev_major, e->dev_minor, e->inode, e->name);
		CHECK(maps_parse_line(buf, &again) == 0);
		CHECK(again.start == e->start && again.end == e->end && again.offset == e->offset &&
		      again.inode == e->inode && again.dev_major == e->dev_major &&
		      again.dev_minor == e->dev_minor && !strcmp(again.perms, e->perms));
		/* Leading blanks of a name are the column padding, not the name. */
		if (e->name[0] != ' ')
			CHECK(!strcmp(again.name, e->name));
		m.n++;
	}
	if (maps_find_block(&m, &b) == 0) {
		CHECK(b.nvmas >= 1 && b.nvmas <= BLOCK_MAX_VMAS);
		CHECK(b.vvar_start == b.vma[0].start);
		CHECK(b.base == b.vma[b.nvmas - 1].start && b.end == b.vma[b.nvmas - 1].end);
		CHECK(!strcmp(b.vma[b.nvmas - 1].name, "[vdso]"));
		CHECK(b.vvar_start <= b.base && b.base < b.end);
		for (i = 1; i < b.nvmas; i++)
			CHECK(b.vma[i - 1].end == b.vma[i].start);
		/* The block's own range is never free. */
		CHECK(maps_range_free(&m, b.vvar_start, b.end, NULL, NULL) == 0);
	}
	free(text);
	return 0;
}
