// SPDX-License-Identifier: GPL-2.0-only
/* helper/maps.c: /proc/PID/maps parsing and the vdso block. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "parse.h"

/* Hex number up to @stop; advances *p past it. At most 16 digits. */
static int take_hex(const char **p, char stop, unsigned long *out)
{
	unsigned long v = 0;
	int n = 0, d;

	while ((d = parse_hex_digit(**p)) >= 0) {
		if (++n > 16)
			return -EINVAL;
		v = (v << 4) | (unsigned long)d;
		(*p)++;
	}
	if (n == 0 || **p != stop)
		return -EINVAL;
	(*p)++;
	*out = v;
	return 0;
}

static int take_dec(const char **p, unsigned long *out)
{
	unsigned long v = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		if (++n > 20)
			return -EINVAL;
		if (v > (~0UL - 9) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned long)(**p - '0');
		(*p)++;
	}
	if (n == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int maps_parse_line(const char *line, struct maps_entry *e)
{
	const char *p = line;
	unsigned long major, minor;
	size_t n;

	memset(e, 0, sizeof(*e));
	if (take_hex(&p, '-', &e->start) || take_hex(&p, ' ', &e->end))
		return -EINVAL;
	if (e->start >= e->end)
		return -EINVAL;
	if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
	    (p[2] != 'x' && p[2] != '-') || (p[3] != 'p' && p[3] != 's') || p[4] != ' ')
		return -EINVAL;
	memcpy(e->perms, p, 4);
	p += 5;
	if (take_hex(&p, ' ', &e->offset) || take_hex(&p, ':', &major) ||
	    take_hex(&p, ' ', &minor))
		return -EINVAL;
	if (major > 0xfff || minor > 0xfffff)
		return -EINVAL;
	e->dev_major = (unsigned int)major;
	e->dev_minor = (unsigned int)minor;
	if (take_dec(&p, &e->inode))
		return -EINVAL;
	if (*p != ' ' && *p != '\n' && *p != '\0')
		return -EINVAL;
	while (*p == ' ')
		p++;
	n = strcspn(p, "\n");
	if (p[n] == '\n' && p[n + 1] != '\0')
		return -EINVAL;
	if (n >= MAPS_NAME_MAX)
		n = MAPS_NAME_MAX - 1;
	memcpy(e->name, p, n);
	e->name[n] = '\0';
	return 0;
}

int maps_read(pid_t pid, struct maps *m)
{
	char path[64], *line = NULL;
	size_t lcap = 0;
	int cap = 0, err = 0;
	FILE *f;

	m->n = 0;
	m->e = NULL;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &lcap, f) > 0) {
		if (m->n == cap) {
			struct maps_entry *ne;

			cap = cap ? cap * 2 : 64;
			ne = realloc(m->e, (size_t)cap * sizeof(*ne));
			if (!ne) {
				err = -ENOMEM;
				break;
			}
			m->e = ne;
		}
		if (maps_parse_line(line, &m->e[m->n]) == 0)
			m->n++;
	}
	if (ferror(f) && !err)
		err = -EIO;
	free(line);
	fclose(f);
	if (err)
		maps_free(m);
	return err;
}

void maps_free(struct maps *m)
{
	free(m->e);
	m->e = NULL;
	m->n = 0;
}

int maps_find_block(const struct maps *m, struct block *b)
{
	int i, first;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < m->n; i++)
		if (strcmp(m->e[i].name, "[vdso]") == 0)
			break;
	if (i == m->n)
		return -ENOENT;
	first = i;
	while (first > 0 && strncmp(m->e[first - 1].name, "[vvar", 5) == 0 &&
	       m->e[first - 1].end == m->e[first].start && i - first + 1 < BLOCK_MAX_VMAS)
		first--;
	b->nvmas = i - first + 1;
	memcpy(b->vma, &m->e[first], (size_t)b->nvmas * sizeof(b->vma[0]));
	b->vvar_start = m->e[first].start;
	b->base = m->e[i].start;
	b->end = m->e[i].end;
	return 0;
}

int maps_range_free(const struct maps *m, unsigned long start, unsigned long end,
		    const struct block *skip, struct maps_entry *clash)
{
	for (int i = 0; i < m->n; i++) {
		const struct maps_entry *e = &m->e[i];

		if (e->end <= start || e->start >= end)
			continue;
		if (skip && e->start >= skip->vvar_start && e->end <= skip->end)
			continue;
		if (clash)
			*clash = *e;
		return 0;
	}
	return 1;
}

const struct maps_entry *maps_find(const struct maps *m, unsigned long addr)
{
	for (int i = 0; i < m->n; i++)
		if (addr >= m->e[i].start && addr < m->e[i].end)
			return &m->e[i];
	return NULL;
}
