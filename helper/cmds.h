/* SPDX-License-Identifier: GPL-2.0-only */
/* helper/cmds.h: the commands that need no target: info, image, exec. */
#ifndef VDSO_HELPER_CMDS_H
#define VDSO_HELPER_CMDS_H

struct caller;

void cmd_info(int type);			/* VDSO_TYPE_UNKNOWN: every type */
void cmd_image(int type, const char *file);	/* file NULL: stdout */
void cmd_exec(const struct caller *c, int have_addr, unsigned long addr, char **argv);

#endif
