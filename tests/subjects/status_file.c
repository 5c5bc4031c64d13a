// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>
#include "status_file.h"

struct subject_status *open_status(const char *prog, const char *path)
{
	struct subject_status *s;
	void *p;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		fprintf(stderr, "%s: cannot create status file %s: %s\n", prog,
			path, strerror(errno));
		exit(2);
	}
	if (ftruncate(fd, STATUS_SIZE)) {
		fprintf(stderr, "%s: ftruncate %s: %s\n", prog, path,
			strerror(errno));
		exit(2);
	}
	p = mmap(NULL, STATUS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "%s: mmap %s: %s\n", prog, path, strerror(errno));
		exit(2);
	}
	close(fd);
	s = p;
	memcpy(s->magic, "VDSOSUBJ", 8);
	s->version = STATUS_VERSION;
	s->pid = (uint32_t)getpid();
	s->mode = SUBJECT_MODE;
	ST_SET(s->vdso_base, (uint64_t)getauxval(AT_SYSINFO_EHDR));
	return s;
}
