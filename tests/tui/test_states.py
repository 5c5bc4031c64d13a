"""Every state has exactly one spelling on screen: table, help, detail."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console, RenderableType

from tui.fakes import make_process
from vdsotui.model import ProcessVdso, Visibility
from vdsotui.tui import columns as cols
from vdsotui.tui.help import help_renderable
from vdsotui.tui.panels import Detail, detail_renderable


def plain(r: RenderableType) -> str:
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(r)
    return console.export_text()


def spellings(flag: str) -> set[str]:
    """Every way the state has been written: flag name, spaced, screen word."""
    out = {flag, flag.replace("_", " "), cols.STATE_WORDS[flag]}
    if flag == "kernel_thread":
        out |= {"kthread", "kernel thread", "kernel_thread"}
    return out


def found(text: str, flag: str) -> set[str]:
    return {s for s in spellings(flag) if re.search(rf"(?<![\w!]){re.escape(s)}(?![\w!=])", text)}


KINDS = {
    "ok": "normal",
    "moved": "moved",
    "mode!=type": "mismatch",
    "no_vdso": "novdso",
    "not_visible": "hidden",
    "kernel_thread": "kthread",
    "zombie": "zombie",
}


def test_every_flag_has_a_screen_word() -> None:
    flags = {v.value for v in Visibility if v is not Visibility.VISIBLE}
    flags |= {"ok", "moved", "proxy", "mode!=type", "no_vdso"}
    assert flags == set(cols.STATE_WORDS)


@pytest.mark.parametrize("flag", sorted(KINDS))
def test_one_spelling_per_state(flag: str) -> None:
    p: ProcessVdso = make_process(4242, KINDS[flag])
    assert flag in (p.flags or ("ok",))
    word = cols.STATE_WORDS[flag]
    cell = cols.column("state").cell(p)[0]
    detail = plain(detail_renderable(Detail(p, None, None, None, None, "-")))
    helptext = plain(help_renderable())
    for where, text in (("table", cell), ("detail", detail), ("help", helptext)):
        assert found(text, flag) == {word}, f"{where} spells {flag!r} as {found(text, flag)}"
    # JSON keeps the documented names.
    assert flag == "ok" or flag in p.to_json()["flags"]


def test_filter_takes_the_screen_word_and_the_json_name() -> None:
    from vdsotui.tui.filtering import parse

    k = make_process(2, "kthread")
    for text in ("state:kthread", "state:kernel_thread", "kthread"):
        f = parse(text)
        assert f is not None and f(k), text
