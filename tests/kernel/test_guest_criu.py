"""CRIU in the guests: `criu check`, and a dump and restore of each subject.

Debian trixie's CRIU 4.1.1, unpatched (integrations/criu), on both patched
kernels: the baseline the CRIU series is measured against. Every subject
must come back at the vdso block it was dumped with, keep running and keep
correct time (its own checks count errors). The guest side is
criu_guest.py; the CRIU build is cached like the kernels.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .background import guest_job, needs, result
from .guest import REPO, GuestRun, build_host_programs, build_kernel, run_guest

BUILD_CRIU = REPO / "integrations" / "criu" / "scripts" / "build-criu.sh"
DRIVER = Path(__file__).with_name("criu_guest.py")
SUBJECTS = ["subject-x86_64", "subject-i386", "subject-x86_64:4"]
VERSIONS = ["7.3", "6.12"]
# Each case marks the job it judges, so that the job starts early.
ON_GUESTS = [pytest.param(v, marks=needs(f"criu-{v}"), id=v) for v in VERSIONS]


def build_criu(*flags: str) -> Path:
    """build-criu.sh (a no-op when cached): the directory holding `criu`."""
    proc = subprocess.run([str(BUILD_CRIU), *flags], capture_output=True, text=True, timeout=3600)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise AssertionError(f"build-criu.sh {' '.join(flags)} failed:\n{proc.stderr[-4000:]}")
    path = Path(proc.stdout.strip().splitlines()[-1])
    assert (path / "criu").is_file(), f"no criu in {path}"
    return path


def _job(version: str, scratch: Path) -> tuple[GuestRun, dict[str, Any]]:
    build = build_kernel(version)
    criu = build_criu("--unpatched") / "criu"
    build_host_programs()
    run = run_guest(
        build,
        [sys.executable, str(DRIVER), str(criu), str(scratch), *SUBJECTS],
        scratch=scratch,
        timeout=600,
    )
    out = scratch / "results.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    return run, results


for _version in VERSIONS:
    guest_job(f"criu-{_version}")(lambda scratch, v=_version: _job(v, scratch))


def _results(version: str) -> tuple[GuestRun, dict[str, Any]]:
    run, results = result(f"criu-{version}")
    assert run.returncode == 0 and results, f"the CRIU guest run failed\n{run.explain()}"
    return run, results


@pytest.mark.parametrize("version", ON_GUESTS)
def test_criu_check_looks_good(version: str) -> None:
    _, results = _results(version)
    check = results["check"]
    assert check["rc"] == 0 and "Looks good." in check["output"], check["output"]


@pytest.mark.parametrize("version", ON_GUESTS)
@pytest.mark.parametrize("subject", SUBJECTS)
def test_unpatched_criu_restores_the_subject_in_place(version: str, subject: str) -> None:
    _, results = _results(version)
    tag = subject.replace(":", "-t")
    (res,) = [r for r in results["subjects"] if r["subject"] == tag]
    assert "error" not in res, res
    assert res["dump_rc"] == 0 and res["restore_rc"] == 0, res
    assert res["alive"] and res["alive_after_run"], res
    assert res["heartbeat_gain"] >= 200, res
    assert res["errors"] == 0, res
    assert res["block_before"], res
    assert res["block_after"] == res["block_before"], res
