"""The audit log: one LOG_AUTHPRIV line per decision and operation, unforgeable.

The helper logs through syslog(3) to /dev/log. Each run here happens in a
private mount namespace whose /dev/log is a datagram socket of the test
(users.Sandbox), so the exact lines the helper sent are checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from users import Sandbox, User, run_as, running_subject, sandbox, user_fixture

pytestmark = pytest.mark.usefixtures("subjects_built")

# <PRI> with PRI = LOG_AUTHPRIV (10 << 3) | LOG_NOTICE (5) = 85.
LINE = re.compile(
    r"^<85>\w{3} [ \d]\d \d\d:\d\d:\d\d vdso-helper\[(?P<pid>\d+)\]: "
    r"op=(?P<op>[a-z]+) uid=(?P<uid>\d+) euid=(?P<euid>\d+) gid=(?P<gid>\d+) "
    r'target=(?P<target>-?\d+) result="(?P<result>[^"\\\x00-\x1f]*)" '
    r'msg="(?P<msg>[^"\\\x00-\x1f]*)"$'
)


alice = user_fixture("alice", "vdsol")
bob = user_fixture("bob", "vdsom")


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with sandbox() as b:
        yield b


def parsed(box: Sandbox) -> list[dict[str, str]]:
    """Every line the helper logged, each checked against the one allowed format."""
    out = []
    for line in box.audit_lines():
        m = LINE.match(line)
        assert m, f"audit line out of format: {line!r}"
        out.append(m.groupdict())
    return out


def test_refusal_is_logged(setuid_helper: Path, alice: User, bob: User, box: Sandbox) -> None:
    with running_subject(bob) as subj:
        res = run_as(
            alice,
            [str(setuid_helper), "remap", "--pid", str(subj.pid), "--auto", "--json"],
            box=box,
        )
        res.refused("EPERM")
    lines = parsed(box)
    assert len(lines) == 1, lines
    (line,) = lines
    assert line["op"] == "remap"
    assert (line["uid"], line["euid"], line["gid"]) == (str(alice.uid), "0", str(alice.gid))
    assert line["target"] == str(subj.pid)
    assert line["result"] == "refused EPERM"
    assert f"owned by uid {bob.uid}" in line["msg"]


def test_refusals_of_root_are_logged(setuid_helper: Path, box: Sandbox) -> None:
    for pid in (1, 2):
        res = run_as(None, [str(setuid_helper), "show", "--pid", str(pid), "--json"], box=box)
        res.refused("EPERM")
    lines = parsed(box)
    assert [(ln["op"], ln["uid"], ln["target"], ln["result"]) for ln in lines] == [
        ("show", "0", "1", "refused EPERM"),
        ("show", "0", "2", "refused EPERM"),
    ]


def test_decision_and_operation_are_logged(setuid_helper: Path, alice: User, box: Sandbox) -> None:
    """A real move: the decision before it, the result after it."""
    with running_subject(alice) as subj:
        res = run_as(
            alice,
            [str(setuid_helper), "remap", "--pid", str(subj.pid), "--auto", "--json"],
            box=box,
        )
        assert res.returncode == 0, res
        subj.assert_healthy(min_progress=130)
    lines = parsed(box)
    assert [(ln["op"], ln["target"], ln["result"]) for ln in lines] == [
        ("remap", str(subj.pid), "allowed"),
        ("remap", str(subj.pid), "ok"),
    ], lines
    assert all(ln["uid"] == str(alice.uid) for ln in lines)
    assert lines[0]["msg"] == "same user"
    assert res.json["to"]["base"] in lines[1]["msg"], (res.json, lines)


def test_dry_run_is_logged(setuid_helper: Path, alice: User, box: Sandbox) -> None:
    with running_subject(alice) as subj:
        res = run_as(
            alice,
            [str(setuid_helper), "remap", "--pid", str(subj.pid), "--auto", "--dry-run", "--json"],
            box=box,
        )
        assert res.returncode == 0, res
    lines = parsed(box)
    assert lines and lines[0]["result"] == "allowed" and lines[0]["target"] == str(subj.pid)


def test_ident_is_fixed_whatever_argv0(setuid_helper: Path, alice: User, box: Sandbox) -> None:
    """glibc would take the ident from argv[0], which the caller chooses."""
    spoof = "import os, sys; os.execv(sys.argv[1], sys.argv[2:])"
    argv0 = 'sshd: root [priv]\nop=remap result="ok"'
    res = run_as(
        alice,
        ["python3", "-c", spoof, str(setuid_helper), argv0, "show", "--pid", "1", "--json"],
        env={"PATH": "/usr/bin:/bin"},
        box=box,
    )
    res.refused("EPERM")
    lines = parsed(box)
    assert len(lines) == 1 and lines[0]["op"] == "show", lines
    assert "sshd" not in "".join(box.audit_lines())


def test_caller_controlled_text_cannot_forge_fields(
    setuid_helper: Path, alice: User, box: Sandbox
) -> None:
    """The program name of a failing exec lands in the log: quotes and newlines must not."""
    name = '/nonexistent" result="ok" msg="\nop=remap uid=0 target=1 result="ok'
    res = run_as(
        alice, [str(setuid_helper), "exec", "--vdso-addr", "0x10000000", "--", name], box=box
    )
    assert res.returncode != 0, res
    lines = parsed(box)
    assert [ln["op"] for ln in lines] == ["exec"], lines
    assert lines[0]["result"] == "failed", lines
    assert lines[0]["uid"] == str(alice.uid)


def test_config_warning_is_logged(setuid_helper: Path, alice: User, box: Sandbox) -> None:
    box.write_config("operator_group = users\n", mode=0o666)
    res = run_as(alice, [str(setuid_helper), "show", "--pid", "1", "--json"], box=box)
    res.refused("EPERM")
    lines = parsed(box)
    assert lines[0]["op"] == "config" and lines[0]["result"] == "ignored", lines
    assert "writable by group or others" in lines[0]["msg"]
    assert lines[0]["uid"] == str(alice.uid)
    assert lines[1]["op"] == "show", lines
