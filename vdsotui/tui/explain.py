"""Helper error codes and plan facts in words a person understands."""

from __future__ import annotations

from vdsotui.helper_client import HelperError, Placement, RemapPlan, RemapResult
from vdsotui.model import Mode, VdsoType

# What each stable code means for someone moving a vdso.
CODE_WORDS: dict[str, str] = {
    "EPERM": "not allowed by the helper's policy",
    "EACCES": "permission denied",
    "ESRCH": "the process no longer exists",
    "EBUSY": "the process is busy (a thread is inside the vdso or it is being traced)",
    "EEXIST": "the destination overlaps an existing mapping",
    "EINVAL": "invalid request",
    "ENOMEM": "no room for the block at that address",
    "ENOSYS": "this kernel cannot do that",
    "EOPNOTSUPP": "not supported for this process or type",
    "EINTR": "interrupted; nothing was changed",
    "EIO": "the helper failed",
    "E2BIG": "the request is too large",
    "EFAULT": "bad address",
    "ENOENT": "the helper is not installed",
    "ETIMEDOUT": "the helper did not answer in time",
    "EPROTO": "the helper gave an answer vdsotui does not understand",
}


def explain_error(err: HelperError) -> str:
    words = CODE_WORDS.get(err.code)
    msg = err.message.rstrip(".")
    if words and msg:
        return f"{err.code}: {words} — {msg}"
    return f"{err.code}: {words or msg or 'failed'}"


def where(p: Placement) -> str:
    base = f"{p.base:#x}" if p.base is not None else "?"
    vtype = p.vdso_type.label if p.vdso_type is not None else "?"
    return f"{vtype} at {base}"


def summarize_result(r: RemapResult, command: str = "") -> str:
    who = f"{r.pid} ({command})" if command else str(r.pid)
    verb = "Switched" if r.operation == "switch" else "Moved"
    parts = [f"{verb} vdso of {who}: {where(r.source)} → {where(r.dest)}"]
    if r.proxy and r.source.base is not None:
        parts.append(f"proxy left at {r.source.base:#x}")
    if r.stop_ns is not None:
        parts.append(f"stopped {r.stop_ns / 1e6:.2f} ms")
    return ", ".join(parts)


def plan_lines(plan: RemapPlan) -> list[str]:
    """The dry-run plan as the dialog shows it (markup-free)."""
    lines = [
        f"{plan.operation} via {plan.path} path",
        f"from {where(plan.source)}  (block {_size(plan.source.size)})",
        f"to   {where(plan.dest)}  (block {_size(plan.dest.size)})",
        f"proxy at the old base: {'yes' if plan.proxy else 'no'}",
    ]
    return lines


def _size(n: int | None) -> str:
    return f"{n} bytes" if n is not None else "size ?"


_MODE_WORDS = {
    Mode.X86_64: "64-bit code",
    Mode.I386: "32-bit code",
    Mode.X32: "64-bit code with 32-bit pointers",
}


def forced_switch_words(mode: Mode, new: VdsoType) -> str:
    """What a forced switch to `new` does to a process of `mode`, in plain words."""
    if mode is Mode.UNKNOWN:
        return (
            f"vdsotui cannot tell what this process runs as: unless its code is {new.label}, "
            f"its next call into an {new.label} vdso will most likely crash it (SIGSEGV)."
        )
    who = f"A process that runs as {mode.value} ({_MODE_WORDS[mode]})"
    if mode is Mode.I386:
        # i386 code enters the kernel through __kernel_vsyscall in the vdso.
        what = (
            "makes its system calls through the vdso's __kernel_vsyscall: "
            f"with an {new.label} vdso it will most likely crash (SIGSEGV) at once"
        )
    else:
        what = (
            f"calls the vdso for the time: with an {new.label} vdso its next "
            "clock_gettime, gettimeofday or time call will most likely crash it (SIGSEGV)"
        )
    return f"{who} {what}. Force it only for a restorer that changes its mode next."
