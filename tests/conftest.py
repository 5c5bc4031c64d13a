"""Hooks for every suite: the leak guard (leakguard.py) watches the whole session."""

from __future__ import annotations

import pytest


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    # Registered here, not by `pytest_plugins` (only allowed at the rootdir),
    # and early enough for its configure hook to set the basetemp.
    if not pluginmanager.has_plugin("leakguard"):
        import leakguard

        pluginmanager.register(leakguard, "leakguard")
