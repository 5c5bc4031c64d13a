#!/bin/bash
# Check that every prefix of a series builds: what `git bisect` needs.
#
# usage: check-bisect.sh VERSION
#
# Starts from the complete lean build of VERSION (build-kernel.sh, cached),
# copies its source and object trees, then takes the patches off one at a
# time from the last, building bzImage after each, so each prefix costs
# only what its missing patch touched. The series' selftests are built with
# the whole series by build-kernel.sh itself. Prints one line per prefix and
# exits non-zero at the first prefix that does not build or warns.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kp=$(dirname "$here")
cache=${VDSOTUI_KCACHE:-/var/cache/vdsotui-kernel}
jobs=${VDSOTUI_JOBS:-2}
version=${1:?usage: check-bisect.sh VERSION}
case $version in
*[!0-9.]*) echo "check-bisect: bad version '$version'" >&2; exit 2 ;;
esac

"$here/build-kernel.sh" "$version" >/dev/null
lean="$cache/work/$version-lean"
work="$cache/work/$version-bisect"
exec 9>"$lean.lock"
flock 9

mapfile -t patches < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$kp/v$version/series")
rm -rf "$work"
mkdir -p "$work"
# Links for the source (git apply -R writes files anew, never through a
# link); a real copy of the objects, which the compiler overwrites in place.
cp -al "$lean/src" "$work/src"
cp -a "$lean/obj" "$work/obj"
flock -u 9

kmake() {
	make -C "$work/src" O="$work/obj" "$@"
}

n=${#patches[@]}
for ((k = n; k >= 1; k--)); do
	t0=$(date +%s)
	if [ "$k" -lt "$n" ]; then
		(cd "$work/src" && git apply -R -p1 "$kp/v$version/${patches[$k]}")
	fi
	kmake -s olddefconfig >/dev/null
	if ! kmake -j"$jobs" bzImage >"$work/build-$k.log" 2>&1; then
		tail -n 40 "$work/build-$k.log" >&2
		echo "check-bisect[$version]: patches 1..$k do not build (${patches[$((k - 1))]})" >&2
		exit 1
	fi
	# A prefix that builds only with a new warning is not clean either.
	if grep -q 'warning:' "$work/build-$k.log"; then
		grep 'warning:' "$work/build-$k.log" >&2
		echo "check-bisect[$version]: patches 1..$k build with warnings" >&2
		exit 1
	fi
	echo "check-bisect[$version]: patches 1..$k build ($(($(date +%s) - t0))s, last: ${patches[$((k - 1))]})"
done
rm -rf "$work"
