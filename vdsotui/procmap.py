"""The vdso block through the PROCMAP_QUERY ioctl on /proc/PID/maps (Linux 6.11+).

Parsing the maps text costs the kernel a line per mapping; the ioctl asks for
the few mappings that matter: every executable one (the [vdso] text and the
anonymous ones where proxies can be), then the [vvar*] mappings next to the
text. The answers equal `procread.parse_maps_block` and `parse_anon_exec` on
the text, except where the block is not in one piece: `read_block` then says
so, and the caller parses the text (see `MapsQuery.block`).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import struct

from vdsotui.model import Mapping, VdsoBlock
from vdsotui.procread import ProcDir

# include/uapi/linux/fs.h
_FMT = "<QQQQQQQQQIIIIQQ"
_SIZE = struct.calcsize(_FMT)
PROCMAP_QUERY = (3 << 30) | (_SIZE << 16) | (ord("f") << 8) | 17  # _IOWR('f', 17, ...)
_READABLE = 0x01
_WRITABLE = 0x02
_EXECUTABLE = 0x04
_SHARED = 0x08
_COVERING_OR_NEXT = 0x10

_NAME_MAX = 4096  # PATH_MAX: the kernel answers E2BIG beyond the buffer


class Unsupported(Exception):
    """This kernel has no PROCMAP_QUERY: parse the maps text instead."""


class Split(Exception):
    """The block is not in one piece around its text: parse the maps text."""


def _perms(flags: int) -> str:
    return (
        ("r" if flags & _READABLE else "-")
        + ("w" if flags & _WRITABLE else "-")
        + ("x" if flags & _EXECUTABLE else "-")
        + ("s" if flags & _SHARED else "p")
    )


# Byte offsets in struct procmap_query: what a query sets, and what it reads back.
_IN_AT = 8  # query_flags, query_addr
_OUT_AT = 24  # vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode
_NAME_SIZE_AT = struct.calcsize(
    "<9Q2I"
)  # vma_name_size: in (the buffer's size) and out (the name's)


class MapsQuery:
    """Queries on one open /proc/PID/maps; the buffers are reused across calls."""

    __slots__ = ("_fd", "_name", "_named", "_plain")

    def __init__(self) -> None:
        self._name = ctypes.create_string_buffer(_NAME_MAX)
        # Two requests built once: with the name asked for, and without.
        self._plain = bytearray(_SIZE)
        struct.pack_into("<Q", self._plain, 0, _SIZE)
        self._named = bytearray(_SIZE)
        struct.pack_into(_FMT, self._named, 0, _SIZE, *[0] * 10, _NAME_MAX, 0,
                         ctypes.addressof(self._name), 0)  # fmt: skip
        self._fd = -1

    def open(self, proc: ProcDir) -> None:
        """Open the process's maps: OSError as for reading it (EACCES, ENOENT)."""
        self._fd = proc.open("maps")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def query(self, addr: int, flags: int, name: bool) -> tuple[int, int, int, int, str] | None:
        """(start, end, flags, inode, name) of the mapping the query matches, or None.

        Raises Unsupported on a kernel without the ioctl, and ProcessLookupError
        when the process has no address space (exited, or a kernel thread).
        """
        buf = self._named if name else self._plain
        struct.pack_into("<QQ", buf, _IN_AT, flags, addr)
        if name:
            struct.pack_into("<I", buf, _NAME_SIZE_AT, _NAME_MAX)
        try:
            fcntl.ioctl(self._fd, PROCMAP_QUERY, buf)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            if exc.errno in (errno.ENOTTY, errno.EINVAL):
                raise Unsupported from None
            raise
        start, end, vma_flags, _, _, inode = struct.unpack_from("<6Q", buf, _OUT_AT)
        text = ""
        if name:
            size = struct.unpack_from("<I", buf, _NAME_SIZE_AT)[0]
            if size:
                text = self._name.raw[: size - 1].decode()
        return start, end, vma_flags, inode, text

    def mapping_at(self, addr: int) -> Mapping | None:
        """The named mapping covering `addr`, as a maps line would show it."""
        hit = self.query(addr, 0, True)
        if hit is None:
            return None
        start, end, flags, _, name = hit
        return Mapping(start, end, _perms(flags), name)

    def read_block(self, vvars: int) -> tuple[VdsoBlock | None, tuple[int, ...], bool]:
        """The vdso block, the anonymous executable mappings, and whether there is
        an address space: what `procread.read_maps` answers from the text.

        `vvars` is how many [vvar*] mappings a whole block has on this kernel;
        a different count next to the text raises Split, as does a process
        with no [vdso] (its [vvar] may still be somewhere).
        """
        text: Mapping | None = None
        anon: list[int] = []
        addr = 0
        try:
            hit = self.query(addr, _COVERING_OR_NEXT | _EXECUTABLE, False)
        except ProcessLookupError:
            return None, (), False
        while hit is not None:
            start, end, _, inode, _ = hit
            # File-backed mappings are neither the text nor a proxy: no name asked.
            if inode == 0:
                named = self.query(start, 0, True)
                if named is not None:
                    name = named[4]
                    if name == "[vdso]":
                        text = Mapping(start, end, _perms(named[2]), name)
                    elif _perms(named[2]) == "r-xp" and (not name or name.startswith("[anon:")):
                        anon.append(start)
            hit = self.query(end, _COVERING_OR_NEXT | _EXECUTABLE, False)
        if text is None:
            raise Split
        # The kernel puts them before the text; after it is only looked at
        # when some are missing there.
        before: list[Mapping] = []
        at = text.start
        while (
            len(before) < vvars
            and at
            and (m := self.mapping_at(at - 1)) is not None
            and m.name.startswith("[vvar")
        ):
            before.append(m)
            at = m.start
        after: list[Mapping] = []
        at = text.end
        while (
            len(before) + len(after) < vvars
            and (m := self.mapping_at(at)) is not None
            and m.name.startswith("[vvar")
        ):
            after.append(m)
            at = m.end
        if len(before) + len(after) != vvars:
            raise Split
        before.reverse()
        return VdsoBlock((*before, text, *after)), tuple(anon), True
