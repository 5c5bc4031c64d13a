"""CRIU in the guests: `criu check`, and a dump and restore of each subject.

Debian trixie's CRIU 4.1.1, patched by integrations/criu/series and not,
on both patched kernels, in one guest boot per kernel. Every subject must
come back at the vdso block, base (AT_SYSINFO_EHDR) and type it was dumped
with, keep running and keep correct time (its own checks count errors).
The patched CRIU must say in its restore log that it placed and switched
the vdso with vdso_remap, where the unpatched one used arch_prctl
(ARCH_MAP_VDSO_*) and mremap; a process whose vdso data pages are not the
kernel's (vvar_squatter.py) is a refusal the patched CRIU reports naming
the dumped address. A process whose vdso vdso-helper moved live, leaving
a proxy its glibc still calls through, comes back with the proxy working
and the scanner (vdsotui list --json) reporting it as before the dump.
The guest side is criu_guest.py; the CRIU builds are
cached like the kernels. Each guest run also writes a side-by-side table
of the two builds to build/criu/side-by-side-VERSION.txt.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .background import guest_job, needs, result
from .guest import REPO, GuestRun, build_host_programs, build_kernel, run_guest

BUILD_CRIU = REPO / "integrations" / "criu" / "scripts" / "build-criu.sh"
DRIVER = Path(__file__).with_name("criu_guest.py")
SUBJECTS = ["subject-x86_64", "subject-i386", "subject-x86_64:4"]
SQUATTER = "squatter"
# Moved live by vdso-helper before the dump, leaving a proxy at the old base.
MOVED = ["subject-x86_64+moved", "subject-i386+moved"]
VERSIONS = ["7.3", "6.12"]
FLAVOURS = ["patched", "unpatched"]
TABLES = REPO / "build" / "criu"
# Each case marks the job it judges, so that the job starts early.
ON_GUESTS = [pytest.param(v, marks=needs(f"criu-{v}"), id=v) for v in VERSIONS]


def build_criu(*flags: str) -> Path:
    """build-criu.sh (a no-op when cached): the directory holding `criu`."""
    proc = subprocess.run([str(BUILD_CRIU), *flags], capture_output=True, text=True, timeout=3600)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise AssertionError(f"build-criu.sh {' '.join(flags)} failed:\n{proc.stderr[-4000:]}")
    path = Path(proc.stdout.strip().splitlines()[-1])
    assert (path / "criu").is_file(), f"no criu in {path}"
    return path


def criu_builds() -> str:
    """The driver's CRIU argument: both builds, by name."""
    patched = build_criu() / "criu"
    unpatched = build_criu("--unpatched") / "criu"
    return f"patched={patched},unpatched={unpatched}"


def table(results: dict[str, Any]) -> str:
    """One line per subject and build: what came back and by which path."""
    rows = [f"{'subject':20} {'criu':10} {'restore':8} {'base, type':14} vdso path"]
    for flavour in FLAVOURS:
        for res in results.get(flavour, {}).get("subjects", []):
            marks = sorted(res.get("log", {}))
            same = (
                res.get("base_after") == res.get("base_before")
                and res.get("type_after") == res.get("type_before")
                and res.get("block_after") == res.get("block_before")
            )
            state = "ok" if res.get("restore_rc") == 0 else "failed"
            kept = "kept" if same else ("-" if state == "failed" else "changed")
            rows.append(f"{res['subject']:20} {flavour:10} {state:8} {kept:14} {', '.join(marks)}")
    return "\n".join(rows) + "\n"


def _job(version: str, scratch: Path) -> tuple[GuestRun, dict[str, Any]]:
    build = build_kernel(version)
    criu = criu_builds()
    build_host_programs()
    run = run_guest(
        build,
        [sys.executable, str(DRIVER), criu, str(scratch), *SUBJECTS, *MOVED, SQUATTER],
        scratch=scratch,
        timeout=900,
    )
    out = scratch / "results.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    if results:
        TABLES.mkdir(parents=True, exist_ok=True)
        (TABLES / f"side-by-side-{version}.txt").write_text(table(results))
    return run, results


for _version in VERSIONS:
    guest_job(f"criu-{_version}")(lambda scratch, v=_version: _job(v, scratch))


def _results(version: str, flavour: str) -> dict[str, Any]:
    run, results = result(f"criu-{version}")
    assert run.returncode == 0 and results, f"the CRIU guest run failed\n{run.explain()}"
    return dict(results[flavour])


def _subject(version: str, flavour: str, subject: str) -> dict[str, Any]:
    tag = subject.replace(":", "-t").replace("+", "-")
    (res,) = [r for r in _results(version, flavour)["subjects"] if r["subject"] == tag]
    return dict(res)


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("version", ON_GUESTS)
def test_criu_check_looks_good(version: str, flavour: str) -> None:
    check = _results(version, flavour)["check"]
    assert check["rc"] == 0 and "Looks good." in check["output"], check["output"]


@pytest.mark.parametrize("version", ON_GUESTS)
def test_patched_criu_finds_vdso_get_info_and_vdso_remap(version: str) -> None:
    feature = _results(version, "patched")["vdso_remap"]
    assert feature["rc"] == 0 and "vdso_remap is supported" in feature["output"], feature


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("version", ON_GUESTS)
def test_criu_restores_the_subject_in_place(version: str, subject: str, flavour: str) -> None:
    res = _subject(version, flavour, subject)
    assert "error" not in res, res
    assert res["dump_rc"] == 0 and res["restore_rc"] == 0, res
    assert res["alive"] and res["alive_after_run"], res
    assert res["heartbeat_gain"] >= 200, res
    assert res["errors"] == 0, (res["errors"], res["last_error"], res)
    assert res["block_before"], res
    assert res["block_after"] == res["block_before"], res
    # The vdso ELF at AT_SYSINFO_EHDR, of the subject's own type, before and after.
    want = "i386" if subject == "subject-i386" else "x86_64"
    assert res["base_before"] and res["type_before"] == want, res
    assert (res["base_after"], res["type_after"]) == (res["base_before"], want), res


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("version", ON_GUESTS)
def test_patched_criu_places_the_vdso_with_vdso_remap(version: str, subject: str) -> None:
    res = _subject(version, "patched", subject)
    log = res.get("log", {})
    kind = "compat" if subject == "subject-i386" else "native"
    assert [line for line in log.get("remap_placed", []) if f"the {kind} vDSO" in line], res
    moved = f"vdso_remap moved the {kind} vDSO to the dumped address {res['base_before']:#x}"
    assert [line for line in log.get("remap_moved", []) if moved in line], res
    assert "arch_prctl" not in log, res


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("version", ON_GUESTS)
def test_unpatched_criu_maps_the_vdso_with_arch_prctl(version: str, subject: str) -> None:
    """The comparison: CRIU 4.1.1 on the same kernel takes its old path."""
    log = _subject(version, "unpatched", subject).get("log", {})
    assert log.get("arch_prctl") and log.get("remap_inplace"), log
    assert not {"remap_placed", "remap_moved", "remap_refused"} & set(log), log


@pytest.mark.parametrize("version", ON_GUESTS)
def test_patched_criu_refuses_a_vdso_without_its_data_pages(version: str) -> None:
    res = _subject(version, "patched", SQUATTER)
    # Dumped with its [vdso] alone: its data pages were replaced.
    assert res["dump_rc"] == 0, res
    assert [line.split()[1] for line in res["block_before"]] == ["[vdso]"], res
    assert res["restore_rc"] != 0, res
    want = (
        f"vdso_remap cannot put the native vDSO back at the dumped address "
        f"{res['base_before']:#x}: EEXIST"
    )
    assert [line for line in res["log"].get("remap_refused", []) if want in line], res


@pytest.mark.parametrize("version", ON_GUESTS)
def test_unpatched_criu_puts_the_text_back_before_foreign_pages(version: str) -> None:
    """The comparison: 4.1.1 moves the text alone and does not see the conflict."""
    res = _subject(version, "unpatched", SQUATTER)
    assert res["restore_rc"] == 0 and res["alive"], res
    assert res["block_after"] == res["block_before"], res
    assert res["base_after"] == res["base_before"], res


SCANNED = ("base", "auxv_base", "vdso_type", "moved", "proxy", "proxy_bases", "flags")


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("subject", MOVED)
@pytest.mark.parametrize("version", ON_GUESTS)
def test_criu_restores_a_helper_moved_process_and_its_proxy(
    version: str, subject: str, flavour: str
) -> None:
    res = _subject(version, flavour, subject)
    move = res["helper_move"]
    assert move["rc"] == 0 and move["proxy"] is True, move
    old, new = move["from"]["base"], move["to"]["base"]
    before = res["scan_before"]
    assert before["moved"] and before["proxy_bases"] == [old] and before["base"] == new, before
    assert res["dump_rc"] == 0 and res["restore_rc"] == 0, res
    # glibc's pointers, cached before the move, still lead into the proxy
    # at the old base: the subject's calls go on and keep correct time.
    assert res["alive"] and res["alive_after_run"], res
    assert res["heartbeat_gain"] >= 200, res
    assert res["errors"] == 0, (res["errors"], res["last_error"], res)
    assert res["base_after"] == res["base_before"] == int(old, 16), res
    assert res["block_after"] == res["block_before"], res
    after = res["scan_after"]
    assert {k: after.get(k) for k in SCANNED} == {k: before.get(k) for k in SCANNED}, after
    if flavour == "patched":
        moved = f"to the dumped address {int(new, 16):#x}"
        assert [line for line in res["log"].get("remap_moved", []) if moved in line], res
