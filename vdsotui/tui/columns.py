"""The main table's columns: how each cell is shown and how rows sort.

Pure functions of a `ProcessVdso`; no widget code, so tests and the
benchmark can use them directly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from vdsotui.model import ProcessVdso, Visibility

Cell = tuple[str, str]  # (text, Rich style)


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int | None
    cell: Callable[[ProcessVdso], Cell]
    sort: Callable[[ProcessVdso], Any]
    justify: str = "left"


def _addr(value: int | None) -> str:
    # Like /proc/PID/maps: bare hex, no 0x, to keep the column narrow.
    return f"{value:x}" if value is not None else "-"


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    if value % 1024 == 0:
        return f"{value // 1024}K"
    return str(value)


# The one screen spelling of each state word (ProcessVdso.flags, plus "ok").
# The table, the help screen, the detail pane and the filter use these;
# JSON keeps the documented flag names (`not_visible`, `kernel_thread`, ...).
STATE_WORDS: dict[str, str] = {
    "ok": "ok",
    "moved": "moved",
    "proxy": "proxy",
    "mode!=type": "mode!=type",
    "no_vdso": "no vdso",
    "not_visible": "not visible",
    "kernel_thread": "kthread",  # as ps and htop call them; fits the column
    "zombie": "zombie",
    "gone": "gone",
}


def state_words(p: ProcessVdso) -> str:
    """The process's state as the screen spells it everywhere."""
    return " ".join(STATE_WORDS[f] for f in p.flags) or STATE_WORDS["ok"]


def _dim_unless_visible(p: ProcessVdso, style: str = "") -> str:
    return style if p.visible else "dim"


def _mode_cell(p: ProcessVdso) -> Cell:
    if not p.visible and p.mode.value == "unknown":
        return ("-", "dim")
    return (p.mode.value, "bold red" if p.mode_mismatch else _dim_unless_visible(p))


def _type_cell(p: ProcessVdso) -> Cell:
    if p.vdso_type is None:
        return ("-", "dim")
    return (p.vdso_type.label, "bold red" if p.mode_mismatch else "")


def _base_cell(p: ProcessVdso) -> Cell:
    return (_addr(p.base), "bold yellow" if p.moved else _dim_unless_visible(p))


def _state_cell(p: ProcessVdso) -> Cell:
    if not p.flags:
        return (state_words(p), "green")
    if p.visibility is not Visibility.VISIBLE:
        return (state_words(p), "dim")
    style = "bold red" if p.mode_mismatch else "yellow" if (p.moved or p.proxy) else ""
    return (state_words(p), style)


def _proxies_cell(p: ProcessVdso) -> Cell:
    # Every proxy the process holds, wherever it is: not only at its auxv base.
    if not p.visible:
        return ("-", "dim")
    n = len(p.proxy_bases)
    return (str(n), "yellow" if n else "dim")


CMDLINE_WIDTH = 60  # the rest is in the detail pane


def _cmdline_cell(p: ProcessVdso) -> Cell:
    # A kernel thread has no command line: htop shows its name in brackets.
    if not p.cmdline:
        return (f"[{p.command}]", "dim")
    return (p.cmdline[:CMDLINE_WIDTH], _dim_unless_visible(p))


def _opt(value: int | None) -> tuple[int, int]:
    # Missing values sort after present ones in ascending order.
    return (0, value) if value is not None else (1, 0)


COLUMNS: tuple[Column, ...] = (
    Column(
        "pid", "PID", 8, lambda p: (str(p.pid), _dim_unless_visible(p)), lambda p: p.pid, "right"
    ),
    Column("user", "USER", 8, lambda p: (p.user[:8], _dim_unless_visible(p)), lambda p: p.user),
    # COMM is the process's name (/proc/PID/comm, 15 bytes), as ps calls it;
    # COMMAND, last, is its whole command line, as in htop.
    Column(
        "command",
        "COMM",
        15,
        lambda p: (p.command[:15], _dim_unless_visible(p, "bold")),
        lambda p: p.command.lower(),
    ),
    # BASE right after the names: at 60 columns PID and BASE still show.
    Column("base", "BASE", 12, _base_cell, lambda p: _opt(p.base), "right"),
    Column("mode", "MODE", 6, _mode_cell, lambda p: p.mode.value),
    Column(
        "type",
        "TYPE",
        6,
        _type_cell,
        lambda p: (1, 0) if p.vdso_type is None else (0, int(p.vdso_type)),
    ),
    Column("state", "STATE", 11, _state_cell, lambda p: (p.flags, p.pid)),
    Column(
        "threads",
        "THR",
        3,
        lambda p: (str(p.threads), _dim_unless_visible(p)),
        lambda p: p.threads,
        "right",
    ),
    Column(
        "vvar",
        "VVAR",
        12,
        lambda p: (_addr(p.block.vvar_start if p.block else None), _dim_unless_visible(p)),
        lambda p: _opt(p.block.vvar_start if p.block else None),
        "right",
    ),
    Column(
        "size",
        "BLOCK",
        5,
        lambda p: (_size(p.block.size if p.block else None), _dim_unless_visible(p)),
        lambda p: _opt(p.block.size if p.block else None),
        "right",
    ),
    Column("proxies", "PROXIES", 7, _proxies_cell, lambda p: len(p.proxy_bases), "right"),
    Column("cmdline", "COMMAND", CMDLINE_WIDTH, _cmdline_cell, lambda p: p.cmdline),
)

TAG_MARK = "●"

COLUMN_KEYS = tuple(c.key for c in COLUMNS)
_BY_KEY = {c.key: c for c in COLUMNS}


def column(key: str) -> Column:
    return _BY_KEY[key]


def row_cells(p: ProcessVdso, tagged: bool, depth: int | None = None) -> tuple[Cell, ...]:
    """Every cell of a row; a tagged row carries the tag mark before its pid.

    With a tree `depth`, the command is indented under its parent.
    """
    cells = [c.cell(p) for c in COLUMNS]
    if tagged:
        cells[0] = (f"{TAG_MARK}{cells[0][0]}", "bold magenta")
    if depth:
        style = cells[2][1]
        width = _BY_KEY["command"].width or 15
        cells[2] = (("  " * (depth - 1) + "└ " + p.command)[:width], style)
    return tuple(cells)


@functools.lru_cache(maxsize=8192)
def render(cell: Cell, justify: str = "left") -> Text:
    # Cached: most cells repeat ("x86_64", "-", "ok", user names), and the
    # table never mutates the Text it is given.
    text, style = cell
    # A span, not the base style: a styled base renders one cell to the right.
    out = Text(text, justify=justify, end="")  # type: ignore[arg-type]
    if style:
        out.stylize(style)
    return out


def sort_key(key: str) -> Callable[[ProcessVdso], Any]:
    """A total order: the column's value, then the pid for ties."""
    fn = _BY_KEY[key].sort
    return lambda p: (fn(p), p.pid)
