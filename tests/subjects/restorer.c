// SPDX-License-Identifier: GPL-2.0
/*
 * restorer-x86_64: what a checkpoint/restore tool does after switching a
 * 64-bit process's vdso to the i386 type - call into it from 32-bit code.
 *
 * It reports ready in the status file and waits for SIGUSR2 (someone else
 * has switched its vdso with munmap + arch_prctl(ARCH_MAP_VDSO_32)), or
 * with --self-switch does that switch itself. Then it finds the new [vdso]
 * in /proc/self/maps, looks up the i386 __vdso_clock_gettime, far-jumps to
 * 32-bit code to call it, and checks the answer against the kernel's.
 * Exit 0 when the 32-bit call gave the right time, 1 otherwise.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <elf.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "report.h"
#include "status_file.h"
#include "vdso_block.h"
#include "vdso_sym.h"

#define LOW_STACK (64 * 1024)
#define HINT_SPACE (1024 * 1024)	/* more than any vdso block needs */

extern const unsigned char call32_start[], call32_end[];
typedef uint32_t (*call32_fn)(uint32_t fn, uint32_t a0, uint32_t a1, uint32_t top);

struct ts32 {
	int32_t sec, nsec;
};

static volatile sig_atomic_t switched;

static void on_usr2(int sig)
{
	(void)sig;
	switched = 1;
}

static int die(const char *msg, long long val)
{
	fail(msg, val);
	fprintf(stderr, "restorer: %s\n", st->last_error);
	return 1;
}

/*
 * munmap the whole block, every VMA maps shows, then map the i386 type at
 * addr (0: somewhere below 4 GiB).
 */
static int self_switch(unsigned long addr)
{
	struct vdso_block b;
	void *hint = (void *)addr;
	int n = vdso_block_read(&b);
	long r;

	if (n <= 0)
		return die("self-switch: no vdso block in /proc/self/maps", NOVAL);
	if (!hint) {
		/*
		 * 32-bit code can only reach the low 4 GiB: take the new
		 * address from a free range there, not from the old block.
		 */
		hint = mmap(NULL, HINT_SPACE, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (hint == MAP_FAILED)
			return die("self-switch: no free space below 4 GiB, errno", errno);
		munmap(hint, HINT_SPACE);
	}
	/* glibc's cached vdso pointers die here: only syscalls from now on */
	for (int i = 0; i < n; i++)
		if (munmap((void *)b.vma[i].start, b.vma[i].end - b.vma[i].start))
			return die("self-switch: munmap failed, errno", errno);
	r = syscall(SYS_arch_prctl, ARCH_MAP_VDSO_32, (unsigned long)hint);
	if (r < 0)
		return die("self-switch: arch_prctl(ARCH_MAP_VDSO_32) failed, errno", errno);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: restorer-x86_64 --status FILE "
		"[--self-switch | --self-switch-at ADDR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "self-switch", no_argument, NULL, 'w' },
		{ "self-switch-at", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *status_path = NULL;
	int self = 0, c;
	unsigned long self_at = 0;
	size_t code_len = (size_t)(call32_end - call32_start);
	unsigned char *code, *stack;
	uint32_t top, fn;
	struct ts32 *ts, *mono;
	struct ktimespec k;
	struct vdso_image img;
	struct vdso_block block;
	unsigned long base, end;
	const Elf32_Ehdr *eh;
	struct sigaction sa = { .sa_handler = on_usr2 };
	sigset_t usr2, waitmask;
	uint32_t r;
	int64_t got, diff;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': status_path = optarg; break;
		case 'w': self = 1; break;
		case 'a': {
			char *e;

			errno = 0;
			self_at = strtoul(optarg, &e, 16);
			if (errno || *e || e == optarg || !self_at) {
				fprintf(stderr, "restorer: --self-switch-at wants a hex address, got '%s'\n",
					optarg);
				exit(2);
			}
			self = 1;
			break;
		}
		default: usage();
		}
	}
	if (!status_path || optind != argc) {
		fprintf(stderr, "restorer: %s\n", status_path ?
			"unexpected argument" : "--status FILE is required");
		usage();
	}

	st = open_status("restorer", status_path);
	st->threads = 1;

	/* 32-bit code and stack must sit below 4 GiB */
	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	stack = mmap(NULL, LOW_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (code == MAP_FAILED || stack == MAP_FAILED)
		return die("cannot map memory below 4 GiB, errno", errno);
	memcpy(code, call32_start, code_len);
	if (mprotect(code, 4096, PROT_READ | PROT_EXEC))
		return die("mprotect of the 32-bit code failed, errno", errno);
	ts = (struct ts32 *)stack;
	mono = ts + 1;
	top = (uint32_t)(uintptr_t)(stack + LOW_STACK);

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, &waitmask);
	sigdelset(&waitmask, SIGUSR2);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);

	if (self) {
		if (self_switch(self_at))
			return 1;
	} else {
		ST_SET(st->ready, 1);
		while (!switched)
			sigsuspend(&waitmask);
	}
	ST_SET(st->ready, 1);

	if (vdso_block_read(&block) < 0 || !block.text)
		return die("no [vdso] in /proc/self/maps after the switch", NOVAL);
	base = block.text;
	end = block.text_end;
	ST_SET(st->vdso_base, (uint64_t)base);
	eh = (const Elf32_Ehdr *)base;
	if (eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_machine != EM_386)
		return die("the vdso is not of the i386 type, e_machine", eh->e_machine);
	if (end > 0x100000000UL)
		return die("the i386 vdso is above 4 GiB, out of 32-bit reach, at",
			   (long long)base);
	if (vdso_parse(&img, base))
		return die("cannot parse the i386 vdso image", NOVAL);
	fn = (uint32_t)vdso_sym(&img, "LINUX_2.6", "__vdso_clock_gettime");
	if (!fn)
		return die("no __vdso_clock_gettime@LINUX_2.6 in the i386 vdso", NOVAL);

	r = ((call32_fn)code)(fn, CLOCK_MONOTONIC, (uint32_t)(uintptr_t)mono, top);
	if (r)
		return die("32-bit clock_gettime(MONOTONIC) returned", (int32_t)r);
	r = ((call32_fn)code)(fn, CLOCK_REALTIME, (uint32_t)(uintptr_t)ts, top);
	if (r)
		return die("32-bit clock_gettime(REALTIME) returned", (int32_t)r);
	RAW2(__NR_clock_gettime, CLOCK_REALTIME, &k);
	got = (int64_t)ts->sec * 1000000000LL + ts->nsec;
	diff = ts_ns(&k) - got;
	if (ts->nsec < 0 || ts->nsec >= 1000000000)
		return die("32-bit clock_gettime gave tv_nsec", ts->nsec);
	if (diff < 0 || diff > 1000000000LL)
		return die("32-bit realtime differs from the kernel's (ns)", diff);
	r = ((call32_fn)code)(fn, CLOCK_MONOTONIC, (uint32_t)(uintptr_t)&ts[2], top);
	if (r)
		return die("second 32-bit clock_gettime(MONOTONIC) returned", (int32_t)r);
	if (ts[2].sec < mono->sec || (ts[2].sec == mono->sec && ts[2].nsec < mono->nsec))
		return die("32-bit monotonic went back (s)", ts[2].sec - mono->sec);
	ST_SET(st->aux, (uint64_t)(uint32_t)ts->sec);
	ST_ADD(st->calls, 3);
	ST_SET(st->heartbeat, 1);
	printf("i386 vdso clock_gettime at 0x%lx: %d.%09d (kernel %lld.%09lld)\n",
	       base, ts->sec, ts->nsec, (long long)k.sec, (long long)k.nsec);
	return 0;
}
