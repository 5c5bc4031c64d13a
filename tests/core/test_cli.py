"""The command line rejects bad input with one line naming the cause."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def _vdsotui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vdsotui", *args], capture_output=True, text=True)


@pytest.mark.parametrize("command", ["list", "info"])
def test_unknown_option_prints_that_commands_usage(command: str) -> None:
    run = _vdsotui(command, "--bogus")
    assert run.returncode == 2
    assert run.stderr.startswith(f"usage: vdsotui {command} "), run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        f"vdsotui {command}: error: unrecognized arguments: --bogus"
    )


@pytest.mark.parametrize("where", ["before", "after"])
def test_missing_helper_is_missing_not_refused(where: str, tmp_path: Path) -> None:
    absent = str(tmp_path / "vdso-helper")
    args = ["--helper", absent, "info"] if where == "before" else ["info", "--helper", absent]
    run = _vdsotui(*args)
    assert run.returncode == 1
    assert run.stderr == f"vdsotui: cannot run the helper: ENOENT: {absent} does not exist\n"


def test_json_errors_are_json() -> None:
    run = _vdsotui("list", "--json", "--pid", str(2**22 + 1))  # above pid_max's ceiling
    assert run.returncode == 2
    assert json.loads(run.stdout) == {"error": "ESRCH", "message": f"no such process: {2**22 + 1}"}
    assert run.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "cause"),
    [
        (["list", "--json", "--pid", "x"], "argument --pid: invalid int value: 'x'"),
        (["list", "--json", "--json-lines"],
         "argument --json-lines: not allowed with argument --json"),
        (["list", "--json-lines", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)  # fmt: skip
def test_bad_arguments_with_json_are_json(args: list[str], cause: str) -> None:
    run = _vdsotui(*args)
    assert run.returncode == 2
    assert json.loads(run.stdout) == {"error": "EINVAL", "message": cause}
    assert run.stderr.strip().splitlines()[-1].endswith(f"error: {cause}")


def test_list_json_and_json_lines_hold_the_same_processes() -> None:
    doc = json.loads(_vdsotui("list", "--json", "--pid", "1", "--pid", "2").stdout)
    assert doc["schema"] == "vdsotui.list/1" and doc["kernel"]
    lines = _vdsotui("list", "--json-lines", "--pid", "1", "--pid", "2").stdout.splitlines()
    assert [json.loads(line) for line in lines] == doc["processes"]
    assert [p["pid"] for p in doc["processes"]] == [1, 2]
