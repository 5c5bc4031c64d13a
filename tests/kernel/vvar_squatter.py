"""A process whose vdso data pages are its own: a refusal case for CRIU.

usage: vvar_squatter.py READY_FILE

Replaces each data mapping of its vdso block ([vvar], [vvar_vclock]) by
an anonymous mapping of the same range, writes "ready" to READY_FILE and
waits for a signal. Its vdso text keeps working where it is: zeroed data
pages say "no clock source", and the vdso falls back to the system calls.
Restoring it means putting a vdso text back in front of pages that are
not the kernel's.
"""

from __future__ import annotations

import ctypes
import mmap
import signal
import sys
from pathlib import Path


def main() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    ]
    squatted = 0
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split()
        if len(parts) < 6 or parts[5] not in ("[vvar]", "[vvar_vclock]"):
            continue
        start, end = (int(x, 16) for x in parts[0].split("-"))
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x10  # MAP_FIXED
        got = libc.mmap(start, end - start, mmap.PROT_READ, flags, -1, 0)
        if got != start:
            print(f"vvar_squatter: mmap at {start:#x} failed", file=sys.stderr)
            return 1
        squatted += 1
    if not squatted:
        print("vvar_squatter: no vdso data pages to replace", file=sys.stderr)
        return 1
    Path(sys.argv[1]).write_text("ready\n")
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
