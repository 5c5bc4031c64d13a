"""Cold-scan cost of the inspection core, next to a C floor and psutil.

With EXTRA processes alive (default 2,000), prints the median time of:
  floor   a C loop that only reads every /proc/PID/maps
  ours    ProcSource().scan() from cold (a new source each time)
  warm    a rescan with nothing changed
  psutil  Process.memory_maps() for every process
and the ratios the goals are stated in (ours/floor <= 1.5, ours/psutil <= 0.3).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from procs import dies_with_me, end_on_signals, sleepers

from vdsotui.procfs import ProcSource

HERE = Path(__file__).resolve().parent
BUILD = HERE.parent / "build" / "bench"


def build_floor() -> Path:
    BUILD.mkdir(parents=True, exist_ok=True)
    exe = BUILD / "maps_floor"
    src = HERE / "maps_floor.c"
    if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(
            ["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(exe), str(src)], check=True
        )
    return exe


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def psutil_maps() -> None:
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            proc.memory_maps(grouped=False)


def main() -> int:
    parser = argparse.ArgumentParser(description="cold-scan cost of the inspection core")
    parser.add_argument("--extra", type=int, default=2000, help="extra processes to start")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    floor_exe = build_floor()

    end_on_signals()
    with sleepers(args.extra):
        time.sleep(0.5)
        out = subprocess.run(
            [str(floor_exe), str(args.runs)],
            preexec_fn=dies_with_me(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        floor, files = int(out[0]) / 1e9, int(out[1])
        ours = median_seconds(lambda: ProcSource().scan(), args.runs)
        warm_source = ProcSource()
        warm_source.scan()
        warm = median_seconds(warm_source.scan, args.runs)
        ps = median_seconds(psutil_maps, max(3, args.runs // 2))

    print(f"processes: {files} maps files readable ({args.extra} extra sleepers)")
    print(f"{'floor (C, maps only)':28} {floor * 1e3:9.1f} ms")
    print(f"{'vdsotui cold scan':28} {ours * 1e3:9.1f} ms")
    print(f"{'vdsotui warm rescan':28} {warm * 1e3:9.1f} ms")
    print(f"{'psutil memory_maps':28} {ps * 1e3:9.1f} ms")
    r_floor, r_ps = ours / floor, ours / ps
    print(f"ours/floor  = {r_floor:.2f}  (goal <= 1.5: {'met' if r_floor <= 1.5 else 'missed'})")
    print(f"ours/psutil = {r_ps:.2f}  (goal <= 0.3: {'met' if r_ps <= 0.3 else 'missed'})")
    print(f"warm/cold   = {warm / ours:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
