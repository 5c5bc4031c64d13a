"""`exec` runs programs with the caller's own credentials, never root's.

The helper is setuid root and traces the program it starts; a traced setuid
program would normally keep its privilege when the tracer is root. These
tests make a user start setuid-root and file-capability programs through
the helper and check, from inside the started program, that it got nothing.
"""

from __future__ import annotations

import grp
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from users import User, run_as, temp_dir, user_fixture

# Without placement the helper only starts the program; with it, it traces the
# program through its execve, which is where a setuid bit could take effect.
PLACEMENTS = [[], ["--vdso-addr", "0x10000000"]]
PLACEMENT_IDS = ["plain", "traced"]


alice = user_fixture("alice", "vdsox")


@pytest.fixture(scope="module")
def progs() -> Iterator[Path]:
    with temp_dir("vdsosec-exec-") as d:
        for name in ("id", "cat"):
            shutil.copy(f"/usr/bin/{name}", d / f"suid-{name}")
            (d / f"suid-{name}").chmod(0o4755)
            shutil.copy(f"/usr/bin/{name}", d / f"sgid-{name}")
            (d / f"sgid-{name}").chmod(0o2755)
        shutil.copy("/usr/bin/cat", d / "fcap-cat")
        subprocess.run(
            ["setcap", "cap_dac_read_search,cap_sys_ptrace+ep", str(d / "fcap-cat")], check=True
        )
        yield d


def status_of(stdout: str) -> dict[str, str]:
    """The /proc/self/status fields a started `cat /proc/self/status` printed."""
    out: dict[str, str] = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(":\t")
        if sep and key in (
            "Uid",
            "Gid",
            "Groups",
            "CapInh",
            "CapPrm",
            "CapEff",
            "CapAmb",
            "NoNewPrivs",
        ):
            out[key] = value.strip()
    return out


@pytest.mark.parametrize("place", PLACEMENTS, ids=PLACEMENT_IDS)
@pytest.mark.parametrize(
    ("prog", "gained", "own"),
    [("suid-id", "euid=0(root)", "uid"), ("sgid-id", "egid=0(root)", "gid")],
    ids=["setuid-root", "setgid-root"],
)
def test_set_id_program_gains_nothing(
    setuid_helper: Path,
    alice: User,
    progs: Path,
    prog: str,
    gained: str,
    own: str,
    place: list[str],
) -> None:
    # Outside the helper the copy really gains root: `id` shows euid=0 or egid=0.
    direct = run_as(alice, [str(progs / prog)])
    assert gained in direct.stdout, direct
    res = run_as(alice, [str(setuid_helper), "exec", *place, "--", str(progs / prog)])
    assert res.returncode == 0, res
    own_id = alice.uid if own == "uid" else alice.gid
    assert f"{own}={own_id}(" in res.stdout, res
    assert "euid=" not in res.stdout and "egid=" not in res.stdout, res


@pytest.mark.parametrize("place", PLACEMENTS, ids=PLACEMENT_IDS)
@pytest.mark.parametrize("prog", ["suid-cat", "fcap-cat", "/usr/bin/cat"])
def test_started_program_has_exactly_the_callers_credentials(
    setuid_helper: Path, alice: User, progs: Path, prog: str, place: list[str]
) -> None:
    path = prog if prog.startswith("/") else str(progs / prog)
    if prog != "/usr/bin/cat":
        # Run directly, the copy does gain privilege: ids or capabilities.
        direct = status_of(run_as(alice, [path, "/proc/self/status"]).stdout)
        assert int(direct["CapPrm"], 16) != 0 or direct["Uid"].split()[1] == "0", direct
    res = run_as(alice, [str(setuid_helper), "exec", *place, "--", path, "/proc/self/status"])
    assert res.returncode == 0, res
    st = status_of(res.stdout)
    ids_u = "\t".join([str(alice.uid)] * 4)
    ids_g = "\t".join([str(alice.gid)] * 4)
    assert st["Uid"] == ids_u, st
    assert st["Gid"] == ids_g, st
    groups = {int(g) for g in st["Groups"].split()}
    want = {g.gr_gid for g in grp.getgrall() if alice.name in g.gr_mem} | {alice.gid}
    assert groups <= want, f"groups {groups} beyond the caller's {want}"
    for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(st[cap], 16) == 0, f"{cap} = {st[cap]}"
    assert st["NoNewPrivs"] == "1", st


def test_started_program_cannot_read_root_files(
    setuid_helper: Path, alice: User, progs: Path
) -> None:
    res = run_as(alice, [str(setuid_helper), "exec", "--", str(progs / "suid-cat"), "/etc/shadow"])
    assert res.returncode != 0, res
    assert "root:" not in res.stdout


def test_root_caller_keeps_its_own_credentials(setuid_helper: Path) -> None:
    """The rule is "the caller's credentials": for root that is root, for nobody else."""
    res = run_as(None, [str(setuid_helper), "exec", "--", "/usr/bin/id"])
    assert res.returncode == 0, res
    assert "uid=0(root) gid=0(root)" in res.stdout, res


def test_started_program_environment_is_sanitised(setuid_helper: Path, alice: User) -> None:
    """Whatever environment exec passes on, the loader's dangerous variables are gone."""
    env = {
        "PATH": "/usr/bin:/bin",
        "LD_PRELOAD": "/nonexistent/evil.so",
        "LD_LIBRARY_PATH": "/nonexistent",
        "LD_AUDIT": "/nonexistent/evil.so",
        "GCONV_PATH": "/nonexistent",
        "VDSOSEC_PLAIN": "kept-or-dropped",
    }
    res = run_as(alice, [str(setuid_helper), "exec", "--", "/usr/bin/env"], env=env)
    assert res.returncode == 0, res
    names = {ln.partition("=")[0] for ln in res.stdout.splitlines()}
    assert not names & {"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GCONV_PATH"}, res.stdout
