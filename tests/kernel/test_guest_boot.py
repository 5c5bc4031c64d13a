"""Boot the patched 7.3 kernel and run the kernel's existing vdso selftests.

They must pass on the patched kernel exactly as on a stock one: the series
refactors the vdso mapper that mremap and ARCH_MAP_VDSO_* go through.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .guest import SCRIPTS, Build, GuestRun, run_guest

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


def run_selftests(build: Build, names: list[str], scratch: Path, timeout: int = 900) -> GuestRun:
    """One boot: record the guest's uname -r, then run each selftest binary."""
    bins = " ".join(str(build.selftest(n)) for n in names)
    script = (
        f'uname -r > "$VDSOTUI_GUEST_SCRATCH/uname"; '
        f'{SCRIPTS / "guest-run-tests.sh"} "$VDSOTUI_GUEST_SCRATCH/results" {bins}'
    )
    return run_guest(build, ["/bin/sh", "-c", script], scratch=scratch, timeout=timeout)


def judge(run: GuestRun, scratch: Path, binary: str) -> None:
    """Fail with the test's own output unless it exited 0 (a kselftest skip is 4)."""
    assert run.returncode == 0, run.explain()
    name = Path(binary).name
    rc_file = scratch / "results" / f"{name}.rc"
    assert rc_file.exists(), f"{name} did not run in the guest\n{run.explain()}"
    rc = int(rc_file.read_text())
    out = (scratch / "results" / f"{name}.out").read_text(errors="replace")
    assert rc == 0, f"{binary} exited {rc} in the guest:\n{out[-6000:]}"


@pytest.fixture(scope="module")
def boot73(kernel_73: Build, tmp_path_factory: pytest.TempPathFactory) -> tuple[GuestRun, Path]:
    scratch = tmp_path_factory.mktemp("guest73")
    return run_selftests(kernel_73, EXISTING_SELFTESTS, scratch), scratch


def test_guest_runs_the_built_kernel(kernel_73: Build, boot73: tuple[GuestRun, Path]) -> None:
    run, scratch = boot73
    uname = scratch / "uname"
    assert uname.exists(), run.explain()
    assert uname.read_text().strip() == kernel_73.release


@pytest.mark.parametrize("binary", EXISTING_SELFTESTS)
def test_existing_vdso_selftest(binary: str, boot73: tuple[GuestRun, Path]) -> None:
    run, scratch = boot73
    judge(run, scratch, binary)


def test_no_kernel_warnings(boot73: tuple[GuestRun, Path]) -> None:
    run, _ = boot73
    assert run.dmesg, f"no kernel log came back\n{run.explain()}"
    assert not run.splats(), "kernel log:\n" + run.dmesg[-8000:]
