"""Shared helpers of the TUI tests: build the app on fakes, let it settle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tui.fakes import FakeHelper, FakeSource
from vdsotui.actionlog import ActionLog
from vdsotui.tui.app import VdsoApp


@pytest.fixture(autouse=True)
def xdg_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The action log and exports of every console test (and of the vdsotui
    the tmux tests start) go to a directory of the test's own."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))


def fake_app(
    *,
    read_only: bool = False,
    helper: bool = True,
    setuid: bool = True,
    live: bool = False,
    source: FakeSource | None = None,
    interval: float = 2.0,
    show_kthreads: bool = False,
    action_log: ActionLog | None = None,
) -> tuple[VdsoApp, FakeSource, FakeHelper]:
    src = source if source is not None else FakeSource()
    fh = FakeHelper(src, setuid=setuid)
    app = VdsoApp(
        src,
        fh if helper else None,
        read_only=read_only,
        interval=interval,
        live=live,
        show_kthreads=show_kthreads,
        action_log=action_log,
    )
    # Notifications must outlive a slow test step on a loaded machine: the
    # tests read what is shown, not what expired while they waited.
    app.NOTIFICATION_TIMEOUT = 3600  # type: ignore[misc]
    return app, src, fh


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every worker finished and the screen has caught up."""
    app = pilot.app
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    # Deterministic screens: no blinking cursor in any input.
    for inp in app.screen.query(Input):
        inp.cursor_blink = False


async def press(pilot: Pilot[None], *keys: str) -> None:
    for k in keys:
        await pilot.press(k)
        await settle(pilot)


def notes(app: VdsoApp) -> list[str]:
    """The texts of the notifications currently shown."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def wait_until(pilot: Pilot[None], cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `cond` while the app runs; fail with a clear message on timeout."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.02)
