"""The vdsotui Textual application.

The data source and the helper client are injected: the CLI passes
`ProcSource()` and `HelperClient.find(...)`, tests pass fakes.  Scans run in
a worker, one at a time; the next one is armed only when the last finished.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input

from vdsotui.actionlog import ActionLog, Entry, data_dir
from vdsotui.actionlog import now as log_time
from vdsotui.helper_client import (
    HelperClient,
    HelperError,
    HelperStatus,
    RemapRequest,
    ShowResult,
)
from vdsotui.interval import MAX_INTERVAL, parse_interval
from vdsotui.model import KernelFacts, ProcessVdso, VdsoType, Visibility
from vdsotui.source import DataSource, ScanResult
from vdsotui.tui import columns as cols
from vdsotui.tui import keymap
from vdsotui.tui.dialogs import (
    ConfirmedRemap,
    ExportDialog,
    IntervalDialog,
    RemapDialog,
    RetryDialog,
    sort_dialog,
    user_dialog,
)
from vdsotui.tui.explain import explain_error, summarize_result
from vdsotui.tui.filtering import Filter, FilterError
from vdsotui.tui.filtering import parse as parse_filter
from vdsotui.tui.help import HelpScreen
from vdsotui.tui.logscreen import LogScreen
from vdsotui.tui.panels import (
    Detail,
    DetailPane,
    FactsBar,
    LayoutsPanel,
    StatusFacts,
    StatusLine,
)
from vdsotui.tui.table import ApplyStats, ProcessTable

EXPORT_NAME = "export.json"  # in the XDG data directory unless the user says otherwise
# A target that dies this soon after a move or switch most likely died of it.
WATCH_SECONDS = 5.0
WATCH_SCANS = (0.5, 1.5, 3.0, WATCH_SECONDS)  # extra scans that look for it
_ACTING = frozenset({"move", "switch_type"})  # actions that change a process
DETAIL_SETTLE = 0.05  # seconds the cursor must rest before the detail is read
SIDE_STEP = 4  # columns per [ or ]
SIDE_MIN = 24
TABLE_MIN = 30
# When a scan and its redraw take longer than the interval, the next one
# waits this many times as long: the console then spends at most half its
# time scanning and keys are still answered.
BACKOFF = 2.0


@dataclass(frozen=True, slots=True)
class Watched:
    """A target acted on a moment ago, watched for its death."""

    command: str
    what: str  # "Move" or "Switch type"
    request: RemapRequest
    since: float  # time.monotonic() of the action


class VdsoApp(App[None]):
    CSS_PATH = "vdsotui.tcss"
    TITLE = "vdsotui"
    BINDINGS = keymap.bindings()
    # -xwide: room for the detail pane's 64-bit ranges beside PID..VVAR.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide"), (150, "-xwide")]  # noqa: RUF012
    # 24 rows: dialogs go compact (see .-short in the stylesheet).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012

    def __init__(
        self,
        source: DataSource,
        helper: HelperClient | None = None,
        read_only: bool = False,
        interval: float = 2.0,
        *,
        live: bool = True,
        export_path: str | None = None,
        show_kthreads: bool = False,
        action_log: ActionLog | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.helper = helper
        self.read_only = read_only
        self.interval = interval
        self.live = live
        self.export_path = export_path or str(data_dir() / EXPORT_NAME)
        self.action_log = action_log if action_log is not None else ActionLog()
        self._log_error_shown = False
        self.paused = False
        self.facts: KernelFacts | None = None
        self.helper_status: HelperStatus | None = None
        self.layouts_note: str | None = None
        self.scan_count = 0
        self.last_scan: ScanResult | None = None
        self.last_apply: ApplyStats | None = None
        self.following: int | None = None
        self.filter_error: str | None = None
        # What the table shows: the typed filter and the htop-like toggles.
        self.text_filter: Filter | None = None
        self.show_kthreads = show_kthreads
        self.vdso_only = False
        self.only_user: str | None = None
        self.scan_errors = 0
        self._scanning = False
        self._rescan_wanted = False
        self._timer: Timer | None = None
        self.scan_busy: float | None = None  # seconds the last scan and redraw took
        self.next_delay = interval  # what the refresh timer waits, backed off or not
        self._detail_pid: int | None = None
        self._watched: dict[int, Watched] = {}
        if read_only:
            # Nothing can be moved or switched: the footer must not offer it
            # (the keys still answer, with the reason).
            k2b = self._bindings.key_to_bindings
            for key, blist in k2b.items():
                k2b[key] = [replace(b, show=False) if b.action in _ACTING else b for b in blist]

    # -- layout -----------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Textual's notify, plain text by default: the messages carry process
        names, paths and the helper's words, none of which is markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def compose(self) -> ComposeResult:
        yield FactsBar(id="facts")
        yield StatusLine(id="status")
        with Horizontal(id="main"):
            yield ProcessTable(id="table")
            with Vertical(id="side"):
                yield DetailPane(id="detail")
                yield LayoutsPanel(id="layouts")
        yield Input(
            placeholder="filter: text 1234 user:NAME mode:i386 state:moved ~regex !not", id="filter"
        )
        yield Input(
            placeholder="search: same words as the filter · F3 next · Enter or Esc closes",
            id="search",
        )
        yield Footer()

    @property
    def table(self) -> ProcessTable:
        return self.query_one("#table", ProcessTable)

    def on_mount(self) -> None:
        self._refilter()
        self.query_one("#filter", Input).display = False
        self.query_one("#search", Input).display = False
        self.query_one(DetailPane).border_title = "detail"
        self.query_one(LayoutsPanel).border_title = "layouts (vdso_info)"
        self.table.focus()
        self._show_facts()
        self._show_status()
        self.query_one(LayoutsPanel).show_layouts(None, "reading layouts…")
        self.load_facts()
        self.request_scan()

    # -- kernel facts and helper state ------------------------------------

    @work(group="facts", exit_on_error=False)
    async def load_facts(self) -> None:
        try:
            release = await asyncio.to_thread(self.source.kernel_release)
        except OSError as exc:
            release = f"unknown ({exc.strerror})"
        helper = self.helper
        status = await asyncio.to_thread(helper.status) if helper is not None else None
        self.helper_status = status
        facts = KernelFacts(release=release, has_syscalls=None)
        note: str | None = None
        if helper is None:
            note = (
                "no vdso-helper found (--helper, $VDSOTUI_HELPER, PATH, helper/build): "
                "layouts unknown, moves unavailable"
            )
        elif status is not None and not status.runnable:
            note = f"helper unusable: {status.problem}"
        else:
            try:
                info = await asyncio.to_thread(helper.info)
                facts = info.kernel_facts(release)
            except HelperError as exc:
                note = "layouts unknown: " + explain_error(exc)
        self.facts = facts
        self.layouts_note = note
        self._show_facts()
        self.query_one(LayoutsPanel).show_layouts(facts, note)

    def _show_facts(self) -> None:
        self.query_one(FactsBar).show_facts(
            self.facts, self.helper_status, self.read_only, has_helper=self.helper is not None
        )

    def _show_status(self) -> None:
        t = self.table
        label = cols.column(t.sort_column).label + ("▼" if t.sort_reverse else "▲")
        if t.tree_view:
            label = f"tree, siblings by {label}"
        self.query_one(StatusLine).show_status(
            StatusFacts(
                total=len(t.procs),
                shown=t.row_count,
                tagged=len(t.tags),
                sort_label=label,
                filter_text=self.text_filter.text if self.text_filter else None,
                view=self._view_words(),
                filter_error=self.filter_error,
                paused=self.paused,
                live=self.live,
                interval=self.interval,
                following=self.following,
                scan_seconds=self.last_scan.seconds if self.last_scan else None,
                slowed_to=self._slowed_to(),
            )
        )

    def _slowed_to(self) -> tuple[float, float] | None:
        """(scan seconds, delay) while refresh is backed off, else None."""
        delay = self._refresh_delay()
        if self.scan_busy is None or delay == self.interval:
            return None
        return (self.scan_busy, delay)

    def _view_words(self) -> str:
        """What the toggles hide, for the status line ("" when nothing is)."""
        words = []
        if self.only_user is not None:
            words.append(f"user {self.only_user}")
        if self.vdso_only:
            words.append("vdso only")
        if not self.show_kthreads:
            n = sum(p.visibility is Visibility.KERNEL_THREAD for p in self.table.procs.values())
            if n:
                words.append(f"{n} kthread{'s' if n != 1 else ''} hidden")
        return " · ".join(words)

    def _refilter(self) -> None:
        """Give the table one filter: the toggles and the typed filter."""
        tests: list[Callable[[ProcessVdso], bool]] = []
        if not self.show_kthreads:
            tests.append(lambda p: p.visibility is not Visibility.KERNEL_THREAD)
        if self.vdso_only:
            tests.append(lambda p: p.base is not None)
        user = self.only_user
        if user is not None:
            tests.append(lambda p: p.user == user)
        if self.text_filter is not None:
            tests.append(self.text_filter)
        combined = None
        if tests:
            text = self.text_filter.text if self.text_filter else ""
            combined = Filter(text, lambda p: all(t(p) for t in tests))
        with self.batch_update():
            self.table.set_filter(combined)
        self._show_status()

    # -- scanning ---------------------------------------------------------

    def request_scan(self) -> None:
        """Scan now, or right after the running scan: scans never overlap."""
        if self._scanning:
            self._rescan_wanted = True
            return
        self._scanning = True
        self._stop_timer()
        self.run_worker(self._scan(), group="scan", exit_on_error=False)

    async def _scan(self) -> None:
        started = time.monotonic()
        try:
            result = await asyncio.to_thread(self.source.scan)
        except Exception as exc:
            self.scan_errors += 1
            self.notify(f"Scan failed: {exc}", title="Refresh", severity="error")
        else:
            self._apply(result)
            self.scan_busy = time.monotonic() - started
            self._show_status()
        finally:
            self._scanning = False
            if self._rescan_wanted:
                self._rescan_wanted = False
                self.request_scan()
            else:
                self._arm_timer()

    def _apply(self, result: ScanResult) -> None:
        table = self.table
        with self.batch_update():
            if self.scan_count == 0 or (table.row_count == 0 and not table.procs):
                self.last_apply = table.apply(result.processes, result.processes.keys(), (), ())
            else:
                self.last_apply = table.apply(
                    result.processes, result.added, result.changed, result.removed
                )
            self.last_scan = result
            self.scan_count += 1
            if self.following is not None:
                if self.following not in result.processes:
                    self.notify(
                        f"Followed process {self.following} has exited.",
                        title="Follow",
                        severity="warning",
                    )
                    self.following = None
                else:
                    table.select_pid(self.following)
            self._show_status()
        self._check_watched(result)
        pid = table.selected_pid
        if pid is not None and (pid != self._detail_pid or pid in result.changed):
            self._load_detail(pid)

    def _refresh_delay(self) -> float:
        """The interval, or more while scans take longer than it."""
        busy = self.scan_busy
        if busy is None or busy <= self.interval:
            return self.interval
        return min(BACKOFF * busy, MAX_INTERVAL)

    def _arm_timer(self) -> None:
        self._stop_timer()
        self.next_delay = self._refresh_delay()
        if self.live and not self.paused:
            self._timer = self.set_timer(self.next_delay, self.request_scan)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    # -- detail -----------------------------------------------------------

    @on(DataTable.RowHighlighted, "#table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        pid = self.table.selected_pid
        if pid is not None and pid != self._detail_pid:
            self._load_detail(pid)

    @on(DataTable.RowSelected, "#table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        # Enter (or a click on the selected row) brings the detail pane back.
        pane = self.query_one(DetailPane)
        if not pane.display:
            self.action_toggle_detail()

    def _load_detail(self, pid: int) -> None:
        self._detail_pid = pid
        if not self.query_one(DetailPane).display:
            return
        self.run_worker(self._read_detail(pid), group="detail", exclusive=True, exit_on_error=False)

    async def _read_detail(self, pid: int) -> None:
        # While an arrow key is held the cursor passes many rows; each new
        # one cancels this worker here, before the helper is run for it.
        await asyncio.sleep(DETAIL_SETTLE)
        proc = self.table.procs.get(pid)
        pane = self.query_one(DetailPane)
        if proc is None:
            pane.show_detail(None)
            return
        image = auxv = show = None
        show_error: str | None = None
        image_error: str | None = None
        if proc.visible:
            try:
                auxv = await asyncio.to_thread(self.source.auxv, pid)
                image = await asyncio.to_thread(self.source.image_facts, pid)
            except OSError as exc:
                image_error = f"cannot read: {exc.strerror}"
            except Exception as exc:  # a malformed image is shown, not fatal
                image_error = f"cannot parse the vdso image: {exc}"
        helper = self.helper
        if helper is None:
            show_error = "threads unknown: no vdso-helper"
        elif self.helper_status is not None and not self.helper_status.runnable:
            show_error = f"threads unknown: {self.helper_status.problem}"
        elif proc.visible:
            try:
                show = await asyncio.to_thread(helper.show, pid)
            except HelperError as exc:
                show_error = "threads unknown: " + explain_error(exc)
        await asyncio.to_thread(self._check_helper)
        if self.table.selected_pid != pid:
            return  # the cursor moved on while we were reading
        pane.show_detail(
            Detail(proc, image, auxv, show, show_error, self._verdict(proc, show), image_error)
        )

    def _verdict(self, proc: ProcessVdso, show: ShowResult | None) -> str:
        problem = self._why_no_action()
        if problem:
            return problem
        why = self._target_problem(proc)
        if why:
            return f"cannot act: {why}"
        if show is not None:
            allowed = "allowed" if show.policy.allowed else "refused"
            return f"helper policy: {allowed} ({show.policy.reason})"
        return "helper policy: unknown until the helper is asked (m shows the plan)"

    # -- actions: view ----------------------------------------------------

    def action_toggle_detail(self) -> None:
        pane = self.query_one(DetailPane)
        pane.display = not pane.display
        self._side_display()
        if pane.display and self.table.selected_pid is not None:
            self._load_detail(self.table.selected_pid)

    def action_toggle_layouts(self) -> None:
        panel = self.query_one(LayoutsPanel)
        panel.display = not panel.display
        self._side_display()

    def _resize_side(self, step: int) -> None:
        side = self.query_one("#side")
        if self.screen.has_class("-narrow"):
            self.notify("The panes are under the table here: nothing to widen.", title="View")
            return
        # Both panes and the table keep a usable width.
        width = max(SIDE_MIN, min(side.size.width + step, self.size.width - TABLE_MIN))
        side.styles.width = width
        self._show_status()

    def action_widen_side(self) -> None:
        self._resize_side(SIDE_STEP)

    def action_narrow_side(self) -> None:
        self._resize_side(-SIDE_STEP)

    def _side_display(self) -> None:
        side = self.query_one("#side")
        side.display = self.query_one(DetailPane).display or self.query_one(LayoutsPanel).display

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "/" is a priority binding: it must not fire over a dialog or
        # while the user types into any input (the filter box included).
        if action == "filter":
            return len(self.screen_stack) == 1 and not isinstance(self.focused, Input)
        if action == "search":  # F3 in the search box finds the next match
            search = self.query_one("#search", Input)
            return len(self.screen_stack) == 1 and (
                not isinstance(self.focused, Input) or self.focused is search
            )
        return True

    def _show_filter_box(self, shown: bool) -> None:
        # Notifications move up above the box while it is shown: a refusal's
        # reason must be readable without closing the filter first.
        self.query_one("#filter", Input).display = shown
        if shown:
            self.query_one("#search", Input).display = False
        self.screen.set_class(shown, "-filtering")

    # -- search (F3): the cursor jumps, no row is hidden -------------------

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        if box.display and box.has_focus:
            self._search(box.value, after_cursor=True)  # F3 again: the next one
            return
        self.query_one("#filter", Input).display = False
        box.display = True
        self.screen.set_class(True, "-filtering")
        self.screen.set_focus(box)

    def _close_search(self) -> None:
        box = self.query_one("#search", Input)
        box.value = ""
        box.display = False
        self.screen.set_class(self.query_one("#filter", Input).display, "-filtering")
        self.table.focus()

    def _search(self, text: str, *, after_cursor: bool) -> None:
        box = self.query_one("#search", Input)
        try:
            match = parse_filter(text)
        except FilterError as exc:
            box.add_class("-invalid")
            box.border_subtitle = str(exc)
            return
        box.border_subtitle = ""
        box.remove_class("-invalid")
        if match is None:
            return
        t = self.table
        order = t.shown_pids
        if not order:
            return
        start = t.cursor_row + (1 if after_cursor else 0)
        for i in range(len(order)):
            pid = order[(start + i) % len(order)]
            if match(t.procs[pid]):
                t.move_cursor(row=(start + i) % len(order))
                return
        box.add_class("-invalid")
        box.border_subtitle = "no row matches"

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if event.input.display:
            self._search(event.value, after_cursor=False)

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._close_search()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        self._show_filter_box(True)
        # Focus now, not after the next refresh (Widget.focus): keys typed
        # in the same burst as "/" must go to the box, not to table actions.
        self.screen.set_focus(box)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        self._show_filter_box(False)
        self.filter_error = None
        self.text_filter = None
        self._refilter()
        self.table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        # The value this event carries, never the box's value read later; and
        # a hidden box filters nothing: a Changed still on its way when Esc
        # hid the box must not filter the table behind an empty box.
        self._apply_filter_text(event.value if event.input.display else "")

    def _apply_filter_text(self, text: str) -> None:
        box = self.query_one("#filter", Input)
        try:
            f = parse_filter(text)
        except FilterError as exc:
            self.filter_error = str(exc)
            box.add_class("-invalid")
        else:
            self.filter_error = None
            box.remove_class("-invalid")
            self.text_filter = f
            self._refilter()
        self._show_status()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self._show_filter_box(False)
        self.table.focus()

    def on_key(self, event: Key) -> None:
        # Esc in the filter box clears it (the binding would not see the key).
        if event.key == "escape":
            box = self.query_one("#filter", Input)
            if box.has_focus:
                event.stop()
                self.action_clear_filter()
            elif self.query_one("#search", Input).has_focus:
                event.stop()
                self._close_search()

    def action_toggle_kthreads(self) -> None:
        self.show_kthreads = not self.show_kthreads
        self._refilter()

    def action_toggle_vdso_only(self) -> None:
        self.vdso_only = not self.vdso_only
        self._refilter()

    def action_user_filter(self) -> None:
        counts: dict[str, int] = {}
        for p in self.table.procs.values():
            counts[p.user] = counts.get(p.user, 0) + 1

        def done(user: str | None) -> None:
            if user is None:
                return
            self.only_user = user or None  # ALL_USERS is ""
            self._refilter()

        self.push_screen(user_dialog(counts, self.only_user), done)

    def action_sort_menu(self) -> None:
        def done(key: str | None) -> None:
            if key is not None:
                self._sort_to(key, self.table.sort_reverse)

        self.push_screen(sort_dialog(self.table.sort_column), done)

    def _sort_to(self, column: str, reverse: bool) -> None:
        with self.batch_update():
            self.table.set_sort(column, reverse)
        self._show_status()

    def action_sort_next(self) -> None:
        keys = cols.COLUMN_KEYS
        i = keys.index(self.table.sort_column)
        self._sort_to(keys[(i + 1) % len(keys)], self.table.sort_reverse)

    def action_sort_prev(self) -> None:
        keys = cols.COLUMN_KEYS
        i = keys.index(self.table.sort_column)
        self._sort_to(keys[(i - 1) % len(keys)], self.table.sort_reverse)

    def action_sort_invert(self) -> None:
        self._sort_to(self.table.sort_column, not self.table.sort_reverse)

    @on(DataTable.HeaderSelected, "#table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key not in cols.COLUMN_KEYS:
            return
        reverse = (not self.table.sort_reverse) if key == self.table.sort_column else False
        self._sort_to(key, reverse)

    def action_toggle_tree(self) -> None:
        with self.batch_update():
            self.table.set_tree(not self.table.tree_view)
        self._show_status()

    def action_follow(self) -> None:
        pid = self.table.selected_pid
        if self.following is not None and (pid is None or pid == self.following):
            self.notify(f"Stopped following {self.following}.", title="Follow")
            self.following = None
        elif pid is not None:
            self.following = pid
            self.notify(f"Following {pid}: the cursor stays on it.", title="Follow")
        self._show_status()

    def action_toggle_tag(self) -> None:
        pid = self.table.selected_pid
        if pid is None:
            return
        with self.batch_update():
            self.table.toggle_tag(pid)
            if self.table.cursor_row < self.table.row_count - 1:
                self.table.move_cursor(row=self.table.cursor_row + 1)
        self._show_status()

    def action_untag_all(self) -> None:
        n = self.table.untag_all()
        self.notify(f"Untagged {n} processes." if n else "No process was tagged.", title="Tags")
        self._show_status()

    # -- actions: refresh -------------------------------------------------

    def action_refresh(self) -> None:
        self.request_scan()

    def action_pause(self) -> None:
        if not self.live:
            self.notify("Automatic refresh is off in this session; r rescans.", title="Refresh")
            return
        self.paused = not self.paused
        if self.paused:
            self._stop_timer()
        elif not self._scanning:
            self._arm_timer()
        self.notify("Refresh paused." if self.paused else "Refresh resumed.", title="Refresh")
        self._show_status()

    def action_interval(self) -> None:
        def done(text: str | None) -> None:
            if text is None:
                return
            self.interval = parse_interval(text)
            if not self._scanning:
                self._arm_timer()
            self.notify(f"Refreshing every {self.interval:g} s.", title="Refresh")
            self._show_status()

        self.push_screen(IntervalDialog(self.interval), done)

    # -- actions: other ---------------------------------------------------

    def action_export(self) -> None:
        def done(path: str | None) -> None:
            if path is None:
                return
            self.export_path = path.strip()
            self._export(Path(self.export_path))

        self.push_screen(ExportDialog(self.export_path), done)

    def _export(self, path: Path) -> None:
        t = self.table
        rows = [t.procs[pid].to_json() for pid in t.shown_pids]
        doc = {
            "kernel": self.facts.release if self.facts else None,
            "filter": self.text_filter.text if self.text_filter else None,
            "view": {
                "kernel_threads": self.show_kthreads,
                "vdso_only": self.vdso_only,
                "user": self.only_user,
            },
            # Named as on screen, and by its key (the filter's field names).
            "sort": {
                "column": cols.column(t.sort_column).label,
                "key": t.sort_column,
                "reverse": t.sort_reverse,
            },
            "processes": rows,
        }
        try:
            if path.parent == data_dir():
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(json.dumps(doc, indent=2) + "\n")
        except OSError as exc:
            self.notify(f"Cannot write {path}: {exc.strerror}", title="Export", severity="error")
            return
        self.notify(f"Exported {len(rows)} processes to {path.resolve()}.", title="Export")

    def action_action_log(self) -> None:
        if not isinstance(self.screen, LogScreen):
            self.push_screen(LogScreen(self.action_log))

    def _log_action(
        self,
        pid: int,
        command: str,
        request: RemapRequest,
        result: str,
        *,
        code: str | None = None,
        message: str = "",
        stop_ns: int | None = None,
    ) -> None:
        try:
            options = " ".join(request.options())
        except HelperError as exc:
            options = str(exc)
        problem = self.action_log.append(
            Entry(
                time=log_time(),
                action="switch" if request.vdso_type is not None else "move",
                pid=pid,
                command=command,
                request=options,
                result=result,
                code=code,
                message=message,
                stop_ns=stop_ns,
            )
        )
        if problem and not self._log_error_shown:
            self._log_error_shown = True  # once: the actions themselves go on
            self.notify(problem[0].upper() + problem[1:] + ".", title="Log", severity="warning")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for a in keymap.ACTIONS:
            if a.palette and a.action != "quit":
                yield SystemCommand(
                    f"{a.label}: {a.description}",
                    f"key {a.display_keys}",
                    getattr(self, f"action_{a.action}"),
                )
        for title, help_text, key in keymap.sort_commands():
            yield SystemCommand(title, help_text, functools.partial(self._sort_to, key, False))

    # -- actions: move and switch -----------------------------------------

    def _check_helper(self) -> None:
        """Read the helper's status again: it may have been installed since."""
        if self.helper is not None:
            self.helper_status = self.helper.status()

    def _why_no_action(self) -> str | None:
        """Why no move may be attempted at all, in words; None when it may."""
        if self.read_only:
            return "read-only mode (started with --read-only): moves and type switches are off"
        if self.helper is None:
            return (
                "no vdso-helper found: pass --helper PATH, set $VDSOTUI_HELPER, put it on "
                "PATH or build it with make -C helper"
            )
        status = self.helper_status
        if status is not None and status.problem:
            return f"the helper cannot be used: {status.problem}"
        return None

    @staticmethod
    def _target_problem(p: ProcessVdso) -> str | None:
        if not p.visible:
            return f"{cols.state_words(p)}: there is no vdso of it to act on"
        if p.no_vdso:
            return "it has no vdso mapped"
        return None

    def _targets(self) -> list[ProcessVdso] | None:
        t = self.table
        pids = (
            sorted(t.tags) if t.tags else ([t.selected_pid] if t.selected_pid is not None else [])
        )
        if not pids:
            self.notify("No process selected.", title="Move", severity="warning")
            return None
        good: list[ProcessVdso] = []
        skipped: list[str] = []
        for pid in pids:
            p = t.procs.get(pid)
            if p is None:
                skipped.append(f"{pid}: gone")
                continue
            why = self._target_problem(p)
            if why:
                skipped.append(f"{pid} ({p.command}): {why}")
            else:
                good.append(p)
        if skipped:
            self.notify("Skipped " + "; ".join(skipped), title="Move", severity="warning")
        return good or None

    def _open_remap(self, switch: bool) -> None:
        what = "Switch type" if switch else "Move"
        self._check_helper()
        problem = self._why_no_action()
        if problem:
            self.notify(problem[0].upper() + problem[1:] + ".", title=what, severity="error")
            return
        targets = self._targets()
        if targets is None or self.helper is None:
            return
        types: tuple[VdsoType, ...] = tuple(VdsoType)
        if self.facts is not None and self.facts.layouts:
            types = self.facts.mappable_types
        if switch and len(types) < 2:
            self.notify(
                "This kernel can map only one vdso type: nothing to switch to.",
                title=what,
                severity="error",
            )
            return
        dialog = RemapDialog(self.helper, targets, switch, types)
        self.push_screen(dialog, lambda req: self._remap_confirmed(req, what))

    def action_move(self) -> None:
        self._open_remap(switch=False)

    def action_switch_type(self) -> None:
        self._open_remap(switch=True)

    def _remap_confirmed(self, order: ConfirmedRemap | None, what: str) -> None:
        if order is not None:
            self.run_worker(self._remap(order, what), group="remap", exit_on_error=False)

    async def _remap(self, order: ConfirmedRemap, what: str, *, retry: bool = True) -> None:
        """Run `order`; EBUSY right after a passing plan is offered one retry."""
        helper = self.helper
        if helper is None:
            return
        busy: list[tuple[int, str, HelperError]] = []
        for pid in order.pids:
            command = self.table.procs[pid].command if pid in self.table.procs else ""
            try:
                result = await asyncio.to_thread(helper.run, pid, order.request)
            except Exception as exc:  # every failure becomes a notification
                err = exc if isinstance(exc, HelperError) else HelperError("EIO", repr(exc))
                self._log_action(
                    pid, command, order.request, "refused", code=err.code, message=err.message
                )
                self.notify(
                    f"{pid} ({command}): " + explain_error(err),
                    title=f"{what} refused",
                    severity="error",
                    timeout=15,
                )
                if err.code == "EBUSY" and retry:
                    busy.append((pid, command, err))
                else:
                    self._watch_after(pid, command, what, order.request)
                continue
            summary = summarize_result(result, command)
            self._log_action(
                pid, command, order.request, "done", message=summary, stop_ns=result.stop_ns
            )
            self.notify(summary, title=what, timeout=10)
            self._watch_after(pid, command, what, order.request)
        self.table.untag_all()
        self.request_scan()
        self._arm_watch_scans()
        if busy:
            self._offer_retry(busy, order.request, what)

    def _offer_retry(
        self, busy: list[tuple[int, str, HelperError]], request: RemapRequest, what: str
    ) -> None:
        def done(again: bool | None) -> None:
            pids = tuple(pid for pid, _, _ in busy)
            if again:
                order = ConfirmedRemap(pids, request)
                self.run_worker(
                    self._remap(order, what, retry=False), group="remap", exit_on_error=False
                )
            else:
                for pid, command, _ in busy:
                    self._watch_after(pid, command, what, request)
                self._arm_watch_scans()

        self.push_screen(
            RetryDialog(what, [(pid, cmd, explain_error(e)) for pid, cmd, e in busy]), done
        )

    # -- after an action: did the target survive it? ----------------------

    def _watch_after(self, pid: int, command: str, what: str, request: RemapRequest) -> None:
        """Watch `pid` for WATCH_SECONDS: a death then is reported, not just a
        row that vanishes."""
        self._watched[pid] = Watched(command, what, request, time.monotonic())

    def _arm_watch_scans(self) -> None:
        # Scans that look for the watched targets even when refresh is off.
        if self._watched:
            for delay in WATCH_SCANS:
                self.set_timer(delay, self.request_scan)

    def _check_watched(self, result: ScanResult) -> None:
        now = time.monotonic()
        for pid, w in list(self._watched.items()):
            p = result.processes.get(pid)
            dead = p is None or p.visibility in (Visibility.ZOMBIE, Visibility.GONE)
            if dead:
                why = (
                    " A forced switch gave it a vdso its mode cannot use."
                    if w.request.force
                    else ""
                )
                words = (
                    f"{pid} ({w.command}) exited {now - w.since:.1f} s after its "
                    f"{'type switch' if w.request.vdso_type is not None else 'move'}.{why}"
                )
                self._log_action(pid, w.command, w.request, "died", message=words)
                self.notify(
                    words,
                    title=f"{w.what}: target gone",
                    severity="error",
                    timeout=30,
                )
            if dead or now - w.since > WATCH_SECONDS:
                del self._watched[pid]
