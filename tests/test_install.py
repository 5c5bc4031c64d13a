"""`make install` for every user: a fresh unprivileged user runs the installed console's
CLI and moves their own process through its helper client; `make uninstall` removes
everything it installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "helper"))

from users import User, as_user_argv, running_subject, temp_user, with_env  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="make install needs root")

# Run by the user with the installed venv's Python: the installed package's own
# client, finding the helper the way the console does (PATH).
_MOVE = """
import json, sys
from vdsotui.helper_client import HelperClient, RemapRequest
client = HelperClient.find()
result = client.run(int(sys.argv[1]), RemapRequest())
print(json.dumps({"helper": client.path, "ok": result.ok, "base": result.dest.base}))
"""


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def prefix() -> Iterator[Path]:
    # Not under the checkout or root's home: others must reach it.
    root = Path(tempfile.mkdtemp(prefix="vdsotui-install-", dir="/var/tmp"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=False)


@pytest.fixture(scope="module")
def operator() -> Iterator[User]:
    with temp_user("vdsoinst") as user:
        yield user


def _make(target: str, prefix: Path) -> None:
    subprocess.run(["make", "-s", "-C", str(REPO), target, f"PREFIX={prefix}"], check=True)


def test_install_then_use_as_a_user_then_uninstall(prefix: Path, operator: User) -> None:
    before = _tree(prefix)
    _make("install", prefix)
    bindir = prefix / "bin"
    helper = bindir / "vdso-helper"
    st = helper.stat()
    assert st.st_uid == 0 and st.st_mode & 0o4000, "the installed helper is not setuid root"
    for page in ("share/man/man1/vdsotui.1", "share/man/man8/vdso-helper.8"):
        assert (prefix / page).is_file(), page
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": "/nonexistent"}

    # The installed entry point, as the new user: a valid document listing their process.
    with running_subject(operator) as subj:
        listing = subprocess.run(
            as_user_argv(operator, with_env(env, ["vdsotui", "list", "--json"])),
            capture_output=True,
            text=True,
            check=True,
        )
        doc = json.loads(listing.stdout)
        mine = [p for p in doc["processes"] if p["pid"] == subj.pid]
        assert len(mine) == 1 and mine[0]["visibility"] == "visible", mine

        old_base = subj.maps_vdso_base()
        python = str(prefix / "lib" / "vdsotui" / "bin" / "python")
        moved = subprocess.run(
            as_user_argv(operator, with_env(env, [python, "-c", _MOVE, str(subj.pid)])),
            capture_output=True,
            text=True,
        )
        assert moved.returncode == 0, moved.stderr
        reply = json.loads(moved.stdout)
        assert reply["helper"] == str(helper), "the client did not find the installed helper"
        assert reply["ok"] and reply["base"] != old_base
        assert subj.maps_vdso_base() == reply["base"]
        subj.assert_healthy()

    _make("uninstall", prefix)
    assert _tree(prefix) == before, f"left behind: {sorted(_tree(prefix) - before)}"
