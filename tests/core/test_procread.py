"""Parsers of /proc text and ELF headers, on crafted and on real input."""

from __future__ import annotations

import os
import struct

import pytest

from vdsotui import elfident, elfinfo, procread
from vdsotui.model import Mode, VdsoType

MAPS_7X = b"""\
55d0c0a00000-55d0c0a02000 r--p 00000000 fe:01 1234  /usr/bin/sleep
7ffd1c1f0000-7ffd1c211000 rw-p 00000000 00:00 0     [stack]
7ffd1c3e6000-7ffd1c3ea000 r--p 00000000 00:00 0     [vvar]
7ffd1c3ea000-7ffd1c3ec000 r--p 00000000 00:00 0     [vvar_vclock]
7ffd1c3ec000-7ffd1c3ee000 r-xp 00000000 00:00 0     [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]
"""

MAPS_612 = b"""\
f7f8a000-f7f8e000 r--p 00000000 00:00 0 [vvar]
f7f8e000-f7f90000 r-xp 00000000 00:00 0 [vdso]
ff9c1000-ff9e2000 rw-p 00000000 00:00 0 [stack]"""  # no trailing newline

# A file whose name mimics the vdso must not count: its inode is not 0.
MAPS_DECOY = b"""\
7f0000000000-7f0000001000 r-xp 00000000 fe:01 99 /tmp/x [vdso]
7f0000002000-7f0000003000 r-xp 00000000 fe:01 98 /tmp/[vdso]
"""


def test_block_with_two_vvar_mappings() -> None:
    block = procread.parse_maps_block(MAPS_7X)
    assert block is not None
    assert [m.name for m in block.mappings] == ["[vvar]", "[vvar_vclock]", "[vdso]"]
    assert block.base == 0x7FFD1C3EC000
    assert block.vvar_start == 0x7FFD1C3E6000
    assert block.space_before == 0x6000
    assert block.size == 0x8000
    assert block.text is not None and block.text.perms == "r-xp"


def test_block_with_one_vvar_and_no_trailing_newline() -> None:
    block = procread.parse_maps_block(MAPS_612)
    assert block is not None
    assert [m.name for m in block.mappings] == ["[vvar]", "[vdso]"]
    assert block.base == 0xF7F8E000
    assert block.space_before == 0x4000


def test_no_block_and_decoys() -> None:
    assert procread.parse_maps_block(b"") is None
    assert procread.parse_maps_block(MAPS_DECOY) is None


def test_block_without_text_has_no_base() -> None:
    block = procread.parse_maps_block(b"7f00-7f10 r--p 00000000 00:00 0 [vvar]\n")
    assert block is not None and block.base is None and block.vvar_start == 0x7F00


def test_stat_with_hostile_command_name() -> None:
    fields = " ".join(["S", "42"] + [str(n) for n in range(5, 53)])
    raw = f"1234 (a) (b c)) {fields}\n".encode()
    st = procread.parse_stat(raw)
    assert st.comm == "a) (b c)"
    assert st.state == "S"
    assert st.ppid == 42
    assert st.flags == 9  # field 9
    assert st.threads == 20  # field 20
    assert st.starttime == 22  # field 22


def test_stat_of_self_and_kernel_thread() -> None:
    me = procread.read_stat(os.getpid())
    assert me.ppid == os.getppid()
    assert not me.kernel_thread
    assert procread.read_stat(2).kernel_thread  # kthreadd


@pytest.mark.parametrize(("word", "fmt"), [(8, "<QQ"), (4, "<II")])
def test_auxv(word: int, fmt: str) -> None:
    entries = [(6, 4096), (33, 0xF7F8E000), (32, 0xF7F8E570), (0, 0), (33, 1)]
    data = b"".join(struct.pack(fmt, k, v) for k, v in entries)
    aux = procread.parse_auxv(data, word)
    assert aux.sysinfo_ehdr == 0xF7F8E000
    assert aux.sysinfo == 0xF7F8E570  # and the entry after AT_NULL is ignored


def test_auxv_of_self_matches_kernel_base() -> None:
    aux = procread.read_auxv(os.getpid(), 8)
    block, has_mm = procread.read_maps_block(os.getpid())
    assert has_mm and block is not None
    assert aux.sysinfo_ehdr == block.base


def _header(cls: int, machine: int) -> bytes:
    return b"\x7fELF" + bytes([cls, 1, 1]) + bytes(11) + struct.pack("<H", machine)


@pytest.mark.parametrize(
    ("cls", "machine", "mode"),
    [(2, 62, Mode.X86_64), (1, 3, Mode.I386), (1, 62, Mode.X32), (2, 183, Mode.UNKNOWN)],
)
def test_mode_of_headers(cls: int, machine: int, mode: Mode) -> None:
    assert elfident.mode_of(_header(cls, machine)) is mode


def test_mode_of_garbage() -> None:
    assert elfident.mode_of(b"#!/bin/sh\n" + bytes(20)) is Mode.UNKNOWN
    assert elfident.mode_of(b"") is Mode.UNKNOWN


def test_proxy_mark() -> None:
    plain = _header(2, 62)
    marked = plain[:9] + elfident.PROXY_MARK + plain[16:]
    assert not elfident.has_proxy_mark(plain)
    assert elfident.has_proxy_mark(marked)
    assert elfident.vdso_type_of(marked) is VdsoType.X86_64


@pytest.mark.parametrize("signature", [b"CRIUvDSO", b"criuvDSO", b"criuvdso"])
def test_criu_mark(signature: bytes) -> None:
    """CRIU's struct vdso_mark over a running vdso's header names its proxy."""
    mark = signature + (0x7F0000001000).to_bytes(8, "little") + (3).to_bytes(8, "little")
    assert elfident.criu_proxy_of(mark) == 0x7F0000001000
    assert elfident.criu_proxy_of(_header(2, 62)) is None
    assert elfident.criu_proxy_of(b"CRIUvDS0" + mark[8:]) is None
    assert elfident.criu_proxy_of(signature + bytes(8)) is None
    assert elfident.criu_proxy_of(signature) is None


def test_image_facts_of_own_vdso() -> None:
    """The host's real 64-bit image, read from our own memory."""
    block, _ = procread.read_maps_block(os.getpid())
    assert block is not None and block.text is not None
    image = procread.read_mem(os.getpid(), block.text.start, block.text.size)
    facts = elfinfo.image_facts(image)
    assert facts.elf_class == 64
    assert facts.vdso_type is VdsoType.X86_64
    assert facts.soname == "linux-vdso.so.1"
    assert facts.build_id is not None and len(facts.build_id) >= 16
    names = {s.name: s for s in facts.symbols}
    cgt = names["__vdso_clock_gettime"]
    assert cgt.kind == "FUNC" and cgt.version == "LINUX_2.6"
    assert 0 < cgt.address < facts.size and cgt.size > 0
    assert not facts.proxy_mark


def test_image_facts_rejects_non_elf() -> None:
    with pytest.raises(ValueError, match="not an ELF"):
        elfinfo.image_facts(b"\0" * 64)
