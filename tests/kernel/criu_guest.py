"""Inside a guest: `criu check`, then dump and restore each test subject.

usage: criu_guest.py CRIU OUT_DIR SUBJECT[:THREADS]...

For each subject: start it in a session of its own, wait until it runs,
record its vdso block and mode, `criu dump` it (the dump kills it), `criu
restore -d` it, and record what came back: alive, heartbeat progress,
errors, the restored block. Writes OUT_DIR/results.json and each run's
logs under OUT_DIR/NAME/. The host's test judges the results; this script
only fails when it cannot run at all. Every subject it started is ended.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from subjectlib import Status, subject_path


def block(pid: int) -> list[str]:
    """The vdso block of PID as `start-end name` lines, in address order."""
    lines = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5] in ("[vdso]", "[vvar]", "[vvar_vclock]"):
                lines.append(f"{parts[0]} {parts[5]}")
    return lines


def log_tail(path: Path) -> str:
    """CRIU's error lines from a log, for the host's message."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"no log {path.name}"
    errors = [line for line in lines if "Error" in line]
    return " | ".join((errors or lines)[-5:])


def read_status(path: Path) -> Status | None:
    try:
        return Status.parse(path.read_bytes())
    except (OSError, AssertionError):
        return None


def wait_ready(path: Path, timeout: float) -> Status | None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st = read_status(path)
        if st is not None and st.ready:
            return st
        time.sleep(0.05)
    return None


def progress(path: Path, since: int, want: int, timeout: float) -> Status | None:
    end = time.monotonic() + timeout
    st = None
    while time.monotonic() < end:
        st = read_status(path)
        if st is not None and st.heartbeat >= since + want:
            return st
        time.sleep(0.05)
    return st


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def end(pid: int) -> None:
    """SIGTERM, then SIGKILL: no subject outlives this script."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.05)
        if not alive(pid):
            break
    # A restored task is our child only as a reparented orphan (we are a
    # subreaper): reap it.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def run_one(criu: str, out: Path, spec: str) -> dict[str, object]:
    name, _, threads = spec.partition(":")
    tag = name + (f"-t{threads}" if threads else "")
    work = out / tag
    images = work / "images"
    images.mkdir(parents=True)
    status = Path("/tmp") / f"criu-{tag}.status"
    args = [str(subject_path(name)), "--status", str(status)]
    if threads:
        args += ["--threads", threads]
    res: dict[str, object] = {"subject": tag}
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    pid = proc.pid
    try:
        st = wait_ready(status, 20)
        if st is None:
            res["error"] = "subject never got ready"
            return res
        res["mode"] = st.mode_name
        res["block_before"] = block(pid)
        dump = subprocess.run(
            [criu, "dump", "-t", str(pid), "-D", str(images), "-o", "dump.log", "-v4"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        res["dump_rc"] = dump.returncode
        if dump.returncode != 0:
            res["error"] = "dump failed: " + log_tail(images / "dump.log")
            return res
        # The dump ended the subject: reap it, so that its pid is free.
        proc.wait(timeout=10)
        t0 = time.monotonic()
        restore = subprocess.run(
            [criu, "restore", "-D", str(images), "-d", "-o", "restore.log", "-v4"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        res["restore_s"] = round(time.monotonic() - t0, 3)
        res["restore_rc"] = restore.returncode
        if restore.returncode != 0:
            res["error"] = "restore failed: " + log_tail(images / "restore.log")
            return res
        res["alive"] = alive(pid)
        if not res["alive"]:
            return res
        res["block_after"] = block(pid)
        before = read_status(status)
        after = progress(status, before.heartbeat if before else 0, 200, 20)
        res["heartbeat_gain"] = (after.heartbeat - before.heartbeat) if after and before else 0
        res["errors"] = after.errors if after else None
        res["last_error"] = after.last_error if after else ""
        res["alive_after_run"] = alive(pid)
        return res
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        end(pid)
        status.unlink(missing_ok=True)


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    criu, out = sys.argv[1], Path(sys.argv[2])
    # `criu restore -d` leaves the restored task an orphan: make it ours.
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    check = subprocess.run([criu, "check"], capture_output=True, text=True, timeout=120)
    results: dict[str, object] = {
        "check": {"rc": check.returncode, "output": check.stdout + check.stderr},
        "subjects": [run_one(criu, out, spec) for spec in sys.argv[3:]],
    }
    (out / "results.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
