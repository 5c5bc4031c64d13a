"""Type switches: refused unless asked for, and working end to end for a restorer."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helperlib import (
    assert_running_untraced,
    assert_unchanged,
    block,
    ok,
    path_expected,
    refused,
    snapshot,
    vdso_base,
)
from subjectlib import Subject

ELF_TYPES = {(1, 3): "i386", (2, 62): "x86_64", (1, 62): "x32"}  # (EI_CLASS, e_machine)


def vdso_type(pid: int) -> str:
    with open(f"/proc/{pid}/mem", "rb") as mem:
        mem.seek(vdso_base(pid))
        h = mem.read(20)
    assert h[:4] == b"\x7fELF"
    return ELF_TYPES[(h[4], int.from_bytes(h[18:20], "little"))]


def switch(helper: Path, pid: int, to: str, *extra: str) -> dict:
    out = ok(helper, "remap", "--pid", str(pid), "--type", to, *extra)
    assert out["operation"] == "switch" and out["path"] == path_expected()
    assert out["proxy"] is False and out["to"]["type"] == to
    assert vdso_base(pid) == int(out["to"]["base"], 16)
    assert vdso_type(pid) == to
    # the block is whole: vvar VMAs directly in front of the text
    b = block(pid)
    assert b[-1][2] == "[vdso]" and all(b[i][1] == b[i + 1][0] for i in range(len(b) - 1))
    assert b[0][0] == int(out["to"]["vvar_start"], 16)
    assert_running_untraced(pid)
    return out


def test_restorer_switch_to_i386(helper_path: Path, subjects_built: Path) -> None:
    """A 64-bit process, switched to the i386 vdso, calls it from 32-bit code."""
    with Subject.spawn("restorer-x86_64") as s:
        s.wait_ready()
        refused(helper_path, "EINVAL", "remap", "--pid", str(s.pid), "--auto", "--type", "i386")
        out = switch(helper_path, s.pid, "i386", "--auto", "--force")
        assert out["from"]["type"] == "x86_64"
        assert int(out["to"]["base"], 16) + 0x100000 < 1 << 32
        mode_check = [c for c in out["checks"] if c["name"] == "mode"]
        assert mode_check and mode_check[0]["ok"] is False and "forced" in mode_check[0]["detail"]
        s.signal(signal.SIGUSR2)
        assert s.wait(timeout=10) == 0, s.status().last_error
        st = s.status()
        assert st.errors == 0
        assert abs(st.aux - time.time()) < 5, st.aux


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A glibc process that makes no time calls while it sleeps."""
    p = subprocess.Popen(["sleep", "600"])
    # settled once it sleeps in clock_nanosleep (230): the loader is done mapping
    deadline = time.monotonic() + 30
    while Path(f"/proc/{p.pid}/syscall").read_text().split()[0] != "230":
        assert time.monotonic() < deadline, "sleep never went to sleep"
        time.sleep(0.01)
    try:
        yield p
    finally:
        p.kill()
        p.wait()


def test_switch_there_and_back(helper_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    pid = sleeper.pid
    switch(helper_path, pid, "i386", "--addr", "0x50000000", "--force")
    assert vdso_base(pid) == 0x50000000
    # back to the process's own type: no --force needed
    switch(helper_path, pid, "x86_64", "--auto")
    assert sleeper.poll() is None
    assert_running_untraced(pid)
    # Released, its nanosleep restarts: on a loaded machine it may be seen
    # running for a moment before it sleeps again.
    deadline = time.monotonic() + 5
    while (state := Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "S":
        assert time.monotonic() < deadline, f"sleep 600 is in state {state}, not asleep"
        time.sleep(0.01)


def test_switch_dry_run(helper_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    before = snapshot(sleeper.pid, [])
    out = ok(
        helper_path,
        "remap",
        "--pid",
        str(sleeper.pid),
        "--auto",
        "--type",
        "i386",
        "--force",
        "--dry-run",
    )
    assert out["operation"] == "switch" and out["dry_run"] is True
    assert out["from"]["type"] == "x86_64" and out["to"]["type"] == "i386"
    assert_unchanged(sleeper.pid, before)


def test_x32_switch(helper_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    """Where the kernel has no x32 the switch is refused and nothing changes."""
    x32 = ok(helper_path, "info", "--type", "x32")["types"][0]
    if x32["available"]:
        switch(helper_path, sleeper.pid, "x32", "--auto", "--force")
        switch(helper_path, sleeper.pid, "x86_64", "--auto")
    else:
        before = snapshot(sleeper.pid, [])
        msg = refused(
            helper_path,
            "EOPNOTSUPP",
            "remap",
            "--pid",
            str(sleeper.pid),
            "--auto",
            "--type",
            "x32",
            "--force",
        )
        assert "x32" in msg
        assert_unchanged(sleeper.pid, before)
    assert sleeper.poll() is None
