#!/bin/bash
# Build CRIU, patched by integrations/criu/series or not, cached by content.
#
# usage: build-criu.sh [--unpatched]   (prints the directory holding `criu`)
#
# The tree comes from fetch-source.sh (Debian trixie's criu). The result
# goes to $VDSOTUI_CRIU_CACHE/build/<hash>/, hash = sha256 of the flavour,
# the source tarball's checksum, the series and its patches and this
# script; a second run with the same inputs only prints that directory.
# The guests see it at the same path: their root is the host's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
cache=${VDSOTUI_CRIU_CACHE:-/var/cache/vdsotui-criu}
jobs=${VDSOTUI_JOBS:-2}

unpatched=0
case ${1:-} in
'') ;;
--unpatched) unpatched=1 ;;
*) echo "usage: build-criu.sh [--unpatched]" >&2; exit 2 ;;
esac
flavour=patched
[ $unpatched = 1 ] && flavour=unpatched
die() {
	echo "build-criu[$flavour]: error: $*" >&2
	exit 1
}

patches=()
if [ $unpatched = 0 ]; then
	while read -r line; do
		line=${line%%#*}
		line=$(echo "$line" | tr -d '[:space:]')
		[ -n "$line" ] || continue
		[ -f "$top/$line" ] || die "series lists $line, missing in $top"
		patches+=("$top/$line")
	done <"$top/series"
	[ ${#patches[@]} -gt 0 ] || die "series lists no patch (use --unpatched for the pristine CRIU)"
fi

src=$("$here/fetch-source.sh")
hash=$({
	echo "flavour $flavour"
	cat "$src/.unpacked"
	for p in "${patches[@]}"; do
		echo "patch $(basename "$p")"
		cat "$p"
	done
	cat "${BASH_SOURCE[0]}"
} | sha256sum | cut -c1-16)
out="$cache/build/$hash"
if [ -f "$out/.complete" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache/build" "$cache/work"
exec 9>"$cache/work/$flavour.lock"
flock 9
if [ -f "$out/.complete" ]; then
	echo "$out"
	exit 0
fi

# A plain copy: CRIU's build rewrites some files of its tree in place.
work="$cache/work/$flavour"
rm -rf "$work"
cp -a "$src" "$work"
for p in "${patches[@]}"; do
	# Stop git's repository search at the tree: a cache inside a checkout
	# would make git apply skip the patch's paths.
	(cd "$work" && GIT_CEILING_DIRECTORIES="$cache/work" git apply -p1 "$p") ||
		die "$(basename "$p") does not apply to $(basename "$src")"
done
echo "build-criu[$flavour]: building $(basename "$src") (-j$jobs)" >&2
if ! make -C "$work" -j"$jobs" criu >"$work.log" 2>&1; then
	tail -n 40 "$work.log" >&2
	die "build failed (log: $work.log)"
fi
# The guests have no netfilter: a CRIU linked with libnftables probes it at
# start-up and gives up (libnftables-dev is not among our packages).
grep -q 'Building without nftables support' "$work.log" ||
	die "CRIU was built with libnftables, which the guests cannot serve; remove libnftables-dev"
stage="$out.tmp"
rm -rf "$stage"
mkdir -p "$stage"
install -m 0755 "$work/criu/criu" "$stage/criu"
cp "$work.log" "$stage/build.log"
touch "$stage/.complete"
rm -rf "$out"
mv "$stage" "$out"
rm -rf "$work"
echo "$out"
