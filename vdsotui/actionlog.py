"""The action log: every move, switch, refusal and death, one JSON line each.

It lives under the XDG state directory ($XDG_STATE_HOME/vdsotui, by default
~/.local/state/vdsotui/actions.log). The file is only ever appended to, one
write(2) of one whole line per entry with O_APPEND, and synced before the
console goes on, so an entry written is an entry kept even if the console
then crashes. Exports go to the XDG data directory.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

LOG_NAME = "actions.log"


def _xdg(var: str, default: str) -> Path:
    # The spec: a relative or empty value is invalid and is ignored.
    value = os.environ.get(var, "")
    base = Path(value) if value and os.path.isabs(value) else Path.home() / default
    return base / "vdsotui"


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state")


def data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the log."""

    time: str  # ISO 8601, UTC
    action: str  # "move" or "switch"
    pid: int
    command: str
    request: str  # the helper's options, as run: "--addr 0x7f0000000000 --no-proxy"
    result: str  # "done", "refused", "died" (the target exited soon after)
    code: str | None = None  # the helper's error code (EBUSY, EPERM, ...)
    message: str = ""  # what happened, in words
    stop_ns: int | None = None  # how long the helper held the target stopped

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Entry:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in names})


class ActionLog:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else state_dir() / LOG_NAME

    def append(self, entry: Entry) -> str | None:
        """Write `entry`; the reason in words when it could not be written."""
        line = (json.dumps(entry.to_json(), ensure_ascii=False) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            return f"cannot write the action log {self.path}: {exc.strerror or exc}"
        return None

    def read(self, last: int = 1000) -> tuple[list[Entry], int]:
        """The last `last` entries, oldest first, and how many lines were
        unreadable (a line torn by a full disk is skipped, not fatal)."""
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return [], 0
        entries: list[Entry] = []
        bad = 0
        for raw in lines[-last:]:
            try:
                entries.append(Entry.from_json(json.loads(raw)))
            except (ValueError, TypeError):
                bad += 1
        return entries, bad
