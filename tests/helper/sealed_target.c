// SPDX-License-Identifier: GPL-2.0-only
/*
 * A process whose vdso block is sealed with mseal(2): it prints "sealed" once
 * the block is sealed, then sleeps until killed. Built by test_remap_refusals.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_mseal
#define SYS_mseal 462
#endif

int main(void)
{
	unsigned long s, e, lo = 0, hi = 0;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "[vvar") && !strstr(line, "[vdso]"))
			continue;
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			return 1;
		if (!lo)
			lo = s;
		hi = e;
	}
	fclose(f);
	if (!lo || syscall(SYS_mseal, lo, hi - lo, 0) != 0) {
		perror("mseal");
		return 1;
	}
	puts("sealed");
	fflush(stdout);
	for (;;)
		pause();
}
