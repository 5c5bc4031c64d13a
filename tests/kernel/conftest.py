"""Hooks for the guest-kernel suites: guest runs start early, tests judge late.

Each suite boots a kernel once: a background job (background.py) runs a
batch of tests in one guest, and every test of the batch is then judged on
its own, so a failure names the test and carries its output and the guest's
console.
"""

from __future__ import annotations

import os

import pytest

from . import background
from .guest import stop_guests


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "guest_jobs(*names): background guest runs the test judges")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Guest tests last; their guest runs start now, in the order they come.

    Only the tests that judge a guest run move: the host-only ones here
    (checkpatch, 25 s) run in their place, while the guests boot.
    """
    guest_items = [it for it in items if it.get_closest_marker("guest_jobs")]
    if not guest_items:
        return
    moved = {id(it) for it in guest_items}
    items[:] = [it for it in items if id(it) not in moved] + guest_items
    if config.option.collectonly:
        return
    for item in guest_items:
        for mark in item.iter_markers("guest_jobs"):
            for name in mark.args:
                background.start(name)


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Before the leak guard looks (it runs last): no guest, build or scratch
    # directory of ours may outlive the session.
    stop_guests()
    background.cleanup()


def pytest_unconfigure(config: pytest.Config) -> None:
    # An interrupted session must not wait for a guest still booting.
    stop_guests()
    background.cleanup()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = background.timings()
    if lines:
        terminalreporter.write_sep("-", "guest jobs")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_report_header() -> list[str]:
    cache = os.environ.get("VDSOTUI_KCACHE", "/var/cache/vdsotui-kernel")
    return [f"kernel cache: {cache}"]
