"""Build a guest kernel and run commands in it, through kernel-patch/scripts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "kernel-patch" / "scripts"
# VDSOTUI_GUEST_FULL=1 (`make test-kernel`): every guest suite in full, not
# the share of them that `make test` runs.
FULL = os.environ.get("VDSOTUI_GUEST_FULL") == "1"
# What the console may show from the kernel that means the run is not clean.
KERNEL_SPLATS = (
    "BUG:",
    "WARNING:",
    "Oops",
    "Kernel panic",
    "KASAN:",
    "UBSAN:",
    "possible circular locking",
    "possible recursive locking",
    "inconsistent lock state",
    "turning off the locking correctness validator",
    "DEBUG_LOCKS_WARN_ON",
    "suspicious RCU usage",
    "general protection fault",
)


@dataclass(frozen=True)
class Build:
    """One cached kernel build: build-kernel.sh's output directory."""

    path: Path
    version: str

    @property
    def release(self) -> str:
        return (self.path / "release").read_text().strip()

    def selftest(self, rel: str) -> Path:
        return self.path / "selftests" / rel


@dataclass(frozen=True)
class GuestRun:
    """What one boot gave back: the command's status and the guest's console."""

    returncode: int
    console: str
    dmesg: str
    clocksource: str

    def explain(self, limit: int = 6000) -> str:
        text = self.console if len(self.console) <= limit else "..." + self.console[-limit:]
        return f"guest exit status {self.returncode}; console:\n{text}"

    def splats(self) -> list[str]:
        return [ln for ln in self.dmesg.splitlines() if any(s in ln for s in KERNEL_SPLATS)]


_live: set[subprocess.Popen[str]] = set()
_live_lock = threading.Lock()
_host_lock = threading.Lock()
_host_built = False


def _run(cmd: list[str], timeout: float, log: Path | None = None) -> tuple[int, str, str]:
    """Run CMD, killable by stop_guests(); its status, stdout and stderr.

    With LOG, stdout and stderr both go to that file as they come (a guest's
    console can be followed while it runs) and come back as stdout.
    """
    sink = log.open("w") if log is not None else None
    proc = subprocess.Popen(
        cmd,
        stdout=sink if sink is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT if sink is not None else subprocess.PIPE,
        text=True,
        errors="replace",
    )
    with _live_lock:
        _live.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    finally:
        with _live_lock:
            _live.discard(proc)
        if sink is not None:
            sink.close()
    if log is not None:
        out = log.read_text(errors="replace")
    return proc.returncode, out or "", err or ""


def stop_guests() -> None:
    """Terminate builds and guests still running (run-guest.sh kills QEMU)."""
    with _live_lock:
        for proc in _live:
            proc.terminate()


def build_host_programs() -> None:
    """What the guest runs from the host tree (it sees the tree read-only)."""
    global _host_built
    with _host_lock:
        if _host_built:
            return
        for sub in ("helper", "tests/subjects", "tests/helper", "kernel-patch"):
            subprocess.run(["make", "-s", "-C", str(REPO / sub)], check=True)
        _host_built = True


def build_kernel(version: str, *flags: str) -> Build:
    """Run build-kernel.sh (a no-op when cached); fail with its log tail."""
    rc, out, err = _run([str(SCRIPTS / "build-kernel.sh"), version, *flags], timeout=3 * 3600)
    sys.stderr.write(err)
    if rc != 0:
        raise AssertionError(
            f"build-kernel.sh {version} {' '.join(flags)} failed (exit {rc}):\n{err[-6000:]}"
        )
    path = Path(out.strip().splitlines()[-1])
    assert (path / "bzImage").is_file(), f"no bzImage in {path}"
    return Build(path=path, version=version)


def run_guest(
    build: Build,
    argv: list[str],
    scratch: Path,
    timeout: int = 600,
    env: dict[str, str] | None = None,
    mem: int | None = None,
) -> GuestRun:
    """Boot BUILD, run ARGV as root in the guest, return status and console."""
    cmd = [str(SCRIPTS / "run-guest.sh"), "--timeout", str(timeout), "--scratch", str(scratch)]
    if mem is not None:
        cmd += ["--mem", str(mem)]
    for k, v in (env or {}).items():
        cmd += ["--env", f"{k}={v}"]
    cmd += [str(build.path), "--", *argv]
    # Followable while the guest runs: tail -f SCRATCH/console.log
    log = scratch / "console.log"
    rc, console, _ = _run(cmd, timeout=timeout + 120, log=log)
    dmesg_file = scratch / "dmesg"
    dmesg = dmesg_file.read_text(errors="replace") if dmesg_file.exists() else ""
    cs_file = scratch / "clocksource"
    clocksource = cs_file.read_text().strip() if cs_file.exists() else ""
    return GuestRun(returncode=rc, console=console, dmesg=dmesg, clocksource=clocksource)


def assert_vdso_clock_on_tsc(run: GuestRun) -> None:
    """The run ended on the TSC clocksource: the vdso read the time itself.

    On any other clocksource (HPET after the watchdog gave up on the TSC)
    the vdso's clock functions fall back to system calls, and the time
    checks after each move or switch would not have exercised the vdso.
    """
    assert run.clocksource, f"the guest did not report its clocksource\n{run.explain()}"
    assert run.clocksource == "tsc", run.dmesg[-4000:]
