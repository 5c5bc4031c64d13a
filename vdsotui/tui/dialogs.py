"""Modal dialogs: remap (move / switch type) with the helper's dry-run plan,
the refresh interval and the JSON export path."""

from __future__ import annotations

import asyncio
import string
from dataclasses import dataclass
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    OptionList,
    RadioButton,
    RadioSet,
    Static,
)
from textual.widgets.option_list import Option

from vdsotui.helper_client import HelperClient, HelperError, RemapPlan, RemapRequest
from vdsotui.interval import parse_interval
from vdsotui.model import ProcessVdso, VdsoType
from vdsotui.tui.explain import explain_error, forced_switch_words, plan_lines

PAGE = 4096
ADDRESS_LIMIT = 1 << 64
STALE = "Out of date: the fields changed after this plan. Enter or Ctrl+R plans again."
NOTHING_PLANNED = "Nothing to confirm: Enter or Ctrl+R plans what the fields say now."


@dataclass(frozen=True, slots=True)
class ConfirmedRemap:
    """What the user confirmed: one request, for each of these processes."""

    pids: tuple[int, ...]
    request: RemapRequest


def parse_address(text: str) -> int | None:
    """'' or 'auto' -> None (auto placement); else a page-aligned base.

    Hexadecimal, with or without 0x: the table's BASE column shows it bare,
    as /proc/PID/maps does, and that text must be accepted as it stands.
    """
    t = text.strip().lower()
    if t in ("", "auto"):
        return None
    digits = t.removeprefix("0x").replace("_", "")
    if not digits or any(c not in string.hexdigits for c in digits):
        raise ValueError(f"{text.strip()!r} is not a hexadecimal address (e.g. 7f0000000000)")
    value = int(digits, 16)
    if value >= ADDRESS_LIMIT:
        raise ValueError(f"{text.strip()} is out of range: over 64 bits")
    if value == 0:
        raise ValueError("the address must be above zero")
    if value % PAGE:
        raise ValueError(f"{value:#x} is not a multiple of the page size ({PAGE})")
    return value


class RemapDialog(ModalScreen[ConfirmedRemap | None]):
    """Plan a move or a type switch with `--dry-run`, then ask for confirmation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+r", "plan", "Plan again"),
        Binding("ctrl+y", "confirm", "Confirm"),
    ]

    def __init__(
        self,
        helper: HelperClient,
        targets: list[ProcessVdso],
        switch: bool,
        types: tuple[VdsoType, ...],
    ) -> None:
        super().__init__()
        self.helper = helper
        self.targets = targets
        self.switch = switch
        self.types = types
        self.plans: dict[int, RemapPlan | HelperError] = {}
        self.planned: RemapRequest | None = None  # what the shown plan is for, or is asked
        self.confirmable: ConfirmedRemap | None = None  # what Confirm runs; None: nothing
        self._asked = 0  # bumped by every change: an older plan's answer is dropped
        self.forced = False  # the shown plan was asked for with force

    # -- layout -----------------------------------------------------------

    def _title(self) -> str:
        verb = "Switch the vdso type of" if self.switch else "Move the vdso of"
        if len(self.targets) == 1:
            p = self.targets[0]
            return f"{verb} {p.pid} ({p.command})"
        return f"{verb} {len(self.targets)} tagged processes"

    def compose(self) -> ComposeResult:
        with Vertical(id="remap-box", classes="dialog"):
            # Text, not a str: a command name is whatever its owner chose, not markup.
            yield Label(Text(self._title()), classes="dialog-title")
            if self.switch:
                yield Label("New type:")
                with RadioSet(id="remap-type"):
                    choices = self._switch_types()
                    for t in choices:
                        yield RadioButton(t.label, value=t is choices[0], name=t.label)
            single = len(self.targets) == 1
            yield Label(
                # --addr names where the [vdso] text goes, not the block
                # (vvar pages lie below it): say so, as the table's BASE.
                # Text: "[vdso]" is a name, not markup.
                Text(
                    "New base, the [vdso] start, hex as BASE shows it (empty: auto):"
                    if single
                    else "Placement: auto (one address cannot fit several processes)"
                )
            )
            yield Input(placeholder="auto", id="remap-addr", disabled=not single)
            if self.switch:
                # The helper refuses a type the process's own code cannot
                # call unless forced: only for a restorer about to change
                # mode. Shown only when the chosen type needs it, with what
                # forcing does to the process. A switch leaves no proxy (old
                # callers would speak the wrong ABI), so that option is absent.
                yield Checkbox(
                    "Force a type its mode cannot use (a restorer about to change mode)",
                    value=False,
                    id="remap-force",
                )
                yield Static("", id="remap-force-words", classes="warning-line")
            else:
                yield Checkbox(
                    "Leave a proxy at the old base (keeps stale pointers working)",
                    value=True,
                    id="remap-proxy",
                )
            yield Label("", id="remap-error", classes="error-line")
            with VerticalScroll(id="remap-plan"):
                yield Static("Asking the helper for a plan…", id="remap-plan-body")
            yield Label("Ctrl+Y confirms · Ctrl+R plans again · Esc cancels", classes="hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Confirm", variant="warning", id="remap-confirm", disabled=True)
                yield Button("Plan again", id="remap-replan")
                yield Button("Cancel", id="remap-cancel")

    def on_mount(self) -> None:
        self._show_force()
        self.action_plan()

    def _switch_types(self) -> tuple[VdsoType, ...]:
        """The types to offer: all the kernel maps but the one every target has."""
        current = {p.vdso_type for p in self.targets}
        others = tuple(t for t in self.types if t not in current or len(current) > 1)
        return others or self.types

    def _chosen_type(self) -> VdsoType | None:
        pressed = self.query_one("#remap-type", RadioSet).pressed_button
        if pressed is None or pressed.name is None:
            return None
        return VdsoType.parse(pressed.name)

    def _show_force(self) -> None:
        """Offer force only for a type some target's mode cannot use, and say
        before it is ticked what it does to a process of that mode."""
        if not self.switch:
            return
        new = self._chosen_type()
        unfit = sorted(
            {p.mode for p in self.targets if new is not None and p.mode.vdso_type is not new},
            key=lambda m: m.value,
        )
        force = self.query_one("#remap-force", Checkbox)
        words = self.query_one("#remap-force-words", Static)
        force.display = words.display = bool(unfit)
        if not unfit:
            force.value = False
        words.update(Text("\n".join(forced_switch_words(m, new) for m in unfit if new is not None)))

    # -- planning ---------------------------------------------------------

    def _build_request(self) -> RemapRequest:
        """The request the dialog's fields say now; ValueError for a bad field."""
        addr = parse_address(self.query_one("#remap-addr", Input).value)
        if not self.switch:
            return RemapRequest(addr, None, self.query_one("#remap-proxy", Checkbox).value)
        vtype = self._chosen_type()
        if vtype is None:
            raise ValueError("choose the new type")
        force = self.query_one("#remap-force", Checkbox)
        # A switch never leaves a proxy: say so to the helper as the plan shows it.
        return RemapRequest(addr, vtype, proxy=False, force=force.display and force.value)

    def _no_plan(self, stale: bool) -> None:
        """Nothing can be confirmed until the helper plans what the fields say now.

        A `stale` plan stays on screen, dimmed under a line saying so; any
        answer still on its way for an older request is dropped when it comes.
        """
        self._asked += 1
        self.planned = None
        self.confirmable = None
        button = self.query_one("#remap-confirm", Button)
        button.disabled = True
        button.label = "Confirm"
        if not stale:
            self.plans = {}
        body = self.query_one("#remap-plan-body", Static)
        body.update(self._plan_renderable(stale) if stale and self.plans else "")

    def action_plan(self) -> None:
        error = self.query_one("#remap-error", Label)
        try:
            req = self._build_request()
        except ValueError as exc:
            error.update(Text(str(exc)))
            self._no_plan(stale=False)
            return
        error.update("")
        self._no_plan(stale=False)
        self.planned = req
        self.query_one("#remap-plan-body", Static).update("Asking the helper for a plan…")
        self.run_worker(self._plan(req, self._asked), group="plan", exclusive=True)

    async def _plan(self, req: RemapRequest, asked: int) -> None:
        plans: dict[int, RemapPlan | HelperError] = {}
        for pid in (p.pid for p in self.targets):
            try:
                plans[pid] = await asyncio.to_thread(self.helper.plan, pid, req)
            except HelperError as exc:
                plans[pid] = exc
            except Exception as exc:  # shown in the plan, never a traceback
                plans[pid] = HelperError("EIO", repr(exc))
        if asked != self._asked:
            return  # the fields changed while the helper planned: not this plan
        self.plans = plans
        self.forced = req.force
        self.query_one("#remap-plan-body", Static).update(self._plan_renderable())
        # A failed check blocks confirmation unless the user forced it (the
        # helper then reports the check it overrides as failed).
        ok = [
            pid for pid, pl in plans.items() if isinstance(pl, RemapPlan) and (pl.ok or req.force)
        ]
        if ok:
            self.confirmable = ConfirmedRemap(tuple(ok), req)
        button = self.query_one("#remap-confirm", Button)
        button.disabled = not ok
        # "Confirm 2" when only some of the tagged processes can be acted on.
        button.label = "Confirm" if len(ok) in (0, len(plans)) else f"Confirm {len(ok)}"

    def _plan_renderable(self, stale: bool = False) -> RenderableType:
        parts: list[Text] = []
        names = {p.pid: p.command for p in self.targets}
        for pid, plan in self.plans.items():
            head = Text(f"{pid} ({names.get(pid, '?')})", style="bold")
            parts.append(head)
            if isinstance(plan, HelperError):
                parts.append(Text("  refused: " + explain_error(plan), style="bold red"))
                continue
            for line in plan_lines(plan):
                parts.append(Text("  " + line))
            for c in plan.checks:
                mark = Text("  ✓ " if c.ok else "  ✗ ", style="green" if c.ok else "bold red")
                mark.append(f"{c.name}: {c.detail}", style="" if c.ok else "red")
                parts.append(mark)
            if plan.steps:
                parts.append(Text("  steps: " + "; ".join(plan.steps), style="dim"))
            if not plan.ok and self.forced:
                parts.append(
                    Text("  forced: it will run despite the failed check", style="bold red")
                )
            elif not plan.ok:
                parts.append(Text("  a check failed: this one will not be run", style="bold red"))
        if stale:
            for part in parts:
                part.stylize("dim")
            parts.insert(0, Text(STALE, style="bold yellow"))
        return Group(*parts)

    # -- events -----------------------------------------------------------

    @on(Input.Submitted, "#remap-addr")
    def _addr_submitted(self) -> None:
        self.action_plan()

    @on(Input.Changed, "#remap-addr")
    def _addr_changed(self) -> None:
        # Planning on every keystroke would ask the helper for addresses
        # half typed; the plan shown is marked out of date until Enter.
        try:
            req = self._build_request()
        except ValueError:
            req = None
        if req is None or req != self.planned:
            self._no_plan(stale=True)

    @on(Checkbox.Changed)
    def _options_changed(self) -> None:
        self.action_plan()

    @on(RadioSet.Changed)
    def _type_changed(self) -> None:
        self._show_force()
        self.action_plan()

    @on(Button.Pressed, "#remap-replan")
    def _replan(self) -> None:
        self.action_plan()

    @on(Button.Pressed, "#remap-confirm")
    def action_confirm(self) -> None:
        # Only the request whose dry run passed, and only while the fields
        # still say it: what was planned runs, or nothing does.
        order = self.confirmable
        error = self.query_one("#remap-error", Label)
        try:
            current = self._build_request()
        except ValueError as exc:
            error.update(Text(str(exc)))
            return
        if order is None or order.request != current:
            if self.planned is None:
                error.update(Text(NOTHING_PLANNED))
            return
        self.dismiss(order)

    @on(Button.Pressed, "#remap-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class RetryDialog(ModalScreen[bool]):
    """EBUSY right after a dry run passed: offer to run the same request once more.

    The helper reports busy when a thread was inside the vdso or the target
    could not be stopped in time; a moment later that has usually passed.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+y", "retry", "Retry"),
    ]

    def __init__(self, what: str, busy: list[tuple[int, str, str]]) -> None:
        super().__init__(id="retry-dialog")
        self.what = what
        self.busy = busy

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog small-dialog"):
            yield Label(Text(f"{self.what}: busy, try once more?"), classes="dialog-title")
            for pid, command, why in self.busy:
                yield Label(Text(f"{pid} ({command}): {why}"), classes="error-line")
            yield Label(
                Text(
                    "The plan passed a moment ago; the same request can run once more. "
                    "Ctrl+Y retries · Esc leaves it as it is"
                ),
                classes="hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Retry once", variant="warning", id="retry-ok")
                yield Button("Cancel", id="retry-cancel")

    @on(Button.Pressed, "#retry-ok")
    def action_retry(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#retry-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class ValueDialog(ModalScreen[str | None]):
    """One line of input with a check; dismisses with the text or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, prompt: str, value: str, dialog_id: str) -> None:
        super().__init__(id=dialog_id)
        self.title_text = title
        self.prompt = prompt
        self.initial = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog small-dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield Label(Text(self.prompt))
            yield Input(value=self.initial, id="value-input")
            yield Label("", id="value-error", classes="error-line")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="value-ok")
                yield Button("Cancel", id="value-cancel")

    def check(self, text: str) -> str | None:
        """An error message, or None when `text` is acceptable."""
        return None

    @on(Input.Submitted)
    @on(Button.Pressed, "#value-ok")
    def _submit(self) -> None:
        text = self.query_one("#value-input", Input).value
        problem = self.check(text)
        if problem:
            self.query_one("#value-error", Label).update(Text(problem))
            return
        self.dismiss(text)

    @on(Button.Pressed, "#value-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class IntervalDialog(ValueDialog):
    def __init__(self, current: float) -> None:
        super().__init__(
            "Refresh interval", "Seconds between scans:", f"{current:g}", "interval-dialog"
        )

    def check(self, text: str) -> str | None:
        try:
            parse_interval(text)
        except ValueError as exc:
            return str(exc)
        return None


class ExportDialog(ValueDialog):
    def __init__(self, default: str) -> None:
        super().__init__(
            "Export as JSON", "File to write (the shown rows, in order):", default, "export-dialog"
        )

    def check(self, text: str) -> str | None:
        return None if text.strip() else "give a file name"


ALL_USERS = ""  # the user list's answer for "every user"


class ChoiceDialog(ModalScreen[str | None]):
    """Pick one of a list (htop's `u` and F6): dismisses with the chosen
    option's id, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str, choices: list[tuple[str, str]], current: str | None, dialog_id: str
    ) -> None:
        super().__init__(id=dialog_id)
        self.title_text = title
        self.choices = choices  # (id, label)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog small-dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield OptionList(
                *(Option(Text(label), id=oid) for oid, label in self.choices), id="choice-list"
            )
            yield Label("Enter chooses · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ids = [oid for oid, _ in self.choices]
        ol.highlighted = ids.index(self.current) if self.current in ids else 0
        ol.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def user_dialog(counts: dict[str, int], current: str | None) -> ChoiceDialog:
    """htop's `u`: one user whose processes alone are shown, or all."""
    choices = [(ALL_USERS, "all users")]
    choices += [(user, f"{user}  ({counts[user]})") for user in sorted(counts)]
    return ChoiceDialog("Show the processes of", choices, current or ALL_USERS, "user-dialog")


def sort_dialog(current: str) -> ChoiceDialog:
    """htop's F6: the sort column, from a list."""
    from vdsotui.tui.columns import COLUMNS

    return ChoiceDialog("Sort by", [(c.key, c.label) for c in COLUMNS], current, "sort-dialog")
