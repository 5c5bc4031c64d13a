"""Command line: `vdsotui` opens the console; `list` and `info` serve scripts."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from vdsotui import __version__
from vdsotui.interval import MAX_INTERVAL, MIN_INTERVAL, parse_interval
from vdsotui.model import ProcessVdso
from vdsotui.procfs import ProcSource
from vdsotui.procread import list_pids

LIST_SCHEMA = "vdsotui.list/1"
INFO_SCHEMA = "vdsotui.info/1"


class UsageError(Exception):
    """Bad input from the user: one line on stderr, exit 2; `code` names it in JSON."""

    def __init__(self, message: str, code: str = "EINVAL") -> None:
        super().__init__(message)
        self.code = code


def _interval(text: str) -> float:
    try:
        return parse_interval(text)
    except ValueError as exc:
        # argparse prints the usage and "argument --interval: <this>", exit 2
        raise argparse.ArgumentTypeError(str(exc)) from None


class _Parser(argparse.ArgumentParser):
    """argparse's usage and one-line error, exit 2; with --json also the error as JSON."""

    json_wanted = False

    def error(self, message: str) -> NoReturn:
        if _Parser.json_wanted:
            sys.stdout.write(json.dumps({"error": "EINVAL", "message": message}) + "\n")
        super().error(message)


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = _Parser(prog="vdsotui", description="See and move the vDSO of running processes.")
    parser.add_argument("--version", action="version", version=f"vdsotui {__version__}")
    parser.add_argument("--helper", metavar="PATH", help="vdso-helper to use")
    parser.add_argument("--read-only", action="store_true", help="never run the helper to act")
    parser.add_argument(
        "--interval",
        type=_interval,
        default=2.0,
        metavar="SECONDS",
        help=f"refresh interval ({MIN_INTERVAL:g} to {MAX_INTERVAL:g})",
    )
    sub = parser.add_subparsers(dest="command")
    lst = sub.add_parser("list", help="print every process's vdso state")
    form = lst.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help=f"JSON ({LIST_SCHEMA})")
    form.add_argument(
        "--json-lines", action="store_true", help="one JSON object per process per line"
    )
    lst.add_argument("--pid", type=int, action="append", help="only these processes")
    lst.add_argument(
        "--vdso-only", action="store_true", help="only processes whose vdso is visible"
    )
    info = sub.add_parser("info", help="vdso layout of each type on this kernel")
    info.add_argument("--json", action="store_true", help=f"JSON ({INFO_SCHEMA})")
    # Also after the command, where `info` is where one looks for it; SUPPRESS
    # keeps a --helper given before the command.
    info.add_argument(
        "--helper", metavar="PATH", default=argparse.SUPPRESS, help="vdso-helper to use"
    )
    return parser, {"list": lst, "info": info}


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = _parser()
    words = sys.argv[1:] if argv is None else argv
    _Parser.json_wanted = "--json" in words or "--json-lines" in words
    args, extra = parser.parse_known_args(argv)
    if extra:
        # The usage of the command the user typed, not the top-level one.
        where = commands.get(args.command or "", parser)
        where.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "list":
            return cmd_list(args, sys.stdout)
        if args.command == "info":
            return cmd_info(args, sys.stdout)
        return cmd_tui(args)
    except UsageError as exc:
        _fail(args, exc.code, str(exc))
        return 2
    except BrokenPipeError:
        # `vdsotui list | head`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _fail(args: argparse.Namespace, code: str, message: str) -> None:
    """One line on stderr; with --json also the error as a JSON object on stdout."""
    print(f"vdsotui: {message}", file=sys.stderr)
    if getattr(args, "json", False) or getattr(args, "json_lines", False):
        sys.stdout.write(json.dumps({"error": code, "message": message}) + "\n")


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    source = ProcSource(list_pids=list_pids)
    result = source.scan()
    procs = sorted(result.processes.values(), key=lambda p: p.pid)
    if args.pid:
        wanted = set(args.pid)
        procs = [p for p in procs if p.pid in wanted]
        missing = wanted - {p.pid for p in procs}
        if missing:
            raise UsageError(
                f"no such process: {', '.join(map(str, sorted(missing)))}", code="ESRCH"
            )
    if args.vdso_only:
        procs = [p for p in procs if p.visible and p.base is not None]
    # Each output is made whole, by json's C encoder (it has no indenting
    # form), and written with one call: stdout may be unbuffered.
    encode = json.JSONEncoder().encode
    if args.json_lines:
        out.write("".join(encode(p.to_json()) + "\n" for p in procs))
    elif args.json:
        head = encode({"schema": LIST_SCHEMA, "kernel": source.kernel_release()})
        rows = ",\n".join(encode(p.to_json()) for p in procs)
        out.write(f'{head[:-1]}, "processes": [\n{rows}\n]}}\n')
    else:
        out.write(format_table(procs))
    return 0


_COLUMNS = ("PID", "USER", "MODE", "TYPE", "BASE", "VVAR", "BLOCK", "THR", "STATE", "COMMAND")


def _row(p: ProcessVdso) -> tuple[str, ...]:
    block = p.block
    return (
        str(p.pid),
        p.user[:10],
        p.mode.value if p.visible else "-",
        p.vdso_type.label if p.vdso_type is not None else "-",
        f"{p.base:#x}" if p.base is not None else "-",
        f"{block.vvar_start:#x}" if block and block.vvar_start is not None else "-",
        f"{block.size // 1024}K" if block else "-",
        str(p.threads),
        ",".join(p.flags) or "ok",
        p.command,
    )


def format_table(procs: Sequence[ProcessVdso]) -> str:
    rows = [_COLUMNS, *(_row(p) for p in procs)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS) - 1)]
    lines = []
    for r in rows:
        cells = [
            c.rjust(w) if i in (0, 6, 7) else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=False))
        ]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
    return "\n".join(lines) + "\n"


def cmd_info(args: argparse.Namespace, out: TextIO) -> int:
    from vdsotui.helper_client import HelperClient, HelperError, HelperNotRun

    helper = HelperClient.find(args.helper)
    if helper is None:
        raise UsageError(
            "vdso-helper not found (build it with `make`, or pass --helper PATH)", code="ENOENT"
        )
    try:
        facts = helper.info().kernel_facts()
    except HelperError as exc:
        # Only an answer from the helper is a refusal; a helper that could not
        # be run is reported as what it is.
        what = "cannot run the helper" if isinstance(exc, HelperNotRun) else "helper refused"
        _fail(args, exc.code, f"{what}: {exc.code}: {exc.message}")
        return 1
    layouts = [
        {
            "type": lay.vdso_type.label,
            "available": lay.available,
            "source": lay.source,
            "space_needed_before": lay.space_needed_before,
            "space_needed_after": lay.space_needed_after,
            "alignment": lay.alignment,
            "reason": lay.reason,
        }
        for lay in facts.layouts
    ]
    if args.json:
        doc: dict[str, Any] = {
            "schema": INFO_SCHEMA,
            "kernel": facts.release,
            "syscalls": facts.has_syscalls,
            "types": layouts,
        }
        json.dump(doc, out, indent=1)
        out.write("\n")
        return 0
    out.write(f"kernel {facts.release}, vdso syscalls: {'yes' if facts.has_syscalls else 'no'}\n")
    for lay in layouts:
        if lay["available"]:
            out.write(
                f"{lay['type']:7} before={lay['space_needed_before']} "
                f"after={lay['space_needed_after']} alignment={lay['alignment']} "
                f"({lay['source']})\n"
            )
        else:
            out.write(f"{lay['type']:7} unavailable: {lay['reason']} ({lay['source']})\n")
    return 0


def cmd_tui(args: argparse.Namespace) -> int:
    # The console lists processes with psutil, the project's process library;
    # `list` lists /proc itself (procread.list_pids says why).
    import psutil

    from vdsotui.helper_client import HelperClient
    from vdsotui.tui.app import VdsoApp

    app = VdsoApp(
        source=ProcSource(list_pids=psutil.pids),
        helper=HelperClient.find(args.helper),
        read_only=args.read_only,
        interval=args.interval,
    )
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
