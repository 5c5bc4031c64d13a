"""The guest runner itself: right kernel, status and files passed back, ABIs."""

from __future__ import annotations

from pathlib import Path

from .guest import Build, run_guest


def test_guest_runs_the_built_kernel_and_returns_status(kernel_73: Build, tmp_path: Path) -> None:
    script = 'uname -r > "$VDSOTUI_GUEST_SCRATCH/uname"; echo guest-says-hello; exit 7'
    run = run_guest(kernel_73, ["/bin/sh", "-c", script], scratch=tmp_path, timeout=300)
    assert run.returncode == 7, run.explain()
    assert "guest-says-hello" in run.console, run.explain()
    assert (tmp_path / "uname").read_text().strip() == kernel_73.release, run.explain()


def test_guest_root_is_writable_but_host_is_untouched(kernel_73: Build, tmp_path: Path) -> None:
    marker = Path("/etc/vdsotui-guest-marker")
    assert not marker.exists()
    script = (
        f"echo x > {marker} && useradd -M vdsotui-guest-probe && "
        'id -u vdsotui-guest-probe > "$VDSOTUI_GUEST_SCRATCH/uid"'
    )
    run = run_guest(kernel_73, ["/bin/sh", "-c", script], scratch=tmp_path, timeout=300)
    assert run.returncode == 0, run.explain()
    assert int((tmp_path / "uid").read_text()) > 0, run.explain()
    assert not marker.exists(), "a write in the guest reached the host"
    assert "vdsotui-guest-probe" not in Path("/etc/passwd").read_text()
