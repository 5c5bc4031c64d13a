"""CRIU restore time, patched (integrations/criu/series) against 4.1.1.

usage: bench_criu.py [ROUNDS]   (default 5)

Boots the patched 7.3 guest once and runs tests/kernel/criu_guest.py
--bench there: each round dumps and restores one x86_64 and one i386
subject with both builds, interleaved, the order of the builds
alternating from round to round. Prints the median wall time of `criu
restore -d` per subject and build, and the medians of the restorer's two
vdso steps as CRIU's log timestamps show them (map: the running vdso at
the parking address; switch: the running vdso to the dumped address),
as `NAME = VALUE (goal GOAL)`. The goal is that the series costs no
restore time: patched within 10 % of unpatched, and its vdso steps no
slower than the ones they replace.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.kernel.guest import build_host_programs, build_kernel, run_guest  # noqa: E402
from tests.kernel.test_guest_criu import DRIVER, criu_builds  # noqa: E402

SUBJECTS = ["subject-x86_64", "subject-i386"]


def median(runs: list[dict[str, object]], key: str, sub: str | None = None) -> float | None:
    vals = []
    for r in runs:
        v = r.get(key)
        if sub is not None:
            v = v.get(sub) if isinstance(v, dict) else None
        if isinstance(v, (int, float)):
            vals.append(float(v))
    return statistics.median(vals) if vals else None


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    criu = criu_builds()
    build_host_programs()
    build = build_kernel("7.3")
    base = REPO / "build" / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-criu-", dir=base) as scratch:
        run = run_guest(
            build,
            [sys.executable, str(DRIVER), "--bench", str(rounds), criu, scratch, *SUBJECTS],
            scratch=Path(scratch),
            timeout=1800,
        )
        out = Path(scratch) / "results-bench.json"
        if run.returncode != 0 or not out.exists():
            print(f"bench_criu: the guest run failed\n{run.explain()}", file=sys.stderr)
            return 1
        runs = json.loads(out.read_text())
    bad = [r for r in runs if r.get("restore_rc") != 0 or r.get("errors")]
    if bad:
        print(f"bench_criu: {len(bad)} restores failed: {bad[0]}", file=sys.stderr)
        return 1
    print(f"# {rounds} rounds, 7.3 guest, medians")
    for subject in SUBJECTS:
        mode = subject.removeprefix("subject-")
        by = {
            f: [r for r in runs if r["subject"] == subject and r["criu"] == f]
            for f in ("patched", "unpatched")
        }
        p_ms = 1000 * (median(by["patched"], "restore_s") or 0)
        u_ms = 1000 * (median(by["unpatched"], "restore_s") or 0)
        print(f"criu_restore_{mode}_unpatched_ms = {u_ms:.0f} (goal -)")
        print(f"criu_restore_{mode}_patched_ms = {p_ms:.0f} (goal <= {1.1 * u_ms:.0f})")
        for step in ("map", "switch"):
            p = median(by["patched"], "steps_us", step)
            u = median(by["unpatched"], "steps_us", step)
            if p is None or u is None:
                print(f"criu_vdso_{step}_{mode}_us = missing (goal -)")
                continue
            print(f"criu_vdso_{step}_{mode}_unpatched_us = {u:.0f} (goal -)")
            print(f"criu_vdso_{step}_{mode}_patched_us = {p:.0f} (goal <= {u:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
