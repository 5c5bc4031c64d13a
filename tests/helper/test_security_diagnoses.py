"""Every error names its true cause: a target that exits during the shared-mm
scan, and a helper short of file descriptors (RLIMIT_NOFILE it cannot raise)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from subjectlib import Subject
from users import User, as_user_argv, assert_untouched, running_subject, snapshot, user_fixture

pytestmark = pytest.mark.usefixtures("subjects_built")

alice = user_fixture("alice", "vdsod")


@pytest.fixture
def target(alice: User) -> Iterator[Subject]:
    with running_subject(alice, "--threads", "2") as subj:
        yield subj


def test_target_exiting_mid_scan_is_gone_not_shared(targets_built: Path) -> None:
    """kcmp(KCMP_VM) compares two absent mms as equal: once the target has exited,
    a zombie or a kernel thread is not a process sharing its address space; the
    scan and the stopped recheck both say the target is gone (ESRCH)."""
    res = subprocess.run(
        [str(targets_built / "mmshare_exit")], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res
    assert res.stdout == "scan=-3 n=0 recheck=-3 n=0\n", res


def test_out_of_file_descriptors_says_so(setuid_helper: Path, alice: User, target: Subject) -> None:
    """Under every hard RLIMIT_NOFILE from 4 up to the first that lets a move
    through, remap either moves or answers EMFILE "out of file descriptors",
    never a wrong cause (it was ESRCH "no longer the one that was checked" at 7
    and 8), and a refused target is left as it was."""
    seen = {}
    for n in range(4, 40):
        before = snapshot(target.pid)
        argv = ["prlimit", f"--nofile={n}:{n}", str(setuid_helper), "remap", "--pid"]
        argv += [str(target.pid), "--auto", "--json"]
        res = subprocess.run(
            as_user_argv(alice, argv), stdin=subprocess.DEVNULL, capture_output=True, timeout=60
        )
        obj = json.loads(res.stdout)
        seen[n] = obj.get("error", "ok")
        if res.returncode == 0:
            break
        assert res.returncode == 1, (n, res)
        assert obj["error"] == "EMFILE", (n, obj)
        assert "out of file descriptors" in obj["message"], (n, obj)
        assert_untouched(target.pid, before)
    assert seen[n] == "ok" and "EMFILE" in seen.values(), seen
    assert seen.get(7) == "EMFILE" or seen.get(8) == "EMFILE", seen
    target.assert_healthy(min_progress=130)


@pytest.mark.parametrize("kib", [20, 22, 24, 26, 64])
def test_small_hard_stack_limit_is_refused_before_the_target(
    setuid_helper: Path, alice: User, target: Subject, kib: int
) -> None:
    """A hard RLIMIT_STACK the helper cannot raise (it died by SIGSEGV at 20-26 KiB
    once the target was seized): refused cleanly, ENOMEM naming the stack limit,
    before anything is touched, for every command that acts on a process."""
    pid = str(target.pid)
    for cmd in (
        ["remap", "--pid", pid, "--auto"],
        ["remap", "--pid", pid, "--auto", "--dry-run"],
        ["show", "--pid", pid],
        ["exec", "--vdso-addr", "0x7f0000000000", "--json", "--", "/bin/true"],
    ):
        before = snapshot(target.pid)
        argv = ["prlimit", f"--stack={kib * 1024}:{kib * 1024}", str(setuid_helper), *cmd]
        if "--json" not in cmd:
            argv.append("--json")
        res = subprocess.run(
            as_user_argv(alice, argv), stdin=subprocess.DEVNULL, capture_output=True, timeout=60
        )
        assert res.returncode == 1, (kib, cmd, res)
        obj = json.loads(res.stdout)
        assert obj["error"] == "ENOMEM" and "RLIMIT_STACK" in obj["message"], (kib, obj)
        assert_untouched(target.pid, before)
    target.assert_healthy(min_progress=130)
