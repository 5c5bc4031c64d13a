"""The series as a maintainer receives it: in order, complete, checkpatch-clean."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FETCH = REPO / "kernel-patch" / "scripts" / "fetch-source.sh"
VERSIONS = ("7.3", "6.12")


def source_tree(version: str) -> Path:
    out = subprocess.run([str(FETCH), version], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def series(version: str) -> list[Path]:
    d = REPO / "kernel-patch" / f"v{version}"
    names = [
        line.strip()
        for line in (d / "series").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [d / n for n in names]


@pytest.mark.parametrize("version", VERSIONS)
def test_series_lists_every_patch_in_order(version: str) -> None:
    d = REPO / "kernel-patch" / f"v{version}"
    listed = series(version)
    on_disk = sorted(
        p for p in d.glob("[0-9][0-9][0-9][0-9]-*.patch") if not p.name.startswith("0000")
    )
    assert listed == on_disk
    assert (d / "0000-cover-letter.patch").is_file()
    numbers = [int(p.name[:4]) for p in listed]
    assert numbers == list(range(1, len(listed) + 1))
    for p in listed:
        text = p.read_text()
        assert re.search(r"^Signed-off-by: .+ <.+@.+>$", text, re.M), p.name
        assert re.search(
            rf"^Subject: \[PATCH {numbers[listed.index(p)]}/{len(listed)}\]", text, re.M
        ), p.name


@pytest.mark.parametrize("version", VERSIONS)
def test_checkpatch_strict_is_clean(version: str) -> None:
    tree = source_tree(version)
    # checkpatch's SPDX check runs python with ply and git: Debian's python3.
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    for patch in series(version):
        run = subprocess.run(
            ["perl", "scripts/checkpatch.pl", "--strict", "--no-summary", "--quiet", str(patch)],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0 and run.stdout.strip() == "", (
            f"{patch.name}:\n{run.stdout}{run.stderr}"
        )
