#!/bin/bash
# Check that every prefix of a series builds: what `git bisect` needs.
#
# usage: check-bisect.sh VERSION   (as root)
#
# Starts from the complete lean build of VERSION (build-kernel.sh, cached),
# copies its source and object trees, then takes the patches off one at a
# time from the last, building bzImage after each, so each prefix costs
# only what its missing patch touched. The series' selftests are built with
# the whole series by build-kernel.sh itself. Prints one line per prefix and
# exits non-zero at the first prefix that does not build or warns.
#
# kbuild records absolute paths in each object's command line: under
# another path the copy would recompile everything. So the copy is
# bind-mounted over the original's path in a private mount namespace, where
# the builds run; nothing outside sees it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kp=$(dirname "$here")
cache=${VDSOTUI_KCACHE:-/var/cache/vdsotui-kernel}
jobs=${VDSOTUI_JOBS:-2}
version=${1:?usage: check-bisect.sh VERSION}
case $version in
*[!0-9.]*) echo "check-bisect: bad version '$version'" >&2; exit 2 ;;
esac
lean=$(readlink -f "$cache/work/$version-lean")
work="$cache/work/$version-bisect"

if [ "${2:-}" != --in-namespace ]; then
	[ "$(id -u)" = 0 ] || { echo "check-bisect: must run as root (mount namespace)" >&2; exit 1; }
	"$here/build-kernel.sh" "$version" >/dev/null
	lean=$(readlink -f "$cache/work/$version-lean")
	exec 9>"$cache/work/$version-lean.lock"
	flock 9
	rm -rf "$work"
	mkdir -p "$work"
	# Links for the source (git apply -R writes files anew, never through
	# a link); a real copy of the objects, which the compiler rewrites.
	cp -al "$lean/src" "$work/src"
	cp -a "$lean/obj" "$work/obj"
	flock -u 9
	exec unshare --mount --propagation private \
		bash -c 'mount --bind "$1" "$2" && exec "$3" "$4" --in-namespace' \
		sh "$work" "$lean" "${BASH_SOURCE[0]}" "$version"
fi

# In the namespace: $lean shows the copy.
mapfile -t patches < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$kp/v$version/series")
kmake() {
	make -C "$lean/src" O="$lean/obj" "$@"
}

n=${#patches[@]}
status=0
for ((k = n; k >= 1; k--)); do
	t0=$(date +%s)
	if [ "$k" -lt "$n" ]; then
		(cd "$lean/src" && GIT_CEILING_DIRECTORIES="$lean" git apply -R -p1 "$kp/v$version/${patches[$k]}")
	fi
	kmake -s olddefconfig >/dev/null
	log="$lean/bisect-$k.log"
	if ! kmake -j"$jobs" bzImage >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "check-bisect[$version]: patches 1..$k do not build (${patches[$((k - 1))]})" >&2
		status=1
		break
	fi
	# A prefix that builds only with a new warning is not clean either.
	if grep -q 'warning:' "$log"; then
		grep 'warning:' "$log" >&2
		echo "check-bisect[$version]: patches 1..$k build with warnings" >&2
		status=1
		break
	fi
	echo "check-bisect[$version]: patches 1..$k build ($(($(date +%s) - t0))s, last: ${patches[$((k - 1))]})"
done
rm -rf "${work:?}/src" "${work:?}/obj"
exit $status
