// SPDX-License-Identifier: GPL-2.0
/*
 * remap_bench: cost of vdso_remap and vdso_get_info next to the stock
 * sequences they replace, measured in one run on the running kernel.
 *
 *   move:   vdso_remap(same type, new base)  vs  mremap of every VMA of the
 *           block ([vvar]..., [vdso]) to the new place
 *   switch: vdso_remap(other type, base)     vs  munmap of the block +
 *           arch_prctl(ARCH_MAP_VDSO_*)
 *   info:   vdso_get_info                    vs  getppid (a null syscall)
 *
 * The process moves its own vdso, so it never calls into it: time is read
 * with the clock_gettime system call itself. Addresses are below 4 GiB, so
 * every type fits. Prints one line per figure and a final RESULT line of
 * key=value pairs for scripts.
 *
 * usage: remap_bench [ITERATIONS [EXTRA_VMAS]]   (default 2000, 0)
 *
 * EXTRA_VMAS single-page mappings are added first (alternating protections
 * keep them from merging): a process's mapping count is what any walk of
 * its address space pays for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* The series' ABI, spelled out so the bench builds without its headers. */
#define NR_VDSO_GET_INFO	473
#define NR_VDSO_REMAP		474
#define ARCH_MAP_VDSO_X32	0x2001
#define ARCH_MAP_VDSO_32	0x2002
#define ARCH_MAP_VDSO_64	0x2003
/* The bench's own indices; the kernel's types are in ktype[]. */
#define VDSO_X86_I386		0
#define VDSO_X86_64		1
#define VDSO_X86_X32		2

/* <asm/vdso_types.h>: VDSO_X86_* are the ARCH_MAP_VDSO_* values. */
static const unsigned int ktype[3] = { ARCH_MAP_VDSO_32, ARCH_MAP_VDSO_64, ARCH_MAP_VDSO_X32 };

/* The first VDSO_INFO_SIZE_VER0 bytes of struct vdso_info: all the bench needs. */
struct vdso_info {
	uint64_t space_needed_before;
	uint64_t space_needed_after;
	uint64_t alignment;
};

#define MAX_VMAS 8

struct block {
	int type;
	unsigned long text;		/* where [vdso] starts */
	unsigned long vma_off[MAX_VMAS];	/* VMA starts relative to text */
	unsigned long vma_len[MAX_VMAS];
	int nvmas;
};

static struct vdso_info layout[3];
static const char *const type_name[3] = { "i386", "x86_64", "x32" };

static void die(const char *what)
{
	fprintf(stderr, "remap_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts))
		die("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The current block from /proc/self/maps: the VMAs named [vvar*] and [vdso]. */
static void read_block(struct block *b, int type)
{
	char line[512], name[64];
	unsigned long start, end;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		die("/proc/self/maps");
	memset(b, 0, sizeof(*b));
	b->type = type;
	unsigned long starts[MAX_VMAS], ends[MAX_VMAS];
	int n = 0;

	while (fgets(line, sizeof(line), f)) {
		name[0] = 0;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %63s", &start, &end, name) < 2)
			continue;
		if (strncmp(name, "[vvar", 5) && strcmp(name, "[vdso]"))
			continue;
		if (n == MAX_VMAS) {
			fprintf(stderr, "remap_bench: too many vdso VMAs\n");
			exit(1);
		}
		if (!strcmp(name, "[vdso]"))
			b->text = start;
		starts[n] = start;
		ends[n] = end;
		n++;
	}
	fclose(f);
	if (!b->text) {
		fprintf(stderr, "remap_bench: no [vdso] in /proc/self/maps\n");
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		b->vma_off[i] = starts[i] - b->text;
		b->vma_len[i] = ends[i] - starts[i];
	}
	b->nvmas = n;
}

static void get_info(int type, struct vdso_info *info)
{
	if (syscall(NR_VDSO_GET_INFO, ktype[type], info, sizeof(*info), 0)) {
		if (errno == ENOSYS) {
			fprintf(stderr, "remap_bench: this kernel has no vdso_get_info (473)\n");
			exit(1);
		}
		die("vdso_get_info");
	}
}

static void sys_remap(int type, unsigned long text)
{
	if (syscall(NR_VDSO_REMAP, ktype[type], text, 0))
		die("vdso_remap");
}

/* Stock move: each VMA of the block, in address order, to its new place. */
static void stock_move(const struct block *b, unsigned long text)
{
	for (int i = 0; i < b->nvmas; i++) {
		void *from = (void *)(b->text + b->vma_off[i]);
		void *to = (void *)(text + b->vma_off[i]);

		if (mremap(from, b->vma_len[i], b->vma_len[i],
			   MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED)
			die("mremap");
	}
}

/* Stock switch: drop the whole block, then ask for the other type's. */
static void stock_switch(int from, unsigned long text_from, int to, unsigned long text_to)
{
	static const int code[3] = { ARCH_MAP_VDSO_32, ARCH_MAP_VDSO_64, ARCH_MAP_VDSO_X32 };
	unsigned long start = text_from - layout[from].space_needed_before;
	size_t len = layout[from].space_needed_before + layout[from].space_needed_after;

	if (munmap((void *)start, len))
		die("munmap");
	if (syscall(SYS_arch_prctl, code[to], text_to - layout[to].space_needed_before) < 0)
		die("arch_prctl(ARCH_MAP_VDSO_*)");
}

static void expect_text(unsigned long want, const char *after)
{
	struct block b;

	read_block(&b, 0);
	if (b.text != want) {
		fprintf(stderr, "remap_bench: after %s the vdso is at %#lx, expected %#lx\n",
			after, b.text, want);
		exit(1);
	}
}

static double per_op_ns(uint64_t t0, uint64_t t1, long n)
{
	return (double)(t1 - t0) / (double)n;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 0) : 2000;
	long extra = argc > 2 ? strtol(argv[2], NULL, 0) : 0;
	struct block b;
	struct utsname u;
	uint64_t t0, t1;

	if (iters < 2 || iters % 2 || extra < 0 || extra > 60000) {
		fprintf(stderr, "usage: remap_bench [ITERATIONS [EXTRA_VMAS]] (even, >= 2; 0..60000)\n");
		return 2;
	}
	if (extra) {
		long pg = sysconf(_SC_PAGESIZE);
		char *run = mmap(NULL, extra * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (run == MAP_FAILED)
			die("mmap of the extra mappings");
		for (long i = 1; i < extra; i += 2)
			if (mprotect(run + i * pg, pg, PROT_READ | PROT_WRITE))
				die("mprotect of the extra mappings");
	}
	for (int t = 0; t < 3; t++)
		get_info(t, &layout[t]);
	uname(&u);
	printf("remap_bench: kernel %s, %ld iterations per figure, %ld extra mappings\n",
	       u.release, iters, extra);
	for (int t = 0; t < 3; t++)
		printf("layout %-6s before %6" PRIu64 " after %6" PRIu64 " alignment %" PRIu64 "\n",
		       type_name[t], layout[t].space_needed_before,
		       layout[t].space_needed_after, layout[t].alignment);

	/* Two free slots below 4 GiB, far enough apart for any type's block. */
	size_t slot = 1ul << 20;
	char *area = mmap(NULL, 3 * slot, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	if (area == MAP_FAILED)
		die("mmap below 4 GiB");
	if (munmap(area, 3 * slot))
		die("munmap");
	unsigned long base[2] = {
		(unsigned long)area + slot / 2,
		(unsigned long)area + slot / 2 + slot,
	};

	/* Start from a known place: the 64-bit vdso at base[0]. */
	sys_remap(VDSO_X86_64, base[0]);
	expect_text(base[0], "the first vdso_remap");
	read_block(&b, VDSO_X86_64);

	/* info */
	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		syscall(SYS_getppid);
	t1 = now_ns();
	double null_ns = per_op_ns(t0, t1, iters);
	struct vdso_info info;

	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		get_info(VDSO_X86_64, &info);
	t1 = now_ns();
	double info_ns = per_op_ns(t0, t1, iters);

	/* move: A->B, B->A, ... */
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		stock_move(&b, base[(i + 1) % 2]);
		b.text = base[(i + 1) % 2];
	}
	t1 = now_ns();
	double move_stock_ns = per_op_ns(t0, t1, iters);

	expect_text(base[0], "the stock moves");
	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		sys_remap(VDSO_X86_64, base[(i + 1) % 2]);
	t1 = now_ns();
	double move_sys_ns = per_op_ns(t0, t1, iters);

	expect_text(base[0], "the vdso_remap moves");

	/* switch: x86_64 at A <-> i386 at B */
	int types[2] = { VDSO_X86_64, VDSO_X86_I386 };

	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		stock_switch(types[i % 2], base[i % 2], types[(i + 1) % 2], base[(i + 1) % 2]);
	t1 = now_ns();
	double switch_stock_ns = per_op_ns(t0, t1, iters);

	expect_text(base[0], "the stock switches");
	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		sys_remap(types[(i + 1) % 2], base[(i + 1) % 2]);
	t1 = now_ns();
	double switch_sys_ns = per_op_ns(t0, t1, iters);

	expect_text(base[0], "the vdso_remap switches");

	printf("move    stock (mremap x%d)          %10.0f ns/op\n", b.nvmas, move_stock_ns);
	printf("move    vdso_remap                  %10.0f ns/op  stock/vdso_remap %.2f\n",
	       move_sys_ns, move_stock_ns / move_sys_ns);
	printf("switch  stock (munmap + arch_prctl) %10.0f ns/op\n", switch_stock_ns);
	printf("switch  vdso_remap                  %10.0f ns/op  stock/vdso_remap %.2f\n",
	       switch_sys_ns, switch_stock_ns / switch_sys_ns);
	printf("info    getppid                     %10.0f ns/op\n", null_ns);
	printf("info    vdso_get_info               %10.0f ns/op  vdso_get_info/getppid %.2f\n",
	       info_ns, info_ns / null_ns);
	printf("RESULT iterations=%ld extra_vmas=%ld vmas=%d move_stock_ns=%.0f move_remap_ns=%.0f "
	       "move_ratio=%.3f switch_stock_ns=%.0f switch_remap_ns=%.0f switch_ratio=%.3f "
	       "getppid_ns=%.0f get_info_ns=%.0f get_info_ratio=%.3f\n",
	       iters, extra, b.nvmas, move_stock_ns, move_sys_ns, move_stock_ns / move_sys_ns,
	       switch_stock_ns, switch_sys_ns, switch_stock_ns / switch_sys_ns,
	       null_ns, info_ns, info_ns / null_ns);
	return 0;
}
