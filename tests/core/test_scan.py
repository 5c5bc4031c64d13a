"""ProcSource against real processes, checked by an independent reading of /proc."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from subjectlib import Subject, subject_path

from vdsotui.model import Mode, VdsoType, Visibility
from vdsotui.procfs import ProcSource

ROOT = Path(__file__).resolve().parents[2]
_MAPS_LINE = re.compile(
    r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ (\d+)\s+(\[v(?:var\w*|dso)\])$", re.M
)


def independent_block(pid: int) -> list[tuple[int, int, str, str]]:
    """The vdso block as a plain regex over maps sees it."""
    text = Path(f"/proc/{pid}/maps").read_text()
    return [
        (int(lo, 16), int(hi, 16), perms, name)
        for lo, hi, perms, inode, name in _MAPS_LINE.findall(text)
        if inode == "0"
    ]


def independent_auxv_base(pid: int, word: int) -> int:
    data = Path(f"/proc/{pid}/auxv").read_bytes()
    fmt = "<QQ" if word == 8 else "<II"
    for key, value in struct.iter_unpack(fmt, data):
        if key == 33:
            return int(value)
    raise AssertionError("no AT_SYSINFO_EHDR")


def independent_base(pid: int) -> int:
    return next(b[0] for b in independent_block(pid) if b[3] == "[vdso]")


def independent_exe_class(pid: int) -> tuple[int, int]:
    with open(os.readlink(f"/proc/{pid}/exe"), "rb") as f:
        head = f.read(20)
    return head[4], struct.unpack_from("<H", head, 18)[0]


@pytest.mark.parametrize(
    ("name", "mode", "word"),
    [("subject-x86_64", Mode.X86_64, 8), ("subject-i386", Mode.I386, 4)],
)
def test_scan_finds_subject(name: str, mode: Mode, word: int) -> None:
    with Subject.spawn(name) as subj:
        subj.wait_ready(10)
        result = ProcSource().scan()
        proc = result.processes[subj.pid]
        assert proc.visibility is Visibility.VISIBLE
        assert proc.mode is mode
        assert (
            independent_exe_class(subj.pid)
            == {
                Mode.X86_64: (2, 62),
                Mode.I386: (1, 3),
            }[mode]
        )
        assert proc.vdso_type is mode.vdso_type
        block = independent_block(subj.pid)
        assert proc.block is not None
        assert [(m.start, m.end, m.perms, m.name) for m in proc.block.mappings] == block
        base = independent_base(subj.pid)
        assert proc.base == base
        assert proc.auxv_base == independent_auxv_base(subj.pid, word) == base
        assert proc.flags == ()
        assert proc.command == name[:15]
        assert proc.user == "root" and proc.threads >= 1
        subj.assert_healthy()


def test_command_line_is_read_once_and_kernel_threads_have_none() -> None:
    with Subject.spawn("subject-x86_64") as subj:
        subj.wait_ready(10)
        expected = Path(f"/proc/{subj.pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        source = ProcSource()
        proc = source.scan().processes[subj.pid]
        assert proc.cmdline == " ".join(a.decode() for a in expected)
        assert proc.cmdline.startswith(str(subject_path("subject-x86_64")) + " --status ")
        assert proc.to_json()["cmdline"] == proc.cmdline
        again = source.scan().processes
        assert again[subj.pid] is proc  # unchanged: not re-read, not a change
        assert again[2].cmdline == ""  # kthreadd
        subj.assert_healthy()


def test_moved_is_detected_and_only_changed_processes_are_reparsed() -> None:
    with Subject.spawn("subject-x86_64") as subj:
        subj.wait_ready(10)
        source = ProcSource()
        first = source.scan().processes[subj.pid]
        second_scan = source.scan()
        # Unchanged block: the very same object, nothing re-parsed.
        assert second_scan.processes[subj.pid] is first
        assert subj.pid not in second_scan.changed
        assert source.stats.reused >= 1

        subj.self_move(timeout=10)
        third = source.scan()
        moved = third.processes[subj.pid]
        assert subj.pid in third.changed
        assert moved is not first
        assert moved.base == subj.status().vdso_base != first.base
        assert moved.base == independent_base(subj.pid)
        assert moved.auxv_base == first.base  # auxv still names the old place
        assert moved.moved and "moved" in moved.flags
        assert not moved.proxy  # a self-move leaves no proxy behind
        assert moved.vdso_type is VdsoType.X86_64
        subj.assert_healthy()


def test_kernel_thread_zombie_and_gone() -> None:
    zombie = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 5
        while Path(f"/proc/{zombie.pid}/stat").read_text().split(") ")[1][0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        procs = ProcSource().scan().processes
        assert procs[2].visibility is Visibility.KERNEL_THREAD
        assert procs[2].flags == ("kernel_thread",)
        assert procs[zombie.pid].visibility is Visibility.ZOMBIE
        assert procs[zombie.pid].block is None and not procs[zombie.pid].moved
    finally:
        zombie.wait()
    # Listed, then gone before it was read: the race a scan always has.
    gone = ProcSource(list_pids=lambda: [zombie.pid]).scan().processes[zombie.pid]
    assert gone.visibility is Visibility.GONE
    assert gone.base is None and gone.flags == ("gone",)


def test_removed_processes_leave_the_scan() -> None:
    source = ProcSource()
    with Subject.spawn("subject-x86_64") as subj:
        subj.wait_ready(10)
        pid = subj.pid
        assert pid in source.scan().processes
    # The subject has been stopped and reaped by now.
    result = source.scan()
    assert pid in result.removed and pid not in result.processes


def test_unprivileged_user_sees_others_as_not_visible(scan_user: str) -> None:
    with (
        Subject.spawn("subject-x86_64") as theirs,
        Subject.spawn("subject-i386", user=scan_user) as mine,
    ):
        theirs.wait_ready(10)
        mine.wait_ready(10)
        run = subprocess.run(
            [
                "setpriv",
                f"--reuid={scan_user}",
                f"--regid={scan_user}",
                "--init-groups",
                "--",
                sys.executable,
                "-m",
                "vdsotui",
                "list",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert run.returncode == 0, run.stderr
        assert run.stderr == ""
        procs = {p["pid"]: p for p in json.loads(run.stdout)["processes"]}
        other = procs[theirs.pid]
        assert other["visibility"] == "not_visible"
        assert other["base"] is None and other["block"] == [] and other["mode"] == "unknown"
        own = procs[mine.pid]
        assert own["visibility"] == "visible"
        assert own["user"] == scan_user
        assert own["mode"] == "i386" and own["vdso_type"] == "i386"
        assert own["base"] == hex(independent_base(mine.pid))
        assert procs[2]["visibility"] == "kernel_thread"
