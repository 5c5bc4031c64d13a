"""Malformed and overlong arguments: a usage error (exit 2, EINVAL), never an action.

Every bad value is given next to an otherwise valid command on a live target
that the caller may act on, so a helper that misparsed the value into
something usable would act, and the target checks would catch it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from subjectlib import Subject
from users import Result, User, assert_untouched, run_as, running_subject, snapshot, user_fixture

pytestmark = pytest.mark.usefixtures("subjects_built")

BAD_PIDS = [
    "",
    "-1",
    "+1",
    " 1",
    "1 ",
    "0",
    "00",
    "0x10",
    "1e3",
    "1.0",
    "12abc",
    "99999999999999999999999",
    "4294967297",
    "2147483648",
    "4194304",
    "\u0661\u0662",  # Arabic-Indic digits
    "%s%n%x",
    "1\n2",
    "9" * 100_000,
]
BAD_ADDRS = [
    "",
    "-1",
    "-0x1000",
    "+0x1000",
    "0x",
    "0X",
    "x1000",
    "0xg000",
    "0x1000 ",
    " 0x1000",
    "0x-1000",
    "0x1_000",
    "1.5",
    "0x10000000000000000",
    "0x1ffffffffffffffff",
    "18446744073709551616",
    "99999999999999999999999999",
    "0x" + "0" * 100 + "1",
    "%p%p%n",
    "f" * 100_000,
]
BAD_TYPES = [
    "",
    "x64",
    "X86_64",
    "i386 ",
    " i386",
    "3",
    "-1",
    "01",
    "1.0",
    "x86-64",
    "ia32",
    "t" * 100_000,
]


alice = user_fixture("alice", "vdsoq")


@pytest.fixture(scope="module")
def target(alice: User) -> Iterator[Subject]:
    with running_subject(alice) as subj:
        yield subj


def assert_usage_error(res: Result) -> None:
    assert res.returncode == 2, f"want exit 2, got {res}"
    obj = res.json
    assert obj.get("error") == "EINVAL", obj
    msg = obj.get("message")
    assert isinstance(msg, str) and msg and "\n" not in msg and len(msg) < 1000, obj


def run_batch(helper: Path, alice: User, target: Subject, cmds: list[list[str]]) -> None:
    before = snapshot(target.pid)
    for cmd in cmds:
        assert_usage_error(run_as(alice, [str(helper), *cmd]))
        assert_untouched(target.pid, before)
    target.assert_healthy(min_progress=130)


def test_bad_pids(setuid_helper: Path, alice: User, target: Subject) -> None:
    cmds = []
    for bad in BAD_PIDS:
        cmds.append(["show", "--pid", bad, "--json"])
        cmds.append(["remap", "--pid", bad, "--auto", "--json"])
    run_batch(setuid_helper, alice, target, cmds)


def test_bad_addresses(setuid_helper: Path, alice: User, target: Subject) -> None:
    pid = str(target.pid)
    cmds = [["remap", "--pid", pid, "--addr", bad, "--json"] for bad in BAD_ADDRS]
    cmds += [["exec", "--vdso-addr", bad, "--json", "--", "/bin/true"] for bad in BAD_ADDRS[:6]]
    run_batch(setuid_helper, alice, target, cmds)


def test_bad_types(setuid_helper: Path, alice: User, target: Subject) -> None:
    pid = str(target.pid)
    cmds = [
        ["remap", "--pid", pid, "--auto", "--type", bad, "--force", "--json"] for bad in BAD_TYPES
    ]
    cmds += [["info", "--type", bad, "--json"] for bad in BAD_TYPES]
    run_batch(setuid_helper, alice, target, cmds)


def test_malformed_command_lines(setuid_helper: Path, alice: User, target: Subject) -> None:
    pid = str(target.pid)
    cmds = [
        ["show", "--json"],
        ["show", "--pid", "--json"],
        ["show", "--pid", pid, "--frobnicate", "--json"],
        ["show", "--pid", pid, "extra", "--json"],
        ["remap", "--pid", pid, "--json"],
        ["remap", "--pid", pid, "--addr", "0x7f0000000000", "--auto", "--json"],
        ["remap", "--pid", pid, "--addr", "--json"],
        ["remap", "--pid", pid, "--auto", "--type", "--json"],
        ["remap", "--pid", pid, "--auto", "--" + "x" * 100_000, "--json"],
        ["remap", "--pid", pid, "--auto", "--json", *(["x"] * 20_000)],
        ["image", "--json"],
    ]
    run_batch(setuid_helper, alice, target, cmds)


@pytest.mark.parametrize(
    "args",
    [
        ["remap", "--pid", "{pid}", "--addr", "0xzz"],
        ["remap", "--pid", "{pid}", "--addr", "0x1\nvdso-helper: ok"],
        ["show", "--pid", "1\n2"],
        [],
        ["--json"],
        ["frobnicate", "--json"],
        ["\x1b[2J"],
    ],
    ids=["bad-addr", "newline-addr", "newline-pid", "no-command", "only-json", "unknown", "escape"],
)
def test_text_errors_are_one_clean_line(
    setuid_helper: Path, alice: User, target: Subject, args: list[str]
) -> None:
    """Without a command to carry --json, or without --json: one line on stderr,
    with no control characters a caller's terminal or log would act on."""
    before = snapshot(target.pid)
    argv = [a.replace("{pid}", str(target.pid)) for a in args]
    res = run_as(alice, [str(setuid_helper), *argv])
    assert res.returncode == 2, res
    if res.stdout:
        assert res.json["error"] == "EINVAL", res
        assert "\n" not in res.json["message"] and "\x1b" not in res.json["message"], res
    else:
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("vdso-helper: EINVAL: "), res
        assert not any(c < " " or c == "\x7f" for c in lines[0]), res
    assert_untouched(target.pid, before)
