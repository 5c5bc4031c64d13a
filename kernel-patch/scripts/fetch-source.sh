#!/bin/bash
# Fetch and unpack Debian's linux-source-<version> package.
#
# The package lives in trixie (6.12) and trixie-backports (7.3), newer than
# this bookworm host, so a private apt state is used: the host's own sources
# stay untouched and nothing from trixie is ever installed. The mirror is
# derived from the machine's apt configuration, never written down here.
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

mirror_uri() {
	# First Debian archive URI of the host's configuration (deb822 or
	# one-line format); the security archive carries no linux-source.
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f" |
			grep -v -- '-security' | grep '/debian/\?$' | head -n1)
		[ -n "$uri" ] && { echo "${uri%/}"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; break } }' "$f" |
			grep -v -- '-security' | grep '/debian/\?$' | head -n1)
		[ -n "$uri" ] && { echo "${uri%/}"; return 0; }
	done
	return 1
}

uri=$(mirror_uri) || { echo "fetch-source: no Debian mirror in the apt configuration" >&2; exit 1; }
mkdir -p "$state/lists/partial" "$state/archives/partial" "$cache/src"
cat >"$state/sources.list" <<EOT
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie-backports main
EOT
apt_opts=(
	-o "Dir::Etc::SourceList=$state/sources.list"
	-o "Dir::Etc::SourceParts=-"
	-o "Dir::State::Lists=$state/lists"
	-o "Dir::Cache::Archives=$state/archives"
	-o "Dir::Cache=$state"
	-o "Dir::State::status=/dev/null"
	-o "APT::Get::List-Cleanup=0"
	-o "Acquire::Languages=none"
)
if [ ! -f "$state/updated" ] || [ -n "$(find "$state/updated" -mmin +1440)" ]; then
	apt-get "${apt_opts[@]}" -qq update >&2
	touch "$state/updated"
fi
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
