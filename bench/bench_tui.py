"""TUI figures with 5,000 processes in the (fake) source.

    .venv/bin/python bench/bench_tui.py [--processes N] [--ticks N] [--keys N]

Prints: time to the first full table, the cost of a refresh tick with 1% of
the rows changed, key press to the frame showing the cursor move, peak RSS,
and for comparison a cold ProcSource().scan() of this machine's real /proc.
Frames are measured where Textual hands a compositor update to the driver;
the update is rendered to terminal bytes here too, so that cost is counted.
Goals: tick <= 25% of a cold scan (of as many processes), key-to-frame
<= 50 ms, RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from textual.events import Key
from tui.fakes import FakeHelper, FakeSource, many_processes

from vdsotui.tui.app import VdsoApp


class FrameClock:
    """Records when each frame reached the (headless) driver, rendered to bytes."""

    def __init__(self, app: VdsoApp) -> None:
        self.frames: list[float] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None and not app._batch_count:
                render = getattr(renderable, "render_segments", None)
                if render is not None:
                    render(app.console)
                self.frames.append(time.perf_counter())

        app._display = display  # type: ignore[method-assign]

    def first_after(self, t: float) -> float | None:
        return next((f for f in self.frames if f > t), None)


async def wait_for(cond: Any, timeout: float = 60.0) -> None:
    end = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > end:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(0.0005)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cold_scan() -> tuple[int, float] | None:
    try:
        from vdsotui.procfs import ProcSource
    except ImportError:
        return None
    times = []
    n = 0
    for _ in range(3):
        src = ProcSource()
        t = time.perf_counter()
        n = len(src.scan().processes)
        times.append(time.perf_counter() - t)
    return n, statistics.median(times)


async def run(n: int, ticks: int, keys: int) -> dict[str, float]:
    out: dict[str, float] = {}
    src = FakeSource(many_processes(n))
    app = VdsoApp(src, FakeHelper(src), live=False)
    out["rss_before_app_mb"] = rss_mb()
    t0 = time.perf_counter()
    async with app.run_test(size=(160, 50)) as pilot:
        clock = FrameClock(app)
        await wait_for(lambda: app.scan_count >= 1 and app.table.row_count == n)
        applied = time.perf_counter()
        await wait_for(lambda: clock.first_after(applied) is not None)
        out["first_table_s"] = (clock.first_after(applied) or 0) - t0
        await app.workers.wait_for_complete()
        await pilot.pause()

        # Refresh ticks with 1% of the rows changed.
        apply_times: list[float] = []
        original_apply = app._apply

        def timed_apply(result: Any) -> None:
            t = time.perf_counter()
            original_apply(result)
            apply_times.append(time.perf_counter() - t)

        app._apply = timed_apply  # type: ignore[method-assign]
        scan_times: list[float] = []
        original_scan = src.scan

        def timed_scan() -> Any:
            t = time.perf_counter()
            r = original_scan()
            scan_times.append(time.perf_counter() - t)
            return r

        src.scan = timed_scan  # type: ignore[method-assign]
        tick_times = []
        step = 100
        for i in range(ticks):
            for pid in range(1 + i, n + 1, step):  # n/100 processes
                p = src.procs[pid]
                src.set(replace(p, threads=p.threads + 1))
            before = app.scan_count
            t = time.perf_counter()
            app.request_scan()
            await wait_for(lambda before=before: app.scan_count > before)
            done = time.perf_counter()
            await wait_for(lambda done=done: clock.first_after(done) is not None)
            tick_times.append((clock.first_after(done) or 0) - t)
            assert app.last_apply is not None and app.last_apply.updated_cells == n // step
        out["tick_s"] = statistics.median(tick_times)
        out["tick_apply_s"] = statistics.median(apply_times)
        out["tick_scan_s"] = statistics.median(scan_times)
        out["tick_changed_rows"] = n // step

        # Key press to the frame that shows the cursor on the next row.
        app.table.focus()
        await pilot.pause()
        lat = []
        assert app._driver is not None
        for _ in range(keys):
            row = app.table.cursor_row
            event = Key("down", None)
            event.set_sender(app)
            t = time.perf_counter()
            app._driver.send_message(event)
            await wait_for(lambda row=row: app.table.cursor_row == row + 1)
            await wait_for(lambda t=t: clock.first_after(t) is not None and clock.frames[-1] > t)
            moved_at = clock.first_after(t) or 0
            lat.append(moved_at - t)
            await pilot.pause()
        lat.sort()
        out["key_to_frame_median_ms"] = statistics.median(lat) * 1000
        out["key_to_frame_p95_ms"] = lat[int(len(lat) * 0.95) - 1] * 1000
    out["peak_rss_mb"] = rss_mb()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=5000)
    ap.add_argument("--ticks", type=int, default=20)
    ap.add_argument("--keys", type=int, default=60)
    args = ap.parse_args()
    load = os.getloadavg()
    r = asyncio.run(run(args.processes, args.ticks, args.keys))
    n = args.processes
    print(
        f"processes in the source          {n}   (load average {load[0]:.1f} on "
        f"{os.cpu_count()} CPUs when started)"
    )
    print(f"first full table                 {r['first_table_s'] * 1000:8.1f} ms")
    print(
        f"refresh tick, {r['tick_changed_rows']:.0f} rows changed     "
        f"{r['tick_s'] * 1000:8.1f} ms  request to frame: fake source scan "
        f"{r['tick_scan_s'] * 1000:.1f} ms, table update {r['tick_apply_s'] * 1000:.1f} ms, "
        "the rest is drawing"
    )
    print(
        f"key to frame (cursor down)       {r['key_to_frame_median_ms']:8.1f} ms median, "
        f"{r['key_to_frame_p95_ms']:.1f} ms p95   goal <= 50 ms"
    )
    print(
        f"peak RSS                         {r['peak_rss_mb']:8.1f} MB"
        f"  (interpreter and imports alone {r['rss_before_app_mb']:.1f} MB)   goal <= 150 MB"
    )
    cold = cold_scan()
    if cold is None:
        print("cold scan                        vdsotui.procfs not available: no comparison")
        return 0
    real_n, real_s = cold
    per = real_s / max(real_n, 1)
    est = per * n
    print(
        f"cold ProcSource().scan()         {real_s * 1000:8.1f} ms for the {real_n} real "
        f"processes here ({per * 1e6:.0f} us each; x{n} = {est * 1000:.0f} ms)"
    )
    ratio = r["tick_s"] / est
    print(f"tick / cold scan of {n}        {ratio * 100:8.1f} %   goal <= 25 %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
