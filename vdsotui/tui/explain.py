"""Helper error codes and plan facts in words a person understands."""

from __future__ import annotations

from vdsotui.helper_client import HelperError, Placement, RemapPlan, RemapResult

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
