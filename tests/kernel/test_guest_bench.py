"""The benchmark runs in the patched 7.3 guest and reports every figure.

No speed is asserted (figures are reported by `make -C kernel-patch bench`);
this checks that each operation it times succeeded and landed where asked,
which the benchmark verifies itself before printing its RESULT line.
"""

from __future__ import annotations

import re
from pathlib import Path

from .guest import REPO, Build, run_guest

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


def test_bench_reports_all_figures(kernel_73: Build, host_builds: None, tmp_path: Path) -> None:
    run = run_guest(kernel_73, [str(BENCH), "200"], scratch=tmp_path, timeout=600)
    assert run.returncode == 0, run.explain()
    line = re.search(r"^RESULT (.*)$", run.console, re.M)
    assert line, run.explain()
    figures = dict(kv.split("=", 1) for kv in line.group(1).split())
    assert figures["iterations"] == "200"
    for key in KEYS:
        assert float(figures[key]) > 0, f"{key}: {figures}"
    # The stock move mremaps every VMA of the block: vvar pages and text.
    assert int(figures["vmas"]) >= 2, figures
