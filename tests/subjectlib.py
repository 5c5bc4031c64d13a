"""Drive the C test subjects (tests/subjects) from any test suite.

A subject keeps a 256-byte status file mapped shared (layout in
docs/protocol.md); `Subject.status()` reads it without disturbing the
process. `Subject.spawn` is a context manager that never lets the process
outlive the `with` block.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STATUS_SIZE = 256
MAGIC = b"VDSOSUBJ"
# offset 0..224 of the status file; aux follows last_error at 216
_LAYOUT = struct.Struct("<8sIIQQQQQIIQQQ128sQ")
MODES = {0: "i386", 1: "x86_64", 2: "x32"}


class SubjectError(AssertionError):
    """A subject misbehaved: exited early, never got ready, made errors."""


def build_dir() -> Path:
    """Where `make -C tests/subjects` puts the binaries."""
    return REPO / "tests" / "subjects" / "build"


_built = False


def ensure_built() -> None:
    """Run `make -C tests/subjects` once per test process (cheap when up to date)."""
    global _built
    if not _built:
        subprocess.run(["make", "-s", "-C", str(build_dir().parent)], check=True)
        _built = True


def subject_path(name: str) -> Path:
    path = build_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not built: run make -C tests/subjects")
    return path


@dataclass(frozen=True, slots=True)
class Status:
    """One snapshot of a subject's status file."""

    version: int
    pid: int
    heartbeat: int
    calls: int
    errors: int
    vdso_base: int
    self_moves: int
    mode: int
    threads: int
    blocker_done: int
    signals: int
    ready: int
    last_error: str
    aux: int

    @property
    def mode_name(self) -> str:
        return MODES.get(self.mode, f"unknown({self.mode})")

    @classmethod
    def parse(cls, data: bytes) -> Status:
        if len(data) < STATUS_SIZE:
            raise SubjectError(f"status file is {len(data)} bytes, want {STATUS_SIZE}")
        f = _LAYOUT.unpack_from(data)
        if f[0] != MAGIC:
            raise SubjectError(f"status file magic is {f[0]!r}, want {MAGIC!r}")
        return cls(
            version=f[1],
            pid=f[2],
            heartbeat=f[3],
            calls=f[4],
            errors=f[5],
            vdso_base=f[6],
            self_moves=f[7],
            mode=f[8],
            threads=f[9],
            blocker_done=f[10],
            signals=f[11],
            ready=f[12],
            last_error=f[13].split(b"\0", 1)[0].decode(errors="replace"),
            aux=f[14],
        )


class Subject:
    """A running subject process; create it with `Subject.spawn`."""

    def __init__(self, proc: subprocess.Popen[bytes], status_path: Path, name: str) -> None:
        self.proc = proc
        self.status_path = status_path
        self.name = name
        self._output: tuple[str, str] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @classmethod
    @contextmanager
    def spawn(
        cls,
        name: str,
        *args: str,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        status: bool = True,
        launcher: Sequence[str] = (),
    ) -> Iterator[Subject]:
        """Start build/NAME with ARGS (plus `--status FILE` unless status=False).

        With `user`, the process runs as that user (and its primary group);
        the status file lives in a fresh directory that user owns. The
        process is killed when the block ends, whatever happened.
        `launcher` is a command that execs the subject (same pid), such as
        the benchmarks' setpriv that gives it a parent-death signal.
        """
        exe = subject_path(name)
        workdir = Path(tempfile.mkdtemp(prefix=f"vdsosubj-{name}-"))
        status_path = workdir / "status"
        argv = [str(exe)]
        # VDSOTUI_SUBJECT_NICE: the level to run subjects at (the patched
        # guest sets 10). nice(1) execs the subject: same pid, and its threads
        # inherit the level.
        nice = os.environ.get("VDSOTUI_SUBJECT_NICE")
        if nice:
            argv = ["nice", "-n", nice, *argv]
        argv = [*launcher, *argv]
        if status:
            argv += ["--status", str(status_path)]
        argv += list(args)
        # VDSOTUI_SUBJECT_SIGNAL_US: the SIGALRM period of --signals subjects
        # that do not set their own (the patched guest sets 500; the
        # subject's own default is 100).
        signal_us = os.environ.get("VDSOTUI_SUBJECT_SIGNAL_US")
        if signal_us and "--signals" in args and "--signal-us" not in args:
            argv += ["--signal-us", signal_us]
        uid = gid = None
        if user is not None:
            pw = pwd.getpwnam(user)
            uid, gid = pw.pw_uid, pw.pw_gid
            os.chown(workdir, uid, gid)
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            user=uid,
            group=gid,
            extra_groups=[] if uid is not None else None,
            cwd=workdir,
        )
        subject = cls(proc, status_path, name)
        try:
            yield subject
        finally:
            subject.kill()
            shutil.rmtree(workdir, ignore_errors=True)

    # ---- observing ----

    def status(self) -> Status:
        """The current status (raises SubjectError if the file is not there yet)."""
        try:
            data = self.status_path.read_bytes()
        except FileNotFoundError:
            raise SubjectError(f"{self.name}: no status file yet") from None
        return Status.parse(data)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _died(self) -> SubjectError:
        out, err = self.output()
        return SubjectError(
            f"{self.name} (pid {self.pid}) exited with {self.proc.returncode}: "
            f"stderr={err.strip()!r} stdout={out.strip()[-300:]!r}"
        )

    def output(self) -> tuple[str, str]:
        """stdout and stderr; only once the process has exited."""
        if self.proc.poll() is None:
            raise SubjectError(f"{self.name} is still running")
        if self._output is None:
            out, err = self.proc.communicate()
            self._output = (out.decode(errors="replace"), err.decode(errors="replace"))
        return self._output

    def wait_ready(self, timeout: float = 5.0) -> Status:
        """Wait until every thread of the subject runs its loop."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise self._died()
            try:
                st = self.status()
            except SubjectError:
                st = None
            if st is not None and st.ready:
                if st.pid != self.pid:
                    raise SubjectError(f"status pid {st.pid} is not the process {self.pid}")
                return st
            if time.monotonic() > deadline:
                raise SubjectError(f"{self.name} not ready after {timeout}s: {st}")
            time.sleep(0.01)

    def wait_for(self, what: str, cond: Callable[[Status], bool], timeout: float = 5.0) -> Status:
        """Poll the status until cond(status) is true."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.status()
            if cond(st):
                return st
            if not self.alive():
                raise self._died()
            if time.monotonic() > deadline:
                raise SubjectError(f"{self.name}: {what} not reached after {timeout}s: {st}")
            time.sleep(0.01)

    def assert_healthy(self, min_progress: int = 10, timeout: float = 5.0) -> Status:
        """The heartbeat and the call count advance, and no check failed.

        Waits up to `timeout` for the heartbeat to advance by `min_progress`.
        """
        if not self.alive():
            raise self._died()
        before = self.status()
        self._check_errors(before)
        after = self.wait_for(
            f"heartbeat +{min_progress}",
            lambda s: s.heartbeat >= before.heartbeat + min_progress,
            timeout,
        )
        self._check_errors(after)
        if after.calls <= before.calls:
            raise SubjectError(f"{self.name}: calls did not advance ({before.calls})")
        return after

    def _check_errors(self, st: Status) -> None:
        if st.errors:
            raise SubjectError(f"{self.name}: {st.errors} errors, last: {st.last_error!r}")

    # ---- controlling ----

    def signal(self, sig: int) -> None:
        if not self.alive():
            raise self._died()
        os.kill(self.pid, sig)

    def self_move(self, timeout: float = 5.0) -> Status:
        """Ask for a self-move (SIGUSR1) and wait until it is done."""
        before = self.status().self_moves
        self.signal(signal.SIGUSR1)
        st = self.wait_for("self-move", lambda s: s.self_moves > before, timeout)
        self._check_errors(st)
        return st

    def stop(self, timeout: float = 5.0) -> int:
        """SIGTERM, then the exit code (0: no errors); kill if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout: float = 5.0) -> int:
        """Wait for a voluntary exit; kill and raise if it does not come."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise SubjectError(f"{self.name} did not exit within {timeout}s") from None

    def kill(self) -> None:
        """SIGKILL if still running; always reaps and collects the output."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.output()

    def maps_block(self) -> list[tuple[int, int, str]]:
        """The vdso block's lines of /proc/PID/maps: (start, end, name)."""
        out = []
        with open(f"/proc/{self.pid}/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and (parts[5] == "[vdso]" or parts[5].startswith("[vvar")):
                    lo, hi = (int(x, 16) for x in parts[0].split("-"))
                    out.append((lo, hi, parts[5]))
        return out

    def maps_vdso_base(self) -> int | None:
        for lo, _hi, name in self.maps_block():
            if name == "[vdso]":
                return lo
        return None

    def wait_in_vdso_syscall(
        self, nrs: tuple[int, ...] | None = None, timeout: float = 10.0
    ) -> list[str]:
        """Wait until the main thread is blocked in a syscall (one of NRS, if
        given) entered from inside [vdso]; its /proc/PID/syscall fields."""
        deadline = time.monotonic() + timeout
        while True:
            lo, hi = next((lo, hi) for lo, hi, n in self.maps_block() if n == "[vdso]")
            with open(f"/proc/{self.pid}/syscall") as f:
                fields = f.read().split()
            # "NR args... sp pc" while blocked in a syscall, "running" otherwise
            if (
                len(fields) == 9
                and (nrs is None or int(fields[0]) in nrs)
                and lo <= int(fields[8], 16) < hi
            ):
                return fields
            if time.monotonic() > deadline:
                raise SubjectError(f"{self.name}: never seen in a syscall from [vdso]: {fields}")
            time.sleep(0.001)
