"""Running vdso-helper from tests, and proving a target was left as it was."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Result:
    rc: int
    out: dict[str, Any]
    stderr: str

    @property
    def error(self) -> str | None:
        err = self.out.get("error")
        return str(err) if err is not None else None


def run(helper: Path, *args: str, timeout: float = 60.0) -> Result:
    """Run the helper with --json; parse its one JSON object."""
    argv = list(args)
    # exec: everything after "--" belongs to the program
    argv.insert(argv.index("--") if "--" in argv else len(argv), "--json")
    p = subprocess.run([str(helper), *argv], capture_output=True, text=True, timeout=timeout)
    try:
        out = json.loads(p.stdout) if p.stdout.strip() else {}
    except json.JSONDecodeError as e:
        raise AssertionError(f"helper printed no JSON: {p.stdout!r} {p.stderr!r}") from e
    return Result(p.returncode, out, p.stderr)


def ok(helper: Path, *args: str) -> dict[str, Any]:
    r = run(helper, *args)
    assert r.rc == 0, f"helper {' '.join(args)} failed: {r.out} {r.stderr}"
    assert "error" not in r.out
    return r.out


def refused(helper: Path, code: str, *args: str) -> str:
    """The helper must refuse with CODE; returns the message."""
    r = run(helper, *args)
    assert r.rc == 1, f"expected {code}, got rc={r.rc}: {r.out} {r.stderr}"
    assert r.out.get("error") == code, f"expected {code}: {r.out}"
    msg = str(r.out.get("message", ""))
    assert msg and "\n" not in msg
    return msg


def expect_syscall() -> bool:
    """True inside the patched guest kernel: the syscall path must be taken."""
    return os.environ.get("VDSOTUI_EXPECT_SYSCALL", "") == "1"


def path_expected() -> str:
    return "syscall" if expect_syscall() else "stock"


def source_expected() -> str:
    return "syscall" if expect_syscall() else "probe"


# ---- the target, observed from outside ----


def maps_text(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def block(pid: int) -> list[tuple[int, int, str]]:
    out = []
    for line in maps_text(pid).splitlines():
        parts = line.split()
        if len(parts) >= 6 and (parts[5] == "[vdso]" or parts[5].startswith("[vvar")):
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            out.append((lo, hi, parts[5]))
    return out


def vdso_base(pid: int) -> int:
    for lo, _hi, name in block(pid):
        if name == "[vdso]":
            return lo
    raise AssertionError(f"no [vdso] in /proc/{pid}/maps")


def status_field(pid: int, key: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {key} in /proc/{pid}/status")


def thread_syscalls(pid: int) -> dict[int, str]:
    """/proc/P/task/T/syscall of every thread: number, arguments, sp and pc."""
    out = {}
    for tid in sorted(int(t) for t in os.listdir(f"/proc/{pid}/task")):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            out[tid] = Path(f"/proc/{pid}/task/{tid}/syscall").read_text().strip()
    return out


def assert_running_untraced(pid: int) -> None:
    """Not traced, not stopped: the helper let go of every thread."""
    deadline = time.monotonic() + 2.0
    while True:
        tracer = status_field(pid, "TracerPid")
        states = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            except FileNotFoundError:
                continue
            states.append(stat.rsplit(")", 1)[1].split()[0])
        if tracer == "0" and not any(s in "tT" for s in states):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"pid {pid}: TracerPid {tracer}, thread states {states}")
        time.sleep(0.01)


@dataclass
class Snapshot:
    maps: str
    blocked: dict[int, str]


def snapshot(pid: int, blocked_tids: list[int]) -> Snapshot:
    calls = thread_syscalls(pid)
    assert all(" " in calls.get(t, "") for t in blocked_tids), calls
    return Snapshot(maps_text(pid), {t: calls[t] for t in blocked_tids})


def blocked_threads(pid: int, nr: int) -> list[int]:
    """Threads other than the main one sitting in syscall NR, the same over 50 ms
    (a long sleep: their registers are visible and still)."""
    first = thread_syscalls(pid)
    time.sleep(0.05)
    again = thread_syscalls(pid)
    return [
        t
        for t, line in first.items()
        if t != pid and line.split()[0] == str(nr) and again.get(t) == line
    ]


def assert_unchanged(pid: int, before: Snapshot) -> None:
    """Maps identical; blocked threads' registers (nr, args, sp, pc) identical."""
    assert_running_untraced(pid)
    assert maps_text(pid) == before.maps, "the target's maps changed"
    for tid, line in before.blocked.items():
        # A stopped sleep resumes through restart_syscall (219; i386: 0), exactly as
        # after SIGSTOP/SIGCONT: same arguments, stack pointer and pc. Right after
        # the release it may still be on its way back in ("running").
        nr, rest = line.split(" ", 1)
        deadline = time.monotonic() + 2.0
        while True:
            after = thread_syscalls(pid).get(tid, "")
            nr2, rest2 = after.split(" ", 1) if " " in after else (after, "")
            if rest2 == rest and nr2 in (nr, "219", "0"):
                break
            assert after == "running" and time.monotonic() < deadline, (
                f"thread {tid} registers changed: {line!r} -> {after!r}"
            )
            time.sleep(0.005)
