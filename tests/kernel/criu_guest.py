"""Inside a guest: `criu check`, then dump and restore each test subject.

usage: criu_guest.py [NAME=]CRIU[,NAME=CRIU...] OUT_DIR SUBJECT[:THREADS]...

With several CRIU builds (for example patched=...,unpatched=...) every
subject goes through each of them in turn, under OUT_DIR/NAME/. For each
subject: start it in a session of its own, wait until it runs, record its
vdso block, AT_SYSINFO_EHDR and the type of the vdso at that address (its
ELF header), `criu dump` it (the dump kills it), `criu restore -d` it, and
record what came back: alive, heartbeat progress, errors, the restored
block, base and type, and which vdso path CRIU's restore log shows.

A subject named NAME+moved has its vdso moved live by vdso-helper before
the dump, which leaves a proxy at the old base that glibc's cached
pointers still call through; `vdsotui list --json` reports it before the
dump and after the restore.

The subject `squatter` is a process that replaced its vdso data pages by
pages of its own (vvar_squatter.py): restoring it puts the vdso text back
in front of memory that is not the kernel's.

Across kernels, the same OUT_DIR (a directory both guests share) serves
two boots: `--dump` starts each subject at a fixed pid, dumps it and
keeps its status file and what it saw beside the images; `--restore`, on
the other kernel, puts the status files back, restores each image and
records what came back, as above:

    criu_guest.py --dump CRIUS OUT_DIR SUBJECT...
    criu_guest.py --restore CRIUS OUT_DIR

`--bench ROUNDS CRIUS OUT_DIR SUBJECT...` runs each subject ROUNDS times
through each build, interleaved (bench/bench_criu.py).

Writes OUT_DIR/results.json (results-dump.json, results-restore.json)
and each run's logs. The host's test judges
the results; this script only fails when it cannot run at all. Every
subject it started is ended.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import struct
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
            if len(parts) >= 6 and parts[5] in VDSO_NAMES:
                lines.append(f"{parts[0]} {parts[5]}")
    return lines


AT_SYSINFO_EHDR = 33
VDSO_NAMES = ("[vdso]", "[vvar]", "[vvar_vclock]")
SQUATTER = Path(__file__).with_name("vvar_squatter.py")
REPO = Path(__file__).resolve().parent.parent.parent
HELPER = REPO / "helper" / "build" / "vdso-helper"
VDSOTUI = Path(sys.executable).with_name("vdsotui")

# What CRIU's restore log says about the vdso (-v4), by the line's text.
LOG_MARKS = {
    # the series' restorer (patches 0004 and 0005)
    "remap_placed": "vdso_remap placed the",
    "remap_moved": "to the dumped address",
    "remap_refused": "vdso_remap cannot",
    # CRIU's own paths: arch_prctl(ARCH_MAP_VDSO_*), mremap, the proxy
    "arch_prctl": "vDSO at",
    "remap_inplace": "matches dumpee, remap inplace",
    "proxy": "mismatches dumpee, generate proxy",
}


def auxv_base(pid: int, wide: bool) -> int | None:
    """AT_SYSINFO_EHDR of PID; WIDE for a 64-bit process's auxv."""
    try:
        data = Path(f"/proc/{pid}/auxv").read_bytes()
    except OSError:
        return None
    fmt = "<QQ" if wide else "<II"
    for key, val in struct.iter_unpack(fmt, data[: len(data) - len(data) % struct.calcsize(fmt)]):
        if key == AT_SYSINFO_EHDR:
            return int(val)
        if key == 0:
            break
    return None


def vdso_type(pid: int, base: int | None) -> str | None:
    """The type of the vdso at BASE in PID, from its ELF header."""
    if not base:
        return None
    try:
        with open(f"/proc/{pid}/mem", "rb") as f:
            f.seek(base)
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return "not ELF"
    machine = struct.unpack_from("<H", head, 18)[0]
    return {(1, 3): "i386", (2, 62): "x86_64", (1, 62): "x32"}.get((head[4], machine), "unknown")


def vdso_state(pid: int, mode: str) -> dict[str, object]:
    base = auxv_base(pid, mode != "i386")
    return {"block": block(pid), "base": base, "type": vdso_type(pid, base)}


def log_marks(path: Path) -> dict[str, list[str]]:
    """The restore log's vdso lines, by LOG_MARKS key (the line's text)."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    found: dict[str, list[str]] = {}
    for line in lines:
        for key, text in LOG_MARKS.items():
            if text not in line:
                continue
            # arch_map_vdso's "Mapping native vDSO at", not the series' lines
            if key == "arch_prctl" and "Mapping " not in line:
                continue
            found.setdefault(key, []).append(line.split(": ", 1)[-1].strip())
    return found


def _stamp(line: str) -> float | None:
    if not line.startswith("("):
        return None
    try:
        return float(line[1 : line.index(")")])
    except ValueError:
        return None


def vdso_steps(path: Path) -> dict[str, float]:
    """Microseconds of the restorer's two vdso steps, from the log's stamps.

    map: from mapping the running vdso at the parking address (the
    series' "vdso_remap(" line, or 4.1.1's "Mapping ... vDSO at") to the
    next gettimeofday line, which both print right after; switch: from
    "remap inplace" to the next gettimeofday line, after the vdso is at
    the dumped address.
    """
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    steps: dict[str, float] = {}
    start: tuple[str, float] | None = None
    for line in lines:
        t = _stamp(line)
        if t is None:
            continue
        if start is None:
            parking = "vdso_remap(" in line or ("Mapping " in line and "vDSO at" in line)
            if "map" not in steps and parking:
                start = ("map", t)
            elif "switch" not in steps and "remap inplace" in line:
                start = ("switch", t)
        elif "gettimeofday" in line:
            steps[start[0]] = round((t - start[1]) * 1e6, 1)
            start = None
    return steps


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


def set_next_pid(pid: int) -> None:
    """The next process this pid namespace creates gets PID (if free)."""
    Path("/proc/sys/kernel/ns_last_pid").write_text(f"{pid - 1}\n")


def helper_move(pid: int) -> dict[str, object]:
    """vdso-helper remap --auto: move PID's vdso live, leaving a proxy."""
    proc = subprocess.run(
        [str(HELPER), "remap", "--pid", str(pid), "--auto", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        out = {"error": proc.stdout + proc.stderr}
    return {"rc": proc.returncode, **out} if isinstance(out, dict) else {"rc": proc.returncode}


def scan(pid: int) -> dict[str, object] | None:
    """The scanner's view of PID (vdsotui list --json --pid)."""
    proc = subprocess.run(
        [str(VDSOTUI), "list", "--json", "--pid", str(pid)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        procs = json.loads(proc.stdout)["processes"]
    except (ValueError, KeyError):
        return {"error": proc.stdout + proc.stderr}
    return dict(procs[0]) if procs else None


def start(spec: str, status: Path, pid: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start the subject SPEC (at PID if given); return it and its tag."""
    name, _, threads = spec.partition(":")
    name = name.removesuffix("+moved")
    tag = name + (f"-t{threads}" if threads else "")
    if name == "squatter":
        args = [sys.executable, str(SQUATTER), str(status)]
    else:
        args = [str(subject_path(name)), "--status", str(status)]
        if threads:
            args += ["--threads", threads]
    if pid is not None:
        set_next_pid(pid)
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return proc, tag


def wait_squatter(path: Path, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(OSError):
            if path.read_text() == "ready\n":
                return True
        time.sleep(0.05)
    return False


def run_one(criu: str, out: Path, spec: str) -> dict[str, object]:
    tag = spec.replace(":", "-t").replace("+", "-")
    work = out / tag
    images = work / "images"
    images.mkdir(parents=True)
    status = Path("/tmp") / f"criu-{tag}.status"
    status.unlink(missing_ok=True)
    res: dict[str, object] = {"subject": tag}
    proc, _ = start(spec, status)
    pid = proc.pid
    squatter = spec == "squatter"
    try:
        if squatter:
            if not wait_squatter(status, 20):
                res["error"] = "squatter never got ready"
                return res
            mode = "x86_64"
        else:
            st = wait_ready(status, 20)
            if st is None:
                res["error"] = "subject never got ready"
                return res
            mode = st.mode_name
        res["mode"] = mode
        if spec.endswith("+moved"):
            res["helper_move"] = helper_move(pid)
            res["scan_before"] = scan(pid)
        before = vdso_state(pid, mode)
        res["block_before"] = before["block"]
        res["base_before"] = before["base"]
        res["type_before"] = before["type"]
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
        res["log"] = log_marks(images / "restore.log")
        res["steps_us"] = vdso_steps(images / "restore.log")
        if restore.returncode != 0:
            res["error"] = "restore failed: " + log_tail(images / "restore.log")
            return res
        res["alive"] = alive(pid)
        if not res["alive"]:
            return res
        after = vdso_state(pid, mode)
        res["block_after"] = after["block"]
        res["base_after"] = after["base"]
        res["type_after"] = after["type"]
        if squatter:
            res["alive_after_run"] = alive(pid)
            return res
        if spec.endswith("+moved"):
            res["scan_after"] = scan(pid)
        st_before = read_status(status)
        st_after = progress(status, st_before.heartbeat if st_before else 0, 200, 20)
        res["heartbeat_gain"] = (
            (st_after.heartbeat - st_before.heartbeat) if st_after and st_before else 0
        )
        res["errors"] = st_after.errors if st_after else None
        res["last_error"] = st_after.last_error if st_after else ""
        res["alive_after_run"] = alive(pid)
        return res
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        end(pid)
        status.unlink(missing_ok=True)


# Cross-kernel subjects start at these pids: free in a freshly booted guest.
CROSS_PID = 5000


def dump_only(criu: str, out: Path, spec: str, pid: int) -> dict[str, object]:
    """Start SPEC at PID, dump it into OUT/TAG/images; keep its status file."""
    tag = spec.replace(":", "-t")
    work = out / tag
    images = work / "images"
    images.mkdir(parents=True)
    status = Path("/tmp") / f"criu-{tag}.status"
    status.unlink(missing_ok=True)
    res: dict[str, object] = {"subject": tag, "kernel": os.uname().release}
    proc, _ = start(spec, status, pid)
    res["pid"] = proc.pid
    try:
        st = wait_ready(status, 20)
        if st is None:
            res["error"] = "subject never got ready"
            return res
        res["mode"] = st.mode_name
        before = vdso_state(proc.pid, st.mode_name)
        res["block_before"] = before["block"]
        res["base_before"] = before["base"]
        res["type_before"] = before["type"]
        dump = subprocess.run(
            [criu, "dump", "-t", str(proc.pid), "-D", str(images), "-o", "dump.log", "-v4"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        res["dump_rc"] = dump.returncode
        if dump.returncode != 0:
            res["error"] = "dump failed: " + log_tail(images / "dump.log")
            return res
        proc.wait(timeout=10)
        (work / "status").write_bytes(status.read_bytes())
        return res
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        status.unlink(missing_ok=True)


def restore_only(criu: str, work: Path, dumped: dict[str, object]) -> dict[str, object]:
    """Restore what dump_only left in WORK, on this kernel; judge as run_one."""
    res = dict(dumped)
    res["restore_kernel"] = os.uname().release
    images = work / "images"
    tag = str(dumped["subject"])
    pid = int(str(dumped["pid"]))
    mode = str(dumped["mode"])
    status = Path("/tmp") / f"criu-{tag}.status"
    status.write_bytes((work / "status").read_bytes())
    try:
        t0 = time.monotonic()
        restore = subprocess.run(
            [criu, "restore", "-D", str(images), "-d", "-o", "restore.log", "-v4"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        res["restore_s"] = round(time.monotonic() - t0, 3)
        res["restore_rc"] = restore.returncode
        res["log"] = log_marks(images / "restore.log")
        if restore.returncode != 0:
            res["error"] = "restore failed: " + log_tail(images / "restore.log")
            return res
        res["alive"] = alive(pid)
        if not res["alive"]:
            return res
        after = vdso_state(pid, mode)
        res["block_after"] = after["block"]
        res["base_after"] = after["base"]
        res["type_after"] = after["type"]
        st_before = read_status(status)
        st_after = progress(status, st_before.heartbeat if st_before else 0, 200, 20)
        res["heartbeat_gain"] = (
            (st_after.heartbeat - st_before.heartbeat) if st_after and st_before else 0
        )
        res["errors"] = st_after.errors if st_after else None
        res["last_error"] = st_after.last_error if st_after else ""
        res["alive_after_run"] = alive(pid)
        res["scan_after"] = scan(pid)
        return res
    finally:
        end(pid)
        status.unlink(missing_ok=True)


def cross(phase: str, builds: dict[str, str], out: Path, specs: list[str]) -> int:
    results: dict[str, object] = {}
    pid = CROSS_PID
    for name, criu in builds.items():
        if phase == "--dump":
            runs = []
            for spec in specs:
                runs.append(dump_only(criu, out / name, spec, pid))
                pid += 100
        else:
            dumped = json.loads((out / "results-dump.json").read_text())[name]
            runs = [
                restore_only(criu, out / name / str(d["subject"]), d)
                if d.get("dump_rc") == 0
                else d
                for d in dumped
            ]
        results[name] = runs
    (out / f"results-{phase[2:]}.json").write_text(json.dumps(results, indent=1))
    return 0


def bench(rounds: int, builds: dict[str, str], out: Path, specs: list[str]) -> int:
    """ROUNDS rounds of run_one per subject, the builds interleaved and
    their order alternating from round to round."""
    names = list(builds)
    runs: list[dict[str, object]] = []
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for spec in specs:
            for name in order:
                res = run_one(builds[name], out / f"round{r}" / name, spec)
                res["criu"], res["round"] = name, r
                runs.append(res)
    (out / "results-bench.json").write_text(json.dumps(runs, indent=1))
    return 0


def criu_builds(arg: str) -> dict[str, str]:
    """NAME=PATH,... (a bare PATH is named "criu")."""
    builds = {}
    for item in arg.split(","):
        name, sep, path = item.partition("=")
        builds[name if sep else "criu"] = path if sep else name
    return builds


def main() -> int:
    argv = sys.argv[1:]
    rounds = int(argv.pop(1)) if len(argv) > 1 and argv[0] == "--bench" else 0
    phase = argv.pop(0) if argv and argv[0] in ("--dump", "--restore", "--bench") else None
    if len(argv) < (2 if phase == "--restore" else 3):
        print(__doc__, file=sys.stderr)
        return 2
    builds, out = criu_builds(argv[0]), Path(argv[1])
    # `criu restore -d` leaves the restored task an orphan: make it ours.
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    if phase == "--bench":
        return bench(rounds, builds, out, argv[2:])
    if phase:
        return cross(phase, builds, out, argv[2:])
    results: dict[str, object] = {}
    for name, criu in builds.items():
        check = subprocess.run([criu, "check"], capture_output=True, text=True, timeout=120)
        feature = subprocess.run(
            [criu, "check", "--feature", "vdso_remap"], capture_output=True, text=True, timeout=120
        )
        results[name] = {
            "check": {"rc": check.returncode, "output": check.stdout + check.stderr},
            "vdso_remap": {"rc": feature.returncode, "output": feature.stdout + feature.stderr},
            "subjects": [run_one(criu, out / name, spec) for spec in argv[2:]],
        }
    (out / "results.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
