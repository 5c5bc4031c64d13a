"""The guest runner itself: right kernel, status and files passed back, ABIs."""

from __future__ import annotations

from pathlib import Path

from .background import guest_job, needs, result
from .guest import Build, GuestRun, assert_vdso_clock_on_tsc, build_kernel, run_guest

MARKER = Path("/etc/vdsotui-guest-marker")
PROBE_USER = "vdsotui-guest-probe"


@guest_job("boot-7.3")
def boot(scratch: Path) -> tuple[Build, GuestRun, Path]:
    """One boot: report uname, write to the root, add a user, exit 7."""
    build = build_kernel("7.3")
    script = (
        'uname -r > "$VDSOTUI_GUEST_SCRATCH/uname"; echo guest-says-hello; '
        f"echo x > {MARKER} && useradd -M {PROBE_USER} && "
        f'id -u {PROBE_USER} > "$VDSOTUI_GUEST_SCRATCH/uid"; exit 7'
    )
    return build, run_guest(build, ["/bin/sh", "-c", script], scratch=scratch, timeout=300), scratch


@needs("boot-7.3")
def test_guest_runs_the_built_kernel_and_returns_status() -> None:
    build, run, scratch = result("boot-7.3")
    assert run.returncode == 7, run.explain()
    assert "guest-says-hello" in run.console, run.explain()
    assert (scratch / "uname").read_text().strip() == build.release, run.explain()


@needs("boot-7.3")
def test_guest_root_is_writable_but_host_is_untouched() -> None:
    _, run, scratch = result("boot-7.3")
    uid = scratch / "uid"
    assert uid.exists(), f"writing to the guest's root or useradd failed\n{run.explain()}"
    assert int(uid.read_text()) > 0, run.explain()
    assert not MARKER.exists(), "a write in the guest reached the host"
    assert PROBE_USER not in Path("/etc/passwd").read_text()


@needs("boot-7.3")
def test_guest_reports_its_clocksource() -> None:
    """Every run brings back the clocksource it ended on (guest-init.sh)."""
    _, run, _ = result("boot-7.3")
    assert_vdso_clock_on_tsc(run)
