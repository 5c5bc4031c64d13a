"""The data-source contract between the scanner and its users.

The TUI and the CLI depend on this protocol only; `procfs.ProcSource` is the
real implementation and tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from vdsotui.model import AuxvVdso, ImageFacts, ProcessVdso


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One scan: every process seen, and what changed since the last scan."""

    processes: Mapping[int, ProcessVdso]
    added: frozenset[int]
    changed: frozenset[int]
    removed: frozenset[int]
    seconds: float  # how long the scan took


class DataSource(Protocol):
    def scan(self) -> ScanResult:
        """Rescan; only processes whose state changed are re-parsed."""
        ...

    def kernel_release(self) -> str: ...

    def image_facts(self, pid: int) -> ImageFacts | None:
        """ELF facts of the vdso mapped in `pid` (None if not readable)."""
        ...

    def auxv(self, pid: int) -> AuxvVdso | None: ...
