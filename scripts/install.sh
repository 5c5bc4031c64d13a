#!/bin/bash
# Install vdsotui for every user of the machine, or remove it again.
#
# usage: install.sh install|uninstall [PREFIX]      (root; PREFIX defaults to /usr/local)
#
# install puts
#   PREFIX/lib/vdsotui/            a venv with the package and its Python dependencies
#   PREFIX/bin/vdsotui             -> the venv's entry point
#   PREFIX/bin/vdso-helper         the setuid-root helper (helper/Makefile install)
#   PREFIX/share/man/man1/vdsotui.1, PREFIX/share/man/man8/vdso-helper.8
# and uninstall removes exactly those.
#
# The venv is built on the distribution's /usr/bin/python3: an interpreter
# under root's home (pyenv) is not reachable by other users.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
verb=${1:-}
prefix=${2:-/usr/local}
python=${VDSOTUI_INSTALL_PYTHON:-/usr/bin/python3}

die() {
	echo "install.sh: $*" >&2
	exit 1
}

case $verb in
install | uninstall) ;;
*) echo "usage: install.sh install|uninstall [PREFIX]" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || die "$verb needs root (the helper is installed setuid root)"
case $prefix in
/*) ;;
*) die "PREFIX must be an absolute path, not '$prefix'" ;;
esac

libdir=$prefix/lib/vdsotui
bindir=$prefix/bin
man1=$prefix/share/man/man1
man8=$prefix/share/man/man8

if [ "$verb" = uninstall ]; then
	# The entry point is removed only if it is ours (a link into the venv).
	if [ -L "$bindir/vdsotui" ] && [ "$(readlink "$bindir/vdsotui")" = "$libdir/bin/vdsotui" ]; then
		rm -f "$bindir/vdsotui"
	fi
	rm -rf "$libdir"
	rm -f "$bindir/vdso-helper" "$man1/vdsotui.1" "$man8/vdso-helper.8"
	# Directories this script created and that are now empty.
	for d in "$man1" "$man8" "$prefix/share/man" "$prefix/share" "$bindir" "$prefix/lib"; do
		rmdir "$d" 2>/dev/null || true
	done
	echo "vdsotui removed from $prefix"
	exit 0
fi

[ -x "$python" ] || die "$python not found: install Debian's python3-venv"
# Others must be able to read and run everything installed.
umask 022
# A venv records its own path in its scripts, so it is built in place.
rm -rf "$libdir"
"$python" -m venv "$libdir"
# A regular (not editable) install, which pip compiles to bytecode.
"$libdir/bin/python" -m pip install -q --disable-pip-version-check "$repo"
install -d "$bindir"
ln -sfn "$libdir/bin/vdsotui" "$bindir/vdsotui"
make -s -C "$repo/helper" install DESTDIR= BINDIR="$bindir" MANDIR="$man8"
install -D -m 0644 "$repo/docs/vdsotui.1" "$man1/vdsotui.1"
echo "vdsotui installed in $prefix: run 'vdsotui' (helper: $bindir/vdso-helper)"
