"""The helper's test suite inside the patched 7.3 guest, on the syscall path.

With VDSOTUI_EXPECT_SYSCALL=1 the helper suites assert that every operation
went through vdso_get_info / vdso_remap and no stock fallback was taken.
The helper's own report is checked here too, independently of the suites.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .guest import REPO, Build, GuestRun, run_guest

HELPER = REPO / "helper" / "build" / "vdso-helper"


@pytest.fixture(scope="module")
def helper_run(
    kernel_73: Build, host_builds: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[GuestRun, Path]:
    scratch = tmp_path_factory.mktemp("guest-helper")
    script = (
        f'{HELPER} info --json > "$VDSOTUI_GUEST_SCRATCH/info.json"; '
        f'echo $? > "$VDSOTUI_GUEST_SCRATCH/info.rc"; '
        f"{sys.executable} -m pytest -p no:cacheprovider -q -rfEs "
        f'--junitxml="$VDSOTUI_GUEST_SCRATCH/helper.xml" {REPO / "tests" / "helper"}'
    )
    run = run_guest(
        kernel_73,
        ["/bin/sh", "-c", script],
        scratch=scratch,
        timeout=1800,
        env={"VDSOTUI_EXPECT_SYSCALL": "1"},
    )
    return run, scratch


def test_helper_reports_the_syscalls(helper_run: tuple[GuestRun, Path]) -> None:
    run, scratch = helper_run
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


def test_helper_suite_passes_on_the_syscall_path(helper_run: tuple[GuestRun, Path]) -> None:
    run, scratch = helper_run
    assert run.returncode == 0, run.explain(12000)
    xml = scratch / "helper.xml"
    assert xml.exists(), run.explain()
    root = ET.parse(xml).getroot()
    suite = root.find("testsuite") if root.tag == "testsuites" else root
    assert suite is not None, xml.read_text()
    counts = {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    assert counts["tests"] > 0, f"no helper tests ran\n{run.explain()}"
    assert counts["failures"] == counts["errors"] == 0, f"{counts}\n{run.explain(12000)}"
    assert counts["skipped"] == 0, f"helper tests skipped in the guest: {counts}\n{run.explain()}"


def test_no_kernel_warnings(helper_run: tuple[GuestRun, Path]) -> None:
    run, _ = helper_run
    assert run.dmesg, f"no kernel log came back\n{run.explain()}"
    assert not run.splats(), "kernel log:\n" + run.dmesg[-8000:]
