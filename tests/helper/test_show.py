"""vdso-helper show: a target as the helper sees it, without stopping it."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from helperlib import assert_running_untraced, block, ok, refused, vdso_base
from subjectlib import Subject

NR_CLOCK_NANOSLEEP = {"x86_64": 230, "i386": 407}  # i386: clock_nanosleep_time64


@pytest.mark.parametrize("mode", ["x86_64", "i386"])
def test_show_matches_proc(helper_path: Path, subjects_built: Path, mode: str) -> None:
    with Subject.spawn(
        f"subject-{mode}", "--threads", "2", "--blocker", "--blocker-ms", "20000"
    ) as s:
        s.wait_ready()
        out = ok(helper_path, "show", "--pid", str(s.pid))
        assert out["pid"] == s.pid and out["command"] == f"subject-{mode}"
        assert out["mode"] == mode and out["vdso_type"] == mode
        blk = block(s.pid)
        assert [(int(b["start"], 16), int(b["end"], 16), b["name"]) for b in out["block"]] == blk
        assert all(b["size"] == int(b["end"], 16) - int(b["start"], 16) for b in out["block"])
        assert out["base"] == hex(vdso_base(s.pid)) == out["auxv_base"]
        assert out["moved"] is False and out["proxies"] == []
        tids = sorted(int(t) for t in os.listdir(f"/proc/{s.pid}/task"))
        assert sorted(t["tid"] for t in out["threads"]) == tids
        # the blocker thread sits in clock_nanosleep with a readable ip
        sleepers = [
            t for t in out["threads"] if t["where"] == f"syscall {NR_CLOCK_NANOSLEEP[mode]}"
        ]
        assert sleepers and all(t["ip"] is not None for t in sleepers)
        assert out["policy"]["allowed"] is True and out["policy"]["reason"]
        assert_running_untraced(s.pid)
        s.assert_healthy(min_progress=200)


def test_show_after_move(helper_path: Path, subjects_built: Path) -> None:
    with Subject.spawn("subject-x86_64") as s:
        s.wait_ready()
        old = vdso_base(s.pid)
        moved = ok(helper_path, "remap", "--pid", str(s.pid), "--auto")
        new = int(moved["to"]["base"], 16)
        out = ok(helper_path, "show", "--pid", str(s.pid))
        assert out["moved"] is True
        assert out["base"] == hex(new) and out["auxv_base"] == hex(old)
        text = next(hi - lo for lo, hi, n in block(s.pid) if n == "[vdso]")
        assert out["proxies"] == [{"base": hex(old), "size": text, "target": hex(new)}]
        # the mark the inspection core relies on (docs/protocol.md)
        with open(f"/proc/{s.pid}/mem", "rb") as mem:
            mem.seek(old)
            assert mem.read(16)[9:16] == b"VDSOPXY"
        s.assert_healthy(min_progress=200)


def test_show_does_not_stop_a_busy_target(helper_path: Path, subjects_built: Path) -> None:
    with Subject.spawn("subject-x86_64", "--busy", "--threads", "1") as s:
        s.wait_ready()
        before = s.status().heartbeat
        for _ in range(20):
            ok(helper_path, "show", "--pid", str(s.pid))
        assert s.status().heartbeat > before
        assert_running_untraced(s.pid)


def test_show_gone_process(helper_path: Path) -> None:
    p = subprocess.Popen(["true"])
    p.wait()
    time.sleep(0.05)
    refused(helper_path, "ESRCH", "show", "--pid", str(p.pid))


def test_show_bad_pid(helper_path: Path) -> None:
    for bad in ("0", "-1", "12abc", "0x10", "99999999999"):
        r = subprocess.run([str(helper_path), "show", "--pid", bad, "--json"], capture_output=True)
        assert r.returncode == 2, bad


def test_show_thread_inside_the_vdso(helper_path: Path, subjects_built: Path) -> None:
    """Idle i386 glibc sleeps inside __kernel_vsyscall: show says so."""
    with Subject.spawn("subject-i386", "--idle-in-vdso") as s:
        s.wait_ready()
        deadline = time.monotonic() + 5
        while True:
            out = ok(helper_path, "show", "--pid", str(s.pid))
            main = next(t for t in out["threads"] if t["tid"] == s.pid)
            if main["in_vdso"] or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert main["in_vdso"] is True and main["where"].startswith("syscall ")
        base = int(out["base"], 16)
        assert base <= int(main["ip"], 16) < base + 0x10000
