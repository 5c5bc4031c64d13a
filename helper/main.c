// SPDX-License-Identifier: GPL-2.0-only
/*
 * helper/main.c: vdso-helper's command line.
 *
 *   info   [--type T]
 *   image  --type T [-o FILE]
 *   show   --pid P
 *   remap  --pid P (--addr A | --auto) [--type T] [--no-proxy] [--force] [--dry-run]
 *   exec   [--vdso-addr A] -- PROGRAM ARGS...
 * Every command takes --json. See vdso-helper(8).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cmds.h"
#include "out.h"
#include "parse.h"
#include "policy.h"
#include "remap.h"
#include "vdso_type.h"

#define VERSION "0.1.0"

static const char usage_text[] =
	"usage: vdso-helper COMMAND [OPTIONS] [--json]\n"
	"  info   [--type T]                     layout of each vdso type on this kernel\n"
	"  image  --type T [-o FILE]             raw ELF image of a vdso type\n"
	"  show   --pid P                        a process's vdso block, proxies and threads\n"
	"  remap  --pid P (--addr A | --auto) [--type T] [--no-proxy] [--force] [--dry-run]\n"
	"                                        move a live process's vdso or switch its type\n"
	"  exec   [--vdso-addr A] -- PROGRAM ARGS  run PROGRAM with its vdso at A\n"
	"types: i386, x86_64, x32 (or 0, 1, 2); addresses: 0x-hex or decimal\n";

struct opts {
	int json, have_pid, have_type, have_addr, auto_addr, no_proxy, force, dry_run;
	pid_t pid;
	int type;
	unsigned long addr;
	const char *out_file;
	char **rest;		/* exec: PROGRAM ARGS... */
};

/* "--name VALUE" or "--name=VALUE"; advances *i past a separate value. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		usage_error("%s needs a value", name);
	return argv[++*i];
}

/* The options after the command, argv[@first]. */
static void parse_opts(const char *cmd, int first, int argc, char **argv, struct opts *o)
{
	int is_exec = strcmp(cmd, "exec") == 0;

	for (int i = first + 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int err;

		if (strcmp(a, "--json") == 0) {
			o->json = 1;
		} else if ((v = opt_value(argc, argv, &i, "--pid"))) {
			if ((err = parse_pid(v, &o->pid)))
				usage_error("bad pid '%.40s': %s", v, err == -ERANGE ? "out of range" : "not a pid");
			o->have_pid = 1;
		} else if ((v = opt_value(argc, argv, &i, "--type"))) {
			if (parse_vdso_type(v, &o->type))
				usage_error("bad type '%.40s' (want i386, x86_64 or x32)", v);
			o->have_type = 1;
		} else if ((v = opt_value(argc, argv, &i, is_exec ? "--vdso-addr" : "--addr"))) {
			if ((err = parse_addr(v, &o->addr)))
				usage_error("bad address '%.40s': %s", v, err == -ERANGE ? "out of range" : "not a number");
			o->have_addr = 1;
		} else if (!is_exec && strcmp(a, "--auto") == 0) {
			o->auto_addr = 1;
		} else if (strcmp(a, "--no-proxy") == 0) {
			o->no_proxy = 1;
		} else if (strcmp(a, "--force") == 0) {
			o->force = 1;
		} else if (strcmp(a, "--dry-run") == 0) {
			o->dry_run = 1;
		} else if ((v = opt_value(argc, argv, &i, "-o")) || (v = opt_value(argc, argv, &i, "--output"))) {
			o->out_file = v;
		} else if (is_exec && strcmp(a, "--") == 0) {
			o->rest = &argv[i + 1];
			return;
		} else {
			usage_error("%s: unknown option '%.60s'", cmd, a);
		}
	}
}

/* Options that a command does not take are refused, not ignored. */
static void only(const char *cmd, const struct opts *o, const char *allowed)
{
	struct { int set; const char *name; } all[] = {
		{ o->have_pid, "pid" }, { o->have_type, "type" }, { o->have_addr, "addr" },
		{ o->auto_addr, "auto" }, { o->no_proxy, "no-proxy" }, { o->force, "force" },
		{ o->dry_run, "dry-run" }, { o->out_file != NULL, "o" },
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		char key[24];

		snprintf(key, sizeof(key), " %s ", all[i].name);
		if (all[i].set && !strstr(allowed, key))
			usage_error("%s does not take --%s", cmd, all[i].name);
	}
}

/*
 * --help and --version: @text, or with --json one object holding @key:
 * @value (every reply to a --json command line is JSON).
 */
static int print_text(const char *text, const char *key, const char *value)
{
	if (!out_is_json()) {
		fputs(text, stdout);
		return 0;
	}
	out_obj_begin(NULL);
	out_str(key, value);
	out_obj_end();
	out_flush();
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .type = VDSO_TYPE_UNKNOWN };
	struct caller c;
	const char *cmd;
	int err, first = 1;

	sanitize_process();
	/*
	 * --json anywhere (before an exec's "--") selects JSON for everything
	 * printed from here on, the first error included.
	 */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			o.json = 1;
	out_init(o.json);
	err = caller_init(&c);
	if (err)
		die(err == -ENOMEM ? ENOMEM : EPERM, "cannot read the caller's ids and groups: %s",
		    strerror(-err));
	audit_open();
	policy_load_config(NULL);
	/* the command is the first argument that is not --json */
	while (first < argc && strcmp(argv[first], "--json") == 0)
		first++;
	if (first >= argc)
		usage_error("no command (try --help)");
	cmd = argv[first];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
		return print_text(usage_text, "usage", usage_text);
	if (strcmp(cmd, "--version") == 0)
		return print_text("vdso-helper " VERSION "\n", "version", VERSION);
	parse_opts(cmd, first, argc, argv, &o);

	if (strcmp(cmd, "info") == 0 || strcmp(cmd, "image") == 0) {
		int is_info = cmd[1] == 'n';

		only(cmd, &o, is_info ? " type " : " type o ");
		if (!is_info && !o.have_type)
			usage_error("image needs --type");
		err = drop_privileges(&c);
		if (err)
			die(EPERM, "cannot drop privileges: %s", strerror(-err));
		if (is_info)
			cmd_info(o.have_type ? o.type : VDSO_TYPE_UNKNOWN);
		else
			cmd_image(o.type, o.out_file);
		return 0;
	}
	if (strcmp(cmd, "show") == 0) {
		only(cmd, &o, " pid ");
		if (!o.have_pid)
			usage_error("show needs --pid");
		cmd_show(&c, o.pid);
		return 0;
	}
	if (strcmp(cmd, "remap") == 0) {
		struct remap_req r = {
			.pid = o.pid, .have_addr = o.have_addr, .auto_addr = o.auto_addr,
			.addr = o.addr, .type = o.have_type ? o.type : VDSO_TYPE_UNKNOWN,
			.no_proxy = o.no_proxy, .force = o.force, .dry_run = o.dry_run,
		};

		only(cmd, &o, " pid type addr auto no-proxy force dry-run ");
		if (!o.have_pid)
			usage_error("remap needs --pid");
		if (o.have_addr == o.auto_addr)
			usage_error("remap needs exactly one of --addr A and --auto");
		cmd_remap(&c, &r);
		return 0;
	}
	if (strcmp(cmd, "exec") == 0) {
		only(cmd, &o, " addr ");
		if (!o.rest || !o.rest[0])
			usage_error("exec needs -- PROGRAM [ARGS...]");
		cmd_exec(&c, o.have_addr, o.addr, o.rest);
		return 0;
	}
	usage_error("unknown command '%.40s' (try --help)", cmd);
}
