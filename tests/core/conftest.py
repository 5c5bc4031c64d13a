"""Fixtures of the inspection-core tests."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture
def scan_user() -> Iterator[str]:
    """A real unprivileged user, created for the test and removed after it."""
    if os.geteuid() != 0:
        pytest.fail("the privilege tests create users and must run as root")
    name = f"vdsoscan{uuid.uuid4().hex[:6]}"
    subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["pkill", "-KILL", "-u", name], check=False)
        subprocess.run(["userdel", name], check=False)
