"""The man pages: each renders without a groff warning, and says what the code does."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from pathlib import Path

import pytest

from vdsotui import cli

REPO = Path(__file__).resolve().parents[1]
PAGES = [
    REPO / "helper" / "vdso-helper.8",
    REPO / "docs" / "vdsotui.1",
    REPO / "kernel-patch" / "man-pages" / "vdso_get_info.2",
    REPO / "kernel-patch" / "man-pages" / "vdso_remap.2",
]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_groff_warns_about_nothing(page: Path) -> None:
    # -ww: every warning category; -z: format, print nothing.
    run = subprocess.run(
        ["groff", "-ww", "-z", "-t", "-man", str(page)], capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stderr == "", f"{page.name}:\n{run.stderr}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_man_shows_the_page_from_the_tree(page: Path) -> None:
    """`man -l` from the checkout: no `.so` that only resolves from one directory."""
    env = dict(os.environ, MANPAGER="cat", MANWIDTH="80", LC_ALL="C")
    run = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True, env=env, cwd="/")
    assert run.returncode == 0 and run.stderr == "", run.stderr
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
        assert re.search(rf"^{section}$", run.stdout, re.M), f"{page.name}: no {section}"
    if page.name == "vdso-helper.8":
        assert re.search(r"^SECURITY$", run.stdout, re.M), "vdso-helper(8) lost SECURITY"


def _options(parser: argparse.ArgumentParser) -> set[str]:
    found = {s for a in parser._actions for s in a.option_strings if s.startswith("--")}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _options(sub)
    return found - {"--help"}


def test_vdsotui_page_documents_every_command_and_option() -> None:
    text = (REPO / "docs" / "vdsotui.1").read_text()
    parser, _ = cli._parser()
    for option in sorted(_options(parser)):
        # roff spells a dash in an option as \-
        assert option.replace("-", r"\-") in text, f"vdsotui(1) does not document {option}"
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in commands.choices:
        assert re.search(rf"^\.B {name}$", text, re.M), f"vdsotui(1) does not document {name}"


def _doc_errors(series: str) -> dict[str, set[str]]:
    """The error codes each call's section of the series' Documentation lists."""
    patch = next((REPO / "kernel-patch" / series).glob("*-Documentation-*.patch")).read_text()
    doc = [line[1:] for line in patch.splitlines() if line.startswith("+")]
    sections: dict[str, set[str]] = {}
    current = None
    for i, line in enumerate(doc):
        nxt = doc[i + 1] if i + 1 < len(doc) else ""
        if re.fullmatch(r"=+", nxt) and re.fullmatch(r"\w+\(\)", line):
            current = line[:-2]
            sections[current] = set()
        elif re.fullmatch(r"=+", nxt):
            current = None
        elif current and (m := re.fullmatch(r"``(E[A-Z]+)``", line)):
            sections[current].add(m.group(1))
    return sections


def _man_errors(page: Path) -> set[str]:
    text = page.read_text()
    errors = text.split(".SH ERRORS", 1)[1].split("\n.SH ", 1)[0]
    return set(re.findall(r"^\.B (E[A-Z]+)$", errors, re.M))


@pytest.mark.parametrize("series", ["v7.3", "v6.12"])
def test_syscall_pages_list_the_documented_errors(series: str) -> None:
    """The man pages and the series' Documentation name the same errors (plus ENOSYS)."""
    documented = _doc_errors(series)
    assert set(documented) == {"vdso_get_info", "vdso_remap"}, documented
    for call, codes in documented.items():
        page = REPO / "kernel-patch" / "man-pages" / f"{call}.2"
        assert codes, f"{series}: no errors found for {call}"
        assert _man_errors(page) == codes | {"ENOSYS"}, f"{call}.2 against {series}"
