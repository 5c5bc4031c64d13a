"""CRIU across kernels: dump on one patched guest, restore on the other.

The 6.12 and 7.3 kernels have different vdso blocks ([vvar] against
[vvar] plus [vvar_vclock]) and different vdso texts: the change that broke
CRIU in 2024. Both guests share one scratch directory, which holds the
images and the subjects' status files between the boots (criu_guest.py
--dump, then --restore on the other kernel). Patched CRIU must bring each
subject back with its dumped vdso base and type, running and with correct
time, having mapped the running vdso with vdso_remap and kept the dumped
text as CRIU's proxy; unpatched CRIU 4.1.1 goes through the same images
by its old path, and the table in build/criu/cross-kernel.txt shows both.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from .background import guest_job, needs, result
from .guest import GuestRun, build_host_programs, build_kernel, run_guest
from .test_guest_criu import DRIVER, FLAVOURS, SUBJECTS, TABLES, criu_builds

DIRECTIONS = [("6.12", "7.3"), ("7.3", "6.12")]
IDS = [f"{a}-to-{b}" for a, b in DIRECTIONS]
ON_JOB = [
    pytest.param(d, marks=needs("criu-cross"), id=i) for d, i in zip(DIRECTIONS, IDS, strict=True)
]


def _direction(src: str, dst: str, scratch: Path, criu: str) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    for phase, version, extra in (("--dump", src, SUBJECTS), ("--restore", dst, [])):
        run: GuestRun = run_guest(
            build_kernel(version),
            [sys.executable, str(DRIVER), phase, criu, str(scratch), *extra],
            scratch=scratch,
            timeout=600,
        )
        runs[phase] = run
        if run.returncode != 0:
            return {"runs": runs, "results": {}}
    out = scratch / "results-restore.json"
    return {"runs": runs, "results": json.loads(out.read_text()) if out.exists() else {}}


def _job(scratch: Path) -> dict[str, Any]:
    criu = criu_builds()
    build_host_programs()
    done: dict[str, Any] = {}
    head = f"{'direction':14} {'subject':20} {'criu':10} {'restore':8} {'base, type':11}"
    rows = [head + " vdso path"]
    for (src, dst), name in zip(DIRECTIONS, IDS, strict=True):
        sub = scratch / name
        sub.mkdir(parents=True, exist_ok=True)
        done[name] = _direction(src, dst, sub, criu)
        for flavour in FLAVOURS:
            for res in done[name]["results"].get(flavour, []):
                state = "ok" if res.get("restore_rc") == 0 else "failed"
                kept = (res.get("base_after"), res.get("type_after")) == (
                    res.get("base_before"),
                    res.get("type_before"),
                )
                marks = ", ".join(sorted(res.get("log", {})))
                rows.append(
                    f"{name:14} {res['subject']:20} {flavour:10} {state:8} "
                    f"{'kept' if kept else '-':11} {marks}"
                )
    TABLES.mkdir(parents=True, exist_ok=True)
    (TABLES / "cross-kernel.txt").write_text("\n".join(rows) + "\n")
    return done


guest_job("criu-cross")(_job)


def _subject(direction: tuple[str, str], flavour: str, subject: str) -> dict[str, Any]:
    name = f"{direction[0]}-to-{direction[1]}"
    job = result("criu-cross")[name]
    for phase, run in job["runs"].items():
        assert run.returncode == 0, f"{name} {phase} guest run failed\n{run.explain()}"
    tag = subject.replace(":", "-t")
    (res,) = [r for r in job["results"][flavour] if r["subject"] == tag]
    return dict(res)


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("direction", ON_JOB)
def test_patched_criu_restores_across_kernels(direction: tuple[str, str], subject: str) -> None:
    res = _subject(direction, "patched", subject)
    assert "error" not in res, res
    assert res["kernel"].startswith(direction[0]) and res["restore_kernel"].startswith(
        direction[1]
    ), res
    assert res["dump_rc"] == 0 and res["restore_rc"] == 0, res
    assert res["alive"] and res["alive_after_run"], res
    assert res["heartbeat_gain"] >= 200, res
    assert res["errors"] == 0, (res["errors"], res["last_error"], res)
    want = "i386" if subject == "subject-i386" else "x86_64"
    assert res["base_before"] and res["type_before"] == want, res
    assert (res["base_after"], res["type_after"]) == (res["base_before"], want), res
    # The running block is the restore kernel's: [vvar_vclock] exactly on 7.3.
    names = [line.split()[1] for line in res["block_after"]]
    assert ("[vvar_vclock]" in names) == (direction[1] == "7.3"), res
    log = res["log"]
    kind = "compat" if subject == "subject-i386" else "native"
    assert [line for line in log.get("remap_placed", []) if f"the {kind} vDSO" in line], log
    # Another kernel's vdso text: the dumped one stays, as CRIU's proxy.
    assert log.get("proxy") and "arch_prctl" not in log, log
    # The scanner finds that proxy by the mark CRIU wrote over the running
    # vdso's header, and still tells the type, from the proxy's header.
    scan = res["scan_after"]
    base = hex(res["base_before"])
    assert scan["proxies"] == [{"base": base, "kind": "criu"}], scan
    assert (scan["auxv_base"], scan["vdso_type"]) == (base, want), scan
    texts = [line.split()[0] for line in res["block_after"] if line.endswith(" [vdso]")]
    assert [scan["base"]] == [hex(int(t.split("-")[0], 16)) for t in texts], (scan, res)
    assert "moved" in scan["flags"] and "proxy" in scan["flags"], scan


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("direction", ON_JOB)
def test_unpatched_criu_across_kernels_takes_the_old_path(
    direction: tuple[str, str], subject: str
) -> None:
    res = _subject(direction, "unpatched", subject)
    assert res["dump_rc"] == 0, res
    log = res.get("log", {})
    assert log.get("arch_prctl") and not {"remap_placed", "remap_moved"} & set(log), res
