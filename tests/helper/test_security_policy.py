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
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from subjectlib import Subject, build_dir
from users import (
    Result,
    User,
    assert_untouched,
    compile_c,
    proc_dumpable,
    proc_ids,
    run_as,
    settled_snapshot,
    snapshot,
    temp_group,
    temp_user,
    wait_for,
)

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


@pytest.fixture(scope="module", autouse=True)
def subjects_built() -> None:
    subprocess.run(["make", "-s", "-C", str(build_dir().parent)], check=True)


@pytest.fixture(scope="module")
def alice() -> Iterator[User]:
    with temp_user("vdsoa") as u:
        yield u


@pytest.fixture(scope="module")
def bob() -> Iterator[User]:
    with temp_user("vdsob") as u:
        yield u


@pytest.fixture
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="vdsosec-", dir="/var/tmp"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def spawn(argv: list[str], user: User | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        user=user.uid if user else None,
        group=user.gid if user else None,
        extra_groups=[] if user else None,
    )


def reap(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()


# ---- positive controls ----


def test_owner_may_show_and_plan(setuid_helper: Path, alice: User) -> None:
    with Subject.spawn("subject-x86_64", user=alice.name) as subj:
        subj.wait_ready()
        before = snapshot(subj.pid)
        res = run_as(alice, [str(setuid_helper), "show", "--pid", str(subj.pid), "--json"])
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
    with Subject.spawn("subject-x86_64", user=bob.name) as subj:
        subj.wait_ready()
        res = run_as(None, [str(setuid_helper), "show", "--pid", str(subj.pid), "--json"])
        assert res.returncode == 0, res
        assert res.json["policy"] == {"allowed": True, "reason": "caller is root"}
        subj.assert_healthy(min_progress=130)


# ---- refusals ----


def test_another_users_process(setuid_helper: Path, alice: User, bob: User) -> None:
    with Subject.spawn("subject-x86_64", user=bob.name) as subj:
        subj.wait_ready()
        assert_all_refused(setuid_helper, alice, subj.pid, "EPERM", f"owned by uid {bob.uid}")
        subj.assert_healthy(min_progress=130)


def test_root_process(setuid_helper: Path, alice: User) -> None:
    with Subject.spawn("subject-x86_64") as subj:
        subj.wait_ready()
        assert_all_refused(setuid_helper, alice, subj.pid, "EPERM", "owned by uid 0")
        subj.assert_healthy(min_progress=130)


def test_setuid_started_process_still_root(setuid_helper: Path, alice: User, workdir: Path) -> None:
    """A setuid-root program started by alice: real uid alice, effective root."""
    prog = workdir / "suid-sleep"
    shutil.copy("/usr/bin/sleep", prog)
    prog.chmod(0o4755)
    proc = spawn([str(prog), "1000"], alice)
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
    proc = subprocess.Popen(
        [str(prog)],
        stdout=subprocess.PIPE,
        user=alice.uid,
        group=alice.gid,
        extra_groups=[],
    )
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
    proc = spawn(
        [
            "setpriv",
            f"--reuid={alice.uid}",
            f"--regid={alice.gid}",
            "--clear-groups",
            "--inh-caps=+net_raw",
            "--ambient-caps=+net_raw",
            "sleep",
            "1000",
        ]
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
        proc = spawn(
            [
                "setpriv",
                f"--reuid={alice.uid}",
                f"--regid={alice.gid}",
                f"--groups={gid}",
                "sleep",
                "1000",
            ]
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
    code = (
        "import ctypes, sys, time\n"
        "ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n"
        "print('ready', flush=True)\n"
        "time.sleep(1000)\n"
    )
    proc = subprocess.Popen(
        ["python3", "-c", code],
        stdout=subprocess.PIPE,
        user=alice.uid,
        group=alice.gid,
        extra_groups=[],
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        assert not proc_dumpable(proc.pid)
        assert_all_refused(setuid_helper, alice, proc.pid, "EPERM", "not dumpable")
    finally:
        reap(proc)


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
    proc = spawn(["sh", "-c", "true & exec sleep 1000"], alice)
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
    proc = spawn(["true"], alice)
    proc.wait()
    assert not Path(f"/proc/{proc.pid}").exists()
    for cmd in target_commands(proc.pid):
        run_as(alice, [str(setuid_helper), *cmd]).refused("ESRCH")


def test_thread_id_is_not_a_process(setuid_helper: Path, alice: User) -> None:
    """A non-leader thread's id names no process: refused, the process untouched."""
    with Subject.spawn("subject-x86_64", "--threads", "2", user=alice.name) as subj:
        subj.wait_ready()
        tids = [int(t) for t in os.listdir(f"/proc/{subj.pid}/task") if int(t) != subj.pid]
        assert tids, "the subject should run several threads"
        before = snapshot(subj.pid)
        for cmd in target_commands(tids[0]):
            res: Result = run_as(alice, [str(setuid_helper), *cmd])
            assert res.returncode != 0, res
            assert res.json["error"] in ("ESRCH", "EINVAL", "ENOENT"), res
            assert_untouched(subj.pid, before)
        subj.assert_healthy(min_progress=130)
