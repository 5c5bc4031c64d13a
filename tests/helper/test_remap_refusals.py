"""Every refusal is a clear error, and the target is left exactly as it was."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helperlib import (
    Snapshot,
    assert_unchanged,
    blocked_threads,
    maps_text,
    ok,
    refused,
    snapshot,
    vdso_base,
)
from subjectlib import Subject

NR_NANOSLEEP = {"x86_64": 230, "i386": 407}


@pytest.fixture
def quiet_subject(subjects_built: Path) -> Iterator[tuple[Subject, Snapshot]]:
    """A subject with one thread blocked for 30 s: its registers are visible and still."""
    with Subject.spawn("subject-x86_64", "--blocker", "--blocker-ms", "30000") as s:
        s.wait_ready()
        tids = blocked_threads(s.pid, NR_NANOSLEEP["x86_64"])
        assert tids
        yield s, snapshot(s.pid, tids)


def check_untouched(s: Subject, before: Snapshot) -> None:
    assert_unchanged(s.pid, before)
    s.assert_healthy(min_progress=200)


def test_occupied_destination(helper_path: Path, quiet_subject: tuple[Subject, Snapshot]) -> None:
    s, before = quiet_subject
    # the start of the executable's first mapping is certainly taken
    first = int(maps_text(s.pid).split("-", 1)[0], 16)
    msg = refused(
        helper_path, "EEXIST", "remap", "--pid", str(s.pid), "--addr", hex(first + 0x8000)
    )
    assert "occupied" in msg
    check_untouched(s, before)


@pytest.mark.parametrize(
    ("addr", "code", "word"),
    [
        pytest.param("0x7f0000000123", "EINVAL", "aligned", id="unaligned"),
        pytest.param("0x800000000000", "ENOMEM", "above the limit", id="above-user-space"),
        pytest.param("0xfffffffffffff000", "ENOMEM", "above the limit", id="last-page"),
        pytest.param("0x2000", "EINVAL", "below mmap_min_addr", id="below-mmap-min-addr"),
    ],
)
def test_bad_address(
    helper_path: Path, quiet_subject: tuple[Subject, Snapshot], addr: str, code: str, word: str
) -> None:
    s, before = quiet_subject
    msg = refused(helper_path, code, "remap", "--pid", str(s.pid), "--addr", addr)
    assert word in msg
    check_untouched(s, before)


def test_i386_block_must_stay_below_4g(helper_path: Path, subjects_built: Path) -> None:
    with Subject.spawn("subject-i386") as s:
        s.wait_ready()
        before = snapshot(s.pid, [])
        msg = refused(helper_path, "ENOMEM", "remap", "--pid", str(s.pid), "--addr", "0x100000000")
        assert "i386" in msg
        check_untouched(s, before)


def test_overlapping_old_text_with_proxy(
    helper_path: Path, quiet_subject: tuple[Subject, Snapshot]
) -> None:
    s, before = quiet_subject
    base = vdso_base(s.pid)
    refused(helper_path, "EEXIST", "remap", "--pid", str(s.pid), "--addr", hex(base + 0x1000))
    refused(helper_path, "EINVAL", "remap", "--pid", str(s.pid), "--addr", hex(base))
    check_untouched(s, before)


def main_blocked_in_vdso(s: Subject) -> Snapshot:
    """Once the main thread sleeps in glibc's clock_nanosleep (the time64
    call, 407, or the old one, 267) from inside [vdso]: its snapshot."""
    s.wait_in_vdso_syscall(nrs=(407, 267))
    return snapshot(s.pid, [s.pid])


def test_thread_blocked_inside_the_vdso(helper_path: Path, subjects_built: Path) -> None:
    """Idle i386 glibc sleeps inside __kernel_vsyscall: no --no-proxy move, no switch.

    Its sleeps last 2 s and each attempt starts once the sleep is seen from
    outside, so the thread is inside the vdso when the helper looks, however
    slow the machine (a 100 us sleep was caught there only by chance).
    """
    with Subject.spawn("subject-i386", "--idle-ms", "2000") as s:
        s.wait_ready()
        before = main_blocked_in_vdso(s)
        msg = refused(helper_path, "EBUSY", "remap", "--pid", str(s.pid), "--auto", "--no-proxy")
        assert "inside the vdso" in msg
        assert_unchanged(s.pid, before)
        before = main_blocked_in_vdso(s)
        msg = refused(
            helper_path,
            "EBUSY",
            "remap",
            "--pid",
            str(s.pid),
            "--auto",
            "--type",
            "x86_64",
            "--force",
        )
        assert "inside the vdso" in msg
        assert_unchanged(s.pid, before)
        # one more 2 s round: the sleep restarted after each refusal and ended
        s.assert_healthy(min_progress=1, timeout=10)
        # with a proxy the same process moves fine: the proxy keeps that code
        main_blocked_in_vdso(s)
        ok(helper_path, "remap", "--pid", str(s.pid), "--auto")
        s.assert_healthy(min_progress=1, timeout=10)


@pytest.mark.parametrize(
    ("target", "states", "reason"),
    [
        # mseal(2) on the vdso block: no move can be undone or done
        pytest.param("sealed_target", ("sealed",), "sealed", id="sealed-vdso"),
        # injected syscalls would become SIGSYS there; "unsupported" is a
        # kernel built without it
        pytest.param(
            "sud_target",
            ("ready", "unsupported"),
            "syscall user dispatch",
            id="syscall-user-dispatch",
        ),
    ],
)
def test_protected_target(
    helper_path: Path, targets_built: Path, target: str, states: tuple[str, ...], reason: str
) -> None:
    """Refused, the target untouched and still running."""
    p = subprocess.Popen([str(targets_built / target)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        state = p.stdout.readline().strip()
        assert state in states, state
        before = snapshot(p.pid, [])
        if state == "unsupported":
            # without it in the kernel the check must not misfire
            out = ok(helper_path, "remap", "--pid", str(p.pid), "--auto", "--dry-run")
            assert out["dry_run"] is True
        else:
            msg = refused(helper_path, "EPERM", "remap", "--pid", str(p.pid), "--auto")
            assert reason in msg
            assert_unchanged(p.pid, before)
        assert p.poll() is None
    finally:
        p.kill()
        p.wait()


def test_target_gone(helper_path: Path) -> None:
    p = subprocess.Popen(["true"])
    p.wait()
    time.sleep(0.05)
    refused(helper_path, "ESRCH", "remap", "--pid", str(p.pid), "--auto")


TRACED = r"""
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
child = os.fork()
if child == 0:
    libc.prctl(1, signal.SIGKILL)          # PR_SET_PDEATHSIG: ends with the tracer
    libc.ptrace(0, 0, None, None)          # PTRACE_TRACEME
    os.kill(os.getpid(), signal.SIGSTOP)
    while True:
        time.sleep(0.01)
os.waitpid(child, os.WUNTRACED)
libc.ptrace(7, child, None, None)          # PTRACE_CONT
print(child, flush=True)
time.sleep(600)
"""


def test_already_traced(helper_path: Path) -> None:
    tracer = subprocess.Popen([sys.executable, "-c", TRACED], stdout=subprocess.PIPE, text=True)
    pid = 0
    try:
        assert tracer.stdout is not None
        pid = int(tracer.stdout.readline())
        time.sleep(0.05)
        before = maps_text(pid)
        msg = refused(helper_path, "EBUSY", "remap", "--pid", str(pid), "--auto")
        assert f"traced by pid {tracer.pid}" in msg
        assert maps_text(pid) == before
        status = Path(f"/proc/{pid}/status").read_text()
        assert f"TracerPid:\t{tracer.pid}\n" in status
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state in "RS", state
    finally:
        # The traced child is the tracer's, not ours: end it by pid too, in
        # case it was forked before its death signal was armed.
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        tracer.kill()
        tracer.wait()


def test_switch_needs_force(helper_path: Path, quiet_subject: tuple[Subject, Snapshot]) -> None:
    s, before = quiet_subject
    msg = refused(helper_path, "EINVAL", "remap", "--pid", str(s.pid), "--auto", "--type", "i386")
    assert "x86_64" in msg and "--force" in msg
    check_untouched(s, before)


def test_bad_usage_touches_nothing(
    helper_path: Path, quiet_subject: tuple[Subject, Snapshot]
) -> None:
    s, before = quiet_subject
    for args in (
        ["--auto", "--addr", "0x7f0000000000"],
        [],
        ["--addr", "0x10000000000000000"],
        ["--addr", "-4096"],
        ["--auto", "--type", "arm64"],
    ):
        r = subprocess.run(
            [str(helper_path), "remap", "--pid", str(s.pid), *args, "--json"],
            capture_output=True,
        )
        assert r.returncode == 2, args
    check_untouched(s, before)
