"""The whole facts of a vdso image, from pyelftools.

Imported only where an image is inspected (the detail pane, `show`): the
scanner needs the header facts alone (`elfident`), and the CLI's start-up
does not pay for pyelftools.
"""

from __future__ import annotations

import io

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerSymSection
from elftools.elf.sections import NoteSection, SymbolTableSection

from vdsotui.elfident import classify, has_proxy_mark, vdso_type_of
from vdsotui.model import ImageFacts, Symbol


def image_facts(image: bytes) -> ImageFacts:
    """Parse a whole vdso image; raises ValueError if it is not ELF."""
    kind = classify(image)
    if kind is None:
        raise ValueError("not an ELF image")
    elf = ELFFile(io.BytesIO(image))
    return ImageFacts(
        elf_class=elf.elfclass,
        machine=str(elf["e_machine"]),
        vdso_type=vdso_type_of(image),
        soname=_soname(elf),
        build_id=_build_id(elf),
        size=len(image),
        symbols=_symbols(elf),
        proxy_mark=has_proxy_mark(image),
    )


def _soname(elf: ELFFile) -> str | None:
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            for tag in section.iter_tags():
                if tag.entry.d_tag == "DT_SONAME":
                    return str(tag.soname)  # type: ignore[attr-defined]
    return None


def _build_id(elf: ELFFile) -> str | None:
    for section in elf.iter_sections():
        if isinstance(section, NoteSection):
            for note in section.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID":
                    return str(note["n_desc"])
    return None


def _symbols(elf: ELFFile) -> tuple[Symbol, ...]:
    dynsym = elf.get_section_by_name(".dynsym")
    if not isinstance(dynsym, SymbolTableSection):
        return ()
    versions = _version_names(elf)
    versym = elf.get_section_by_name(".gnu.version")
    out = []
    for index, sym in enumerate(dynsym.iter_symbols()):
        if not sym.name or sym["st_shndx"] == "SHN_UNDEF":
            continue
        version = None
        if isinstance(versym, GNUVerSymSection):
            ndx = versym.get_symbol(index)["ndx"]
            if isinstance(ndx, int):
                version = versions.get(ndx & 0x7FFF)
        out.append(
            Symbol(
                name=sym.name,
                version=version,
                address=sym["st_value"],
                size=sym["st_size"],
                kind=str(sym["st_info"]["type"]).removeprefix("STT_"),
            )
        )
    out.sort(key=lambda s: (s.address, s.name))
    return tuple(out)


def _version_names(elf: ELFFile) -> dict[int, str]:
    verdef = elf.get_section_by_name(".gnu.version_d")
    names: dict[int, str] = {}
    if verdef is None:
        return names
    for entry, auxiliaries in verdef.iter_versions():  # type: ignore[attr-defined]
        for aux in auxiliaries:
            names[entry["vd_ndx"]] = aux.name
            break
    return names
