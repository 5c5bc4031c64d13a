"""The PROCMAP_QUERY path answers what the maps text answers, on every process.

Compared on the whole of this machine's /proc, with subjects of every shape
alive: 64-bit and i386, moved by itself, moved by the helper with a proxy
left behind, one with no [vdso] and one whose block is in two pieces (those
two the query path must hand to the text).
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from subjectlib import Subject
from test_proxies import helper

from vdsotui import procmap, procread
from vdsotui.model import VdsoBlock
from vdsotui.procfs import ProcSource, _own_vvars

RESHAPE = Path(__file__).resolve().parents[1] / "subjects" / "build" / "reshape-x86_64"

Answer = tuple[VdsoBlock | None, tuple[int, ...], bool]


def by_query(pid: int, vvars: int) -> Answer | str:
    query = procmap.MapsQuery()
    with procread.ProcDir(pid) as proc:
        query.open(proc)
    try:
        return query.read_block(vvars)
    except procmap.Split:
        return "split"
    finally:
        query.close()


def by_text(data: bytes) -> Answer:
    return procread.parse_maps_block(data), procread.parse_anon_exec(data), bool(data)


def whole(block: VdsoBlock | None, vvars: int) -> bool:
    """The kernel's whole block: its text, every [vvar*], and no gap between them."""
    if block is None or block.text is None:
        return False
    ms = block.mappings
    return sum(m.name.startswith("[vvar") for m in ms) == vvars and all(
        a.end == b.start for a, b in itertools.pairwise(ms)
    )


@contextmanager
def reshaped(how: str) -> Iterator[int]:
    proc = subprocess.Popen([str(RESHAPE), how], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def every_shape() -> Iterator[dict[str, int]]:
    with ExitStack() as stack:
        pids = {}
        for name in ("subject-x86_64", "subject-i386"):
            subj = stack.enter_context(Subject.spawn(name))
            subj.wait_ready(10)
            pids[name] = subj.pid
        self_moved = stack.enter_context(Subject.spawn("subject-x86_64"))
        self_moved.wait_ready(10)
        self_moved.self_move(timeout=10)
        pids["self-moved"] = self_moved.pid
        proxied = stack.enter_context(Subject.spawn("subject-x86_64"))
        proxied.wait_ready(10)
        helper("remap", "--pid", str(proxied.pid), "--auto")
        helper("remap", "--pid", str(proxied.pid), "--auto")
        pids["proxied"] = proxied.pid
        pids["no-vdso"] = stack.enter_context(reshaped("--no-vdso"))
        pids["split"] = stack.enter_context(reshaped("--split"))
        yield pids


def test_query_equals_text_on_every_process(every_shape: dict[str, int]) -> None:
    vvars = _own_vvars()
    assert vvars >= 1, "this kernel's own block has no [vvar]"
    compared, split = set(), set()
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        try:
            before = procread.read_file(f"/proc/{pid}/maps")
            answer = by_query(pid, vvars)
            after = procread.read_file(f"/proc/{pid}/maps")
        except OSError:
            continue  # gone, or not ours to read: the same for both paths
        if before != after:
            continue  # it changed its mappings meanwhile: nothing to compare
        text = by_text(before)
        if answer == "split":
            assert not whole(text[0], vvars), f"pid {pid}: a whole block handed to the text"
            split.add(pid)
        else:
            assert answer == text, f"pid {pid}: the query and the text disagree"
        compared.add(pid)
    assert set(every_shape.values()) <= compared
    assert {every_shape["no-vdso"], every_shape["split"]} <= split
    assert every_shape["proxied"] not in split
    proxied = by_query(every_shape["proxied"], vvars)
    assert not isinstance(proxied, str) and len(proxied[1]) >= 2  # both proxies' mappings
    assert len(compared) >= 20, f"only {len(compared)} processes compared"


def test_scan_by_query_equals_scan_by_text(every_shape: dict[str, int]) -> None:
    pids = sorted(every_shape.values())
    fast = ProcSource(list_pids=lambda: pids)
    slow = ProcSource(list_pids=lambda: pids)
    slow._vvars = -1  # the text for every process, as without PROCMAP_QUERY
    for _ in range(3):  # cold, then warm rescans
        assert fast.scan().processes == slow.scan().processes
    procs = fast.scan().processes
    assert len(procs[every_shape["proxied"]].proxy_bases) == 2
    assert procs[every_shape["self-moved"]].moved
    assert procs[every_shape["no-vdso"]].no_vdso
    assert procs[every_shape["split"]].block is not None


def test_a_kernel_without_the_query_is_scanned_from_the_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Subject.spawn("subject-x86_64") as subj:
        subj.wait_ready(10)
        expected = ProcSource(list_pids=lambda: [subj.pid]).scan().processes

        def unsupported(*_: object) -> None:
            raise procmap.Unsupported

        monkeypatch.setattr(procmap.MapsQuery, "query", unsupported)
        source = ProcSource(list_pids=lambda: [subj.pid])
        assert source.scan().processes == expected
        assert source._vvars == -1  # asked once, then never again
