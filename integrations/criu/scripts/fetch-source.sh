#!/bin/bash
# Fetch and unpack CRIU's upstream source as Debian trixie ships it.
#
# The orig tarball of trixie's `criu` source package is CRIU's release
# tarball; its SHA-256 comes from trixie's signed Sources index, so what
# is unpacked is exactly what Debian builds. Debian's own packaging
# (debian.tar.xz) is not needed: the series applies to upstream.
#
# usage: fetch-source.sh   (prints the unpacked tree's path)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VDSOTUI_CRIU_CACHE:-/var/cache/vdsotui-criu}
state="$cache/apt"
# shellcheck source=../../../scripts/debian-apt.sh
. "$here/../../../scripts/debian-apt.sh"

die() {
	echo "criu fetch-source: $*" >&2
	exit 1
}

debian_apt_state "$state" "deb-src trixie main" || die "cannot set up the apt state in $state"
record=$(apt-cache "${apt_opts[@]}" showsrc criu) || die "trixie has no criu source package"
# The newest version's record comes first.
record=$(printf '%s\n' "$record" | awk 'NR > 1 && /^Package:/ { exit } { print }')
version=$(printf '%s\n' "$record" | awk '/^Version:/ { print $2; exit }')
directory=$(printf '%s\n' "$record" | awk '/^Directory:/ { print $2; exit }')
read -r sha256 _ orig < <(printf '%s\n' "$record" |
	awk '/^Checksums-Sha256:/ { on = 1; next } on && /^ / { print $1, $2, $3; next } { on = 0 }' |
	grep '\.orig\.tar\.')
[ -n "$version" ] && [ -n "$directory" ] && [ -n "$orig" ] || die "cannot read the criu source record"
upstream=${version%-*}
upstream=${upstream#*:}
tree="$cache/src/criu-$upstream"
if [ -f "$tree/.unpacked" ] && [ "$(cat "$tree/.unpacked")" = "$orig $sha256" ]; then
	echo "$tree"
	exit 0
fi

mkdir -p "$cache/src" "$state/archives"
tarball="$state/archives/$orig"
if ! echo "$sha256  $tarball" | sha256sum -c --quiet >/dev/null 2>&1; then
	uri=$(debian_mirror_uri)
	/usr/lib/apt/apt-helper -o APT::Sandbox::User=root download-file "$uri/$directory/$orig" "$tarball.part" "SHA256:$sha256" >&2 ||
		die "download of $orig failed"
	mv "$tarball.part" "$tarball"
fi
work=$(mktemp -d "$cache/src/unpack.XXXXXX")
tar -xf "$tarball" -C "$work"
top=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n1)
[ -n "$top" ] || die "$orig holds no source tree"
rm -rf "$tree"
mv "$top" "$tree"
rm -rf "$work"
echo "$orig $sha256" >"$tree/.unpacked"
echo "$tree"
