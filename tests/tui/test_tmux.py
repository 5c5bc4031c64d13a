"""`vdsotui` in a real terminal (tmux), driven like a person: keys in, screen out."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from subjectlib import Subject

from tui.test_real import setuid_helper  # noqa: F401 - shared fixture

# The console script installed beside the interpreter running the tests.
VDSOTUI = Path(sys.executable).parent / "vdsotui"
REPO = Path(__file__).resolve().parents[2]


class Terminal:
    """One tmux server of our own (its own socket), one 120x40 window."""

    def __init__(self) -> None:
        # -S in a directory of our own: -L would leave /tmp/tmux-UID behind.
        # Short, as a socket path must be: not under the test's tmp_path.
        self.socket_dir = Path(tempfile.mkdtemp(prefix="tmux"))
        self.socket = str(self.socket_dir / "s")

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        # COLUMNS/LINES (pytest sets them) would override the pane's real size.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        return subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=10, env=env
        )

    def start(self, argv: list[str]) -> None:
        r = self.tmux("new-session", "-d", "-s", "main", "-x", "120", "-y", "40", "--", *argv)
        assert r.returncode == 0, r.stderr
        # Without an attached client tmux sizes windows by default-size (80x24).
        r = self.tmux("resize-window", "-t", "main", "-x", "120", "-y", "40")
        assert r.returncode == 0, r.stderr

    def keys(self, *keys: str, literal: bool = False) -> None:
        r = self.tmux("send-keys", "-t", "main", *(["-l"] if literal else []), *keys)
        assert r.returncode == 0, r.stderr

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "main").stdout

    def wait_for(self, what: str | Callable[[str], bool], timeout: float = 15.0) -> str:
        test = what if callable(what) else (lambda s: what in s)
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if test(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"never saw {what!r} on screen; last screen:\n{screen}")

    def alive(self) -> bool:
        return self.tmux("has-session", "-t", "main").returncode == 0

    def close(self) -> None:
        self.tmux("kill-server")
        shutil.rmtree(self.socket_dir, ignore_errors=True)


@pytest.fixture
def term() -> Iterator[Terminal]:
    assert shutil.which("tmux"), "tmux is needed (apt package tmux)"
    t = Terminal()
    try:
        yield t
    finally:
        t.close()


def row_of(screen: str, pid: int) -> str:
    for line in screen.splitlines():
        if line.split()[:1] == [str(pid)]:
            return line
    return ""


def test_vdsotui_in_tmux(term: Terminal, setuid_helper: Path) -> None:  # noqa: F811
    assert VDSOTUI.is_file(), f"{VDSOTUI}: run the tests from the project venv"
    with Subject.spawn("subject-x86_64") as s:
        s.wait_ready()
        old = s.maps_vdso_base()
        assert old is not None
        term.start([str(VDSOTUI), "--helper", str(setuid_helper), "--interval", "1"])
        screen = term.wait_for(lambda sc: "processes" in sc and "helper ready" in sc)
        assert f"kernel {os.uname().release}" in screen
        assert "PID" in screen and "COMM" in screen and "STATE" in screen
        # Filter down to the subject, as a person would.
        term.keys("/")
        term.wait_for("filter: text 1234")  # a person types once the box is there
        term.keys(f"pid:{s.pid}", literal=True)
        term.keys("Enter")
        screen = term.wait_for(lambda sc: "1 shown" in sc and bool(row_of(sc, s.pid)))
        row = row_of(screen, s.pid)
        assert "subject-x86_" in row and f"{old:x}" in row and " ok" in row
        term.keys("m")
        screen = term.wait_for("move via stock path")
        assert f"Move the vdso of {s.pid} (subject-x86_64)" in screen
        assert f"from x86_64 at {old:#x}" in screen
        term.keys("C-y")
        screen = term.wait_for(lambda sc: "moved proxy" in row_of(sc, s.pid))
        new = s.maps_vdso_base()
        assert new is not None and new != old
        assert f"{new:x}" in row_of(screen, s.pid)
        s.assert_healthy()
        term.keys("?")
        term.wait_for("vdsotui keys")
        term.keys("Escape")
        term.wait_for(lambda sc: "vdsotui keys" not in sc)
        term.keys("q")
        end = time.monotonic() + 10
        while term.alive() and time.monotonic() < end:
            time.sleep(0.1)
        assert not term.alive(), "q did not quit vdsotui"
        s.assert_healthy()


def test_refusals_explained_in_tmux(term: Terminal) -> None:
    """Read-only mode and a helper path that does not exist: words, no traceback."""
    missing = Path("/nonexistent-vdsotui/vdso-helper")  # short: the toast must not wrap it
    assert not missing.exists()
    term.start([str(VDSOTUI), "--read-only", "--helper", str(missing)])
    screen = term.wait_for(lambda sc: "helper unusable" in sc and "READ-ONLY" in sc)
    assert "kernel " in screen
    term.keys("m")
    screen = term.wait_for("Read-only mode")
    assert "Traceback" not in screen
    term.keys("q")
    end = time.monotonic() + 10
    while term.alive() and time.monotonic() < end:
        time.sleep(0.1)
    assert not term.alive()

    term2 = Terminal()
    try:
        term2.start([str(VDSOTUI), "--helper", str(missing)])
        term2.wait_for(lambda sc: "processes" in sc and "helper unusable" in sc)
        term2.keys("m")
        screen = term2.wait_for("The helper cannot be used")
        assert f"{missing} does not exist" in screen
        assert "Traceback" not in screen
        term2.keys("q")
    finally:
        term2.close()
