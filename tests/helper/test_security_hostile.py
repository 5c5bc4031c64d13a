"""A hostile target: a process that rewrites its own vdso to attack the helper.

The vdso mapping may be made writable by its process (the kernel allows it,
so that debuggers can plant breakpoints), and the helper parses that image
with root privilege when it moves the block. Here a target corrupts the
symbol table of its own vdso; the helper, built with AddressSanitizer from
this tree and run on it, must refuse or act without a single invalid memory
access, and leave the target running.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from users import User, compile_c, run_as, snapshot, spawn_as, temp_dir, user_fixture

HELPER_SRC = Path(__file__).resolve().parents[2] / "helper"

# Rewrites the highest function symbol of its own vdso: MODE "wrap" puts it
# 3 bytes before the end of the image with a size that wraps around 2^64;
# MODE "header" puts a function at offset 0, on top of the ELF header;
# MODE "proxy-wrap" leaves the vdso alone and forges a proxy (a marked
# anonymous copy) with the wrapping symbol, which the helper finds and parses.
HOSTILE = r"""
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

/* Rewrite the highest function symbol of the image at img (len bytes). */
static int corrupt(unsigned char *img, unsigned long len, int wrap)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + eh->e_shoff);
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + eh->e_phoff);
	Elf64_Sym *best = NULL;
	unsigned long load = 0;
	int i;

	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD) {
			load = ph[i].p_vaddr;
			break;
		}
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		Elf64_Sym *s = (Elf64_Sym *)(img + sh[i].sh_offset);
		for (unsigned long k = 0; k < sh[i].sh_size / sizeof(*s); k++)
			if (ELF64_ST_TYPE(s[k].st_info) == STT_FUNC && s[k].st_shndx &&
				(!best || s[k].st_value > best->st_value))
				best = &s[k];
	}
	if (!best)
		return -1;
	if (wrap) {
		best->st_value = load + len - 3;
		best->st_size = 0UL - (len - 3) + 1;
	} else {
		best->st_value = load;
		best->st_size = 16;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char *base = (unsigned char *)getauxval(AT_SYSINFO_EHDR), *copy;
	unsigned long len = 0;
	char line[512];
	FILE *maps = fopen("/proc/self/maps", "r");

	/* The image the helper reads is the whole [vdso] mapping. */
	while (maps && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;

		if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			len = hi - lo;
	}
	if (!len || argc < 2)
		return 5;
	if (!strcmp(argv[1], "proxy-wrap")) {
		/* A forged proxy: an anonymous r-x copy bearing the proxy mark. */
		copy = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (copy == MAP_FAILED)
			return 2;
		memcpy(copy, base, len);
		memcpy(copy + 9, "VDSOPXY", 7);
		if (corrupt(copy, len, 1) || mprotect(copy, len, PROT_READ | PROT_EXEC))
			return 3;
	} else {
		if (mprotect(base, len, PROT_READ | PROT_WRITE | PROT_EXEC))
			return 2;
		if (corrupt(base, len, !strcmp(argv[1], "wrap")))
			return 3;
		if (mprotect(base, len, PROT_READ | PROT_EXEC))
			return 4;
	}
	puts("ready");
	fflush(stdout);
	for (;;)
		pause();
}
"""


alice = user_fixture("alice", "vdsoh")


@pytest.fixture(scope="module")
def built() -> Iterator[tuple[Path, Path]]:
    """(the helper built with AddressSanitizer, the hostile program)."""
    with temp_dir("vdsosec-hostile-") as d:
        sources = sorted(str(p) for p in HELPER_SRC.glob("*.c"))
        asan = d / "vdso-helper-asan"
        subprocess.run(
            [
                "clang",
                "-g",
                "-O1",
                "-std=gnu11",
                "-D_GNU_SOURCE",
                "-fsanitize=address,undefined",
                "-fno-sanitize-recover=all",
                f"-I{HELPER_SRC}",
                "-o",
                str(asan),
                *sources,
            ],
            check=True,
        )
        hostile = compile_c(HOSTILE, d / "hostile")
        yield asan, hostile


@pytest.mark.parametrize("mode", ["wrap", "header", "proxy-wrap"])
@pytest.mark.parametrize(
    "cmd",
    [["show"], ["remap", "--auto"], ["remap", "--auto", "--dry-run"]],
    ids=["show", "remap", "dry-run"],
)
def test_crafted_vdso_symbols(
    built: tuple[Path, Path], alice: User, mode: str, cmd: list[str]
) -> None:
    asan, hostile = built
    proc = spawn_as(alice, [str(hostile), mode], stdin=None, stdout=subprocess.PIPE, stderr=None)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        # Root runs the instrumented copy: same code as the setuid one, checked accesses.
        res = run_as(
            None,
            [str(asan), *cmd, "--pid", str(proc.pid), "--json"],
            env={"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=99"},
        )
        assert "Sanitizer" not in res.stderr and "runtime error" not in res.stderr, res.stderr
        assert res.returncode in (0, 1), res
        assert isinstance(res.json, dict)
        after = snapshot(proc.pid)
        assert after.tracer == 0 and after.state not in ("t", "T", "Z"), after
        assert proc.poll() is None, "the target died"
    finally:
        proc.kill()
        proc.wait()


# A process under seccomp: "filter" kills itself on mremap, munmap or
# arch_prctl (what the helper injects); "strict" allows only read, write,
# exit and sigreturn. Injecting into either kills it, so it must be refused.
SECCOMP = r"""
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mremap, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_munmap, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_arch_prctl, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	char c;

	if (argc < 2 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return 1;
	if (!strcmp(argv[1], "filter")) {
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
			return 1;
	}
	if (write(1, "ready\n", 6) != 6)
		return 1;
	if (!strcmp(argv[1], "strict") && prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		return 1;
	/* Blocks in read(2), allowed in both modes, until the test closes stdin. */
	while (read(0, &c, 1) == 1)
		;
	syscall(__NR_exit, 0);
	return 0;
}
"""


@pytest.mark.parametrize("mode", ["filter", "strict"])
def test_seccomp_target_is_refused_not_killed(
    setuid_helper: Path, alice: User, built: tuple[Path, Path], mode: str
) -> None:
    prog = compile_c(SECCOMP, built[1].parent / "seccomp")
    # stdin stays open: the program waits on it until the test is done
    proc = spawn_as(
        alice, [str(prog), mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        for cmd in (["remap", "--auto"], ["remap", "--auto", "--type", "i386", "--force"]):
            res = run_as(alice, [str(setuid_helper), *cmd, "--pid", str(proc.pid), "--json"])
            assert res.returncode == 1, res
            assert proc.poll() is None, f"{cmd}: the target was killed ({res})"
            after = snapshot(proc.pid)
            assert after.tracer == 0 and after.state not in ("t", "T", "Z"), after
        # Reading it is harmless and still allowed.
        res = run_as(alice, [str(setuid_helper), "show", "--pid", str(proc.pid), "--json"])
        assert res.returncode == 0, res
    finally:
        proc.kill()
        proc.wait()
