"""Pilot tests: every binding and every dialog path, on the fakes."""

from __future__ import annotations

import io
import json
import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console
from textual.command import CommandPalette
from textual.events import Key
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
from textual.widgets.data_table import ColumnKey

from tui.conftest import fake_app, notes, press, settle, wait_until
from tui.fakes import (
    FakeHelper,
    FakeSource,
    base_for,
    demo_processes,
    make_process,
    many_processes,
)
from vdsotui.actionlog import ActionLog
from vdsotui.helper_client import (
    Check,
    HelperClient,
    HelperError,
    RemapPlan,
    RemapRequest,
    RemapResult,
)
from vdsotui.model import ProcessVdso, VdsoType
from vdsotui.tui import columns as cols
from vdsotui.tui import keymap
from vdsotui.tui.dialogs import (
    ChoiceDialog,
    ExportDialog,
    IntervalDialog,
    RemapDialog,
    RetryDialog,
)
from vdsotui.tui.help import HelpScreen
from vdsotui.tui.logscreen import LogScreen
from vdsotui.tui.panels import DetailPane, FactsBar, LayoutsPanel, StatusLine

SIZE = (120, 40)


def text_of(widget: Static) -> str:
    """The plain text a Static shows, whatever kind of renderable it holds."""
    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


def status(app) -> str:  # type: ignore[no-untyped-def]
    return text_of(app.query_one(StatusLine))


async def test_first_scan_fills_table_and_header() -> None:
    app, src, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Kernel threads are hidden at start, as in htop; K shows them.
        assert len(src.procs) == 13 and app.table.row_count == 12
        assert app.table.shown_pids == sorted(set(src.procs) - {2})
        assert "13 processes · 12 shown" in status(app) and "1 kthread hidden" in status(app)
        await press(pilot, "K")
        assert app.table.shown_pids == sorted(src.procs)
        assert "hidden" not in status(app)
        await press(pilot, "K")
        assert 2 not in app.table.shown_pids
        facts = text_of(app.query_one(FactsBar))
        assert "6.18.44-fake" in facts and "no (stock fallbacks)" in facts
        assert "i386 x86_64" in facts and "ready" in facts
        assert "13 processes" in status(app)
        layouts = text_of(app.query_one(LayoutsPanel))
        assert "x32: kernel built without x32" in layouts


async def test_refresh_touches_only_changed_rows() -> None:
    src = FakeSource(many_processes(500))
    app, src, _ = fake_app(source=src)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        untouched_before = app.table.get_row("7")
        p = src.procs[10]
        src.set(replace(p, threads=p.threads + 5))
        src.remove(11)
        src.set(make_process(9999, "moved"))
        await press(pilot, "r")
        stats = app.last_apply
        assert stats is not None
        assert (stats.added, stats.removed, stats.updated_cells) == (1, 1, 1)
        # Rows the scan did not report keep their very cell objects.
        assert all(a is b for a, b in zip(untouched_before, app.table.get_row("7"), strict=True))
        assert app.table.get_row("10")[cols_index("threads")].plain == str(p.threads + 5)
        assert not app.table.is_shown(11) and app.table.is_shown(9999)


def cols_index(key: str) -> int:
    from vdsotui.tui.columns import COLUMN_KEYS

    return COLUMN_KEYS.index(key)


async def test_changed_cells_are_redrawn() -> None:
    app, src, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.table
        y = table.shown_pids.index(1203) + 1  # below the header row
        assert "1203" in table.render_line(y).text and " ok" in table.render_line(y).text
        before = table.render_line(y + 1).text
        new = src.move(1203, 0x7F4400000000, proxy=True)
        await press(pilot, "r")
        line = table.render_line(y).text
        assert f"{new.base:x}" in line and "moved proxy" in line
        assert table.render_line(y + 1).text == before
        await press(pilot, "down", "down", "down", "down")
        assert table.selected_pid == 1311
        assert "moved proxy" in table.render_line(y).text


async def test_cursor_stays_on_process_through_sort() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.table.select_pid(1420)
        await settle(pilot)
        await press(pilot, "greater_than_sign")  # sort by USER
        assert app.table.sort_column == "user"
        assert app.table.selected_pid == 1420
        users = [app.table.procs[p].user for p in app.table.shown_pids]
        assert users == sorted(users)
        await press(pilot, "I")
        assert app.table.sort_reverse and app.table.selected_pid == 1420
        users = [app.table.procs[p].user for p in app.table.shown_pids]
        assert users == sorted(users, reverse=True)
        await press(pilot, "less_than_sign")  # back to PID, still reversed
        assert app.table.sort_column == "pid"
        assert app.table.shown_pids == sorted(set(app.table.procs) - {2}, reverse=True)
        assert app.table.selected_pid == 1420
        assert "PID▼" in status(app)


async def test_filter_keeps_cursor_and_escape_clears() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.table.select_pid(1420)
        await press(pilot, "slash")
        assert app.query_one("#filter", Input).has_focus
        await press(pilot, *"alice")
        shown = app.table.shown_pids
        assert shown and all(app.table.procs[p].user == "alice" for p in shown)
        assert app.table.selected_pid == 1420
        assert "filter alice" in status(app)
        await press(pilot, "enter")
        assert app.table.has_focus
        await press(pilot, "escape")
        assert app.table.row_count == 12 and app.table.selected_pid == 1420


async def test_keys_typed_right_after_slash_reach_the_filter() -> None:
    # A fast typist (or a paste) sends "/alice" in one burst: no key of it
    # may land on the table, where "a" or "e" would be actions.
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.table.select_pid(1420)
        for ch in "/alice":
            app.post_message(Key("slash" if ch == "/" else ch, ch))
        await settle(pilot)
        assert app.query_one("#filter", Input).value == "alice"
        assert not app.screen_stack[1:], "a key opened a screen"
        shown = app.table.shown_pids
        assert shown and all(app.table.procs[p].user == "alice" for p in shown)
        # Inside the box "/" is text (a regex may hold one), not the action.
        app.post_message(Key("slash", "/"))
        await settle(pilot)
        assert app.query_one("#filter", Input).value == "alice/"


async def test_filter_syntax_and_errors() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        box = app.query_one("#filter", Input)
        await press(pilot, "slash")
        for text, expected in [
            ("1533", [1533]),
            ("pid:1420", [1420]),
            ("state:moved", [1420]),
            ("mode:i386", [1311]),
            ("type:i386", [1311, 1533]),
            ("user:bob", [1777, 2048]),
            ("~^(1|412)\\sroot", [1, 412]),
            ("user:~^(bob|www)", [1777, 2048, 2211]),
            ("alice !state:ok", [1420, 1533, 1640]),
            ("!alice !root !bob", [977, 2211]),
            ("alice state:ok", [1203, 1311, 3001]),
        ]:
            box.value = text
            await settle(pilot)
            assert app.table.shown_pids == expected, text
        box.value = "~(unclosed"
        await settle(pilot)
        line = status(app).strip()
        assert "filter error: `~(unclosed`: bad regular expression: missing )" in line
        assert "\n" not in line
        assert box.has_class("-invalid")
        # The last good filter stays applied while the text is invalid.
        assert app.table.shown_pids == [1203, 1311, 3001]
        box.value = "pid:abc"
        await settle(pilot)
        assert "a pid is a number" in status(app)


async def test_bang_means_not() -> None:
    """Issue 15: `!kworker` used to show only the kworkers (a regex); now
    `!` leaves out what the word matches."""
    procs = [
        *demo_processes(),
        make_process(5001, "kthread", command="kworker/0:1"),
        make_process(5002, "kthread", command="kworker/1:0"),
    ]
    app, _, _ = fake_app(source=FakeSource(procs))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "K")  # kworkers are kernel threads: shown now
        await press(pilot, "slash", *"!kworker")
        shown = app.table.shown_pids
        assert 5001 not in shown and 5002 not in shown
        assert len(shown) == len(procs) - 2
        await press(pilot, *" command:~^systemd$")
        assert app.table.shown_pids == [1]
        for bad, why in [
            ("!", "`!` must be followed by what to leave out"),
            ("~", "`~`: `~` must be followed by a regular expression"),
            ("!~[", "`~[`: bad regular expression: unterminated character set"),
        ]:
            app.query_one("#filter", Input).value = bad
            await settle(pilot)
            assert f"filter error: {why}" in status(app), status(app)
            assert app.table.shown_pids == [1]  # the last good filter stays


async def test_a_late_change_never_filters_behind_a_hidden_box() -> None:
    """Issue 15: the box showed text while the table was unfiltered, or the
    other way round. A Changed still on its way when Esc hid the box must
    not filter the table; each change applies the value it carries."""
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        box = app.query_one("#filter", Input)
        await press(pilot, "slash", *"alice")
        assert len(app.table.shown_pids) == 6
        await press(pilot, "escape")
        assert not box.display and box.value == "" and app.table.row_count == 12
        # The change for the last key typed arrives after Esc (a loaded machine).
        box.post_message(Input.Changed(box, "alice"))
        await settle(pilot)
        assert app.table.row_count == 12 and app.text_filter is None
        assert "filter" not in status(app)
        # While the box is shown, each change applies the value it carries.
        await press(pilot, "slash", *"bob")
        box.post_message(Input.Changed(box, "bo"))
        box.post_message(Input.Changed(box, "bob"))
        await settle(pilot)
        assert app.table.shown_pids == [1777, 2048] and box.value == "bob"
        assert "filter bob" in status(app)


async def test_htop_view_toggles_and_user_filter() -> None:
    """Issue 15: K shows kernel threads (hidden at start), v shows only
    processes with a vdso, u picks one user; all combine with the filter."""
    app, src, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        everything = sorted(src.procs)
        assert app.table.shown_pids == [p for p in everything if p != 2]
        await press(pilot, "v")
        with_vdso = [1, 412, 1203, 1311, 1420, 1533, 2048, 2211, 3001]
        assert app.table.shown_pids == with_vdso
        assert "vdso only" in status(app)
        await press(pilot, "u")
        assert isinstance(app.screen, ChoiceDialog)
        users = app.screen.query_one(OptionList)
        labels = [str(users.get_option_at_index(i).prompt) for i in range(users.option_count)]
        assert labels == [
            "all users",
            "alice  (6)",
            "bob  (2)",
            "postgres  (1)",
            "root  (3)",
            "www-data  (1)",
        ]
        await press(pilot, "down", "down", "enter")  # bob
        assert not isinstance(app.screen, ChoiceDialog)
        assert app.table.shown_pids == [2048]  # bob's zombie has no vdso
        assert "user bob · vdso only" in status(app)
        await press(pilot, "v")
        assert app.table.shown_pids == [1777, 2048]
        await press(pilot, "slash", *"!python", "enter")
        assert app.table.shown_pids == [1777]
        await press(pilot, "escape")
        await press(pilot, "u", "escape")  # cancelled: still bob
        assert app.table.shown_pids == [1777, 2048]
        await press(pilot, "u")
        assert app.screen.query_one(OptionList).highlighted == 2  # bob, where it was
        await press(pilot, "home", "enter")  # all users
        await press(pilot, "K")
        assert app.table.shown_pids == everything
        assert "user" not in status(app) and "hidden" not in status(app)


async def test_command_column_tells_same_names_apart() -> None:
    """Issue 15: three python3 rows are told apart by their command lines."""
    procs = [
        *demo_processes(),
        make_process(4001, command="python3", cmdline="python3 -m http.server 8080"),
        make_process(4002, command="python3", cmdline="/usr/bin/python3 /opt/app/worker.py"),
        make_process(4003, "kthread", command="kworker/u8:2"),
    ]
    app, _, _ = fake_app(source=FakeSource(procs), show_kthreads=True)
    async with app.run_test(size=(250, 40)) as pilot:
        await settle(pilot)
        assert app.table.columns[ColumnKey("cmdline")].label.plain == "COMMAND"
        lines = {
            pid: app.table.render_line(app.table.shown_pids.index(pid) + 1).text
            for pid in (2048, 4001, 4002, 4003)
        }
        assert "python3 -m http.server 8000" in lines[2048]
        assert "python3 -m http.server 8080" in lines[4001]
        assert "/usr/bin/python3 /opt/app/worker.py" in lines[4002]
        assert "[kworker/u8:2]" in lines[4003]  # a kernel thread, named as htop does
        app.table.select_pid(4002)
        await settle(pilot)
        assert "/usr/bin/python3 /opt/app/worker.py" in text_of(
            app.query_one("#detail-body", Static)
        )
        await press(pilot, "slash", *"worker.py")
        assert app.table.shown_pids == [4002]


async def test_cursor_moves_on_when_row_vanishes() -> None:
    app, src, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.table.select_pid(1420)
        await settle(pilot)
        index = app.table.cursor_row
        src.remove(1420)
        await press(pilot, "r")
        assert not app.table.is_shown(1420)
        assert app.table.cursor_row == index
        assert app.table.selected_pid == 1533


async def test_tag_and_untag() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        await settle(pilot)
        await press(pilot, "space", "space")
        assert app.table.tags == {1203, 1311}
        assert app.table.selected_pid == 1420  # the cursor moved down after each tag
        assert app.table.get_row("1203")[0].plain == "●1203"
        assert "2 tagged" in status(app)
        await press(pilot, "U")
        assert app.table.tags == set()
        assert app.table.get_row("1203")[0].plain == "1203"
        assert any("Untagged 2" in n for n in notes(app))


async def test_move_dialog_shows_plan_and_moves() -> None:
    app, src, fh = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        await settle(pilot)
        old_base = src.procs[1203].base
        await press(pilot, "m")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog)
        plan = text_of(dialog.query_one("#remap-plan-body", Static))
        assert f"from x86_64 at {old_base:#x}" in plan
        assert "proxy at the old base: yes" in plan and "✓ destination" in plan
        assert fh.calls[-1][1]["dry_run"] is True
        confirm = dialog.query_one("#remap-confirm", Button)
        assert not confirm.disabled
        await pilot.click("#remap-confirm")
        await settle(pilot)
        assert not isinstance(app.screen, RemapDialog)
        runs = [c for c in fh.calls if c[0] == "remap" and not c[1]["dry_run"]]
        assert len(runs) == 1 and runs[0][1]["pid"] == 1203 and runs[0][1]["proxy"] is True
        new = src.procs[1203]
        assert new.base != old_base and new.proxy
        row = app.table.get_row("1203")
        assert row[cols_index("base")].plain == f"{new.base:x}"
        assert row[cols_index("state")].plain == "moved proxy"
        assert any(
            "Moved vdso of 1203 (bash)" in n and f"proxy left at {old_base:#x}" in n
            for n in notes(app)
        )


async def test_move_to_address_without_proxy() -> None:
    app, src, _fh = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(2048)
        await press(pilot, "m")
        dialog = app.screen
        box = dialog.query_one("#remap-addr", Input)
        box.value = "0x1234"
        await press(pilot, "enter")
        assert "not a multiple of the page size" in text_of(dialog.query_one("#remap-error", Label))
        assert dialog.query_one("#remap-confirm", Button).disabled
        box.value = "nonsense"
        await press(pilot, "enter")
        assert "is not a hexadecimal address" in text_of(dialog.query_one("#remap-error", Label))
        box.value = "0x7f1200000000"
        await press(pilot, "enter")
        dialog.query_one("#remap-proxy", Checkbox).value = False
        await settle(pilot)
        plan = text_of(dialog.query_one("#remap-plan-body", Static))
        assert "to   x86_64 at 0x7f1200000000" in plan and "proxy at the old base: no" in plan
        await pilot.click("#remap-confirm")
        await settle(pilot)
        assert src.procs[2048].base == 0x7F1200000000 and not src.procs[2048].proxy
        assert app.table.get_row("2048")[cols_index("state")].plain == "moved"


async def test_dialog_keys_replan_and_confirm() -> None:
    app, src, fh = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(3001)
        await press(pilot, "m")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog)
        dry = [c for c in fh.calls if c[0] == "remap" and c[1]["dry_run"]]
        dialog.query_one("#remap-addr", Input).value = "0x7f3300000000"
        await press(pilot, "ctrl+r")
        assert len([c for c in fh.calls if c[0] == "remap" and c[1]["dry_run"]]) == len(dry) + 1
        assert "to   x86_64 at 0x7f3300000000" in text_of(
            dialog.query_one("#remap-plan-body", Static)
        )
        dialog.query_one("#remap-addr", Input).value = "0x7f3400000000"
        await pilot.click("#remap-replan")
        await settle(pilot)
        assert "to   x86_64 at 0x7f3400000000" in text_of(
            dialog.query_one("#remap-plan-body", Static)
        )
        await press(pilot, "ctrl+y")
        assert app.screen is not dialog
        assert src.procs[3001].base == 0x7F3400000000


def real_runs(fh: FakeHelper) -> list[dict[str, object]]:
    return [c[1] for c in fh.calls if c[0] == "remap" and not c[1]["dry_run"]]


async def test_typed_address_then_confirm_never_runs_the_old_plan() -> None:
    """Issue 15, defect 1: the hint says Ctrl+Y confirms; after typing an
    address it must not confirm the auto placement planned before."""
    app, src, fh = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        old_base = src.procs[1203].base
        await press(pilot, "m")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog)
        confirm = dialog.query_one("#remap-confirm", Button)
        body = dialog.query_one("#remap-plan-body", Static)
        assert not confirm.disabled and "✓ destination" in text_of(body)
        dialog.query_one("#remap-addr", Input).focus()
        await pilot.press(*"0x7f0000000000", "ctrl+y")
        await settle(pilot)
        assert real_runs(fh) == [] and src.procs[1203].base == old_base
        assert app.screen is dialog
        # The plan on screen is for auto placement: it says it is out of date.
        assert confirm.disabled
        assert text_of(body).startswith("Out of date: the fields changed after this plan.")
        await press(pilot, "enter")
        assert "to   x86_64 at 0x7f0000000000" in text_of(body)
        assert not confirm.disabled
        await press(pilot, "ctrl+y")
        assert app.screen is not dialog
        assert [(r["pid"], r["addr"], r["auto"]) for r in real_runs(fh)] == [
            (1203, 0x7F0000000000, False)
        ]
        assert src.procs[1203].base == 0x7F0000000000


async def test_base_typed_as_the_table_shows_it() -> None:
    """Issue 15: the BASE cell (bare hex) is accepted as it stands, a value
    over 64 bits is out of range, and the label says it is the base."""
    app, src, fh = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        shown = app.table.get_row("1203")[cols_index("base")].plain
        await press(pilot, "m")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog)
        labels = [text_of(w) for w in dialog.query(Label)]
        assert any("New base, the [vdso] start" in t for t in labels)
        box = dialog.query_one("#remap-addr", Input)
        error = dialog.query_one("#remap-error", Label)
        box.value = "1" + "0" * 16  # 2**64
        await press(pilot, "enter")
        assert "out of range: over 64 bits" in text_of(error)
        assert dialog.query_one("#remap-confirm", Button).disabled
        box.value = "7f2200000000"  # as BASE shows a base: no 0x
        await press(pilot, "enter")
        assert text_of(error) == ""
        assert "to   x86_64 at 0x7f2200000000" in text_of(
            dialog.query_one("#remap-plan-body", Static)
        )
        await press(pilot, "ctrl+y")
        assert [r["addr"] for r in real_runs(fh)] == [0x7F2200000000]
        assert src.procs[1203].base == 0x7F2200000000
        # The old base, copied from its cell, is taken back as it is shown.
        app.table.select_pid(1203)
        await press(pilot, "m")
        dialog = app.screen
        dialog.query_one("#remap-addr", Input).value = shown
        await press(pilot, "enter")
        assert f"at {int(shown, 16):#x}" in text_of(dialog.query_one("#remap-plan-body", Static))


async def test_bad_address_clears_the_old_plan() -> None:
    app, _src, fh = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.table.select_pid(2048)
        await press(pilot, "m")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog)
        body = dialog.query_one("#remap-plan-body", Static)
        assert "✓" in text_of(body)
        dialog.query_one("#remap-addr", Input).value = "0x7f00000000zz"
        await press(pilot, "enter")
        assert "is not a hexadecimal address" in text_of(dialog.query_one("#remap-error", Label))
        assert dialog.query_one("#remap-confirm", Button).disabled
        assert "✓" not in text_of(body) and "x86_64" not in text_of(body)
        await press(pilot, "ctrl+y")
        assert app.screen is dialog and real_runs(fh) == []


async def test_plan_answer_for_older_fields_is_dropped() -> None:
    """A plan still on its way when the fields change never becomes confirmable."""
    app, src, fh = fake_app()
    release = threading.Event()
    real_plan = fh.plan

    def slow_plan(pid: int, request: RemapRequest) -> RemapPlan:
        release.wait(10)
        return real_plan(pid, request)

    fh.plan = slow_plan  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.table.select_pid(1203)
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, RemapDialog))
        dialog = app.screen
        assert isinstance(dialog, RemapDialog)
        await pilot.pause()
        dialog.query_one("#remap-addr", Input).value = "0x7f0000000000"
        await pilot.pause()
        release.set()
        await settle(pilot)
        assert dialog.confirmable is None
        assert dialog.query_one("#remap-confirm", Button).disabled
        assert "✓" not in text_of(dialog.query_one("#remap-plan-body", Static))
        await press(pilot, "ctrl+y")
        assert app.screen is dialog and real_runs(fh) == []
        assert src.procs[1203].base == base_for(1203)


async def test_move_cancel_runs_nothing() -> None:
    app, src, fh = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = dict(src.procs)
        await press(pilot, "m")
        assert isinstance(app.screen, RemapDialog)
        await press(pilot, "escape")
        assert not isinstance(app.screen, RemapDialog)
        await press(pilot, "m")
        await pilot.click("#remap-cancel")
        await settle(pilot)
        assert not isinstance(app.screen, RemapDialog)
        assert all(c[1]["dry_run"] for c in fh.calls if c[0] == "remap")
        assert src.procs == before


@pytest.mark.parametrize(
    ("table", "pid", "answer", "lines"),
    [
        pytest.param(
            "refuse",
            1,
            HelperError("EPERM", "target is owned by root"),
            ["refused: EPERM: not allowed by the helper's policy — target is owned by root"],
            id="dry-run-refused",
        ),
        pytest.param(
            "failing_check",
            1203,
            Check("threads", False, "thread 1204 is inside the vdso"),
            [
                "✗ threads: thread 1204 is inside the vdso",
                "a check failed: this one will not be run",
            ],
            id="failed-check",
        ),
    ],
)
async def test_plan_that_cannot_run_blocks_confirm(
    table: str, pid: int, answer: object, lines: list[str]
) -> None:
    """The fake helper answers pid's dry run with `answer` (from its `table`)."""
    app, _src, fh = fake_app()
    getattr(fh, table)[pid] = answer
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.table.select_pid(pid)
        await press(pilot, "m")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog)
        plan = text_of(dialog.query_one("#remap-plan-body", Static))
        for line in lines:
            assert line in plan
        assert dialog.query_one("#remap-confirm", Button).disabled
        await press(pilot, "ctrl+y")
        assert app.screen is dialog
        assert not [c for c in fh.calls if c[0] == "remap" and not c[1]["dry_run"]]
        await press(pilot, "escape")
        assert app.screen is not dialog


async def test_refusal_at_run_time_is_a_notification() -> None:
    app, src, fh = fake_app()
    fh.refuse_run[1203] = HelperError("EBUSY", "thread 1204 is inside the vdso")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        base = src.procs[1203].base
        await press(pilot, "m")
        await pilot.click("#remap-confirm")
        await settle(pilot)
        assert any(
            n.startswith("Move refused: 1203 (bash): EBUSY: the process is busy")
            and "thread 1204 is inside the vdso" in n
            for n in notes(app)
        )
        assert [n.severity for n in app._notifications][-1] == "error"
        assert src.procs[1203].base == base


async def test_unexpected_failures_are_words_not_tracebacks() -> None:
    app, src, fh = fake_app()

    def broken_image(pid: int) -> None:
        raise ValueError("truncated ELF header")

    src.image_facts = broken_image  # type: ignore[method-assign, assignment]

    def flaky(pid: int, request: RemapRequest) -> RemapResult:
        raise RuntimeError("helper pipe closed")

    fh.run = flaky  # type: ignore[method-assign]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        await settle(pilot)
        detail = text_of(app.query_one("#detail-body", Static))
        assert "cannot parse the vdso image: truncated ELF header" in detail
        await press(pilot, "m")
        await pilot.click("#remap-confirm")
        await settle(pilot)
        assert any(
            "Move refused: 1203 (bash): EIO" in n and "helper pipe closed" in n for n in notes(app)
        )
        assert app.is_running


async def test_tagged_rows_move_together() -> None:
    app, src, _fh = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        for pid in (1203, 2048, 977):  # 977 is not ours to read: skipped, with a reason
            app.table.select_pid(pid)
            await press(pilot, "space")
        await press(pilot, "m")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog)
        assert dialog.query_one("#remap-addr", Input).disabled
        plan = text_of(dialog.query_one("#remap-plan-body", Static))
        assert "1203 (bash)" in plan and "2048 (python3)" in plan
        assert any("Skipped 977 (postgres): not visible: there is no vdso" in n for n in notes(app))
        await pilot.click("#remap-confirm")
        await settle(pilot)
        assert src.procs[1203].moved and src.procs[2048].moved
        assert app.table.tags == set()
        assert sum("Moved vdso of" in n for n in notes(app)) == 2


async def test_switch_type_dialog() -> None:
    app, src, fh = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        await press(pilot, "t")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog) and dialog.switch
        radios = dialog.query_one("#remap-type", RadioSet)
        assert radios.pressed_button is not None and radios.pressed_button.name == "i386"
        plan = text_of(dialog.query_one("#remap-plan-body", Static))
        assert "refused: EINVAL: invalid request — process 1203 runs as x86_64" in plan
        assert dialog.query_one("#remap-confirm", Button).disabled
        dialog.query_one("#remap-force", Checkbox).value = True
        await settle(pilot)
        plan = text_of(dialog.query_one("#remap-plan-body", Static))
        assert "switch via stock path" in plan and "to   i386 at" in plan
        assert "✗ mode: process mode x86_64, new type i386 (forced)" in plan
        assert "forced: it will run despite the failed check" in plan
        await pilot.click("#remap-confirm")
        await settle(pilot)
        run = next(c for c in fh.calls if c[0] == "remap" and not c[1]["dry_run"])
        assert run[1]["vdso_type"] is VdsoType.I386 and run[1]["force"] is True
        assert src.procs[1203].vdso_type is VdsoType.I386
        row = app.table.get_row("1203")
        assert row[cols_index("type")].plain == "i386"
        assert "mode!=type" in row[cols_index("state")].plain
        assert any(n.startswith("Switch type: Switched vdso of 1203") for n in notes(app))


async def test_switch_dialog_offers_only_what_applies() -> None:
    """Issue 15, defect 3: no proxy option for a switch (a switch leaves none),
    no current type to switch to, and force only with what it does."""
    app, _src, fh = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)  # x86_64 code, x86_64 vdso
        await press(pilot, "t")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog) and dialog.switch
        assert not dialog.query("#remap-proxy")
        radios = dialog.query_one("#remap-type", RadioSet)
        assert [b.name for b in radios.query(RadioButton)] == ["i386"]
        force = dialog.query_one("#remap-force", Checkbox)
        words = text_of(dialog.query_one("#remap-force-words", Static))
        assert force.display and not force.value
        assert words.startswith(
            "A process that runs as x86_64 (64-bit code) calls the vdso for the time: with an "
            "i386 vdso its next clock_gettime, gettimeofday or time call will most likely "
            "crash it (SIGSEGV). Force it only"
        ), words
        assert "proxy at the old base: no" not in text_of(
            dialog.query_one("#remap-plan-body", Static)
        )  # refused without force: no plan yet
        force.value = True
        await settle(pilot)
        assert "proxy at the old base: no" in text_of(dialog.query_one("#remap-plan-body", Static))
        plans = [c[1] for c in fh.calls if c[0] == "remap"]
        assert plans and all(c["proxy"] is False for c in plans)  # --no-proxy, as planned
        await press(pilot, "escape")
        # A process whose vdso does not fit its mode: switching back needs no force.
        app.table.select_pid(1533)
        await press(pilot, "t")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog)
        assert [b.name for b in dialog.query(RadioButton)] == ["x86_64"]
        assert not dialog.query_one("#remap-force", Checkbox).display
        assert not dialog.query_one("#remap-force-words", Static).display
        assert not dialog.query_one("#remap-confirm", Button).disabled
        await press(pilot, "escape")
        # The move dialog has the proxy option and no force.
        await press(pilot, "m")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog) and not dialog.switch
        assert dialog.query_one("#remap-proxy", Checkbox).value
        assert not dialog.query("#remap-force")


async def test_target_that_dies_after_a_switch_is_reported() -> None:
    app, src, fh = fake_app()
    fh.die_on_run.add(1311)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1311)  # i386
        await press(pilot, "t")
        dialog = app.screen
        assert isinstance(dialog, RemapDialog)
        words = text_of(dialog.query_one("#remap-force-words", Static))
        assert "runs as i386 (32-bit code) makes its system calls through the vdso's" in words
        dialog.query_one("#remap-force", Checkbox).value = True
        await settle(pilot)
        await press(pilot, "ctrl+y")
        await wait_until(pilot, lambda: any("target gone" in n for n in notes(app)))
        gone = next(n for n in notes(app) if "target gone" in n)
        assert gone.startswith("Switch type: target gone: 1311 (wine-preloader) exited ")
        assert gone.endswith(
            " s after its type switch. A forced switch gave it a vdso its mode cannot use."
        )
        assert 1311 not in src.procs and not app.table.is_shown(1311)


async def test_target_that_lives_on_is_not_reported() -> None:
    app, _src, _fh = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        await press(pilot, "m", "ctrl+y")
        assert app._watched.keys() == {1203}
        app._watched[1203] = replace(app._watched[1203], since=app._watched[1203].since - 6)
        app.request_scan()
        await settle(pilot)
        assert not app._watched
        assert not any("target gone" in n for n in notes(app))


@pytest.mark.parametrize("busy", [1, 2])
async def test_busy_right_after_a_passing_plan_offers_one_retry(busy: int) -> None:
    app, src, fh = fake_app()
    fh.busy_runs[1203] = busy
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        await press(pilot, "m", "ctrl+y")
        assert isinstance(app.screen, RetryDialog)
        assert "did not stop within 1000 ms" in text_of(app.screen.query_one(".error-line", Label))
        assert any(n.startswith("Move refused: 1203 (bash): EBUSY") for n in notes(app))
        await press(pilot, "ctrl+y")
        assert not isinstance(app.screen, RetryDialog)  # once: never a second offer
        runs = real_runs(fh)
        assert len(runs) == 2 and runs[0] == runs[1]  # the same request again
        if busy == 1:
            assert src.procs[1203].moved
            assert any(n.startswith("Move: Moved vdso of 1203") for n in notes(app))
        else:
            assert not src.procs[1203].moved
            assert sum(n.startswith("Move refused: 1203") for n in notes(app)) == 2


async def test_busy_retry_declined_runs_nothing_more() -> None:
    app, src, fh = fake_app()
    fh.busy_runs[1203] = 1
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        await press(pilot, "m", "ctrl+y")
        assert isinstance(app.screen, RetryDialog)
        await press(pilot, "escape")
        assert not isinstance(app.screen, RetryDialog)
        assert len(real_runs(fh)) == 1 and not src.procs[1203].moved


async def test_read_only_refuses_actions() -> None:
    app, _, fh = fake_app(read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "m")
        await press(pilot, "t")
        assert not isinstance(app.screen, RemapDialog)
        assert sum("read-only mode" in n.lower() for n in notes(app)) == 2
        assert "READ-ONLY" in text_of(app.query_one(FactsBar))
        assert not [c for c in fh.calls if c[0] == "remap"]


@pytest.mark.parametrize(
    ("problem", "facts", "layouts", "key", "note", "detail"),
    [
        pytest.param(
            "missing",
            "helper not found",
            "no vdso-helper found",
            "m",
            ["No vdso-helper found: pass --helper PATH"],
            "threads unknown: no vdso-helper",
            id="missing",
        ),
        pytest.param(
            "not-setuid",
            "not setuid",
            None,
            "m",
            ["is not setuid root", "make install-helper"],
            None,
            id="not-setuid",
        ),
        pytest.param(
            "nonexistent-path",
            "helper unusable",
            "/nonexistent/vdso-helper does not exist",
            "t",
            ["/nonexistent/vdso-helper does not exist"],
            None,
            id="nonexistent-path",
        ),
    ],
)
async def test_unusable_helper_is_explained(
    problem: str,
    facts: str,
    layouts: str | None,
    key: str,
    note: list[str],
    detail: str | None,
) -> None:
    """The header and panels say what is wrong, and an action key says it again."""
    if problem == "nonexistent-path":
        app = VdsoApp_for(FakeSource(), HelperClient("/nonexistent/vdso-helper"))
    else:
        app, _, _ = fake_app(helper=problem != "missing", setuid=problem != "not-setuid")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert facts in text_of(app.query_one(FactsBar))
        if layouts is not None:
            assert layouts in text_of(app.query_one(LayoutsPanel))
        await press(pilot, key)
        assert not isinstance(app.screen, RemapDialog)
        assert any(all(part in n for part in note) for n in notes(app))
        if detail is not None:
            assert detail in text_of(app.query_one("#detail-body", Static))


def VdsoApp_for(src: FakeSource, helper: HelperClient):  # type: ignore[no-untyped-def]
    from vdsotui.tui.app import VdsoApp

    return VdsoApp(src, helper, live=False)


async def test_helper_info_error_is_explained() -> None:
    app, _, fh = fake_app()
    fh.info_error = HelperError("EIO", "probe child crashed")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "layouts unknown: EIO: the helper failed — probe child crashed" in text_of(
            app.query_one(LayoutsPanel)
        )


async def test_pause_and_live_refresh() -> None:
    app, src, _ = fake_app(live=True, interval=0.05)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: src.scans >= 3)
        await press(pilot, "p")
        assert app.paused and "PAUSED" in status(app)
        await settle(pilot)
        n = src.scans
        await pilot.pause(0.3)
        assert src.scans == n
        await press(pilot, "p")
        assert not app.paused
        await wait_until(pilot, lambda: src.scans > n)
        assert any("Refresh paused." in x for x in notes(app))
        assert any("Refresh resumed." in x for x in notes(app))


async def test_scans_never_overlap() -> None:
    src = FakeSource(scan_delay=0.1)
    app, src, _ = fake_app(source=src, live=True, interval=0.01)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(10):
            await pilot.press("r")
            await pilot.pause(0.02)
        await wait_until(pilot, lambda: src.scans >= 3)
        assert src.max_active == 1


async def test_slow_scans_back_off_and_say_so() -> None:
    """Issue 15: a scan slower than the interval slows the refresh (no pile
    of scans behind the keys), and the status line says so."""
    src = FakeSource(scan_delay=0.5)
    app, src, _ = fake_app(source=src, live=True, interval=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.scan_busy is not None)
        busy = app.scan_busy
        assert busy is not None and busy >= 0.5
        assert app.next_delay == pytest.approx(2 * busy)
        assert f"scans take {busy:.1f} s > every 0.2 s: slowed to" in status(app)
        src.scan_delay = 0
        before = src.scans
        await wait_until(pilot, lambda: src.scans > before + 1, timeout=10)
        await wait_until(pilot, lambda: app.next_delay == 0.2)
        assert "every 0.2 s" in status(app) and "slowed" not in status(app)


async def test_scan_failure_is_shown_not_fatal() -> None:
    app, src, _ = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        src.fail_next = PermissionError(13, "Permission denied")
        await press(pilot, "r")
        assert any("Scan failed" in n and "Permission denied" in n for n in notes(app))
        assert app.is_running
        src.remove(3001)
        await press(pilot, "r")
        assert not app.table.is_shown(3001)


async def test_interval_dialog() -> None:
    app, _, _ = fake_app(live=True, interval=5)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "i")
        dialog = app.screen
        assert isinstance(dialog, IntervalDialog)
        box = dialog.query_one("#value-input", Input)
        for bad, msg in [("abc", "is not a number"), ("0", "between 0.2 and 3600")]:
            box.value = bad
            await press(pilot, "enter")
            assert app.screen is dialog
            assert msg in text_of(dialog.query_one("#value-error", Label))
        box.value = "0.5"
        await press(pilot, "enter")
        assert app.screen is not dialog and app.interval == 0.5
        assert "every 0.5 s" in status(app)
        await press(pilot, "i", "escape")
        assert app.interval == 0.5


async def test_export_json(tmp_path: Path) -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "slash", *"alice", "enter")
        await press(pilot, "e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        out = tmp_path / "rows.json"
        dialog.query_one("#value-input", Input).value = str(out)
        await press(pilot, "enter")
        doc = json.loads(out.read_text())
        assert [r["pid"] for r in doc["processes"]] == app.table.shown_pids
        assert doc["filter"] == "alice" and doc["kernel"] == "6.18.44-fake"
        moved = next(r for r in doc["processes"] if r["pid"] == 1420)
        assert moved["moved"] and moved["proxy"]
        n = len(app.table.shown_pids)
        assert n == 6 and any(f"Exported {n} processes to {out}." in x for x in notes(app))
        await press(pilot, "e")
        app.screen.query_one("#value-input", Input).value = str(tmp_path / "no" / "such.json")
        await press(pilot, "enter")
        assert any("Cannot write" in n and "No such file or directory" in n for n in notes(app))


async def test_action_log_keeps_every_move_refusal_and_death(tmp_path: Path) -> None:
    """Issue 15: every move, switch, refusal and death goes to an append-only
    log, on disk as soon as it happened; L shows it."""
    log_path = tmp_path / "state" / "vdsotui" / "actions.log"
    log_path.parent.mkdir(parents=True)
    log_path.write_text('{"time": "earlier", "action": "move"}\n')  # kept: only appended to
    app, _, fh = fake_app(action_log=ActionLog(log_path))
    fh.busy_runs[2048] = 1
    fh.die_on_run.add(1311)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        await press(pilot, "m")
        app.screen.query_one("#remap-addr", Input).value = "0x7f0000000000"
        await press(pilot, "enter", "ctrl+y")
        app.table.select_pid(2048)
        await press(pilot, "m", "ctrl+y")  # EBUSY: refused, retry offered
        assert isinstance(app.screen, RetryDialog)
        await press(pilot, "ctrl+y")
        app.table.select_pid(1311)
        await press(pilot, "t")
        app.screen.query_one("#remap-force", Checkbox).value = True
        await settle(pilot)
        await press(pilot, "ctrl+y")
        await wait_until(pilot, lambda: any("target gone" in n for n in notes(app)))
        # On disk while the console still runs: nothing waits for a clean exit.
        lines = log_path.read_text().splitlines()
        assert lines[0] == '{"time": "earlier", "action": "move"}'
        got = [json.loads(line) for line in lines[1:]]
        assert [(e["action"], e["pid"], e["result"], e["code"]) for e in got] == [
            ("move", 1203, "done", None),
            ("move", 2048, "refused", "EBUSY"),
            ("move", 2048, "done", None),
            ("switch", 1311, "done", None),
            ("switch", 1311, "died", None),
        ]
        assert got[0]["request"] == "--addr 0x7f0000000000"
        assert got[0]["stop_ns"] == 812345 and got[0]["command"] == "bash"
        assert got[3]["request"] == "--auto --type x86_64 --no-proxy --force"
        assert "did not stop within 1000 ms" in got[1]["message"]
        assert "exited" in got[4]["message"] and "forced switch" in got[4]["message"]
        assert all(e["time"].endswith("+00:00") for e in got)
        await press(pilot, "L")
        assert isinstance(app.screen, LogScreen)
        body = text_of(app.screen.query_one("#log-body", Static))
        assert str(log_path) in body and "1 unreadable lines skipped" in body
        for word in ("--addr 0x7f0000000000", "EBUSY", "died", "0.81 ms", "wine-preloader"):
            assert word in body, word
        await press(pilot, "L")
        assert not isinstance(app.screen, LogScreen)


async def test_action_log_and_export_live_under_xdg() -> None:
    app, _, _ = fake_app()
    state = Path(os.environ["XDG_STATE_HOME"])
    assert app.action_log.path == state / "vdsotui" / "actions.log"
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "L")
        body = text_of(app.screen.query_one("#log-body", Static))
        assert "No move, switch or refusal yet." in body
        await press(pilot, "escape", "greater_than_sign", "e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        out = Path(dialog.query_one("#value-input", Input).value)
        assert out == Path(os.environ["XDG_DATA_HOME"]) / "vdsotui" / "export.json"
        await press(pilot, "enter")
        doc = json.loads(out.read_text())
        assert doc["sort"] == {"column": "USER", "key": "user", "reverse": False}
        assert doc["view"] == {"kernel_threads": False, "vdso_only": False, "user": None}


async def test_help_screen_lists_every_key() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("question_mark", "f1"):
            await press(pilot, key)
            assert isinstance(app.screen, HelpScreen)
            body = text_of(app.screen.query_one("#help-body", Static))
            for a in keymap.ACTIONS:
                assert a.description in body
            assert "mode!=type" in body
            await press(pilot, "escape")
            assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_runs_actions() -> None:
    app, _, _ = fake_app(live=True, interval=30)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await press(pilot, *"Pause or resume")
        await pilot.pause(0.3)
        await press(pilot, "enter")
        assert not isinstance(app.screen, CommandPalette)
        assert app.paused


async def test_palette_sorts_by_each_column() -> None:
    """Issue 15: the command palette offers "Sort by X" for every column."""
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for c in cols.COLUMNS:
            assert f"Sort by {c.label}" in titles
        await press(pilot, "ctrl+p")
        await press(pilot, *"Sort by BASE")
        await pilot.pause(0.3)
        await press(pilot, "enter")
        assert not isinstance(app.screen, CommandPalette)
        assert app.table.sort_column == "base" and "BASE▲" in status(app)


async def test_htop_function_keys() -> None:
    """Issue 15: F1 help, F4 filter, F5 tree, F6 a sort menu, F10 quit, all
    from the key table; F9 (htop's kill) is not bound, and help says why."""
    app, _, fh = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bound = {k for k in app._bindings.key_to_bindings}
        for key in ("f1", "f3", "f4", "f5", "f6", "f10"):
            assert key in bound, key
        assert "f9" not in bound
        await press(pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        body = text_of(app.screen.query_one("#help-body", Static))
        assert "F9 k" in body and "vdsotui never sends a signal" in body
        assert "T F5" in body and "q F10" in body
        await press(pilot, "escape")
        # F4 and the keys right after it: the filter box.
        for ch in ("f4", *"bob"):
            app.post_message(Key(ch, None if ch == "f4" else ch))
        await settle(pilot)
        assert app.query_one("#filter", Input).value == "bob"
        assert app.table.shown_pids == [1777, 2048]
        await press(pilot, "escape", "f5")
        assert app.table.tree_view and "tree" in status(app)
        await press(pilot, "f5")
        assert not app.table.tree_view
        await press(pilot, "f6")
        assert isinstance(app.screen, ChoiceDialog)
        menu = app.screen.query_one(OptionList)
        labels = [str(menu.get_option_at_index(i).prompt) for i in range(menu.option_count)]
        assert labels == [c.label for c in cols.COLUMNS]
        assert menu.highlighted == 0  # PID, the current sort
        await press(pilot, *["down"] * labels.index("USER"), "enter")
        assert app.table.sort_column == "user" and "USER▲" in status(app)
        await press(pilot, "f6", "escape")
        assert app.table.sort_column == "user"
        await press(pilot, "f9")
        assert app.screen_stack[1:] == [] and not [c for c in fh.calls if c[0] == "remap"]
        await press(pilot, "f10")
        assert not app.is_running


async def test_search_moves_the_cursor_and_hides_nothing() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(412)
        for ch in ("f3", *"alice"):  # a burst: every key reaches the box
            app.post_message(Key(ch, None if ch == "f3" else ch))
        await settle(pilot)
        box = app.query_one("#search", Input)
        assert box.has_focus and box.value == "alice"
        assert app.table.selected_pid == 1203 and app.table.row_count == 12
        await press(pilot, "f3")
        assert app.table.selected_pid == 1311
        await press(pilot, "f3", "f3", "f3", "f3")
        assert app.table.selected_pid == 3001
        await press(pilot, "f3")
        assert app.table.selected_pid == 1203  # round again from the top
        box.value = "nosuchthing"
        await settle(pilot)
        assert box.has_class("-invalid") and box.border_subtitle == "no row matches"
        assert app.table.selected_pid == 1203
        box.value = "~("
        await settle(pilot)
        assert "bad regular expression" in str(box.border_subtitle)
        await press(pilot, "escape")
        assert not box.display and app.table.has_focus
        assert app.table.selected_pid == 1203 and app.table.row_count == 12


async def test_detail_and_layouts_toggle() -> None:
    app, _, fh = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.table.select_pid(1311)
        await settle(pilot)
        detail = text_of(app.query_one("#detail-body", Static))
        assert "1311 wine-preloader" in detail and "AT_SYSINFO" in detail
        assert "__kernel_vsyscall" in detail and "in vdso" in detail
        assert "helper policy: allowed (same user)" in detail
        await press(pilot, "d")
        assert not app.query_one(DetailPane).display
        await press(pilot, "l")
        assert not app.query_one(LayoutsPanel).display
        assert not app.query_one("#side").display
        shows = len([c for c in fh.calls if c[0] == "show"])
        await press(pilot, "down")  # hidden pane: nothing is read
        assert len([c for c in fh.calls if c[0] == "show"]) == shows
        await press(pilot, "d", "l")
        assert app.query_one("#side").display
        assert f"{app.table.selected_pid} " in text_of(app.query_one("#detail-body", Static))


async def test_held_arrow_key_reads_only_where_the_cursor_rests() -> None:
    app, _, fh = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shows = [c for c in fh.calls if c[0] == "show"]
        await pilot.press(*["down"] * 7)  # no pause between the keys
        await settle(pilot)
        new = [c for c in fh.calls if c[0] == "show"][len(shows) :]
        assert new[-1][1]["pid"] == app.table.selected_pid == app.table.shown_pids[7]
        assert len(new) < 7
        assert f"{app.table.selected_pid} " in text_of(app.query_one("#detail-body", Static))


async def test_enter_shows_hidden_detail() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "d")
        assert not app.query_one(DetailPane).display
        await press(pilot, "enter")
        assert app.query_one(DetailPane).display


def family(pid: int, ppid: int) -> ProcessVdso:
    return replace(make_process(pid, command=f"c{pid}"), ppid=ppid)


async def test_tree_view() -> None:
    src = FakeSource(
        [family(1, 1), family(10, 1), family(20, 10), family(30, 1), family(25, 10), family(40, 20)]
    )
    app, src, _ = fake_app(source=src)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.table.select_pid(40)
        await press(pilot, "T")
        assert app.table.shown_pids == [1, 10, 20, 40, 25, 30]
        assert app.table.selected_pid == 40
        command = cols_index("command")
        assert app.table.get_row("40")[command].plain == "    └ c40"
        assert app.table.get_row("1")[command].plain == "c1"
        assert "sort tree, siblings by PID▲" in status(app)
        src.set(family(50, 25))
        await press(pilot, "r")
        assert app.table.shown_pids == [1, 10, 20, 40, 25, 50, 30]
        src.set(family(20, 1))  # reparented: 40 moves up a level without changing itself
        await press(pilot, "r")
        assert app.table.shown_pids == [1, 10, 25, 50, 20, 40, 30]
        assert app.table.get_row("40")[command].plain == "  └ c40"
        await press(pilot, "I")
        assert app.table.shown_pids == [1, 30, 20, 40, 10, 25, 50]
        assert app.table.selected_pid == 40
        await press(pilot, "T")
        assert app.table.shown_pids == [50, 40, 30, 25, 20, 10, 1]
        assert app.table.get_row("40")[command].plain == "c40"


async def test_follow() -> None:
    app, src, _ = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.table.select_pid(2048)
        await press(pilot, "F")
        assert app.following == 2048 and "following 2048" in status(app)
        await press(pilot, "up", "up")
        await press(pilot, "r")
        assert app.table.selected_pid == 2048
        src.remove(2048)
        await press(pilot, "r")
        assert app.following is None
        assert any("Followed process 2048 has exited" in n for n in notes(app))


async def test_mouse_sorts_and_selects() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.table
        # Header row is y=0 in the table; COMMAND starts after PID and USER.
        await pilot.click("#table", offset=(22, 0))
        await settle(pilot)
        assert table.sort_column == "command"
        await pilot.click("#table", offset=(22, 0))
        await settle(pilot)
        assert table.sort_reverse
        await pilot.click("#table", offset=(3, 4))
        await settle(pilot)
        assert table.cursor_row == 3
        assert table.selected_pid == table.shown_pids[3]


async def test_quit() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_narrow_terminal_stacks_panels() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.has_class("-narrow")
        table, side = app.table.region, app.query_one("#side").region
        assert side.y >= table.bottom and table.width == 80


async def test_home_and_end_move_the_cursor() -> None:
    app, src, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "end")
        assert app.table.cursor_row == app.table.row_count - 1
        assert app.table.selected_pid == max(src.procs)
        await press(pilot, "home")
        assert app.table.cursor_row == 0
        assert app.table.selected_pid == min(src.procs)


async def test_notifications_are_not_hidden_by_the_filter_box() -> None:
    from textual.widgets._toast import Toast

    app, _, _ = fake_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "slash", *"zzz")
        app.notify("the reason line of a refusal", title="Move refused", severity="error")
        await settle(pilot)
        box = app.query_one("#filter", Input).region
        toasts = list(app.screen.query(Toast))
        assert toasts, "no notification shown"
        for toast in toasts:
            assert not toast.region.overlaps(box), (toast.region, box)
        await press(pilot, "escape")
        assert not app.screen.has_class("-filtering")


@pytest.mark.parametrize("read_only", [False, True])
async def test_read_only_footer_offers_no_move_or_type(read_only: bool) -> None:
    from textual.widgets import Footer

    app, _, _ = fake_app(read_only=read_only)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        shown = {
            b.action
            for _, b, enabled, _ in app.screen.active_bindings.values()
            if b.show and enabled
        }
        footer = app.query_one(Footer)
        assert footer.display
        assert ("move" in shown) is (not read_only)
        assert ("switch_type" in shown) is (not read_only)
        assert "quit" in shown and "help" in shown


@pytest.mark.parametrize("read_only", [False, True])
async def test_footer_at_80_columns_shows_help_and_quit(read_only: bool) -> None:
    """Issue 15: at 80x24 the footer shows `? Help` and `q Quit` whole."""
    from textual.widgets._footer import FooterKey

    app, _, _ = fake_app(read_only=read_only)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = {k.action: k for k in app.screen.query(FooterKey)}
        for action, text in (("help", "? Help"), ("quit", "q Quit"), ("sort_menu", "F6 Sort")):
            k = keys[action]
            assert f"{k.key_display} {k.description}" == text
            assert k.region.width > 0 and k.region.right <= 80, (action, k.region)


@pytest.mark.parametrize("key", ["m", "t"])
async def test_dialogs_fit_80x24(key: str) -> None:
    """Issue 15: at 80x24 the move and switch dialogs show their Confirm and
    Cancel buttons whole, with the plan scrolled inside the dialog."""
    app, _, _ = fake_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.table.select_pid(1311 if key == "t" else 1203)
        await press(pilot, key)
        dialog = app.screen
        assert isinstance(dialog, RemapDialog)
        screen = dialog.region
        for bid in ("#remap-confirm", "#remap-cancel", "#remap-addr"):
            region = dialog.query_one(bid).region
            assert region.height > 0 and screen.contains_region(region), (bid, region)
        box = dialog.query_one("#remap-box")
        assert box.region.bottom <= 24 and box.region.right <= 80


async def test_pid_and_base_visible_at_60_columns() -> None:
    """Issue 15: at 60 columns, unscrolled, the PID and BASE columns are
    whole on screen, and at 80 STATE is too."""
    for width, keys in ((60, ("pid", "base")), (80, ("pid", "base", "state"))):
        app, _, _ = fake_app()
        async with app.run_test(size=(width, 24)) as pilot:
            await settle(pilot)
            t = app.table
            right = 0
            ends: dict[str, int] = {}
            for key, col in t.columns.items():
                right += col.get_render_width(t)
                ends[str(key.value)] = right
            for key in keys:
                assert ends[key] <= t.scrollable_content_region.width, (width, key, ends)


async def test_detail_pane_fits_its_content_at_160_and_resizes() -> None:
    """Issue 15: at 160 columns the detail pane shows 64-bit ranges and
    [vvar_vclock] whole; ] and [ let the operator resize it."""
    app, _, _ = fake_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        app.table.select_pid(1203)
        await settle(pilot)
        pane = app.query_one(DetailPane)
        width = pane.scrollable_content_region.width
        console = Console(width=width, record=True, file=io.StringIO())
        console.print(app.query_one("#detail-body", Static).content)
        shown = console.export_text()
        assert "…" not in shown, shown
        block = app.table.procs[1203].block
        assert block is not None
        m = block.mappings[-1]
        assert f"{m.start:#x}-{m.end:#x}" in shown and "[vvar_vclock]" in shown
        side = app.query_one("#side")
        before = side.size.width
        await press(pilot, "right_square_bracket")
        assert side.size.width == before + 4
        await press(pilot, "left_square_bracket", "left_square_bracket")
        assert side.size.width == before - 4
        for _ in range(40):
            await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.table.size.width >= 30
