"""The help screen: every key from the key table, the filter syntax and
what the state words mean."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from vdsotui.tui.columns import STATE_WORDS
from vdsotui.tui.filtering import SYNTAX
from vdsotui.tui.keymap import ACTIONS, HTOP_KEYS

STATES = tuple(
    (STATE_WORDS[flag], what)
    for flag, what in (
        ("ok", "the vdso is where exec put it, of the process's own type"),
        ("moved", "the base differs from AT_SYSINFO_EHDR in auxv"),
        ("proxy", "a proxy of an old vdso still sits at an old base"),
        ("mode!=type", "the process runs as one mode but has another type's vdso"),
        ("no_vdso", "a live address space without a [vdso]"),
        ("not_visible", "not yours to read (run as its owner, or root)"),
        ("kernel_thread", "no address space at all"),
        ("zombie", "exited, not reaped: no address space left"),
        ("gone", "exited while it was being scanned"),
    )
)

NAV = (
    ("↑ ↓ PgUp PgDn Home End", "move the cursor; a mouse click selects, a header click sorts"),
    ("Enter", "show the detail of the selected process"),
)


def help_renderable() -> RenderableType:
    keys = Table(box=None, show_header=False, padding=(0, 2), expand=False)
    keys.add_column(style="bold cyan", no_wrap=True)
    keys.add_column()
    group = None
    for a in ACTIONS:
        if a.group != group:
            group = a.group
            keys.add_row(Text(group, style="bold underline"), "")
        keys.add_row(Text(a.display_keys), Text(a.description))
    keys.add_row(Text("Move around", style="bold underline"), "")
    for k, d in NAV:
        keys.add_row(Text(k), Text(d))
    states = Table(box=None, show_header=False, padding=(0, 2))
    states.add_column(style="bold yellow", no_wrap=True)
    states.add_column()
    for k, d in STATES:
        states.add_row(Text(k), Text(d))
    filt = Text(SYNTAX)
    htop = Table(box=None, show_header=False, padding=(0, 2))
    htop.add_column(style="bold cyan", no_wrap=True)
    htop.add_column(no_wrap=True)
    htop.add_column()
    for h in HTOP_KEYS:
        htop.add_row(Text(h.key), Text(f"htop: {h.in_htop}"), Text(f"here: {h.here}"))
    return Group(
        Text("vdsotui keys", style="bold reverse"),
        keys,
        Text(""),
        Text("States", style="bold underline"),
        states,
        Text(""),
        filt,
        Text(""),
        Text(
            "Keys htop uses otherwise (the F-keys and u, K, I, F, <, > are as in htop)",
            style="bold underline",
        ),
        htop,
        Text(""),
        Text("Esc, q or ? closes this screen.", style="dim"),
    )


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="dialog"):
            yield Static(help_renderable(), id="help-body")

    def action_close(self) -> None:
        self.dismiss(None)
