"""Every proxy a live move left is found by its mark, wherever it is.

Moved three times and then back to its first base, a process has its
proxies at none of the two addresses the scanner used to look at (its base
and its auxv base): the helper's `show` and the scanner must agree on all
of them.
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path

from subjectlib import Subject

from vdsotui.model import ProcessVdso
from vdsotui.procfs import ProcSource
from vdsotui.tui.columns import column

HELPER = Path(__file__).resolve().parents[2] / "helper" / "build" / "vdso-helper"


@functools.cache
def _built() -> None:
    subprocess.run(["make", "-s", "-C", str(HELPER.parent.parent)], check=True)


def helper(*args: str) -> dict[str, object]:
    _built()
    proc = subprocess.run([str(HELPER), *args, "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out: dict[str, object] = json.loads(proc.stdout)
    return out


def scanned(pid: int) -> ProcessVdso:
    source = ProcSource(list_pids=lambda: [pid])
    return source.scan().processes[pid]


def base_of(out: dict[str, object]) -> int:
    to = out["to"]
    assert isinstance(to, dict)
    return int(to["base"], 16)


def test_three_moves_and_back_every_proxy_is_shown() -> None:
    with Subject.spawn("subject-x86_64", "--threads", "2") as s:
        s.wait_ready()
        home = scanned(s.pid).base
        assert home is not None
        bases = [home]
        for _ in range(3):
            bases.append(base_of(helper("remap", "--pid", str(s.pid), "--auto")))
            s.assert_healthy(min_progress=50)
        back = helper("remap", "--pid", str(s.pid), "--addr", hex(home))
        assert base_of(back) == home
        s.assert_healthy(min_progress=50)

        shown = helper("show", "--pid", str(s.pid))
        proxies = shown["proxies"]
        assert isinstance(proxies, list)
        want = sorted(int(p["base"], 16) for p in proxies)
        assert len(want) == 3, shown
        # They sit where the moves left the block, not at the base it is at now.
        assert set(want) == set(bases[1:]) - {home}

        p = scanned(s.pid)
        assert p.base == home and not p.moved
        assert sorted(p.proxy_bases) == want
        assert p.proxy
        assert p.to_json()["proxy_bases"] == [hex(b) for b in want]
        assert column("proxies").cell(p)[0] == "3"


def test_a_process_never_moved_has_no_proxy_column_count() -> None:
    with Subject.spawn("subject-x86_64") as s:
        s.wait_ready()
        p = scanned(s.pid)
        assert p.proxy_bases == ()
        assert column("proxies").cell(p)[0] == "0"
