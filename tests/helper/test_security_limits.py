"""Hard resource limits the helper cannot raise: every reply stays clean.

Root without CAP_SYS_RESOURCE (as in this container) cannot raise a hard
limit, and neither can the setuid helper started by an unprivileged caller
there. The caller may then starve it of memory at any point of its work. Any
reply it gives must still be the protocol's: with --json one line of valid
JSON, an error naming its true cause in printable text (no bytes of an
unset buffer); without --json one line on stderr. The target is never left
half done.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from subjectlib import Subject
from users import (
    User,
    as_user_argv,
    assert_untouched,
    running_subject,
    snapshot,
    temp_dir,
    user_fixture,
)

pytestmark = pytest.mark.usefixtures("subjects_built")

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def documented_codes() -> set[str]:
    """The stable error codes as docs/protocol.md lists them: read from the page, so
    that a code added there (EMFILE, ENFILE) is accepted here too."""
    text = PROTOCOL.read_text()
    start = text.index("where CODE is a stable")
    para = text[start : text.index("Without `--json`", start)]
    return set(re.findall(r"`(E[A-Z0-9]+)`", para))


CODES = documented_codes()
PRINTABLE = re.compile(r"[\x20-\x7e]+")
STEP = 32 * 1024

alice = user_fixture("alice", "vdsol")


@pytest.fixture
def target(alice: User) -> Iterator[Subject]:
    with running_subject(alice, "--threads", "2") as subj:
        yield subj


def run_limited(user: User, data: int, argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    full = as_user_argv(user, ["prlimit", f"--data={data}:{data}", *argv])
    return subprocess.run(full, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)


def lowest_limit_that_starts(helper: Path, user: User) -> int:
    """The smallest RLIMIT_DATA (in STEPs) with which the loader gets as far as main():
    below it the process dies before any of the helper's code runs."""
    data = STEP
    while data < 16 * 1024 * 1024:
        res = run_limited(user, data, [str(helper), "--version"])
        if res.returncode not in (127, -11):
            return data
        data += STEP
    raise AssertionError("the helper never started")


def assert_clean_json(
    res: subprocess.CompletedProcess[bytes], what: str, warnings: bool = False
) -> dict[str, object]:
    """@warnings: stderr may hold "vdso-helper: warning: ..." lines (the config file
    is skipped, with a warning, when no descriptor is left to open it)."""
    out = res.stdout
    assert out.endswith(b"\n") and out.count(b"\n") == 1, f"{what}: not one line: {res}"
    text = out.decode("utf-8")  # strict: any stray byte fails here
    obj = json.loads(text)
    assert isinstance(obj, dict), f"{what}: {text!r}"
    if res.returncode == 0:
        assert "error" not in obj, f"{what}: {obj}"
        return obj
    assert res.returncode in (1, 2), f"{what}: {res}"
    assert set(obj) == {"error", "message"}, f"{what}: {obj}"
    assert obj["error"] in CODES, f"{what}: {obj}"
    msg = obj["message"]
    assert isinstance(msg, str) and PRINTABLE.fullmatch(msg), f"{what}: unclean message {obj}"
    # '?' is what the helper prints for a control byte: the sign of an unset buffer
    assert "?" not in msg and len(msg) >= 10, f"{what}: meaningless message {obj}"
    if obj["error"] == "ENOMEM":
        assert "memory" in msg, f"{what}: ENOMEM that does not say so: {obj}"
    lines = res.stderr.decode("ascii").splitlines()
    assert warnings or not lines, f"{what}: {res}"
    assert all(line.startswith("vdso-helper: warning: ") for line in lines), f"{what}: {res}"
    return obj


def assert_clean_text(res: subprocess.CompletedProcess[bytes], what: str) -> None:
    if res.returncode == 0:
        return
    assert res.returncode in (1, 2), f"{what}: {res}"
    err = res.stderr
    assert err.endswith(b"\n") and err.count(b"\n") == 1, f"{what}: not one line: {res}"
    line = err.decode("ascii")
    m = re.fullmatch(r"vdso-helper: (E[A-Z0-9]+): ([\x20-\x7e]+)\n", line)
    assert m and m.group(1) in CODES and "?" not in m.group(2), f"{what}: {line!r}"


def test_documented_codes_are_read() -> None:
    assert {"EPERM", "ESRCH", "EIO", "EACCES", "EMFILE", "ENFILE"} <= CODES, CODES


def test_small_nofile_limits_give_clean_replies(
    setuid_helper: Path, alice: User, target: Subject
) -> None:
    """Out of file descriptors (a hard RLIMIT_NOFILE), the reply is as clean as under
    RLIMIT_DATA: one line of JSON with a documented code, the target left whole."""
    pid = str(target.pid)
    seen = set()
    for n in range(4, 40):
        before = snapshot(target.pid)
        argv = ["prlimit", f"--nofile={n}:{n}", str(setuid_helper), "remap", "--pid", pid]
        res = subprocess.run(
            as_user_argv(alice, [*argv, "--auto", "--json"]),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
        )
        obj = assert_clean_json(res, f"remap at --nofile={n}", warnings=True)
        seen.add(str(obj.get("error", "ok")))
        if res.returncode == 0:
            break
        assert_untouched(target.pid, before)
    assert "EMFILE" in seen and "ok" in seen, seen
    target.assert_healthy(min_progress=130)


def test_small_data_limits_give_clean_replies(
    setuid_helper: Path, alice: User, target: Subject
) -> None:
    """From the smallest RLIMIT_DATA at which the helper starts until a real move
    succeeds, every command answers cleanly, and a failed one leaves the target whole."""
    pid = str(target.pid)
    start = lowest_limit_that_starts(setuid_helper, alice)
    with temp_dir("vdsosec-limits-") as d:
        d.chmod(0o777)
        cmds = {
            "usage": ["remap", "--pid", pid],
            "info": ["info", "--type", "x86_64"],
            "image": ["image", "--type", "x86_64", "-o", str(d / "img")],
            "show": ["show", "--pid", pid],
            "dry-run": ["remap", "--pid", pid, "--auto", "--dry-run"],
            "remap": ["remap", "--pid", pid, "--auto"],
        }
        seen: dict[str, set[str]] = {name: set() for name in cmds}
        moved = 0
        data = start
        while moved < 2:
            assert data < 16 * 1024 * 1024, f"no move succeeded: {seen}"
            for name, cmd in cmds.items():
                before = snapshot(target.pid)
                what = f"{name} at --data={data}"
                res = run_limited(alice, data, [str(setuid_helper), *cmd, "--json"])
                obj = assert_clean_json(res, what)
                seen[name].add(str(obj.get("error", "ok")))
                if name == "remap" and res.returncode == 0:
                    moved += 1
                elif name in ("remap", "dry-run", "show"):
                    assert_untouched(target.pid, before)
                text = run_limited(alice, data, [str(setuid_helper), *cmd])
                assert_clean_text(text, what + " (text)")
                if name == "remap" and text.returncode == 0:
                    moved += 1
            data += STEP
    target.assert_healthy(min_progress=130)
    # the sweep reached the shortage and got past it
    assert "ENOMEM" in seen["remap"] and "ok" in seen["remap"], seen
