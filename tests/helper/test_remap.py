"""Live moves with a proxy: the target keeps running and its time stays right."""

from __future__ import annotations

import errno
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helperlib import (
    assert_running_untraced,
    assert_unchanged,
    block,
    blocked_threads,
    ok,
    path_expected,
    snapshot,
    vdso_base,
)
from subjectlib import Subject


def move(helper: Path, pid: int, *extra: str) -> dict:
    """One move; checks the reply against what /proc shows afterwards."""
    old = block(pid)
    out = ok(helper, "remap", "--pid", str(pid), *extra)
    assert out["operation"] == "move" and out["dry_run"] is False
    assert out["path"] == path_expected()
    assert out["proxy"] is True and out["stop_ns"] > 0
    new_base = int(out["to"]["base"], 16)
    assert out["from"]["base"] == hex(next(lo for lo, _, n in old if n == "[vdso]"))
    now = block(pid)
    assert vdso_base(pid) == new_base
    # same layout, shifted: every VMA kept its offset in the block
    shift = new_base - int(out["from"]["base"], 16)
    assert [(lo + shift, hi + shift, n) for lo, hi, n in old] == now
    assert_running_untraced(pid)
    return out


def proxies(helper: Path, pid: int) -> list[dict]:
    return ok(helper, "show", "--pid", str(pid))["proxies"]


@pytest.mark.parametrize("mode", ["x86_64", "i386"])
def test_glibc_subject_survives_moves(helper_path: Path, subjects_built: Path, mode: str) -> None:
    """Threads hammering the vdso, a blocked thread, signals: three moves."""
    args = ("--threads", "4", "--blocker", "--blocker-ms", "1500", "--signals")
    with Subject.spawn(f"subject-{mode}", *args) as s:
        s.wait_ready()
        bases = [vdso_base(s.pid)]
        for _ in range(3):
            out = move(helper_path, s.pid, "--auto")
            bases.append(int(out["to"]["base"], 16))
            s.assert_healthy(min_progress=200)
        # every old base holds a proxy, and all of them jump to the newest vdso
        px = proxies(helper_path, s.pid)
        assert sorted(int(p["base"], 16) for p in px) == sorted(bases[:-1])
        assert {p["target"] for p in px} == {hex(bases[-1])}
        st = s.wait_for("blocker done", lambda st: st.blocker_done == 1, timeout=10)
        assert st.signals > 0 and st.errors == 0
        assert s.stop() == 0, s.status().last_error


def test_many_threads_hammering(helper_path: Path, subjects_built: Path) -> None:
    """16 threads calling the vdso without pause; many stand inside it at each stop.

    64 threads are exercised by bench/bench_helper.py (200 moves): on a 2-core
    machine that is also busy with other work, the subject's own 1 s freshness
    check can trip from CPU starvation alone, as it does under plain
    SIGSTOP/SIGCONT there, which would make a test flaky.
    """
    with Subject.spawn("subject-x86_64", "--threads", "16") as s:
        s.wait_ready(timeout=20)
        for _ in range(3):
            out = move(helper_path, s.pid, "--auto")
            assert "seize 17 threads" in out["steps"]
            s.assert_healthy(min_progress=200, timeout=20)
        assert s.stop(timeout=20) == 0, s.status().last_error


def test_signal_heavy_i386(helper_path: Path, subjects_built: Path) -> None:
    """SIGALRM every 100 us, handlers returning through the vdso trampoline."""
    with Subject.spawn("subject-i386", "--signals", "--threads", "2", "--idle-in-vdso") as s:
        s.wait_ready()
        for _ in range(5):
            before = s.status().signals
            move(helper_path, s.pid, "--auto")
            s.assert_healthy(min_progress=200)
            s.wait_for("signals", lambda st, b=before: st.signals > b + 100)
        assert s.stop() == 0, s.status().last_error


def test_blocked_thread_restarts(helper_path: Path, subjects_built: Path) -> None:
    """A thread in a 1.5 s clock_nanosleep: the move interrupts and restarts it."""
    with Subject.spawn("subject-x86_64", "--blocker", "--blocker-ms", "1500") as s:
        s.wait_ready()
        move(helper_path, s.pid, "--auto")
        st = s.wait_for("blocker done", lambda st: st.blocker_done == 1, timeout=10)
        assert st.errors == 0, st.last_error
        assert s.stop() == 0


@pytest.mark.parametrize("name", ["subject-static-x86_64", "subject-static-i386"])
def test_static_subjects(helper_path: Path, subjects_built: Path, name: str) -> None:
    with Subject.spawn(name) as s:
        s.wait_ready()
        for _ in range(2):
            move(helper_path, s.pid, "--auto")
            s.assert_healthy(min_progress=200)
        assert s.stop() == 0, s.status().last_error


@pytest.mark.parametrize("mode", ["x86_64", "i386"])
def test_move_away_and_home_again(helper_path: Path, subjects_built: Path, mode: str) -> None:
    """Back onto its own proxy: the real text replaces it, one proxy remains."""
    with Subject.spawn(f"subject-{mode}", "--threads", "2", "--signals") as s:
        s.wait_ready()
        home = hex(vdso_base(s.pid))
        plan = ok(helper_path, "remap", "--pid", str(s.pid), "--auto", "--dry-run")
        away = plan["to"]["base"]
        for _ in range(3):
            assert move(helper_path, s.pid, "--addr", away)["to"]["base"] == away
            s.assert_healthy(min_progress=200)
            out = move(helper_path, s.pid, "--addr", home)
            assert any(st.startswith("munmap proxy") for st in out["steps"])
            s.assert_healthy(min_progress=200)
            text = next(hi - lo for lo, hi, n in block(s.pid) if n == "[vdso]")
            assert proxies(helper_path, s.pid) == [{"base": away, "size": text, "target": home}]
        assert s.stop() == 0, s.status().last_error


def test_dry_run_changes_nothing(helper_path: Path, subjects_built: Path) -> None:
    with Subject.spawn("subject-x86_64", "--blocker", "--blocker-ms", "20000") as s:
        s.wait_ready()
        blocked = blocked_threads(s.pid, 230)
        assert blocked
        before = snapshot(s.pid, blocked)
        out = ok(helper_path, "remap", "--pid", str(s.pid), "--auto", "--dry-run")
        assert out["dry_run"] is True and "stop_ns" not in out
        assert out["operation"] == "move" and out["path"] == path_expected()
        names = [c["name"] for c in out["checks"]]
        assert {"policy", "destination", "threads", "proxy"} <= set(names)
        assert all(c["ok"] for c in out["checks"])
        assert out["to"]["size"] == out["from"]["size"]
        assert_unchanged(s.pid, before)
        s.assert_healthy(min_progress=200)


PY_CLOCK_LOOP = r"""
import sys, time
ready = sys.argv[1]
# phase 1: run until the test says go (it moves the vdso meanwhile)
n = 0
last = time.monotonic()
open(ready, "w").write("ready")
while open(ready).read() != "go":
    for _ in range(1000):
        t = time.monotonic()
        assert t >= last, (t, last)
        last = t
    n += 1000
# phase 2: half a second of calls through glibc's cached vdso pointers, as
# time and not as a count: what can go stale after a move (the clock data
# the kernel updates each tick) shows over time; a count would only make an
# emulated guest run twenty times longer. A clock that stopped would never
# get there: hence the cap on calls.
w0, m0 = time.time(), time.monotonic()
calls, end = 0, m0 + 0.5
while last < end:
    t = time.monotonic()
    if t < last:
        print("monotonic went back", t, last); sys.exit(3)
    last = t
    calls += 1
    if calls > 50_000_000:
        print("monotonic stuck at", t); sys.exit(5)
w1, m1 = time.time(), time.monotonic()
# wall and monotonic clocks advanced alike (both through the moved vdso)
if abs((w1 - w0) - (m1 - m0)) > 0.2 or not (0 < m1 - m0 < 60):
    print("clocks disagree", w1 - w0, m1 - m0); sys.exit(4)
print("ok", n, calls)
"""


def test_python_keeps_time_after_moves(helper_path: Path, tmp_path: Path) -> None:
    """A program nobody here wrote: python3 in a busy time.monotonic() loop."""
    ready = tmp_path / "ready"
    p = subprocess.Popen(
        [sys.executable, "-c", PY_CLOCK_LOOP, str(ready)], stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        for _ in range(3):
            move(helper_path, p.pid, "--auto")
            time.sleep(0.05)
        assert len(proxies(helper_path, p.pid)) == 3
        ready.write_text("go")
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out
        assert out.startswith("ok ")
    finally:
        p.kill()
        p.wait()


def x32_available(helper: Path) -> bool:
    return bool(ok(helper, "info", "--type", "x32")["types"][0]["available"])


def test_x32_subject(helper_path: Path, subjects_built: Path) -> None:
    """x32 programs move like the others where the kernel runs them (patched guest);
    elsewhere the kernel refuses to execute them at all, as info says."""
    if x32_available(helper_path):
        assert (subjects_built / "subject-x32").is_file()
        with Subject.spawn("subject-x32", "--threads", "2", "--signals") as s:
            s.wait_ready()
            for _ in range(2):
                move(helper_path, s.pid, "--auto")
                s.assert_healthy(min_progress=200)
            assert s.stop() == 0, s.status().last_error
    else:
        with pytest.raises(OSError) as e:
            subprocess.run([str(subjects_built / "subject-x32"), "--status", "/dev/null"])
        assert e.value.errno == errno.ENOEXEC


def test_no_proxy_move_of_a_process_without_vdso_pointers(helper_path: Path) -> None:
    """sleep(1) makes no time call while it sleeps: --no-proxy is safe there."""
    p = subprocess.Popen(["sleep", "600"])
    try:
        deadline = time.monotonic() + 30
        while Path(f"/proc/{p.pid}/syscall").read_text().split()[0] != "230":
            assert time.monotonic() < deadline, "sleep never went to sleep"
            time.sleep(0.01)
        old = vdso_base(p.pid)
        out = ok(helper_path, "remap", "--pid", str(p.pid), "--auto", "--no-proxy")
        assert out["proxy"] is False and out["path"] == path_expected()
        assert vdso_base(p.pid) == int(out["to"]["base"], 16) != old
        assert proxies(helper_path, p.pid) == []
        assert_running_untraced(p.pid)
        assert p.poll() is None
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize("mode", ["x86_64", "i386"])
def test_signal_frames_follow_the_move(helper_path: Path, subjects_built: Path, mode: str) -> None:
    """SIGALRM every 100 us, handlers calling the vdso: a handler may have
    interrupted a thread inside the vdso, and its signal frame holds that
    context. 40 moves back and forth; the process must come through."""
    with Subject.spawn(f"subject-{mode}", "--threads", "2", "--signals") as s:
        s.wait_ready()
        home = hex(vdso_base(s.pid))
        away = ok(helper_path, "remap", "--pid", str(s.pid), "--auto", "--dry-run")["to"]["base"]
        for i in range(40):
            ok(helper_path, "remap", "--pid", str(s.pid), "--addr", away if i % 2 == 0 else home)
            assert s.alive(), f"died after move {i + 1}"
        s.assert_healthy(min_progress=200)
        assert s.status().signals > 1000
        assert s.stop() == 0, s.status().last_error
