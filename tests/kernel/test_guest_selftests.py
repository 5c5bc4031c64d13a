"""Selftests in the patched guests: the series' own and the kernel's vdso ones.

7.3 and 6.12 each boot once (a background job each, started when
collection ends); every binary is then judged on its own. The
kernel's existing vdso selftests must pass unchanged on the patched kernels:
the series refactors the mapper that mremap and ARCH_MAP_VDSO_* go through.
A case of the series' selftests that skips fails here: on these guests
nothing they need may be missing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .background import guest_job, needs, result
from .guest import (
    FULL,
    SCRIPTS,
    Build,
    GuestRun,
    assert_vdso_clock_on_tsc,
    build_kernel,
    run_guest,
)

# kernel-patch/README.md: one binary per ABI.
SERIES_SELFTESTS = [
    "series/vdso_remap_64",
    "series/vdso_remap_32",
    "series/vdso_remap_x32",
    "series/vdso_remap_fault",
]
# vdso_remap_fault's cases, each of which must reach a failure point: a case
# that reached none would test nothing (fault injection not armed).
FAULT_CASES = [
    "move_overlapping",
    "move_apart",
    "move_split_block",
    "switch_64_to_i386",
    "switch_i386_to_x32",
    "switch_x32_to_64",
]
FAULT_POINTS = re.compile(r"^# (\w+): (\d+) failure points$", re.M)
EXISTING_SELFTESTS = [
    "x86/test_mremap_vdso_64",
    "x86/test_mremap_vdso_32",
    "x86/test_syscall_vdso_32",
    "x86/unwind_vdso_32",
    "x86/vdso_restorer_32",
    "vDSO/vdso_test_abi",
    "vDSO/vdso_test_chacha",
    "vDSO/vdso_test_correctness",
    "vDSO/vdso_test_getcpu",
    "vDSO/vdso_test_getrandom",
    "vDSO/vdso_test_gettimeofday",
    "vDSO/vdso_standalone_test_x86",
]
EXISTING_612_ONLY = ["vDSO/vdso_test_clock_getres"]
# Run next to the others rather than after them: about 27 s of one vCPU
# under TCG, 64-bit, and blind to abi.vsyscall32, which the series' tests
# turn off and on (the rest run one at a time for that reason).
ALONGSIDE = {"vDSO/vdso_test_chacha"}
# Which patched guests to boot (both unless told otherwise).
VERSIONS = os.environ.get("VDSOTUI_GUEST_VERSIONS", "7.3 6.12").split()
# `make test` runs every selftest on 7.3, and on 6.12 every one but
# vdso_test_chacha: it checks the vdso's ChaCha20 code, which the series
# does not touch and which needs no mapping of its own, and it is the 6.12
# boot's longest test (30 s of one emulated CPU, against 12 s for all the
# others). VDSOTUI_GUEST_FULL=1 (`make test-kernel`) runs it there too.
FULL_ONLY_612 = {"vDSO/vdso_test_chacha"}
TOTALS = re.compile(
    r"^# Totals: pass:(\d+) fail:(\d+) xfail:(\d+) xpass:(\d+) skip:(\d+) error:(\d+)", re.M
)


# The 6.12 series does not have the all-or-nothing replacement yet
# (replace_special_mappings()), nor the fault-injection test that proves it.
SERIES_7_3_ONLY = {"series/vdso_remap_fault"}


def selftests(version: str) -> list[str]:
    if version != "6.12":
        return SERIES_SELFTESTS + EXISTING_SELFTESTS
    series = [n for n in SERIES_SELFTESTS if n not in SERIES_7_3_ONLY]
    existing = [n for n in EXISTING_SELFTESTS if FULL or n not in FULL_ONLY_612]
    return series + existing + EXISTING_612_ONLY


def run_selftests(build: Build, names: list[str], scratch: Path, timeout: int = 1500) -> GuestRun:
    """One boot: record the guest's uname -r, run each selftest binary."""
    alongside = [f"--alongside {build.selftest(n)}" for n in names if n in ALONGSIDE]
    in_turn = [str(build.selftest(n)) for n in names if n not in ALONGSIDE]
    args = " ".join(alongside + in_turn)
    script = (
        f'uname -r > "$VDSOTUI_GUEST_SCRATCH/uname"; '
        f'{SCRIPTS / "guest-run-tests.sh"} "$VDSOTUI_GUEST_SCRATCH/results" {args}'
    )
    return run_guest(build, ["/bin/sh", "-c", script], scratch=scratch, timeout=timeout)


def selftests_job(version: str) -> None:
    @guest_job(f"selftests-{version}")
    def job(scratch: Path) -> tuple[Build, GuestRun, Path]:
        build = build_kernel(version)
        return build, run_selftests(build, selftests(version), scratch), scratch


for _version in ("7.3", "6.12"):
    selftests_job(_version)


@pytest.fixture
def booted(request: pytest.FixtureRequest) -> tuple[Build, GuestRun, Path]:
    """The VERSION guest after running all its selftests (one boot per VERSION)."""
    booted: tuple[Build, GuestRun, Path] = result(f"selftests-{request.param}")
    return booted


def judge(booted: tuple[Build, GuestRun, Path], binary: str) -> str:
    """The test's output, once it ran and exited 0 (kselftest skip is 4)."""
    build, run, scratch = booted
    assert run.returncode == 0, run.explain()
    name = Path(binary).name
    rc_file = scratch / "results" / f"{name}.rc"
    assert rc_file.exists(), f"{name} did not run in the {build.version} guest\n{run.explain()}"
    rc = int(rc_file.read_text())
    out = (scratch / "results" / f"{name}.out").read_text(errors="replace")
    assert rc == 0, f"{binary} exited {rc} in the {build.version} guest:\n{out[-8000:]}"
    return out


def per_version(names: list[str], versions: list[str] = VERSIONS) -> pytest.MarkDecorator:
    pairs = [
        pytest.param(v, n, marks=needs(f"selftests-{v}"))
        for v in versions
        for n in names
        if n in selftests(v)
    ]
    return pytest.mark.parametrize(("booted", "binary"), pairs, indirect=["booted"])


EACH_VERSION = [pytest.param(v, marks=needs(f"selftests-{v}")) for v in VERSIONS]


@pytest.mark.parametrize("booted", EACH_VERSION, indirect=True)
def test_guest_runs_the_built_kernel(booted: tuple[Build, GuestRun, Path]) -> None:
    build, run, scratch = booted
    uname = scratch / "uname"
    assert uname.exists(), run.explain()
    assert uname.read_text().strip() == build.release


@per_version(SERIES_SELFTESTS)
def test_series_selftest(booted: tuple[Build, GuestRun, Path], binary: str) -> None:
    out = judge(booted, binary)
    totals = TOTALS.search(out)
    assert totals, f"{binary}: no kselftest totals line:\n{out[-8000:]}"
    passed, failed, _xfail, _xpass, skipped, errors = map(int, totals.groups())
    assert passed > 0 and failed == errors == 0, out[-8000:]
    skips = [ln for ln in out.splitlines() if "# SKIP" in ln]
    assert skipped == 0, f"{binary}: {skipped} cases skipped:\n" + "\n".join(skips)


@per_version(EXISTING_SELFTESTS + EXISTING_612_ONLY)
def test_existing_vdso_selftest(booted: tuple[Build, GuestRun, Path], binary: str) -> None:
    # Their skipped cases are symbols a 64-bit vdso does not have (such as
    # __vdso_clock_gettime64); a whole test skipped exits 4 and fails here.
    judge(booted, binary)


@pytest.mark.parametrize("booted", EACH_VERSION, indirect=True)
def test_no_kernel_warnings(booted: tuple[Build, GuestRun, Path]) -> None:
    _, run, _ = booted
    assert run.dmesg, f"no kernel log came back\n{run.explain()}"
    assert not run.splats(), "kernel log:\n" + run.dmesg[-8000:]


@pytest.mark.parametrize("booted", EACH_VERSION, indirect=True)
def test_vdso_clock_stayed_on_tsc(booted: tuple[Build, GuestRun, Path]) -> None:
    _, run, _ = booted
    assert_vdso_clock_on_tsc(run)


@per_version(["series/vdso_remap_fault"])
def test_fault_injection_reached_every_case(
    booted: tuple[Build, GuestRun, Path], binary: str
) -> None:
    out = judge(booted, binary)
    points = {name: int(n) for name, n in FAULT_POINTS.findall(out)}
    assert sorted(points) == sorted(FAULT_CASES), out[-4000:]
    assert all(n > 0 for n in points.values()), points
