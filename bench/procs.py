"""Processes a benchmark starts end with it: on return, Ctrl+C, SIGTERM or SIGKILL.

`end_on_signals()` turns SIGTERM and SIGHUP into SystemExit, so the `finally`
blocks that stop the processes run as they do for Ctrl+C. Against SIGKILL,
which runs no code of ours, the sleepers have the kernel's parent-death
signal set before they exec, and a subject started through `DIES_WITH_PARENT`
gets it from setpriv(1), which then execs it (same pid).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
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


PR_SET_PDEATHSIG = 1


def dies_with_me() -> Callable[[], None]:
    """A preexec_fn: the child is killed by the kernel when this process dies."""
    me = os.getpid()
    return lambda: _death_signal(me)


def _death_signal(parent: int) -> None:
    """In the child, before exec: die with PARENT, or now if it died already.

    setpriv alone leaves a window: a parent killed between fork and the
    prctl leaves a child whose new parent never dies.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


@contextmanager
def sleepers(n: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """N idle processes, all of them gone when the block ends, however it ends."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(n):
            # The benchmarks start no threads: preexec_fn is safe here.
            procs.append(subprocess.Popen(["sleep", "3600"], preexec_fn=dies_with_me()))
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
