"""Malformed and overlong arguments: a usage error (exit 2, EINVAL), never an action.

Every bad value is given next to an otherwise valid command on a live target
that the caller may act on, so a helper that misparsed the value into
something usable would act, and the target checks would catch it.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from subjectlib import Subject
from users import (
    Result,
    User,
    as_user_argv,
    assert_untouched,
    run_as,
    running_subject,
    snapshot,
    user_fixture,
    with_env,
)

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


# Command-line words for the vectors below; no -o (it would write a file) and
# no exec (it would run one): their replies are covered by the fixed vectors.
WORDS = [
    b"info", b"image", b"show", b"remap", b"help", b"--help", b"-h", b"--version", b"--pid",
    b"1", b"--addr", b"0x7f0000000000", b"--auto", b"--type", b"i386", b"x32", b"--force",
    b"--dry-run", b"--no-proxy", b"--json", b"--", b"--frobnicate", b"",
]  # fmt: skip
NOT_UTF8 = [b"\xff", b"\xfe\xfe", b"\xc3\x28", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\x80", b"\x1b[2J\xff"]  # fmt: skip


def json_vectors(pid: bytes) -> list[list[bytes]]:
    fixed = [
        [b"--json"],
        [b"--json", b"--json"],
        [b"--json", b"--version"],
        [b"--version", b"--json"],
        [b"--json", b"--help"],
        [b"help", b"--json"],
        [b"--json", b"\xff\xfe"],
        [b"--json", b"info", b"--type", b"\xc3\x28"],
        [b"remap", b"--pid", pid, b"--addr", b"0x\xff\xfe", b"--json"],
        [b"show", b"--pid", b"\xed\xa0\x80", b"--json"],
        [b"image", b"--type", b"x86_64", b"--json"],
        [b"exec", b"--json", b"--", b"/nonexistent/\xff\xfe\xc3"],
        [b"\xf0\x9f\x98", b"--json"],
    ]
    rng = random.Random(6)
    for _ in range(150):
        argv = []
        for _ in range(rng.randrange(0, 6)):
            pick = rng.random()
            if pick < 0.5:
                argv.append(rng.choice(WORDS))
            elif pick < 0.8:
                argv.append(rng.choice(WORDS) + rng.choice(NOT_UTF8))
            else:
                argv.append(bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 12))))
        cut = argv.index(b"--") if b"--" in argv else len(argv)
        argv.insert(rng.randrange(0, cut + 1), b"--json")
        fixed.append(argv)
    return fixed


def test_every_json_reply_is_json(setuid_helper: Path, alice: User, target: Subject) -> None:
    """docs/protocol.md: --json anywhere (before an exec's "--") selects JSON for the
    whole reply, --json first or alone, --help and --version included; and the reply is
    one line of strict UTF-8 JSON whatever bytes the arguments hold."""
    before = snapshot(target.pid)
    for argv in json_vectors(str(target.pid).encode()):
        full = as_user_argv(alice, with_env(None, [str(setuid_helper), *argv]))
        res = subprocess.run(full, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        what = f"{argv!r}: {res}"
        assert res.returncode in (0, 1, 2), what
        assert res.stdout.endswith(b"\n") and res.stdout.count(b"\n") == 1, what
        obj = json.loads(res.stdout.decode("utf-8"))  # strict: a stray byte fails here
        assert isinstance(obj, dict), what
        if res.returncode:
            assert set(obj) == {"error", "message"} and obj["message"], what
            assert res.stderr == b"", what
        assert_untouched(target.pid, before)
    target.assert_healthy(min_progress=130)


COMMAND_OPTIONS = {
    "info": ["--type"],
    "image": ["--type", "-o"],
    "show": ["--pid"],
    "remap": ["--pid", "--addr", "--auto", "--type", "--no-proxy", "--force", "--dry-run"],
    "exec": ["--vdso-addr", "--"],
}


@pytest.mark.parametrize("cmd", sorted(COMMAND_OPTIONS))
def test_command_help(setuid_helper: Path, alice: User, target: Subject, cmd: str) -> None:
    """`vdso-helper COMMAND --help` (or -h, anywhere among its options, whatever
    else they hold) prints that command's usage and exits 0, acting on nothing."""
    pid = str(target.pid)
    before = snapshot(target.pid)
    full = {"show": ["--pid", pid], "remap": ["--pid", pid, "--auto"]}.get(cmd, [])
    for argv in ([cmd, "--help"], [cmd, *full, "-h"], [cmd, "--bogus", "--help"]):
        res = run_as(alice, [str(setuid_helper), *argv])
        assert res.returncode == 0 and res.stderr == "", res
        head = res.stdout.splitlines()[0]
        assert head.startswith(f"usage: vdso-helper {cmd} "), res
        assert all(opt in head for opt in COMMAND_OPTIONS[cmd]), res
        others = set(COMMAND_OPTIONS) - {cmd}
        assert not any(f"vdso-helper {o} " in res.stdout for o in others), res
        res = run_as(alice, [str(setuid_helper), "--json", *argv])
        assert res.returncode == 0 and res.stderr == "", res
        assert res.json["usage"].splitlines()[0] == head, res
    assert_untouched(target.pid, before)
    # after exec's "--" a --help is the program's
    res = run_as(alice, [str(setuid_helper), "exec", "--", "/bin/sh", "-c", "echo ran", "--help"])
    assert res.returncode == 0 and res.stdout == "ran\n", res
