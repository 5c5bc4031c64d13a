"""Scan figures of the inspection core, against C floors, side by side.

    .venv/bin/python bench/bench_scan.py [--extra N] [--warm-extra N] [--runs N]

Every figure is a ratio to a C program doing the same reads (bench/scan_floor.c)
or a time per process, measured in interleaved rounds: each round runs every
contender once, so a burst of load hits them alike. A "marginal" figure is the
cost of EXTRA more processes (idle sleepers): the rounds run once with them
and once without, and the base cost is subtracted. Printed, one per line:

    NAME = VALUE (goal GOAL) [min..max over rounds]

  scan_cold_vs_text_floor   ProcSource().scan() from cold, marginal, against
                            the naive C tool (stat, maps text, auxv, exe, vdso
                            ident);
  scan_cold_vs_query_floor  the same against the C tool using PROCMAP_QUERY;
  list_json_vs_text_floor   `vdsotui list --json` end to end, marginal, against
                            the naive C tool's whole run;
  list_cpu_vs_python        `vdsotui list` CPU time at this machine's own
                            processes, against `python3 -c pass`;
  warm_rescan_us            a rescan with nothing changed, per process, with
                            WARM_EXTRA sleepers.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from procs import dies_with_me, end_on_signals, sleepers

from vdsotui.procfs import ProcSource

HERE = Path(__file__).resolve().parent
BUILD = HERE.parent / "build" / "bench"
VDSOTUI = Path(sys.executable).parent / "vdsotui"


def build_floor() -> Path:
    BUILD.mkdir(parents=True, exist_ok=True)
    exe = BUILD / "scan_floor"
    src = HERE / "scan_floor.c"
    if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(
            ["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(exe), str(src)], check=True
        )
    return exe


def floor_pass(exe: Path, tool: str) -> float:
    """One pass of the C tool, timed inside it (no process start-up)."""
    out = subprocess.run(
        [str(exe), tool, "1"], preexec_fn=dies_with_me(), capture_output=True, check=True
    ).stdout.split()
    return int(out[0]) / 1e9


def wall(argv: Sequence[str]) -> float:
    """A whole command's run, start-up included; its output is discarded."""
    t0 = time.perf_counter()
    subprocess.run(argv, preexec_fn=dies_with_me(), stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def cpu(argv: Sequence[str]) -> float:
    """User plus system CPU seconds of a whole command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, preexec_fn=dies_with_me(), stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


@dataclass
class Rounds:
    """Each contender's time in every round, in round order."""

    times: dict[str, list[float]] = field(default_factory=dict)

    def run(self, contenders: dict[str, Callable[[], float]], rounds: int) -> None:
        for _ in range(rounds):
            for name, fn in contenders.items():
                self.times.setdefault(name, []).append(fn())

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])


def figure(name: str, value: float, rounds: Sequence[float], goal: str, unit: str = "") -> None:
    spread = f"{min(rounds):.2f}..{max(rounds):.2f}" if rounds else "-"
    print(f"{name} = {value:.2f}{unit} (goal {goal}) [{spread} over {len(rounds)} rounds]")


def marginal(more: Rounds, base: Rounds, ours: str, floor: str) -> tuple[float, list[float]]:
    """(ours with more - ours at base) / (floor with more - floor at base): from the
    medians, and round by round (round i with more against round i without)."""
    pairs = zip(
        more.times[ours], base.times[ours], more.times[floor], base.times[floor], strict=True
    )
    per_round = [(om - ob) / (fm - fb) for om, ob, fm, fb in pairs if fm > fb]
    value = (more.median(ours) - base.median(ours)) / (more.median(floor) - base.median(floor))
    return value, per_round


def main() -> int:
    parser = argparse.ArgumentParser(description="scan figures against C floors")
    parser.add_argument("--extra", type=int, default=2000, help="sleepers for marginal figures")
    parser.add_argument("--warm-extra", type=int, default=5000, help="sleepers for the warm one")
    parser.add_argument("--runs", type=int, default=7, help="rounds of each measurement")
    args = parser.parse_args()
    floor = build_floor()
    listing = [str(VDSOTUI), "list", "--json"]

    def contenders() -> dict[str, Callable[[], float]]:
        return {
            "floor_text": lambda: floor_pass(floor, "text"),
            "floor_query": lambda: floor_pass(floor, "query"),
            "cold": lambda: timed(lambda: ProcSource().scan()),
            "floor_text_run": lambda: wall([str(floor), "text", "1"]),
            "list_json": lambda: wall(listing),
        }

    end_on_signals()
    more, base, warm = Rounds(), Rounds(), Rounds()
    with sleepers(args.extra):
        time.sleep(0.5)
        more.run(contenders(), args.runs)
    time.sleep(0.5)
    base.run(contenders(), args.runs)
    listed = len(os.listdir("/proc"))
    cpu_rounds = Rounds()
    cpu_rounds.run(
        {
            "list": lambda: cpu([str(VDSOTUI), "list"]),
            "python": lambda: cpu([sys.executable, "-c", "pass"]),
        },
        args.runs,
    )
    with sleepers(args.warm_extra):
        time.sleep(0.5)
        source = ProcSource()
        source.scan()
        count = source.stats.listed
        warm.run({"warm": lambda: timed(source.scan) / count * 1e6}, args.runs)

    print(f"processes: about {listed} at base, +{args.extra} and +{args.warm_extra} sleepers")
    per_proc = (more.median("cold") - base.median("cold")) / args.extra * 1e6
    print(f"scan_cold_marginal_us = {per_proc:.1f} (info: per extra process)")
    figure("scan_cold_vs_text_floor", *marginal(more, base, "cold", "floor_text"), "<= 0.85")
    figure("scan_cold_vs_query_floor", *marginal(more, base, "cold", "floor_query"), "<= 1.5")
    figure(
        "list_json_vs_text_floor", *marginal(more, base, "list_json", "floor_text_run"), "<= 1.2"
    )
    ratios = [
        a / b for a, b in zip(cpu_rounds.times["list"], cpu_rounds.times["python"], strict=True)
    ]
    figure("list_cpu_vs_python", statistics.median(ratios), ratios, "<= 2.5")
    figure("warm_rescan_us", warm.median("warm"), warm.times["warm"], "<= 25", unit=" us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
