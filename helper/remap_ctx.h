/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * helper/remap_ctx.h: one operation on a live target (struct remap_ctx) and
 * the steps over it that remap, show and exec placement share. Internal to
 * remap.c, show.c and exec.c.
 */
#ifndef VDSO_HELPER_REMAP_CTX_H
#define VDSO_HELPER_REMAP_CTX_H

#include <stddef.h>
#include <sys/types.h>

#include "maps.h"
#include "mmshare.h"
#include "proxy.h"
#include "target.h"
#include "vdsoelf.h"

struct caller;
struct remap_req;
struct verdict;

#define PAGE 4096UL
#define MAX_STEPS 64
#define MAX_CHECKS 16
#define IMG_MAX (1UL << 20)

#define SCAN_BELOW 128
#define SCAN_ABOVE (16 * 1024)

enum remap_path { PATH_SYSCALL, PATH_STOCK };

struct check {
	const char *name;
	int ok;
	char detail[192];
};

struct remap_ctx {
	/* the request */
	const struct caller *caller;
	const char *op;				/* the audit's word: "remap", "show" */
	pid_t pid;
	const struct remap_req *rq;
	/* the target */
	struct target tgt;
	int held;				/* tgt is seized: remap_release() lets it go */
	int pidfd, memfd, mode, shstk;
	struct mmshare sh;			/* the shared-mm scan, kept for its recheck */
	/* the old block and what replaces it */
	struct block old;
	int old_type, new_type, switching, use_proxy;
	unsigned long before, after, text_len;
	/* the destination */
	unsigned long new_base, new_vvar;
	unsigned long replace;			/* base of our own proxy the new text takes over */
	enum remap_path path;
	/* the ELF facts and the images */
	struct vdso_elf elf;
	unsigned char *img, *proxy_img, *replaced_img;
	struct proxy_list proxies;
	unsigned char scan[SCAN_BELOW + SCAN_ABOVE];	/* a thread's stack top, for relocate() */
	/* the plan, printed at the end: what was checked and what was done */
	struct check checks[MAX_CHECKS];
	int nchecks;
	char steps[MAX_STEPS][112];
	int nsteps;
};

/* A zeroed context for @op on @pid; its target is released on every exit. */
struct remap_ctx *remap_ctx_new(const struct caller *c, pid_t pid, const char *op);
void remap_ctx_free(struct remap_ctx *x);
/* Let the target go (registers, masks and text put back); safe to call twice. */
void remap_release(struct remap_ctx *x);
/* Release the target, audit "refused CODE: msg", and exit with the error. */
void __attribute__((noreturn, format(printf, 3, 4)))
remap_refuse(struct remap_ctx *x, int err, const char *fmt, ...);
void __attribute__((format(printf, 2, 3))) add_step(struct remap_ctx *x, const char *fmt, ...);

/* The pidfd and the policy's verdict on x->pid, or a refusal. */
void verdict_or_refuse(struct remap_ctx *x, struct verdict *v);
/* The target's maps, or a refusal naming the cause: a target that is gone is ESRCH. */
void read_maps_or_refuse(struct remap_ctx *x, struct maps *m);
/* The held target's block as it is now: 0 or -errno. */
int read_block(struct remap_ctx *x, struct block *b);
/* The vdso type of the ELF image at @base, or VDSO_TYPE_UNKNOWN. */
int image_type_at(int memfd, unsigned long base);
/* A malloc'ed copy of [start, start + len), or NULL with errno set. */
unsigned char *read_image(int memfd, unsigned long start, unsigned long len);
const char *vma_label(const struct maps_entry *e);

/*
 * The placement rules for a block of @before + @after bytes with its text at
 * @base, below @limit (the reach of a @mode process): 0, or -errno with @why.
 */
int check_dest(unsigned long base, unsigned long before, unsigned long after,
	       unsigned long limit, int mode, char *why, size_t whylen);
/*
 * The block @b (type @from) to @vvar with its text at @base, as type @to:
 * vdso_remap, else the stock way; @b NULL: the block as it is now. *lost: a
 * failed stock switch could not put the old type back.
 */
long block_move(struct remap_ctx *x, const struct block *b, int from, int to,
		unsigned long vvar, unsigned long base, int *lost);

#endif
