#!/bin/bash
# Boot a built kernel under QEMU and run one command in it as root.
#
# usage: run-guest.sh [options] BUILD_DIR -- COMMAND [ARGS...]
#   --timeout SECS   kill the guest after SECS (default 600)
#   --mem MB         guest memory (default 2048)
#   --smp N          guest CPUs (default 2)
#   --scratch DIR    host directory shared read-write with the guest, mounted
#                    at the same path inside it (default: a temporary one)
#   --env NAME=VAL   set a variable for COMMAND (repeatable)
#
# The guest's root is the host's root filesystem shared read-only over 9p
# with a tmpfs overlay on top: the command sees the host's programs, the
# project tree and its venv at their usual paths, may write anywhere, and
# nothing it writes reaches the host except through the scratch directory.
# COMMAND runs in the current directory with PATH, LANG and all
# VDSOTUI_* variables of the caller. Its output streams to stdout (the
# guest's serial console, kernel warnings included) and its exit status is
# this script's. If the guest dies or times out, the status is 124 and a
# one-line reason is printed. The kernel log is left in SCRATCH/dmesg, the
# clocksource the guest ended on in SCRATCH/clocksource.
#
# Acceleration: KVM when a probe boot proves it works on this machine (the
# answer is cached), else TCG with -cpu max. VDSOTUI_ACCEL=kvm|tcg forces one,
# VDSOTUI_QEMU_CPU replaces the -cpu model.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VDSOTUI_KCACHE:-/var/cache/vdsotui-kernel}

usage() {
	echo "usage: run-guest.sh [--timeout S] [--mem MB] [--smp N] [--scratch DIR] [--env N=V] BUILD_DIR -- COMMAND..." >&2
	exit 2
}
die() {
	echo "run-guest: $*" >&2
	exit 124
}

timeout=600
mem=2048
smp=2
scratch=
envs=()
build=
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--scratch) scratch=${2:?}; shift 2 ;;
	--env) envs+=("${2:?}"); shift 2 ;;
	--) shift; break ;;
	-*) usage ;;
	*) [ -z "$build" ] || usage; build=$1; shift ;;
	esac
done
[ -n "$build" ] && [ $# -gt 0 ] || usage
[ -f "$build/bzImage" ] || die "no bzImage in $build"
for n in "$timeout" "$mem" "$smp"; do
	case $n in '' | *[!0-9]*) usage ;; esac
done

own_scratch=0
if [ -z "$scratch" ]; then
	scratch=$(mktemp -d /tmp/vdsotui-guest.XXXXXX)
	own_scratch=1
fi
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd -P)
case $scratch in
*[!A-Za-z0-9/._+-]*) die "scratch path must not contain spaces or shell characters: $scratch" ;;
esac
rm -f "$scratch/rc" "$scratch/dmesg" "$scratch/clocksource"

# The initramfs: static busybox and guest-init.sh; rebuilt when either changes.
busybox=$(command -v busybox) || die "busybox (busybox-static) is not installed"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	die "$busybox is not statically linked (install busybox-static)"
ihash=$(cat "$busybox" "$here/guest-init.sh" | sha256sum | cut -c1-16)
initrd="$cache/initramfs/$ihash.cpio.gz"
if [ ! -f "$initrd" ]; then
	mkdir -p "$cache/initramfs"
	tree=$(mktemp -d)
	mkdir -p "$tree/bin" "$tree/dev"
	cp "$busybox" "$tree/bin/busybox"
	ln -s busybox "$tree/bin/sh"
	cp "$here/guest-init.sh" "$tree/init"
	chmod 0755 "$tree/init"
	(cd "$tree" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$tree"
fi

# Command and environment for stage 2 of guest-init.sh.
{
	printf 'export PATH=%q HOME=/root TERM=dumb LANG=%q\n' \
		"$PATH" "${LANG:-C.UTF-8}"
	printf 'export VDSOTUI_GUEST=1 VDSOTUI_GUEST_SCRATCH=%q VDSOTUI_GUEST_CWD=%q\n' \
		"$scratch" "$(pwd -P)"
	while IFS= read -r name; do
		printf 'export %s=%q\n' "$name" "${!name}"
	done < <(compgen -e | grep '^VDSOTUI_' | grep -v '^VDSOTUI_GUEST')
	for kv in "${envs[@]}"; do
		printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
	done
} >"$scratch/env"
{
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$scratch/cmd"

qemu_base=(qemu-system-x86_64 -nodefaults -display none -no-reboot
	-monitor none -serial stdio -m "$mem"
	-kernel "$build/bzImage" -initrd "$initrd"
	-virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap
	-virtfs "local,path=$scratch,mount_tag=scratch,security_model=passthrough,multidevs=remap")
# tsc=reliable: under TCG the clocksource watchdog's cross-CPU reads are
# slow enough to mark the TSC unstable; the kernel then falls back to HPET
# and every vdso clock call becomes a system call, so the vdso's own clock
# code (what the tests check after each move and switch) would not run.
append="console=ttyS0 panic=-1 tsc=reliable vdsotui.scratch=$scratch"
qemu_pid=
cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	if [ $own_scratch = 1 ]; then
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# boot ACCEL CPU SMP TIMEOUT APPEND: QEMU's console to stdout, CRs removed.
boot() {
	timeout -k 5 "$4" "${qemu_base[@]}" -accel "$1" -cpu "$2" -smp "$3" \
		-append "$5" </dev/null > >(sed -u 's/\r//g') 2>&1 &
	qemu_pid=$!
	local rc=0
	wait "$qemu_pid" || rc=$?
	qemu_pid=
	return $rc
}

# KVM hangs at boot on some hosts: prove it once per (host kernel, QEMU).
accel=${VDSOTUI_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	if [ -w /dev/kvm ]; then
		probe="$cache/kvm-probe/$(uname -r)-$(qemu-system-x86_64 --version | head -n1 | tr -c 'A-Za-z0-9.\n' _)"
		if [ ! -f "$probe" ]; then
			mkdir -p "$cache/kvm-probe"
			echo "run-guest: probing KVM (once per host kernel and QEMU)" >&2
			cp "$scratch/cmd" "$scratch/cmd.real"
			echo 'exit 0' >"$scratch/cmd"
			if boot kvm host 1 30 "$append quiet" >/dev/null 2>&1 && [ "$(cat "$scratch/rc" 2>/dev/null)" = 0 ]; then
				echo kvm >"$probe"
			else
				echo tcg >"$probe"
			fi
			mv "$scratch/cmd.real" "$scratch/cmd"
			rm -f "$scratch/rc" "$scratch/dmesg"
		fi
		accel=$(cat "$probe")
	fi
fi
case $accel in
kvm) cpu=host ;;
# QEMU 7.2's TCG checks SMAP on the stack reads of a far return from
# 32-bit code (lret to a 64-bit segment, as in test_syscall_vdso_32) and
# reports a supervisor fault on a user page: the guest oopses. Not a guest
# kernel bug, so SMAP is left out of the emulated CPU.
tcg) cpu=max,smap=off ;;
*) die "VDSOTUI_ACCEL must be kvm or tcg" ;;
esac
cpu=${VDSOTUI_QEMU_CPU:-$cpu}

echo "run-guest: booting $(cat "$build/release" 2>/dev/null || echo "$build") ($accel, ${smp} cpus, ${mem} MiB, timeout ${timeout}s)" >&2
qrc=0
boot "$accel" "$cpu" "$smp" "$timeout" "$append quiet" || qrc=$?
if [ ! -f "$scratch/rc" ]; then
	if [ $qrc = 124 ] || [ $qrc = 137 ]; then
		die "guest timed out after ${timeout}s"
	fi
	die "guest ended without a result (QEMU exit status $qrc): crashed or panicked"
fi
rc=$(cat "$scratch/rc")
case $rc in '' | *[!0-9]*) die "bad result '$rc' from the guest" ;; esac
exit "$rc"
