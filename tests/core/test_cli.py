"""The command line rejects bad input with one line naming the cause."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vdsotui.interval import MAX_INTERVAL, MIN_INTERVAL, parse_interval


@pytest.mark.parametrize(
    "text", ["nan", "NaN", "inf", "-inf", "0", "-1", "0.1", "3601", "soon", ""]
)
def test_bad_interval_is_one_line_and_exit_2(text: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vdsotui", f"--interval={text}", "list"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("vdsotui: error: argument --interval: "), run.stderr
    assert "must be between" in last or "is not a number" in last, last


def test_good_interval_is_accepted() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vdsotui", "--interval", "0.5", "list", "--pid", "1"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].split()[0] == "PID"


@pytest.mark.parametrize("value", [MIN_INTERVAL, 1.0, MAX_INTERVAL])
def test_parse_interval_bounds_are_inclusive(value: float) -> None:
    assert parse_interval(f"{value:g}") == value


@pytest.mark.parametrize("text", ["nan", "inf", f"{MIN_INTERVAL / 2:g}", f"{MAX_INTERVAL * 2:g}"])
def test_parse_interval_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="between"):
        parse_interval(text)
