#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Make CRIU >= 4.2 available without touching the host's libc or apt state.
#
# Debian 12's criu 3.17 fails on kernel 6.18 (unknown [vvar_vclock] vDSO
# area). trixie's 4.1.1 runs, but cannot dump any INET socket on kernels
# >= 6.16 (getsockopt SO_PASSSEC is refused there: criu issue #2705); sid's
# 4.2.x can. So we unpack sid's criu and the libraries it needs (including
# sid's own glibc) into a private prefix, and run it through that glibc's
# loader from a wrapper script; trixie's 4.1.1 is the fallback.
# Idempotent and quiet when the prefix already holds a working criu.
# Usage: sh scripts/get-criu.sh [PREFIX]   (default /opt/cella-criu)
set -eu

PREFIX=${1:-${CELLA_CRIU_PREFIX:-/opt/cella-criu}}

version_ok() {   # version_ok CRIU MIN_MINOR: "Version: 4.N" with N >= MIN_MINOR (or 5+)
        "$1" --version 2>/dev/null | awk -v min="$2" -F'[ .]' '/^Version:/ { exit !($2 > 4 || ($2 == 4 && $3 >= min)) }'
}

if [ -x "$PREFIX/criu" ]; then
        version_ok "$PREFIX/criu" 2 && exit 0
        [ -f "$PREFIX/.fallback" ] && version_ok "$PREFIX/criu" 0 && exit 0
fi
if [ "$(id -u)" != 0 ]; then
        echo "cella: criu >= 4.2 missing; run as root: sh scripts/get-criu.sh" >&2
        exit 1
fi

A=$(mktemp -d /tmp/cella-apt.XXXXXX)
STAGE="$PREFIX.new.$$"
trap 'rm -rf "$A" "$STAGE"' EXIT
log=/tmp/cella-get-criu.log
: >"$log"
MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian

LIBS="libc6 libbsd0 libffi8 libgmp10 libgnutls30t64 libhogweed6t64 libidn2-0 libjansson4 libmd0 libmnl0
      libnettle8t64 libnftables1 libnftnl11 libnl-3-200 libp11-kit0 libprotobuf-c1 libtasn1-6
      libunistring5 libuuid1 libxtables12 libedit2"

# fetch SUITE PACKAGES...: download PACKAGES/SUITE with a private apt state,
# unpack them into $STAGE and add the wrapper. The "/SUITE" suffix matters:
# installed bookworm versions would otherwise win the candidate choice.
fetch() {
        suite=$1
        shift
        d=$A/$suite
        rm -rf "$STAGE"
        mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/debs" "$STAGE"
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $suite main" >"$d/sources.list"
        O="-o Dir::Etc::SourceList=$d/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$d/lists -o Dir::Cache=$d/cache"
        # shellcheck disable=SC2086
        apt-get $O -qq update >>"$log" 2>&1 || return 1
        pkgs=""
        for p in "$@"; do pkgs="$pkgs $p/$suite"; done
        # shellcheck disable=SC2086
        (cd "$d/debs" && apt-get $O -qq download $pkgs) >>"$log" 2>&1 || return 1
        for deb in "$d"/debs/*.deb; do dpkg -x "$deb" "$STAGE"; done
        cat >"$STAGE/criu" <<'EOW'
#!/bin/sh
# Debian's criu from a newer suite, run via that suite's own glibc loader;
# the library path applies to criu only, not to what it execs (tar, ip, ...)
P=$(readlink -f "$0")
P=${P%/*}
L=$P/usr/lib/x86_64-linux-gnu
exec "$L/ld-linux-x86-64.so.2" --library-path "$L" "$P/usr/sbin/criu" "$@"
EOW
        chmod 755 "$STAGE/criu"
}

echo "cella: installing criu 4.x (Debian packages from a newer suite) into $PREFIX"
# shellcheck disable=SC2086
if fetch sid criu libcompel1 libnet9 $LIBS && version_ok "$STAGE/criu" 2; then
        :
# shellcheck disable=SC2086
elif fetch trixie criu libnet1 $LIBS && version_ok "$STAGE/criu" 0; then
        echo "cella: only criu 4.1 could be installed: it cannot checkpoint TCP/UDP sockets on kernels >= 6.16" >&2
        touch "$STAGE/.fallback"
else
        tail -20 "$log" >&2
        echo "cella: could not install criu (log: $log)" >&2
        exit 1
fi
# a half-unpacked prefix never looks installed: it appears by rename only
rm -rf "$PREFIX"
mv "$STAGE" "$PREFIX"
"$PREFIX/criu" --version | sed -n 's/^Version: /cella: criu /p'
