/* SPDX-License-Identifier: GPL-2.0 */
/* Creating the status file of a glibc subject (docs/protocol.md). */
#ifndef STATUS_FILE_H
#define STATUS_FILE_H

#include "status.h"

/*
 * Creates path, maps it shared and fills in the header (magic, version,
 * pid, mode, vdso_base from AT_SYSINFO_EHDR). On failure prints
 * "prog: ..." and exits 2, as for any bad usage.
 */
struct subject_status *open_status(const char *prog, const char *path);

#endif
