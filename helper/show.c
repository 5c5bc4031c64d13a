// SPDX-License-Identifier: GPL-2.0-only
/*
 * helper/show.c: what a live process's vdso looks like, read-only: the
 * target is never stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
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

void cmd_show(const struct caller *c, pid_t pid)
{
	struct remap_ctx *x = remap_ctx_new(c, pid, "show");
	pid_t *tids = calloc(TARGET_MAX_THREADS, sizeof(*tids));
	unsigned long auxv_base = 0, sysinfo = 0;
	int mode, type = VDSO_TYPE_UNKNOWN, memfd, n;
	struct proxy_list *proxies = &x->proxies;
	struct mmshare *sh = &x->sh;
	int shared_err;
	struct verdict v;
	struct block b;
	struct maps m;
	char comm[64] = "";

	if (!tids)
		remap_refuse(x, ENOMEM, "out of memory");
	verdict_or_refuse(x, &v);
	audit_log(c, "show", pid, "allowed", "%s", v.reason);
	mode = proc_exe_mode(pid);
	proc_comm(pid, comm, sizeof(comm));
	memfd = x->memfd = mem_open(pid);
	if (memfd < 0)
		remap_refuse(x, -memfd == ENOENT ? ESRCH : -memfd, "cannot open memory of %d: %s", (int)pid,
		       err_text(-memfd));
	read_maps_or_refuse(x, &m);
	if (maps_find_block(&m, &b))
		b.nvmas = 0;
	else
		type = image_type_at(memfd, b.base);
	proc_auxv_base(pid, mode, &auxv_base, &sysinfo);
	proxy_find_all(memfd, &m, proxies);
	n = proc_tids(pid, tids, TARGET_MAX_THREADS);
	shared_err = mmshare_scan(pid, 0, sh);
	if (policy_recheck(pid, x->pidfd))
		remap_refuse(x, ESRCH, "process %d exited while it was read", (int)pid);

	out_obj_begin(NULL);
	out_int("pid", pid);
	out_str("command", comm);
	out_str("mode", mode_name(mode));
	out_str("vdso_type", vdso_type_name(type));
	if (b.nvmas)
		out_hex("base", b.base);
	else
		out_null("base");
	if (auxv_base)
		out_hex("auxv_base", auxv_base);
	else
		out_null("auxv_base");
	out_bool("moved", b.nvmas && auxv_base && auxv_base != b.base);
	out_arr_begin("block");
	for (int i = 0; i < b.nvmas; i++) {
		out_obj_begin(NULL);
		out_hex("start", b.vma[i].start);
		out_hex("end", b.vma[i].end);
		out_int("size", (long long)(b.vma[i].end - b.vma[i].start));
		out_str("perms", b.vma[i].perms);
		out_str("name", b.vma[i].name);
		out_obj_end();
	}
	out_arr_end();
	out_arr_begin("proxies");
	for (int i = 0; i < proxies->n; i++) {
		unsigned char *p = read_image(memfd, proxies->base[i], proxies->size[i]);
		struct vdso_elf pe;
		unsigned long to = 0;

		if (p && vdso_elf_parse(p, proxies->size[i], &pe) == 0)
			to = proxy_target(p, proxies->size[i], &pe, proxies->base[i]);
		free(p);
		out_obj_begin(NULL);
		out_hex("base", proxies->base[i]);
		out_int("size", (long long)proxies->size[i]);
		if (to)
			out_hex("target", to);
		else
			out_null("target");
		out_obj_end();
	}
	out_arr_end();
	if (shared_err) {
		out_null("shared_mm_with");
	} else {
		out_arr_begin("shared_mm_with");
		for (int i = 0; i < sh->n && i < MMSHARE_LIST; i++)
			out_int(NULL, sh->pid[i]);
		out_arr_end();
	}
	out_arr_begin("threads");
	for (int i = 0; i < n; i++) {
		char state = '?', where[32];
		unsigned long ip = 0;
		long nr = -2;

		proc_thread_state(pid, tids[i], &state);
		proc_thread_syscall(pid, tids[i], &nr, &ip);
		if (nr >= 0)
			snprintf(where, sizeof(where), "syscall %ld", nr);
		else
			snprintf(where, sizeof(where), "%s", nr == -1 ? "user" : "running");
		out_obj_begin(NULL);
		out_int("tid", tids[i]);
		out_str("state", (char[2]){ state, 0 });
		if (nr == -2)
			out_null("ip");
		else
			out_hex("ip", ip);
		out_bool("in_vdso", b.nvmas && nr != -2 && ip >= b.vvar_start && ip < b.end);
		out_str("where", where);
		out_obj_end();
	}
	out_arr_end();
	out_obj_begin("policy");
	out_bool("allowed", v.allowed);
	out_str("reason", v.reason);
	out_obj_end();
	out_obj_end();
	maps_free(&m);
	free(tids);
	remap_ctx_free(x);
	out_flush();
}
