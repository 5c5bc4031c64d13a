"""The `L` screen: the action log, newest last."""

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

from vdsotui.actionlog import ActionLog, Entry

_RESULT_STYLE = {"done": "green", "refused": "bold red", "died": "bold red"}


def log_renderable(log: ActionLog, entries: list[Entry], bad: int) -> RenderableType:
    head = Text(f"action log {log.path}", style="bold reverse")
    if not entries:
        return Group(head, Text("No move, switch or refusal yet.", style="dim"))
    table = Table(box=None, padding=(0, 1), header_style="bold", expand=False)
    for name in ("time (UTC)", "action", "pid", "command", "request", "result", "code", "stop"):
        table.add_column(name, no_wrap=True)
    table.add_column("what happened")
    for e in entries:
        # Everything but the fixed words came from /proc or the helper: Text.
        table.add_row(
            Text(e.time.replace("T", " ")[:23]),
            Text(e.action),
            Text(str(e.pid)),
            Text(e.command),
            Text(e.request),
            Text(e.result, style=_RESULT_STYLE.get(e.result, "")),
            Text(e.code or "-"),
            Text(f"{e.stop_ns / 1e6:.2f} ms" if e.stop_ns is not None else "-"),
            Text(e.message),
        )
    parts: list[RenderableType] = [head, table]
    if bad:
        parts.append(Text(f"{bad} unreadable lines skipped", style="yellow"))
    return Group(*parts)


class LogScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,L", "close", "Close"),
    ]

    def __init__(self, log: ActionLog) -> None:
        super().__init__(id="log-screen")
        self.action_log = log

    def compose(self) -> ComposeResult:
        entries, bad = self.action_log.read()
        with VerticalScroll(id="log-box", classes="dialog"):
            yield Static(log_renderable(self.action_log, entries, bad), id="log-body")
            yield Static(Text("Esc, q or L closes this screen.", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#log-box", VerticalScroll).scroll_end(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
