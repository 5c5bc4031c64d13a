"""The real data source: every process's vdso state, read from /proc.

A rescan reads each process's stat and maps (the block can move at any time)
but re-parses a process (mode, auxv, the image header, the proxy marks) only
when it is new, or its block or its anonymous executable mappings changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pwd
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psutil

from vdsotui import elfinfo, procread
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


@dataclass(frozen=True, slots=True)
class _Entry:
    starttime: int
    block: VdsoBlock | None
    proc: ProcessVdso
    anon_exec: tuple[int, ...] = ()  # where proxies can be: re-read on change


class ProcSource:
    """Scans /proc incrementally; satisfies `vdsotui.source.DataSource`."""

    def __init__(self, list_pids: Callable[[], Iterable[int]] = psutil.pids) -> None:
        self._list_pids = list_pids
        self._entries: dict[int, _Entry] = {}
        self._modes: dict[tuple[int, int, int], Mode] = {}
        self._users: dict[int, str] = {}
        self._images: dict[str, ImageFacts] = {}
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
            st = procread.read_stat(pid)
        except _GONE_ERRORS:
            return self._gone(pid, prev)
        uid = self._uid(pid)
        if st.kernel_thread:
            cmdline = ""
        elif prev is not None and prev.starttime == st.starttime and prev.proc.command == st.comm:
            # Read once per process (and again after an exec renames it),
            # not on every scan: it costs a read per process.
            cmdline = prev.proc.cmdline
        else:
            cmdline = procread.read_cmdline(pid)
        base = ProcessVdso(
            pid=pid,
            ppid=st.ppid,
            command=st.comm,
            user=self._user(uid) if uid >= 0 else "?",
            uid=uid,
            threads=st.threads,
            visibility=Visibility.VISIBLE,
            cmdline=cmdline,
        )
        if st.kernel_thread:
            return _Entry(st.starttime, None, _with(base, visibility=Visibility.KERNEL_THREAD))
        if st.state in ("Z", "X"):
            return _Entry(st.starttime, None, _with(base, visibility=Visibility.ZOMBIE))
        try:
            block, anon_exec, has_mm = procread.read_maps(pid)
        except _ACCESS_ERRORS:
            return _Entry(st.starttime, None, _with(base, visibility=Visibility.NOT_VISIBLE))
        except _GONE_ERRORS:
            return self._gone(pid, prev)
        if not has_mm:
            # Exited between reading stat and maps: an empty maps file.
            return _Entry(st.starttime, None, _with(base, visibility=Visibility.ZOMBIE))

        if (
            prev is not None
            and prev.starttime == st.starttime
            and prev.block == block
            and prev.anon_exec == anon_exec
            and prev.proc.visible
        ):
            stats.reused += 1
            old = prev.proc
            if (old.ppid, old.command, old.uid, old.threads, old.cmdline) == (
                base.ppid,
                base.command,
                base.uid,
                base.threads,
                base.cmdline,
            ):
                return prev
            refreshed = _with(
                old,
                ppid=base.ppid,
                command=base.command,
                uid=uid,
                user=base.user,
                threads=st.threads,
                cmdline=base.cmdline,
            )
            return _Entry(st.starttime, block, refreshed, anon_exec)

        stats.parsed += 1
        return _Entry(st.starttime, block, self._parse(pid, base, block, anon_exec), anon_exec)

    def _parse(
        self, pid: int, base: ProcessVdso, block: VdsoBlock | None, anon_exec: tuple[int, ...]
    ) -> ProcessVdso:
        """Read the facts that only change with exec or a remap."""
        try:
            mode = self._mode(pid)
            text = block.text if block else None
            vdso_type = None
            if text is not None:
                vdso_type = elfinfo.vdso_type_of(procread.read_mem(pid, text.start, 20))
            word = 8 if mode is Mode.X86_64 else 4
            auxv = procread.read_auxv(pid, word)
            # Every proxy, wherever it is: a process moved and moved back
            # has its proxies away from both its base and its auxv base.
            proxies = tuple(a for a in anon_exec if self._is_proxy(pid, a))
        except _ACCESS_ERRORS:
            return _with(base, visibility=Visibility.NOT_VISIBLE)
        except _GONE_ERRORS:
            return _with(base, visibility=Visibility.GONE)
        except OSError as exc:
            # EIO from /proc/PID/mem: the page is not readable. Say so.
            return _with(base, block=block, error=f"{exc.strerror or exc}")
        return _with(
            base,
            mode=mode,
            block=block,
            vdso_type=vdso_type,
            auxv_base=auxv.sysinfo_ehdr,
            proxy_bases=proxies,
        )

    def _is_proxy(self, pid: int, addr: int) -> bool:
        try:
            header = procread.read_mem(pid, addr, 20)
        except OSError:
            # Unmapped since maps was read: no proxy there.
            return False
        return elfinfo.has_proxy_mark(header)

    def _mode(self, pid: int) -> Mode:
        key = procread.exe_identity(pid)
        mode = self._modes.get(key)
        if mode is None:
            mode = elfinfo.mode_of(procread.read_exe_header(pid))
            self._modes[key] = mode
        return mode

    def _uid(self, pid: int) -> int:
        try:
            return procread.owner_uid(pid)
        except OSError:
            return -1

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
            return _Entry(prev.starttime, None, _with(prev.proc, visibility=Visibility.GONE))
        proc = ProcessVdso(
            pid=pid, ppid=0, command="", user="", uid=-1, threads=0, visibility=Visibility.GONE
        )
        return _Entry(-1, None, proc)


def _with(proc: ProcessVdso, **changes: object) -> ProcessVdso:
    return dataclasses.replace(proc, **changes)  # type: ignore[arg-type]
