"""Fixtures for the vdso-helper suites: the built helper and a setuid-root copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HELPER_DIR = REPO / "helper"
BUILT_HELPER = HELPER_DIR / "build" / "vdso-helper"

# subjectlib lives in tests/; make it importable when only tests/helper runs
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))


@pytest.fixture(scope="session")
def subjects_built() -> Path:
    """The C test subjects (make -C tests/subjects)."""
    subprocess.run(["make", "-s", "-C", str(REPO / "tests" / "subjects")], check=True)
    return REPO / "tests" / "subjects" / "build"


@pytest.fixture(scope="session")
def targets_built() -> Path:
    """The suites' own target programs (make -C tests/helper)."""
    subprocess.run(["make", "-s", "-C", str(REPO / "tests" / "helper")], check=True)
    return REPO / "tests" / "helper" / "build"


@pytest.fixture(scope="session")
def helper_path() -> Path:
    """The helper built from this tree (make -C helper), as the running user."""
    subprocess.run(["make", "-s", "-C", str(HELPER_DIR)], check=True)
    assert BUILT_HELPER.is_file(), f"{BUILT_HELPER} was not built"
    return BUILT_HELPER


@pytest.fixture(scope="session")
def setuid_helper(helper_path: Path) -> Iterator[Path]:
    """A setuid-root copy of the helper in a fresh directory under /var/tmp.

    The directory is root-owned, mode 0755, so unprivileged test users can
    reach and run the helper but not replace it. Removed after the session.
    """
    assert os.geteuid() == 0, "the helper suites run as root (they install a setuid copy)"
    tmp = Path(tempfile.mkdtemp(prefix="vdso-helper-", dir="/var/tmp"))
    try:
        os.chown(tmp, 0, 0)
        tmp.chmod(0o755)
        dest = tmp / "vdso-helper"
        shutil.copyfile(helper_path, dest)
        os.chown(dest, 0, 0)
        dest.chmod(0o4755)
        st = dest.stat()
        assert st.st_uid == 0 and st.st_mode & 0o7777 == 0o4755
        yield dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
