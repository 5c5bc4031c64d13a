"""The helper uses vdso_get_info and vdso_remap only once they proved who they are.

Their numbers (473, 474) are provisional: on another kernel other calls may
hold them. tests/helper/impostor.c stands in for such a kernel with a seccomp
filter that gives those numbers another call's answers in the helper, which
decides the path (a target under seccomp is refused, so the target runs as
it is). Whatever the real kernel (the stock host, or the patched guest where
the real calls are behind the filter), the helper must then see no syscalls,
plan the stock way and move the vdso that way.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helperlib import assert_running_untraced, block, expect_syscall, ok, vdso_base
from subjectlib import Subject

# What a stranger's 473/474 might answer: success without touching the
# arguments, EINVAL for anything, EFAULT for anything, EPERM.
IMPOSTORS = {
    "succeeds": "473=0,474=0",
    "einval": "473=22,474=22",
    "efault": "473=14,474=14",
    "eperm": "473=1,474=1",
}


def _under(targets: Path, spec: str, *argv: str) -> list[str]:
    return [str(targets / "impostor"), spec, "--", *argv]


def _info(helper: Path, wrap: list[str]) -> dict:
    run = subprocess.run(
        [*wrap, str(helper), "info", "--json"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_real_kernel_is_told_apart(helper_path: Path) -> None:
    """Without an impostor the answer is the kernel's own: only the patched guest has them."""
    assert _info(helper_path, [])["syscalls"] is expect_syscall()


@pytest.mark.parametrize("impostor", IMPOSTORS)
def test_info_does_not_trust_another_call(
    helper_path: Path, targets_built: Path, impostor: str
) -> None:
    doc = _info(helper_path, _under(targets_built, IMPOSTORS[impostor]))
    assert doc["syscalls"] is False
    assert {t["source"] for t in doc["types"]} == {"probe"}


@pytest.mark.parametrize("impostor", ["succeeds", "einval"])
def test_move_goes_the_stock_way_and_really_moves(
    helper_path: Path, subjects_built: Path, targets_built: Path, impostor: str
) -> None:
    wrap = _under(targets_built, IMPOSTORS[impostor])
    with Subject.spawn("subject-x86_64", "--threads", "2") as subj:
        subj.wait_ready()
        remap = [*wrap, str(helper_path), "remap", "--pid", str(subj.pid), "--auto", "--json"]
        plan = subprocess.run([*remap, "--dry-run"], capture_output=True, text=True, timeout=60)
        assert plan.returncode == 0, plan.stdout + plan.stderr
        assert json.loads(plan.stdout)["path"] == "stock"
        old = block(subj.pid)
        run = subprocess.run(remap, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stdout + run.stderr
        out = json.loads(run.stdout)
        assert out["path"] == "stock"
        new_base = int(out["to"]["base"], 16)
        # The block really is where the reply says, with its layout intact.
        assert vdso_base(subj.pid) == new_base
        shift = new_base - int(out["from"]["base"], 16)
        assert shift != 0
        assert [(lo + shift, hi + shift, n) for lo, hi, n in old] == block(subj.pid)
        assert_running_untraced(subj.pid)
        subj.assert_healthy()
        assert ok(helper_path, "show", "--pid", str(subj.pid))["pid"] == subj.pid
