// SPDX-License-Identifier: GPL-2.0
/*
 * The floor for a /proc scan: what a C tool must read to know each
 * process's vdso, as tightly as C allows. Two tools, by the first argument:
 *
 *   text   read stat, maps (the text), auxv, stat exe, and the vdso's ELF
 *          ident through mem: the naive C tool;
 *   query  the same, but the vdso block and the proxies' candidates come
 *          from PROCMAP_QUERY (Linux 6.11+): every executable mapping, the
 *          anonymous ones by name, and the [vvar*] mappings next to the
 *          text. The same work as the scanner's fast path, in C.
 *
 * Prints the median time of one pass in ns and the processes read.
 */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef PROCMAP_QUERY
/* include/uapi/linux/fs.h of Linux 6.11: the build host's headers may be older. */
struct procmap_query {
	__u64 size;
	__u64 query_flags;
	__u64 query_addr;
	__u64 vma_start;
	__u64 vma_end;
	__u64 vma_flags;
	__u64 vma_page_size;
	__u64 vma_offset;
	__u64 inode;
	__u32 dev_major;
	__u32 dev_minor;
	__u32 vma_name_size;
	__u32 build_id_size;
	__u64 vma_name_addr;
	__u64 build_id_addr;
};

#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_EXECUTABLE 0x04
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10
#endif

static char buf[1 << 16];
static char name[4096];
static volatile unsigned long sink;	/* keeps the reads' results alive */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static ssize_t read_all(int dir, const char *path)
{
	ssize_t n, total = 0;
	int fd = openat(dir, path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	close(fd);
	return total;
}

/* AT_SYSINFO_EHDR from an auxv image of 64-bit entries (0 if none). */
static unsigned long sysinfo_ehdr(ssize_t len)
{
	const unsigned long *av = (const unsigned long *)buf;

	for (ssize_t i = 0; i + 1 < len / 8; i += 2)
		if (av[i] == AT_SYSINFO_EHDR)
			return av[i + 1];
	return 0;
}

static int query(int fd, unsigned long addr, unsigned long flags,
		 struct procmap_query *q, int want_name)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->query_flags = flags;
	q->query_addr = addr;
	if (want_name) {
		q->vma_name_size = sizeof(name);
		q->vma_name_addr = (unsigned long)name;
	}
	return ioctl(fd, PROCMAP_QUERY, q);
}

static void query_block(int dir)
{
	struct procmap_query q;
	unsigned long addr = 0;
	int fd = openat(dir, "maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while (!query(fd, addr, PROCMAP_QUERY_COVERING_OR_NEXT_VMA |
		      PROCMAP_QUERY_VMA_EXECUTABLE, &q, 0)) {
		unsigned long start = q.vma_start;

		addr = q.vma_end;
		if (q.inode || query(fd, start, 0, &q, 1))
			continue;
		sink += q.vma_name_size;
		if (q.vma_name_size && !strcmp(name, "[vdso]")) {
			/* The [vvar*] mappings before the text. */
			unsigned long at = start;

			while (at && !query(fd, at - 1, 0, &q, 1) &&
			       !strncmp(name, "[vvar", 5))
				at = q.vma_start;
		}
	}
	close(fd);
}

static long pass(int use_query)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	long files = 0;

	if (!proc)
		return -1;
	while ((de = readdir(proc))) {
		unsigned long ehdr;
		struct stat st;
		ssize_t len;
		int dir, fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		dir = openat(dirfd(proc), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			continue;
		if (read_all(dir, "stat") < 0)
			goto next;
		if (use_query)
			query_block(dir);
		else if (read_all(dir, "maps") <= 0)
			goto next;
		len = read_all(dir, "auxv");
		if (len <= 0)
			goto next;
		ehdr = sysinfo_ehdr(len);
		if (!fstatat(dir, "exe", &st, 0))
			sink += st.st_ino;
		fd = openat(dir, "mem", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (ehdr && pread(fd, buf, EI_NIDENT + 4, ehdr) > 0)
				sink += buf[EI_CLASS];
			close(fd);
		}
		files++;
next:
		close(dir);
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
	int runs = argc > 2 ? atoi(argv[2]) : 7;
	long long t[101];
	long files = 0;
	int use_query;

	if (argc < 2 || (strcmp(argv[1], "text") && strcmp(argv[1], "query"))) {
		fprintf(stderr, "usage: scan_floor text|query [RUNS]\n");
		return 2;
	}
	if (runs < 1 || runs > 101) {
		fprintf(stderr, "scan_floor: runs must be 1..101\n");
		return 2;
	}
	use_query = !strcmp(argv[1], "query");
	for (int i = 0; i < runs; i++) {
		long long t0 = now_ns();

		files = pass(use_query);
		t[i] = now_ns() - t0;
	}
	qsort(t, runs, sizeof(t[0]), cmp);
	printf("%lld %ld\n", t[runs / 2], files);
	return 0;
}
