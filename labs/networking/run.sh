#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# labs/networking: two containers on a bridge, a published port, and what
# `ip addr` / `ip route` show inside each. Everything happens inside a
# network namespace this script makes (unshare --net): the host's network
# is never touched, and the namespace vanishes with the script.
. "$(dirname "$0")/../lib.sh"

command -v unshare >/dev/null || { echo "networking: needs unshare (util-linux)" >&2; exit 1; }
command -v ip >/dev/null || { echo "networking: needs ip (iproute2)" >&2; exit 1; }
import_busybox
WEB=$(new_id web)
CLI=$(new_id client)
BB=$(command -v busybox || echo /bin/busybox)

note "a private network namespace (unshare --net): only lo, down"
# the script inside prints "section|key|value" lines; the human-readable
# parts go to stderr so both reach the terminal
cat >"$WORK/inside.sh" <<'IN'
set -eu
trap '$C delete --force "$WEB" >/dev/null 2>&1 || true; $C delete --force "$CLI" >/dev/null 2>&1 || true' EXIT
ip link set lo up
echo "namespace|interfaces before|$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')"
$C run -d --image busybox --net bridge -p 127.0.0.1:8080:80 --hostname web --name "$WEB" -- httpd -f -p 80 -h /var/www >&2
$C run -d --image busybox --net bridge --hostname client --name "$CLI" -- sleep 600 >&2
for id in "$WEB" "$CLI"; do
        name=$($C exec "$id" hostname)
        echo "$name|ip addr (eth0)|$($C exec "$id" ip -4 -o addr show eth0 | awk '{print $4}')"
        echo "$name|interfaces|$($C exec "$id" ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')"
        $C exec "$id" ip route | while read -r r; do echo "$name|ip route|$r"; done
        echo >&2 "--- $name: ip addr"; $C exec "$id" ip addr >&2
        echo >&2 "--- $name: ip route"; $C exec "$id" ip route >&2
done
echo "namespace|interfaces after|$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | tr '\n' ' ')"
echo "namespace|bridge address|$(ip -4 -o addr show | awk '$2 !~ /^lo/ {print $2, $4}' | tr '\n' ' ')"
web_ip=$($C exec "$WEB" ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
if $C exec "$CLI" ping -c 1 -W 2 "$web_ip" >/dev/null 2>&1; then r=ok; else r=failed; fi
echo "client -> web|ping $web_ip|$r"
page=$($C exec "$CLI" timeout 3 wget -q -O - "http://$web_ip/index.html" 2>&1 || true)
echo "client -> web|wget http://$web_ip/|$(echo "$page" | sed 's/<[^>]*>//g' | head -1)"
page=""
for i in 1 2 3 4 5 6 7 8 9 10; do
        page=$(timeout 3 "$BB" wget -q -O - http://127.0.0.1:8080/index.html 2>/dev/null) && break
        sleep 0.2
done
echo "namespace -> web|wget http://127.0.0.1:8080/ (published port)|$(echo "$page" | sed 's/<[^>]*>//g' | head -1)"
if command -v nft >/dev/null; then
        echo "namespace|port rules (nft)|$(nft list table ip cella 2>/dev/null | grep -c dnat || true) dnat rule(s)"
        nft list table ip cella >&2 2>/dev/null || true
fi
$C delete --force "$WEB"
$C delete --force "$CLI"
echo "namespace|interfaces after delete|$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | tr '\n' ' ')"
IN
unshare --net env C="$C" WEB="$WEB" CLI="$CLI" BB="$BB" bash "$WORK/inside.sh" >"$WORK/out" 2>"$OUT/log.txt" </dev/null
[ "$LAB_QUICK" = 1 ] || cat "$OUT/log.txt"
echo
table "where" "what" "value" <"$WORK/out"
echo "(ip addr / ip route / nft output: $OUT/log.txt)"
