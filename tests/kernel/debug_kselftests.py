"""Lockdep (PROVE_LOCKING) and KASAN build of the 7.3 series, selftests in it.

Not collected by `make test` (the name does not match test_*.py): the debug
kernel takes a long build and a slow boot. Run by `make -C kernel-patch
debug-test`, which names this file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .guest import Build, GuestRun, build_kernel
from .test_guest_selftests import EXISTING_SELFTESTS, SERIES_SELFTESTS, judge, run_selftests

DEBUG_SELFTESTS = SERIES_SELFTESTS + EXISTING_SELFTESTS


@pytest.fixture(scope="module")
def debug_booted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Build, GuestRun, Path]:
    build = build_kernel("7.3", "--debug")
    scratch = tmp_path_factory.mktemp("debug-7.3")
    return build, run_selftests(build, DEBUG_SELFTESTS, scratch, timeout=3600), scratch


def test_debug_kernel_has_lockdep_and_kasan(debug_booted: tuple[Build, GuestRun, Path]) -> None:
    build, run, _ = debug_booted
    config = (build.path / "config").read_text().splitlines()
    for option in ("CONFIG_PROVE_LOCKING=y", "CONFIG_KASAN=y", "CONFIG_X86_VDSO_REMAP=y"):
        assert option in config, option
    assert "KernelAddressSanitizer initialized" in run.dmesg, run.dmesg[-4000:]


@pytest.mark.parametrize("binary", DEBUG_SELFTESTS)
def test_selftest_under_lockdep_and_kasan(
    debug_booted: tuple[Build, GuestRun, Path], binary: str
) -> None:
    judge(debug_booted, binary)


def test_no_lockdep_or_kasan_report(debug_booted: tuple[Build, GuestRun, Path]) -> None:
    _, run, _ = debug_booted
    assert run.dmesg, f"no kernel log came back\n{run.explain()}"
    assert not run.splats(), "kernel log:\n" + run.dmesg[-12000:]
