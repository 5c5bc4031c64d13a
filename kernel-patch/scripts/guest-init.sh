#!/bin/sh
# /init of the guest's initramfs (busybox sh); see run-guest.sh.
#
# Stage 1 mounts the host's root filesystem (9p, read-only) under a tmpfs
# overlay so that tests may install files and add users without touching
# the host, and switches into that root. Stage 2 (the same script, with
# "stage2") mounts the kernel filesystems and the shared scratch directory
# at its host path, runs the command and ends the guest (a reboot, which
# QEMU's -no-reboot turns into an exit).
# Exit status, kernel log and the clocksource in use at the end go to the
# scratch directory.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

fail() {
	echo "guest-init: $*" >&2
	/bin/busybox reboot -f
}

if [ "$1" != stage2 ]; then
	/bin/busybox mkdir -p /proc /sys /dev /mnt/lower /mnt/rw /newroot
	/bin/busybox --install -s /bin
	mount -t proc proc /proc
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	for opt in $(cat /proc/cmdline); do
		case $opt in
		vdsotui.scratch=*) scratch=${opt#vdsotui.scratch=} ;;
		esac
	done
	opts=trans=virtio,version=9p2000.L,msize=512000,cache=loose
	mount -t 9p -o "$opts,ro" hostroot /mnt/lower || fail "cannot mount the host root"
	mount -t tmpfs -o mode=0755 rw /mnt/rw
	mkdir -p /mnt/rw/upper /mnt/rw/work
	mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work \
		root /newroot || fail "cannot mount the overlay root"
	mkdir -p /newroot/.vdsotui-guest
	cp /bin/busybox /init /newroot/.vdsotui-guest/
	umount /proc
	umount /dev 2>/dev/null
	exec switch_root /newroot /.vdsotui-guest/busybox sh /.vdsotui-guest/init stage2 "$scratch"
fi

scratch=$2
bb=/.vdsotui-guest/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
$bb ln -sf pts/ptmx /dev/ptmx
# /tmp and /var/tmp stay the overlay's (writable, nothing reaches the host):
# the work tree under test may live there, and the guest must see it.
for d in /dev/shm /run; do
	$bb mount -t tmpfs -o mode=1777 tmpfs $d
done
$bb chmod 0755 /run
# After the tmpfs mounts: the scratch directory may live under /tmp.
$bb mkdir -p "$scratch"
$bb mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 scratch "$scratch" || {
	echo "guest-init: cannot mount the scratch directory" >&2
	$bb reboot -f
}
$bb hostname vdsotui-guest
$bb ip link set lo up 2>/dev/null

cd / || exit 1
# Environment and command written by run-guest.sh; the command runs in its
# own shell so that anything it does cannot skip the power-off below.
/bin/sh -c '. "$1/env"; cd "$VDSOTUI_GUEST_CWD" 2>/dev/null || cd /; exec /bin/sh "$1/cmd"' \
	sh "$scratch" </dev/null
echo $? >"$scratch/rc"
$bb dmesg >"$scratch/dmesg"
$bb cat /sys/devices/system/clocksource/clocksource0/current_clocksource \
	>"$scratch/clocksource" 2>/dev/null
$bb sync
$bb reboot -f
