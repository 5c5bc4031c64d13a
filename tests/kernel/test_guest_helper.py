"""The helper's tests and the test subjects inside the patched 7.3 guest.

With VDSOTUI_EXPECT_SYSCALL=1 the helper suites assert that every operation
went through vdso_get_info / vdso_remap and no stock fallback was taken; the
helper's own report is checked here too, independently of the suites.

`make test` runs the suites whose operations reach the kernel (info, image,
moves, switches, exec placement, refusals, signals) plus the subjects' own
suite, where the x32 subjects run (the host kernel has no x32). The access
policy suites (test_security_*) refuse before any vdso system call and are
kernel-independent; VDSOTUI_GUEST_FULL=1 adds them (`make test-kernel`),
all but the fuzzers' short run, which fuzzes parsers no kernel is involved
in and would build its sanitizer targets under emulation.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .background import guest_job, needs, result
from .guest import (
    FULL,
    REPO,
    GuestRun,
    assert_vdso_clock_on_tsc,
    build_host_programs,
    build_kernel,
    run_guest,
)

HELPER = REPO / "helper" / "build" / "vdso-helper"
KERNEL_PATH_SUITES = [
    "tests/test_subjects.py",
    "tests/helper/test_info.py",
    "tests/helper/test_show.py",
    "tests/helper/test_remap.py",
    "tests/helper/test_remap_refusals.py",
    "tests/helper/test_switch.py",
    "tests/helper/test_exec.py",
    "tests/helper/test_signals.py",
    "tests/helper/test_syscall_identity.py",
]
SUITES = ["tests/test_subjects.py", "tests/helper"] if FULL else KERNEL_PATH_SUITES
# pytest arguments naming them, the same on the host and in the guest
ARGS = [str(REPO / s) for s in SUITES] + (
    [f"--ignore={REPO / 'tests/helper/test_security_fuzz.py'}"] if FULL else []
)
# Cases that exist only where x32 programs run: they must have run here.
X32_CASES = [
    "test_runs_healthy[subject-x32]",
    "test_runs_healthy[subject-static-x32]",
    "test_self_move[subject-x32]",
    "test_threads_move_together[subject-x32]",
    "test_blocker_completes_across_a_move[subject-x32]",
    "test_signals_across_moves[subject-x32]",
    "test_moves_by_itself_and_judges_itself[subject-x32]",
    "test_moves_by_itself_and_judges_itself[subject-static-x32]",
]
JOB = "helper-7.3"


@guest_job(JOB)
def helper_run(scratch: Path) -> tuple[GuestRun, Path]:
    build_host_programs()
    build = build_kernel("7.3")
    host_collection()
    suites = " ".join(ARGS)
    script = (
        f'{HELPER} info --json > "$VDSOTUI_GUEST_SCRATCH/info.json"; '
        f'echo $? > "$VDSOTUI_GUEST_SCRATCH/info.rc"; '
        # The TUI's snapshot plugin is not needed here; importing it under
        # emulation costs about 15 s.
        f"cd {REPO} && {sys.executable} -m pytest -p no:cacheprovider "
        "-p no:textual-snapshot -q -rfEs "
        f'--junitxml="$VDSOTUI_GUEST_SCRATCH/suites.xml" {suites}'
    )
    run = run_guest(
        build,
        ["/bin/sh", "-c", script],
        scratch=scratch,
        timeout=3600,
        # Subjects at nice 10: their threads call the vdso without pause,
        # and on two emulated CPUs they left the helper and the test driver a
        # third of a CPU (the kernel-path suites: 213 s of guest time at
        # nice 0, 169 s at nice 10). They still get every cycle those leave.
        # SIGALRM every 500 us, not 100: the emulated CPUs cannot take 10 kHz.
        # At 100 us the guest delivered 1700-2200 signals/s, the rest
        # coalesced, and the timer interrupts alone held a subject's main
        # loop to 480 rounds/s; at 500 us, 1300 signals/s and 1600 rounds/s.
        env={
            "VDSOTUI_EXPECT_SYSCALL": "1",
            "VDSOTUI_SUBJECT_NICE": "10",
            "VDSOTUI_SUBJECT_SIGNAL_US": "500",
        },
    )
    return run, scratch


@functools.cache
def host_collection() -> frozenset[str]:
    """MODULE::TEST ids the same suites have on this host (pytest --collect-only).

    Run before the guest boots, with bytecode writing on whatever the
    environment says: the guest then finds the suites' modules compiled and
    assertion-rewritten in the tree instead of doing it under emulation
    (about 6 s of its pytest's start).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *ARGS],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    ids = set()
    for line in proc.stdout.splitlines():
        if "::" in line:
            path, name = line.split("::", 1)
            ids.add(f"{Path(path).stem}::{name}")
    return frozenset(ids)


@functools.cache
def guest_cases(scratch: Path, run: GuestRun) -> dict[str, str]:
    """Each test case the guest ran: "passed", or what went wrong (read once)."""
    xml = scratch / "suites.xml"
    assert xml.exists(), f"the suites left no report\n{run.explain()}"
    cases = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        name = case.get("classname", "").rsplit(".", 1)[-1] + "::" + case.get("name", "")
        verdict = "passed"
        for tag in ("failure", "error", "skipped"):
            found = case.find(tag)
            if found is not None:
                verdict = f"{tag}: {found.get('message', '')}"
        cases[name] = verdict
    return cases


@needs(JOB)
def test_helper_reports_the_syscalls() -> None:
    run, scratch = result(JOB)
    rc_file = scratch / "info.rc"
    assert rc_file.exists(), run.explain()
    text = (scratch / "info.json").read_text()
    assert rc_file.read_text().strip() == "0", f"vdso-helper info failed: {text}\n{run.explain()}"
    info = json.loads(text)
    assert info["syscalls"] is True, text
    types = {t["type"]: t for t in info["types"]}
    assert set(types) == {"i386", "x86_64", "x32"}, text
    for name, t in types.items():
        assert t["available"] is True, f"{name}: {t}"
        assert t["source"] == "syscall", f"{name}: {t}"


@needs(JOB)
def test_suites_pass_on_the_syscall_path() -> None:
    run, scratch = result(JOB)
    cases = guest_cases(scratch, run)
    bad = {k: v for k, v in cases.items() if v != "passed"}
    assert not bad, "\n".join(f"{k}: {v[:300]}" for k, v in bad.items()) + "\n" + run.explain()
    assert run.returncode == 0, run.explain(12000)


@needs(JOB)
def test_every_host_case_ran_in_the_guest() -> None:
    run, scratch = result(JOB)
    ran = set(guest_cases(scratch, run))
    missing = sorted(host_collection() - ran)
    assert not missing, f"{len(missing)} cases did not run in the guest: {missing[:20]}"


@needs(JOB)
@pytest.mark.parametrize("case", X32_CASES)
def test_x32_subject_case_ran(case: str) -> None:
    run, scratch = result(JOB)
    cases = guest_cases(scratch, run)
    key = f"test_subjects::{case}"
    assert key in cases, f"{case} was not collected in the guest\n{run.explain()}"
    assert cases[key] == "passed", cases[key]


@needs(JOB)
def test_no_kernel_warnings() -> None:
    run, _ = result(JOB)
    assert run.dmesg, f"no kernel log came back\n{run.explain()}"
    assert not run.splats(), "kernel log:\n" + run.dmesg[-8000:]


@needs(JOB)
def test_vdso_clock_stayed_on_tsc() -> None:
    run, _ = result(JOB)
    assert_vdso_clock_on_tsc(run)
