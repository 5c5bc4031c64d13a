"""Pure data: what vdsotui knows about a process's vdso, and the layouts.

Nothing here reads /proc or talks to the helper; the scanner and the helper
client build these objects, the TUI and the CLI only display them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class VdsoType(enum.IntEnum):
    """vdso types, numbered as the helper's protocol ids (the kernel's are ARCH_MAP_VDSO_*)."""

    I386 = 0
    X86_64 = 1
    X32 = 2

    @property
    def label(self) -> str:
        return _TYPE_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> VdsoType:
        for member, label in _TYPE_LABELS.items():
            if text in (label, str(int(member))):
                return member
        raise ValueError(f"unknown vdso type {text!r} (want i386, x86_64 or x32)")


_TYPE_LABELS = {VdsoType.I386: "i386", VdsoType.X86_64: "x86_64", VdsoType.X32: "x32"}


class Mode(enum.StrEnum):
    """What a process executes as, from its executable's ELF header."""

    X86_64 = "x86_64"
    I386 = "i386"
    X32 = "x32"
    UNKNOWN = "unknown"

    @property
    def vdso_type(self) -> VdsoType | None:
        return {
            Mode.X86_64: VdsoType.X86_64,
            Mode.I386: VdsoType.I386,
            Mode.X32: VdsoType.X32,
        }.get(self)


class Visibility(enum.StrEnum):
    """How much of a process the scanning user may see."""

    VISIBLE = "visible"  # maps, auxv and mem were readable
    NOT_VISIBLE = "not_visible"  # exists, but its vdso facts are not ours to read
    KERNEL_THREAD = "kernel_thread"  # has no address space at all
    ZOMBIE = "zombie"  # exited, not yet reaped: no address space left
    GONE = "gone"  # exited while it was being scanned


@dataclass(frozen=True, slots=True)
class Mapping:
    """One line of /proc/PID/maps that belongs to the vdso block."""

    start: int
    end: int
    perms: str
    name: str

    @property
    def size(self) -> int:
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        return {
            "start": hex(self.start),
            "end": hex(self.end),
            "size": self.size,
            "perms": self.perms,
            "name": self.name,
        }


@dataclass(frozen=True, slots=True)
class VdsoBlock:
    """The vvar mapping(s) plus the [vdso] text, in address order.

    Kernels differ in how many vvar mappings precede the text (6.12: one,
    7.x: two), so the block is whatever maps says, never a fixed shape.
    """

    mappings: tuple[Mapping, ...]

    @property
    def text(self) -> Mapping | None:
        for m in self.mappings:
            if m.name == "[vdso]":
                return m
        return None

    @property
    def base(self) -> int | None:
        """Address of the vdso text: what AT_SYSINFO_EHDR should say."""
        text = self.text
        return text.start if text else None

    @property
    def start(self) -> int:
        return self.mappings[0].start

    @property
    def end(self) -> int:
        return self.mappings[-1].end

    @property
    def size(self) -> int:
        return sum(m.size for m in self.mappings)

    @property
    def vvar_start(self) -> int | None:
        vvars = [m for m in self.mappings if m.name.startswith("[vvar")]
        return vvars[0].start if vvars else None

    @property
    def space_before(self) -> int:
        base = self.base
        return base - self.start if base is not None else 0


@dataclass(frozen=True, slots=True)
class ProcessVdso:
    """One process as the scanner saw it.

    Fields that could not be read are None; `visibility` says why.
    """

    pid: int
    ppid: int
    command: str
    user: str
    uid: int
    threads: int
    visibility: Visibility
    mode: Mode = Mode.UNKNOWN
    block: VdsoBlock | None = None
    vdso_type: VdsoType | None = None
    auxv_base: int | None = None  # AT_SYSINFO_EHDR from /proc/PID/auxv
    proxy_bases: tuple[int, ...] = ()  # old bases still holding a proxy
    # The one of proxy_bases that CRIU made at restore (its mark is on the
    # running vdso), rather than the helper at a move.
    criu_proxy: int | None = None
    error: str | None = None  # why a visible process lacks a fact
    # /proc/PID/cmdline, arguments joined by spaces ("" for a kernel thread,
    # or when not readable): what htop's Command column shows.
    cmdline: str = ""

    @property
    def visible(self) -> bool:
        return self.visibility is Visibility.VISIBLE

    @property
    def base(self) -> int | None:
        return self.block.base if self.block else None

    @property
    def no_vdso(self) -> bool:
        """A live, readable address space with no [vdso] in it."""
        return self.visible and (self.block is None or self.block.base is None)

    @property
    def moved(self) -> bool:
        return (
            self.visible
            and self.base is not None
            and self.auxv_base is not None
            and self.base != self.auxv_base
        )

    @property
    def proxy(self) -> bool:
        return bool(self.proxy_bases)

    @property
    def mode_mismatch(self) -> bool:
        return (
            self.vdso_type is not None
            and self.mode is not Mode.UNKNOWN
            and self.mode.vdso_type is not self.vdso_type
        )

    @property
    def flags(self) -> tuple[str, ...]:
        """Short state words, in a fixed order, for tables and filters."""
        if self.visibility is not Visibility.VISIBLE:
            return (self.visibility.value,)
        out = []
        if self.no_vdso:
            out.append("no_vdso")
        if self.moved:
            out.append("moved")
        if self.proxy:
            out.append("proxy")
        if self.mode_mismatch:
            out.append("mode!=type")
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        block = self.block
        return {
            "pid": self.pid,
            "ppid": self.ppid,
            "command": self.command,
            "cmdline": self.cmdline,
            "user": self.user,
            "uid": self.uid,
            "threads": self.threads,
            "visibility": self.visibility.value,
            "mode": self.mode.value,
            "vdso_type": self.vdso_type.label if self.vdso_type is not None else None,
            "base": _hex(self.base),
            "vvar_start": _hex(block.vvar_start) if block else None,
            "block_size": block.size if block else None,
            "block": [m.to_json() for m in block.mappings] if block else [],
            "auxv_base": _hex(self.auxv_base),
            "moved": self.moved,
            "proxy": self.proxy,
            "proxy_bases": [hex(b) for b in self.proxy_bases],
            "proxies": [
                {"base": hex(b), "kind": "criu" if b == self.criu_proxy else "helper"}
                for b in self.proxy_bases
            ],
            "mode_mismatch": self.mode_mismatch,
            "no_vdso": self.no_vdso,
            "flags": list(self.flags),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class Layout:
    """vdso_info of one type on this kernel, as the helper reports it."""

    vdso_type: VdsoType
    available: bool
    source: str  # "syscall" or "probe"
    space_needed_before: int | None = None
    space_needed_after: int | None = None
    alignment: int | None = None
    reason: str | None = None  # why the type is unavailable


@dataclass(frozen=True, slots=True)
class KernelFacts:
    """What the header shows about the running kernel."""

    release: str
    has_syscalls: bool | None  # None: not known (no helper)
    layouts: tuple[Layout, ...] = ()

    @property
    def mappable_types(self) -> tuple[VdsoType, ...]:
        return tuple(lay.vdso_type for lay in self.layouts if lay.available)


def _hex(value: int | None) -> str | None:
    return hex(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class Symbol:
    """A dynamic symbol exported by a vdso image."""

    name: str
    version: str | None  # e.g. "LINUX_2.6"
    address: int  # offset from the image's base (vdso images are linked at 0)
    size: int
    kind: str  # "FUNC", "OBJECT", ...


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """ELF facts of one vdso image."""

    elf_class: int  # 32 or 64
    machine: str  # "EM_X86_64", "EM_386"
    vdso_type: VdsoType | None
    soname: str | None
    build_id: str | None  # hex
    size: int
    symbols: tuple[Symbol, ...]
    proxy_mark: bool = False  # the image at this address carries the proxy mark


@dataclass(frozen=True, slots=True)
class AuxvVdso:
    """The auxv entries that concern the vdso."""

    sysinfo_ehdr: int | None  # AT_SYSINFO_EHDR
    sysinfo: int | None  # AT_SYSINFO (i386 only: __kernel_vsyscall)
