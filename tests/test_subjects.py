"""The C test subjects themselves: they run, check themselves and move."""

from __future__ import annotations

import subprocess

import pytest
from subjectlib import Subject, build_dir

HOST_SUBJECTS = ["subject-x86_64", "subject-i386"]
MODE_OF = {"subject-x86_64": 1, "subject-i386": 0}


@pytest.fixture(scope="session", autouse=True)
def built() -> None:
    subprocess.run(["make", "-s", "-C", str(build_dir().parent)], check=True)


@pytest.mark.parametrize("name", HOST_SUBJECTS)
def test_runs_healthy(name: str) -> None:
    with Subject.spawn(name) as s:
        st = s.wait_ready()
        assert st.mode == MODE_OF[name]
        assert st.threads == 1
        assert st.vdso_base == s.maps_vdso_base()
        s.assert_healthy(min_progress=200)
        assert s.stop() == 0


@pytest.mark.parametrize("name", HOST_SUBJECTS)
def test_self_move(name: str) -> None:
    with Subject.spawn(name, "--threads", "2", "--signals") as s:
        old = s.wait_ready().vdso_base
        old_block = s.maps_block()
        st = s.self_move()
        assert st.self_moves == 1
        assert st.vdso_base != old
        assert s.maps_vdso_base() == st.vdso_base
        new_block = s.maps_block()
        # the whole block moved, offsets kept
        assert [n for _, _, n in new_block] == [n for _, _, n in old_block]
        delta = st.vdso_base - old
        assert [(a + delta, b + delta) for a, b, _ in old_block] == [
            (a, b) for a, b, _ in new_block
        ]
        s.assert_healthy(min_progress=200)
        assert s.stop() == 0
