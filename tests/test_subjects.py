"""The C test subjects themselves: they run, check themselves and move."""

from __future__ import annotations

import ctypes
import errno
import os
import re
import signal
import struct
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection
from subjectlib import Status, Subject, SubjectError, ensure_built, subject_path


def kernel_runs_x32() -> bool:
    """x32 programs exec only on kernels built with CONFIG_X86_X32_ABI.

    The host's kernel has no x32; the patched guest's has, and the guest
    suites run this file there, where the x32 cases must be collected.
    """
    ensure_built()
    try:
        subprocess.run([str(subject_path("subject-static-x32"))], capture_output=True, timeout=30)
    except OSError as e:
        if e.errno == errno.ENOEXEC:
            return False
        raise
    return True


X32 = kernel_runs_x32()
GLIBC = ["subject-x86_64", "subject-i386"] + (["subject-x32"] if X32 else [])
STATIC = ["subject-static-x86_64", "subject-static-i386"] + (["subject-static-x32"] if X32 else [])
MODE_OF = {
    "subject-x86_64": 1,
    "subject-i386": 0,
    "subject-x32": 2,
    "subject-static-x86_64": 1,
    "subject-static-i386": 0,
    "subject-static-x32": 2,
}
FOUR_GIB = 1 << 32


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    ensure_built()


@pytest.fixture
def other_user() -> Iterator[str]:
    """A real unprivileged user, created for the test and removed after it."""
    assert os.geteuid() == 0, "this test creates a user and must run as root"
    name = f"vdsosubj{uuid.uuid4().hex[:6]}"
    subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False)


def check_moved_block(
    old_block: list[tuple[int, int, str]], new_block: list[tuple[int, int, str]], delta: int
) -> None:
    """Every VMA of the block moved by the same delta, none left behind."""
    assert delta != 0
    assert [n for _, _, n in new_block] == [n for _, _, n in old_block]
    assert [(a + delta, b + delta) for a, b, _ in old_block] == [(a, b) for a, b, _ in new_block]


@pytest.mark.parametrize("name", GLIBC + STATIC)
def test_runs_healthy(name: str) -> None:
    with Subject.spawn(name) as s:
        st = s.wait_ready()
        assert st.version == 1
        assert st.pid == s.pid
        assert st.mode == MODE_OF[name]
        assert st.threads == 1
        assert st.vdso_base == s.maps_vdso_base()
        st = s.assert_healthy(min_progress=200)
        # every round makes at least the six clock_gettime calls
        assert st.calls >= 6 * st.heartbeat
        assert s.stop() == 0


@pytest.mark.parametrize("name", GLIBC + STATIC)
def test_self_move(name: str) -> None:
    with Subject.spawn(name) as s:
        old = s.wait_ready().vdso_base
        old_block = s.maps_block()
        st = s.self_move()
        assert st.self_moves == 1
        assert s.maps_vdso_base() == st.vdso_base
        check_moved_block(old_block, s.maps_block(), st.vdso_base - old)
        s.assert_healthy(min_progress=200)
        # and again, from the moved place
        st2 = s.self_move()
        assert st2.self_moves == 2
        assert s.maps_vdso_base() == st2.vdso_base
        s.assert_healthy(min_progress=200)
        assert s.stop() == 0


@pytest.mark.parametrize("name", GLIBC)
def test_threads_move_together(name: str) -> None:
    with Subject.spawn(name, "--threads", "4") as s:
        st = s.wait_ready()
        assert st.threads == 5
        s.assert_healthy(min_progress=100)
        for _ in range(3):
            s.self_move()
            s.assert_healthy(min_progress=100)
        assert s.stop() == 0


@pytest.mark.parametrize("name", GLIBC)
def test_blocker_completes_across_a_move(name: str) -> None:
    with Subject.spawn(name, "--blocker-ms", "1500") as s:
        s.wait_ready()
        assert s.status().blocker_done == 0
        s.self_move()
        st = s.wait_for("blocker_done", lambda st: st.blocker_done == 1, timeout=5)
        assert st.errors == 0, st.last_error
        s.assert_healthy(min_progress=50)
        assert s.stop() == 0


@pytest.mark.parametrize("name", GLIBC)
def test_signals_across_moves(name: str) -> None:
    # i386 handlers return through the vdso's sigreturn: after a move that
    # is the moved trampoline
    with Subject.spawn(name, "--signals", "--threads", "2") as s:
        s.wait_ready()
        first = s.wait_for("signals", lambda st: st.signals > 200).signals
        s.self_move()
        s.wait_for("more signals", lambda st: st.signals > first + 200)
        s.self_move()
        s.assert_healthy(min_progress=100)
        assert s.stop() == 0


def test_signal_period_is_honoured() -> None:
    """--signal-us sets the SIGALRM period: never more signals than periods."""
    period = 0.02
    start = time.monotonic()
    with Subject.spawn("subject-x86_64", "--signal-us", str(int(period * 1e6))) as s:
        s.wait_ready()
        got = s.wait_for("signals", lambda st: st.signals >= 5).signals
        elapsed = time.monotonic() - start
        assert got <= elapsed / period + 1, f"{got} signals in {elapsed:.3f} s"
        s.assert_healthy()
        assert s.stop() == 0


def test_exit_after_ms() -> None:
    with Subject.spawn("subject-x86_64", "--exit-after-ms", "200") as s:
        s.wait_ready()
        assert s.wait(timeout=5) == 0
        assert s.status().heartbeat > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "--status FILE is required"),
        (("--status", "/tmp/x", "--threads", "many"), "--threads wants a number"),
        (("--status", "/tmp/x", "--threads", "65"), "--threads wants a number"),
        (("--status", "/tmp/x", "--signal-us", "0"), "--signal-us wants a number"),
        (("--status", "/nonexistent/dir/st"), "cannot create status file"),
    ],
)
def test_bad_usage(args: tuple[str, ...], message: str) -> None:
    res = subprocess.run(
        [str(subject_path("subject-x86_64")), *args], capture_output=True, text=True, timeout=5
    )
    assert res.returncode == 2
    assert message in res.stderr.splitlines()[0]


def test_runs_as_another_user(other_user: str) -> None:
    with Subject.spawn("subject-i386", "--threads", "1", user=other_user) as s:
        s.wait_ready()
        with open(f"/proc/{s.pid}/status") as f:
            uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
        assert {int(u) for u in uids} == {int(subprocess.check_output(["id", "-u", other_user]))}
        s.self_move()
        s.assert_healthy(min_progress=50)
        assert s.stop() == 0


def test_never_outlives_the_block() -> None:
    with pytest.raises(RuntimeError), Subject.spawn("subject-x86_64") as s:
        s.wait_ready()
        pid = s.pid
        raise RuntimeError("test body failed")
    assert not os.path.exists(f"/proc/{pid}")


def test_dead_subject_is_reported() -> None:
    with Subject.spawn("subject-x86_64") as s:
        s.wait_ready()
        os.kill(s.pid, signal.SIGKILL)
        s.proc.wait()
        with pytest.raises(SubjectError, match="exited with -9"):
            s.assert_healthy()


def test_restorer_self_switch_calls_i386_vdso() -> None:
    with Subject.spawn("restorer-x86_64", "--self-switch") as s:
        assert s.wait(timeout=10) == 0, s.output()
        out, _err = s.output()
        m = re.fullmatch(
            r"i386 vdso clock_gettime at 0x([0-9a-f]+): (\d+)\.(\d{9}) "
            r"\(kernel (\d+)\.(\d{9})\)\n",
            out,
        )
        assert m, out
        base, sec, ksec = int(m[1], 16), int(m[2]), int(m[4])
        assert base < FOUR_GIB
        assert abs(sec - time.time()) < 5
        assert 0 <= ksec - sec <= 1
        st = s.status()
        assert st.errors == 0
        assert st.aux == sec
        assert st.vdso_base == base


def test_restorer_refuses_a_64bit_vdso() -> None:
    # told the switch happened when it did not: it must notice and fail
    with Subject.spawn("restorer-x86_64") as s:
        s.wait_ready()
        s.signal(signal.SIGUSR2)
        assert s.wait(timeout=5) == 1
        assert "not of the i386 type" in s.status().last_error


@pytest.mark.parametrize("name", ["subject-x32", "subject-static-x32"])
def test_x32_is_valid_x32_elf(name: str) -> None:
    head = subject_path(name).read_bytes()[:64]
    assert head[:4] == b"\x7fELF"
    assert head[4] == 1  # ELFCLASS32
    assert head[5] == 1  # little-endian
    (e_type, e_machine) = struct.unpack_from("<HH", head, 16)
    assert e_machine == 62  # EM_X86_64
    assert e_type in (2, 3)  # EXEC or DYN


def test_i386_idles_inside_the_vdso() -> None:
    with Subject.spawn("subject-i386", "--idle-in-vdso") as s:
        s.wait_ready()
        s.wait_in_vdso_syscall(timeout=5)
        s.self_move()
        s.assert_healthy(min_progress=100)
        assert s.stop() == 0


@pytest.mark.parametrize("name", sorted({*STATIC, "subject-static-x32"}))
def test_static_subjects_are_libc_free(name: str) -> None:
    with subject_path(name).open("rb") as f:
        elf = ELFFile(f)
        assert elf.header.e_type == "ET_EXEC"
        kinds = {seg.header.p_type for seg in elf.iter_segments()}
        assert "PT_INTERP" not in kinds
        assert "PT_DYNAMIC" not in kinds
        symtab = elf.get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        names = {sym.name for sym in symtab.iter_symbols()}
        assert "_start" in names and "vdso_parse" in names
        assert not names & {"__libc_start_main", "printf", "malloc"}


@pytest.mark.parametrize("name", GLIBC + STATIC)
def test_moves_by_itself_and_judges_itself(name: str) -> None:
    args = () if "static" in name else ("--threads", "2", "--signals")
    with Subject.spawn(name, *args, "--move-every-ms", "20") as s:
        s.wait_ready()
        # counted, not timed: a starved subject moves less often, not wrongly
        s.wait_for("5 self-moves", lambda st: st.self_moves >= 5, timeout=30)
        assert s.stop() == 0, s.status().last_error
        assert s.status().errors == 0


def test_i386_move_from_inside_kernel_vsyscall() -> None:
    # the mremap of [vdso] returns to the moved landing pad, or crashes
    with Subject.spawn("subject-i386", "--threads", "1", "--move-via-vsyscall") as s:
        s.wait_ready()
        for _ in range(3):
            s.self_move()
            s.assert_healthy(min_progress=50)
        assert s.stop() == 0


def test_restorer_switch_at_a_chosen_low_address() -> None:
    with Subject.spawn("restorer-x86_64", "--self-switch-at", "0x30000000") as s:
        assert s.wait(timeout=10) == 0, s.output()
        st = s.status()
        # the address names the block's start: the text follows the vvar pages
        assert 0x30000000 < st.vdso_base < 0x30100000
        assert abs(st.aux - time.time()) < 5


def test_restorer_refuses_an_i386_vdso_above_4gib() -> None:
    with Subject.spawn("restorer-x86_64", "--self-switch-at", "0x7e0000000000") as s:
        assert s.wait(timeout=10) == 1
        st = s.status()
        assert st.vdso_base >= FOUR_GIB
        assert "above 4 GiB" in st.last_error
        assert "above 4 GiB" in s.output()[1]


PR_SET_CHILD_SUBREAPER = 36


def ppid_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def test_i386_getppid_check_survives_a_reparent(tmp_path: Path) -> None:
    """A restored task is reparented when criu exits; that is not an error.

    The i386 subject compares getppid() through __kernel_vsyscall with
    int $0x80; a reparent between the two reads changed the answer and was
    counted (in about one run in five here). Each round starts a busy
    subject under a shell that exits at once, so that the subject is
    reparented to this process while it runs.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, os.strerror(ctypes.get_errno())
    script = '"$1" --status "$2" --busy >/dev/null 2>&1 & echo $!; sleep 0.03'
    bad: list[str] = []
    try:
        for i in range(30):
            status = tmp_path / f"status{i}"
            argv = ["sh", "-c", script, "sh", str(subject_path("subject-i386")), str(status)]
            sh = subprocess.Popen(argv, stdout=subprocess.PIPE)
            assert sh.stdout is not None
            pid = int(sh.stdout.readline())
            sh.wait(timeout=30)
            sh.stdout.close()
            try:
                assert ppid_of(pid) == os.getpid()
                deadline = time.monotonic() + 10
                while True:
                    try:
                        st: Status | None = Status.parse(status.read_bytes())
                    except (OSError, SubjectError):
                        st = None  # not written yet
                    if (st and st.heartbeat >= 100) or time.monotonic() > deadline:
                        break
                    time.sleep(0.01)
                assert st is not None and st.pid == pid and st.heartbeat >= 100
                if st.errors:
                    bad.append(f"round {i}: {st.last_error}")
            finally:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    assert bad == []
