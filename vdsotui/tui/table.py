"""The process table: one row per process, updated incrementally.

A refresh touches only the rows the scan reports as added, changed or
removed, updates only the cells whose text or style changed, sorts at most
once and puts the cursor back on the process it was on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, Column, ColumnKey, DuplicateKey, Row, RowKey

from vdsotui.model import ProcessVdso
from vdsotui.tui import columns as cols
from vdsotui.tui.filtering import Filter

_ALL_KEYS = cols.COLUMN_KEYS
_DRAWN_CELLS_MAX = 8192  # a few screens of cells in every cursor/hover state
_JUSTIFY = {c.key: c.justify for c in cols.COLUMNS}


SegmentLines = list[list[Segment]]


@dataclass(frozen=True, slots=True)
class ApplyStats:
    """What one refresh did to the table (the benchmark prints these)."""

    added: int
    updated_cells: int
    removed: int
    sorted: bool


class ProcessTable(DataTable[Text]):
    """DataTable keyed by pid (`str(pid)`), showing the processes that pass the filter."""

    # Home and End move the cursor to the first and last row, as in htop and
    # as the help screen says; DataTable's own Home/End scroll sideways.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, cell_padding=1)
        self.procs: dict[int, ProcessVdso] = {}
        self.tags: set[int] = set()
        self.row_filter: Filter | None = None
        self.sort_column = "pid"
        self.sort_reverse = False
        self.tree_view = False
        self._depth: dict[int, int] = {}
        self._rank: dict[int, int] = {}
        # What each shown row currently displays, to update only what changed.
        self._shown: dict[int, tuple[cols.Cell, ...]] = {}
        self._cells_drawn: dict[tuple[object, ...], tuple[object, SegmentLines]] = {}

    def on_mount(self) -> None:
        for c in cols.COLUMNS:
            self.add_column(self._header(c.key), width=c.width, key=c.key)

    # -- queries ------------------------------------------------------------

    @property
    def selected_pid(self) -> int | None:
        if self.row_count == 0:
            return None
        key = self._row_locations.get_key(self.cursor_row)
        return int(key.value) if key is not None and key.value is not None else None

    @property
    def shown_pids(self) -> list[int]:
        """Shown pids in display order."""
        order = sorted(self._row_locations._forward.items(), key=lambda kv: kv[1])
        return [int(k.value) for k, _ in order if k.value is not None]

    def is_shown(self, pid: int) -> bool:
        return pid in self._shown

    # -- updates ------------------------------------------------------------

    def apply(
        self,
        processes: Mapping[int, ProcessVdso],
        added: Iterable[int],
        changed: Iterable[int],
        removed: Iterable[int],
    ) -> ApplyStats:
        """Bring the table in line with a scan, touching only what changed."""
        keep = self.selected_pid
        keep_index = self.cursor_row
        old = self.procs
        self.procs = dict(processes)
        self.tags &= self.procs.keys()
        added, changed, removed = tuple(added), tuple(changed), tuple(removed)
        drop: list[int] = []
        new: list[int] = []
        updated = 0
        need_sort = False
        reshaped = self.tree_view and (
            bool(added or removed)
            or any(
                pid in old and old[pid].ppid != self.procs[pid].ppid
                for pid in changed
                if pid in self.procs
            )
        )
        if reshaped:
            self._compute_tree()
        for pid in removed:
            if pid in self._shown:
                drop.append(pid)
        for pid in (*added, *changed):
            p = self.procs.get(pid)
            if p is None:
                if pid in self._shown:
                    drop.append(pid)
                continue
            wanted = self.row_filter is None or self.row_filter(p)
            if pid not in self._shown:
                if wanted:
                    new.append(pid)
                continue
            if not wanted:
                drop.append(pid)
                continue
            n, moved_in_sort = self._update_row(p)
            updated += n
            need_sort = need_sort or moved_in_sort
        self._remove_rows(drop)
        self._add_rows([self.procs[pid] for pid in new])
        if new:
            need_sort = True
        if self.tree_view and (reshaped or need_sort):
            # A new parent, an exit or a re-sort among siblings can move
            # whole subtrees and change indentation of rows not in the scan.
            self._compute_tree()
            updated += self._refresh_all_rows()
            need_sort = True
        if need_sort:
            self._sort()
        self._restore_cursor(keep, keep_index)
        return ApplyStats(len(new), updated, len(drop), need_sort)

    def set_tree(self, on: bool) -> None:
        """Order rows by parent (children under their parent, siblings by the sort column)."""
        keep = self.selected_pid
        self.tree_view = on
        if on:
            self._compute_tree()
        self._refresh_all_rows()
        self._sort()
        self._restore_cursor(keep, self.cursor_row)

    def rebuild(self) -> None:
        """Re-apply the filter to every known process (after the filter changed)."""
        keep = self.selected_pid
        keep_index = self.cursor_row
        wanted = {
            pid for pid, p in self.procs.items() if self.row_filter is None or self.row_filter(p)
        }
        self._remove_rows([pid for pid in self._shown if pid not in wanted])
        added = [pid for pid in wanted if pid not in self._shown]
        self._add_rows([self.procs[pid] for pid in added])
        if added:
            self._sort()
        self._restore_cursor(keep, keep_index)

    def set_filter(self, row_filter: Filter | None) -> None:
        self.row_filter = row_filter
        self.rebuild()

    def set_sort(self, column: str, reverse: bool) -> None:
        keep = self.selected_pid
        old = self.sort_column
        self.sort_column = column
        self.sort_reverse = reverse
        for key in {old, column}:
            self.columns[ColumnKey(key)].label = self._header(key)
        if self.tree_view:
            self._compute_tree()
        self._sort()
        self._restore_cursor(keep, self.cursor_row)
        self.refresh()

    def toggle_tag(self, pid: int) -> bool:
        """Tag or untag; returns whether `pid` is tagged now."""
        if pid in self.tags:
            self.tags.discard(pid)
        elif pid in self.procs:
            self.tags.add(pid)
        p = self.procs.get(pid)
        if p is not None and pid in self._shown:
            self._update_row(p)
        return pid in self.tags

    def untag_all(self) -> int:
        old = list(self.tags)
        self.tags.clear()
        for pid in old:
            p = self.procs.get(pid)
            if p is not None and pid in self._shown:
                self._update_row(p)
        return len(old)

    def select_pid(self, pid: int) -> bool:
        key = RowKey(str(pid))
        index = self._row_locations.get(key)
        if index is None:
            return False
        self.move_cursor(row=index)
        return True

    # -- internals ---------------------------------------------------------

    @property
    def ordered_columns(self) -> list[Column]:
        # Columns never move after mount; DataTable rebuilds this list for
        # every row it renders, which dominates drawing a 5,000-row table.
        cached: list[Column] | None = getattr(self, "_columns_cache", None)
        if cached is None or len(cached) != len(self.columns):
            cached = super().ordered_columns
            self._columns_cache = cached
        return cached

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        # DataTable keys its cell cache on a counter bumped by every update,
        # so one changed cell anywhere re-renders every visible cell. Here a
        # rendering stays valid while its cell object, place and look do.
        if row_index < 0 or column_index < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cell = self._data[row_key][column_key]
        key = (
            row_key,
            column_key,
            row_index,
            base_style,
            width,
            cursor,
            hover,
            self._show_hover_cursor,
            self._pseudo_class_state,
        )
        hit = self._cells_drawn.get(key)
        if hit is not None and hit[0] is cell:
            return hit[1]
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if len(self._cells_drawn) >= _DRAWN_CELLS_MAX:
            self._cells_drawn.clear()
        # The cell itself is kept so that its identity cannot be reused.
        self._cells_drawn[key] = (cell, lines)
        return lines

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Every column has a fixed width and every row is one line, so the
        # per-cell measuring DataTable does here (seconds for 5,000 new rows)
        # cannot change anything: only the virtual size needs updating.
        width = sum(c.get_render_width(self) for c in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            width + self._row_label_column_width, self._total_row_height + header
        )

    def _header(self, key: str) -> Text:
        c = cols.column(key)
        if key != self.sort_column:
            return Text(c.label, justify=c.justify)  # type: ignore[arg-type]
        arrow = "▼" if self.sort_reverse else "▲"
        return Text(f"{c.label}{arrow}", style="bold underline", justify=c.justify)  # type: ignore[arg-type]

    def _add_rows(self, procs: list[ProcessVdso]) -> None:
        """Append many one-line rows at once.

        DataTable.add_row re-validates the cursor (a reactive with watchers)
        for every row, most of the cost of filling 5,000 rows; this does the
        same bookkeeping per row and touches the cursor once at the end.
        """
        if not procs:
            return
        was_empty = self.row_count == 0
        ordered = self.ordered_columns
        for p in procs:
            cells = self._cells(p)
            self._shown[p.pid] = cells
            row_key = RowKey(str(p.pid))
            if row_key in self._row_locations:
                raise DuplicateKey(f"row {p.pid} is already shown")
            self._row_locations[row_key] = len(self._row_locations)
            self._data[row_key] = {
                column.key: cols.render(cell, _JUSTIFY[key])
                for column, key, cell in zip(ordered, _ALL_KEYS, cells, strict=True)
            }
            self.rows[row_key] = Row(row_key, 1, None, False)
            self._new_rows.add(row_key)
        self._require_update_dimensions = True
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self.check_idle()

    def _update_row(self, p: ProcessVdso) -> tuple[int, bool]:
        """Update the cells that changed; returns (cells updated, sort column changed)."""
        old = self._shown[p.pid]
        cells = self._cells(p)
        if cells == old:
            return 0, False
        self._shown[p.pid] = cells
        n = 0
        row_key = str(p.pid)
        sort_moved = False
        for key, before, after in zip(_ALL_KEYS, old, cells, strict=True):
            if before != after:
                self.update_cell(row_key, key, cols.render(after, _JUSTIFY[key]))
                n += 1
                if key == self.sort_column:
                    sort_moved = True
        return n, sort_moved

    def _remove_rows(self, pids: list[int]) -> None:
        """Remove many rows in one pass (DataTable.remove_row is O(rows) each)."""
        if not pids:
            return
        doomed = {RowKey(str(pid)) for pid in pids}
        for pid in pids:
            self._shown.pop(pid, None)
        survivors = sorted(
            (
                (index, key)
                for key, index in self._row_locations._forward.items()
                if key not in doomed
            ),
        )
        self._row_locations = TwoWayDict({key: i for i, (_, key) in enumerate(survivors)})
        for key in doomed:
            row_data = self._data.pop(key, None)
            if row_data is not None:
                for column_key in row_data:
                    self._updated_cells.discard(CellKey(key, column_key))
            self.rows.pop(key, None)
            self._new_rows.discard(key)
        self._require_update_dimensions = True
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self.refresh(layout=True)

    def _cells(self, p: ProcessVdso) -> tuple[cols.Cell, ...]:
        depth = self._depth.get(p.pid, 0) if self.tree_view else None
        return cols.row_cells(p, p.pid in self.tags, depth)

    def _refresh_all_rows(self) -> int:
        n = 0
        for pid in list(self._shown):
            n += self._update_row(self.procs[pid])[0]
        return n

    def _compute_tree(self) -> None:
        """Depth-first order over parents; siblings ordered by the sort column."""
        procs = self.procs
        fn = cols.sort_key(self.sort_column)
        children: dict[int, list[ProcessVdso]] = {}
        roots: list[ProcessVdso] = []
        for p in procs.values():
            if p.ppid in procs and p.ppid != p.pid:
                children.setdefault(p.ppid, []).append(p)
            else:
                roots.append(p)
        rank: dict[int, int] = {}
        depth: dict[int, int] = {}
        stack = [(p, 0) for p in sorted(roots, key=fn, reverse=not self.sort_reverse)]
        while stack:
            p, d = stack.pop()
            if p.pid in rank:
                continue  # a parent loop cannot happen in Linux; never spin on one
            rank[p.pid] = len(rank)
            depth[p.pid] = d
            kids = sorted(children.get(p.pid, ()), key=fn, reverse=not self.sort_reverse)
            stack.extend((k, d + 1) for k in kids)
        self._rank, self._depth = rank, depth

    def _sort(self) -> None:
        if self.tree_view:
            rank = self._rank

            def tree_key(pid_cell: Text) -> int:
                return rank.get(int(pid_cell.plain.lstrip(cols.TAG_MARK)), len(rank))

            self.sort("pid", key=tree_key)
            return
        fn = cols.sort_key(self.sort_column)
        procs = self.procs

        def key(pid_cell: Text) -> object:
            return fn(procs[int(pid_cell.plain.lstrip(cols.TAG_MARK))])

        self.sort("pid", key=key, reverse=self.sort_reverse)

    def _restore_cursor(self, pid: int | None, index: int) -> None:
        if self.row_count == 0:
            return
        if pid is not None and self.select_pid(pid):
            return
        # The process vanished or was filtered out: stay at the same place.
        self.move_cursor(row=min(max(index, 0), self.row_count - 1))
