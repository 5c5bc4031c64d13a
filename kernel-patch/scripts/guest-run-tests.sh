#!/bin/bash
# Run test binaries inside the guest, each with a time limit.
#
# usage: guest-run-tests.sh OUTDIR [--alongside BINARY]... BINARY...
# For each BINARY, OUTDIR/NAME.out gets its output and OUTDIR/NAME.rc its
# exit status (124: timed out). A line per test goes to stdout so that a
# CI log shows progress. Exits 0 once all have run; judging is the caller's.
#
# The plain BINARYs run one after another: some change global state that
# the others depend on (the series' tests turn abi.vsyscall32 off and on).
# Each --alongside BINARY runs in the background next to them; it must not
# depend on such state. Under emulation one long single-threaded test
# (vdso_test_chacha) would otherwise leave the other vCPU idle for most of
# the run.
set -u
out=${1:?usage: guest-run-tests.sh OUTDIR [--alongside BINARY]... BINARY...}
shift
mkdir -p "$out"

run_one() {
	local bin=$1 name rc start
	name=$(basename "$bin")
	start=$(date +%s)
	if [ -x "$bin" ]; then
		timeout -k 5 "${VDSOTUI_TEST_TIMEOUT:-300}" "$bin" >"$out/$name.out" 2>&1 </dev/null
		rc=$?
	else
		echo "not found or not executable: $bin" >"$out/$name.out"
		rc=127
	fi
	echo "$rc" >"$out/$name.rc"
	echo "guest-test: $name: exit $rc ($(($(date +%s) - start))s)"
}

while [ "${1:-}" = --alongside ]; do
	run_one "${2:?--alongside needs a binary}" &
	shift 2
done
for bin in "$@"; do
	run_one "$bin"
done
wait
