#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
# /init of the VM of run-suites-v2.sh (packed by mkinitramfs.sh with
# VM_INIT=this file; the host appends /config).
#
# Builds the guest's root from the host's own trees, so the guest runs the
# same bash, python, gcc and cella as the host: a tmpfs root holding the host's
# /usr and /etc (virtio-9p, read-only), the checkout at its host path
# (read-only), the host's top-level links (bin -> usr/bin, ...), and tmpfs on
# /tmp, /run, /var and /root. Then switch_root into it and exec the second
# stage, tests/vm/suites-guest.sh, as PID 1 (a plain chroot would leave the
# kernel's idea of / at the initramfs: pivot_root(2) in a container and
# /proc/PID/root of processes started by setns() would still see the outer root).
#
# /config (shell): SRC=checkout path, LINKS="name:target ...",
# SHARES="tag:guestdir ...", the rest is for the second stage.
PATH=/bin:/sbin
export PATH

die() {
	echo "suites-init: $*" >/dev/console
	poweroff -f
	sleep 10
}

while read -r m; do
	[ -n "$m" ] && { insmod "/lib/modules/$m.ko" 2>/dev/console || die "insmod $m failed"; }
done < /lib/modules/load-order

. /config
new=/newroot
mkdir -p $new
mount -t tmpfs -o mode=0755 tmpfs $new || die "tmpfs for the new root"
for d in proc sys dev tmp run var root usr etc; do mkdir -p "$new/$d"; done
for l in $LINKS; do ln -s "${l#*:}" "$new/${l%%:*}"; done
chmod 1777 $new/tmp
mount -t tmpfs -o mode=1777 tmpfs $new/tmp
mount -t tmpfs -o mode=0755 tmpfs $new/run
mount -t tmpfs -o mode=0755 tmpfs $new/var
mount -t tmpfs -o mode=0700 tmpfs $new/root
mkdir -p $new/var/tmp $new/var/lib $new/var/log $new/var/cache
chmod 1777 $new/var/tmp
# cache=loose: the shares are read-only and the VM lives for one run, so the
# guest may keep what it read (every exec of bash or python reads /usr)
for s in $SHARES; do
	tag=${s%%:*} dir=${s#*:}
	mkdir -p "$new$dir"
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro "$tag" "$new$dir" ||
		die "mount 9p $tag on $dir failed"
done
cp /config $new/run/vm-config
exec switch_root $new /bin/bash "$SRC/tests/vm/suites-guest.sh"
die "switch_root failed"
