"""Snapshot tests: fixed size, fake source and helper, no refresh timer, no
blinking cursor.  Baselines live in tests/tui/__snapshots__/ (regenerate
with `pytest tests/tui/test_snapshots.py --snapshot-update` after checking
the new SVGs by eye)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from tui.conftest import fake_app, press, settle
from vdsotui.helper_client import HelperError
from vdsotui.tui.app import VdsoApp

SIZE = (120, 40)


def steps(*keys: str, select: int | None = None) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        app = pilot.app
        assert isinstance(app, VdsoApp)
        if select is not None:
            assert app.table.select_pid(select)
            await settle(pilot)
        await press(pilot, *keys)
        await settle(pilot)

    return run_before


def test_main_table(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = fake_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=steps())


def test_filtered_table(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = fake_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("slash", *"alice", "enter"))


def test_detail_pane(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = fake_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=steps(select=1311))


def test_layouts_panel(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = fake_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("d", select=1420))


def test_move_dialog_with_plan(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = fake_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("m", select=1203))


def test_switch_dialog(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = fake_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("t", select=1311))


def test_refusal_notification(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _, fh = fake_app()
    fh.refuse_run[1203] = HelperError("EBUSY", "thread 1204 is inside the vdso")

    async def run_before(pilot: Pilot[None]) -> None:
        await steps("m", select=1203)(pilot)
        await pilot.click("#remap-confirm")
        await settle(pilot)
        await press(pilot, "escape")  # EBUSY offers a retry: declined, the refusal shows

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = fake_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("question_mark"))


def test_narrow_terminal(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = fake_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=steps(select=1420))
