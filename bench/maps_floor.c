// SPDX-License-Identifier: GPL-2.0
/*
 * The floor for a /proc scan: read every /proc/PID/maps and nothing else,
 * as tightly as C allows. Prints the median time of one pass in ns.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 16];

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long pass(void)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	char path[sizeof(de->d_name) + 8];
	long files = 0;

	if (!proc)
		return -1;
	while ((de = readdir(proc))) {
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/maps", de->d_name);
		fd = openat(dirfd(proc), path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		files++;
	}
	closedir(proc);
	return files;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	long long t[101];
	long files = 0;

	if (runs < 1 || runs > 101) {
		fprintf(stderr, "maps_floor: runs must be 1..101\n");
		return 2;
	}
	for (int i = 0; i < runs; i++) {
		long long t0 = now_ns();

		files = pass();
		t[i] = now_ns() - t0;
	}
	qsort(t, runs, sizeof(t[0]), cmp);
	printf("%lld %ld\n", t[runs / 2], files);
	return 0;
}
