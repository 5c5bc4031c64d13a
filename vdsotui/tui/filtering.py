"""The filter typed after `/`.

Words must all match (AND). A bare number matches the pid; `pid:`, `user:`,
`mode:`, `type:` and `state:` restrict a word to one field; any other word is
looked for, case-insensitively, in the pid, user, command, mode, type and
state words. A leading `!` makes the whole filter a regular expression
searched in the same text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from vdsotui.model import ProcessVdso
from vdsotui.tui.columns import state_words

FIELDS = ("pid", "user", "mode", "type", "state", "command")


class FilterError(ValueError):
    """The filter text cannot be understood; the message says why."""


@dataclass(frozen=True, slots=True)
class Filter:
    text: str
    match: Callable[[ProcessVdso], bool]

    def __call__(self, p: ProcessVdso) -> bool:
        return self.match(p)


def _haystack(p: ProcessVdso) -> str:
    vtype = p.vdso_type.label if p.vdso_type is not None else ""
    return f"{p.pid} {p.user} {p.command} {p.mode.value} {vtype} {state_words(p)}"


def _field(p: ProcessVdso, name: str) -> str:
    if name == "pid":
        return str(p.pid)
    if name == "user":
        return p.user
    if name == "mode":
        return p.mode.value
    if name == "type":
        return p.vdso_type.label if p.vdso_type is not None else "none"
    if name == "state":
        # The screen's words, and the JSON flag names one can paste.
        return f"{state_words(p)} {' '.join(p.flags)}"
    return p.command


def _word(word: str) -> Callable[[ProcessVdso], bool]:
    name, sep, value = word.partition(":")
    if sep and name in FIELDS:
        if not value:
            raise FilterError(f"`{word}` needs a value after the colon")
        value = value.lower()
        if name == "pid":
            if not value.isdigit():
                raise FilterError(f"`{word}`: a pid is a number")
            pid = int(value)
            return lambda p: p.pid == pid
        if name in ("mode", "type"):
            return lambda p: _field(p, name).lower() == value
        return lambda p: value in _field(p, name).lower()
    if word.isdigit():
        pid = int(word)
        return lambda p: p.pid == pid
    low = word.lower()
    return lambda p: low in _haystack(p).lower()


def parse(text: str) -> Filter | None:
    """None for an empty filter; FilterError for one that cannot work."""
    stripped = text.strip()
    if not stripped:
        return None
    if stripped.startswith("!"):
        pattern = stripped[1:]
        if not pattern:
            raise FilterError("`!` must be followed by a regular expression")
        try:
            rx = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise FilterError(f"bad regular expression: {exc}") from exc
        return Filter(stripped, lambda p: rx.search(_haystack(p)) is not None)
    tests = [_word(w) for w in stripped.split()]
    return Filter(stripped, lambda p: all(t(p) for t in tests))
