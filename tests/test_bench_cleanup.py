"""The benchmarks end every process they start, however they are stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from leakguard import descendants

REPO = Path(__file__).resolve().parents[1]
SLEEPERS = 100


def sleepers_below(pid: int) -> list[int]:
    return [p.pid for p in descendants(pid) if p.cmdline == "sleep 3600"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=str)
def test_bench_scan_ends_its_sleepers(sig: signal.Signals) -> None:
    bench = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "bench_scan.py"), "--extra", str(SLEEPERS),
         "--runs", "101"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # Half of them up: it is starting or measuring (101 runs of each
        # scan, seconds), and whatever it started must end with it.
        end = time.monotonic() + 60
        while len(sleepers_below(bench.pid)) < SLEEPERS // 2:
            assert bench.poll() is None, f"bench_scan ended early: {bench.communicate()[1]}"
            assert time.monotonic() < end, "bench_scan never started its sleepers"
            time.sleep(0.05)
        bench.send_signal(sig)
        bench.wait(timeout=30)
        # Orphans come to this process (the leak guard made it a subreaper).
        end = time.monotonic() + 5
        while sleepers_below(os.getpid()) and time.monotonic() < end:
            time.sleep(0.05)
        assert sleepers_below(os.getpid()) == [], f"{sig.name} left sleepers running"
    finally:
        bench.kill()
        bench.wait()
