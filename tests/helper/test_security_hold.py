"""A caller who kills the helper mid-move cannot harm its own process.

The caller owns the helper's real uid, so the kernel lets it SIGSTOP or
SIGKILL the helper. While a target is held (stopped, a stub over its text,
its block half moved) the helper runs with real uid 0, so those signals fail
with EPERM and the target always gets back whole. Here an unprivileged caller
moves its own busy process again and again, and each time it sees the target
traced it aims a SIGSTOP, then SIGKILLs, at the installed setuid helper.
"""

from __future__ import annotations

import errno
import itertools
import os
import random
import signal
import subprocess
import time
from pathlib import Path

from helperlib import block
from users import User, running_subject, user_fixture

ROUNDS = 100

user = user_fixture("user", "vdsohold")


def _status(pid: int) -> dict[str, str]:
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def _as_caller(user: User) -> None:
    os.setgroups([])
    os.setresgid(user.gid, user.gid, user.gid)
    os.setresuid(user.uid, user.uid, user.uid)


def _aimed_kill(helper: Path, user: User, pid: int, delay: float) -> tuple[int, int]:
    """One move, run by the caller, who signals the helper once it holds the target.

    Returns the caller's EPERM count and how many of its signals got through
    while the target was still traced.
    """
    r, w = os.pipe()
    child = os.fork()
    if child == 0:  # the caller
        code = 0
        try:
            os.close(r)
            _as_caller(user)
            h = subprocess.Popen(
                [str(helper), "remap", "--pid", str(pid), "--auto", "--json"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            eperm = through = 0
            aimed = False
            sig = signal.SIGSTOP
            while h.poll() is None:
                traced = _status(pid)["TracerPid"] != "0"
                if traced and not aimed:
                    aimed = True
                    time.sleep(delay)
                if not aimed:
                    continue
                try:
                    os.kill(h.pid, sig)
                except OSError as exc:
                    if exc.errno != errno.EPERM:
                        raise
                    eperm += 1
                    continue
                if _status(pid)["TracerPid"] != "0":
                    through += 1
                if sig == signal.SIGKILL:
                    break
                sig = signal.SIGKILL
            h.wait()
            os.write(w, f"{eperm} {through}".encode())
        except BaseException:
            code = 1
        os._exit(code)
    os.close(w)
    _, st = os.waitpid(child, 0)
    with os.fdopen(r) as f:
        text = f.read()
    assert os.waitstatus_to_exitcode(st) == 0, "the caller failed"
    eperm, through = map(int, text.split())
    return eperm, through


def _wait_released(pid: int) -> dict[str, str]:
    for _ in range(500):
        st = _status(pid)
        if st["TracerPid"] == "0" and st["State"][0] not in "tT":
            return st
        time.sleep(0.01)
    raise AssertionError(f"process {pid} was left traced or stopped: {st}")


def _text_is_the_files(pid: int) -> None:
    """Every executable file mapping holds exactly the file's bytes: no stub left."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            f = line.split()
            if len(f) < 6 or "x" not in f[1] or not f[5].startswith("/"):
                continue
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            mem.seek(lo)
            seen = mem.read(hi - lo)
            with open(f"/proc/{pid}/map_files/{f[0]}", "rb") as src:
                src.seek(int(f[2], 16))
                want = src.read(hi - lo)
            # The file may end inside the last page; the rest reads as zeros.
            want += bytes(len(seen) - len(want))
            assert seen == want, f"{f[5]} at {f[0]} differs from the file"


def test_killing_the_helper_never_harms_the_target(setuid_helper: Path, user: User) -> None:
    rng = random.Random(1)
    eperm_total = through_total = 0
    with running_subject(user, "--threads", "3", "--busy") as subj:
        names = [n for _, _, n in block(subj.pid)]
        for i in range(ROUNDS):
            eperm, through = _aimed_kill(setuid_helper, user, subj.pid, rng.uniform(0, 0.002))
            eperm_total += eperm
            through_total += through
            assert subj.alive(), f"round {i}: the target died"
            _wait_released(subj.pid)
            now = block(subj.pid)
            assert [n for _, _, n in now] == names, f"round {i}: block {now}"
            assert all(a[1] == b[0] for a, b in itertools.pairwise(now)), now
            _text_is_the_files(subj.pid)
        subj.assert_healthy()
    print(f"EPERM {eperm_total}, through while traced {through_total}")
    # The signals were aimed at the hold, and the hold refused them.
    assert eperm_total > 0
    assert through_total == 0
