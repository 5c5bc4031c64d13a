// SPDX-License-Identifier: GPL-2.0-only
/* helper/layout.c: per-type vdso layout, from the kernel or by probing. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layout.h"
#include "maps.h"
#include "vdso_type.h"

#define IMG_MAX (1UL << 20)

/* No kernel has this type, and no uninitialised variable holds it. */
#define VDSO_TYPE_NONE 0x7fffffffU
#define VDSO_TYPE_SELF VDSO_TYPE_X86_64	/* the helper is an x86_64 program */
#define VDSO_REMAP_DRY_RUN_ 1U

long kernel_vdso_type(int type)
{
	return arch_map_vdso_code(type);
}

static long get_info(long ktype, void *info, size_t size, unsigned int flags)
{
	return syscall(NR_vdso_get_info, ktype, info, size, flags);
}

static int is_pow2(unsigned long long v)
{
	return v && !(v & (v - 1));
}

/*
 * The parts of @info tile its block in address order, the text last and
 * where space_needed_before says, and the unused entries are zero; with
 * @b, they are the block's VMAs one for one.
 */
static int parts_sane(const struct vdso_info_uapi *info, const struct block *b)
{
	unsigned long long at = 0;
	const struct vdso_part_uapi *text;
	unsigned int i;

	if (info->nr_parts < 2 || info->nr_parts > VDSO_INFO_MAX_PARTS)
		return 0;
	for (i = 0; i < info->nr_parts; i++) {
		const struct vdso_part_uapi *p = &info->parts[i];

		if (p->offset != at || !p->size || p->reserved ||
		    (p->kind != VDSO_PART_DATA && p->kind != VDSO_PART_TEXT))
			return 0;
		if ((p->kind == VDSO_PART_TEXT) != (i == info->nr_parts - 1))
			return 0;
		if (b && (b->vma[i].start - b->vvar_start != p->offset ||
			  b->vma[i].end - b->vma[i].start != p->size))
			return 0;
		at += p->size;
	}
	for (; i < VDSO_INFO_MAX_PARTS; i++) {
		const struct vdso_part_uapi *p = &info->parts[i];

		if (p->offset || p->size || p->kind || p->reserved)
			return 0;
	}
	text = &info->parts[info->nr_parts - 1];
	return text->offset == info->space_needed_before && text->size == info->space_needed_after &&
	       (!b || (unsigned long long)b->nvmas == info->nr_parts);
}

/*
 * 473 and 474 are provisional numbers, so "not ENOSYS" proves nothing:
 * another kernel may have put another call there, or an older version of
 * these. The calls count as present only when 473 answers as only
 * vdso_get_info can: EFAULT for a NULL info; EINVAL for a type no kernel
 * has, for type 0 (no type is 0) and for an unknown flag; for the helper's
 * own type exactly the block its own /proc/self/maps shows, VMA by VMA;
 * and no byte past a short size written. 474, asked for the impossible
 * type in a dry run, must then refuse with EINVAL. 474 is never called
 * before 473 has proved itself: on a stranger's kernel it could be
 * anything.
 */
int kernel_has_vdso_syscalls(void)
{
	const long self = kernel_vdso_type(VDSO_TYPE_SELF);
	struct vdso_info_uapi info, shortbuf;
	struct maps m;
	struct block b;
	long r;
	int own;

	r = get_info(self, NULL, sizeof(info), 0);
	if (r != -1 || errno != EFAULT)
		return 0;
	r = get_info(VDSO_TYPE_NONE, &info, sizeof(info), 0);
	if (r != -1 || errno != EINVAL)
		return 0;
	r = get_info(0, &info, sizeof(info), 0);
	if (r != -1 || errno != EINVAL)
		return 0;
	r = get_info(self, &info, sizeof(info), 0x80000000U);
	if (r != -1 || errno != EINVAL)
		return 0;
	/* A pattern the call must overwrite: "succeeded, wrote nothing" fails. */
	memset(&info, 0xa5, sizeof(info));
	if (get_info(self, &info, sizeof(info), 0) != 0)
		return 0;
	if (!is_pow2(info.alignment) || info.space_needed_after == 0 ||
	    (info.space_needed_before | info.space_needed_after) & (info.alignment - 1))
		return 0;
	/* The prefix the size has room for, and not a byte more. */
	memset(&shortbuf, 0xa5, sizeof(shortbuf));
	if (get_info(self, &shortbuf, VDSO_INFO_SIZE_VER0, 0) != 0 ||
	    memcmp(&shortbuf, &info, VDSO_INFO_SIZE_VER0) != 0)
		return 0;
	for (size_t i = VDSO_INFO_SIZE_VER0; i < sizeof(shortbuf); i++)
		if (((const unsigned char *)&shortbuf)[i] != 0xa5)
			return 0;
	/*
	 * Without a block of its own (booted with vdso=0) the helper has only
	 * the checks above and below to go on.
	 */
	own = maps_read(getpid(), &m) == 0;
	if (own) {
		own = maps_find_block(&m, &b) == 0;
		maps_free(&m);
	}
	if (!parts_sane(&info, own ? &b : NULL))
		return 0;
	if (own && (info.space_needed_before != b.base - b.vvar_start ||
		    info.space_needed_after != b.end - b.base || b.base % info.alignment))
		return 0;
	r = syscall(NR_vdso_remap, VDSO_TYPE_NONE, 0UL, VDSO_REMAP_DRY_RUN_);
	return r == -1 && errno == EINVAL;
}

struct probe_result {
	long err;			/* 0, or the errno of the step that failed */
	int step;			/* 1 munmap, 2 arch_prctl, 3 maps */
	unsigned long vvar_start, base, end;
	int vvar_vmas;
};

static int write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p = (char *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

/* In the child: no vdso from here on, so only raw syscalls and plain libc. */
static void __attribute__((noreturn)) probe_child(int type, int fd, int want_img)
{
	struct probe_result res = { 0 };
	struct maps m;
	struct block b;
	long r;

	r = maps_read(getpid(), &m);
	if (r || maps_find_block(&m, &b)) {
		res.err = r ? -r : ENOENT;
		res.step = 3;
		goto out;
	}
	maps_free(&m);
	if (syscall(SYS_munmap, b.vvar_start, b.end - b.vvar_start) < 0) {
		res.err = errno;
		res.step = 1;
		goto out;
	}
	r = syscall(SYS_arch_prctl, arch_map_vdso_code(type), 0UL);
	if (r < 0) {
		res.err = errno;
		res.step = 2;
		goto out;
	}
	r = maps_read(getpid(), &m);
	if (r || maps_find_block(&m, &b)) {
		res.err = r ? -r : ENOENT;
		res.step = 3;
		goto out;
	}
	maps_free(&m);
	res.vvar_start = b.vvar_start;
	res.base = b.base;
	res.end = b.end;
	res.vvar_vmas = b.nvmas - 1;
out:
	if (write_all(fd, &res, sizeof(res)) == 0 && !res.err && want_img &&
	    res.end - res.base <= IMG_MAX)
		write_all(fd, (const void *)res.base, res.end - res.base);
	_exit(0);
}

static int probe(int type, struct probe_result *res, unsigned char **img, size_t *imglen)
{
	int pfd[2], st;
	pid_t child;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	child = fork();
	if (child < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (child == 0) {
		close(pfd[0]);
		probe_child(type, pfd[1], img != NULL);
	}
	close(pfd[1]);
	memset(res, 0, sizeof(*res));
	if (read_all(pfd[0], res, sizeof(*res)) < 0) {
		res->err = EIO;
		res->step = 3;
	}
	if (!res->err && img) {
		*imglen = res->end - res->base;
		*img = malloc(*imglen);
		if (!*img || read_all(pfd[0], *img, *imglen) < 0) {
			free(*img);
			*img = NULL;
			res->err = EIO;
			res->step = 3;
		}
	}
	close(pfd[0]);
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

int layout_get(int type, struct layout *l, unsigned char **img, size_t *imglen)
{
	struct probe_result res;
	struct vdso_info_uapi info;
	const char *name = vdso_type_name(type);
	int err;

	memset(l, 0, sizeof(*l));
	l->vvar_vmas = -1;
	if (!name) {
		snprintf(l->reason, sizeof(l->reason), "no vdso type %d", type);
		return -EINVAL;
	}
	err = probe(type, &res, img, imglen);
	if (err) {
		snprintf(l->reason, sizeof(l->reason), "cannot start the probe of the %s vdso: %s",
			 name, strerror(-err));
		return err;
	}
	if (!res.err) {
		l->available = 1;
		l->before = res.base - res.vvar_start;
		l->after = res.end - res.base;
		l->alignment = (unsigned long)sysconf(_SC_PAGESIZE);
		l->vvar_vmas = res.vvar_vmas;
	} else {
		static const char *const step[] = { "", "munmap", "arch_prctl", "maps" };

		if (res.step == 2)
			snprintf(l->reason, sizeof(l->reason), "kernel cannot map %s vdso (%s: %s)",
				 name, vdso_type_prctl_name(type), strerrorname_np((int)res.err) ?: "?");
		else
			snprintf(l->reason, sizeof(l->reason), "probe failed at %s: %s",
				 step[res.step & 3], strerror((int)res.err));
	}
	if (kernel_has_vdso_syscalls()) {
		long r = get_info(kernel_vdso_type(type), &info, sizeof(info), 0);

		l->from_syscall = 1;
		if (r == 0) {
			l->available = 1;
			l->before = (unsigned long)info.space_needed_before;
			l->after = (unsigned long)info.space_needed_after;
			l->alignment = (unsigned long)info.alignment;
			l->reason[0] = '\0';
		} else {
			l->available = 0;
			snprintf(l->reason, sizeof(l->reason), "vdso_get_info(%s): %s", name,
				 strerrorname_np(errno) ?: "?");
		}
	}
	return 0;
}
