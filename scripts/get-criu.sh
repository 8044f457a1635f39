#!/bin/sh
# Make CRIU >= 4.0 available without touching the host's libc or apt state.
# Debian 12's criu 3.17 fails on kernels >= 6.18 (unknown [vvar_vclock]
# vDSO area), so we unpack trixie's criu 4.1.1 and the trixie libraries it
# needs (including trixie's own glibc) into a private prefix, and run it
# through trixie's loader from a wrapper script. Idempotent and quiet when
# the prefix already holds a working criu.
# Usage: sh scripts/get-criu.sh [PREFIX]   (default /opt/cella-criu)
set -eu

PREFIX=${1:-${CELLA_CRIU_PREFIX:-/opt/cella-criu}}

if [ -x "$PREFIX/criu" ] && "$PREFIX/criu" --version 2>/dev/null | grep -q '^Version: [4-9]'; then
        exit 0
fi
if [ "$(id -u)" != 0 ]; then
        echo "cella: criu >= 4.0 missing; run as root: sh scripts/get-criu.sh" >&2
        exit 1
fi

echo "cella: installing criu 4.x (trixie packages) into $PREFIX"
A=$(mktemp -d /tmp/cella-apt-trixie.XXXXXX)
trap 'rm -rf "$A"' EXIT
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/debs"
MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main" > "$A/sources.list"
O="-o Dir::Etc::SourceList=$A/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$A/lists -o Dir::Cache=$A/cache"
log=/tmp/cella-get-criu.log
# shellcheck disable=SC2086
apt-get $O -qq update >"$log" 2>&1 || { tail -20 "$log" >&2; echo "cella: apt-get update (trixie) failed, log: $log" >&2; exit 1; }
# "/trixie" everywhere: installed bookworm versions would otherwise win
# shellcheck disable=SC2086
(cd "$A/debs" && apt-get $O -qq download criu/trixie libc6/trixie libbsd0/trixie libffi8/trixie \
        libgmp10/trixie libgnutls30t64/trixie libhogweed6t64/trixie libidn2-0/trixie \
        libjansson4/trixie libmd0/trixie libmnl0/trixie libnet1/trixie libnettle8t64/trixie \
        libnftables1/trixie libnftnl11/trixie libnl-3-200/trixie libp11-kit0/trixie \
        libprotobuf-c1/trixie libtasn1-6/trixie libunistring5/trixie libuuid1/trixie \
        libxtables12/trixie) >>"$log" 2>&1 || { tail -20 "$log" >&2; echo "cella: apt-get download failed, log: $log" >&2; exit 1; }

# unpack into a staging dir, then rename: a half-unpacked prefix never looks installed
STAGE="$PREFIX.new.$$"
rm -rf "$STAGE"
mkdir -p "$STAGE"
for d in "$A"/debs/*.deb; do dpkg -x "$d" "$STAGE"; done
cat > "$STAGE/criu" <<'EOW'
#!/bin/sh
# trixie's criu 4.x on bookworm, run via its own glibc loader; the library
# path applies to criu only, not to the programs it execs (tar, ip, ...)
P=$(dirname "$(readlink -f "$0")")
L=$P/usr/lib/x86_64-linux-gnu
exec "$L/ld-linux-x86-64.so.2" --library-path "$L" "$P/usr/sbin/criu" "$@"
EOW
chmod 755 "$STAGE/criu"
"$STAGE/criu" --version | grep -q '^Version: [4-9]' || { echo "cella: unpacked criu does not run" >&2; rm -rf "$STAGE"; exit 1; }
rm -rf "$PREFIX"
mv "$STAGE" "$PREFIX"
"$PREFIX/criu" --version | sed -n 's/^Version: /cella: criu /p'
