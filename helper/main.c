// SPDX-License-Identifier: GPL-2.0-only
/*
 * helper/main.c: vdso-helper's command line.
 *
 *   info   [--type T]
 *   image  --type T [-o FILE]
 *   show   --pid P
 *   remap  --pid P (--addr A | --auto) [--type T] [--no-proxy] [--force] [--dry-run]
 *   exec   [--vdso-addr A] -- PROGRAM ARGS...
 * Every command takes --json and --help. See vdso-helper(8).
 *
 * One table (commands[]) says for each command its synopsis, the options it
 * takes and the function that checks what it needs and runs it; usage, the
 * per-command --help and the refusal of options a command does not take all
 * come from it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "audit.h"
#include "cmds.h"
#include "out.h"
#include "parse.h"
#include "policy.h"
#include "remap.h"
#include "vdso_type.h"

#define VERSION "0.1.0"

/* The options, as bits of what a command takes and what was given. */
enum opt {
	OPT_PID = 1 << 0, OPT_TYPE = 1 << 1, OPT_ADDR = 1 << 2, OPT_AUTO = 1 << 3,
	OPT_NO_PROXY = 1 << 4, OPT_FORCE = 1 << 5, OPT_DRY_RUN = 1 << 6, OPT_OUTPUT = 1 << 7,
};
/* In this order a command is told which option it does not take. */
static const struct { enum opt bit; const char *name; } opt_names[] = {
	{ OPT_PID, "pid" }, { OPT_TYPE, "type" }, { OPT_ADDR, "addr" }, { OPT_AUTO, "auto" },
	{ OPT_NO_PROXY, "no-proxy" }, { OPT_FORCE, "force" }, { OPT_DRY_RUN, "dry-run" },
	{ OPT_OUTPUT, "o" },
};

struct opts {
	int json;
	unsigned given;		/* enum opt bits */
	pid_t pid;
	int type;
	unsigned long addr;
	const char *out_file;
	char **rest;		/* exec: PROGRAM ARGS... */
};

struct command {
	const char *name;
	const char *synopsis;	/* the options, after the name */
	const char *summary;
	unsigned takes;		/* enum opt bits */
	const char *addr_opt;	/* how --addr is spelled for it */
	int (*run)(const struct caller *c, const struct opts *o);
};

/*
 * The stack the commands that act on a process need at least. Measured
 * with a hard RLIMIT_STACK (prlimit --stack=N:N, argv and environment
 * included): remap and show work from 24 KiB and die by SIGSEGV at 20 KiB,
 * after the target is seized; exec (its auxv copy of 64 KiB) works from 80
 * KiB and dies at 72 KiB. 128 KiB leaves room over the deepest of them;
 * sanitize_process() has raised the soft limit to the hard one already.
 */
#define STACK_NEED (128 * 1024)

static void check_stack(const char *cmd)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < STACK_NEED)
		die(ENOMEM, "the stack limit (RLIMIT_STACK) is %lu KiB, below the %d KiB of stack "
		    "memory %s needs; nothing was touched", (unsigned long)(rl.rlim_cur / 1024),
		    STACK_NEED / 1024, cmd);
}

static int drop_or_die(const struct caller *c)
{
	int err = drop_privileges(c);

	if (err)
		die(EPERM, "cannot drop privileges: %s", strerror(-err));
	return 0;
}

static int run_info(const struct caller *c, const struct opts *o)
{
	drop_or_die(c);
	cmd_info(o->given & OPT_TYPE ? o->type : VDSO_TYPE_UNKNOWN);
	return 0;
}

static int run_image(const struct caller *c, const struct opts *o)
{
	if (!(o->given & OPT_TYPE))
		usage_error("image needs --type");
	drop_or_die(c);
	cmd_image(o->type, o->out_file);
	return 0;
}

static int run_show(const struct caller *c, const struct opts *o)
{
	if (!(o->given & OPT_PID))
		usage_error("show needs --pid");
	check_stack("show");
	cmd_show(c, o->pid);
	return 0;
}

static int run_remap(const struct caller *c, const struct opts *o)
{
	struct remap_req r = {
		.pid = o->pid, .have_addr = !!(o->given & OPT_ADDR),
		.auto_addr = !!(o->given & OPT_AUTO), .addr = o->addr,
		.type = o->given & OPT_TYPE ? o->type : VDSO_TYPE_UNKNOWN,
		.no_proxy = !!(o->given & OPT_NO_PROXY), .force = !!(o->given & OPT_FORCE),
		.dry_run = !!(o->given & OPT_DRY_RUN),
	};

	if (!(o->given & OPT_PID))
		usage_error("remap needs --pid");
	if (r.have_addr == r.auto_addr)
		usage_error("remap needs exactly one of --addr A and --auto");
	check_stack("remap");
	cmd_remap(c, &r);
	return 0;
}

static int run_exec(const struct caller *c, const struct opts *o)
{
	if (!o->rest || !o->rest[0])
		usage_error("exec needs -- PROGRAM [ARGS...]");
	check_stack("exec");
	cmd_exec(c, !!(o->given & OPT_ADDR), o->addr, o->rest);
	return 0;
}

static const struct command commands[] = {
	{ "info", "[--type T]", "layout of each vdso type on this kernel",
	  OPT_TYPE, "--addr", run_info },
	{ "image", "--type T [-o FILE]", "raw ELF image of a vdso type",
	  OPT_TYPE | OPT_OUTPUT, "--addr", run_image },
	{ "show", "--pid P", "a process's vdso block, proxies and threads",
	  OPT_PID, "--addr", run_show },
	{ "remap", "--pid P (--addr A | --auto) [--type T] [--no-proxy] [--force] [--dry-run]",
	  "move a live process's vdso or switch its type",
	  OPT_PID | OPT_TYPE | OPT_ADDR | OPT_AUTO | OPT_NO_PROXY | OPT_FORCE | OPT_DRY_RUN,
	  "--addr", run_remap },
	{ "exec", "[--vdso-addr A] -- PROGRAM ARGS", "run PROGRAM with its vdso at A",
	  OPT_ADDR, "--vdso-addr", run_exec },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char usage_tail[] = "types: i386, x86_64, x32 (or 0, 1, 2); addresses: 0x-hex or decimal\n";

/* Append to @buf (of @size bytes, holding *@n): cut short rather than overflow. */
static void __attribute__((format(printf, 4, 5)))
append(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*n >= size)
		return;
	va_start(ap, fmt);
	k = vsnprintf(buf + *n, size - *n, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n += (size_t)k;
}

/* The whole usage (@cmd NULL), or one command's; NUL-terminated in @buf. */
static const char *usage(const struct command *cmd, char *buf, size_t size)
{
	size_t n = 0;

	if (cmd) {
		append(buf, size, &n, "usage: vdso-helper %s %s [--json]\n  %s\n%s", cmd->name,
		       cmd->synopsis, cmd->summary, usage_tail);
		return buf;
	}
	append(buf, size, &n, "usage: vdso-helper COMMAND [OPTIONS] [--json]\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *c = &commands[i];
		int w = 9 + (int)strlen(c->synopsis);

		/* the summary in column 40 (or two columns on), or there on the next line */
		append(buf, size, &n, "  %-6s %s", c->name, c->synopsis);
		if (w <= 44)
			append(buf, size, &n, "%*s%s\n", w <= 38 ? 40 - w : 2, "", c->summary);
		else
			append(buf, size, &n, "\n%40s%s\n", "", c->summary);
	}
	append(buf, size, &n, "%s", usage_tail);
	return buf;
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
static void parse_opts(const struct command *cmd, int first, int argc, char **argv, struct opts *o)
{
	int is_exec = cmd->run == run_exec;

	for (int i = first + 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int err;

		if (strcmp(a, "--json") == 0) {
			o->json = 1;
		} else if ((v = opt_value(argc, argv, &i, "--pid"))) {
			if ((err = parse_pid(v, &o->pid)))
				usage_error("bad pid '%.40s': %s", v, err == -ERANGE ? "out of range" : "not a pid");
			o->given |= OPT_PID;
		} else if ((v = opt_value(argc, argv, &i, "--type"))) {
			if (parse_vdso_type(v, &o->type))
				usage_error("bad type '%.40s' (want i386, x86_64 or x32)", v);
			o->given |= OPT_TYPE;
		} else if ((v = opt_value(argc, argv, &i, cmd->addr_opt))) {
			if ((err = parse_addr(v, &o->addr)))
				usage_error("bad address '%.40s': %s", v, err == -ERANGE ? "out of range" : "not a number");
			o->given |= OPT_ADDR;
		} else if (!is_exec && strcmp(a, "--auto") == 0) {
			o->given |= OPT_AUTO;
		} else if (strcmp(a, "--no-proxy") == 0) {
			o->given |= OPT_NO_PROXY;
		} else if (strcmp(a, "--force") == 0) {
			o->given |= OPT_FORCE;
		} else if (strcmp(a, "--dry-run") == 0) {
			o->given |= OPT_DRY_RUN;
		} else if ((v = opt_value(argc, argv, &i, "-o")) || (v = opt_value(argc, argv, &i, "--output"))) {
			o->out_file = v;
			o->given |= OPT_OUTPUT;
		} else if (is_exec && strcmp(a, "--") == 0) {
			o->rest = &argv[i + 1];
			return;
		} else {
			usage_error("%s: unknown option '%.60s'", cmd->name, a);
		}
	}
	/* options that a command does not take are refused, not ignored */
	for (size_t k = 0; k < sizeof(opt_names) / sizeof(opt_names[0]); k++)
		if (o->given & opt_names[k].bit & ~cmd->takes)
			usage_error("%s does not take --%s", cmd->name, opt_names[k].name);
}

/* --help or -h among a command's own arguments (for exec: before its "--")? */
static int wants_help(int first, int argc, char **argv)
{
	for (int i = first + 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .type = VDSO_TYPE_UNKNOWN };
	const struct command *cmd = NULL;
	char text[1024];
	struct caller c;
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
	if (strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0 ||
	    strcmp(argv[first], "help") == 0) {
		usage(NULL, text, sizeof(text));
		return print_text(text, "usage", text);
	}
	if (strcmp(argv[first], "--version") == 0)
		return print_text("vdso-helper " VERSION "\n", "version", VERSION);
	for (size_t i = 0; i < NCOMMANDS && !cmd; i++)
		if (strcmp(argv[first], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd)
		usage_error("unknown command '%.40s' (try --help)", argv[first]);
	if (wants_help(first, argc, argv)) {
		usage(cmd, text, sizeof(text));
		return print_text(text, "usage", text);
	}
	parse_opts(cmd, first, argc, argv, &o);
	return cmd->run(&c, &o);
}
