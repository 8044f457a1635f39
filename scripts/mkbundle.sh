#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mkbundle.sh DIR [--rootless]
#
# Make an OCI bundle in DIR: DIR/rootfs holds one static busybox and a
# symlink per applet, a minimal /etc; DIR/config.json comes from
# `$RUNTIME spec` with terminal off and args ["sh"].
#
# Environment:
#   RUNTIME           runtime whose `spec` writes config.json (default ./cella,
#                     falling back to runc when that cannot write a spec)
#   BUNDLE_TEMPLATE   a directory made by an earlier mkbundle.sh call: its rootfs
#                     is copied with `cp -a` (reflinks where the fs can) instead
#                     of being built again. Tests set it once per run.
set -eu

usage() { echo "usage: mkbundle.sh DIR [--rootless]" >&2; exit 2; }
[ $# -ge 1 ] || usage
dir=$1
shift
rootless=""
for a in "$@"; do
        case "$a" in
        --rootless) rootless=--rootless ;;
        *) usage ;;
        esac
done

RUNTIME=${RUNTIME:-./cella}
BUSYBOX=${BUSYBOX:-/bin/busybox}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

build_rootfs() {
        r=$1
        mkdir -p "$r/bin" "$r/sbin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" \
                "$r/root" "$r/home" "$r/var" "$r/run"
        chmod 1777 "$r/tmp"
        [ -x "$BUSYBOX" ] || { echo "mkbundle: $BUSYBOX missing (apt-get install busybox-static)" >&2; exit 1; }
        if ! file_is_static "$BUSYBOX"; then
                echo "mkbundle: $BUSYBOX is not static (apt-get install busybox-static)" >&2
                exit 1
        fi
        cp "$BUSYBOX" "$r/bin/busybox"
        for applet in $("$BUSYBOX" --list); do
                [ "$applet" = busybox ] && continue
                [ -e "$r/bin/$applet" ] || ln -s busybox "$r/bin/$applet"
        done
        ln -sf ../bin/busybox "$r/sbin/init"
        cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
        cat >"$r/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
nobody:x:65534:
EOF
        echo cella >"$r/etc/hostname"
        : >"$r/etc/hosts"
        : >"$r/etc/resolv.conf"
}

# ldd(1) is in libc-bin, always installed on Debian; file(1) is not.
file_is_static() {
        LC_ALL=C ldd "$1" 2>&1 | grep -q 'not a dynamic executable'
}

write_spec() {
        d=$1
        rm -f "$d/config.json"
        if ! (cd "$d" && "$RUNTIME" spec $rootless) >/dev/null 2>&1 || [ ! -s "$d/config.json" ]; then
                fallback=$(command -v runc || true)
                if [ -z "$fallback" ]; then
                        echo "mkbundle: '$RUNTIME spec' failed and runc is not installed" >&2
                        exit 1
                fi
                echo "mkbundle: '$RUNTIME spec' failed; using '$fallback spec'" >&2
                rm -f "$d/config.json"
                (cd "$d" && "$fallback" spec $rootless) >/dev/null
        fi
        # terminal off; args ["sh"] (the default spec already says "sh", keep it explicit)
        sed -i -e 's/"terminal":[[:space:]]*true/"terminal": false/' "$d/config.json"
}

rm -rf "$dir/rootfs"
if [ -n "${BUNDLE_TEMPLATE:-}" ] && [ -d "$BUNDLE_TEMPLATE/rootfs" ]; then
        cp -a --reflink=auto "$BUNDLE_TEMPLATE/rootfs" "$dir/rootfs"
else
        build_rootfs "$dir/rootfs"
fi

if [ -n "${BUNDLE_TEMPLATE:-}" ] && [ -z "$rootless" ] && [ -s "$BUNDLE_TEMPLATE/config.json" ]; then
        cp "$BUNDLE_TEMPLATE/config.json" "$dir/config.json"
else
        write_spec "$dir"
fi
