// SPDX-License-Identifier: GPL-2.0
/*
 * glibc-free test subject: its own _start, raw system calls, and its own
 * vdso lookup from AT_SYSINFO_EHDR. Nothing else in the process knows
 * where the vdso is, so every vdso pointer it uses is one it looked up.
 *
 * Same status file and controls as subject.c (docs/protocol.md), single
 * threaded: --status FILE, --exit-after-ms MS, --move-every-ms MS, SIGUSR1
 * self-move, SIGTERM.
 */
#include <elf.h>
#include <linux/fcntl.h>
#include <linux/mman.h>
#include <linux/signal.h>
#include <linux/time.h>

#include "common.h"
#include "report.h"
#include "vdso_sym.h"

#define CHECK_EVERY 64
#define MAX_VMAS 8

/* The compiler may emit calls to these for struct copies and clears. */
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

void *memset(void *d, int c, unsigned long n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

static unsigned long str_len(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static void put_err(const char *a, const char *b)
{
	RAW3(__NR_write, 2, "subject-static: ", 16);
	RAW3(__NR_write, 2, a, str_len(a));
	if (b) {
		RAW3(__NR_write, 2, b, str_len(b));
	}
	RAW3(__NR_write, 2, "\n", 1);
}

static __attribute__((noreturn)) void sys_exit(int code)
{
	for (;;)
		RAW1(__NR_exit_group, code);
}

static __attribute__((noreturn)) void die(const char *a, const char *b)
{
	put_err(a, b);
	sys_exit(2);
}

static long parse_ms(const char *s)
{
	long v = 0;

	if (!*s)
		die("a number of milliseconds is required, got an empty string", 0);
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			die("options want a number of milliseconds", 0);
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* ---- the vdso, as we found it ---- */

#ifdef __i386__
/* the i386 entry with the old 32-bit timespec, as 32-bit programs used it */
struct ts32 {
	int32_t sec, nsec;
};
typedef int (*cgt_fn)(int, struct ts32 *);
#define CGT_NAME "__vdso_clock_gettime"
#else
typedef int (*cgt_fn)(int, struct ktimespec *);
#define CGT_NAME "__vdso_clock_gettime"
#endif

static struct {
	uintptr_t base;
	cgt_fn clock_gettime;
	int (*gettimeofday)(struct ktimeval *, void *);
	sysarg_t (*time)(sysarg_t *);
	int (*getcpu)(unsigned int *, unsigned int *, void *);
} vd;

static int lookup(uintptr_t base)
{
	struct vdso_image img;

	if (vdso_parse(&img, base))
		return -1;
	vd.clock_gettime = (cgt_fn)vdso_sym(&img, "LINUX_2.6", CGT_NAME);
	vd.gettimeofday = (void *)vdso_sym(&img, "LINUX_2.6", "__vdso_gettimeofday");
	vd.time = (void *)vdso_sym(&img, "LINUX_2.6", "__vdso_time");
	vd.getcpu = (void *)vdso_sym(&img, "LINUX_2.6", "__vdso_getcpu");
	if (!vd.clock_gettime || !vd.gettimeofday || !vd.time)
		return -1;
	vd.base = base;
	ST_SET(st->vdso_base, (uint64_t)base);
	return 0;
}

static int t_clock(int clk, struct ktimespec *out)
{
#ifdef __i386__
	struct ts32 t;
	int r = vd.clock_gettime(clk, &t);

	out->sec = t.sec;
	out->nsec = t.nsec;
	return r;
#else
	return vd.clock_gettime(clk, out);
#endif
}

static const int clocks[] = {
	CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
	CLOCK_BOOTTIME, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE,
};
#define NCLOCKS (sizeof(clocks) / sizeof(clocks[0]))
static const int clock_is_mono[NCLOCKS] = { 0, 1, 1, 1, 0, 1 };

static int64_t last[NCLOCKS];
static unsigned long rounds;

static int64_t one_round(void)
{
	struct ktimespec ts[NCLOCKS];
	struct ktimeval tv;
	sysarg_t secs;
	int64_t mono = 0;
	unsigned int calls = NCLOCKS + 2;

	for (unsigned int i = 0; i < NCLOCKS; i++) {
		int64_t ns;

		if (t_clock(clocks[i], &ts[i])) {
			fail("clock_gettime failed, clock", clocks[i]);
			continue;
		}
		ns = ts_ns(&ts[i]);
		if (clock_is_mono[i]) {
			if (ns < last[i])
				fail("monotonic went back, clock", clocks[i]);
			last[i] = ns;
		}
		if (clocks[i] == CLOCK_MONOTONIC)
			mono = ns;
	}
	if (vd.gettimeofday(&tv, 0))
		fail("gettimeofday failed", NOVAL);
	secs = vd.time(0);
	if (vd.getcpu) {
		unsigned int cpu = ~0u;

		calls++;
		/* no libc to count CPUs: bound by the kernel's NR_CPUS limit */
		if (vd.getcpu(&cpu, 0, 0) || cpu >= 8192)
			fail("getcpu failed or out of range, cpu", cpu);
	}
	ST_ADD(st->calls, calls);

	if (++rounds % CHECK_EVERY == 0) {
		struct ktimespec k;
		int64_t kns, r, g;

		RAW2(NR_CLOCK_GETTIME_K, CLOCK_REALTIME, &k);
		kns = ts_ns(&k);
		r = ts_ns(&ts[0]);
		g = (int64_t)tv.sec * 1000000000LL + (int64_t)tv.usec * 1000LL;
		if (r - kns > 1000000000LL || kns - r > 1000000000LL)
			fail("realtime far from the kernel's (ns)", r - kns);
		if (g - kns > 1000000000LL || kns - g > 1000000000LL)
			fail("gettimeofday far from the kernel's (ns)", g - kns);
		if (secs - k.sec > 1 || k.sec - secs > 1)
			fail("time() far from the kernel's (s)", secs - k.sec);
	}
	return mono;
}

/* ---- self-move: the whole block, found in /proc/self/maps ---- */

static char maps[16384];

static uintptr_t hex_at(const char **p)
{
	uintptr_t v = 0;

	for (;; (*p)++) {
		char c = **p;

		if (c >= '0' && c <= '9')
			v = v * 16 + (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uintptr_t)(c - 'a' + 10);
		else
			return v;
	}
}

static int line_has(const char *line, const char *end, const char *word)
{
	unsigned long n = str_len(word);

	for (; line + n <= end; line++) {
		unsigned long i = 0;

		while (i < n && line[i] == word[i])
			i++;
		if (i == n)
			return 1;
	}
	return 0;
}

static void self_move(void)
{
	uintptr_t s[MAX_VMAS], e[MAX_VMAS], lo = ~(uintptr_t)0, hi = 0, text = 0, dst;
	sysarg_t fd, r;
	long len = 0;
	int n = 0, moved;
	const char *p;

	fd = RAW3(__NR_open, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
	if (RAW_ERR(fd)) {
		fail("self-move: cannot open /proc/self/maps, errno", -fd);
		return;
	}
	while (len < (long)sizeof(maps) - 1) {
		r = RAW3(__NR_read, fd, maps + len, sizeof(maps) - 1 - len);
		if (r <= 0)
			break;
		len += r;
	}
	RAW1(__NR_close, fd);
	maps[len] = 0;

	for (p = maps; *p && n < MAX_VMAS;) {
		const char *eol = p;
		uintptr_t a, b;

		while (*eol && *eol != '\n')
			eol++;
		a = hex_at(&p);
		p++;
		b = hex_at(&p);
		if (line_has(p, eol, "[vdso]") || line_has(p, eol, "[vvar")) {
			if (line_has(p, eol, "[vdso]"))
				text = a;
			s[n] = a;
			e[n++] = b;
			if (a < lo)
				lo = a;
			if (b > hi)
				hi = b;
		}
		p = *eol ? eol + 1 : eol;
	}
	if (!text || text != vd.base) {
		fail("self-move: [vdso] in maps is not the one in use", (long long)text);
		return;
	}
#ifdef __i386__
	{
		struct {
			unsigned long addr, len, prot, flags, fd, off;
		} a = { 0, hi - lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, ~0UL, 0 };

		r = RAW1(__NR_mmap, &a);
	}
#else
	r = rawsys6(__NR_mmap, 0, hi - lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
#endif
	if (RAW_ERR(r)) {
		fail("self-move: cannot reserve space, errno", -r);
		return;
	}
	dst = (uintptr_t)r;
	for (moved = 0; moved < n; moved++) {
		r = RAW5(__NR_mremap, s[moved], e[moved] - s[moved], e[moved] - s[moved],
			 MREMAP_MAYMOVE | MREMAP_FIXED, dst + (s[moved] - lo));
		if (RAW_ERR(r)) {
			fail("self-move: mremap failed, errno", -r);
			break;
		}
	}
	if (moved < n) {
		for (int i = 0; i < moved; i++)
			RAW5(__NR_mremap, dst + (s[i] - lo), e[i] - s[i], e[i] - s[i],
			     MREMAP_MAYMOVE | MREMAP_FIXED, s[i]);
		RAW2(__NR_munmap, dst, hi - lo);
		return;
	}
	if (lookup(dst + (text - lo))) {
		fail("self-move: moved image has no usable symbols", NOVAL);
		sys_exit(1);
	}
	ST_ADD(st->self_moves, 1);
}

/* ---- signals ---- */

static volatile int want_move, want_stop;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_move = 1;
	else
		want_stop = 1;
}

#ifndef __i386__
/* x86_64 has no vdso sigreturn: the handler must bring its own restorer */
void restore_rt(void);
#define STR_(x) #x
#define STR(x) STR_(x)
__asm__(".text\n"
	"restore_rt:\n"
	"	mov $" STR(__NR_rt_sigreturn) ", %eax\n"
	"	syscall\n"
	"	hlt\n");
#endif

static void install(int sig)
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint32_t mask[2];	/* 4-byte aligned in the compat (x32) layout */
	} ka = { on_signal, SA_RESTART, 0, { 0, 0 } };
	sysarg_t r;

#ifndef __i386__
	ka.flags |= 0x04000000;	/* SA_RESTORER */
	ka.restorer = restore_rt;
#endif
	r = RAW4(__NR_rt_sigaction, sig, &ka, 0, 8);
	if (r)
		die("rt_sigaction failed", 0);
}

/* ---- start ---- */

static struct subject_status *open_status(const char *path)
{
	sysarg_t fd, r;

	fd = RAW3(__NR_open, path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (RAW_ERR(fd))
		die("cannot create status file ", path);
	if (RAW2(__NR_ftruncate, fd, STATUS_SIZE))
		die("cannot size status file ", path);
#ifdef __i386__
	{
		struct {
			unsigned long addr, len, prot, flags, fd, off;
		} a = { 0, STATUS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			(unsigned long)fd, 0 };

		r = RAW1(__NR_mmap, &a);
	}
#else
	r = rawsys6(__NR_mmap, 0, STATUS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
#endif
	if (RAW_ERR(r))
		die("cannot map status file ", path);
	RAW1(__NR_close, fd);
	return (struct subject_status *)(uintptr_t)r;
}

__attribute__((used)) void start_c(uintptr_t *sp);

void start_c(uintptr_t *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	uintptr_t *p = (uintptr_t *)(argv + argc + 1);
	const char *status = 0;
	long exit_after = 0, move_every = 0;
	uintptr_t ehdr = 0;
	int64_t start, now, last_move;

	while (*p)		/* skip the environment */
		p++;
	for (p++; p[0] != AT_NULL; p += 2)
		if (p[0] == AT_SYSINFO_EHDR)
			ehdr = p[1];

	for (int i = 1; i < argc; i++) {
		if (str_eq(argv[i], "--status") && i + 1 < argc)
			status = argv[++i];
		else if (str_eq(argv[i], "--exit-after-ms") && i + 1 < argc)
			exit_after = parse_ms(argv[++i]);
		else if (str_eq(argv[i], "--move-every-ms") && i + 1 < argc)
			move_every = parse_ms(argv[++i]);
		else
			die("usage: subject-static --status FILE [--exit-after-ms MS] "
			    "[--move-every-ms MS]; bad: ", argv[i]);
	}
	if (!status)
		die("--status FILE is required", 0);

	st = open_status(status);
	memcpy(st->magic, "VDSOSUBJ", 8);
	st->version = STATUS_VERSION;
	st->pid = (uint32_t)RAW0(__NR_getpid);
	st->mode = SUBJECT_MODE;
	st->threads = 1;
	if (!ehdr) {
		fail("no AT_SYSINFO_EHDR in auxv", NOVAL);
		sys_exit(1);
	}
	if (lookup(ehdr)) {
		fail("vdso symbols not found", NOVAL);
		sys_exit(1);
	}
	install(SIGUSR1);
	install(SIGTERM);

	start = last_move = one_round();
	ST_SET(st->ready, 1);
	while (!want_stop) {
		struct ktimespec d = { 0, 100000 };

		if (want_move) {
			want_move = 0;
			self_move();
		}
		now = one_round();
		ST_ADD(st->heartbeat, 1);
		if (move_every && now - last_move >= move_every * 1000000LL) {
			last_move = now;
			want_move = 1;
		}
		if (exit_after && now - start >= exit_after * 1000000LL)
			break;
		RAW4(NR_CLOCK_NANOSLEEP_K, CLOCK_MONOTONIC, 0, &d, 0);
	}
	ST_SET(st->threads, 0);
	if (move_every && !st->self_moves)
		fail("--move-every-ms: no self-move happened", NOVAL);
	sys_exit(__atomic_load_n(&st->errors, __ATOMIC_SEQ_CST) ? 1 : 0);
}

#if defined(__i386__)
__asm__(".text\n.globl _start\n_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %esp, %eax\n"
	"	and $-16, %esp\n"
	"	sub $12, %esp\n"
	"	push %eax\n"
	"	call start_c\n"
	"	hlt\n");
#elif defined(__ILP32__)
/* x32: the initial stack holds 32-bit argc/argv/auxv words */
__asm__(".text\n.globl _start\n_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %esp, %edi\n"
	"	and $-16, %esp\n"
	"	call start_c\n"
	"	hlt\n");
#else
__asm__(".text\n.globl _start\n_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call start_c\n"
	"	hlt\n");
#endif
