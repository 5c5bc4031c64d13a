// SPDX-License-Identifier: GPL-2.0-only
/*
 * impostor: run a program on a kernel where other calls hold the numbers
 * of vdso_get_info and vdso_remap.
 *
 * usage: impostor NR=ERRNO[,NR=ERRNO...] -- PROGRAM [ARG...]
 *
 * A seccomp filter makes each listed x86_64 system call return -ERRNO
 * (ERRNO 0: return 0, as a call that succeeded without touching its
 * arguments) and lets everything else through; then PROGRAM is executed
 * with the filter in force. Root only, since no_new_privs is left unset so
 * that a setuid PROGRAM keeps working.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_RULES 8

static void usage(void)
{
	fprintf(stderr, "usage: impostor NR=ERRNO[,NR=ERRNO...] -- PROGRAM [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sock_filter f[4 + 2 * MAX_RULES + 1];
	struct sock_fprog prog;
	unsigned int n = 0, rules = 0;
	char *spec, *item, *save = NULL;

	if (argc < 4 || strcmp(argv[2], "--") != 0)
		usage();
	/* Foreign architectures (int80 from a 64-bit task) pass untouched. */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	spec = argv[1];
	for (item = strtok_r(spec, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		unsigned int nr, err;
		char junk;

		if (rules == MAX_RULES || sscanf(item, "%u=%u%c", &nr, &err, &junk) != 2 ||
		    err > SECCOMP_RET_DATA)
			usage();
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err);
		rules++;
	}
	if (!rules)
		usage();
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		perror("impostor: seccomp");
		return 1;
	}
	execv(argv[3], argv + 3);
	perror("impostor: exec");
	return 127;
}
