"""policy_check / policy_recheck against PID reuse and credential changes.

The helper opens a pidfd, checks the policy, attaches, then re-checks. The
races it guards against (the target exits and its PID is reused; the target
execs a setuid program between check and attach) cannot be forced through
the installed helper without a test hook, so this suite links the policy
code itself into a small harness and makes each race happen for certain:
inside a private PID namespace, ns_last_pid hands the dead target's PID to
a new process, and a pipe lets the harness decide when the target execs.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from users import User, compile_c, temp_dir, user_fixture

HELPER = Path(__file__).resolve().parents[2] / "helper"

HARNESS = r"""
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "policy.h"

static void report(const char *what, int ret, const struct verdict *v)
{
	printf("%s ret=%d allowed=%d err=%d reason=%s\n", what, ret, v->allowed, v->err, v->reason);
}

static pid_t child_waiting(int *wfd, uid_t uid, gid_t gid, const char *exec_path)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		exit(2);
	pid = fork();
	if (pid < 0)
		exit(2);
	if (pid == 0) {
		close(p[1]);
		if (uid && (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid)))
			_exit(3);
		/* Changing ids made us non-dumpable; a plain user process is dumpable. */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		if (read(p[0], &c, 1) == 1 && exec_path)
			execl(exec_path, exec_path, "1000", (char *)NULL);
		pause();
		_exit(0);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

static int set_last_pid(pid_t pid)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");

	if (!f)
		return -1;
	fprintf(f, "%d", (int)pid);
	return fclose(f);
}

int main(int argc, char **argv)
{
	struct caller root, user;
	struct verdict v;
	int wfd, wfd2, pidfd, pidfd2, ret;
	pid_t a, b;
	uid_t uid;
	gid_t gid;
	char path[64], exe[256];
	ssize_t n;

	if (argc != 4)
		return 2;
	uid = (uid_t)atoi(argv[1]);
	gid = (gid_t)atoi(argv[2]);
	if (caller_init(&root))
		return 2;
	memset(&user, 0, sizeof(user));
	user.uid = uid;
	user.euid = 0;
	user.gid = gid;

	/* 1. PID reuse between pidfd_open and attach. */
	a = child_waiting(&wfd, 0, 0, NULL);
	pidfd = pidfd_open_checked(a);
	ret = policy_check(&root, a, pidfd, &v);
	report("first", ret, &v);
	printf("recheck-alive %d\n", policy_recheck(a, pidfd));
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	if (set_last_pid(a - 1))
		return 2;
	b = child_waiting(&wfd2, 0, 0, NULL);
	printf("reused %d\n", b == a);
	printf("recheck-reused %d\n", policy_recheck(a, pidfd));
	ret = policy_check(&root, a, pidfd, &v);
	report("stale-pidfd", ret, &v);
	pidfd2 = pidfd_open_checked(b);
	ret = policy_check(&root, b, pidfd2, &v);
	report("fresh-pidfd", ret, &v);
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	close(pidfd);
	close(pidfd2);

	/* 2. The target execs a setuid-root program between check and attach. */
	a = child_waiting(&wfd, uid, gid, argv[3]);
	usleep(100000);
	pidfd = pidfd_open_checked(a);
	ret = policy_check(&user, a, pidfd, &v);
	report("user-before-exec", ret, &v);
	if (write(wfd, "x", 1) != 1)
		return 2;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)a);
	for (int i = 0; i < 500; i++) {
		n = readlink(path, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			if (!strcmp(exe, argv[3]))
				break;
		}
		usleep(10000);
	}
	usleep(50000);
	printf("recheck-after-exec %d\n", policy_recheck(a, pidfd));
	ret = policy_recheck_verdict(a, pidfd, &v);
	report("recheck-verdict", ret, &v);
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);

	/* 3. The target is gone (reaped): ESRCH, whoever asks. */
	printf("recheck-dead %d\n", policy_recheck(a, pidfd));
	ret = policy_check(&root, a, pidfd, &v);
	report("check-dead", ret, &v);
	close(pidfd);
	return 0;
}
"""


user = user_fixture("user", "vdsor")


@pytest.fixture(scope="module")
def harness_run(user: User) -> Iterator[dict[str, str]]:
    with temp_dir("vdsosec-recheck-") as tmp:
        sources = [str(HELPER / f) for f in ("policy.c", "audit.c", "parse.c", "vdso_type.c")]
        exe = compile_c(HARNESS, tmp / "harness", f"-I{HELPER}", *sources)
        suid = tmp / "suid-sleep"
        shutil.copy("/usr/bin/sleep", suid)
        suid.chmod(0o4755)
        # A private PID namespace: nothing else takes PIDs, and init there is the harness.
        res = subprocess.run(
            [
                "unshare",
                "--pid",
                "--fork",
                "--mount-proc",
                str(exe),
                str(user.uid),
                str(user.gid),
                str(suid),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert res.returncode == 0, res
        out: dict[str, str] = {}
        for line in res.stdout.splitlines():
            key, _, rest = line.partition(" ")
            out[key] = rest
        yield out


def test_check_allows_live_target(harness_run: dict[str, str]) -> None:
    assert harness_run["first"].startswith("ret=0 allowed=1 err=0 reason=caller is root")
    assert harness_run["recheck-alive"] == "0"


def test_pid_was_really_reused(harness_run: dict[str, str]) -> None:
    # Without this the next test would prove nothing.
    assert harness_run["reused"] == "1"


def test_recheck_detects_pid_reuse(harness_run: dict[str, str]) -> None:
    assert harness_run["recheck-reused"] == str(-3)  # -ESRCH


def test_check_with_stale_pidfd_refuses(harness_run: dict[str, str]) -> None:
    line = harness_run["stale-pidfd"]
    assert "allowed=0 err=3 " in line, line  # ESRCH
    assert "PID may have been reused" in line


def test_fresh_pidfd_names_the_new_process(harness_run: dict[str, str]) -> None:
    assert "allowed=1" in harness_run["fresh-pidfd"]


def test_user_allowed_before_setuid_exec(harness_run: dict[str, str]) -> None:
    assert "ret=0 allowed=1 err=0 reason=same user" in harness_run["user-before-exec"]


def test_recheck_refuses_after_setuid_exec(harness_run: dict[str, str]) -> None:
    assert harness_run["recheck-after-exec"] == str(-1)  # -EPERM
    line = harness_run["recheck-verdict"]
    assert "allowed=0 err=1 " in line and "changed identity" in line, line


def test_recheck_of_dead_target(harness_run: dict[str, str]) -> None:
    assert harness_run["recheck-dead"] == str(-3)
    assert "allowed=0 err=3 " in harness_run["check-dead"]
