"""The operator group from /etc/vdso-helper.conf, and the rules for trusting that file.

Each run happens in a private mount namespace whose /etc is an overlay
(users.Sandbox), so the test can install any config, good or hostile,
without touching the machine's real /etc.
"""

from __future__ import annotations

import grp
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from subjectlib import Subject
from users import (
    Sandbox,
    User,
    assert_untouched,
    non_dumpable_process,
    run_as,
    running_subject,
    sandbox,
    settled_snapshot,
    show_as,
    temp_group,
    temp_user,
    user_fixture,
)

pytestmark = pytest.mark.usefixtures("subjects_built")

WARNING = "vdso-helper: warning: ignoring /etc/vdso-helper.conf: "


@pytest.fixture(scope="module")
def opgroup() -> Iterator[str]:
    with temp_group() as g:
        yield g


@pytest.fixture(scope="module")
def operator(opgroup: str) -> Iterator[User]:
    with temp_user("vdsoo", groups=[opgroup]) as u:
        yield u


carol = user_fixture("carol", "vdsoc")  # not an operator
victim = user_fixture("victim", "vdsov")


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with sandbox() as b:
        yield b


@pytest.fixture
def victim_subject(victim: User) -> Iterator[Subject]:
    with running_subject(victim) as subj:
        yield subj


def test_operator_may_act_on_other_users(
    setuid_helper: Path, operator: User, opgroup: str, victim_subject: Subject, box: Sandbox
) -> None:
    box.write_config(f"# operators\noperator_group = {opgroup}\n")
    res = show_as(setuid_helper, operator, victim_subject.pid, box)
    assert res.returncode == 0, res
    assert res.json["policy"] == {"allowed": True, "reason": f"operator group {opgroup}"}
    assert WARNING not in res.stderr
    res = run_as(
        operator,
        [
            str(setuid_helper),
            "remap",
            "--pid",
            str(victim_subject.pid),
            "--auto",
            "--dry-run",
            "--json",
        ],
        box=box,
    )
    assert res.returncode == 0, res
    victim_subject.assert_healthy(min_progress=130)


def test_operator_group_by_number(
    setuid_helper: Path, operator: User, opgroup: str, victim_subject: Subject, box: Sandbox
) -> None:
    gid = grp.getgrnam(opgroup).gr_gid
    box.write_config(f"operator_group = {gid}\n")
    res = show_as(setuid_helper, operator, victim_subject.pid, box)
    assert res.returncode == 0, res
    assert res.json["policy"] == {"allowed": True, "reason": f"operator group {gid}"}, res


def test_non_member_gets_nothing_from_the_config(
    setuid_helper: Path,
    carol: User,
    opgroup: str,
    victim: User,
    victim_subject: Subject,
    box: Sandbox,
) -> None:
    box.write_config(f"operator_group = {opgroup}\n")
    before = settled_snapshot(victim_subject.pid)
    res = show_as(setuid_helper, carol, victim_subject.pid, box)
    assert res.returncode == 1 and res.json["error"] == "EPERM", res
    assert f"owned by uid {victim.uid}" in str(res.json["message"])
    assert_untouched(victim_subject.pid, before)


def test_operator_never_acts_on_root(
    setuid_helper: Path, operator: User, opgroup: str, box: Sandbox
) -> None:
    box.write_config(f"operator_group = {opgroup}\n")
    with running_subject(None) as subj:
        before = settled_snapshot(subj.pid)
        for cmd in (["show"], ["remap", "--auto"], ["remap", "--auto", "--dry-run"]):
            res = run_as(
                operator, [str(setuid_helper), *cmd, "--pid", str(subj.pid), "--json"], box=box
            )
            assert "below operator_min_uid" in res.refused("EPERM")
        assert_untouched(subj.pid, before)
        subj.assert_healthy(min_progress=130)


def test_operator_min_uid(
    setuid_helper: Path,
    operator: User,
    opgroup: str,
    victim: User,
    victim_subject: Subject,
    box: Sandbox,
) -> None:
    box.write_config(f"operator_group = {opgroup}\noperator_min_uid = {victim.uid + 1}\n")
    before = settled_snapshot(victim_subject.pid)
    res = show_as(setuid_helper, operator, victim_subject.pid, box)
    assert "below operator_min_uid" in res.refused("EPERM")
    assert_untouched(victim_subject.pid, before)


def test_operator_never_acts_on_non_dumpable(
    setuid_helper: Path, operator: User, opgroup: str, victim: User, box: Sandbox
) -> None:
    box.write_config(f"operator_group = {opgroup}\n")
    with non_dumpable_process(victim) as proc:
        res = show_as(setuid_helper, operator, proc.pid, box)
        assert "not dumpable" in res.refused("EPERM")


def hostile_configs(
    box: Sandbox, opgroup: str, operator: User
) -> dict[str, tuple[Callable[[], None], str]]:
    """name -> (how to install it, the reason the helper must give)."""
    good = f"operator_group = {opgroup}\n"
    elsewhere = box.root / "real.conf"
    elsewhere.write_text(good)
    elsewhere.chmod(0o644)

    def write(mode: int = 0o644, uid: int = 0, text: str = good) -> Callable[[], None]:
        return lambda: box.write_config(text, mode=mode, uid=uid)

    def symlink() -> None:
        box.remove_config()
        box.config.symlink_to(elsewhere)

    def fifo() -> None:
        box.remove_config()
        os.mkfifo(box.config, 0o644)

    def directory() -> None:
        box.remove_config()
        box.config.mkdir(mode=0o755)

    def etc_writable() -> None:
        box.write_config(good)
        box.etc.chmod(0o777)

    return {
        "world-writable": (write(0o666), "writable by group or others"),
        "group-writable": (write(0o664), "writable by group or others"),
        "owned-by-user": (write(0o644, uid=operator.uid), "not owned by root"),
        "symlink": (symlink, "is a symlink"),
        "fifo": (fifo, "not a regular file"),
        "directory": (directory, "not a regular file"),
        "etc-world-writable": (etc_writable, "parent directory"),
        "syntax": (write(text=good + "operator_group\n"), "expected key = value"),
        "unknown-key": (write(text=good + "allow_root = 1\n"), "unknown key"),
        "root-group": (write(text="operator_group = root\n"), "root group"),
        "gid-0": (write(text="operator_group = 0\n"), "root group"),
        "no-such-group": (write(text="operator_group = vdsonosuchgroup\n"), "no such group"),
        "too-big": (write(text=good + "#" * 5000 + "\n"), "larger than 4096"),
        "nul-byte": (write(text=good + "\0\n"), "NUL"),
    }


HOSTILE = [
    "world-writable",
    "group-writable",
    "owned-by-user",
    "symlink",
    "fifo",
    "directory",
    "etc-world-writable",
    "syntax",
    "unknown-key",
    "root-group",
    "gid-0",
    "no-such-group",
    "too-big",
    "nul-byte",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_untrusted_config_is_ignored(
    setuid_helper: Path,
    operator: User,
    opgroup: str,
    victim: User,
    victim_subject: Subject,
    box: Sandbox,
    name: str,
) -> None:
    """The file is ignored as a whole, with a warning on stderr and in the audit log,
    so the operator is just another user and is refused."""
    install, reason = hostile_configs(box, opgroup, operator)[name]
    install()
    before = settled_snapshot(victim_subject.pid)
    res = show_as(setuid_helper, operator, victim_subject.pid, box)
    assert f"owned by uid {victim.uid}" in res.refused("EPERM")
    warnings = [ln for ln in res.stderr.splitlines() if ln.startswith(WARNING)]
    assert len(warnings) == 1 and reason in warnings[0], res.stderr
    audit = [ln for ln in box.audit_lines() if "op=config" in ln]
    assert audit and 'result="ignored"' in audit[0] and reason in audit[0], box.audit_lines()
    assert_untouched(victim_subject.pid, before)
    victim_subject.assert_healthy(min_progress=130)


def test_missing_config_is_silent(
    setuid_helper: Path, operator: User, victim_subject: Subject, box: Sandbox
) -> None:
    box.remove_config()
    res = show_as(setuid_helper, operator, victim_subject.pid, box)
    res.refused("EPERM")
    assert WARNING not in res.stderr
    assert not [ln for ln in box.audit_lines() if "op=config" in ln]
