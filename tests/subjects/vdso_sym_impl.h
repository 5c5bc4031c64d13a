/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Class-specific half of vdso_sym.c, included once per ELF class with
 * W(x) naming the Elf32_/Elf64_ type and FN(x) the function suffix.
 */

static int FN(parse)(struct vdso_image *img, uintptr_t base)
{
	const W(Ehdr) *eh = (const W(Ehdr) *)base;
	const W(Phdr) *ph = (const W(Phdr) *)(base + (uintptr_t)eh->e_phoff);
	const W(Dyn) *dyn = 0;
	uintptr_t hash = 0, gnuhash = 0;
	int found_load = 0;

	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !found_load) {
			img->load_offset = base + (uintptr_t)ph[i].p_offset -
					   (uintptr_t)ph[i].p_vaddr;
			found_load = 1;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const W(Dyn) *)(base + (uintptr_t)ph[i].p_offset);
		}
	}
	if (!found_load || !dyn)
		return -1;

	for (; dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t p = img->load_offset + (uintptr_t)dyn->d_un.d_ptr;

		switch (dyn->d_tag) {
		case DT_SYMTAB: img->symtab = p; break;
		case DT_STRTAB: img->strtab = p; break;
		case DT_HASH: hash = p; break;
		case DT_GNU_HASH: gnuhash = p; break;
		case DT_VERSYM: img->versym = p; break;
		case DT_VERDEF: img->verdef = p; break;
		}
	}
	if (!img->symtab || !img->strtab)
		return -1;

	if (hash) {
		/* nchain of the SysV hash table is the symbol count */
		img->nsyms = ((const uint32_t *)hash)[1];
	} else if (gnuhash) {
		/* walk the last chain of the GNU hash table to its end */
		const uint32_t *gh = (const uint32_t *)gnuhash;
		uint32_t nbuckets = gh[0], symoffset = gh[1];
		uint32_t bloom_size = gh[2];
		const uint32_t *buckets = gh + 4 + bloom_size * (sizeof(W(Addr)) / 4);
		const uint32_t *chain = buckets + nbuckets;
		uint32_t last = 0;

		for (uint32_t b = 0; b < nbuckets; b++)
			if (buckets[b] > last)
				last = buckets[b];
		if (last >= symoffset)
			while (!(chain[last - symoffset] & 1))
				last++;
		img->nsyms = last + 1;
	} else {
		return -1;
	}
	return 0;
}

static const char *FN(version_of)(const struct vdso_image *img, uint32_t idx)
{
	const W(Verdef) *vd;
	uint16_t ver;

	if (!img->versym || !img->verdef)
		return 0;
	ver = ((const uint16_t *)img->versym)[idx] & 0x7fff;
	vd = (const W(Verdef) *)img->verdef;
	for (;;) {
		if (!(vd->vd_flags & VER_FLG_BASE) && vd->vd_ndx == ver) {
			const W(Verdaux) *aux =
				(const W(Verdaux) *)((uintptr_t)vd + vd->vd_aux);
			return (const char *)(img->strtab + aux->vda_name);
		}
		if (!vd->vd_next)
			return 0;
		vd = (const W(Verdef) *)((uintptr_t)vd + vd->vd_next);
	}
}

static uintptr_t FN(sym)(const struct vdso_image *img, const char *version,
			 const char *name)
{
	const W(Sym) *syms = (const W(Sym) *)img->symtab;

	for (uint32_t i = 0; i < img->nsyms; i++) {
		const W(Sym) *s = &syms[i];
		unsigned int type = s->st_info & 0xf;
		unsigned int bind = s->st_info >> 4;

		if (type != STT_FUNC && type != STT_NOTYPE)
			continue;
		if (bind != STB_GLOBAL && bind != STB_WEAK)
			continue;
		if (s->st_shndx == SHN_UNDEF)
			continue;
		if (!str_eq((const char *)(img->strtab + s->st_name), name))
			continue;
		if (version) {
			const char *v = FN(version_of)(img, i);

			if (!v || !str_eq(v, version))
				continue;
		}
		return img->load_offset + (uintptr_t)s->st_value;
	}
	return 0;
}
