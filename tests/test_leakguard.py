"""The leak guard catches what a test leaves behind (in a child pytest, so this
suite stays green), names it and the test that left it, and cleans up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
MARK = f"vdsotui-planted-{uuid.uuid4().hex[:8]}"

PLANTED = """
import os, subprocess, sys
from pathlib import Path

MARK, MNT = {mark!r}, {mnt!r}


def test_clean():
    subprocess.run(["true"], check=True)


def test_leaks_a_grandchild():
    # The shell exits at once; its background sleep is orphaned.
    sleeper = sys.executable + " -c 'import time; time.sleep(300)' " + MARK + " &"
    subprocess.run(["sh", "-c", sleeper], check=True)


def test_leaks_machine_state():
    Path("/tmp", MARK).write_text("left behind")
    subprocess.run(["mount", "-t", "tmpfs", MARK, MNT], check=True)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "--no-user-group", MARK[:30]], check=True)
"""

CLEAN = """
import subprocess

def test_clean_child():
    p = subprocess.Popen(["sleep", "300"])
    p.kill()
    p.wait()
"""


def child_pytest(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_planted.py").write_text(source)
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    env.pop("VDSOTUI_GUEST", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "leakguard", "-p", "no:cacheprovider",
         "-q", "--rootdir", str(tmp_path), str(tmp_path / "test_planted.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def alive_with(mark: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and mark.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


def cleanup_planted() -> None:
    Path("/tmp", MARK).unlink(missing_ok=True)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if MARK in line:
                subprocess.run(["umount", line.split()[4]], check=False)
    subprocess.run(["userdel", MARK[:30]], capture_output=True, check=False)


BUILD = TESTS.parent / "build"


def test_guard_catches_planted_leaks(tmp_path: Path) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    kept = set(BUILD.glob("test-tmp-*"))
    try:
        r = child_pytest(tmp_path, PLANTED.format(mark=MARK, mnt=str(mnt)))
        out = r.stdout + r.stderr
        assert r.returncode == pytest.ExitCode.TESTS_FAILED, out
        assert "3 passed" in out, out
        assert "left behind by the suite" in out, out
        leaked = [line for line in out.splitlines() if line.startswith("process ")]
        assert len(leaked) == 1, out
        assert "(test_planted.py::test_leaks_a_grandchild)" in leaked[0], out
        assert f"time.sleep(300) {MARK}" in leaked[0], out
        assert f"file /tmp/{MARK}" in out, out
        assert f"account {MARK[:30]}" in out, out
        assert f"mount {mnt}" in out, out
        # And it killed what it found.
        end = time.monotonic() + 5
        while alive_with(MARK) and time.monotonic() < end:
            time.sleep(0.05)
        assert alive_with(MARK) == []
    finally:
        cleanup_planted()
        # A failed run keeps its temporary directory: this one was planned.
        for d in set(BUILD.glob("test-tmp-*")) - kept:
            shutil.rmtree(d)


def test_guard_passes_a_clean_run(tmp_path: Path) -> None:
    before = set(BUILD.glob("test-tmp-*"))
    r = child_pytest(tmp_path, CLEAN)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "left behind" not in r.stdout
    # A passing run removes its own temporary directory.
    assert set(BUILD.glob("test-tmp-*")) == before
