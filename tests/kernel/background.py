"""Guest runs started when collection ends, judged when their tests come up.

A TCG guest takes minutes; most of that is waiting on one emulated CPU per
vCPU. The suites here declare their guest runs with `@guest_job`; the
conftest starts every job that a selected test needs as soon as collection
is done, one guest at a time in a background thread, and moves the guest
tests to the end of the session. The host-side suites run meanwhile, and by
the time the guest tests come up their boots are done or nearly so. A test
calls `result(name)` and waits for its job; a job's failure (a build that
does not compile, a guest that does not boot) is raised in every test that
needs it.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

# name -> function(scratch directory) -> whatever its tests judge
_JOBS: dict[str, Callable[[Path], Any]] = {}
_started: dict[str, Future[Any]] = {}
# name -> (seconds after the first job was queued that it started, ended)
_times: dict[str, tuple[float, float]] = {}
_epoch: list[float] = []
_scratches: list[Path] = []
_lock = threading.Lock()
# One guest at a time. Two (the helper job beside the selftest jobs) ended
# `make test` 344 -> 333 s sooner, within the spread between runs, while
# every guest ran slower and the subjects in it starved more.
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guest")


def guest_job(name: str) -> Callable[[Callable[[Path], Any]], Callable[[Path], Any]]:
    """Register FN(scratch) as the background job NAME."""

    def register(fn: Callable[[Path], Any]) -> Callable[[Path], Any]:
        assert name not in _JOBS, f"guest job {name} registered twice"
        _JOBS[name] = fn
        return fn

    return register


def needs(*names: str) -> pytest.MarkDecorator:
    """Mark a test as judging the jobs NAMES (so they start early)."""
    return pytest.mark.guest_jobs(*names)


def start(name: str) -> Future[Any]:
    """Queue job NAME unless it is already queued; its future."""
    with _lock:
        if name not in _started:
            if name not in _JOBS:
                raise KeyError(f"no guest job {name}")
            scratch = Path(tempfile.mkdtemp(prefix=f"vdsotui-{name}-"))
            _scratches.append(scratch)
            if not _epoch:
                _epoch.append(time.monotonic())
            _started[name] = _pool.submit(_timed, name, scratch)
        return _started[name]


def _timed(name: str, scratch: Path) -> Any:
    begin = time.monotonic() - _epoch[0]
    try:
        return _JOBS[name](scratch)
    finally:
        _times[name] = (begin, time.monotonic() - _epoch[0])


def timings() -> list[str]:
    """One line per finished job: when it ran, from the first job's start."""
    return [
        f"{name}: {begin:.0f}-{end:.0f} s ({end - begin:.0f} s)"
        for name, (begin, end) in sorted(_times.items(), key=lambda kv: kv[1])
    ]


def result(name: str) -> Any:
    """Wait for job NAME (starting it if nothing did) and return its value."""
    return start(name).result()


def cleanup() -> None:
    """Drop the scratch directories once the session is over."""
    _pool.shutdown(wait=True, cancel_futures=True)
    for scratch in _scratches:
        shutil.rmtree(scratch, ignore_errors=True)
    _scratches.clear()
