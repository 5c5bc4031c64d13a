"""Regenerate the SVG screenshots in this directory from the deterministic
fake source and helper of the TUI tests (no /proc, no clock, no helper).

    .venv/bin/python screenshots/generate.py [OUTDIR]
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from textual.pilot import Pilot  # noqa: E402
from tui.conftest import fake_app, press, settle  # noqa: E402

from vdsotui.actionlog import ActionLog  # noqa: E402
from vdsotui.helper_client import HelperError  # noqa: E402
from vdsotui.tui.app import VdsoApp  # noqa: E402

Step = Callable[[VdsoApp, Pilot[None]], Awaitable[None]]


def keys(*names: str, select: int | None = None) -> Step:
    async def step(app: VdsoApp, pilot: Pilot[None]) -> None:
        if select is not None:
            app.table.select_pid(select)
            await settle(pilot)
        await press(pilot, *names)

    return step


async def refusal(app: VdsoApp, pilot: Pilot[None]) -> None:
    helper = app.helper
    assert helper is not None
    helper.refuse_run[1203] = HelperError("EBUSY", "thread 1204 is inside the vdso")  # type: ignore[attr-defined]
    await keys("m", select=1203)(app, pilot)
    await pilot.click("#remap-confirm")
    await settle(pilot)
    await press(pilot, "escape")  # EBUSY offers one retry: declined, the refusal shows


async def moved(app: VdsoApp, pilot: Pilot[None]) -> None:
    await keys("m", select=2048)(app, pilot)
    await pilot.click("#remap-confirm")
    await settle(pilot)


VIEWS: dict[str, tuple[tuple[int, int], Step]] = {
    "main": ((120, 40), keys(select=1420)),
    "filter": ((120, 40), keys("slash", *"alice", "enter")),
    "detail-i386": ((120, 40), keys(select=1311)),
    "move-dialog": ((120, 40), keys("m", select=1203)),
    "switch-dialog": ((120, 40), keys("t", select=1311)),
    "moved": ((120, 40), moved),
    "refusal": ((120, 40), refusal),
    "help": ((120, 40), keys("question_mark")),
    "narrow-80x24": ((80, 24), keys(select=1533)),
}


async def shoot(name: str, size: tuple[int, int], step: Step, outdir: Path) -> Path:
    # The fake moves are logged next to the pictures' scratch, not in the
    # user's own action log.
    app, _, _ = fake_app(action_log=ActionLog(outdir / ".scratch-actions.log"))
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        await step(app, pilot)
        await settle(pilot)
        return Path(app.save_screenshot(f"{name}.svg", str(outdir)))


def main() -> int:
    outdir = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    outdir.mkdir(parents=True, exist_ok=True)
    for name, (size, step) in VIEWS.items():
        path = asyncio.run(shoot(name, size, step, outdir))
        print(path)
    (outdir / ".scratch-actions.log").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
