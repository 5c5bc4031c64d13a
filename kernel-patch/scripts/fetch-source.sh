#!/bin/bash
# Fetch and unpack Debian's linux-source-<version> package.
#
# The package lives in trixie (6.12) and trixie-backports (7.3), newer than
# this bookworm host: scripts/debian-apt.sh gives it a private apt state.
#
# usage: fetch-source.sh VERSION   (prints the unpacked tree's path)
set -euo pipefail

version=${1:?usage: fetch-source.sh VERSION}
cache=${VDSOTUI_KCACHE:-/var/cache/vdsotui-kernel}
state="$cache/apt"
tree="$cache/src/linux-source-$version"

if [ -f "$tree/.unpacked" ]; then
	echo "$tree"
	exit 0
fi

# shellcheck source=../../scripts/debian-apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/debian-apt.sh"
mkdir -p "$cache/src"
debian_apt_state "$state" "deb trixie main" "deb trixie-backports main" ||
	{ echo "fetch-source: cannot set up the apt state in $state" >&2; exit 1; }
cd "$state/archives"
if ! ls linux-source-"$version"_*.deb >/dev/null 2>&1; then
	apt-get "${apt_opts[@]}" -qq download "linux-source-$version" >&2
fi
deb=$(ls linux-source-"$version"_*.deb | sort -V | tail -n1)
work=$(mktemp -d "$cache/src/unpack.XXXXXX")
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards '*.tar.xz'
tarball=$(find "$work" -name "linux-source-$version.tar.xz" | head -n1)
rm -rf "$tree"
tar -xJf "$tarball" -C "$cache/src"
rm -rf "$work"
echo "$deb" >"$tree/.unpacked"
echo "$tree"
