"""Targets the helper cannot stop completely are refused, and left exactly as they were.

A process that shares its address space with another thread group (clone
with CLONE_VM but not CLONE_THREAD, or a vfork child before exec) has one
vdso for both groups, and the helper stops only the target's threads. A
process whose thread-group leader has exited has no memory reachable through
its pid any more. A thread that cannot stop ends the operation. A plain
thread group is the control: it still moves.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from helperlib import (
    assert_running_untraced,
    assert_unchanged,
    ok,
    refused,
    snapshot,
    thread_syscalls,
    vdso_base,
)

NR_VFORK = 58


@pytest.fixture(scope="module")
def mm_target(targets_built: Path) -> Path:
    return targets_built / "mm_target"


@dataclass
class Target:
    pid: int
    other: int  # the CLONE_VM / vfork child's pid, or the second thread's tid
    counters: Path

    def counts(self) -> tuple[int, int, int]:
        main, other, errors, _tid = struct.unpack("<4Q", self.counters.read_bytes()[:32])
        return main, other, errors

    def assert_progress(self, slots: tuple[int, ...], rounds: int = 20) -> None:
        """The runners in `slots` (0 main, 1 other) keep calling the vdso, with no error."""
        before = self.counts()
        deadline = time.monotonic() + 5.0
        while any(self.counts()[s] < before[s] + rounds for s in slots):
            assert time.monotonic() < deadline, f"no progress: {before} -> {self.counts()}"
            time.sleep(0.01)
        assert self.counts()[2] == 0, "time went backwards in the target"


@contextmanager
def running(binary: Path, mode: str, tmp_path: Path) -> Iterator[Target]:
    counters = tmp_path / f"{mode}.counters"
    p = subprocess.Popen([str(binary), mode, str(counters)], stdout=subprocess.PIPE, text=True)
    other = 0
    try:
        assert p.stdout is not None
        line = p.stdout.readline().split()
        assert line and line[0] == "ready", f"mm_target {mode}: {line}"
        other = int(line[1])
        yield Target(p.pid, other, counters)
    finally:
        # the CLONE_VM or vfork child is a thread group of its own: kill it too
        if other and mode in ("clone-vm", "vfork"):
            with suppress(ProcessLookupError):
                os.kill(other, signal.SIGKILL)
        p.kill()
        p.wait()


def remap_args(pid: int, dry_run: bool) -> list[str]:
    return ["remap", "--pid", str(pid), "--auto", *(["--dry-run"] if dry_run else [])]


# ---- one address space, two thread groups ----


def refused_from_both_sides(helper: Path, t: Target, dry_run: bool) -> None:
    """Either pid as the target: EBUSY, naming the other."""
    for target, other in ((t.pid, t.other), (t.other, t.pid)):
        msg = refused(helper, "EBUSY", *remap_args(target, dry_run))
        assert f"process {target} shares its address space" in msg
        assert f"with pid {other} " in msg


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "real"])
def test_clone_vm_pair_refused(
    helper_path: Path, mm_target: Path, tmp_path: Path, dry_run: bool
) -> None:
    with running(mm_target, "clone-vm", tmp_path) as t:
        before = {p: snapshot(p, []) for p in (t.pid, t.other)}
        base = vdso_base(t.pid)
        refused_from_both_sides(helper_path, t, dry_run)
        for p, snap in before.items():
            assert_unchanged(p, snap)
        assert vdso_base(t.pid) == vdso_base(t.other) == base
        t.assert_progress((0, 1))


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "real"])
def test_vfork_pair_refused(
    helper_path: Path, mm_target: Path, tmp_path: Path, dry_run: bool
) -> None:
    """The parent waits in vfork (it could not even be stopped); the child runs."""
    with running(mm_target, "vfork", tmp_path) as t:
        parent_call = thread_syscalls(t.pid)[t.pid]
        assert parent_call.split()[0] == str(NR_VFORK), parent_call
        before = {p: snapshot(p, []) for p in (t.pid, t.other)}
        refused_from_both_sides(helper_path, t, dry_run)
        for p, snap in before.items():
            assert_unchanged(p, snap)
        # the parent is still inside the same vfork call: same arguments, sp and pc
        assert thread_syscalls(t.pid)[t.pid] == parent_call
        t.assert_progress((1,))


def test_show_names_the_other_group(helper_path: Path, mm_target: Path, tmp_path: Path) -> None:
    with running(mm_target, "clone-vm", tmp_path) as t:
        assert ok(helper_path, "show", "--pid", str(t.pid))["shared_mm_with"] == [t.other]
        assert ok(helper_path, "show", "--pid", str(t.other))["shared_mm_with"] == [t.pid]
        assert_running_untraced(t.pid)
    with running(mm_target, "thread", tmp_path) as t:
        assert ok(helper_path, "show", "--pid", str(t.pid))["shared_mm_with"] == []


# ---- an exited leader with a live thread ----


def task_status(pid: int, tid: int, key: str) -> str:
    for line in Path(f"/proc/{pid}/task/{tid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {key} for thread {tid}")


def wait_task_state(pid: int, tid: int, state: str, failure: str) -> None:
    """Wait up to 5 s for thread TID's State to be STATE (one letter)."""
    deadline = time.monotonic() + 5.0
    while task_status(pid, tid, "State")[0] != state:
        assert time.monotonic() < deadline, failure
        time.sleep(0.01)


@pytest.mark.parametrize("command", ["remap-dry-run", "remap", "show"])
def test_exited_leader_refused(
    helper_path: Path, mm_target: Path, tmp_path: Path, command: str
) -> None:
    with running(mm_target, "zombie", tmp_path) as t:
        wait_task_state(t.pid, t.pid, "Z", "the leader did not exit")
        maps = Path(f"/proc/{t.pid}/task/{t.other}/maps").read_text()
        call = thread_syscalls(t.pid)
        assert set(call) == {t.pid, t.other}
        if command == "show":
            args = ["show", "--pid", str(t.pid)]
        else:
            args = remap_args(t.pid, command == "remap-dry-run")
        msg = refused(helper_path, "EOPNOTSUPP", *args)
        assert msg.startswith("thread-group leader has exited; its 1 other thread still runs")
        # the live thread: untraced, not stopped, same maps, still calling the vdso
        assert task_status(t.pid, t.other, "TracerPid") == "0"
        assert task_status(t.pid, t.other, "State")[0] not in "tT"
        assert Path(f"/proc/{t.pid}/task/{t.other}/maps").read_text() == maps
        assert task_status(t.pid, t.pid, "State")[0] == "Z"
        assert task_status(t.pid, t.pid, "TracerPid") == "0"
        t.assert_progress((1,))


# ---- a thread that cannot stop ----


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "real"])
def test_unstoppable_thread_ends_the_operation(
    helper_path: Path, mm_target: Path, tmp_path: Path, dry_run: bool
) -> None:
    """A thread waiting killably in the kernel for a userfaultfd page: the seize
    gives up after a second with nothing changed and nothing left stopped, and
    once the page is there the thread goes on as if the helper never came."""
    with running(mm_target, "stuck", tmp_path) as t:
        wait_task_state(t.pid, t.other, "D", "the thread did not block on its page")
        before = snapshot(t.pid, [])
        base = vdso_base(t.pid)
        msg = refused(helper_path, "EBUSY", *remap_args(t.pid, dry_run))
        assert msg.startswith(f"thread {t.other} did not stop within 1000 ms (state D)"), msg
        assert_unchanged(t.pid, before)
        assert vdso_base(t.pid) == base
        assert task_status(t.pid, t.other, "TracerPid") == "0"
        t.assert_progress((0,))
        # SIGUSR1: the target fills the page; a stop left pending would hold
        # the thread as soon as its vmsplice() returned
        os.kill(t.pid, signal.SIGUSR1)
        t.assert_progress((0, 1))
        assert_running_untraced(t.pid)


# ---- the control: one thread group, two threads ----


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "real"])
def test_thread_group_still_moves(
    helper_path: Path, mm_target: Path, tmp_path: Path, dry_run: bool
) -> None:
    with running(mm_target, "thread", tmp_path) as t:
        base = vdso_base(t.pid)
        out = ok(helper_path, *remap_args(t.pid, dry_run))
        checks = {c["name"]: c for c in out["checks"]}
        assert checks["shared_mm"]["ok"] is True
        assert "shared with no other process" in checks["shared_mm"]["detail"]
        assert_running_untraced(t.pid)
        if dry_run:
            assert vdso_base(t.pid) == base
        else:
            assert vdso_base(t.pid) == int(out["to"]["base"], 16) != base
        t.assert_progress((0, 1))
