"""vdso-helper exec: a program whose vdso is in place before its loader runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helperlib import assert_running_untraced, refused, vdso_base
from subjectlib import Status, build_dir

ADDR = {"x86_64": 0x7F1000000000, "i386": 0x60000000}


def run_exec(helper: Path, addr: int, argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(helper), "exec", "--vdso-addr", hex(addr), "--json", "--", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_status(path: Path, timeout: float = 10.0) -> Status:
    deadline = time.monotonic() + timeout
    while True:
        try:
            st = Status.parse(path.read_bytes())
            if st.ready:
                return st
        except (FileNotFoundError, AssertionError):
            pass
        assert time.monotonic() < deadline, f"{path}: subject never got ready"
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("subject-x86_64", "x86_64"),
        ("subject-i386", "i386"),
        ("subject-static-x86_64", "x86_64"),
        ("subject-static-i386", "i386"),
    ],
)
def test_exec_places_the_vdso(
    helper_path: Path, subjects_built: Path, tmp_path: Path, name: str, mode: str
) -> None:
    addr = ADDR[mode]
    status = tmp_path / "status"
    extra = ["--threads", "2"] if "static" not in name else []
    p = run_exec(helper_path, addr, [str(build_dir() / name), "--status", str(status), *extra])
    st = wait_status(status)
    try:
        # the program calls the vdso where we put it, through its own auxv
        assert vdso_base(st.pid) == addr
        assert st.vdso_base == addr
        assert_running_untraced(st.pid)
    finally:
        # it stops cleanly on SIGTERM, and the helper reports its status
        os.kill(st.pid, signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, (out, err)
    reply = json.loads(out.strip().splitlines()[-1])
    assert reply == {"pid": st.pid, "base": hex(addr), "status": 0}
    final = Status.parse(status.read_bytes())
    assert final.errors == 0 and final.calls > 0, final.last_error


def test_exec_python(helper_path: Path) -> None:
    """A real program: python3 with its vdso at a chosen address."""
    script = (
        "import time\n"
        "maps = open('/proc/self/maps').read()\n"
        "base = [l for l in maps.splitlines() if l.endswith('[vdso]')][0].split('-')[0]\n"
        # half a second of calls (see test_remap's PY_CLOCK_LOOP: time, not
        # a count, with a cap in case the clock stands still)
        "a = time.monotonic()\n"
        "end, n = a + 0.5, 0\n"
        "while a < end:\n"
        "    b = time.monotonic()\n"
        "    assert b >= a\n"
        "    a = b\n"
        "    n += 1\n"
        "    assert n < 50_000_000, 'monotonic stuck'\n"
        "print(base)\n"
    )
    p = run_exec(helper_path, ADDR["x86_64"], [sys.executable, "-c", script])
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, (out, err)
    lines = out.strip().splitlines()
    assert int(lines[0], 16) == ADDR["x86_64"]
    assert json.loads(lines[-1])["base"] == hex(ADDR["x86_64"])


def test_exec_without_address_just_runs(helper_path: Path) -> None:
    p = subprocess.run(
        [str(helper_path), "exec", "--json", "--", "sh", "-c", "exit 7"],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 7
    assert json.loads(p.stdout)["status"] == 7


def test_exec_status_and_signal(helper_path: Path) -> None:
    p = subprocess.run(
        [
            str(helper_path),
            "exec",
            "--vdso-addr",
            "0x7f2000000000",
            "--json",
            "--",
            "sh",
            "-c",
            "kill -TERM $$",
        ],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 128 + 15
    assert json.loads(p.stdout)["status"] == 128 + 15


def test_exec_refusals(helper_path: Path, subjects_built: Path) -> None:
    static386 = str(build_dir() / "subject-static-i386")
    refused(helper_path, "ENOENT", "exec", "--", "/nonexistent/program")
    msg = refused(helper_path, "EINVAL", "exec", "--vdso-addr", "0x60000010", "--", static386)
    assert "aligned" in msg
    # that non-PIE program's text sits at 0x8049000
    msg = refused(helper_path, "EEXIST", "exec", "--vdso-addr", "0x804a000", "--", static386)
    assert "occupied" in msg
    # the placement rules and their words are remap's (one check_dest())
    msg = refused(helper_path, "ENOMEM", "exec", "--vdso-addr", "0x200000000", "--", static386)
    assert "above the limit 0xffffe000 for a i386 process" in msg
    msg = refused(helper_path, "EINVAL", "exec", "--vdso-addr", "0x1000", "--", static386)
    assert "below mmap_min_addr 0x" in msg
    r = subprocess.run([str(helper_path), "exec", "--json"], capture_output=True)
    assert r.returncode == 2
