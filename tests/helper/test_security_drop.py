"""`info` and `image` run with the caller's credentials only.

`image -o FILE` writes a file named by the caller: after the privilege drop
that write is the caller's, so it lands owned by the caller and fails
wherever the caller could not write, symbolic links included.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from users import User, run_as, temp_dir, user_fixture

alice = user_fixture("alice", "vdsod")


@pytest.fixture
def dirs(alice: User) -> Iterator[tuple[Path, Path]]:
    """(a directory only root may write, a directory alice owns)."""
    with temp_dir("vdsosec-drop-") as root:
        mine = root / "alice"
        mine.mkdir(mode=0o755)
        os.chown(mine, alice.uid, alice.gid)
        yield root, mine


def image(helper: Path, user: User, out: Path) -> tuple[int, dict[str, object]]:
    res = run_as(user, [str(helper), "image", "--type", "x86_64", "-o", str(out), "--json"])
    return res.returncode, res.json


def test_image_is_written_as_the_caller(
    setuid_helper: Path, alice: User, dirs: tuple[Path, Path]
) -> None:
    _, mine = dirs
    rc, out = image(setuid_helper, alice, mine / "vdso.so")
    assert rc == 0, out
    st = (mine / "vdso.so").stat()
    assert (st.st_uid, st.st_gid) == (alice.uid, alice.gid)
    assert (mine / "vdso.so").read_bytes()[:4] == b"\x7fELF"


def test_image_cannot_create_in_a_root_directory(
    setuid_helper: Path, alice: User, dirs: tuple[Path, Path]
) -> None:
    root, _ = dirs
    rc, out = image(setuid_helper, alice, root / "planted")
    assert rc == 1 and out["error"] == "EACCES", out
    assert not (root / "planted").exists()


def test_image_cannot_overwrite_a_root_file(
    setuid_helper: Path, alice: User, dirs: tuple[Path, Path]
) -> None:
    """Not directly, and not through a symlink alice places in her own directory."""
    root, mine = dirs
    victim = root / "victim"
    victim.write_text("root's data\n")
    victim.chmod(0o644)
    (mine / "link").symlink_to(victim)
    rc, out = image(setuid_helper, alice, victim)
    assert rc == 1 and out["error"] == "EACCES", out
    # Refused either for want of permission or because the link is not followed.
    rc, out = image(setuid_helper, alice, mine / "link")
    assert rc == 1 and out["error"] in ("EACCES", "EIO"), out
    assert victim.read_text() == "root's data\n"
    assert victim.stat().st_uid == 0


def test_info_as_user(setuid_helper: Path, alice: User) -> None:
    res = run_as(alice, [str(setuid_helper), "info", "--json"])
    assert res.returncode == 0, res
    types = {t["type"]: t for t in res.json["types"]}
    assert types["x86_64"]["available"] is True
