// SPDX-License-Identifier: GPL-2.0-only
/*
 * helper/remap.c: move a live process's vdso, or switch its type.
 *
 * Order of work, one step each over one struct remap_ctx:
 *   remap_plan           every check that needs no stop;
 *   remap_seize          stop every thread;
 *   remap_check_stopped  the checks that need a stopped target;
 *   remap_apply          only then the first change;
 *   remap_report         the checks and steps, the same for a dry run.
 * Any failure after the first change is undone before the target is released.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "audit.h"
#include "layout.h"
#include "maps.h"
#include "mmshare.h"
#include "out.h"
#include "policy.h"
#include "proc.h"
#include "proxy.h"
#include "remap.h"
#include "remap_ctx.h"
#include "target.h"
#include "vdso_type.h"
#include "vdsoelf.h"


static const int guarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE };

void guard_signals_block(void)
{
	sigset_t s;

	sigemptyset(&s);
	for (size_t i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++)
		sigaddset(&s, guarded[i]);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

int guard_signal_pending(void)
{
	sigset_t s;

	if (sigpending(&s) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++)
		if (guarded[i] != SIGPIPE && sigismember(&s, guarded[i]))
			return guarded[i];
	return 0;
}

static void __attribute__((format(printf, 4, 5)))
add_check(struct remap_ctx *x, const char *name, int ok, const char *fmt, ...)
{
	struct check *k = &x->checks[x->nchecks];
	va_list ap;

	if (x->nchecks == MAX_CHECKS)
		return;
	k->name = name;
	k->ok = ok;
	va_start(ap, fmt);
	vsnprintf(k->detail, sizeof(k->detail), fmt, ap);
	va_end(ap);
	x->nchecks++;
}

void __attribute__((format(printf, 2, 3))) add_step(struct remap_ctx *x, const char *fmt, ...)
{
	char *s = x->steps[x->nsteps];
	va_list ap;

	if (x->nsteps == MAX_STEPS)
		return;
	va_start(ap, fmt);
	vsnprintf(s, sizeof(x->steps[0]), fmt, ap);
	va_end(ap);
#ifdef STEP_TIMES
	{
		const struct timespec *t0 = &x->tgt.t_seize;
		struct timespec now;
		size_t l = strlen(s);

		clock_gettime(CLOCK_MONOTONIC, &now);
		snprintf(s + l, sizeof(x->steps[0]) - l, " @%ldus",
			 ((now.tv_sec - t0->tv_sec) * 1000000000L + now.tv_nsec - t0->tv_nsec) / 1000);
	}
#endif
	x->nsteps++;
}

/* ---- the context's life: the target is released by die() whatever happens ---- */

void remap_release(struct remap_ctx *x)
{
	if (x->held) {
		target_release(&x->tgt);
		x->held = 0;
	}
}

static void ctx_cleanup(void *arg)
{
	remap_release(arg);
}

/* A zeroed context for @op on @pid; its target is released on every exit. */
struct remap_ctx *remap_ctx_new(const struct caller *c, pid_t pid, const char *op)
{
	struct remap_ctx *x = calloc(1, sizeof(*x));

	if (!x)
		die(ENOMEM, "out of memory");
	x->caller = c;
	x->pid = pid;
	x->op = op;
	x->pidfd = x->memfd = -1;
	out_set_cleanup(ctx_cleanup, x);
	return x;
}

void remap_ctx_free(struct remap_ctx *x)
{
	out_set_cleanup(NULL, NULL);
	remap_release(x);
	free(x->img);
	free(x->proxy_img);
	free(x->replaced_img);
	if (x->memfd >= 0)
		close(x->memfd);
	if (x->pidfd >= 0)
		close(x->pidfd);
	free(x);
}

/* Release the target, audit "<verdict> CODE: msg", and exit with the error. */
static void __attribute__((noreturn, format(printf, 4, 0)))
end_with(struct remap_ctx *x, const char *verdict, int err, const char *fmt, va_list ap)
{
	char msg[400], res[48];

	remap_release(x);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(res, sizeof(res), "%s %s", verdict, errno_name(err));
	audit_log(x->caller, x->op, x->pid, res, "%s", msg);
	die(err, "%s", msg);
}

void __attribute__((noreturn, format(printf, 3, 4)))
remap_refuse(struct remap_ctx *x, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	end_with(x, "refused", err, fmt, ap);
}

static void __attribute__((noreturn, format(printf, 3, 4)))
fail(struct remap_ctx *x, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	end_with(x, "failed", err, fmt, ap);
}

/* ---- the syscalls the helper runs in its target ---- */

/* One injected syscall; its result, or -errno if it could not even run. */
static long inj(struct remap_ctx *x, long nr, unsigned long a1, unsigned long a2, unsigned long a3,
		unsigned long a4, unsigned long a5, unsigned long a6)
{
	long ret;
	int err = target_syscall(&x->tgt, nr, a1, a2, a3, a4, a5, a6, &ret);

	return err ? err : ret;
}

/*
 * vdso_remap in the target, always with VDSO_REMAP_SHARED_MM: every thread
 * of the target is stopped and its registers are the helper's business.
 */
static long inj_vdso_remap(struct remap_ctx *x, int type, unsigned long addr)
{
	return inj(x, NR_vdso_remap, (unsigned long)kernel_vdso_type(type), addr,
		   VDSO_REMAP_SHARED_MM, 0, 0, 0);
}

static int is_err(long r)
{
	return r < 0 && r >= -4095;
}

const char *vma_label(const struct maps_entry *e)
{
	return e->name[0] ? e->name : "[anon]";
}

/* ---- stock kernel: mremap each VMA of the block, keeping their offsets ---- */

static int ranges_overlap(unsigned long a0, unsigned long a1, unsigned long b0, unsigned long b1)
{
	return a0 < b1 && b0 < a1;
}

/*
 * Move to a destination that does not overlap the block. Undone on failure.
 * @reserved: dest holds our own placeholder mapping (to be replaced);
 * otherwise it was found free in the maps read while every thread of the
 * target was stopped, and nothing else can map there meanwhile, so no
 * placeholder (one injected syscall less) is needed.
 */
static long move_disjoint(struct remap_ctx *x, const struct block *b, unsigned long dest,
			  int reserved)
{
	unsigned long size = b->end - b->vvar_start;
	long r = 0;
	int i;

	for (i = 0; i < b->nvmas; i++) {
		const struct maps_entry *v = &b->vma[i];
		unsigned long to = dest + (v->start - b->vvar_start);

		r = inj(x, SYS_mremap, v->start, v->end - v->start, v->end - v->start,
			MREMAP_MAYMOVE | MREMAP_FIXED, to, 0);
		if (is_err(r))
			break;
		add_step(x, "mremap %s 0x%lx->0x%lx", vma_label(v), v->start, to);
	}
	if (i == b->nvmas)
		return 0;
	while (--i >= 0) {
		const struct maps_entry *v = &b->vma[i];
		unsigned long from = dest + (v->start - b->vvar_start);

		inj(x, SYS_mremap, from, v->end - v->start, v->end - v->start,
		    MREMAP_MAYMOVE | MREMAP_FIXED, v->start, 0);
		add_step(x, "undo: mremap %s 0x%lx->0x%lx", vma_label(v), from, v->start);
	}
	if (reserved)
		inj(x, SYS_munmap, dest, size, 0, 0, 0, 0);
	return r;
}

static struct block shifted(const struct block *b, unsigned long new_vvar)
{
	struct block n = *b;
	unsigned long d = new_vvar - b->vvar_start;

	for (int i = 0; i < n.nvmas; i++) {
		n.vma[i].start += d;
		n.vma[i].end += d;
	}
	n.vvar_start += d;
	n.base += d;
	n.end += d;
	return n;
}

static long stock_move(struct remap_ctx *x, const struct block *b, unsigned long new_vvar)
{
	unsigned long size = b->end - b->vvar_start;
	struct block mid;
	long tmp, r;

	if (!ranges_overlap(b->vvar_start, b->end, new_vvar, new_vvar + size))
		return move_disjoint(x, b, new_vvar, 0);
	/* overlapping: through a temporary range the kernel picks */
	tmp = inj(x, SYS_mmap, 0, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, (unsigned long)-1, 0);
	if (is_err(tmp))
		return tmp;
	add_step(x, "reserve temporary 0x%lx-0x%lx", (unsigned long)tmp, (unsigned long)tmp + size);
	r = move_disjoint(x, b, (unsigned long)tmp, 1);
	if (r)
		return r;
	mid = shifted(b, (unsigned long)tmp);
	r = move_disjoint(x, &mid, new_vvar, 0);
	if (r && move_disjoint(x, &mid, b->vvar_start, 0))
		return -EIO;
	return r;
}

/* ---- stock kernel: type switch through munmap + ARCH_MAP_VDSO_* ---- */

int read_block(struct remap_ctx *x, struct block *b)
{
	struct maps m;
	int err = maps_read(x->tgt.pid, &m);

	if (err)
		return err;
	err = maps_find_block(&m, b);
	maps_free(&m);
	return err;
}

/* Map @type so that its text starts at @base; 0 or -errno with nothing mapped. */
static long map_type_at(struct remap_ctx *x, int type, unsigned long vvar_start,
			unsigned long base)
{
	struct block nb;
	long r = inj(x, SYS_arch_prctl, (unsigned long)arch_map_vdso_code(type), vvar_start, 0, 0, 0, 0);

	if (is_err(r))
		return r;
	add_step(x, "arch_prctl %s 0x%lx", vdso_type_prctl_name(type), vvar_start);
	if (read_block(x, &nb))
		return -EIO;
	if (nb.base == base)
		return 0;
	/* the address is only a hint: put it where it belongs */
	r = -EIO;
	if (nb.base - nb.vvar_start == base - vvar_start)
		r = stock_move(x, &nb, vvar_start);
	if (r) {
		inj(x, SYS_munmap, nb.vvar_start, nb.end - nb.vvar_start, 0, 0, 0, 0);
		add_step(x, "undo: munmap 0x%lx-0x%lx", nb.vvar_start, nb.end);
	}
	return r;
}

static long stock_switch(struct remap_ctx *x, const struct block *b, int old_type,
			 int new_type, unsigned long new_vvar, unsigned long new_base, int *lost)
{
	long r = inj(x, SYS_munmap, b->vvar_start, b->end - b->vvar_start, 0, 0, 0, 0);

	*lost = 0;
	if (is_err(r))
		return r;
	add_step(x, "munmap 0x%lx-0x%lx", b->vvar_start, b->end);
	r = map_type_at(x, new_type, new_vvar, new_base);
	if (r && map_type_at(x, old_type, b->vvar_start, b->base))
		*lost = 1;
	return r;
}

/*
 * The block @b (type @from) to @vvar with its text at @base, as type @to:
 * vdso_remap where the kernel has it, else the stock way (mremap, or for a
 * switch munmap + ARCH_MAP_VDSO_*); @b NULL: the block as it is now. The
 * first -ENOSYS sets the stock path for the rest of the operation. *lost:
 * a failed stock switch could not put the old type back.
 */
long block_move(struct remap_ctx *x, const struct block *b, int from, int to,
		       unsigned long vvar, unsigned long base, int *lost)
{
	struct block now;
	long r;

	*lost = 0;
	if (x->path == PATH_SYSCALL) {
		r = inj_vdso_remap(x, to, base);
		if (r != -ENOSYS) {
			add_step(x, "vdso_remap %s 0x%lx", vdso_type_name(to), base);
			return r;
		}
		x->path = PATH_STOCK;
	}
	if (!b) {
		if (read_block(x, &now))
			return -EIO;
		b = &now;
	}
	if (from != to)
		return stock_switch(x, b, from, to, vvar, base, lost);
	return stock_move(x, b, vvar);
}

/* ---- destination ---- */

/*
 * The placement rules for a block of @before + @after bytes with its text at
 * @base, below @limit (the reach of a @mode process): 0, or -errno with @why.
 */
int check_dest(unsigned long base, unsigned long before, unsigned long after,
		      unsigned long limit, int mode, char *why, size_t whylen)
{
	unsigned long min_addr = proc_mmap_min_addr();

	if (base & (PAGE - 1)) {
		snprintf(why, whylen, "address 0x%lx is not page aligned", base);
		return -EINVAL;
	}
	if (base < before || base - before < min_addr) {
		snprintf(why, whylen, "address 0x%lx puts the block below mmap_min_addr 0x%lx", base,
			 min_addr);
		return -EINVAL;
	}
	if (base > limit || limit - base < after) {
		snprintf(why, whylen, "address 0x%lx puts the block above the limit 0x%lx for a %s "
			 "process", base, limit, mode_name(mode));
		return -ENOMEM;
	}
	return 0;
}

static unsigned long absdiff(unsigned long a, unsigned long b)
{
	return a > b ? a - b : b - a;
}

/*
 * A free spot for a block of @before + @after bytes with a guard page on each
 * side, nearest the old base (a proxy then reaches it with a rel32 jump).
 */
static int choose_dest(const struct maps *m, const struct block *old, unsigned long before,
		       unsigned long after, unsigned long lo_lim, unsigned long hi_lim,
		       unsigned long *base)
{
	unsigned long need = before + after + 2 * PAGE, prev = lo_lim, best = 0, bestd = ~0UL;
	/* old block out of reach (64-bit process, 32-bit type): aim mid-range, away from the edge */
	unsigned long ref = old->base < hi_lim ? old->base : (hi_lim / 2) & ~(PAGE - 1);

	for (int i = 0; i <= m->n; i++) {
		unsigned long g0 = prev, g1 = i < m->n ? m->e[i].start : hi_lim;

		if (i < m->n)
			prev = m->e[i].end > prev ? m->e[i].end : prev;
		if (g1 > hi_lim)
			g1 = hi_lim;
		if (g1 <= g0 || g1 - g0 < need)
			continue;
		for (int side = 0; side < 2; side++) {
			unsigned long cand = side ? ((g1 - PAGE - after) & ~(PAGE - 1))
						  : g0 + PAGE + before;

			if (ranges_overlap(cand - before, cand + after, old->vvar_start, old->end))
				continue;
			if (absdiff(cand, ref) < bestd) {
				bestd = absdiff(cand, ref);
				best = cand;
			}
		}
	}
	if (!best)
		return -ENOMEM;
	*base = best;
	return 0;
}

/* ---- threads standing in the vdso ---- */

#define STEP_MAX 20000

/*
 * Code a proxy keeps byte for byte and that touches no vvar: the i386
 * __kernel_vsyscall after its entry (where blocked syscalls return) and the
 * sigreturn trampolines. A thread may stay there across a move.
 */
static int in_kept_code(const struct vdso_elf *e, unsigned long off)
{
	for (int k = 0; k < e->nsyms; k++) {
		const struct vdso_sym *s = &e->sym[k];
		unsigned long lo = s->off, hi = s->off + s->esize;

		if (strcmp(s->name, "__kernel_vsyscall") == 0)
			lo += 5;	/* the entry jump */
		else if (strcmp(s->name, "__kernel_sigreturn") != 0 &&
			 strcmp(s->name, "__kernel_rt_sigreturn") != 0)
			continue;
		if (off >= lo && off < hi)
			return 1;
	}
	return 0;
}

static int is_syscall_insn(const unsigned char *p)
{
	return (p[0] == 0x0f && (p[1] == 0x05 || p[1] == 0x34)) || (p[0] == 0xcd && p[1] == 0x80);
}

/* In a syscall that entered from inside the text (blocked, or being restarted)? */
static int in_syscall(const struct tthread *th, const unsigned char *img, const struct block *b)
{
	unsigned long ip = th->regs.rip;

	return (long)th->regs.orig_rax >= 0 && ip >= b->base + 2 && ip < b->end &&
	       is_syscall_insn(img + (ip - b->base - 2));
}

/* About to execute a syscall instruction from the text (stepping would run it)? */
static int at_syscall(const struct tthread *th, const unsigned char *img, const struct block *b)
{
	unsigned long ip = th->regs.rip;

	return ip >= b->base && ip + 2 <= b->end && is_syscall_insn(img + (ip - b->base));
}

/*
 * Threads running vdso code are single-stepped until they return to their
 * caller (or reach a syscall instruction, which could block): vdso code
 * keeps vvar pointers in registers and return addresses on the stack that
 * a move would invalidate. Returns how many threads remain inside the text,
 * or -1 with @why when one does not come out. With @no_step nothing runs.
 */
static int settle_threads(struct remap_ctx *x, const struct block *b, const struct vdso_elf *e,
			  const unsigned char *img, int no_step, char *why, size_t whylen)
{
	int inside = 0;

	for (int i = 0; i < x->tgt.nthreads; i++) {
		struct tthread *th = &x->tgt.th[i];
		int n = 0;

		while (!no_step && th->regs.rip >= b->base && th->regs.rip < b->end &&
		       !in_syscall(th, img, b) && !at_syscall(th, img, b) &&
		       !in_kept_code(e, th->regs.rip - b->base)) {
			if (n++ == STEP_MAX || target_step(&x->tgt, th)) {
				snprintf(why, whylen, "thread %d did not leave the vdso (offset 0x%llx) "
					 "within %d instructions", (int)th->tid, th->regs.rip - b->base,
					 STEP_MAX);
				return -1;
			}
		}
		if (n)
			add_step(x, "thread %d stepped out of the vdso in %d instructions", (int)th->tid, n);
		if (th->regs.rip >= b->base && th->regs.rip < b->end)
			inside++;
	}
	return inside;
}

/*
 * After a same-type move, every address a thread holds into the old block
 * moves to the same offset of the new one: its IP if it stands in the old
 * text (unless @keep_ip: code the proxy keeps), registers (vvar pointers,
 * the i386 GOT pointer) and words near the top of its stack: return
 * addresses of vdso code calling its helpers, x86_64 leaf data in the red
 * zone, and the saved context of a signal frame when a handler interrupted
 * the thread inside the vdso (sigreturn would otherwise resume it there).
 * Returns how many values moved.
 */
static int relocate(struct remap_ctx *x, struct tthread *th, const struct block *b,
		    unsigned long delta, int pmode, int stack, int keep_ip)
{
	unsigned char *stk = x->scan;
	unsigned long lo = th->regs.rsp - (th->mode == VDSO_TYPE_X86_64 ? SCAN_BELOW : 0);
	/* x32 code runs in 64-bit mode but keeps 4-byte pointers */
	size_t w = th->mode == VDSO_TYPE_X86_64 && pmode != VDSO_TYPE_X32 ? 8 : 4;
	ssize_t n = 0;
	int moved = 0;

	/* a short read ends at the top of the stack mapping */
	if (stack)
		n = pread(x->tgt.memfd, stk, sizeof(x->scan), (off_t)lo);
	for (size_t off = 0; n > 0 && off + w <= (size_t)n; off += w) {
		unsigned long v = 0;

		memcpy(&v, stk + off, w);
		if (v >= b->vvar_start && v < b->end) {
			v += delta;
			if (mem_write(x->tgt.memfd, lo + off, &v, w) == 0)
				moved++;
		}
	}

	struct user_regs_struct regs = th->regs;
	unsigned long long *r[] = {
		&regs.rax, &regs.rbx, &regs.rcx, &regs.rdx, &regs.rsi, &regs.rdi, &regs.rbp,
		&regs.r8, &regs.r9, &regs.r10, &regs.r11, &regs.r12, &regs.r13, &regs.r14, &regs.r15,
	};
	int moved_regs = 0;

	for (size_t k = 0; k < sizeof(r) / sizeof(r[0]); k++) {
		if (*r[k] < b->vvar_start || *r[k] >= b->end)
			continue;
		*r[k] += delta;
		moved_regs++;
	}
	if (moved_regs)
		target_set_regs(th, &regs);
	if (!keep_ip && th->regs.rip >= b->vvar_start && th->regs.rip < b->end) {
		target_set_ip(th, th->regs.rip + delta);
		moved_regs++;
	}
	return moved + moved_regs;
}

/* ---- facts about the target that need no stop ---- */

int image_type_at(int memfd, unsigned long base)
{
	unsigned char h[64];

	if (mem_read(memfd, base, h, sizeof(h)))
		return -1;
	return vdso_type_of_elf(h, sizeof(h));
}

/* A malloc'ed copy of [start, start + len), or NULL with errno set. */
unsigned char *read_image(int memfd, unsigned long start, unsigned long len)
{
	unsigned char *img;
	int err;

	if (len > IMG_MAX) {
		errno = E2BIG;
		return NULL;
	}
	img = malloc(len);
	if (!img)
		return NULL;
	err = mem_read(memfd, start, img, len);
	if (err) {
		free(img);
		errno = -err;
		return NULL;
	}
	return img;
}

/* The target's maps, or a refusal naming the cause: a target that is gone is ESRCH. */
void read_maps_or_refuse(struct remap_ctx *x, struct maps *m)
{
	pid_t pid = x->pid;
	int err = maps_read(pid, m);

	if (err == -ENOENT || err == -ESRCH)
		remap_refuse(x, ESRCH, "target %d exited", (int)pid);
	if (err)
		remap_refuse(x, io_code(-err), "cannot read the maps of %d: %s", (int)pid, err_text(-err));
}

void verdict_or_refuse(struct remap_ctx *x, struct verdict *v)
{
	pid_t pid = x->pid;
	int pidfd = pidfd_open_checked(pid);

	if (pidfd < 0) {
		if (pidfd == -ESRCH)
			remap_refuse(x, ESRCH, "no process %d", (int)pid);
		remap_refuse(x, -pidfd, "cannot open process %d: %s", (int)pid, strerror(-pidfd));
	}
	x->pidfd = pidfd;
	policy_check(x->caller, pid, pidfd, v);
	if (!v->allowed)
		remap_refuse(x, v->err ? v->err : EPERM, "%s", v->reason);
}

/*
 * Refuse a target whose mm another thread group shares (CLONE_VM without
 * CLONE_THREAD, or a vfork child before exec): only the target's threads are
 * stopped, so the other group could be running in the vdso while it moves.
 * Checked before the seize (a vfork parent cannot even be stopped: it waits
 * for its child killably) and again once every thread is stopped, when no
 * new sharer can appear unnoticed.
 */
static void check_unshared(struct remap_ctx *x, int stopped)
{
	struct mmshare *sh = &x->sh;
	pid_t pid = x->pid;
	int before = sh->compared;
	int err = stopped ? mmshare_recheck(pid, sh) : mmshare_scan(pid, 0, sh);

	if (err == -ENOSYS)
		remap_refuse(x, EOPNOTSUPP, "cannot prove that process %d shares its address space with no "
		       "other process: the kernel has no kcmp(2) (CONFIG_KCMP)", (int)pid);
	if (err == -ESRCH)
		remap_refuse(x, ESRCH, "process %d exited", (int)pid);
	if (err)
		remap_refuse(x, io_code(-err), "cannot check whether process %d shares its "
		       "address space: %s", (int)pid, err_text(-err));
	if (sh->n)
		remap_refuse(x, EBUSY, "process %d shares its address space, and so its vdso, with pid %d%s "
		       "(clone with CLONE_VM, or vfork before exec), which the helper does not stop: "
		       "it could be running in the vdso while it moves", (int)pid, (int)sh->pid[0],
		       sh->n > 1 ? " and others" : "");
	if (sh->changed)
		remap_refuse(x, EBUSY, "process %d's address space changed while all its threads were "
		       "stopped: another process shares it", (int)pid);
	if (sh->unproven)
		remap_refuse(x, EBUSY, "cannot prove that process %d's address space is not shared with pid %d: "
		       "kcmp(2) may not compare them and their VmPeak is the same", (int)pid,
		       (int)sh->unproven);
	if (stopped && sh->full)
		add_check(x, "shared_mm", 1, "address space shared with no other process (%d compared)",
			  sh->compared);
	else if (stopped)
		add_check(x, "shared_mm", 1, "address space shared with no other process (%d compared, "
			  "then %d new since)", before, sh->compared - before);
}


/* ---- remap_plan: nothing stopped yet ---- */

/* A switch leaves old callers speaking the wrong ABI: only on request. */
static void plan_mode(struct remap_ctx *x)
{
	int fits = vdso_type_of_mode(x->mode) == x->new_type;

	if (!x->switching)
		return;
	if (!fits && !x->rq->force)
		remap_refuse(x, EINVAL, "process %d runs as %s; a %s vdso would not serve its callers "
		       "(use --force, e.g. for a restorer about to change mode)",
		       (int)x->pid, mode_name(x->mode), vdso_type_name(x->new_type));
	add_check(x, "mode", fits, "process mode %s, new type %s%s", mode_name(x->mode),
		  vdso_type_name(x->new_type), fits ? "" : " (forced)");
}

static void plan_sealed(struct remap_ctx *x)
{
	const struct block *b = &x->old;

	for (int i = 0; i < b->nvmas; i++) {
		int sealed = proc_vma_sealed(x->pid, b->vma[i].start);

		/* an unreadable answer refuses: it must never read as "not sealed" */
		if (sealed < 0)
			remap_refuse(x, -sealed == ENOENT ? ESRCH : io_code(-sealed), "cannot read whether "
			       "the vdso block of %d is sealed: %s", (int)x->pid, err_text(-sealed));
		if (sealed == 1)
			remap_refuse(x, EPERM, "the vdso block is sealed (%s at 0x%lx): it cannot move",
			       vma_label(&b->vma[i]), b->vma[i].start);
	}
	add_check(x, "sealed", 1, "block not sealed");
}

/* The new block's size on each side of its base: the new type's layout, or the old block's. */
static void plan_layout(struct remap_ctx *x)
{
	struct layout l;
	int err;

	if (!x->switching) {
		x->before = x->old.base - x->old.vvar_start;
		x->after = x->old.end - x->old.base;
		return;
	}
	err = layout_get(x->new_type, &l, NULL, NULL);
	if (err)
		remap_refuse(x, -err, "%s", l.reason);
	if (!l.available)
		remap_refuse(x, EOPNOTSUPP, "%s", l.reason[0] ? l.reason : "type not available");
	x->before = l.before;
	x->after = l.after;
}

static void plan_dest(struct remap_ctx *x, const struct maps *m)
{
	const struct remap_req *rq = x->rq;
	const struct block *b = &x->old;
	unsigned long before = x->before, after = x->after, base;
	unsigned long min_addr = proc_mmap_min_addr();
	/* below the reach of the new type and of the process (an unknown mode: the type's alone) */
	unsigned long limit = vdso_type_limit(x->new_type);

	if (vdso_type_valid(x->mode) && vdso_type_limit(x->mode) < limit)
		limit = vdso_type_limit(x->mode);
	if (rq->auto_addr) {
		if (choose_dest(m, b, before, after, min_addr, limit, &base))
			remap_refuse(x, ENOMEM, "no free range of %lu bytes below 0x%lx", before + after,
			       limit);
	} else {
		char why[192];
		int err;

		base = rq->addr;
		err = check_dest(base, before, after, limit, x->mode, why, sizeof(why));
		if (err)
			remap_refuse(x, -err, "%s", why);
		if (base == b->base && !x->switching)
			remap_refuse(x, EINVAL, "the vdso is already at 0x%lx", base);
	}
	x->new_base = base;
	x->new_vvar = base - before;
	if (x->use_proxy && ranges_overlap(x->new_vvar, base + after, b->base, b->end))
		remap_refuse(x, EEXIST, "destination 0x%lx-0x%lx overlaps the old text 0x%lx-0x%lx, where "
		       "the proxy must stay (use another address, or --no-proxy)",
		       x->new_vvar, base + after, b->base, b->end);
}

/* Policy, mode, sealed, layout, destination, shared mm: every check that needs no stop. */
static void remap_plan(struct remap_ctx *x)
{
	const struct remap_req *rq = x->rq;
	struct verdict v;
	struct maps m;

	verdict_or_refuse(x, &v);
	add_check(x, "policy", 1, "%s", v.reason);
	audit_log(x->caller, x->op, x->pid, "allowed", "%s", v.reason);

	x->mode = proc_exe_mode(x->pid);
	x->memfd = mem_open(x->pid);
	if (x->memfd < 0)
		remap_refuse(x, -x->memfd == ENOENT ? ESRCH : -x->memfd, "cannot open memory of %d: %s",
		       (int)x->pid, err_text(-x->memfd));
	read_maps_or_refuse(x, &m);
	if (maps_find_block(&m, &x->old))
		remap_refuse(x, ENOENT, "target %d has no vdso mapped", (int)x->pid);
	x->old_type = image_type_at(x->memfd, x->old.base);
	if (x->old_type == VDSO_TYPE_UNKNOWN)
		fail(x, EIO, "cannot read the vdso image header at 0x%lx", x->old.base);
	x->new_type = rq->type != VDSO_TYPE_UNKNOWN ? rq->type : x->old_type;
	x->switching = x->new_type != x->old_type;
	x->use_proxy = !x->switching && !rq->no_proxy;
	x->path = kernel_has_vdso_syscalls() ? PATH_SYSCALL : PATH_STOCK;
	x->text_len = x->old.end - x->old.base;

	plan_mode(x);
	plan_sealed(x);
	plan_layout(x);
	plan_dest(x, &m);
	maps_free(&m);
	check_unshared(x, 0);
}

/* ---- remap_seize: from here every exit goes through remap_release() ---- */

static void remap_seize(struct remap_ctx *x)
{
	char why[256] = "";
	int r;

	guard_signals_block();
	r = target_seize(&x->tgt, x->pid, why, sizeof(why));
	if (r)
		remap_refuse(x, -r, "%s", why);
	x->held = 1;
	add_step(x, "seize %d thread%s", x->tgt.nthreads, x->tgt.nthreads == 1 ? "" : "s");
}

/* ---- remap_check_stopped: the stopped truth ---- */

/* The policy again, seccomp and syscall user dispatch: what a process could turn on until now. */
static void check_still_allowed(struct remap_ctx *x)
{
	struct verdict again;
	int r = policy_recheck_verdict(x->pid, x->pidfd, &again);
	int sig;

	if (r == -ESRCH)
		remap_refuse(x, ESRCH, "process %d is no longer the one that was checked", (int)x->pid);
	if (r)
		remap_refuse(x, again.err ? again.err : -r, "process %d could not be checked again: %s",
		       (int)x->pid, again.reason);
	sig = proc_seccomp(x->pid);
	if (sig < 0)
		remap_refuse(x, io_code(-sig), "cannot read whether process %d runs under seccomp: %s",
		       (int)x->pid, err_text(-sig));
	if (sig > 0)
		remap_refuse(x, EPERM, "process %d runs under seccomp (%s mode): an injected mremap, munmap "
		       "or arch_prctl could kill it", (int)x->pid, sig == 1 ? "strict" : "filter");
	if (target_sud_active(&x->tgt))
		remap_refuse(x, EPERM, "process %d uses syscall user dispatch: injected syscalls would be "
		       "turned into SIGSYS", (int)x->pid);
}

/*
 * Moving back onto one of this process's own proxies is fine when the new
 * text lands exactly on it and nothing else is in the way: callers holding
 * addresses in it then reach the same functions of the real vdso. Returns
 * the proxy's base, or 0 with @clash the first thing in the way.
 */
static unsigned long replaceable_proxy(const struct remap_ctx *x, const struct maps *m,
				       struct maps_entry *clash)
{
	unsigned long lo = x->new_vvar, hi = x->new_base + x->after, px = 0;
	const struct block *b = &x->old;

	for (int i = 0; !x->switching && i < x->proxies.n; i++)
		if (x->proxies.base[i] == x->new_base && x->proxies.size[i] == x->after &&
		    clash->start == x->new_base)
			px = x->new_base;
	if (!px)
		return 0;
	for (int i = 0; i < m->n; i++) {
		const struct maps_entry *e = &m->e[i];

		if (e->start == px || e->end <= lo || e->start >= hi)
			continue;
		if (e->start >= b->vvar_start && e->end <= b->end)
			continue;
		*clash = *e;
		return 0;
	}
	return px;
}

/* Maps again, the block, the proxies, the destination. */
static void check_dest_stopped(struct remap_ctx *x)
{
	unsigned long lo = x->new_vvar, hi = x->new_base + x->after;
	struct maps_entry clash;
	struct maps m;

	read_maps_or_refuse(x, &m);
	if (maps_find_block(&m, &x->old))
		remap_refuse(x, ESRCH, "target %d lost its vdso", (int)x->pid);
	proxy_find_all(x->tgt.memfd, &m, &x->proxies);
	target_choose_stub(&x->tgt, &m);
	if (maps_range_free(&m, lo, hi, &x->old, &clash)) {
		add_check(x, "destination", 1, "0x%lx-0x%lx is free", lo, hi);
	} else {
		x->replace = replaceable_proxy(x, &m, &clash);
		if (!x->replace)
			remap_refuse(x, EEXIST, "destination 0x%lx-0x%lx is occupied by %s 0x%lx-0x%lx", lo,
			       hi, vma_label(&clash), clash.start, clash.end);
		add_check(x, "destination", 1, "0x%lx-0x%lx is free but for this process's proxy "
			  "at 0x%lx", lo, hi, x->replace);
	}
	maps_free(&m);
}

static void read_old_image(struct remap_ctx *x)
{
	unsigned long base = x->old.base;

	x->img = read_image(x->tgt.memfd, base, x->text_len);
	if (!x->img)
		remap_refuse(x, io_code(errno), "cannot read the vdso image at 0x%lx: %s", base,
		       err_text(errno));
	if (vdso_elf_parse(x->img, x->text_len, &x->elf))
		remap_refuse(x, EIO, "the vdso image at 0x%lx is not one the helper can read", base);
}

/*
 * A proxy move relocates threads; elsewhere they must step out. So must
 * they under a shadow stack: its return addresses cannot be rewritten.
 */
static void check_threads(struct remap_ctx *x)
{
	const struct block *b = &x->old;
	char why[256] = "";
	int nin;

	x->shstk = proc_shadow_stack(x->pid);
	if (x->shstk < 0)
		remap_refuse(x, io_code(-x->shstk), "cannot read whether process %d uses a shadow stack: %s",
		       (int)x->pid, err_text(-x->shstk));
	nin = settle_threads(x, b, &x->elf, x->img, x->rq->dry_run || (x->use_proxy && !x->shstk),
			     why, sizeof(why));
	if (nin < 0)
		remap_refuse(x, EBUSY, "%s", why);
	for (int i = 0; i < x->tgt.nthreads; i++) {
		const struct tthread *th = &x->tgt.th[i];
		unsigned long ip = th->regs.rip;
		const char *doing = in_syscall(th, x->img, b) ? "blocked in a syscall" : "executing";

		if (ip < b->base || ip >= b->end)
			continue;
		if (x->switching)
			remap_refuse(x, EBUSY, "thread %d is %s inside the vdso (offset 0x%lx); after a type "
			       "switch there would be no code under it", (int)th->tid, doing,
			       ip - b->base);
		if (!x->use_proxy)
			remap_refuse(x, EBUSY, "thread %d is %s inside the vdso (offset 0x%lx); without a "
			       "proxy its return path would be gone", (int)th->tid, doing, ip - b->base);
	}
	add_check(x, "threads", 1, "%d thread%s, %d inside the vdso%s", x->tgt.nthreads,
		  x->tgt.nthreads == 1 ? "" : "s", nin, nin ? " where the proxy keeps their code" : "");
}

/* The proxy's image, built before anything changes. */
static void check_proxy(struct remap_ctx *x)
{
	char why[256] = "";

	if (!x->use_proxy)
		return;
	x->proxy_img = malloc(x->text_len);
	if (!x->proxy_img)
		remap_refuse(x, ENOMEM, "out of memory");
	memcpy(x->proxy_img, x->img, x->text_len);
	if (proxy_patch(x->proxy_img, x->text_len, &x->elf, x->old.base, x->new_base, why,
			sizeof(why)))
		remap_refuse(x, EOPNOTSUPP, "no proxy possible: %s", why);
	add_check(x, "proxy", 1, "%d entries jump 0x%lx -> 0x%lx", x->elf.nsyms, x->old.base,
		  x->new_base);
}

/* Recheck, seccomp, syscall user dispatch, shared mm, maps, threads, proxy. */
static void remap_check_stopped(struct remap_ctx *x)
{
	check_still_allowed(x);
	check_unshared(x, 1);
	check_dest_stopped(x);
	read_old_image(x);
	check_threads(x);
	check_proxy(x);
}

/* ---- remap_apply: the changes ---- */

static const char *path_name(enum remap_path p)
{
	return p == PATH_SYSCALL ? "syscall" : "stock";
}

static const char *op_name(const struct remap_ctx *x)
{
	return x->switching ? "switch" : "move";
}

/* A dry run's steps: what remap_apply would do. */
static void remap_plan_steps(struct remap_ctx *x)
{
	add_step(x, "%s 0x%lx -> 0x%lx (%s)", op_name(x), x->old.base, x->new_base,
		 path_name(x->path));
	if (x->use_proxy)
		add_step(x, "proxy at 0x%lx", x->old.base);
}

/* Take our own proxy out of the new block's way. */
static void apply_unmap_replaced(struct remap_ctx *x)
{
	long r;

	if (!x->replace)
		return;
	x->replaced_img = read_image(x->tgt.memfd, x->replace, x->after);
	if (!x->replaced_img)
		remap_refuse(x, io_code(errno), "cannot read the proxy at 0x%lx: %s", x->replace,
		       err_text(errno));
	r = inj(x, SYS_munmap, x->replace, x->after, 0, 0, 0, 0);
	if (is_err(r))
		fail(x, (int)-r, "cannot unmap the proxy at 0x%lx: %s", x->replace, strerror((int)-r));
	add_step(x, "munmap proxy 0x%lx", x->replace);
}

/* The block to its new place (and type): vdso_remap, else the stock way. */
static void apply_block(struct remap_ctx *x)
{
	const struct block *b = &x->old;
	int lost;
	long r = block_move(x, b, x->old_type, x->new_type, x->new_vvar, x->new_base, &lost);

	if (lost)
		fail(x, EIO, "type switch failed (%s) and the old vdso could not be restored",
		     strerrorname_np((int)-r) ?: "?");
	if (r && x->replace) {
		/* put the proxy back as it was */
		long u = inj(x, SYS_mmap, x->replace, x->after, PROT_READ | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (unsigned long)-1, 0);

		if ((unsigned long)u != x->replace ||
		    mem_write(x->tgt.memfd, x->replace, x->replaced_img, x->after))
			fail(x, (int)-r, "move failed (%s) and the proxy at 0x%lx could not be restored",
			     strerror((int)-r), x->replace);
	}
	if (r)
		fail(x, (int)-r, "%s failed: %s; the vdso is unchanged", op_name(x),
		     strerror((int)-r));
}

/* What threads hold into the old block follows it (kept code keeps its threads). */
static void apply_relocate(struct remap_ctx *x)
{
	const struct block *b = &x->old;

	if (x->switching)
		return;
	for (int i = 0; i < x->tgt.nthreads; i++) {
		struct tthread *th = &x->tgt.th[i];
		unsigned long ip = th->regs.rip;
		int in_text = ip >= b->base && ip < b->end;
		int k = relocate(x, th, b, x->new_base - b->base, x->mode, !x->shstk,
				 in_text && in_kept_code(&x->elf, ip - b->base));

		if (k)
			add_step(x, "thread %d: %d value%s moved%s", (int)th->tid, k, k == 1 ? "" : "s",
				 th->regs.rip != ip ? ", ip too" : "");
	}
}

/* The proxy at the old base, and the older proxies re-pointed at the new one. */
static void apply_proxies(struct remap_ctx *x)
{
	const struct block *b = &x->old;
	char why[256] = "";
	int perr = 0;
	long r;

	if (!x->use_proxy)
		return;
	r = inj(x, SYS_mmap, b->base, x->text_len, PROT_READ | PROT_EXEC,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (unsigned long)-1, 0);
	if (is_err(r) || (unsigned long)r != b->base) {
		perr = is_err(r) ? (int)-r : EEXIST;
	} else {
		perr = -mem_write(x->tgt.memfd, b->base, x->proxy_img, x->text_len);
		if (perr)
			inj(x, SYS_munmap, b->base, x->text_len, 0, 0, 0, 0);
	}
	if (perr) {
		/* without its proxy the process would crash: move back */
		int lost;
		long u = block_move(x, NULL, x->old_type, x->old_type, b->vvar_start, b->base,
				    &lost);

		fail(x, perr, "cannot place the proxy at 0x%lx (%s); %s", b->base, strerror(perr),
		     u ? "and moving back failed" : "moved back, the vdso is unchanged");
	}
	add_step(x, "proxy at 0x%lx -> 0x%lx", b->base, x->new_base);
	for (int i = 0; i < x->proxies.n; i++) {
		unsigned long pb = x->proxies.base[i];
		size_t ps = x->proxies.size[i];
		unsigned char *p;
		struct vdso_elf pe;

		if (pb == x->replace)
			continue;
		p = read_image(x->tgt.memfd, pb, ps);
		if (p && vdso_elf_parse(p, ps, &pe) == 0 && pe.type == x->new_type &&
		    proxy_patch(p, ps, &pe, pb, x->new_base, why, sizeof(why)) == 0 &&
		    mem_write(x->tgt.memfd, pb, p, ps) == 0)
			add_step(x, "re-point proxy 0x%lx -> 0x%lx", pb, x->new_base);
		free(p);
	}
}

/* Verify while still stopped: a forced switch may kill the target once it runs. */
static void apply_verify(struct remap_ctx *x)
{
	struct block nb;
	int t;

	if (read_block(x, &nb) || nb.base != x->new_base)
		fail(x, EIO, "after the %s the vdso is not at 0x%lx", op_name(x), x->new_base);
	t = image_type_at(x->memfd, nb.base);
	if (t != x->new_type)
		fail(x, EIO, "after the switch the vdso at 0x%lx is %s, not %s", nb.base,
		     vdso_type_name(t) ?: "unknown", vdso_type_name(x->new_type));
}

static void remap_apply(struct remap_ctx *x)
{
	int sig = guard_signal_pending();

	if (sig)
		remap_refuse(x, EINTR, "interrupted by %s before any change; target left as it was",
		       sigabbrev_np(sig) ?: "a signal");
	/* ---- point of first change ---- */
	apply_unmap_replaced(x);
	apply_block(x);
	apply_relocate(x);
	apply_proxies(x);
	/* the last injection is done: give the program its text back before anything else */
	target_unstub(&x->tgt);
	apply_verify(x);
	add_step(x, "detach %d thread%s", x->tgt.nthreads, x->tgt.nthreads == 1 ? "" : "s");
}

/* ---- remap_report: the plan (a dry run) or what was done ---- */

static void print_side(const char *key, int type, unsigned long base, unsigned long vvar,
		       unsigned long size)
{
	out_obj_begin(key);
	out_str("type", vdso_type_name(type));
	out_hex("base", base);
	out_hex("vvar_start", vvar);
	out_int("size", (long long)size);
	out_obj_end();
}

/* Let the target go and say so in the audit log. */
static void remap_done(struct remap_ctx *x)
{
	const struct block *b = &x->old;

	remap_release(x);
	if (x->rq->dry_run)
		audit_log(x->caller, x->op, x->pid, "ok", "dry run: %s %s 0x%lx -> %s 0x%lx",
			  op_name(x), vdso_type_name(x->old_type), b->base,
			  vdso_type_name(x->new_type), x->new_base);
	else
		audit_log(x->caller, x->op, x->pid, "ok", "%s %s 0x%lx -> %s 0x%lx (%s)%s",
			  op_name(x), vdso_type_name(x->old_type), b->base,
			  vdso_type_name(x->new_type), x->new_base, path_name(x->path),
			  x->use_proxy ? " with proxy" : "");
}

static void remap_report(struct remap_ctx *x)
{
	const struct block *b = &x->old;

	out_set_cleanup(NULL, NULL);
	out_obj_begin(NULL);
	out_int("pid", x->pid);
	out_bool("dry_run", x->rq->dry_run);
	out_str("operation", op_name(x));
	out_str("path", path_name(x->path));
	print_side("from", x->old_type, b->base, b->vvar_start, b->end - b->vvar_start);
	print_side("to", x->new_type, x->new_base, x->new_vvar, x->before + x->after);
	out_bool("proxy", x->use_proxy);
	out_arr_begin("checks");
	for (int i = 0; i < x->nchecks; i++) {
		out_obj_begin(NULL);
		out_str("name", x->checks[i].name);
		out_bool("ok", x->checks[i].ok);
		out_str("detail", x->checks[i].detail);
		out_obj_end();
	}
	out_arr_end();
	out_arr_begin("steps");
	for (int i = 0; i < x->nsteps; i++)
		out_str(NULL, x->steps[i]);
	out_arr_end();
	if (!x->rq->dry_run)
		out_int("stop_ns", target_stop_ns(&x->tgt));
	out_obj_end();
	out_flush();
}

/*
 * The order of work (see the top of this file): check what needs no stop,
 * seize, check the stopped truth, change, report. A dry run stops after the
 * checks and reports the steps it would take.
 */
void cmd_remap(const struct caller *c, const struct remap_req *rq)
{
	struct remap_ctx *x = remap_ctx_new(c, rq->pid, "remap");

	x->rq = rq;
	remap_plan(x);
	remap_seize(x);
	remap_check_stopped(x);
	if (rq->dry_run)
		remap_plan_steps(x);
	else
		remap_apply(x);
	remap_done(x);
	remap_report(x);
	remap_ctx_free(x);
}
