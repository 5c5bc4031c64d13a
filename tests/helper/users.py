"""Real unprivileged users for the security tests, and running the helper as them.

Everything here runs as root (the tests do) and creates real accounts with
useradd, removed again with userdel. Commands run as a user through
`setpriv --reuid/--regid/--init-groups`, with a caller-chosen environment
applied only to the last program (so a hostile LD_PRELOAD reaches the helper
and nothing the test itself relies on).

`Sandbox` gives one helper run a private mount namespace in which /etc and
/dev are overlays: the test can put any /etc/vdso-helper.conf there (a
symlink, world-writable, not root's) and point /dev/log at its own syslog
socket, without touching the machine's real /etc or /dev.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from subjectlib import Subject  # noqa: E402  (needs the path above)

CONFIG_NAME = "vdso-helper.conf"
# useradd/groupadd exit status when another process holds the passwd lock.
_LOCKED = 10


@dataclass(frozen=True, slots=True)
class User:
    name: str
    uid: int
    gid: int


def _retry_locked(argv: Sequence[str]) -> None:
    """Run a shadow-utils command, retrying while another one holds the lock."""
    for _ in range(50):
        res = subprocess.run(argv, capture_output=True, text=True, check=False)
        if res.returncode == 0:
            return
        if res.returncode != _LOCKED and "lock" not in res.stderr:
            raise RuntimeError(f"{' '.join(argv)}: exit {res.returncode}: {res.stderr.strip()}")
        time.sleep(0.1)
    raise RuntimeError(f"{' '.join(argv)}: passwd files stayed locked")


def create_group(prefix: str = "vdsoop") -> str:
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    _retry_locked(["groupadd", name])
    return name


def remove_group(name: str) -> None:
    _retry_locked(["groupdel", name])


def create_user(prefix: str = "vdsosec", groups: Sequence[str] = ()) -> User:
    """A fresh login-less user (uid from the normal range) with its own group."""
    if os.geteuid() != 0:
        raise RuntimeError("creating test users needs root")
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    argv = ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group"]
    if groups:
        argv += ["--groups", ",".join(groups)]
    _retry_locked([*argv, name])
    pw = pwd.getpwnam(name)
    return User(name, pw.pw_uid, pw.pw_gid)


def remove_user(user: User) -> None:
    # Only this test user's processes: it was created for this test.
    subprocess.run(["pkill", "-KILL", "-U", str(user.uid)], check=False)
    for _ in range(50):
        res = subprocess.run(["pgrep", "-U", str(user.uid)], capture_output=True, check=False)
        if res.returncode != 0:
            break
        time.sleep(0.05)
    _retry_locked(["userdel", user.name])
    try:
        grp.getgrnam(user.name)
    except KeyError:
        return
    _retry_locked(["groupdel", user.name])


@contextmanager
def temp_user(prefix: str = "vdsosec", groups: Sequence[str] = ()) -> Iterator[User]:
    user = create_user(prefix, groups)
    try:
        yield user
    finally:
        remove_user(user)


@contextmanager
def temp_group(prefix: str = "vdsoop") -> Iterator[str]:
    name = create_group(prefix)
    try:
        yield name
    finally:
        remove_group(name)


def user_fixture(name: str, prefix: str) -> Any:
    """A module-scoped fixture `name` yielding a fresh user.

    In a test module: `alice = user_fixture("alice", "vdsoa")`.
    """

    @pytest.fixture(scope="module", name=name)
    def fixture() -> Iterator[User]:
        with temp_user(prefix) as u:
            yield u

    return fixture


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    """A fresh root-owned directory under /var/tmp, mode 0755 so test users can
    reach what is in it; removed afterwards."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))
    try:
        d.chmod(0o755)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextmanager
def running_subject(user: User | None, *args: str) -> Iterator[Subject]:
    """subject-x86_64 (with args) running as user (None: root), once it is ready."""
    with Subject.spawn("subject-x86_64", *args, user=user.name if user else None) as subj:
        subj.wait_ready()
        yield subj


def spawn_as(
    user: User | None,
    argv: Sequence[str],
    *,
    stdin: int | None = subprocess.DEVNULL,
    stdout: int | None = subprocess.DEVNULL,
    stderr: int | None = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """argv started directly as user (None: root), with no supplementary groups."""
    return subprocess.Popen(
        argv,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        user=user.uid if user else None,
        group=user.gid if user else None,
        extra_groups=[] if user else None,
    )


# Makes itself non-dumpable (prctl PR_SET_DUMPABLE 0), says so, and waits.
_NON_DUMPABLE = (
    "import ctypes, time\n"
    "ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n"
    "print('ready', flush=True)\n"
    "time.sleep(1000)\n"
)


@contextmanager
def non_dumpable_process(user: User) -> Iterator[subprocess.Popen[bytes]]:
    """A process of user's that asked not to be traced, once it has; killed afterwards."""
    proc = spawn_as(user, ["python3", "-c", _NON_DUMPABLE], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def as_user_argv(user: User | None, argv: Sequence[str]) -> list[str]:
    """argv prefixed so that it runs with the user's real and effective ids."""
    if user is None:
        return list(argv)
    return [
        "setpriv",
        f"--reuid={user.uid}",
        f"--regid={user.gid}",
        "--init-groups",
        "--",
        *argv,
    ]


def with_env(env: Mapping[str, str] | None, argv: Sequence[str]) -> list[str]:
    """argv run with exactly env (nothing inherited) applied to argv[0] only."""
    if env is None:
        env = {"PATH": "/usr/bin:/bin"}
    return ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv]


class SyslogListener:
    """A datagram socket standing in for /dev/log; collects what was sent."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "log.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.setblocking(False)
        # The helper keeps its syslog connection across the privilege drop.
        self.path.chmod(0o666)
        self._lines: list[str] = []

    def drain(self) -> list[str]:
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            self._lines.append(data.decode("utf-8", "replace"))
        return list(self._lines)

    def close(self) -> None:
        self.sock.close()


class Sandbox:
    """A private /etc and /dev/log for helper runs (see the module docstring)."""

    def __init__(self) -> None:
        # Not /var/tmp: in the test guest that is on an overlay, which
        # cannot be an overlay's upper layer; /run is tmpfs there.
        self.root = Path(tempfile.mkdtemp(prefix="vdsosec-ns-", dir="/run"))
        self.root.chmod(0o755)
        self.etc = self.root / "etc-upper"
        self.dev = self.root / "dev-upper"
        for d in (self.etc, self.dev, self.root / "etc-work", self.root / "dev-work"):
            d.mkdir()
        # Overlay roots take the upper directory's owner and mode.
        shutil.copystat("/etc", self.etc)
        os.chown(self.etc, 0, 0)
        shutil.copystat("/dev", self.dev)
        os.chown(self.dev, 0, 0)
        self.log = SyslogListener(self.root)
        (self.dev / "log").symlink_to(self.log.path)

    @property
    def config(self) -> Path:
        """Where /etc/vdso-helper.conf is inside the sandbox, seen from outside."""
        return self.etc / CONFIG_NAME

    def write_config(self, text: str, mode: int = 0o644, uid: int = 0, gid: int = 0) -> None:
        self.remove_config()
        self.config.write_text(text)
        os.chown(self.config, uid, gid)
        self.config.chmod(mode)

    def remove_config(self) -> None:
        if self.config.is_symlink() or self.config.exists():
            self.config.unlink()

    def argv(self, user: User | None, argv: Sequence[str]) -> list[str]:
        script = (
            "set -e\n"
            f"mount -t overlay vdsosec-etc -o lowerdir=/etc,upperdir={shlex.quote(str(self.etc))},"
            f"workdir={shlex.quote(str(self.root / 'etc-work'))} /etc\n"
            f"mount -t overlay vdsosec-dev -o lowerdir=/dev,upperdir={shlex.quote(str(self.dev))},"
            f"workdir={shlex.quote(str(self.root / 'dev-work'))} /dev\n"
            'exec "$@"\n'
        )
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            script,
            "sh",
            *as_user_argv(user, argv),
        ]

    def audit_lines(self) -> list[str]:
        return self.log.drain()

    def close(self) -> None:
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox()
    try:
        yield box
    finally:
        box.close()


@dataclass(frozen=True, slots=True)
class Result:
    """One helper run: exit status, output, and its JSON if it printed one."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict[str, Any]:
        obj = json.loads(self.stdout)
        assert isinstance(obj, dict), f"helper printed {self.stdout!r}"
        return obj

    def refused(self, code: str) -> str:
        """Assert a clean refusal with this code; return its message."""
        assert self.returncode == 1, f"want exit 1 ({code}), got {self.returncode}: {self}"
        obj = self.json
        assert obj.get("error") == code, f"want {code}, got {obj}"
        msg = obj.get("message")
        assert isinstance(msg, str) and msg and "\n" not in msg, f"bad message in {obj}"
        return msg


def run_as(
    user: User | None,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    box: Sandbox | None = None,
    timeout: float = 60.0,
) -> Result:
    """Run argv as user (None: root) with exactly env, optionally in a sandbox."""
    full = with_env(env, argv)
    full = box.argv(user, full) if box else as_user_argv(user, full)
    res = subprocess.run(
        full,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(res.returncode, res.stdout, res.stderr)


def show_as(helper: Path, user: User | None, pid: int, box: Sandbox | None = None) -> Result:
    """`show --pid PID --json` run as user (None: root), optionally in a sandbox."""
    return run_as(user, [str(helper), "show", "--pid", str(pid), "--json"], box=box)


# ---- targets: proof that a refused attempt left the process alone ----


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a refused or failed helper run must not have changed."""

    maps: str | None  # None where even root may not read it (pid 1 in a container)
    tracer: int
    state: str
    sigblk: str


def snapshot(pid: int) -> Snapshot:
    maps: str | None
    try:
        with open(f"/proc/{pid}/maps") as f:
            maps = f.read()
    except PermissionError:
        maps = None
    fields: dict[str, str] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return Snapshot(maps, int(fields["TracerPid"]), fields["State"][:1], fields["SigBlk"])


def settled_snapshot(pid: int, timeout: float = 5.0) -> Snapshot:
    """A snapshot once the process sleeps with stable mappings (start-up is over)."""
    deadline = time.monotonic() + timeout
    last = snapshot(pid)
    while True:
        time.sleep(0.02)
        now = snapshot(pid)
        if now == last and now.state == "S":
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"pid {pid} did not settle: state {now.state}")
        last = now


def assert_untouched(pid: int, before: Snapshot) -> None:
    """Alive, not traced, not stopped, same mappings and signal mask as before."""
    after = snapshot(pid)
    assert after.tracer == 0, f"pid {pid} is still traced by {after.tracer}"
    assert after.state not in ("t", "T"), f"pid {pid} was left stopped ({after.state})"
    assert after.state != "Z", f"pid {pid} died"
    assert after.sigblk == before.sigblk, f"pid {pid}: signal mask changed"
    assert after.maps == before.maps, f"pid {pid}: mappings changed"


def proc_ids(pid: int) -> tuple[list[int], list[int], int]:
    """Real/effective/saved/fs uids and gids, and CapPrm, from /proc/PID/status."""
    uids: list[int] = []
    gids: list[int] = []
    capprm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                uids = [int(x) for x in line.split()[1:]]
            elif line.startswith("Gid:"):
                gids = [int(x) for x in line.split()[1:]]
            elif line.startswith("CapPrm:"):
                capprm = int(line.split()[1], 16)
    return uids, gids, capprm


def proc_dumpable(pid: int) -> bool:
    """procfs gives a non-dumpable process's files to root (task_dump_owner)."""
    uids, gids, _ = proc_ids(pid)
    st = os.stat(f"/proc/{pid}/status")
    return st.st_uid == uids[1] and st.st_gid == gids[1]


def wait_for(cond: Any, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def compile_c_file(src: Path, out: Path, *extra: str) -> Path:
    """Build a test's C program from SRC (hardened flags, like the helper)."""
    flags = ["-O2", "-Wall", "-Wextra", "-Werror", "-fPIE", "-pie"]
    subprocess.run(["gcc", *flags, "-o", str(out), str(src), *extra], check=True)
    return out


def compile_c(source: str, out: Path, *extra: str) -> Path:
    """Build a small C program from its text, with _GNU_SOURCE defined."""
    src = out.with_suffix(".c")
    src.write_text(source)
    return compile_c_file(src, out, "-D_GNU_SOURCE", *extra)
