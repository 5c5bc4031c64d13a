"""The access policy, enforced by the setuid helper against real users.

Each refusal is run as a real unprivileged user (created here) against a
real process, through every command that touches a target, and must end
with a clean JSON refusal and the target exactly as it was. Positive
controls (the same helper acting for the owner, or for root) show that the
refusals come from the policy and not from a helper that cannot work.
"""

from __future__ import annotations

import grp
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from users import (
    Result,
    User,
    assert_untouched,
    compile_c,
    non_dumpable_process,
    proc_dumpable,
    proc_ids,
    run_as,
    running_subject,
    settled_snapshot,
    show_as,
    snapshot,
    spawn_as,
    temp_dir,
    temp_group,
    user_fixture,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("subjects_built")

ADDR = "0x7f0000000000"


def target_commands(pid: int) -> list[list[str]]:
    """Every helper command that acts on a target, in a form that would act."""
    p = str(pid)
    return [
        ["show", "--pid", p, "--json"],
        ["remap", "--pid", p, "--auto", "--dry-run", "--json"],
        ["remap", "--pid", p, "--auto", "--json"],
        ["remap", "--pid", p, "--addr", ADDR, "--json"],
        ["remap", "--pid", p, "--addr", ADDR, "--no-proxy", "--force", "--json"],
        ["remap", "--pid", p, "--auto", "--type", "i386", "--force", "--json"],
    ]


def assert_all_refused(helper: Path, user: User | None, pid: int, code: str, reason: str) -> None:
    """Every command refused with code and a message containing reason; pid untouched."""
    before = settled_snapshot(pid) if pid > 2 else snapshot(pid)
    for cmd in target_commands(pid):
        res = run_as(user, [str(helper), *cmd])
        msg = res.refused(code)
        assert reason in msg, f"{cmd}: refusal {msg!r} does not say {reason!r}"
        assert_untouched(pid, before)


alice = user_fixture("alice", "vdsoa")
bob = user_fixture("bob", "vdsob")


@pytest.fixture
def workdir() -> Iterator[Path]:
    with temp_dir("vdsosec-") as d:
        yield d


def reap(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()


# ---- positive controls ----


def test_owner_may_show_and_plan(setuid_helper: Path, alice: User) -> None:
    with running_subject(alice) as subj:
        before = snapshot(subj.pid)
        res = show_as(setuid_helper, alice, subj.pid)
        assert res.returncode == 0, res
        assert res.json["pid"] == subj.pid
        assert res.json["policy"] == {"allowed": True, "reason": "same user"}
        res = run_as(
            alice,
            [str(setuid_helper), "remap", "--pid", str(subj.pid), "--auto", "--dry-run", "--json"],
        )
        assert res.returncode == 0, res
        policy = [c for c in res.json["checks"] if c["name"] == "policy"]
        assert policy and policy[0]["ok"] is True, res.json
        assert_untouched(subj.pid, before)
        subj.assert_healthy(min_progress=130)


def test_root_may_show_another_users_process(setuid_helper: Path, bob: User) -> None:
    with running_subject(bob) as subj:
        res = show_as(setuid_helper, None, subj.pid)
        assert res.returncode == 0, res
        assert res.json["policy"] == {"allowed": True, "reason": "caller is root"}
        subj.assert_healthy(min_progress=130)


# ---- refusals ----


def test_another_users_process(setuid_helper: Path, alice: User, bob: User) -> None:
    with running_subject(bob) as subj:
        assert_all_refused(setuid_helper, alice, subj.pid, "EPERM", f"owned by uid {bob.uid}")
        subj.assert_healthy(min_progress=130)


def test_root_process(setuid_helper: Path, alice: User) -> None:
    with running_subject(None) as subj:
        assert_all_refused(setuid_helper, alice, subj.pid, "EPERM", "owned by uid 0")
        subj.assert_healthy(min_progress=130)


def test_setuid_started_process_still_root(setuid_helper: Path, alice: User, workdir: Path) -> None:
    """A setuid-root program started by alice: real uid alice, effective root."""
    prog = workdir / "suid-sleep"
    shutil.copy("/usr/bin/sleep", prog)
    prog.chmod(0o4755)
    proc = spawn_as(alice, [str(prog), "1000"])
    try:
        wait_for(lambda: proc_ids(proc.pid)[0][1] == 0, "the setuid exec")
        uids, _, _ = proc_ids(proc.pid)
        assert uids[0] == alice.uid and uids[1] == 0
        assert_all_refused(setuid_helper, alice, proc.pid, "EPERM", "changed identity")
    finally:
        reap(proc)


DROPPER = r"""
#include <stdio.h>
#include <unistd.h>
/* Started setuid root; gives it all back to the real ids and waits. */
int main(void)
{
	gid_t g = getgid();
	uid_t u = getuid();

	if (setresgid(g, g, g) || setresuid(u, u, u))
		return 1;
	puts("dropped");
	fflush(stdout);
	pause();
	return 0;
}
"""


def test_setuid_started_process_that_dropped_to_caller(
    setuid_helper: Path, alice: User, workdir: Path
) -> None:
    """Every id is alice's again, but it ran as root: non-dumpable, so refused."""
    prog = compile_c(DROPPER, workdir / "dropper")
    prog.chmod(0o4755)
    proc = spawn_as(alice, [str(prog)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"dropped\n"
        uids, gids, _ = proc_ids(proc.pid)
        assert uids == [alice.uid] * 4 and gids == [alice.gid] * 4
        assert not proc_dumpable(proc.pid)
        assert_all_refused(setuid_helper, alice, proc.pid, "EPERM", "not dumpable")
    finally:
        reap(proc)


def test_process_with_capabilities(setuid_helper: Path, alice: User) -> None:
    """alice's ids, dumpable, but holding CAP_NET_RAW (ambient): ptrace would refuse."""
    proc = spawn_as(
        None,
        [
            "setpriv",
            f"--reuid={alice.uid}",
            f"--regid={alice.gid}",
            "--clear-groups",
            "--inh-caps=+net_raw",
            "--ambient-caps=+net_raw",
            "sleep",
            "1000",
        ],
    )
    try:
        wait_for(lambda: proc_ids(proc.pid)[0] == [alice.uid] * 4, "setpriv")
        wait_for(lambda: os.readlink(f"/proc/{proc.pid}/exe").endswith("sleep"), "exec")
        _, _, capprm = proc_ids(proc.pid)
        assert capprm != 0
        assert proc_dumpable(proc.pid)
        assert_all_refused(setuid_helper, alice, proc.pid, "EPERM", "holds capabilities")
    finally:
        reap(proc)


def test_process_with_a_group_the_caller_lacks(setuid_helper: Path, alice: User) -> None:
    """alice's ids, dumpable, no capabilities, but root gave it an extra group."""
    with temp_group("vdsog") as group:
        gid = grp.getgrnam(group).gr_gid
        proc = spawn_as(
            None,
            [
                "setpriv",
                f"--reuid={alice.uid}",
                f"--regid={alice.gid}",
                f"--groups={gid}",
                "sleep",
                "1000",
            ],
        )
        try:
            wait_for(lambda: os.readlink(f"/proc/{proc.pid}/exe").endswith("sleep"), "exec")
            uids, gids, capprm = proc_ids(proc.pid)
            assert uids == [alice.uid] * 4 and gids == [alice.gid] * 4 and capprm == 0
            assert proc_dumpable(proc.pid)
            assert_all_refused(
                setuid_helper, alice, proc.pid, "EPERM", f"supplementary group {gid}"
            )
        finally:
            reap(proc)


def test_non_dumpable_process(setuid_helper: Path, alice: User) -> None:
    """A process of alice's that asked not to be traced (PR_SET_DUMPABLE 0)."""
    with non_dumpable_process(alice) as proc:
        assert not proc_dumpable(proc.pid)
        assert_all_refused(setuid_helper, alice, proc.pid, "EPERM", "not dumpable")


@pytest.mark.parametrize("as_root", [False, True], ids=["user", "root"])
def test_pid_1(setuid_helper: Path, alice: User, as_root: bool) -> None:
    """Never init, not even for root: a failed injection there panics the kernel."""
    assert_all_refused(setuid_helper, None if as_root else alice, 1, "EPERM", "pid 1")


@pytest.mark.parametrize("as_root", [False, True], ids=["user", "root"])
def test_kernel_thread(setuid_helper: Path, alice: User, as_root: bool) -> None:
    with open("/proc/2/stat") as f:
        assert "(kthreadd)" in f.read()
    assert_all_refused(setuid_helper, None if as_root else alice, 2, "EPERM", "kernel thread")


@pytest.mark.parametrize("as_root", [False, True], ids=["user", "root"])
def test_the_helper_itself(setuid_helper: Path, alice: User, as_root: bool) -> None:
    """The shell execs the helper, so $$ is the helper's own PID."""
    for cmd in target_commands(0):
        line = " ".join("$$" if a == "0" else shlex.quote(a) for a in cmd)
        script = f'exec "$0" {line}'
        res = run_as(None if as_root else alice, ["sh", "-c", script, str(setuid_helper)])
        msg = res.refused("EPERM")
        assert "itself" in msg, msg


def test_zombie(setuid_helper: Path, alice: User) -> None:
    """sh forks `true` and execs sleep, which never reaps it: a zombie of alice's."""
    proc = spawn_as(alice, ["sh", "-c", "true & exec sleep 1000"])
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        wait_for(lambda: children.read_text().strip() != "", "the child")
        zombie = int(children.read_text().split()[0])
        wait_for(lambda: proc_state(zombie) == "Z", "the zombie")
        for cmd in target_commands(zombie):
            res = run_as(alice, [str(setuid_helper), *cmd])
            res.refused("ESRCH")
        assert proc_state(zombie) == "Z"
    finally:
        reap(proc)


def proc_state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_process_that_is_gone(setuid_helper: Path, alice: User) -> None:
    proc = spawn_as(alice, ["true"])
    proc.wait()
    assert not Path(f"/proc/{proc.pid}").exists()
    for cmd in target_commands(proc.pid):
        run_as(alice, [str(setuid_helper), *cmd]).refused("ESRCH")


def test_thread_id_is_not_a_process(setuid_helper: Path, alice: User) -> None:
    """A non-leader thread's id names no process: refused, the process untouched."""
    with running_subject(alice, "--threads", "2") as subj:
        tids = [int(t) for t in os.listdir(f"/proc/{subj.pid}/task") if int(t) != subj.pid]
        assert tids, "the subject should run several threads"
        before = snapshot(subj.pid)
        for cmd in target_commands(tids[0]):
            res: Result = run_as(alice, [str(setuid_helper), *cmd])
            assert res.returncode != 0, res
            assert res.json["error"] in ("ESRCH", "EINVAL", "ENOENT"), res
            assert_untouched(subj.pid, before)
        subj.assert_healthy(min_progress=130)
