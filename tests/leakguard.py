"""A pytest plugin: the suite leaves nothing behind, and a leak fails the run.

At configure time the pytest process becomes a child subreaper, so every
process the tests start, however it was orphaned, stays its descendant.
Around each test the plugin notes which descendants appeared, so a leftover
can be named with the test that started it. At the end of the session (after
every fixture's teardown and every other plugin's `pytest_sessionfinish`) it
fails the run if any descendant is still alive, then kills them all.

Beside processes it compares what the machine held at the start with what it
holds at the end: accounts and groups, mounts, entries in the shared
temporary directories, and tmux sockets. The suite's own temporary files go
to a fresh directory under `build/` (TMPDIR and pytest's basetemp), removed
after a passing run, so anything new in /tmp is a leak.

In the test guest the tree is read-only and the machine is thrown away, so
there only processes are checked, and TMPDIR is the guest's own.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PR_SET_CHILD_SUBREAPER = 36
REPO = Path(__file__).resolve().parents[1]
# Shared directories whose new entries are leaks, and names in them that
# belong to others on a shared machine: the job runner's and systemd's own
# entries, and gcc's temporary files from builds outside the suite.
SHARED_DIRS = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/run"))
FOREIGN_PREFIXES = ("bash_jobs.", "bash_tool_", "systemd", "user")
SETTLE_S = 1.0


def _foreign(name: str) -> bool:
    if name.startswith(FOREIGN_PREFIXES):
        return True
    # gcc's -pipe-less temporaries: ccXXXXXX.s, ccXXXXXX.o, ...
    return name.startswith("cc") and len(name.split(".", 1)[0]) == 8


@dataclass(frozen=True)
class Proc:
    pid: int
    start: int  # start time in clock ticks: (pid, start) names one process
    state: str
    cmdline: str


def _proc(pid: int) -> tuple[Proc, int] | None:
    """The process PID and its parent's pid, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
    # One line per process in the report, whatever the command's own layout.
    cmdline = " ".join(raw.decode(errors="replace").replace("\0", " ").split()) or f"[{comm}]"
    return Proc(pid, int(fields[19]), fields[0], cmdline), int(fields[1])


def descendants(root: int) -> list[Proc]:
    """Every live (not zombie) process below ROOT, parents before children."""
    procs: dict[int, tuple[Proc, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (p := _proc(int(entry))) is not None:
            procs[int(entry)] = p
    children: dict[int, list[int]] = {}
    for pid, (_, ppid) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out: list[Proc] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop(0)
        proc = procs[pid][0]
        if proc.state not in ("Z", "X"):
            out.append(proc)
        todo.extend(children.get(pid, []))
    return out


def _reap() -> None:
    """Collect the zombies that orphans left with us as their reaper."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _names(path: Path) -> set[str]:
    try:
        return set(os.listdir(path))
    except OSError:
        return set()


def _column(path: str, index: int, sep: str = ":") -> set[str]:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return set()
    return {line.split(sep)[index] for line in lines if line and not line.startswith("#")}


@dataclass
class Machine:
    """What outlives a process: the things a test could leave behind."""

    accounts: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    mounts: set[str] = field(default_factory=set)
    entries: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def read(cls) -> Machine:
        tmux = Path(f"/tmp/tmux-{os.getuid()}")
        return cls(
            accounts=_column("/etc/passwd", 0),
            groups=_column("/etc/group", 0),
            mounts=_column("/proc/self/mountinfo", 4, " "),
            entries={str(d): _names(d) for d in (*SHARED_DIRS, tmux)},
        )

    def new_since(self, before: Machine) -> list[str]:
        out = [f"account {a}" for a in sorted(self.accounts - before.accounts)]
        out += [f"group {g}" for g in sorted(self.groups - before.groups)]
        out += [f"mount {m}" for m in sorted(self.mounts - before.mounts)]
        for d, names in self.entries.items():
            new = names - before.entries.get(d, set())
            out += [f"file {d}/{n}" for n in sorted(new) if not _foreign(n)]
        return out


class LeakGuard:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.in_guest = bool(os.environ.get("VDSOTUI_GUEST"))
        self.started_by: dict[tuple[int, int], str] = {}
        self.before = Machine() if self.in_guest else Machine.read()
        self.tmpdir = self._own_tmpdir()

    def _own_tmpdir(self) -> Path:
        where = None if self.in_guest else REPO / "build"
        if where is not None:
            where.mkdir(exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="test-tmp-", dir=where))
        tmp.chmod(0o755)  # as /tmp is: the test users reach their own dirs in it
        os.environ["TMPDIR"] = str(tmp)
        tempfile.tempdir = None  # forget the cached default
        return tmp

    def note(self, nodeid: str) -> None:
        for p in descendants(os.getpid()):
            self.started_by.setdefault((p.pid, p.start), nodeid)

    def leftovers(self) -> list[str]:
        lines = []
        for p in descendants(os.getpid()):
            who = self.started_by.get((p.pid, p.start), "outside any test")
            lines.append(f"process {p.pid} ({who}): {p.cmdline[:200]}")
        if not self.in_guest:
            lines += Machine.read().new_since(self.before)
        return lines

    def end(self) -> list[str]:
        found = self.leftovers()
        if found:
            # A process exiting now may still hold files: look once more.
            time.sleep(SETTLE_S)
            again = set(self.leftovers())
            found = [line for line in found if line in again]
        self._kill_all()
        return found

    def _kill_all(self) -> None:
        for _ in range(50):
            procs = descendants(os.getpid())
            if not procs:
                break
            for p in procs:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGKILL)
            time.sleep(0.05)
            _reap()
        _reap()


_KEY = pytest.StashKey[LeakGuard]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # tryfirst: before the tmpdir plugin reads basetemp.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    guard = LeakGuard(config)
    config.stash[_KEY] = guard
    if config.option.basetemp is None:
        config.option.basetemp = str(guard.tmpdir / "basetemp")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> object:
    guard = item.config.stash[_KEY]
    try:
        return (yield)
    finally:
        guard.note(item.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    guard = session.config.stash[_KEY]
    found = guard.end()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if found:
        if reporter is not None:
            reporter.write_sep("=", "left behind by the suite", red=True)
            for line in found:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif session.exitstatus == pytest.ExitCode.OK:
        # Nothing of ours is left: the temporary files go too. A failed run
        # keeps them, for the failure's evidence.
        shutil.rmtree(guard.tmpdir, ignore_errors=True)
