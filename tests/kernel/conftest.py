"""Fixtures for the guest-kernel suites: cached kernel builds and guest runs.

Each suite boots the kernel once (a module-scoped fixture runs a batch of
tests in one guest) and then judges every test of the batch on its own, so a
failure names the test and carries its output and the guest's console.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .guest import Build, GuestRun, build_kernel, run_guest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def kernel_73() -> Build:
    """The patched 7.3 kernel (lean config) and its selftests."""
    return build_kernel("7.3")


@pytest.fixture(scope="session")
def kernel_612() -> Build:
    """The patched 6.12 kernel (lean config) and its selftests."""
    return build_kernel("6.12")


@pytest.fixture(scope="session")
def host_builds() -> None:
    """Host-built programs the guest runs (the guest sees the tree read-only)."""
    for sub in ("helper", "tests/subjects", "kernel-patch"):
        if (REPO / sub / "Makefile").is_file():
            subprocess.run(["make", "-s", "-C", str(REPO / sub)], check=True)


@pytest.fixture
def guest(tmp_path: Path) -> Callable[..., GuestRun]:
    """Run a command in a booted guest with tmp_path as the shared scratch."""

    def run(build: Build, *argv: str, timeout: int = 600, **kw: str) -> GuestRun:
        return run_guest(build, list(argv), scratch=tmp_path, timeout=timeout, env=kw)

    return run


def pytest_report_header() -> list[str]:
    cache = os.environ.get("VDSOTUI_KCACHE", "/var/cache/vdsotui-kernel")
    return [f"kernel cache: {cache}"]
