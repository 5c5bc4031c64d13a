"""Deterministic stand-ins for the data source and the helper.

`FakeSource` holds a fixed, varied set of processes (every state the table
can show) and reports added/changed/removed like the real scanner does.
`FakeHelper` answers the helper's JSON protocol from memory; for `remap` it
stands in for the binary only (command line in, protocol JSON out), so the
real `HelperClient.plan` and `run` build the request and parse the answer. A
confirmed remap really changes the fake source's process, so a refresh
shows it.
Nothing here reads a clock or /proc.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, cast

from vdsotui.helper_client import (
    Check,
    HelperClient,
    HelperError,
    HelperInfo,
    HelperStatus,
    Policy,
    ProxyInfo,
    ShowResult,
    ThreadInfo,
)
from vdsotui.model import (
    AuxvVdso,
    ImageFacts,
    Layout,
    Mapping,
    Mode,
    ProcessVdso,
    Symbol,
    VdsoBlock,
    VdsoType,
    Visibility,
)
from vdsotui.source import ScanResult

KERNEL = "6.18.44-fake"
VVAR = 0x4000
VCLOCK = 0x2000
TEXT = 0x2000
USERS = ("root", "alice", "bob", "postgres", "www-data")
COMMANDS = (
    "bash",
    "python3",
    "sshd",
    "postgres",
    "nginx",
    "systemd",
    "cron",
    "java",
    "node",
    "redis-server",
    "criu",
    "runc",
    "subject-x86_64",
    "vim",
    "tmux",
)


def base_for(pid: int) -> int:
    """A deterministic, page-aligned, plausible-looking vdso base."""
    return 0x7FF000000000 + ((pid * 2654435761) % 0xFFFFF) * 0x1000


def block_at(base: int) -> VdsoBlock:
    return VdsoBlock(
        (
            Mapping(base - VVAR - VCLOCK, base - VCLOCK, "r--p", "[vvar]"),
            Mapping(base - VCLOCK, base, "r--p", "[vvar_vclock]"),
            Mapping(base, base + TEXT, "r-xp", "[vdso]"),
        )
    )


def make_process(
    pid: int,
    kind: str = "normal",
    *,
    command: str | None = None,
    user: str | None = None,
    cmdline: str | None = None,
) -> ProcessVdso:
    user = user or USERS[pid % len(USERS)]
    uid = 0 if user == "root" else 1000 + USERS.index(user) if user in USERS else 1000
    command = command or COMMANDS[pid % len(COMMANDS)]
    if cmdline is None:
        cmdline = "" if kind in ("kthread", "zombie") else f"/usr/bin/{command}"
    common = dict(
        pid=pid,
        ppid=max(1, pid // 3),
        command=command,
        user=user,
        uid=uid,
        threads=1 + pid % 4,
        cmdline=cmdline,
    )
    if kind == "kthread":
        return ProcessVdso(**common, visibility=Visibility.KERNEL_THREAD)  # type: ignore[arg-type]
    if kind == "hidden":
        return ProcessVdso(**common, visibility=Visibility.NOT_VISIBLE)  # type: ignore[arg-type]
    if kind == "zombie":
        return ProcessVdso(**common, visibility=Visibility.ZOMBIE)  # type: ignore[arg-type]
    if kind == "novdso":
        return ProcessVdso(
            **common,
            visibility=Visibility.VISIBLE,  # type: ignore[arg-type]
            mode=Mode.X86_64,
        )
    base = base_for(pid)
    mode, vtype = Mode.X86_64, VdsoType.X86_64
    auxv = base
    proxies: tuple[int, ...] = ()
    if kind == "i386":
        mode, vtype = Mode.I386, VdsoType.I386
    elif kind == "mismatch":
        mode, vtype = Mode.X86_64, VdsoType.I386
    elif kind == "moved":
        auxv = base - 0x100000000
        proxies = (auxv,)
    return ProcessVdso(
        **common,
        visibility=Visibility.VISIBLE,
        mode=mode,  # type: ignore[arg-type]
        block=block_at(base),
        vdso_type=vtype,
        auxv_base=auxv,
        proxy_bases=proxies,
    )


# The small demo set used by snapshots and screenshots: one of every state.
DEMO: tuple[tuple[int, str, str, str], ...] = (
    (1, "normal", "systemd", "root"),
    (2, "kthread", "kthreadd", "root"),
    (412, "normal", "sshd", "root"),
    (977, "hidden", "postgres", "postgres"),
    (1203, "normal", "bash", "alice"),
    (1311, "i386", "wine-preloader", "alice"),
    (1420, "moved", "criu-restored", "alice"),
    (1533, "mismatch", "subject-x86_64", "alice"),
    (1640, "novdso", "static-busybox", "alice"),
    (1777, "zombie", "defunct-child", "bob"),
    (2048, "normal", "python3", "bob"),
    (2211, "normal", "nginx", "www-data"),
    (3001, "normal", "vim", "alice"),
)


DEMO_CMDLINES = {
    1: "/sbin/init splash",
    412: "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
    977: "postgres: 16/main: checkpointer",
    1203: "-bash",
    1311: "/usr/lib/wine/wine-preloader C:\\Program Files\\app.exe",
    1420: "/usr/local/bin/criu-restored --images-dir /srv/dump/4242",
    1533: "./subject-x86_64 --loop",
    1640: "/bin/static-busybox sh",
    2048: "python3 -m http.server 8000",
    2211: "nginx: worker process",
    3001: "vim README.md",
}


def demo_processes() -> list[ProcessVdso]:
    return [
        make_process(pid, kind, command=cmd, user=user, cmdline=DEMO_CMDLINES.get(pid))
        for pid, kind, cmd, user in DEMO
    ]


def many_processes(n: int) -> list[ProcessVdso]:
    """n processes with a realistic mix of states (benchmark, large tests)."""
    kinds = ("normal",) * 12 + ("kthread", "hidden", "i386", "moved", "mismatch", "novdso")
    return [make_process(pid, kinds[pid % len(kinds)]) for pid in range(1, n + 1)]


class FakeSource:
    """A DataSource over an in-memory process table."""

    def __init__(
        self, processes: Iterable[ProcessVdso] | None = None, scan_delay: float = 0.0
    ) -> None:
        self.procs: dict[int, ProcessVdso] = {
            p.pid: p for p in (demo_processes() if processes is None else processes)
        }
        self._last: dict[int, ProcessVdso] = {}
        self.scan_delay = scan_delay
        self.scans = 0
        self.active = 0
        self.max_active = 0
        self.fail_next: Exception | None = None
        self._lock = threading.Lock()

    # -- test controls -----------------------------------------------------

    def set(self, p: ProcessVdso) -> None:
        self.procs[p.pid] = p

    def remove(self, pid: int) -> None:
        self.procs.pop(pid, None)

    def move(
        self, pid: int, new_base: int, proxy: bool, vdso_type: VdsoType | None = None
    ) -> ProcessVdso:
        p = self.procs[pid]
        old = p.base
        proxies = p.proxy_bases + ((old,) if proxy and old is not None else ())
        q = replace(
            p,
            block=block_at(new_base),
            proxy_bases=proxies,
            vdso_type=vdso_type if vdso_type is not None else p.vdso_type,
        )
        self.procs[pid] = q
        return q

    # -- DataSource ----------------------------------------------------------

    def scan(self) -> ScanResult:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.scan_delay:
                time.sleep(self.scan_delay)  # stands for a slow /proc
            if self.fail_next is not None:
                exc, self.fail_next = self.fail_next, None
                raise exc
            now = dict(self.procs)
            old = self._last
            added = frozenset(now.keys() - old.keys())
            removed = frozenset(old.keys() - now.keys())
            changed = frozenset(pid for pid in now.keys() & old.keys() if now[pid] != old[pid])
            self._last = now
            self.scans += 1
            return ScanResult(now, added, changed, removed, seconds=0.012)
        finally:
            with self._lock:
                self.active -= 1

    def kernel_release(self) -> str:
        return KERNEL

    def image_facts(self, pid: int) -> ImageFacts | None:
        p = self.procs.get(pid)
        if p is None or not p.visible or p.vdso_type is None:
            return None
        is32 = p.vdso_type is VdsoType.I386
        ver = "LINUX_2.5" if is32 else "LINUX_2.6"
        prefix = "__vdso_"
        names = ("clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu")
        syms = tuple(
            Symbol(prefix + n, ver, 0x600 + 0x40 * i, 0x30, "FUNC") for i, n in enumerate(names)
        )
        if is32:
            syms += (Symbol("__kernel_vsyscall", ver, 0x5A0, 0x14, "FUNC"),)
        return ImageFacts(
            elf_class=32 if is32 else 64,
            machine="EM_386" if is32 else "EM_X86_64",
            vdso_type=p.vdso_type,
            soname="linux-gate.so.1" if is32 else "linux-vdso.so.1",
            build_id="3f1c0de5a1b2c3d4e5f60718293a4b5c6d7e8f90",
            size=TEXT,
            symbols=syms,
        )

    def auxv(self, pid: int) -> AuxvVdso | None:
        p = self.procs.get(pid)
        if p is None or not p.visible:
            return None
        sysinfo = (p.auxv_base + 0x5A0) if p.mode is Mode.I386 and p.auxv_base else None
        return AuxvVdso(sysinfo_ehdr=p.auxv_base, sysinfo=sysinfo)


LAYOUTS = (
    Layout(VdsoType.I386, True, "probe", VVAR + VCLOCK, TEXT, 0x1000),
    Layout(VdsoType.X86_64, True, "probe", VVAR + VCLOCK, TEXT, 0x1000),
    Layout(VdsoType.X32, False, "probe", reason="kernel built without x32 (EINVAL)"),
)


class FakeHelper(HelperClient):
    """Answers like vdso-helper, from memory, acting on a FakeSource."""

    def __init__(
        self,
        source: FakeSource,
        *,
        setuid: bool = True,
        present: bool = True,
        path: str = "/usr/local/bin/vdso-helper",
    ) -> None:
        super().__init__(path)
        self.source = source
        self.setuid = setuid
        self.present = present
        self.refuse: dict[int, HelperError] = {}  # dry runs and real runs
        self.refuse_run: dict[int, HelperError] = {}  # real runs only
        self.failing_check: dict[int, Check] = {}  # a plan that answers but fails a check
        self.busy_runs: dict[int, int] = {}  # this many real runs answer EBUSY first
        self.die_on_run: set[int] = set()  # the process exits right after a real run
        self.info_error: HelperError | None = None
        self.calls: list[tuple[str, dict[str, object]]] = []
        self.next_auto = 0x7F5500000000

    def status(self) -> HelperStatus:
        if not self.present:
            return HelperStatus(self.path, False, False, False, f"{self.path} does not exist")
        problem = (
            None
            if self.setuid
            else (
                f"{self.path} is not setuid root, so it cannot act on processes "
                "(install it with `make install-helper` as root)"
            )
        )
        return HelperStatus(self.path, True, True, self.setuid, problem)

    def info(self, vdso_type: VdsoType | None = None) -> HelperInfo:
        self.calls.append(("info", {}))
        if self.info_error is not None:
            raise self.info_error
        return HelperInfo(KERNEL, False, LAYOUTS)

    def show(self, pid: int) -> ShowResult:
        self.calls.append(("show", {"pid": pid}))
        p = self.source.procs.get(pid)
        if p is None:
            raise HelperError("ESRCH", f"no process {pid}")
        threads = tuple(
            ThreadInfo(
                pid + i,
                "S",
                (p.base or 0) + 0x640 if i == 1 else 0x401000 + i,
                i == 1,
                "clock_gettime" if i == 1 else "syscall 7",
            )
            for i in range(p.threads)
        )
        allowed = p.user != "root"
        return ShowResult(
            pid=pid,
            command=p.command,
            mode=p.mode,
            vdso_type=p.vdso_type,
            base=p.base,
            auxv_base=p.auxv_base,
            moved=p.moved,
            block=p.block.mappings if p.block else (),
            proxies=tuple(ProxyInfo(b, TEXT, p.base) for b in p.proxy_bases),
            threads=threads,
            policy=Policy(allowed, "same user" if allowed else "target is root"),
        )

    def _run(self, args: Sequence[str], timeout: float) -> dict[str, Any]:
        """Stands for running the binary: `HelperClient.plan` and `run` build the
        command line and parse the JSON answer, so both stay the real ones.
        `info` and `show` are answered above and never get here."""
        if not args or args[0] != "remap":
            raise HelperError("EINVAL", f"fake helper: unexpected command {list(args)}")
        pid = 0
        addr: int | None = None
        vdso_type: VdsoType | None = None
        auto = force = dry_run = False
        proxy = True
        opts = iter(args[1:])
        for opt in opts:
            if opt == "--pid":
                pid = int(next(opts))
            elif opt == "--addr":
                addr = int(next(opts), 0)
            elif opt == "--auto":
                auto = True
            elif opt == "--type":
                vdso_type = VdsoType.parse(next(opts))
            elif opt == "--no-proxy":
                proxy = False
            elif opt == "--force":
                force = True
            elif opt == "--dry-run":
                dry_run = True
            else:
                raise HelperError("EINVAL", f"fake helper: unknown option {opt}")
        self.calls.append(
            (
                "remap",
                {
                    "pid": pid,
                    "addr": addr,
                    "auto": auto,
                    "vdso_type": vdso_type,
                    "proxy": proxy,
                    "force": force,
                    "dry_run": dry_run,
                },
            )
        )
        # Through JSON text, as the real answer comes: nothing but JSON types.
        answer = self._remap_answer(pid, addr, vdso_type, proxy, force, dry_run)
        return cast(dict[str, Any], json.loads(json.dumps(answer)))

    def _remap_answer(
        self,
        pid: int,
        addr: int | None,
        vdso_type: VdsoType | None,
        proxy: bool,
        force: bool,
        dry_run: bool,
    ) -> dict[str, Any]:
        """The helper's `remap --json` object (docs/protocol.md)."""
        if pid in self.refuse:
            raise self.refuse[pid]
        if not dry_run and pid in self.refuse_run:
            raise self.refuse_run[pid]
        if not dry_run and self.busy_runs.get(pid, 0) > 0:
            self.busy_runs[pid] -= 1
            raise HelperError("EBUSY", f"thread {pid} did not stop within 1000 ms")
        p = self.source.procs.get(pid)
        if p is None or p.base is None or p.block is None:
            raise HelperError("ESRCH", f"process {pid} has no vdso")
        dest_base = addr if addr is not None else self.next_auto + pid * 0x100000
        new_type = vdso_type if vdso_type is not None else p.vdso_type
        if new_type is not None and p.mode.vdso_type not in (None, new_type) and not force:
            # As the real helper: a type the process's mode cannot call needs --force.
            raise HelperError(
                "EINVAL",
                f"process {pid} runs as {p.mode.value}; a {new_type.label} vdso would not "
                "serve its callers (use --force, e.g. for a restorer about to change mode)",
            )
        operation = "switch" if vdso_type is not None and vdso_type is not p.vdso_type else "move"
        checks: tuple[Check, ...] = (
            Check("policy", True, f"same user ({p.user})"),
            Check("threads", True, f"{p.threads} thread(s) outside the vdso"),
            Check(
                "destination", True, f"{dest_base - VVAR - VCLOCK:#x}-{dest_base + TEXT:#x} is free"
            ),
        )
        if new_type is not None and p.mode.vdso_type not in (None, new_type):
            # Only reached with force: the helper reports the check it overrides.
            checks += (
                Check(
                    "mode",
                    False,
                    f"process mode {p.mode.value}, new type {new_type.label} (forced)",
                ),
            )
        if pid in self.failing_check:
            checks += (self.failing_check[pid],)
        answer: dict[str, Any] = {
            "pid": pid,
            "dry_run": dry_run,
            "operation": operation,
            "path": "stock",
            "from": placement_json(p.vdso_type, p.base, p.block.vvar_start, p.block.size),
            "to": placement_json(new_type, dest_base, dest_base - VVAR - VCLOCK, p.block.size),
            "proxy": proxy,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
            "steps": [
                f"seize {p.threads} thread(s)",
                f"mremap block -> {dest_base:#x}",
                "write proxy" if proxy else "unmap old",
                "detach",
            ],
        }
        if not dry_run:
            self.source.move(pid, dest_base, proxy, vdso_type)
            if pid in self.die_on_run:
                self.source.remove(pid)
            answer["stop_ns"] = 812345
        return answer


def placement_json(
    vdso_type: VdsoType | None, base: int, vvar_start: int | None, size: int
) -> dict[str, Any]:
    """One side ("from" / "to") of a `remap --json` answer."""
    return {
        "type": vdso_type.label if vdso_type is not None else None,
        "base": hex(base),
        "vvar_start": hex(vvar_start) if vvar_start is not None else None,
        "size": size,
    }
