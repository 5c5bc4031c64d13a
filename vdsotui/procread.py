"""Raw readers for the /proc files that hold a process's vdso facts.

Each reader does the least work that answers its question: the scanner calls
them for thousands of processes per tick. They raise OSError subclasses
unchanged (FileNotFoundError/ProcessLookupError: the process is gone;
PermissionError: not ours to read) and leave the judgement to the caller.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from vdsotui.model import AuxvVdso, Mapping, VdsoBlock

_READ_CHUNK = 65536

# auxv keys (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h)
AT_NULL = 0
AT_SYSINFO = 32
AT_SYSINFO_EHDR = 33

PF_KTHREAD = 0x00200000  # include/linux/sched.h


def read_file(path: str) -> bytes:
    """Read a whole /proc file with raw syscalls (no buffering layers)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, _READ_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Stat:
    """The fields of /proc/PID/stat the scanner needs."""

    comm: str
    state: str
    ppid: int
    flags: int
    threads: int
    starttime: int  # clock ticks after boot: with the pid, names one process

    @property
    def kernel_thread(self) -> bool:
        return bool(self.flags & PF_KTHREAD)


def parse_stat(data: bytes) -> Stat:
    # comm may hold spaces and parentheses: it ends at the last ')'.
    open_paren = data.index(b"(")
    close_paren = data.rindex(b")")
    comm = data[open_paren + 1 : close_paren].decode("utf-8", "replace")
    rest = data[close_paren + 2 :].split()
    # rest[0] is field 3 (state); field N is rest[N - 3].
    return Stat(
        comm=comm,
        state=rest[0].decode(),
        ppid=int(rest[1]),
        flags=int(rest[6]),
        threads=int(rest[17]),
        starttime=int(rest[19]),
    )


def parse_cmdline(data: bytes) -> str:
    """NUL-separated arguments, joined by spaces as ps and htop show them."""
    return data.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


def read_cmdline(pid: int) -> str:
    try:
        return parse_cmdline(read_file(f"/proc/{pid}/cmdline"))
    except OSError:
        return ""  # hidepid, or exited: the scan notices the rest


def read_stat(pid: int) -> Stat:
    return parse_stat(read_file(f"/proc/{pid}/stat"))


def _is_block_name(name: bytes) -> bool:
    return name == b"[vdso]" or (name.startswith(b"[vvar") and name.endswith(b"]"))


def parse_maps_block(data: bytes) -> VdsoBlock | None:
    """Extract the vdso block from the text of /proc/PID/maps.

    Special mappings are found by their bracketed name; the inode field must
    be 0 so that a file whose path merely ends in "[vdso]" never counts.
    """
    mappings: list[Mapping] = []
    pos = data.find(b" [v")
    while pos != -1:
        line_start = data.rfind(b"\n", 0, pos) + 1
        line_end = data.find(b"\n", pos)
        if line_end == -1:
            line_end = len(data)
        fields = data[line_start:line_end].split()
        if len(fields) == 6 and fields[4] == b"0" and _is_block_name(fields[5]):
            lo, _, hi = fields[0].partition(b"-")
            mappings.append(
                Mapping(
                    start=int(lo, 16),
                    end=int(hi, 16),
                    perms=fields[1].decode(),
                    name=fields[5].decode(),
                )
            )
        pos = data.find(b" [v", line_end)
    if not mappings:
        return None
    mappings.sort(key=lambda m: m.start)
    return VdsoBlock(tuple(mappings))


# What every private anonymous executable mapping's line holds after its
# range: perms, offset, device and inode. A live move leaves its proxy in
# such a mapping; the kernel's own [vdso] line matches too and is told
# apart by its name.
_ANON_EXEC = b" r-xp 00000000 00:00 0"


def parse_anon_exec(data: bytes) -> tuple[int, ...]:
    """Start addresses of the private anonymous executable mappings.

    These are where proxies can be (the caller reads each one's header for
    the proxy mark): no path, or an `[anon:NAME]` from PR_SET_VMA_ANON_NAME.
    """
    starts: list[int] = []
    pos = data.find(_ANON_EXEC)
    while pos != -1:
        line_start = data.rfind(b"\n", 0, pos) + 1
        line_end = data.find(b"\n", pos)
        if line_end == -1:
            line_end = len(data)
        rest = data[pos + len(_ANON_EXEC) : line_end]
        # The inode field ends here: "0" then spaces and the name, or nothing.
        if not rest or rest[:1] == b" ":
            name = rest.strip()
            if not name or name.startswith(b"[anon:"):
                starts.append(int(data[line_start : data.index(b"-", line_start)], 16))
        pos = data.find(_ANON_EXEC, line_end)
    return tuple(starts)


def read_maps(pid: int) -> tuple[VdsoBlock | None, tuple[int, ...], bool]:
    """The vdso block of `pid`, its anonymous executable mappings (where
    proxies can be), and whether it has an address space at all."""
    data = read_file(f"/proc/{pid}/maps")
    return parse_maps_block(data), parse_anon_exec(data), bool(data)


def read_maps_block(pid: int) -> tuple[VdsoBlock | None, bool]:
    """The vdso block of `pid` and whether it has an address space at all."""
    block, _, has_mm = read_maps(pid)
    return block, has_mm


def parse_auxv(data: bytes, word: int) -> AuxvVdso:
    """Pick the vdso entries out of an auxv image of `word`-byte entries.

    /proc/PID/auxv is in the process's own word size, so a 32-bit process
    has 4-byte keys and values.
    """
    fmt = "<QQ" if word == 8 else "<II"
    ehdr = sysinfo = None
    for key, value in struct.iter_unpack(fmt, data[: len(data) - len(data) % (2 * word)]):
        if key == AT_NULL:
            break
        if key == AT_SYSINFO_EHDR:
            ehdr = value
        elif key == AT_SYSINFO:
            sysinfo = value
    return AuxvVdso(sysinfo_ehdr=ehdr, sysinfo=sysinfo)


def read_auxv(pid: int, word: int) -> AuxvVdso:
    return parse_auxv(read_file(f"/proc/{pid}/auxv"), word)


def read_mem(pid: int, addr: int, size: int) -> bytes:
    """Read `size` bytes of the target's memory (needs ptrace-read access)."""
    fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.pread(fd, size, addr)
    finally:
        os.close(fd)


def read_exe_header(pid: int) -> bytes:
    """The first bytes of the process's executable: enough for its ELF class."""
    fd = os.open(f"/proc/{pid}/exe", os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.pread(fd, 20, 0)
    finally:
        os.close(fd)


def exe_identity(pid: int) -> tuple[int, int, int]:
    """(device, inode, mtime) of the executable: a cache key for its mode."""
    st = os.stat(f"/proc/{pid}/exe")
    return st.st_dev, st.st_ino, st.st_mtime_ns


def owner_uid(pid: int) -> int:
    """Effective uid as /proc shows it (root for non-dumpable), as htop does."""
    return os.stat(f"/proc/{pid}").st_uid
