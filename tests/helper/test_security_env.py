"""Environment, file descriptor and resource-limit tricks against the setuid helper.

A user controls everything the helper inherits: its environment, which
descriptors are open, its resource limits. None of it may run code in the
privileged process, make it write files, or leave a target half done.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from subjectlib import Subject
from users import (
    User,
    assert_untouched,
    compile_c,
    run_as,
    running_subject,
    snapshot,
    temp_dir,
    user_fixture,
)

pytestmark = pytest.mark.usefixtures("subjects_built")

# Loaded into any process that honours it: leaves a file saying who ran it.
EVIL = r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void evil(void)
{
	char path[512], exe[256] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int fd;

	if (n > 0)
		exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/loaded-%d", MARKER_DIR, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd >= 0) {
		dprintf(fd, "euid=%d exe=%s\n", (int)geteuid(), exe);
		close(fd);
	}
}
"""


alice = user_fixture("alice", "vdsoe")


@pytest.fixture(scope="module")
def lab() -> Iterator[Path]:
    """A directory with the evil library, a fake libc and a place for markers."""
    with temp_dir("vdsosec-env-") as d:
        markers = d / "markers"
        markers.mkdir()
        markers.chmod(0o1777)
        compile_c(EVIL, d / "evil.so", "-shared", "-fPIC", f'-DMARKER_DIR="{markers}"')
        libs = d / "libs"
        libs.mkdir()
        libs.chmod(0o755)
        # Looks like libc to the loader; loading it instead of the real one would break the helper.
        for name in ("libc.so.6", "libgcc_s.so.1"):
            shutil.copy(d / "evil.so", libs / name)
        gconv = d / "gconv"
        gconv.mkdir()
        (gconv / "gconv-modules").write_text("module  EVIL//  INTERNAL  ../evil  1\n")
        bashenv = d / "bashenv.sh"
        bashenv.write_text(f"touch {markers}/bash-env-$$\n")
        yield d


@pytest.fixture
def target(alice: User) -> Iterator[Subject]:
    with running_subject(alice) as subj:
        yield subj


def markers(lab: Path) -> list[str]:
    return [p.read_text() for p in (lab / "markers").iterdir()]


def env_tricks(lab: Path) -> dict[str, dict[str, str]]:
    evil = str(lab / "evil.so")
    return {
        "LD_PRELOAD": {"LD_PRELOAD": evil},
        "LD_PRELOAD-bare-name": {"LD_PRELOAD": "evil.so", "LD_LIBRARY_PATH": str(lab)},
        "LD_LIBRARY_PATH": {"LD_LIBRARY_PATH": str(lab / "libs")},
        "LD_AUDIT": {"LD_AUDIT": evil},
        "LD_DEBUG_OUTPUT": {
            "LD_DEBUG": "all",
            "LD_DEBUG_OUTPUT": str(lab / "markers" / "lddebug"),
        },
        "GLIBC_TUNABLES": {
            "GLIBC_TUNABLES": "glibc.malloc.mxfast=glibc.malloc.mxfast=" + "A" * 4000,
        },
        "GCONV_PATH": {"GCONV_PATH": str(lab / "gconv"), "LC_ALL": "C.UTF-8"},
        "MALLOC_TRACE": {"MALLOC_TRACE": str(lab / "markers" / "mtrace")},
        "locale-traversal": {"LC_ALL": "../../../../" + str(lab), "LOCPATH": str(lab)},
        "BASH_ENV": {"BASH_ENV": str(lab / "bashenv.sh"), "ENV": str(lab / "bashenv.sh")},
        "PATH-and-IFS": {"PATH": str(lab), "IFS": "/", "SHELL": evil},
        "TZ-and-TMPDIR": {"TZ": "/etc/shadow", "TMPDIR": str(lab / "markers")},
        "huge-environment": {f"V{i}": "x" * 1000 for i in range(100)},
    }


def test_environment_tricks(setuid_helper: Path, alice: User, lab: Path, target: Subject) -> None:
    """Each trick: the helper works exactly as without it and nothing ran or was written."""
    before = snapshot(target.pid)
    cmds = [
        ["show", "--pid", str(target.pid), "--json"],
        ["remap", "--pid", str(target.pid), "--auto", "--dry-run", "--json"],
        ["info", "--json"],
    ]
    baseline = [run_as(alice, [str(setuid_helper), *cmd]) for cmd in cmds]
    for res in baseline:
        assert res.returncode == 0, res
    for name, env in env_tricks(lab).items():
        for cmd, base in zip(cmds, baseline, strict=True):
            res = run_as(alice, [str(setuid_helper), *cmd], env=env)
            assert res.returncode == 0, f"{name}: {cmd}: {res}"
            assert res.json.keys() == base.json.keys(), f"{name}: {cmd}"
            assert markers(lab) == [], f"{name}: {cmd}: {markers(lab)}"
        assert_untouched(target.pid, before)
    target.assert_healthy(min_progress=130)


def test_closed_standard_descriptors(setuid_helper: Path, alice: User, target: Subject) -> None:
    """Started with 0 and 2 closed, the helper still answers on 1 and nothing lands elsewhere."""
    before = snapshot(target.pid)
    cmd = f'exec "$0" show --pid {target.pid} --json 0<&- 2>&-'
    res = run_as(alice, ["sh", "-c", cmd, str(setuid_helper)])
    assert res.returncode == 0, res
    assert res.json["pid"] == target.pid
    # With stdout closed the answer is lost, and the target must not notice.
    cmd = f'exec "$0" remap --pid {target.pid} --auto --dry-run --json >&- 0<&-'
    run_as(alice, ["sh", "-c", cmd, str(setuid_helper)])
    assert_untouched(target.pid, before)
    target.assert_healthy(min_progress=130)


@pytest.mark.parametrize(
    "limit",
    ["--nofile=4:1024", "--as=60000000:unlimited", "--stack=65536:unlimited"],
)
def test_low_resource_limits(setuid_helper: Path, alice: User, target: Subject, limit: str) -> None:
    """Soft limits that would break the helper half way are raised for its privileged part."""
    before = snapshot(target.pid)
    res = run_as(
        alice,
        [
            "prlimit",
            limit,
            str(setuid_helper),
            "remap",
            "--pid",
            str(target.pid),
            "--auto",
            "--dry-run",
            "--json",
        ],
    )
    assert res.returncode == 0, res
    assert res.json["dry_run"] is True
    assert_untouched(target.pid, before)
    target.assert_healthy(min_progress=130)


def test_limits_given_back_to_exec(setuid_helper: Path, alice: User) -> None:
    """Raised limits never reach a program the helper starts: it gets the caller's."""
    res = run_as(
        alice,
        [
            "prlimit",
            "--fsize=123456:123456",
            "--nofile=77:77",
            "--core=1000:2000",
            str(setuid_helper),
            "exec",
            "--",
            "/bin/cat",
            "/proc/self/limits",
        ],
    )
    assert res.returncode == 0, res
    lines = {ln[:26].strip(): ln[26:].split() for ln in res.stdout.splitlines()}
    assert lines["Max file size"][:2] == ["123456", "123456"], res.stdout
    assert lines["Max open files"][:2] == ["77", "77"], res.stdout
    assert lines["Max core file size"][:2] == ["1000", "2000"], res.stdout


@pytest.mark.parametrize("limit", ["--nofile=4:4", "--nofile=5:5", "--nofile=6:6"])
def test_hard_descriptor_limit_on_a_real_move(
    setuid_helper: Path, alice: User, alice_subject: Subject, limit: str
) -> None:
    """Root without CAP_SYS_RESOURCE cannot raise a hard limit: the helper may then
    fail, but only cleanly (a JSON error) and with the target whole and running."""
    subj = alice_subject
    before = snapshot(subj.pid)
    res = run_as(
        alice,
        ["prlimit", limit, str(setuid_helper), "remap", "--pid", str(subj.pid), "--auto", "--json"],
    )
    after = snapshot(subj.pid)
    assert after.tracer == 0 and after.state not in ("t", "T", "Z"), after
    if res.returncode == 0:
        assert res.json["pid"] == subj.pid
    else:
        assert res.returncode == 1, res
        assert isinstance(res.json["error"], str), res
        assert after.maps == before.maps, "a failed move changed the mappings"
    subj.assert_healthy(min_progress=130)


@pytest.fixture
def alice_subject(alice: User) -> Iterator[Subject]:
    with running_subject(alice, "--threads", "2") as subj:
        yield subj


def test_inherited_descriptors_are_closed(setuid_helper: Path, alice: User, lab: Path) -> None:
    """A descriptor the caller leaves open (here on a file) never reaches a started program."""
    secret = lab / "open-file"
    secret.write_text("x")
    secret.chmod(0o644)
    script = f'exec 7<{secret} 9<{secret}; exec "$0" exec -- /bin/ls /proc/self/fd'
    res = run_as(alice, ["sh", "-c", script, str(setuid_helper)])
    assert res.returncode == 0, res
    fds = {int(x) for x in res.stdout.split() if x.isdigit()}
    assert {0, 1, 2} <= fds and not fds & {7, 9}, res.stdout


@pytest.mark.parametrize("mask", ["022", "027", "0"])
def test_started_program_gets_the_callers_umask(
    setuid_helper: Path, alice: User, mask: str
) -> None:
    """077 while privileged; the caller's own umask again for what it starts."""
    script = f'umask {mask}; exec "$0" exec -- /bin/sh -c umask'
    res = run_as(alice, ["sh", "-c", script, str(setuid_helper)])
    assert res.returncode == 0, res
    assert int(res.stdout.split()[-1], 8) == int(mask, 8), res.stdout
