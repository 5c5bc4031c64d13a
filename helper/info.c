// SPDX-License-Identifier: GPL-2.0-only
/* helper/info.c: the info and image commands (no target, no privilege). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmds.h"
#include "layout.h"
#include "out.h"
#include "vdso_type.h"

void cmd_info(int type)
{
	struct utsname u;

	uname(&u);
	out_obj_begin(NULL);
	out_str("kernel", u.release);
	out_bool("syscalls", kernel_has_vdso_syscalls());
	out_arr_begin("types");
	for (int t = 0; t < VDSO_NTYPES; t++) {
		struct layout l;
		int err;

		if (type != VDSO_TYPE_UNKNOWN && t != type)
			continue;
		err = layout_get(t, &l, NULL, NULL);
		if (err)
			die(-err, "%s", l.reason);
		out_obj_begin(NULL);
		out_str("type", vdso_type_name(t));
		out_int("id", t);
		out_bool("available", l.available);
		out_str("source", l.from_syscall ? "syscall" : "probe");
		if (l.available) {
			out_int("space_needed_before", (long long)l.before);
			out_int("space_needed_after", (long long)l.after);
			out_int("alignment", (long long)l.alignment);
		} else {
			out_null("space_needed_before");
			out_null("space_needed_after");
			out_null("alignment");
		}
		if (l.vvar_vmas >= 0)
			out_int("vvar_vmas", l.vvar_vmas);
		else
			out_null("vvar_vmas");
		out_str("reason", l.available ? NULL : l.reason);
		out_obj_end();
	}
	out_arr_end();
	out_obj_end();
	out_flush();
}

void cmd_image(int type, const char *file)
{
	unsigned char *img = NULL;
	struct layout l;
	size_t len = 0, off = 0;
	int fd = STDOUT_FILENO, err;

	err = layout_get(type, &l, &img, &len);
	if (err)
		die(-err, "%s", l.reason);
	if (!img) {
		if (!l.available)
			die(EOPNOTSUPP, "%s", l.reason);
		die(EIO, "cannot read the %s vdso image", vdso_type_name(type));
	}
	if (file) {
		/* the caller's own file, created with the caller's rights (privilege is dropped) */
		fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			die(errno, "cannot write %s: %s", file, strerror(errno));
	} else if (out_is_json()) {
		die(EINVAL, "--json needs -o FILE (the image is binary)");
	}
	while (off < len) {
		ssize_t w = write(fd, img + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(EIO, "short write of the image: %s", strerror(errno));
		off += (size_t)w;
	}
	if (file && close(fd) < 0)
		die(EIO, "cannot write %s: %s", file, strerror(errno));
	free(img);
	if (file) {
		out_obj_begin(NULL);
		out_str("type", vdso_type_name(type));
		out_int("size", (long long)len);
		out_str("path", file);
		out_obj_end();
		out_flush();
	}
}
