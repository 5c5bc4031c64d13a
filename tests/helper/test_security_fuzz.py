"""The fuzzers build and survive a short run (the long run is `make fuzz`).

Each target checks its parser against an independent reference or
invariants and aborts on a mismatch, so a pass means every generated input
was parsed consistently, not merely without crashing. Inputs that once
failed are kept in helper/fuzz/corpus/ and replayed first, so a regression
fails this test every time, not by chance.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

FUZZ = Path(__file__).resolve().parents[2] / "helper" / "fuzz"


def test_fuzzers_short_run() -> None:
    res = subprocess.run(
        ["make", "-s", "-C", str(FUZZ), "fuzz", "FUZZ_SECONDS=3"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "fuzz: no crash, no failed check" in res.stdout
    runs = [
        int(ln.split()[-1]) for ln in res.stdout.splitlines() if "number_of_executed_units" in ln
    ]
    assert len(runs) == 5 and all(n > 1000 for n in runs), res.stdout
