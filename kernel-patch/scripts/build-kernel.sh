#!/bin/bash
# Build a guest kernel and its vdso selftests, cached by content.
#
# usage: build-kernel.sh VERSION [--debug] [--unpatched]
#
# Applies kernel-patch/vVERSION/series to Debian's linux-source-VERSION,
# configures it from `make tinyconfig` plus kernel-patch/config/lean.config
# and criu.config (and debug.config with --debug), builds bzImage and the
# selftests, and stores them under $VDSOTUI_KCACHE/build/<hash>/, hash =
# sha256 of the version, the flavour, the series and its patches, the
# fragments and this script. Prints that directory. A second run with the same inputs only
# prints it. --unpatched builds the pristine kernel (a baseline); without
# it, a missing series file is an error.
#
# The object tree of each (version, flavour) is kept between builds so that
# a changed series recompiles only what it touches.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kp=$(dirname "$here")
cache=${VDSOTUI_KCACHE:-/var/cache/vdsotui-kernel}
jobs=${VDSOTUI_JOBS:-2}

usage() {
	echo "usage: build-kernel.sh VERSION [--debug] [--unpatched]" >&2
	exit 2
}

version=
debug=0
unpatched=0
for arg in "$@"; do
	case $arg in
	--debug) debug=1 ;;
	--unpatched) unpatched=1 ;;
	-*) usage ;;
	*) [ -z "$version" ] || usage; version=$arg ;;
	esac
done
[ -n "$version" ] || usage
case $version in
*[!0-9.]*) echo "build-kernel: bad version '$version'" >&2; exit 2 ;;
esac

flavour=lean
[ $debug = 1 ] && flavour=debug
[ $unpatched = 1 ] && flavour=$flavour-unpatched
tag="$version-$flavour"
t0=$(date +%s)
log() {
	echo "build-kernel[$tag] +$(($(date +%s) - t0))s: $*" >&2
}
die() {
	echo "build-kernel[$tag]: error: $*" >&2
	exit 1
}

# The series, in order; comments and blank lines in the series file ignored.
patches=()
series_dir="$kp/v$version"
if [ $unpatched = 0 ]; then
	[ -f "$series_dir/series" ] || die "no series file $series_dir/series (use --unpatched for the pristine kernel)"
	while read -r line; do
		line=${line%%#*}
		line=$(echo "$line" | tr -d '[:space:]')
		[ -n "$line" ] || continue
		[ -f "$series_dir/$line" ] || die "series lists $line, missing in $series_dir"
		patches+=("$series_dir/$line")
	done <"$series_dir/series"
	[ ${#patches[@]} -gt 0 ] || die "series file $series_dir/series lists no patch"
fi

fragments=("$kp/config/lean.config" "$kp/config/criu.config")
[ $unpatched = 0 ] && fragments+=("$kp/config/series.config")
[ $debug = 1 ] && fragments+=("$kp/config/debug.config")
for f in "${fragments[@]}"; do
	[ -f "$f" ] || die "missing config fragment $f"
done

hash=$({
	echo "version $version flavour $flavour"
	for p in "${patches[@]}"; do
		echo "patch $(basename "$p")"
		cat "$p"
	done
	for f in "${fragments[@]}"; do
		echo "fragment $(basename "$f")"
		cat "$f"
	done
	cat "${BASH_SOURCE[0]}"
} | sha256sum | cut -c1-16)
out="$cache/build/$hash"
if [ -f "$out/.complete" ]; then
	log "cached: $out"
	echo "$out"
	exit 0
fi

mkdir -p "$cache/build" "$cache/work"
# One build per (version, flavour) at a time; others wait, then find it cached.
exec 9>"$cache/work/$version-${flavour%-unpatched}.lock"
flock 9
if [ -f "$out/.complete" ]; then
	log "cached: $out"
	echo "$out"
	exit 0
fi

log "fetching linux-source-$version"
pristine=$("$here/fetch-source.sh" "$version")
# Patched and unpatched builds share the object tree: the series touches few files.
work="$cache/work/$version-${flavour%-unpatched}"
src="$work/src"
obj="$work/obj"
mkdir -p "$obj"

# A hard-linked copy is quick; git apply writes patched files anew, so the
# pristine tree is never modified through the links.
log "linking source tree"
rm -rf "$src"
cp -al "$pristine" "$src"
rm -f "$src/.unpacked"

touched="$obj/.vdsotui-patched-files"
new_touched=$(mktemp)
for p in "${patches[@]}"; do
	log "applying $(basename "$p")"
	# Inside a git work tree (a cache under a checkout), git apply would
	# skip every path outside the current directory, silently: stop its
	# repository search at the source tree.
	if ! (cd "$src" && export GIT_CEILING_DIRECTORIES="$work" &&
		git apply --numstat -p1 "$p" && git apply -p1 --whitespace=nowarn "$p") \
		>>"$new_touched.numstat" 2>"$new_touched.err"; then
		cat "$new_touched.err" >&2
		rm -f "$new_touched" "$new_touched".*
		die "$(basename "$p") does not apply to linux-source-$version"
	fi
done
[ -f "$new_touched.numstat" ] && cut -f3 "$new_touched.numstat" >"$new_touched"
# The copied tree has pristine mtimes, older than the kept objects: files
# patched by the previous series (now pristine again) must look changed.
# A fresh copy (not a link, whose mtime is the pristine file's) is newer.
if [ -f "$touched" ]; then
	while read -r f; do
		if [ -f "$pristine/$f" ] && ! grep -qxF "$f" "$new_touched"; then
			cp --remove-destination "$pristine/$f" "$src/$f"
		fi
	done <"$touched"
fi
mv "$new_touched" "$touched"
rm -f "$new_touched".*

kmake() {
	make -C "$src" O="$obj" "$@"
}

log "configuring: tinyconfig + ${fragments[*]##*/}"
kmake -s tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${fragments[@]}" >"$obj/merge.log" 2>&1 ||
	{ cat "$obj/merge.log" >&2; die "merge_config failed"; }
kmake -s olddefconfig >/dev/null
missing=()
while read -r want; do
	grep -qx "$want" "$obj/.config" || missing+=("$want")
done < <(grep -h '^CONFIG_[A-Z0-9_]*=' "${fragments[@]}" | grep -v '=n$')
while read -r unwanted; do
	sym=${unwanted%=n}
	grep -q "^$sym=" "$obj/.config" && missing+=("$unwanted")
done < <(grep -h '^CONFIG_[A-Z0-9_]*=n$' "${fragments[@]}")
[ ${#missing[@]} -eq 0 ] || die "options lost by olddefconfig: ${missing[*]}"

log "building bzImage (-j$jobs)"
if ! kmake -j"$jobs" bzImage >"$work/build.log" 2>&1; then
	tail -n 60 "$work/build.log" >&2
	die "kernel build failed (log: $work/build.log)"
fi
log "installing uapi headers"
kmake -s headers >/dev/null

stage="$out.tmp"
rm -rf "$stage"
mkdir -p "$stage/selftests/x86" "$stage/selftests/vDSO" "$stage/selftests/series"
khdr="-isystem $obj/usr/include"
st="$src/tools/testing/selftests"

log "building existing vdso selftests"
x86_tests=(test_mremap_vdso_64 test_mremap_vdso_32 test_syscall_vdso_32
	unwind_vdso_32 vdso_restorer_32)
for t in "${x86_tests[@]}"; do
	[ -f "$st/x86/${t%_*}.c" ] || continue
	make -C "$st/x86" -s OUTPUT="$stage/selftests/x86" KHDR_INCLUDES="$khdr" \
		"$stage/selftests/x86/$t" >>"$work/selftests.log" 2>&1 ||
		{ tail -n 40 "$work/selftests.log" >&2; die "selftest x86/$t failed to build"; }
done
# vdso_test_correctness uses __kernel_time_t without including its header;
# glibc 2.36's headers do not pull it in.
make -C "$st/vDSO" -s OUTPUT="$stage/selftests/vDSO" KHDR_INCLUDES="$khdr" \
	USERCFLAGS="$khdr -include linux/posix_types.h" \
	"$stage/selftests/vDSO/vdso_test_correctness" >>"$work/selftests.log" 2>&1 &&
	make -C "$st/vDSO" -s OUTPUT="$stage/selftests/vDSO" KHDR_INCLUDES="$khdr" \
		>>"$work/selftests.log" 2>&1 ||
	{ tail -n 40 "$work/selftests.log" >&2; die "vDSO selftests failed to build"; }

if [ $unpatched = 0 ]; then
	log "building the series' selftests"
	# As documented in kernel-patch/README.md: vdso_remap_{64,32,x32}.
	make -C "$st/vdso_remap" -s OUTPUT="$stage/selftests/series" KHDR_INCLUDES="$khdr" \
		>>"$work/selftests.log" 2>&1 ||
		{ tail -n 40 "$work/selftests.log" >&2; die "the series' selftests failed to build"; }
fi

cp "$obj/arch/x86/boot/bzImage" "$stage/bzImage"
cp "$obj/.config" "$stage/config"
cp "$obj/include/config/kernel.release" "$stage/release"
cp -r "$obj/usr/include" "$stage/include"
{
	echo "version=$version"
	echo "flavour=$flavour"
	echo "source=$(cat "$pristine/.unpacked")"
	for p in "${patches[@]}"; do echo "patch=$(basename "$p")"; done
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "seconds=$(($(date +%s) - t0))"
} >"$stage/info"
touch "$stage/.complete"
rm -rf "$out"
mv "$stage" "$out"
log "done: $out"
echo "$out"
