"""ELF header facts: what an executable runs as, what a vdso image is, the proxy marks.

Hand-rolled from the first 20 bytes, because the scanner asks for every
process; the whole image is parsed only on request (`elfinfo`).
"""

from __future__ import annotations

from vdsotui.model import Mode, VdsoType

ELF_MAGIC = b"\x7fELF"
ELFCLASS32 = 1
ELFCLASS64 = 2
EM_386 = 3
EM_X86_64 = 62

# A proxy left by a live move carries this in the unused padding of its
# copied ELF header (e_ident[EI_PAD..]): the helper writes it, we detect it.
PROXY_MARK = b"VDSOPXY"
PROXY_MARK_OFFSET = 9  # EI_PAD

# CRIU, when the dumped vdso differs from the running one, keeps the dumped
# text as a proxy whose calls jump into the running vdso, and writes its
# struct vdso_mark over the running vdso's ELF header: a u64 signature, then
# the proxy's address (CRIU's restorer is 64-bit code, whatever the task).
CRIU_MARKS = (
    0x4F53447655495243,  # "CRIUvDSO", version 3
    0x4F53447675697263,  # "criuvDSO", version 2
    0x6F73647675697263,  # "criuvdso", version 1
)
CRIU_MARK_SIZE = 16


def classify(header: bytes) -> tuple[int, int] | None:
    """(ELF class, machine) of a header, or None if it is not ELF."""
    if len(header) < 20 or header[:4] != ELF_MAGIC:
        return None
    return header[4], int.from_bytes(header[18:20], "little")


def mode_of(header: bytes) -> Mode:
    """The execution mode an executable's header implies."""
    return {
        (ELFCLASS64, EM_X86_64): Mode.X86_64,
        (ELFCLASS32, EM_386): Mode.I386,
        (ELFCLASS32, EM_X86_64): Mode.X32,
    }.get(classify(header) or (0, 0), Mode.UNKNOWN)


def vdso_type_of(header: bytes) -> VdsoType | None:
    """The vdso type a mapped image's header says it is."""
    return mode_of(header).vdso_type


def criu_proxy_of(header: bytes) -> int | None:
    """The proxy's address if a running vdso's header is CRIU's mark, else None."""
    if len(header) < CRIU_MARK_SIZE or int.from_bytes(header[:8], "little") not in CRIU_MARKS:
        return None
    return int.from_bytes(header[8:16], "little") or None


def has_proxy_mark(header: bytes) -> bool:
    end = PROXY_MARK_OFFSET + len(PROXY_MARK)
    return classify(header) is not None and header[PROXY_MARK_OFFSET:end] == PROXY_MARK
