"""Processes a benchmark starts end with it: on return, Ctrl+C, SIGTERM or SIGKILL.

`end_on_signals()` turns SIGTERM and SIGHUP into SystemExit, so the `finally`
blocks that stop the processes run as they do for Ctrl+C. Against SIGKILL,
which runs no code of ours, every process started through `dies_with_parent`
has the kernel's parent-death signal set (setpriv(1), which then execs the
command: same pid).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

# The death signal follows the thread that started the child: start children
# from the main thread only.
DIES_WITH_PARENT = ("setpriv", "--pdeathsig", "KILL", "--")


def end_on_signals() -> None:
    """SIGTERM and SIGHUP end the benchmark through its `finally` blocks."""

    def leave(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, leave)


def dies_with_parent(argv: Sequence[str]) -> list[str]:
    """ARGV, run so that the kernel kills it when the benchmark dies."""
    return [*DIES_WITH_PARENT, *argv]


@contextmanager
def sleepers(n: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """N idle processes, all of them gone when the block ends, however it ends."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(n):
            procs.append(subprocess.Popen(dies_with_parent(["sleep", "3600"])))
        yield procs
    finally:
        # Ctrl+C again while stopping them must not leave the rest running.
        with _signals_held():
            for p in procs:
                p.kill()
            for p in procs:
                p.wait()


@contextmanager
def _signals_held() -> Iterator[None]:
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


if __name__ == "__main__":
    sys.exit("bench/procs.py is a module of the benchmarks")
