"""The real data source: every process's vdso state, read from /proc.

A rescan reads each process's stat and maps (the block can move at any time)
but re-parses a process (mode, auxv, the image header, the proxy marks) only
when it is new, or its block or its anonymous executable mappings changed.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from vdsotui import elfident, procmap, procread
from vdsotui.model import (
    AuxvVdso,
    ImageFacts,
    Mode,
    ProcessVdso,
    VdsoBlock,
    Visibility,
)
from vdsotui.source import ScanResult

_ACCESS_ERRORS = (PermissionError,)
_GONE_ERRORS = (FileNotFoundError, ProcessLookupError)


@dataclass(slots=True)
class ScanStats:
    """Counters of the last scan, for tests and benchmarks."""

    listed: int = 0
    parsed: int = 0  # processes whose vdso facts were (re)read in full
    reused: int = 0  # processes whose block was unchanged: nothing re-parsed


@dataclass(slots=True)
class _Entry:
    starttime: int
    vsize: int  # total size of the address space: a change means re-read it all
    block: VdsoBlock | None
    proc: ProcessVdso
    anon_exec: tuple[int, ...] = ()  # where proxies can be: re-read on change


class ProcSource:
    """Scans /proc incrementally; satisfies `vdsotui.source.DataSource`."""

    def __init__(self, list_pids: Callable[[], Iterable[int]] = procread.list_pids) -> None:
        self._list_pids = list_pids
        self._entries: dict[int, _Entry] = {}
        self._modes: dict[tuple[int, int, int], Mode] = {}
        self._users: dict[int, str] = {}
        self._images: dict[str, ImageFacts] = {}
        self._query = procmap.MapsQuery()
        self._vvars: int | None = None  # see _own_vvars; -1: parse the text
        self.stats = ScanStats()

    # -- DataSource ------------------------------------------------------

    def scan(self) -> ScanResult:
        began = time.perf_counter()
        stats = ScanStats()
        old = self._entries
        new: dict[int, _Entry] = {}
        added: set[int] = set()
        changed: set[int] = set()
        for pid in self._list_pids():
            stats.listed += 1
            entry = self._scan_one(pid, old.get(pid), stats)
            new[pid] = entry
            prev = old.get(pid)
            if prev is None:
                added.add(pid)
            elif prev.proc != entry.proc:
                changed.add(pid)
        removed = frozenset(old.keys() - new.keys())
        self._entries = new
        self.stats = stats
        return ScanResult(
            processes={pid: e.proc for pid, e in new.items()},
            added=frozenset(added),
            changed=frozenset(changed),
            removed=removed,
            seconds=time.perf_counter() - began,
        )

    def kernel_release(self) -> str:
        return os.uname().release

    def image_facts(self, pid: int) -> ImageFacts | None:
        entry = self._entries.get(pid)
        text = entry.block.text if entry and entry.block else None
        if text is None:
            return None
        try:
            image = procread.read_mem(pid, text.start, text.size)
        except OSError:
            return None
        key = hashlib.sha256(image).hexdigest()
        facts = self._images.get(key)
        if facts is None:
            from vdsotui import elfinfo  # pyelftools: only when an image is inspected

            try:
                facts = elfinfo.image_facts(image)
            except Exception:  # pyelftools raises its own types on a torn image
                return None
            self._images[key] = facts
        return facts

    def auxv(self, pid: int) -> AuxvVdso | None:
        entry = self._entries.get(pid)
        mode = entry.proc.mode if entry else Mode.UNKNOWN
        try:
            return procread.read_auxv(pid, 8 if mode is Mode.X86_64 else 4)
        except OSError:
            return None

    # -- one process -----------------------------------------------------

    def _scan_one(self, pid: int, prev: _Entry | None, stats: ScanStats) -> _Entry:
        try:
            proc = procread.ProcDir(pid)
        except _GONE_ERRORS:
            return self._gone(pid, prev)
        try:
            return self._scan_dir(pid, proc, prev, stats)
        finally:
            proc.close()

    def _scan_dir(
        self, pid: int, proc: procread.ProcDir, prev: _Entry | None, stats: ScanStats
    ) -> _Entry:
        try:
            st = proc.stat()
        except _GONE_ERRORS:
            return self._gone(pid, prev)
        uid = proc.owner_uid()
        user = self._user(uid)
        if st.kernel_thread:
            cmdline = ""
        elif prev is not None and prev.starttime == st.starttime and prev.proc.command == st.comm:
            # Read once per process (and again after an exec renames it),
            # not on every scan: it costs a read per process.
            cmdline = prev.proc.cmdline
        else:
            cmdline = proc.cmdline()

        def plain(visibility: Visibility) -> _Entry:
            found = _process(pid, st, user, uid, cmdline, visibility)
            return _Entry(st.starttime, st.vsize, None, found)

        if st.kernel_thread:
            return plain(Visibility.KERNEL_THREAD)
        if st.state in ("Z", "X"):
            return plain(Visibility.ZOMBIE)
        # The same process, its address space the same size: its block is
        # only re-checked where it was, with a query per mapping.
        known = (
            prev.block
            if prev is not None
            and prev.starttime == st.starttime
            and prev.vsize == st.vsize
            and prev.proc.visible
            else None
        )
        try:
            block, anon_exec, has_mm = self._maps(proc, known)
        except _ACCESS_ERRORS:
            return plain(Visibility.NOT_VISIBLE)
        except _GONE_ERRORS:
            return self._gone(pid, prev)
        if not has_mm:
            # Exited between reading stat and maps: no address space left.
            return plain(Visibility.ZOMBIE)
        if known is not None and block is known:
            assert prev is not None
            anon_exec = prev.anon_exec

        if (
            prev is not None
            and prev.starttime == st.starttime
            and prev.block == block
            and prev.anon_exec == anon_exec
            and prev.proc.visible
        ):
            stats.reused += 1
            old = prev.proc
            if (
                old.ppid == st.ppid
                and old.command == st.comm
                and old.uid == uid
                and old.threads == st.threads
                and old.cmdline == cmdline
            ):
                prev.vsize = st.vsize
                return prev
            refreshed = _process(
                pid, st, user, uid, cmdline, old.visibility,
                mode=old.mode, block=old.block, vdso_type=old.vdso_type,
                auxv_base=old.auxv_base, proxy_bases=old.proxy_bases, error=old.error,
                criu_proxy=old.criu_proxy,
            )  # fmt: skip
            return _Entry(st.starttime, st.vsize, block, refreshed, anon_exec)

        stats.parsed += 1
        found = self._parse(pid, proc, st, uid, user, cmdline, block, anon_exec)
        return _Entry(st.starttime, st.vsize, block, found, anon_exec)

    def _maps(
        self, proc: procread.ProcDir, known: VdsoBlock | None
    ) -> tuple[VdsoBlock | None, tuple[int, ...], bool]:
        """The block, the anonymous executable mappings, whether there is an
        address space: through PROCMAP_QUERY where it answers, else the text.

        With `known`, the block where it was last seen: `known` itself comes
        back when every one of its mappings is still there, unchanged.
        """
        if self._vvars is None:
            self._vvars = _own_vvars()
        if self._vvars >= 0:
            query = self._query
            query.open(proc)
            try:
                if known is not None and _still_there(query, known):
                    return known, (), True
                return query.read_block(self._vvars)
            except procmap.Unsupported:
                self._vvars = -1
            except procmap.Split:
                pass
            except ProcessLookupError:
                return None, (), False
            finally:
                query.close()
        return proc.maps()

    def _parse(
        self,
        pid: int,
        proc: procread.ProcDir,
        st: procread.Stat,
        uid: int,
        user: str,
        cmdline: str,
        block: VdsoBlock | None,
        anon_exec: tuple[int, ...],
    ) -> ProcessVdso:
        """Read the facts that only change with exec or a remap."""
        try:
            mode = self._mode(proc)
            text = block.text if block else None
            vdso_type = None
            criu_proxy = None
            if text is not None:
                header = proc.mem(text.start, 20)
                criu_proxy = _criu_proxy(proc, header)
                if criu_proxy is not None:
                    # CRIU's mark replaced the header; its proxy is a copy
                    # of the dumped image, of the type CRIU restored.
                    header = proc.mem(criu_proxy, 20)
                vdso_type = elfident.vdso_type_of(header)
            auxv = proc.auxv(8 if mode is Mode.X86_64 else 4)
            # Every proxy, wherever it is: a process moved and moved back
            # has its proxies away from both its base and its auxv base.
            proxies = tuple(a for a in anon_exec if a == criu_proxy or _is_proxy(proc, a))
            if criu_proxy is not None and criu_proxy not in proxies:
                proxies = tuple(sorted((*proxies, criu_proxy)))
        except _ACCESS_ERRORS:
            return _process(pid, st, user, uid, cmdline, Visibility.NOT_VISIBLE)
        except _GONE_ERRORS:
            return _process(pid, st, user, uid, cmdline, Visibility.GONE)
        except OSError as exc:
            # EIO from /proc/PID/mem: the page is not readable. Say so.
            error = f"{exc.strerror or exc}"
            return _process(
                pid, st, user, uid, cmdline, Visibility.VISIBLE, block=block, error=error
            )
        return _process(
            pid, st, user, uid, cmdline, Visibility.VISIBLE,
            mode=mode, block=block, vdso_type=vdso_type, auxv_base=auxv.sysinfo_ehdr,
            proxy_bases=proxies, criu_proxy=criu_proxy,
        )  # fmt: skip

    def _mode(self, proc: procread.ProcDir) -> Mode:
        key = proc.exe_identity()
        mode = self._modes.get(key)
        if mode is None:
            mode = elfident.mode_of(proc.exe_header())
            self._modes[key] = mode
        return mode

    def _user(self, uid: int) -> str:
        name = self._users.get(uid)
        if name is None:
            try:
                name = pwd.getpwuid(uid).pw_name
            except KeyError:
                name = str(uid)
            self._users[uid] = name
        return name

    def _gone(self, pid: int, prev: _Entry | None) -> _Entry:
        if prev is not None:
            old = prev.proc
            proc = ProcessVdso(
                pid, old.ppid, old.command, old.user, old.uid, old.threads, Visibility.GONE,
                cmdline=old.cmdline,
            )  # fmt: skip
            return _Entry(prev.starttime, prev.vsize, None, proc)
        proc = ProcessVdso(pid, 0, "", "", -1, 0, Visibility.GONE)
        return _Entry(-1, -1, None, proc)


def _process(
    pid: int,
    st: procread.Stat,
    user: str,
    uid: int,
    cmdline: str,
    visibility: Visibility,
    **facts: Any,
) -> ProcessVdso:
    """A process as one scan saw it: its stat line's facts, and `facts` beside."""
    return ProcessVdso(
        pid, st.ppid, st.comm, user, uid, st.threads, visibility, cmdline=cmdline, **facts
    )


def _is_proxy(proc: procread.ProcDir, addr: int) -> bool:
    try:
        header = proc.mem(addr, 20)
    except OSError:
        # Unmapped since the mappings were read: no proxy there.
        return False
    return elfident.has_proxy_mark(header)


def _criu_proxy(proc: procread.ProcDir, header: bytes) -> int | None:
    """Where CRIU's proxy is, if its mark is on the running vdso and the
    address it names holds an ELF image."""
    addr = elfident.criu_proxy_of(header)
    if addr is None:
        return None
    try:
        proxy = proc.mem(addr, 20)
    except OSError:
        return None  # a stale mark: nothing mapped there
    return addr if elfident.classify(proxy) is not None else None


def _still_there(query: procmap.MapsQuery, block: VdsoBlock) -> bool:
    """Every mapping of `block` is where it was, with the same name and perms."""
    return all(query.mapping_at(m.start) == m for m in block.mappings)


def _own_vvars() -> int:
    """How many [vvar*] mappings a whole block has on this kernel (-1: not known).

    Read from this process's own maps text: a block the queries find with
    another count next to its text is not in one piece, and is parsed.
    """
    block = procread.parse_maps_block(procread.read_file("/proc/self/maps"))
    if block is None or block.text is None:
        return -1
    return sum(m.name.startswith("[vvar") for m in block.mappings)
