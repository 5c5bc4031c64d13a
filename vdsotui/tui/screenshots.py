"""`python -m vdsotui.tui.screenshots [OUTDIR]`: regenerate the SVG screenshots.

Works from a source tree only: the deterministic processes and helper the
screenshots show live with the tests (tests/tui/fakes.py), and the script
that drives them is screenshots/generate.py.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "screenshots" / "generate.py"


def main(argv: list[str]) -> int:
    if not SCRIPT.is_file():
        print(
            f"vdsotui: screenshots are made from a source tree ({SCRIPT} not found)",
            file=sys.stderr,
        )
        return 2
    sys.argv = [str(SCRIPT), *argv]
    try:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    except SystemExit as done:
        return int(done.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
