#!/bin/sh
# Run test binaries inside the guest, one by one, each with a time limit.
#
# usage: guest-run-tests.sh OUTDIR BINARY...
# For each BINARY, OUTDIR/NAME.out gets its output and OUTDIR/NAME.rc its
# exit status (124: timed out). A line per test goes to stdout so that a
# CI log shows progress. Exits 0 once all have run; judging is the caller's.
set -u
out=$1
shift
mkdir -p "$out"
for bin in "$@"; do
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
done
