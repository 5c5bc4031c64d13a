"""SIGINT, SIGTERM or SIGHUP to the helper while it holds a target.

The signal is sent at the moment the target shows the helper as its tracer,
so it lands mid-operation. Whatever the outcome (move finished, or refused
with EINTR before any change), the target must end running, untraced, with a
whole vdso block, and keep making correct vdso calls.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from helperlib import assert_running_untraced, block, path_expected
from subjectlib import Subject

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def tracer_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("TracerPid:"):
            return int(line.split()[1])
    return 0


def whole(b: list[tuple[int, int, str]]) -> bool:
    return (
        bool(b) and b[-1][2] == "[vdso]" and all(b[i][1] == b[i + 1][0] for i in range(len(b) - 1))
    )


def test_signal_mid_operation_leaves_target_running(
    helper_path: Path, subjects_built: Path
) -> None:
    outcomes: dict[str, int] = {"moved": 0, "interrupted": 0}
    caught = 0
    with Subject.spawn("subject-x86_64", "--threads", "8") as s:
        s.wait_ready()
        for i in range(24):
            sig = SIGNALS[i % 3]
            before = block(s.pid)
            p = subprocess.Popen(
                [str(helper_path), "remap", "--pid", str(s.pid), "--auto", "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 5
            while p.poll() is None and time.monotonic() < deadline:
                if tracer_of(s.pid) == p.pid:
                    p.send_signal(sig)
                    caught += 1
                    break
            out, err = p.communicate(timeout=30)
            assert_running_untraced(s.pid)
            after = block(s.pid)
            assert whole(after), after
            if p.returncode == 0:
                reply = json.loads(out)
                assert reply["path"] == path_expected()
                assert after[-1][0] == int(reply["to"]["base"], 16)
                outcomes["moved"] += 1
            else:
                # refused before the first change: nothing moved
                assert p.returncode == 1, (p.returncode, out, err)
                assert json.loads(out)["error"] == "EINTR", out
                assert after == before
                outcomes["interrupted"] += 1
            s.assert_healthy(min_progress=200)
            # enough seen: more rounds would only repeat what was checked
            if caught >= 12 and outcomes["interrupted"] >= 1:
                break
        assert s.stop() == 0, s.status().last_error
    # the signal really arrived while the target was held, many times over
    assert caught >= 12, (caught, outcomes)
    assert outcomes["interrupted"] >= 1, outcomes
