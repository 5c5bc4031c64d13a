"""The real path: the app on the real /proc source and the real setuid
helper moves a real subject process through its dialog, and the helper's
refusals and a non-setuid install are explained to real users."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from subjectlib import Subject, build_dir
from textual.widgets import Button, Checkbox, Input, Static

from tui.conftest import notes, press, settle, wait_until
from vdsotui.helper_client import HelperClient
from vdsotui.procfs import ProcSource
from vdsotui.tui.app import VdsoApp
from vdsotui.tui.columns import COLUMN_KEYS
from vdsotui.tui.dialogs import RemapDialog

REPO = Path(__file__).resolve().parents[2]
HELPER = REPO / "helper" / "build" / "vdso-helper"
SIZE = (120, 40)
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"


def plain(widget: Static) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


@pytest.fixture(scope="module")
def setuid_helper() -> Iterator[Path]:
    """The helper of this tree, built, installed setuid root in a root-owned directory."""
    assert os.geteuid() == 0, "the real-path tests install a setuid helper and must run as root"
    subprocess.run(["make", "-s", "-C", str(REPO / "helper")], check=True)
    subprocess.run(["make", "-s", "-C", str(build_dir().parent)], check=True)
    tmp = Path(tempfile.mkdtemp(prefix="vdsotui-helper-", dir="/var/tmp"))
    try:
        tmp.chmod(0o755)
        dest = tmp / "vdso-helper"
        shutil.copyfile(HELPER, dest)
        os.chown(dest, 0, 0)
        dest.chmod(0o4755)
        yield dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def user() -> Iterator[str]:
    name = f"vdsotui{uuid.uuid4().hex[:6]}"
    subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["pkill", "-KILL", "-u", name], check=False)
        subprocess.run(["userdel", name], check=False)


def cell(app: VdsoApp, pid: int, column: str) -> str:
    return app.table.get_row(str(pid))[COLUMN_KEYS.index(column)].plain


async def test_real_move_through_dialog(setuid_helper: Path) -> None:
    with Subject.spawn("subject-x86_64") as s:
        s.wait_ready()
        old_base = s.maps_vdso_base()
        assert old_base is not None
        app = VdsoApp(ProcSource(), HelperClient(setuid_helper), live=False)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            assert "helper ready" in plain(app.query_one("#facts", Static))
            assert cell(app, s.pid, "base") == f"{old_base:x}"
            assert cell(app, s.pid, "state") == "ok"
            assert app.table.select_pid(s.pid)
            await press(pilot, "m")
            dialog = app.screen
            assert isinstance(dialog, RemapDialog)
            plan = plain(dialog.query_one("#remap-plan-body", Static))
            assert f"from x86_64 at {old_base:#x}" in plan, plan
            assert "proxy at the old base: yes" in plan and "✓ policy" in plan
            assert not dialog.query_one("#remap-confirm", Button).disabled
            await press(pilot, "ctrl+y")
            await wait_until(pilot, lambda: app.table.procs[s.pid].base != old_base)
            await settle(pilot)
            new_base = s.maps_vdso_base()
            assert new_base is not None and new_base != old_base
            assert cell(app, s.pid, "base") == f"{new_base:x}"
            assert cell(app, s.pid, "state") == "moved proxy"
            assert any(
                f"Moved vdso of {s.pid}" in n and f"proxy left at {old_base:#x}" in n
                for n in notes(app)
            ), notes(app)
            # In the action log, under XDG_STATE_HOME, while the console runs.
            log = Path(os.environ["XDG_STATE_HOME"]) / "vdsotui" / "actions.log"
            assert app.action_log.path == log
            (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
            assert entry["action"] == "move" and entry["pid"] == s.pid
            assert entry["result"] == "done" and entry["code"] is None
            assert entry["request"] == "--auto" and entry["command"] == "subject-x86_64"
            assert isinstance(entry["stop_ns"], int) and entry["stop_ns"] > 0
            assert f"proxy left at {old_base:#x}" in entry["message"]
        s.assert_healthy()


def free_base(pid: int) -> int:
    """A base with 16 MiB free on each side in `pid`'s address space."""
    with open(f"/proc/{pid}/maps") as f:
        spans = [tuple(int(x, 16) for x in line.split()[0].split("-")) for line in f]
    room = 16 << 20
    for base in range(0x200000000, 0x7F0000000000, 0x100000000):
        if all(end <= base - room or start >= base + room for start, end in spans):
            return base
    raise AssertionError("no free range in the subject")


async def test_real_typed_address_is_planned_before_it_runs(setuid_helper: Path) -> None:
    """Typing an address after the auto plan, then Ctrl+Y, moves nothing;
    Enter plans the typed address, and Ctrl+Y then moves exactly there."""
    with Subject.spawn("subject-x86_64") as s:
        s.wait_ready()
        old_base = s.maps_vdso_base()
        target = free_base(s.pid)
        app = VdsoApp(ProcSource(), HelperClient(setuid_helper), live=False)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            assert app.table.select_pid(s.pid)
            await press(pilot, "m")
            dialog = app.screen
            assert isinstance(dialog, RemapDialog)
            assert not dialog.query_one("#remap-confirm", Button).disabled
            dialog.query_one("#remap-addr", Input).focus()
            await pilot.press(*hex(target), "ctrl+y")
            await settle(pilot)
            assert app.screen is dialog
            assert s.maps_vdso_base() == old_base
            assert dialog.query_one("#remap-confirm", Button).disabled
            await press(pilot, "enter")
            plan = plain(dialog.query_one("#remap-plan-body", Static))
            assert f"to   x86_64 at {target:#x}" in plan, plan
            await press(pilot, "ctrl+y")
            await wait_until(pilot, lambda: app.table.procs[s.pid].base != old_base)
        assert s.maps_vdso_base() == target
        s.assert_healthy()


def first_mapping(pid: int) -> int:
    with open(f"/proc/{pid}/maps") as f:
        return int(f.readline().split("-", 1)[0], 16)


async def test_real_refusals_are_explained(setuid_helper: Path) -> None:
    with Subject.spawn("subject-x86_64") as s:
        s.wait_ready()
        base = s.maps_vdso_base()
        app = VdsoApp(ProcSource(), HelperClient(setuid_helper), live=False)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            assert app.table.select_pid(s.pid)
            await press(pilot, "m")
            dialog = app.screen
            assert isinstance(dialog, RemapDialog)
            # A destination on top of the subject's own executable: the dry run refuses.
            dialog.query_one("#remap-addr", Input).value = hex(first_mapping(s.pid))
            await press(pilot, "enter")
            plan = plain(dialog.query_one("#remap-plan-body", Static))
            assert "refused: EEXIST: the destination overlaps an existing mapping" in plan, plan
            assert "is occupied by" in plan and "subject-x86_64" in plan
            assert dialog.query_one("#remap-confirm", Button).disabled
            await press(pilot, "ctrl+y")  # nothing to confirm: the dialog stays
            assert app.screen is dialog
            assert s.maps_vdso_base() == base
            s.assert_healthy()
            # A plan that passed, then the target exits before the confirmation.
            dialog.query_one("#remap-addr", Input).value = ""
            await press(pilot, "enter")
            assert not dialog.query_one("#remap-confirm", Button).disabled
            s.kill()
            await press(pilot, "ctrl+y")
            await wait_until(pilot, lambda: any("Move refused" in n for n in notes(app)))
            refusal = next(n for n in notes(app) if "Move refused" in n)
            assert f"{s.pid} (subject-x86_64): ESRCH: the process no longer exists" in refusal
            assert [n.severity for n in app._notifications if n.title == "Move refused"] == [
                "error"
            ]


async def test_real_switch_dialog_refuses_then_plans_with_force(setuid_helper: Path) -> None:
    with Subject.spawn("subject-x86_64") as s:
        s.wait_ready()
        base = s.maps_vdso_base()
        app = VdsoApp(ProcSource(), HelperClient(setuid_helper), live=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.table.select_pid(s.pid)
            await press(pilot, "t")
            dialog = app.screen
            assert isinstance(dialog, RemapDialog)
            plan = plain(dialog.query_one("#remap-plan-body", Static))
            assert f"refused: EINVAL: invalid request — process {s.pid} runs as x86_64" in plan
            assert dialog.query_one("#remap-confirm", Button).disabled
            dialog.query_one("#remap-force", Checkbox).value = True
            await settle(pilot)
            plan = plain(dialog.query_one("#remap-plan-body", Static))
            assert "switch via stock path" in plan and "to   i386 at" in plan, plan
            assert not dialog.query_one("#remap-confirm", Button).disabled, plan
            await press(pilot, "escape")  # a plan only: the subject must stay as it is
            assert not isinstance(app.screen, RemapDialog)
        assert s.maps_vdso_base() == base
        s.assert_healthy()


async def test_real_forced_switch_that_kills_is_reported(setuid_helper: Path) -> None:
    """An i386 process given an x86_64 vdso dies at its next system call: the
    dialog says so before the force is ticked, and the death is a notification,
    not a row that just vanishes."""
    with Subject.spawn("subject-i386") as s:
        s.wait_ready()
        app = VdsoApp(ProcSource(), HelperClient(setuid_helper), live=False)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            assert app.table.select_pid(s.pid)
            await press(pilot, "t")
            dialog = app.screen
            assert isinstance(dialog, RemapDialog)
            assert not dialog.query("#remap-proxy")
            words = plain(dialog.query_one("#remap-force-words", Static))
            assert "runs as i386 (32-bit code) makes its system calls through" in words, words
            dialog.query_one("#remap-force", Checkbox).value = True
            await settle(pilot)
            assert not dialog.query_one("#remap-confirm", Button).disabled
            await press(pilot, "ctrl+y")
            await wait_until(pilot, lambda: any("target gone" in n for n in notes(app)), timeout=10)
            gone = next(n for n in notes(app) if "target gone" in n)
            assert f"{s.pid} (subject-i386) exited" in gone and "after its type switch" in gone
        assert not s.alive()


def run_as(user: str, code: str) -> str:
    """Run Python `code` as `user` with this tree's vdsotui importable."""
    out = subprocess.run(
        [RUNUSER, "-u", user, "--", "/usr/bin/python3", "-c", code],
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        cwd="/",
    )
    return out.stdout.strip()


def test_non_setuid_helper_explained_to_user(user: str, setuid_helper: Path) -> None:
    plain_copy = setuid_helper.parent / "plain-helper"
    shutil.copyfile(HELPER, plain_copy)
    plain_copy.chmod(0o755)
    try:
        problem = run_as(
            user,
            f"""
from vdsotui.helper_client import HelperClient
print(HelperClient({str(plain_copy)!r}).status().problem)""",
        )
        assert problem == (
            f"{plain_copy} is not setuid root, so it cannot act on processes "
            "(install it with `make install-helper` as root)"
        )
        ok = run_as(
            user,
            f"""
from vdsotui.helper_client import HelperClient
st = HelperClient({str(setuid_helper)!r}).status()
print(st.setuid_root, st.problem)""",
        )
        assert ok == "True None"
    finally:
        plain_copy.unlink()


def test_user_refused_on_another_users_process(user: str, setuid_helper: Path) -> None:
    with Subject.spawn("subject-x86_64") as s:  # runs as root
        s.wait_ready()
        base = s.maps_vdso_base()
        answer = run_as(
            user,
            f"""
from vdsotui.helper_client import HelperClient, HelperError, RemapRequest
try:
    HelperClient({str(setuid_helper)!r}).run({s.pid}, RemapRequest())
except HelperError as e:
    print(e.code)""",
        )
        assert answer == "EPERM"
        assert s.maps_vdso_base() == base
        s.assert_healthy()
