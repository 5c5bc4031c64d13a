"""vdso-helper info and image: per-type layout and raw images on this kernel."""

from __future__ import annotations

import errno
import io
import os
import platform
import subprocess
from pathlib import Path

from elftools.elf.elffile import ELFFile
from helperlib import block, expect_syscall, ok, run, source_expected


def own_block() -> tuple[int, int, int, int]:
    """This test process's vdso block: vvar start, base, end, vvar VMA count."""
    b = block(os.getpid())
    text = next(x for x in b if x[2] == "[vdso]")
    return b[0][0], text[0], text[1], len(b) - 1


def test_info_reports_each_type(helper_path: Path) -> None:
    out = ok(helper_path, "info")
    assert out["kernel"] == platform.release()
    assert out["syscalls"] is expect_syscall()
    types = {t["type"]: t for t in out["types"]}
    assert list(types) == ["i386", "x86_64", "x32"]
    for name, tid in (("i386", 0), ("x86_64", 1), ("x32", 2)):
        t = types[name]
        assert t["id"] == tid
        assert t["source"] == source_expected()
        if t["available"]:
            assert t["reason"] is None
            assert t["alignment"] == 4096
            assert t["space_needed_before"] > 0 and t["space_needed_before"] % 4096 == 0
            assert t["space_needed_after"] > 0 and t["space_needed_after"] % 4096 == 0
        else:
            assert t["space_needed_before"] is None and t["reason"]
    # this process's own block is the x86_64 layout, however many vvar VMAs
    vvar, base, end, nvvar = own_block()
    x64 = types["x86_64"]
    assert x64["available"] and types["i386"]["available"]
    assert x64["space_needed_before"] == base - vvar
    assert x64["space_needed_after"] == end - base
    assert x64["vvar_vmas"] == nvvar


def test_info_x32_matches_kernel(helper_path: Path, subjects_built: Path, tmp_path: Path) -> None:
    """x32 is available exactly when the kernel can run x32 code."""
    x32 = ok(helper_path, "info", "--type", "x32")["types"]
    assert len(x32) == 1 and x32[0]["type"] == "x32"
    try:
        subprocess.run(
            [
                str(subjects_built / "subject-static-x32"),
                "--status",
                str(tmp_path / "st"),
                "--exit-after-ms",
                "1",
            ],
            timeout=30,
        )
        runs_x32 = True
    except OSError as e:
        assert e.errno == errno.ENOEXEC, e
        runs_x32 = False
    assert x32[0]["available"] is runs_x32, x32
    if not runs_x32:
        # no x32 in this kernel: the probe says so, naming the call
        assert "ARCH_MAP_VDSO_X32" in x32[0]["reason"] or "x32" in x32[0]["reason"]


def test_info_single_type_by_number(helper_path: Path) -> None:
    out = ok(helper_path, "info", "--type", "0")
    assert [t["type"] for t in out["types"]] == ["i386"]


def test_image_x86_64_is_this_kernels_vdso(helper_path: Path, tmp_path: Path) -> None:
    dest = tmp_path / "v64.so"
    out = ok(helper_path, "image", "--type", "x86_64", "-o", str(dest))
    data = dest.read_bytes()
    assert out == {"type": "x86_64", "size": len(data), "path": str(dest)}
    _, base, end, _ = own_block()
    with open(f"/proc/{os.getpid()}/mem", "rb") as mem:
        mem.seek(base)
        assert mem.read(end - base) == data
    elf = ELFFile(io.BytesIO(data))
    assert elf.elfclass == 64 and elf["e_machine"] == "EM_X86_64"
    names = {s.name for s in elf.get_section_by_name(".dynsym").iter_symbols()}
    assert "__vdso_clock_gettime" in names


def test_image_i386(helper_path: Path, tmp_path: Path) -> None:
    dest = tmp_path / "v32.so"
    ok(helper_path, "image", "--type", "i386", "-o", str(dest))
    elf = ELFFile(io.BytesIO(dest.read_bytes()))
    assert elf.elfclass == 32 and elf["e_machine"] == "EM_386"
    names = {s.name for s in elf.get_section_by_name(".dynsym").iter_symbols()}
    assert {"__kernel_vsyscall", "__kernel_rt_sigreturn", "__vdso_clock_gettime"} <= names


def test_image_to_stdout(helper_path: Path, tmp_path: Path) -> None:
    p = subprocess.run([str(helper_path), "image", "--type", "x86_64"], capture_output=True)
    assert p.returncode == 0 and p.stdout[:4] == b"\x7fELF"
    assert p.stdout[9:16] == b"\0" * 7, "a kernel image carries no proxy mark"


def test_image_unavailable_type(helper_path: Path, tmp_path: Path) -> None:
    info = ok(helper_path, "info", "--type", "x32")["types"][0]
    r = run(helper_path, "image", "--type", "x32", "-o", str(tmp_path / "x"))
    if info["available"]:
        assert r.rc == 0 and (tmp_path / "x").read_bytes()[:4] == b"\x7fELF"
    else:
        assert r.rc == 1 and r.out["error"] == "EOPNOTSUPP"


def test_usage_errors(helper_path: Path) -> None:
    for args in (["frobnicate"], ["image"], ["info", "--pid", "1"], ["info", "--type", "arm"]):
        r = run(helper_path, *args)
        assert r.rc == 2, args
        assert r.out["error"] == "EINVAL" and r.out["message"], args


def test_text_mode(helper_path: Path) -> None:
    p = subprocess.run([str(helper_path), "info"], capture_output=True, text=True)
    assert p.returncode == 0 and "type: x86_64" in p.stdout
    p = subprocess.run([str(helper_path), "show"], capture_output=True, text=True)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.startswith("vdso-helper: EINVAL: ") and p.stderr.count("\n") == 1
