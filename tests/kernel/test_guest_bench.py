"""The benchmark runs in the patched 7.3 guest and reports every figure.

No speed is asserted (figures are reported by `make -C kernel-patch bench`);
this checks that each operation it times succeeded and landed where asked,
which the benchmark verifies itself before printing its RESULT line.
"""

from __future__ import annotations

import re
from pathlib import Path

from .background import guest_job, needs, result
from .guest import REPO, GuestRun, build_host_programs, build_kernel, run_guest

BENCH = REPO / "kernel-patch" / "out" / "bench" / "remap_bench"
KEYS = [
    "move_stock_ns",
    "move_remap_ns",
    "move_ratio",
    "switch_stock_ns",
    "switch_remap_ns",
    "switch_ratio",
    "getppid_ns",
    "get_info_ns",
    "get_info_ratio",
]


@guest_job("bench-7.3")
def bench(scratch: Path) -> GuestRun:
    build_host_programs()
    return run_guest(build_kernel("7.3"), [str(BENCH), "200"], scratch=scratch, timeout=600)


@needs("bench-7.3")
def test_bench_reports_all_figures() -> None:
    run: GuestRun = result("bench-7.3")
    assert run.returncode == 0, run.explain()
    line = re.search(r"^RESULT (.*)$", run.console, re.M)
    assert line, run.explain()
    figures = dict(kv.split("=", 1) for kv in line.group(1).split())
    assert figures["iterations"] == "200"
    for key in KEYS:
        assert float(figures[key]) > 0, f"{key}: {figures}"
    # The stock move mremaps every VMA of the block: vvar pages and text.
    assert int(figures["vmas"]) >= 2, figures
