// SPDX-License-Identifier: GPL-2.0
/*
 * A process whose vdso block is not the kernel's whole block: for the
 * scanner's tests of the shapes its fast path must hand to the maps text.
 *
 *   reshape --no-vdso   unmap the [vdso] text, keep the [vvar*] mappings;
 *   reshape --split     move the first [vvar*] mapping away from the text.
 *
 * Prints "ready" when the block has its new shape, then waits in pause()
 * (a plain system call: nothing here calls into the vdso afterwards).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct range {
	unsigned long start, end;
};

/* The first mapping named `prefix...` in our own maps. */
static int find(const char *prefix, struct range *r)
{
	char line[512], name[256];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		name[0] = 0;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255s", &r->start, &r->end, name) >= 2 &&
		    !strncmp(name, prefix, strlen(prefix)))
			found = 1;
	}
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	struct range r;

	if (argc != 2 || (strcmp(argv[1], "--no-vdso") && strcmp(argv[1], "--split"))) {
		fprintf(stderr, "usage: reshape --no-vdso|--split\n");
		return 2;
	}
	if (!strcmp(argv[1], "--no-vdso")) {
		if (!find("[vdso]", &r) || munmap((void *)r.start, r.end - r.start)) {
			perror("reshape: unmap [vdso]");
			return 1;
		}
	} else {
		/* Somewhere free and far from the block: a fresh reservation. */
		void *to;

		if (!find("[vvar", &r)) {
			fprintf(stderr, "reshape: no [vvar] mapping\n");
			return 1;
		}
		to = mmap(NULL, r.end - r.start, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (to == MAP_FAILED ||
		    mremap((void *)r.start, r.end - r.start, r.end - r.start,
			   MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED) {
			perror("reshape: move [vvar]");
			return 1;
		}
	}
	puts("ready");
	fflush(stdout);
	for (;;)
		pause();
}
