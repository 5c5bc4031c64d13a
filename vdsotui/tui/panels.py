"""Display-only widgets: the facts header, the status line, the detail pane
and the layouts panel.  They are handed data; they never read /proc or run
the helper themselves."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from vdsotui.helper_client import HelperStatus, ShowResult
from vdsotui.model import AuxvVdso, ImageFacts, KernelFacts, ProcessVdso, Symbol
from vdsotui.tui.columns import state_words


def _hex(v: int | None) -> str:
    return f"{v:#x}" if v is not None else "-"


class FactsBar(Static):
    """Header line: kernel release, syscalls, mappable types, helper state."""

    def show_facts(
        self,
        facts: KernelFacts | None,
        helper: HelperStatus | None,
        read_only: bool,
        has_helper: bool = True,
    ) -> None:
        t = Text()
        t.append(" vdsotui ", style="bold reverse")
        if facts is None:
            t.append(" reading kernel facts…")
        else:
            t.append(" kernel ")
            t.append(facts.release, style="bold")
            t.append(" │ syscalls ")
            if facts.has_syscalls is None:
                t.append("unknown", style="dim")
            elif facts.has_syscalls:
                t.append("vdso_get_info/vdso_remap", style="bold green")
            else:
                t.append("no (stock fallbacks)", style="yellow")
            t.append(" │ can map ")
            types = facts.mappable_types
            t.append(
                " ".join(v.label for v in types) if types else "unknown",
                style="bold" if types else "dim",
            )
        t.append(" │ helper ")
        if not has_helper:
            t.append("not found", style="bold red")
        elif helper is None:
            t.append("checking…", style="dim")
        elif helper.problem:
            t.append("unusable" if not helper.runnable else "not setuid", style="bold red")
        else:
            t.append("ready", style="green")
        if read_only:
            t.append(" │ ")
            t.append("READ-ONLY", style="bold yellow")
        self.update(t)


@dataclass(frozen=True, slots=True)
class StatusFacts:
    total: int
    shown: int
    tagged: int
    sort_label: str
    filter_text: str | None
    filter_error: str | None
    view: str  # what the toggles hide ("" when nothing)
    paused: bool
    live: bool
    interval: float
    following: int | None
    scan_seconds: float | None
    slowed_to: tuple[float, float] | None = None  # (scan seconds, delay) when backed off


class StatusLine(Static):
    def show_status(self, s: StatusFacts) -> None:
        t = Text()
        t.append(f" {s.total} processes", style="bold")
        t.append(f" · {s.shown} shown")
        if s.tagged:
            t.append(f" · {s.tagged} tagged", style="bold magenta")
        t.append(f" · sort {s.sort_label}")
        if s.filter_error:
            t.append(f" · filter error: {s.filter_error}", style="bold red")
        elif s.filter_text:
            t.append(" · filter ")
            t.append(s.filter_text, style="bold cyan")
        if s.view:
            t.append(f" · {s.view}", style="cyan")
        if not s.live:
            t.append(" · manual refresh (r)")
        elif s.paused:
            t.append(" · PAUSED", style="bold yellow")
        elif s.slowed_to is not None:
            busy, delay = s.slowed_to
            t.append(
                f" · scans take {busy:.1f} s > every {s.interval:g} s: slowed to {delay:.1f} s",
                style="bold yellow",
            )
        else:
            t.append(f" · every {s.interval:g} s")
        if s.following is not None:
            t.append(f" · following {s.following}", style="bold cyan")
        if s.scan_seconds is not None:
            t.append(f" · scan {s.scan_seconds * 1000:.0f} ms", style="dim")
        self.update(t)


@dataclass(frozen=True, slots=True)
class Detail:
    """Everything the detail pane shows about one process."""

    proc: ProcessVdso
    image: ImageFacts | None
    auxv: AuxvVdso | None
    show: ShowResult | None
    show_error: str | None  # why the helper could not tell threads/policy
    verdict: str  # may the user act on it, in words
    image_error: str | None = None  # why the image or auxv could not be read


def _section(title: str) -> Text:
    return Text(title, style="bold underline")


def detail_renderable(d: Detail) -> RenderableType:
    p = d.proc
    parts: list[RenderableType] = []
    head = Text()
    head.append(f"{p.pid} ", style="bold")
    head.append(p.command, style="bold cyan")
    head.append(f"  {p.user}  ppid {p.ppid}  {p.threads} thr")
    parts.append(head)
    if p.cmdline:
        parts.append(Text(p.cmdline, style="dim"))
    vt = p.vdso_type.label if p.vdso_type is not None else "-"
    summary = Text(f"mode {p.mode.value}  type {vt}  base {_hex(p.base)}  ")
    summary.append(state_words(p), style="yellow" if p.flags else "green")
    parts.append(summary)
    if p.error:
        parts.append(Text(p.error, style="red"))
    if not p.visible:
        parts.append(Text(f"{state_words(p)}: no vdso facts", style="dim"))
    if p.block is not None:
        parts.append(_section("vdso block"))
        maps = Table.grid(padding=(0, 1))
        for m in p.block.mappings:
            maps.add_row(f"{m.start:#x}-{m.end:#x}", f"{m.size // 1024}K", m.perms, Text(m.name))
        parts.append(maps)
    if p.proxy_bases:
        where = " ".join(_hex(b) + (" (CRIU)" if b == p.criu_proxy else "") for b in p.proxy_bases)
        parts.append(Text("proxies at " + where, style="yellow"))
    parts.append(_section("auxv"))
    if d.auxv is None:
        parts.append(Text(d.image_error or "not readable", style="dim"))
    else:
        aux = Text(f"AT_SYSINFO_EHDR {_hex(d.auxv.sysinfo_ehdr)}")
        if d.auxv.sysinfo is not None:
            aux.append(f"  AT_SYSINFO {_hex(d.auxv.sysinfo)}")
        if p.moved:
            aux.append("  (moved since exec)", style="yellow")
        parts.append(aux)
    parts.append(_section("image"))
    if d.image is None:
        parts.append(Text(d.image_error or "not readable", style="dim"))
    else:
        im = d.image
        parts.append(
            Text(
                f"ELF{im.elf_class} {im.machine}  {im.soname or '-'}  {im.size} bytes"
                + ("  proxy mark" if im.proxy_mark else "")
            )
        )
        parts.append(Text(f"build-id {im.build_id or '-'}", style="dim"))
        syms = Table.grid(padding=(0, 1))
        for s in _entry_points(im):
            syms.add_row(f"{s.address:#06x}", Text(s.name), Text(s.version or ""))
        parts.append(syms)
    parts.append(_section("threads"))
    if d.show is None:
        parts.append(Text(d.show_error or "unknown", style="dim"))
    else:
        thr = Table.grid(padding=(0, 1))
        for th in d.show.threads:
            thr.add_row(
                str(th.tid),
                Text(th.state),
                _hex(th.ip),
                Text("in vdso", style="bold red") if th.in_vdso else Text("-"),
                Text(th.where),
            )
        parts.append(thr)
    parts.append(_section("policy"))
    parts.append(Text(d.verdict))
    return Group(*parts)


def _entry_points(im: ImageFacts) -> list[Symbol]:
    """Functions, one name per address: the __vdso_/__kernel_ name over its alias."""
    best: dict[int, Symbol] = {}
    for s in im.symbols:
        if s.kind != "FUNC":
            continue
        old = best.get(s.address)
        if old is None or (s.name.startswith("__") and not old.name.startswith("__")):
            best[s.address] = s
    return [best[a] for a in sorted(best)]


class DetailPane(VerticalScroll):
    """Scrollable detail of the selected process."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("No process selected.", id="detail-body")

    def show_detail(self, d: Detail | None, loading_pid: int | None = None) -> None:
        body = self.query_one("#detail-body", Static)
        if d is None:
            body.update(
                "No process selected." if loading_pid is None else f"Reading {loading_pid}…"
            )
        else:
            body.update(detail_renderable(d))


def layouts_renderable(facts: KernelFacts | None, note: str | None) -> RenderableType:
    table = Table.grid(padding=(0, 1))
    for _ in range(6):
        table.add_column()
    table.add_row(
        *(Text(h, style="bold") for h in ("type", "avail", "source", "before", "after", "align"))
    )
    reasons: list[Text] = []
    if facts is not None:
        for lay in facts.layouts:
            table.add_row(
                lay.vdso_type.label,
                Text("yes", style="green") if lay.available else Text("no", style="red"),
                Text(lay.source),
                _bytes(lay.space_needed_before),
                _bytes(lay.space_needed_after),
                _bytes(lay.alignment),
            )
            if lay.reason:
                reasons.append(Text(f"{lay.vdso_type.label}: {lay.reason}", style="dim"))
    parts: list[RenderableType] = [table, *reasons]
    if note:
        parts.append(Text(note, style="yellow"))
    return Group(*parts)


def _bytes(v: int | None) -> str:
    if v is None:
        return "-"
    return f"{v // 1024}K" if v % 1024 == 0 else str(v)


class LayoutsPanel(Static):
    def show_layouts(self, facts: KernelFacts | None, note: str | None) -> None:
        self.update(layouts_renderable(facts, note))
