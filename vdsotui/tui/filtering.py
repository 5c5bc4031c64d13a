"""The filter typed after `/` (or F4).

Words are separated by spaces and must all match (AND):

- a bare number matches the pid;
- `pid:`, `user:`, `mode:`, `type:`, `state:` and `command:` restrict a word
  to one field (`pid:`, `mode:` and `type:` match exactly, the others as a
  substring);
- any other word is looked for, case-insensitively, in the pid, user,
  command, mode, type and state words and the command line;
- `~pattern` is a regular expression instead of a substring, alone or after a
  field (`user:~^a`); it cannot hold a space (use `\\s`);
- a leading `!` means "not": `!kworker` hides the kworkers, `!state:ok`
  shows every process that is not ok.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from vdsotui.model import ProcessVdso
from vdsotui.tui.columns import state_words

FIELDS = ("pid", "user", "mode", "type", "state", "command")

SYNTAX = (
    "Filter: words must all match. 1234 = that pid; pid:, user:, mode:, type:, state:, "
    "command: match one field; other words are searched in pid, user, command, mode, type, "
    "state and the command line. ~pattern is a regular expression (no spaces: use \\s), "
    "also after a field (user:~^a). !word means not: !kworker hides the kworkers, "
    "!state:ok shows what is not ok."
)

Match = Callable[[ProcessVdso], bool]


class FilterError(ValueError):
    """The filter text cannot be understood; the message says why (one line)."""


@dataclass(frozen=True, slots=True)
class Filter:
    text: str
    match: Match

    def __call__(self, p: ProcessVdso) -> bool:
        return self.match(p)


def _haystack(p: ProcessVdso) -> str:
    vtype = p.vdso_type.label if p.vdso_type is not None else ""
    return f"{p.pid} {p.user} {p.command} {p.mode.value} {vtype} {state_words(p)} {p.cmdline}"


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


def _regex(word: str, pattern: str) -> re.Pattern[str]:
    if not pattern:
        raise FilterError(f"`{word}`: `~` must be followed by a regular expression")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        # re's message is one line ("missing ), unterminated subpattern at
        # position 0"); say which word it is about.
        raise FilterError(f"`{word}`: bad regular expression: {exc}") from None


def _word(word: str) -> Match:
    name, sep, value = word.partition(":")
    if sep and name in FIELDS:
        if not value:
            raise FilterError(f"`{word}` needs a value after the colon")
        if value.startswith("~"):
            rx = _regex(word, value[1:])
            return lambda p: rx.search(_field(p, name)) is not None
        value = value.lower()
        if name == "pid":
            if not value.isdigit():
                raise FilterError(f"`{word}`: a pid is a number")
            pid = int(value)
            return lambda p: p.pid == pid
        if name in ("mode", "type"):
            return lambda p: _field(p, name).lower() == value
        return lambda p: value in _field(p, name).lower()
    if word.startswith("~"):
        rx = _regex(word, word[1:])
        return lambda p: rx.search(_haystack(p)) is not None
    if word.isdigit():
        pid = int(word)
        return lambda p: p.pid == pid
    low = word.lower()
    return lambda p: low in _haystack(p).lower()


def _term(word: str) -> Match:
    if not word.startswith("!"):
        return _word(word)
    rest = word[1:]
    if not rest:
        raise FilterError("`!` must be followed by what to leave out (e.g. !kworker)")
    if rest.startswith("!"):
        raise FilterError(f"`{word}`: one `!` is enough")
    test = _word(rest)
    return lambda p: not test(p)


def parse(text: str) -> Filter | None:
    """None for an empty filter; FilterError for one that cannot work."""
    stripped = text.strip()
    if not stripped:
        return None
    tests = [_term(w) for w in stripped.split()]
    return Filter(stripped, lambda p: all(t(p) for t in tests))
