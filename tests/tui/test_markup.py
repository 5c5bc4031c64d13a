"""Names from /proc and words from the helper reach the screen as written, never as markup."""

from __future__ import annotations

from textual.widgets import Label, Static

from tui.conftest import fake_app, press, settle
from tui.fakes import FakeSource, demo_processes, make_process
from tui.test_app import SIZE, text_of
from vdsotui.tui.dialogs import RemapDialog
from vdsotui.tui.help import HelpScreen

EVIL = "[bold]x[/bold][red]"


async def test_block_rows_and_a_bracketed_command_are_shown_as_written() -> None:
    procs = [*demo_processes(), make_process(4242, command=EVIL)]
    app, _, _ = fake_app(source=FakeSource(procs))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.table.select_pid(4242)
        await settle(pilot)
        detail = text_of(app.query_one("#detail-body", Static))
        assert f"4242 {EVIL}" in detail, detail
        for name in ("[vvar]", "[vvar_vclock]", "[vdso]"):
            assert name in detail, f"{name} lost from the block rows:\n{detail}"
        await press(pilot, "m")
        assert isinstance(app.screen, RemapDialog)
        title = text_of(app.screen.query_one(".dialog-title", Label))
        assert f"4242 ({EVIL})" in title, title


async def test_help_keeps_bracketed_words() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = text_of(app.screen.query_one("#help-body", Static))
        assert "without a [vdso]" in text, text


async def test_notifications_are_plain_text() -> None:
    app, _, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.notify(f"Exported 3 processes to /tmp/{EVIL}.json.", title="Export")
        await settle(pilot)
        # A toast parses its message as markup exactly when the flag is set.
        (note,) = app._notifications
        assert note.message.endswith(f"/tmp/{EVIL}.json.") and not note.markup
