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
_SMALL = 4096  # more than stat or auxv holds

# auxv keys (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h)
AT_NULL = 0
AT_SYSINFO = 32
AT_SYSINFO_EHDR = 33

PF_KTHREAD = 0x00200000  # include/linux/sched.h


def list_pids() -> list[int]:
    """Every process in /proc, as psutil.pids() lists them.

    The same listing psutil makes, without importing psutil: that import
    costs about as much CPU as starting Python, and `vdsotui list` is a
    command scripts run often (bench/bench_scan.py, list_cpu_vs_python).
    """
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def read_file(path: str) -> bytes:
    """Read a whole /proc file with raw syscalls (no buffering layers)."""
    return _read_all(os.open(path, os.O_RDONLY | os.O_CLOEXEC))


def _read_all(fd: int, first: bytes = b"") -> bytes:
    """The rest of `fd` after `first`; closes it."""
    try:
        chunks = [first]
        while chunk := os.read(fd, _READ_CHUNK):
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
    vsize: int  # bytes of address space

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
        vsize=int(rest[20]),
    )


def parse_cmdline(data: bytes) -> str:
    """NUL-separated arguments, joined by spaces as ps and htop show them."""
    return data.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


def read_stat(pid: int) -> Stat:
    with ProcDir(pid) as d:
        return d.stat()


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


def parse_auxv(data: bytes, word: int) -> AuxvVdso:
    """Pick the vdso entries out of an auxv image of `word`-byte entries.

    /proc/PID/auxv is in the process's own word size, so a 32-bit process
    has 4-byte keys and values. It ends with AT_NULL; nothing after it counts.
    """
    count = len(data) // word & ~1
    words = struct.unpack(f"<{count}{'Q' if word == 8 else 'I'}", data[: count * word])
    keys = words[0::2]
    end = keys.index(AT_NULL) if AT_NULL in keys else len(keys)
    entries = dict(zip(keys[:end], words[1 : 2 * end : 2], strict=True))
    return AuxvVdso(sysinfo_ehdr=entries.get(AT_SYSINFO_EHDR), sysinfo=entries.get(AT_SYSINFO))


class ProcDir:
    """One process's /proc directory, opened once (O_PATH): each file below it
    is then opened without looking the process up again, and a process that
    exited and whose pid was reused is never read by mistake.

    OSError as for the files: FileNotFoundError or ProcessLookupError when the
    process is gone, PermissionError when it is not ours to read.
    """

    __slots__ = ("fd",)

    def __init__(self, pid: int) -> None:
        self.fd = os.open(f"/proc/{pid}", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> ProcDir:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def open(self, name: str) -> int:
        return os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=self.fd)

    def read_small(self, name: str) -> bytes:
        """A file the kernel makes in one piece (stat, auxv): one read.

        Such a file comes whole when the buffer is larger than it, so a short
        read is the end and no second read is made to see EOF.
        """
        fd = self.open(name)
        try:
            data = os.read(fd, _SMALL)
        except BaseException:
            os.close(fd)
            raise
        if len(data) < _SMALL:
            os.close(fd)
            return data
        return _read_all(fd, data)

    def read_file(self, name: str) -> bytes:
        return _read_all(self.open(name))

    def stat(self) -> Stat:
        return parse_stat(self.read_small("stat"))

    def owner_uid(self) -> int:
        """Effective uid as /proc shows it (root for non-dumpable), as htop does."""
        return os.fstat(self.fd).st_uid

    def cmdline(self) -> str:
        """The command line, "" when it cannot be read (hidepid, or exited:
        the scan notices the rest)."""
        try:
            return parse_cmdline(self.read_file("cmdline"))
        except OSError:
            return ""

    def maps(self) -> tuple[VdsoBlock | None, tuple[int, ...], bool]:
        """The vdso block, the anonymous executable mappings (where proxies
        can be), and whether there is an address space at all."""
        data = self.read_file("maps")
        return parse_maps_block(data), parse_anon_exec(data), bool(data)

    def auxv(self, word: int) -> AuxvVdso:
        return parse_auxv(self.read_small("auxv"), word)

    def mem(self, addr: int, size: int) -> bytes:
        """`size` bytes of the process's memory (needs ptrace-read access)."""
        fd = self.open("mem")
        try:
            return os.pread(fd, size, addr)
        finally:
            os.close(fd)

    def exe_header(self) -> bytes:
        """The first bytes of the process's executable: enough for its ELF class."""
        fd = self.open("exe")
        try:
            return os.pread(fd, 20, 0)
        finally:
            os.close(fd)

    def exe_identity(self) -> tuple[int, int, int]:
        """(device, inode, mtime) of the executable: a cache key for its mode."""
        st = os.stat("exe", dir_fd=self.fd)
        return st.st_dev, st.st_ino, st.st_mtime_ns


# One process's one fact, for callers outside the scan loop.


def read_maps(pid: int) -> tuple[VdsoBlock | None, tuple[int, ...], bool]:
    with ProcDir(pid) as d:
        return d.maps()


def read_maps_block(pid: int) -> tuple[VdsoBlock | None, bool]:
    """The vdso block of `pid` and whether it has an address space at all."""
    block, _, has_mm = read_maps(pid)
    return block, has_mm


def read_auxv(pid: int, word: int) -> AuxvVdso:
    with ProcDir(pid) as d:
        return d.auxv(word)


def read_mem(pid: int, addr: int, size: int) -> bytes:
    with ProcDir(pid) as d:
        return d.mem(addr, size)


def read_exe_header(pid: int) -> bytes:
    with ProcDir(pid) as d:
        return d.exe_header()


def exe_identity(pid: int) -> tuple[int, int, int]:
    with ProcDir(pid) as d:
        return d.exe_identity()


def owner_uid(pid: int) -> int:
    with ProcDir(pid) as d:
        return d.owner_uid()
