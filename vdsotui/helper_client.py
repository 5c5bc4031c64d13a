"""Typed client for the `vdso-helper --json` command line.

The helper is the only privileged part of vdsotui; this module runs it as a
child process (never through a shell, always with a timeout) and turns its
one-object JSON answers into dataclasses.  Every failure, including the
helper being absent or hanging, becomes a `HelperError(code, message)`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vdsotui.model import KernelFacts, Layout, Mapping, Mode, VdsoType

HELPER_NAME = "vdso-helper"
ENV_VAR = "VDSOTUI_HELPER"
# Where `make -C helper` puts the binary, relative to a source tree.
SOURCE_TREE_HELPER = Path(__file__).resolve().parent.parent / "helper" / "build" / HELPER_NAME

# A move stops the target; the helper must be allowed to finish and clean up,
# so privileged operations get a longer timeout than queries.
QUERY_TIMEOUT = 10.0
REMAP_TIMEOUT = 60.0
# After a timeout the helper gets SIGTERM and this long to restore the target.
TERM_GRACE = 5.0


class HelperError(Exception):
    """The helper refused or failed; `code` is its stable errno-style name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class HelperNotRun(HelperError):
    """The helper binary could not be started at all: it never answered."""


@dataclass(frozen=True, slots=True)
class HelperStatus:
    """Whether the helper can be used, and if not, why in plain words."""

    path: str
    present: bool
    executable: bool
    setuid_root: bool
    problem: str | None  # None when the helper can act on other users' processes

    @property
    def runnable(self) -> bool:
        """It can be run at all (queries work even when it is not setuid)."""
        return self.present and self.executable


@dataclass(frozen=True, slots=True)
class HelperInfo:
    """The answer of `vdso-helper info --json`."""

    kernel: str
    syscalls: bool
    layouts: tuple[Layout, ...]

    def kernel_facts(self, release: str | None = None) -> KernelFacts:
        return KernelFacts(
            release=release or self.kernel, has_syscalls=self.syscalls, layouts=self.layouts
        )


@dataclass(frozen=True, slots=True)
class ProxyInfo:
    base: int
    size: int
    target: int | None


@dataclass(frozen=True, slots=True)
class ThreadInfo:
    tid: int
    state: str
    ip: int | None  # None: running, not readable without stopping it
    in_vdso: bool
    where: str


@dataclass(frozen=True, slots=True)
class Policy:
    allowed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ShowResult:
    """The answer of `vdso-helper show --pid P --json`."""

    pid: int
    command: str
    mode: Mode
    vdso_type: VdsoType | None
    base: int | None
    auxv_base: int | None
    moved: bool
    block: tuple[Mapping, ...]
    proxies: tuple[ProxyInfo, ...]
    threads: tuple[ThreadInfo, ...]
    policy: Policy


@dataclass(frozen=True, slots=True)
class Placement:
    """One side of a remap: where the block is, or will be."""

    vdso_type: VdsoType | None
    base: int | None
    vvar_start: int | None
    size: int | None


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class RemapRequest:
    """One move or type switch, as asked of the helper for one process."""

    addr: int | None = None  # the new base; None: the helper places the block
    vdso_type: VdsoType | None = None  # None: keep the type (a move)
    proxy: bool = True  # leave a proxy at the old base
    force: bool = False  # a type the process's mode cannot use

    def options(self) -> list[str]:
        """The `vdso-helper remap` options that say this (docs/protocol.md)."""
        if self.addr is not None and self.addr <= 0:
            raise HelperError("EINVAL", f"invalid address {self.addr:#x}")
        args = ["--auto"] if self.addr is None else ["--addr", hex(self.addr)]
        if self.vdso_type is not None:
            args += ["--type", self.vdso_type.label]
        if not self.proxy:
            args.append("--no-proxy")
        if self.force:
            args.append("--force")
        return args


@dataclass(frozen=True, slots=True)
class RemapPlan:
    """What a remap will do (`--dry-run`), as the helper planned it."""

    pid: int
    operation: str  # "move" or "switch"
    path: str  # "syscall" or "stock"
    source: Placement
    dest: Placement
    proxy: bool
    checks: tuple[Check, ...]
    steps: tuple[str, ...]
    dry_run: bool = True

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


@dataclass(frozen=True, slots=True)
class RemapResult(RemapPlan):
    """What a remap did."""

    stop_ns: int | None = None


class HelperClient:
    """Runs one helper binary; all methods block until it answers."""

    def __init__(self, path: str | os.PathLike[str], timeout: float = QUERY_TIMEOUT) -> None:
        self.path = str(path)
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"HelperClient({self.path!r})"

    @classmethod
    def find(cls, explicit: str | None = None) -> HelperClient | None:
        """Lookup order of docs/protocol.md: --helper, $VDSOTUI_HELPER, PATH, source tree.

        A path the user named is returned even when it does not exist, so
        that `status()` can say what is wrong with it instead of silently
        falling back to another binary.
        """
        if explicit:
            return cls(explicit)
        env = os.environ.get(ENV_VAR)
        if env:
            return cls(env)
        on_path = shutil.which(HELPER_NAME)
        if on_path:
            return cls(on_path)
        if SOURCE_TREE_HELPER.is_file():
            return cls(SOURCE_TREE_HELPER)
        return None

    # -- status -----------------------------------------------------------

    def status(self) -> HelperStatus:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return HelperStatus(self.path, False, False, False, f"{self.path} does not exist")
        except OSError as exc:
            return HelperStatus(
                self.path, False, False, False, f"{self.path} cannot be read: {exc.strerror}"
            )
        if not stat.S_ISREG(st.st_mode):
            return HelperStatus(self.path, False, False, False, f"{self.path} is not a file")
        executable = os.access(self.path, os.X_OK)
        setuid_root = bool(st.st_mode & stat.S_ISUID) and st.st_uid == 0
        problem: str | None = None
        if not executable:
            problem = f"{self.path} is not executable by you"
        elif not setuid_root and os.geteuid() != 0:
            problem = (
                f"{self.path} is not setuid root, so it cannot act on processes "
                "(install it with `make install-helper` as root)"
            )
        return HelperStatus(self.path, True, executable, setuid_root, problem)

    # -- queries ----------------------------------------------------------

    def info(self, vdso_type: VdsoType | None = None) -> HelperInfo:
        args = ["info"]
        if vdso_type is not None:
            args += ["--type", vdso_type.label]
        data = self._run(args, self.timeout)
        try:
            layouts = tuple(_layout(t) for t in data.get("types", []))
            return HelperInfo(
                kernel=str(data.get("kernel", "")),
                syscalls=bool(data.get("syscalls", False)),
                layouts=layouts,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _protocol_error("info", exc) from exc

    def show(self, pid: int) -> ShowResult:
        data = self._run(["show", "--pid", str(pid)], self.timeout)
        try:
            return ShowResult(
                pid=int(data["pid"]),
                command=str(data.get("command", "")),
                mode=_mode(data.get("mode")),
                vdso_type=_type(data.get("vdso_type")),
                base=_addr(data.get("base")),
                auxv_base=_addr(data.get("auxv_base")),
                moved=bool(data.get("moved", False)),
                block=tuple(
                    Mapping(_req_addr(m["start"]), _req_addr(m["end"]), m["perms"], m["name"])
                    for m in data.get("block", [])
                ),
                proxies=tuple(
                    ProxyInfo(_req_addr(p["base"]), int(p["size"]), _addr(p.get("target")))
                    for p in data.get("proxies", [])
                ),
                threads=tuple(
                    ThreadInfo(
                        tid=int(t["tid"]),
                        state=str(t.get("state", "?")),
                        ip=_addr(t.get("ip")),
                        in_vdso=bool(t.get("in_vdso", False)),
                        where=str(t.get("where", "")),
                    )
                    for t in data.get("threads", [])
                ),
                policy=Policy(
                    allowed=bool(data.get("policy", {}).get("allowed", False)),
                    reason=str(data.get("policy", {}).get("reason", "")),
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _protocol_error("show", exc) from exc

    # -- the privileged operation ----------------------------------------

    def plan(self, pid: int, request: RemapRequest) -> RemapPlan:
        """What `request` would do to `pid` (`--dry-run`): nothing is changed."""
        fields = self._remap(pid, request, dry_run=True)
        if not fields["dry_run"]:
            raise HelperError("EPROTO", f"{HELPER_NAME} answered a dry run as a real run")
        del fields["stop_ns"]
        return RemapPlan(**fields)

    def run(self, pid: int, request: RemapRequest) -> RemapResult:
        """Move or switch the type of `pid`'s vdso block as `request` says."""
        fields = self._remap(pid, request, dry_run=False)
        if fields["dry_run"]:
            raise HelperError("EPROTO", f"{HELPER_NAME} answered a real run as a dry run")
        return RemapResult(**fields)

    def _remap(self, pid: int, request: RemapRequest, dry_run: bool) -> dict[str, Any]:
        if pid <= 0:
            raise HelperError("EINVAL", f"invalid pid {pid}")
        args = ["remap", "--pid", str(pid), *request.options()]
        if dry_run:
            args.append("--dry-run")
        data = self._run(args, self.timeout if dry_run else max(self.timeout, REMAP_TIMEOUT))
        try:
            return {
                "pid": int(data["pid"]),
                "operation": str(data.get("operation", "move")),
                "path": str(data.get("path", "")),
                "source": _placement(data.get("from") or {}),
                "dest": _placement(data.get("to") or {}),
                "proxy": bool(data.get("proxy", False)),
                "checks": tuple(
                    Check(str(c["name"]), bool(c["ok"]), str(c.get("detail", "")))
                    for c in data.get("checks", [])
                ),
                "steps": tuple(str(s) for s in data.get("steps", [])),
                "dry_run": bool(data.get("dry_run", dry_run)),
                "stop_ns": _int_or_none(data.get("stop_ns")),
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise _protocol_error("remap", exc) from exc

    # -- plumbing ---------------------------------------------------------

    def _run(self, args: Sequence[str], timeout: float) -> dict[str, Any]:
        argv = [self.path, *args, "--json"]
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                # A process name is whatever bytes its owner chose; never let
                # one undecodable byte turn an answer into an exception.
                encoding="utf-8",
                errors="replace",
                close_fds=True,
            )
        except FileNotFoundError as exc:
            raise HelperNotRun("ENOENT", f"{self.path} does not exist") from exc
        except PermissionError as exc:
            raise HelperNotRun("EACCES", f"{self.path} is not executable by you") from exc
        except OSError as exc:
            raise HelperNotRun("EIO", f"cannot run {self.path}: {exc.strerror}") from exc
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            # SIGTERM first: the helper restores and detaches its target on
            # it; SIGKILL only if it does not finish within the grace period.
            _terminate(proc)
            raise HelperError(
                "ETIMEDOUT", f"{HELPER_NAME} did not answer within {timeout:g} s and was stopped"
            ) from exc
        data = _parse(out)
        if proc.returncode == 0:
            if data is None:
                raise HelperError("EPROTO", f"{HELPER_NAME} printed no JSON object")
            return data
        if data is not None and "error" in data:
            raise HelperError(str(data["error"]), str(data.get("message", "")).strip())
        detail = (err.strip().splitlines() or [""])[-1]
        if proc.returncode < 0:
            what = f"was killed by signal {-proc.returncode}"
        else:
            what = f"exited with status {proc.returncode}"
        raise HelperError("EIO", f"{HELPER_NAME} {what}" + (f": {detail}" if detail else ""))


def _terminate(proc: subprocess.Popen[str]) -> None:
    try:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=TERM_GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    except ProcessLookupError:
        pass


def _parse(out: str) -> dict[str, Any] | None:
    text = out.strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _protocol_error(command: str, exc: Exception) -> HelperError:
    return HelperError("EPROTO", f"unexpected answer to `{command}`: {exc!r}")


def _addr(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    return int(str(value), 0)


def _req_addr(value: Any) -> int:
    out = _addr(value)
    if out is None:
        raise ValueError("missing address")
    return out


def _type(value: Any) -> VdsoType | None:
    if value is None:
        return None
    return VdsoType.parse(str(value))


def _mode(value: Any) -> Mode:
    try:
        return Mode(str(value))
    except ValueError:
        return Mode.UNKNOWN


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None


def _layout(entry: dict[str, Any]) -> Layout:
    raw_type = entry.get("type", entry.get("id"))
    return Layout(
        vdso_type=VdsoType.parse(str(raw_type)),
        available=bool(entry.get("available", False)),
        source=str(entry.get("source", "probe")),
        space_needed_before=_int_or_none(entry.get("space_needed_before")),
        space_needed_after=_int_or_none(entry.get("space_needed_after")),
        alignment=_int_or_none(entry.get("alignment")),
        reason=entry.get("reason"),
    )


def _placement(entry: dict[str, Any]) -> Placement:
    return Placement(
        vdso_type=_type(entry.get("type")),
        base=_addr(entry.get("base")),
        vvar_start=_addr(entry.get("vvar_start")),
        size=_int_or_none(entry.get("size")),
    )
