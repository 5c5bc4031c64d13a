"""HelperClient against scripted stand-in executables: argv, parsing, every
failure path (error objects, bad output, exit statuses, signals, timeouts)
and the lookup order of docs/protocol.md."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from vdsotui import helper_client
from vdsotui.helper_client import (
    HelperClient,
    HelperError,
    RemapPlan,
    RemapRequest,
    RemapResult,
)
from vdsotui.model import VdsoType

# The stand-in records its argv and answers from a table keyed by subcommand.
SCRIPT = """#!{python}
import json, os, sys, time
args = sys.argv[1:]
with open({log!r}, "a") as f:
    f.write(json.dumps(args) + "\\n")
mode = os.environ.get("FAKE_MODE", "ok")
if mode == "sleep":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: (open({log!r} + ".term", "w").close(), sys.exit(3)))
    time.sleep(60)
if mode == "garbage":
    print("not json"); sys.exit(0)
if mode == "usage":
    print("vdso-helper: usage: remap --pid P", file=sys.stderr); sys.exit(2)
if mode == "kill":
    os.kill(os.getpid(), 9)
if mode == "refuse":
    print(json.dumps({{"error": "EPERM", "message": "target belongs to another user"}}))
    sys.exit(1)
if mode == "rawbytes":
    sys.stdout.buffer.write(b'{{"pid": 5, "command": "a\\xffb", "mode": "x86_64"}}\\n')
    sys.exit(0)
if mode == "shape":
    print(json.dumps({{"pid": "x"}})); sys.exit(0)
cmd = args[0]
if cmd == "info":
    print(json.dumps({{"kernel": "6.18.44", "syscalls": True, "types": [
        {{"type": "x86_64", "id": 1, "available": True, "source": "syscall",
          "space_needed_before": 24576, "space_needed_after": 8192, "alignment": 4096,
          "vvar_vmas": 2, "reason": None}},
        {{"type": "x32", "id": 2, "available": False, "source": "syscall",
          "space_needed_before": None, "space_needed_after": None, "alignment": None,
          "vvar_vmas": None, "reason": "no x32"}}]}}))
elif cmd == "show":
    print(json.dumps({{"pid": 42, "command": "cat", "mode": "i386", "vdso_type": "i386",
        "base": "0xf7f00000", "auxv_base": "0xf7e00000", "moved": True,
        "block": [{{"start": "0xf7efa000", "end": "0xf7f00000", "size": 24576,
                    "perms": "r--p", "name": "[vvar]"}}],
        "proxies": [{{"base": "0xf7e00000", "size": 8192, "target": "0xf7f00000"}}],
        "threads": [{{"tid": 42, "state": "R", "ip": None, "in_vdso": False,
                      "where": "running"}}],
        "policy": {{"allowed": False, "reason": "another user"}}}}))
elif cmd == "remap":
    dry = "--dry-run" in args
    if mode == "swapped":
        dry = not dry
    out = {{"pid": int(args[args.index("--pid") + 1]), "dry_run": dry, "operation": "switch",
           "path": "syscall",
           "from": {{"type": "x86_64", "base": "0x7f0000002000", "vvar_start": "0x7f0000000000",
                    "size": 32768}},
           "to": {{"type": "i386", "base": "0x7f1000002000", "vvar_start": "0x7f1000000000",
                  "size": 32768}},
           "proxy": "--no-proxy" not in args,
           "checks": [{{"name": "policy", "ok": True, "detail": "same user"}},
                      {{"name": "threads", "ok": False, "detail": "1 inside the vdso"}}],
           "steps": ["seize 1 thread"]}}
    if not dry:
        out["stop_ns"] = 1234
    print(json.dumps(out))
"""


@pytest.fixture
def fake(tmp_path: Path) -> tuple[HelperClient, Path]:
    log = tmp_path / "argv.log"
    exe = tmp_path / "vdso-helper"
    exe.write_text(SCRIPT.format(python=sys.executable, log=str(log)))
    exe.chmod(0o755)
    return HelperClient(exe, timeout=5), log


def argv(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_info_parses_layouts(fake: tuple[HelperClient, Path]) -> None:
    client, log = fake
    info = client.info()
    assert info.kernel == "6.18.44" and info.syscalls
    x64, x32 = info.layouts
    assert (x64.vdso_type, x64.available, x64.source) == (VdsoType.X86_64, True, "syscall")
    assert (x64.space_needed_before, x64.space_needed_after, x64.alignment) == (24576, 8192, 4096)
    assert (x32.vdso_type, x32.available, x32.reason) == (VdsoType.X32, False, "no x32")
    facts = info.kernel_facts("6.18.44-local")
    assert facts.release == "6.18.44-local" and facts.mappable_types == (VdsoType.X86_64,)
    assert argv(log) == [["info", "--json"]]


def test_show_parses_threads_and_policy(fake: tuple[HelperClient, Path]) -> None:
    client, log = fake
    s = client.show(42)
    assert (s.pid, s.command, s.vdso_type, s.base, s.moved) == (
        42,
        "cat",
        VdsoType.I386,
        0xF7F00000,
        True,
    )
    assert s.block[0].name == "[vvar]" and s.block[0].size == 24576
    assert s.proxies[0].base == 0xF7E00000 and s.proxies[0].target == 0xF7F00000
    assert s.threads[0].ip is None and s.threads[0].where == "running"
    assert not s.policy.allowed and s.policy.reason == "another user"
    assert argv(log) == [["show", "--pid", "42", "--json"]]


def test_remap_argv_plan_and_result(fake: tuple[HelperClient, Path]) -> None:
    client, log = fake
    plan = client.plan(7, RemapRequest(vdso_type=VdsoType.I386, proxy=False))
    assert type(plan) is RemapPlan and plan.dry_run
    assert plan.operation == "switch" and plan.path == "syscall" and not plan.proxy
    assert plan.source.base == 0x7F0000002000 and plan.dest.vdso_type is VdsoType.I386
    assert not plan.ok and [c.name for c in plan.failed_checks] == ["threads"]
    result = client.run(7, RemapRequest(addr=0x7F1000002000, force=True))
    assert type(result) is RemapResult and not result.dry_run and result.stop_ns == 1234
    assert argv(log) == [
        ["remap", "--pid", "7", "--auto", "--type", "i386", "--no-proxy", "--dry-run", "--json"],
        ["remap", "--pid", "7", "--addr", "0x7f1000002000", "--force", "--json"],
    ]


@pytest.mark.parametrize(
    ("pid", "request_", "message"),
    [
        (0, RemapRequest(), "invalid pid 0"),
        (7, RemapRequest(addr=0), "invalid address 0x0"),
        (7, RemapRequest(addr=-4096), "invalid address -0x1000"),
    ],
)
def test_remap_rejects_bad_arguments(
    fake: tuple[HelperClient, Path], pid: int, request_: RemapRequest, message: str
) -> None:
    client, log = fake
    for call in (client.plan, client.run):
        with pytest.raises(HelperError) as err:
            call(pid, request_)
        assert err.value.code == "EINVAL" and message in err.value.message
    assert not log.exists()  # refused before running anything


def test_plan_and_run_never_take_one_answer_for_the_other(
    fake: tuple[HelperClient, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan answered as done, or a run answered as a plan, is not believed."""
    client, _ = fake
    monkeypatch.setenv("FAKE_MODE", "swapped")
    with pytest.raises(HelperError) as err:
        client.plan(7, RemapRequest())
    assert err.value.code == "EPROTO" and "dry run as a real run" in err.value.message
    with pytest.raises(HelperError) as err:
        client.run(7, RemapRequest())
    assert err.value.code == "EPROTO" and "real run as a dry run" in err.value.message


@pytest.mark.parametrize(
    ("mode", "code", "message"),
    [
        ("refuse", "EPERM", "target belongs to another user"),
        ("garbage", "EPROTO", "printed no JSON object"),
        ("usage", "EIO", "exited with status 2: vdso-helper: usage: remap --pid P"),
        ("kill", "EIO", "was killed by signal 9"),
        ("shape", "EPROTO", "unexpected answer to `show`"),
    ],
)
def test_failures_become_helper_errors(
    fake: tuple[HelperClient, Path],
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    code: str,
    message: str,
) -> None:
    client, _ = fake
    monkeypatch.setenv("FAKE_MODE", mode)
    with pytest.raises(HelperError) as err:
        client.show(1)
    assert err.value.code == code
    assert message in err.value.message


def test_undecodable_bytes_do_not_break_the_client(
    fake: tuple[HelperClient, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = fake
    monkeypatch.setenv("FAKE_MODE", "rawbytes")
    s = client.show(5)
    assert s.pid == 5 and s.command == "a\ufffdb"


def test_timeout_terminates_the_helper(
    fake: tuple[HelperClient, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, log = fake
    client.timeout = 1.0
    monkeypatch.setenv("FAKE_MODE", "sleep")
    start = time.monotonic()
    with pytest.raises(HelperError) as err:
        client.info()
    assert err.value.code == "ETIMEDOUT" and "did not answer within 1 s" in err.value.message
    assert time.monotonic() - start < helper_client.TERM_GRACE + 3
    # It was asked to stop with SIGTERM (so a real helper can restore its target).
    assert Path(str(log) + ".term").exists()


def test_missing_and_not_executable(tmp_path: Path) -> None:
    missing = HelperClient(tmp_path / "nope")
    st = missing.status()
    assert not st.present and st.problem == f"{tmp_path / 'nope'} does not exist"
    with pytest.raises(HelperError) as err:
        missing.info()
    assert err.value.code == "ENOENT"
    plain = tmp_path / "plain"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o644)
    st = HelperClient(plain).status()
    # Even root needs an x bit to run a file.
    assert st.present
    assert st.problem == f"{plain} is not executable by you"
    with pytest.raises(HelperError) as err:
        HelperClient(plain).info()
    assert err.value.code == "EACCES"
    directory = HelperClient(tmp_path).status()
    assert directory.problem == f"{tmp_path} is not a file"


def test_setuid_root_status(fake: tuple[HelperClient, Path]) -> None:
    client, _ = fake
    assert not client.status().setuid_root
    os.chown(client.path, 0, 0)
    os.chmod(client.path, 0o4755)
    st = client.status()
    assert st.setuid_root and st.problem is None and st.runnable
    assert os.stat(client.path).st_mode & stat.S_ISUID


def test_find_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = tmp_path / "bin" / "vdso-helper"
    on_path.parent.mkdir()
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    tree = tmp_path / "tree-helper"
    tree.write_text("#!/bin/sh\n")
    monkeypatch.setattr(helper_client, "SOURCE_TREE_HELPER", tree)
    monkeypatch.setenv("PATH", str(on_path.parent))
    monkeypatch.setenv("VDSOTUI_HELPER", "/env/vdso-helper")
    found = HelperClient.find("/explicit/vdso-helper")
    assert found is not None and found.path == "/explicit/vdso-helper"
    found = HelperClient.find()
    assert found is not None and found.path == "/env/vdso-helper"
    monkeypatch.delenv("VDSOTUI_HELPER")
    found = HelperClient.find()
    assert found is not None and found.path == str(on_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    found = HelperClient.find()
    assert found is not None and found.path == str(tree)
    tree.unlink()
    assert HelperClient.find() is None
