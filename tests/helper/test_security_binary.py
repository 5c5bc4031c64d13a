"""The installed setuid binary carries the hardening it is built for.

Checked on the installed copy with readelf: position independent, full
RELRO (read-only relocations, bound at start), a non-executable stack, stack
protector and fortified libc calls in use, no RPATH/RUNPATH through which a
library could be planted, and the installed file itself root-owned and not
writable by anyone else.
"""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path


def readelf(path: Path, *opts: str) -> str:
    return subprocess.run(
        ["readelf", "-W", *opts, str(path)], capture_output=True, text=True, check=True
    ).stdout


def test_installed_mode(setuid_helper: Path) -> None:
    st = setuid_helper.stat()
    assert st.st_uid == 0 and st.st_gid == 0
    assert stat.S_IMODE(st.st_mode) == 0o4755
    parent = setuid_helper.parent.stat()
    assert parent.st_uid == 0 and not parent.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def test_pie_relro_now_nx(setuid_helper: Path) -> None:
    header = readelf(setuid_helper, "-h")
    assert "DYN (Position-Independent Executable file)" in header
    segments = readelf(setuid_helper, "-l")
    assert "GNU_RELRO" in segments
    stack = [ln for ln in segments.splitlines() if "GNU_STACK" in ln]
    assert len(stack) == 1 and "E" not in stack[0].split()[-2], stack
    dynamic = readelf(setuid_helper, "-d")
    assert "BIND_NOW" in dynamic or "Flags: NOW" in dynamic
    assert "RPATH" not in dynamic and "RUNPATH" not in dynamic


def test_stack_protector_and_fortify(setuid_helper: Path) -> None:
    syms = readelf(setuid_helper, "--dyn-syms")
    assert "__stack_chk_fail" in syms
    fortified = {tok.split("@")[0] for tok in syms.split() if "_chk@" in tok}
    assert len(fortified) >= 3, fortified
