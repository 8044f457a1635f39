#!/bin/sh
# cella image: import of every source kind, overlay rootfs checked file by
# file, refusals, crash recovery, rm and prune. Self-contained TAP.
# RUNTIME: the cella binary (default ./cella). Needs root for overlayfs.
set -u

RUNTIME=${RUNTIME:-./cella}
case "$RUNTIME" in /*) ;; *) RUNTIME="$PWD/$RUNTIME" ;; esac

T=$(mktemp -d /tmp/cella-image-test.XXXXXX)
ROOT="$T/store"
N=0
FAILED=0
MOUNTED=""

cleanup() {
        for id in $MOUNTED; do
                "$RUNTIME" --image-root "$ROOT" image umount "$id" >/dev/null 2>&1
        done
        # anything still mounted below the temp dir goes before the rm
        grep " $T/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do
                umount -l "$m" 2>/dev/null
        done
        rm -rf "$T"
}
trap cleanup EXIT INT TERM

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; }
skip() { N=$((N + 1)); echo "ok $N - $1 # SKIP $2"; }
check() { # check NAME CMD...
        name=$1
        shift
        if "$@" >"$T/out" 2>&1; then ok "$name"; else not_ok "$name"; sed 's/^/#   /' "$T/out"; fi
}
cella() { "$RUNTIME" --image-root "$ROOT" "$@"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# ---- building images by hand: sh + tar + sha256sum ----

# new_layout DIR: an empty OCI layout
new_layout() {
        mkdir -p "$1/blobs/sha256"
        echo '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
}

# add_layer LAYOUT SRCDIR COMPRESSION(none|gzip|zstd): appends to $LAYERS and $DIFFS
add_layer() {
        # one tar per source dir: the same content must give the same diff_id
        key=$(echo "$2" | tr / _)
        [ -f "$T/tar$key" ] || tar --numeric-owner --xattrs -C "$2" -cf "$T/tar$key" .
        cp "$T/tar$key" "$T/layer.tar"
        diff=$(sha "$T/layer.tar")
        case $3 in
        gzip) gzip -n -c "$T/layer.tar" >"$T/layer.blob"; mt=application/vnd.oci.image.layer.v1.tar+gzip ;;
        zstd) zstd -q -c "$T/layer.tar" >"$T/layer.blob"; mt=application/vnd.oci.image.layer.v1.tar+zstd ;;
        *) cp "$T/layer.tar" "$T/layer.blob"; mt=application/vnd.oci.image.layer.v1.tar ;;
        esac
        d=$(sha "$T/layer.blob")
        s=$(size "$T/layer.blob")
        mv "$T/layer.blob" "$1/blobs/sha256/$d"
        LAYERS="$LAYERS${LAYERS:+,}{\"mediaType\":\"$mt\",\"digest\":\"sha256:$d\",\"size\":$s}"
        DIFFS="$DIFFS${DIFFS:+,}\"sha256:$diff\""
}

# finish_image LAYOUT REFNAME CONFIG_EXTRA: config + manifest, appended to $MANIFESTS
finish_image() {
        printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"],"Env":["PATH=/bin:/usr/bin"],"WorkingDir":"/"%s},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
                "${3:-}" "$DIFFS" >"$T/config.json"
        c=$(sha "$T/config.json")
        cs=$(size "$T/config.json")
        mv "$T/config.json" "$1/blobs/sha256/$c"
        printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
                "$c" "$cs" "$LAYERS" >"$T/manifest.json"
        m=$(sha "$T/manifest.json")
        ms=$(size "$T/manifest.json")
        mv "$T/manifest.json" "$1/blobs/sha256/$m"
        MANIFESTS="$MANIFESTS${MANIFESTS:+,}{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$m\",\"size\":$ms,\"annotations\":{\"org.opencontainers.image.ref.name\":\"$2\"}}"
        LAYERS=""
        DIFFS=""
        CONFIG_HEX=$c
}

write_index() {
        printf '{"schemaVersion":2,"manifests":[%s]}' "$MANIFESTS" >"$1/index.json"
        MANIFESTS=""
}

LAYERS=""
DIFFS=""
MANIFESTS=""

# the busybox base rootfs
B="$T/base"
mkdir -p "$B/bin" "$B/etc" "$B/tmp" "$B/root" "$B/home/app" "$B/opt/keep" "$B/opt/old" "$B/var/cache"
cp /bin/busybox "$B/bin/busybox"
for a in sh ls cat echo id true; do ln -s busybox "$B/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$B/etc/passwd"
printf 'root:x:0:\napp:x:1000:\nwheel:x:10:app\n' >"$B/etc/group"
echo base >"$B/etc/motd"
echo keep >"$B/opt/keep/file"
echo old1 >"$B/opt/old/a"
echo old2 >"$B/opt/old/b"
echo gone >"$B/etc/removed"
echo cache >"$B/var/cache/c1"
mkdir -p "$B/var/cache/sub" && echo deep >"$B/var/cache/sub/d"
chmod 1777 "$B/tmp"

# layer 2: whiteout /etc/removed, new file, opaque /opt/old, changed motd
L2="$T/l2"
mkdir -p "$L2/etc" "$L2/opt/old" "$L2/srv"
echo layer2 >"$L2/etc/motd"
: >"$L2/etc/.wh.removed"
: >"$L2/opt/old/.wh..wh..opq"
echo new >"$L2/opt/old/c"
echo srv >"$L2/srv/data"
ln "$L2/srv/data" "$L2/srv/hardlink"

# layer 3: whiteout a whole directory, replace a dir with a file, setuid + cap
L3="$T/l3"
mkdir -p "$L3/var" "$L3/srv" "$L3/usr/bin"
: >"$L3/var/.wh.cache"
echo top >"$L3/srv/data"
cp /bin/busybox "$L3/usr/bin/ping"
chmod 4755 "$L3/usr/bin/ping"
have_setcap=0
if command -v setcap >/dev/null 2>&1 && setcap cap_net_raw+ep "$L3/usr/bin/ping" 2>/dev/null; then have_setcap=1; fi

# ---- the images ----

OCI="$T/oci"
new_layout "$OCI"
add_layer "$OCI" "$B" gzip
add_layer "$OCI" "$L2" gzip
add_layer "$OCI" "$L3" gzip
finish_image "$OCI" "localhost/layered:latest" ',"User":"app","Labels":{"org.example":"yes"},"ExposedPorts":{"80/tcp":{}}'
LAYERED_ID=$CONFIG_HEX
write_index "$OCI"

OCIZ="$T/ociz"
new_layout "$OCIZ"
add_layer "$OCIZ" "$B" zstd
finish_image "$OCIZ" "localhost/bbzstd:1"
write_index "$OCIZ"

# two images in one OCI archive, uncompressed layers
OCIA="$T/ocia"
new_layout "$OCIA"
add_layer "$OCIA" "$B" none
finish_image "$OCIA" "localhost/multi-a:latest"
add_layer "$OCIA" "$B" none
add_layer "$OCIA" "$L2" gzip
finish_image "$OCIA" "localhost/multi-b:latest"
write_index "$OCIA"
tar -C "$OCIA" -cf "$T/oci-archive.tar" .

# docker save: manifest.json, <hex>.json, <diff>/layer.tar
DK="$T/docker"
mkdir -p "$DK"
cp "$T/tar$(echo "$B" | tr / _)" "$T/dl.tar"
dl=$(sha "$T/dl.tar")
mkdir -p "$DK/$dl" && mv "$T/dl.tar" "$DK/$dl/layer.tar"
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/echo","docker"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$dl" >"$DK/cfg.json"
dc=$(sha "$DK/cfg.json")
mv "$DK/cfg.json" "$DK/$dc.json"
printf '[{"Config":"%s.json","RepoTags":["busybox:docker"],"Layers":["%s/layer.tar"]}]' "$dc" "$dl" >"$DK/manifest.json"
tar -C "$DK" -cf "$T/docker-save.tar" .
gzip -c "$T/docker-save.tar" >"$T/docker-save.tar.gz"

# ---- tests ----

check "import OCI layout (gzip, 3 layers)" cella image import "$OCI"
check "import OCI layout (zstd)" cella image import "$OCIZ"
check "import OCI archive with two images" cella image import "$T/oci-archive.tar"
check "import docker-save archive" cella image import "$T/docker-save.tar"
check "import gzipped docker-save archive with --name" cella image import --name bb:gz "$T/docker-save.tar.gz"
check "import PATH --name NAME (a flag after the path)" cella image import "$T/docker-save.tar.gz" --name bb:after
if cella image inspect bb:after >/dev/null 2>&1; then ok "the name given after the path"; else not_ok "the name given after the path"; fi

cella image ls >"$T/ls" 2>&1
if grep -q '^localhost/layered:latest' "$T/ls" && grep -q '^localhost/bbzstd:1' "$T/ls" &&
        grep -q '^localhost/multi-a:latest' "$T/ls" && grep -q '^localhost/multi-b:latest' "$T/ls" &&
        grep -q '^busybox:docker' "$T/ls" && grep -q '^bb:gz' "$T/ls"; then
        ok "image ls lists every imported name"
else
        not_ok "image ls lists every imported name"; sed 's/^/#   /' "$T/ls"
fi

if cella image ls --json | grep -q "\"sha256:$LAYERED_ID\""; then ok "image ls --json"; else not_ok "image ls --json"; fi
if cella image inspect localhost/layered | grep -q '"org.example"'; then ok "image inspect shows the config"; else not_ok "image inspect shows the config"; fi

# the base layer is shared: stored once
nl=$(ls "$ROOT/layers" | wc -l)
# base (in 5 images), l2 (in 2), l3
if [ -f "$ROOT/layers/$(ls "$ROOT/layers" | head -1)/complete" ] && [ "$nl" = 3 ]; then
        ok "layers unpacked once and shared ($nl layer dirs)"
else
        not_ok "layers unpacked once and shared ($nl layer dirs)"
fi

# ---- overlay rootfs, file by file ----
if [ "$(id -u)" != 0 ] || ! grep -q overlay /proc/filesystems; then
        skip "overlay rootfs of the 3-layer image" "needs root and overlayfs"
else
        if R=$(cella image mount localhost/layered:latest c1 2>"$T/err"); then
                MOUNTED="$MOUNTED c1"
                bad=""
                [ "$(cat "$R/etc/motd")" = layer2 ] || bad="$bad motd"
                [ ! -e "$R/etc/removed" ] || bad="$bad whiteout-file"
                [ ! -e "$R/var/cache" ] || bad="$bad whiteout-dir"
                [ -d "$R/var" ] || bad="$bad var"
                [ "$(cat "$R/opt/keep/file")" = keep ] || bad="$bad keep"
                [ ! -e "$R/opt/old/a" ] && [ ! -e "$R/opt/old/b" ] || bad="$bad opaque"
                [ "$(cat "$R/opt/old/c")" = new ] || bad="$bad opaque-new"
                [ "$(cat "$R/srv/data")" = top ] || bad="$bad upper-file"
                [ "$(cat "$R/srv/hardlink")" = srv ] || bad="$bad hardlink"
                [ -L "$R/bin/sh" ] && [ "$(readlink "$R/bin/sh")" = busybox ] || bad="$bad symlink"
                [ "$(stat -c %a "$R/usr/bin/ping")" = 4755 ] || bad="$bad setuid"
                [ "$(stat -c %a "$R/tmp")" = 1777 ] || bad="$bad sticky"
                [ ! -e "$R/etc/.wh.removed" ] && [ ! -e "$R/opt/old/.wh..wh..opq" ] || bad="$bad wh-visible"
                if [ $have_setcap = 1 ]; then
                        getcap "$R/usr/bin/ping" | grep -q cap_net_raw || bad="$bad capability"
                fi
                if [ -z "$bad" ]; then ok "overlay rootfs of the 3-layer image, file by file"; else not_ok "overlay rootfs of the 3-layer image, file by file:$bad"; fi

                # writes land in the container's upper dir, never in a shared layer
                echo written >"$R/etc/motd"
                rm -f "$R/opt/keep/file"
                if grep -rqs written "$ROOT/layers"/*/diff/etc/motd; then
                        not_ok "container writes stay out of the shared layers"
                elif [ "$(cat "$ROOT/containers/c1/upper/etc/motd")" = written ]; then
                        ok "container writes stay out of the shared layers"
                else
                        not_ok "container writes stay out of the shared layers"
                fi
                if [ "$("$R/bin/busybox" cat "$R/opt/keep/../../etc/motd" 2>/dev/null)" = written ]; then ok "merged view serves the upper dir"; else not_ok "merged view serves the upper dir"; fi

                check "image umount" cella image umount c1
                MOUNTED=""
                # the mount(2) path (kernels without fsconfig lowerdir+)
                if R2=$(cella image mount --legacy-mount localhost/layered:latest c2 2>"$T/err") &&
                        [ "$(cat "$R2/etc/motd")" = layer2 ] && [ ! -e "$R2/etc/removed" ] && [ ! -e "$R2/opt/old/a" ]; then
                        ok "overlay through mount(2) with relative lowerdirs"
                else
                        not_ok "overlay through mount(2) with relative lowerdirs"; sed 's/^/#   /' "$T/err"
                fi
                cella image umount c2 >/dev/null 2>&1
                if grep -q "$ROOT/containers/c1" /proc/self/mounts || [ -e "$ROOT/containers/c1" ]; then
                        not_ok "umount removes the mount and the container dir"
                else
                        ok "umount removes the mount and the container dir"
                fi
        else
                not_ok "overlay rootfs of the 3-layer image"; sed 's/^/#   /' "$T/err"
        fi
fi

# ---- vfs driver: the same view as a copy ----
if R=$(cella image mount --driver vfs localhost/layered:latest v1 2>"$T/err"); then
        MOUNTED="$MOUNTED v1"
        bad=""
        [ "$(cat "$R/etc/motd")" = layer2 ] || bad="$bad motd"
        [ ! -e "$R/etc/removed" ] || bad="$bad whiteout"
        [ ! -e "$R/var/cache" ] || bad="$bad whiteout-dir"
        [ ! -e "$R/opt/old/a" ] && [ "$(cat "$R/opt/old/c")" = new ] || bad="$bad opaque"
        [ "$(cat "$R/srv/data")" = top ] || bad="$bad upper"
        [ "$(stat -c %i "$R/srv/data")" != "$(stat -c %i "$ROOT"/layers/*/diff/srv/data 2>/dev/null | head -1)" ] || bad="$bad shared-inode"
        if [ -z "$bad" ]; then ok "vfs driver: merged copy"; else not_ok "vfs driver: merged copy:$bad"; fi
        cella image umount v1
        MOUNTED=""
else
        not_ok "vfs driver: merged copy"; sed 's/^/#   /' "$T/err"
fi

# ---- 60 layers: absolute lowerdirs would not fit in one page of options ----
ML="$T/many"
new_layout "$ML"
i=0
while [ $i -lt 60 ]; do
        mkdir -p "$T/ml$i/m" && echo $i >"$T/ml$i/m/f$i" && echo $i >"$T/ml$i/m/top"
        add_layer "$ML" "$T/ml$i" gzip
        i=$((i + 1))
done
finish_image "$ML" "localhost/many:latest"
write_index "$ML"
check "import a 60-layer image" cella image import "$ML"
if [ "$(id -u)" != 0 ] || ! grep -q overlay /proc/filesystems; then
        skip "overlay of 60 layers" "needs root and overlayfs"
elif R=$(cella image mount localhost/many m1 2>"$T/err"); then
        MOUNTED="$MOUNTED m1"
        if [ "$(cat "$R/m/f0")" = 0 ] && [ "$(cat "$R/m/f59")" = 59 ] && [ "$(cat "$R/m/top")" = 59 ]; then
                ok "overlay of 60 layers, top layer wins"
        else
                not_ok "overlay of 60 layers, top layer wins"
        fi
        cella image umount m1
        MOUNTED=""
        if cella image mount --legacy-mount localhost/many m2 >"$T/out" 2>&1; then
                cella image umount m2
                not_ok "mount(2) refuses 60 layers with a clear error"
        elif grep -q "do not fit" "$T/out" && [ ! -e "$ROOT/containers/m2" ]; then
                ok "mount(2) refuses 60 layers with a clear error"
        else
                not_ok "mount(2) refuses 60 layers with a clear error"; sed 's/^/#   /' "$T/out"
        fi
else
        not_ok "overlay of 60 layers"; sed 's/^/#   /' "$T/err"
fi
cella image rm localhost/many >/dev/null 2>&1

# ---- bundle ----
if cella bundle localhost/layered "$T/bundle" -- /bin/sh -c 'echo hi' >"$T/out" 2>&1; then
        bad=""
        [ -f "$T/bundle/rootfs/bin/busybox" ] || bad="$bad rootfs"
        [ ! -e "$T/bundle/rootfs/etc/removed" ] || bad="$bad whiteout"
        grep -q overlay /proc/self/mounts && grep -q "$T/bundle" /proc/self/mounts && bad="$bad is-a-mount"
        grep -q '"uid": *1000' "$T/bundle/config.json" || bad="$bad user"
        grep -q 'echo hi' "$T/bundle/config.json" || bad="$bad args"
        if [ -z "$bad" ]; then ok "bundle writes rootfs copy and config.json"; else not_ok "bundle:$bad"; fi
elif grep -q "no spec generator" "$T/out" && [ -f "$T/bundle/rootfs/bin/busybox" ]; then
        skip "bundle writes rootfs copy and config.json" "runtime/spec.c not in this build (rootfs copy checked)"
else
        not_ok "bundle writes rootfs copy and config.json"; sed 's/^/#   /' "$T/out"
fi

# ---- refusals ----
BAD="$T/bad"
new_layout "$BAD"
mkdir -p "$T/badsrc" && echo "not seen before" >"$T/badsrc/unique"
add_layer "$BAD" "$T/badsrc" gzip
finish_image "$BAD" "localhost/bad:latest"
write_index "$BAD"
blob=$(ls -S "$BAD/blobs/sha256" | head -1)
printf 'x' >>"$BAD/blobs/sha256/$blob"
before=$(ls "$ROOT/blobs/sha256" | wc -l)
if cella image import "$BAD" >"$T/out" 2>&1; then
        not_ok "digest mismatch refused"
elif grep -q "mismatch" "$T/out" && ! cella image inspect localhost/bad >/dev/null 2>&1 &&
        [ -z "$(ls "$ROOT/tmp")" ]; then
        ok "digest mismatch refused, nothing kept"
else
        not_ok "digest mismatch refused, nothing kept"; sed 's/^/#   /' "$T/out"
fi

# a layer escaping with ../ inside a hand-made tar
EV="$T/evil"
new_layout "$EV"
mkdir -p "$T/evsrc"
echo pwned >"$T/evsrc/x"
tar -C "$T/evsrc" --transform 's,^\./x,../../escaped,' -cf "$T/ev.tar" ./x 2>/dev/null
evd=$(sha "$T/ev.tar")
gzip -n -c "$T/ev.tar" >"$T/ev.gz"
evb=$(sha "$T/ev.gz")
mv "$T/ev.gz" "$EV/blobs/sha256/$evb"
LAYERS="{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$evb\",\"size\":$(size "$EV/blobs/sha256/$evb")}"
DIFFS="\"sha256:$evd\""
finish_image "$EV" "localhost/evil:latest"
write_index "$EV"
if cella image import "$EV" >"$T/out" 2>&1; then
        not_ok "a ../ escape in a layer is refused"
elif grep -q 'escapes' "$T/out" && [ ! -e "$ROOT/../escaped" ] && [ ! -e "$T/escaped" ] && [ ! -e "$ROOT/layers/$evd" ]; then
        ok "a ../ escape in a layer is refused, partial layer removed"
else
        not_ok "a ../ escape in a layer is refused"; sed 's/^/#   /' "$T/out"
fi

# import errors are about the archive: no errno text that points elsewhere
# ("Invalid cross-device link" for a path that escapes, EILSEQ's "Invalid
# or incomplete multibyte or wide character" for "not a tar")
errno_texts='Invalid cross-device link|Invalid argument|multibyte or wide character|Bad message|Too many levels'
cp "$T/out" "$T/errs"
# a hard link whose target leaves the layer
HL="$T/hardlink"
new_layout "$HL"
python3 - "$T/hl.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("link"); i.type = tarfile.LNKTYPE; i.linkname = "../../etc/passwd"; t.addfile(i)
PY
hld=$(sha "$T/hl.tar")
cp "$T/hl.tar" "$HL/blobs/sha256/$hld"
LAYERS="{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$hld\",\"size\":$(size "$T/hl.tar")}"
DIFFS="\"sha256:$hld\""
finish_image "$HL" "localhost/hardlink:latest"
write_index "$HL"
if cella image import "$HL" >"$T/out" 2>&1; then
        not_ok "a hard link out of the layer is refused"
elif grep -q 'outside the layer' "$T/out"; then
        ok "a hard link out of the layer is refused"
else
        not_ok "a hard link out of the layer is refused"; sed 's/^/#   /' "$T/out"
fi
cat "$T/out" >>"$T/errs"
echo "not an image" >"$T/junk.tar"
cella image import "$T/junk.tar" >>"$T/errs" 2>&1
head -c 3000 "$T/docker-save.tar.gz" >"$T/truncated.tar.gz"
cella image import "$T/truncated.tar.gz" >>"$T/errs" 2>&1
if grep -Eq "$errno_texts" "$T/errs"; then
        not_ok "import errors carry no misleading errno text"; sed 's/^/#   /' "$T/errs"
else
        ok "import errors carry no misleading errno text"
fi

# ---- sparse files stay sparse: the layer, the vfs driver, cella bundle ----
SPS="$T/sparsesrc"
mkdir -p "$SPS"
truncate -s 10G "$SPS/big"
printf middle | dd of="$SPS/big" bs=1 seek=5368709120 conv=notrunc 2>/dev/null
cp /bin/busybox "$SPS/busybox"
# GNU sparse entries: the archive is small
tar --numeric-owner -S -C "$SPS" -cf "$T/sparse.tar" .
SPL="$T/sparse"
new_layout "$SPL"
spd=$(sha "$T/sparse.tar")
gzip -n -c "$T/sparse.tar" >"$T/sparse.gz"
spb=$(sha "$T/sparse.gz")
mv "$T/sparse.gz" "$SPL/blobs/sha256/$spb"
LAYERS="{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$spb\",\"size\":$(size "$SPL/blobs/sha256/$spb")}"
DIFFS="\"sha256:$spd\""
finish_image "$SPL" "localhost/sparse:latest" ',"Entrypoint":["/busybox"]'
write_index "$SPL"
# sparse_ok FILE: 10 GiB long, the data in the middle, under 1 MiB allocated
sparse_ok() {
        [ "$(stat -c %s "$1")" = 10737418240 ] && [ $(($(stat -c '%b * %B' "$1"))) -lt 1048576 ] &&
                [ "$(dd if="$1" bs=1 skip=5368709120 count=6 2>/dev/null)" = middle ]
}
sparse_what() { echo "# $1: size $(stat -c %s "$1"), allocated $(($(stat -c '%b * %B' "$1"))) bytes"; }
if cella image import "$SPL" >"$T/out" 2>&1 && L=$(ls -d "$ROOT"/layers/*/diff/big) && sparse_ok "$L"; then
        ok "a sparse file in a layer stays sparse"
else
        not_ok "a sparse file in a layer stays sparse"; sed 's/^/#   /' "$T/out"; [ -n "${L:-}" ] && sparse_what "$L"
fi
if R=$(cella image mount --driver vfs localhost/sparse:latest sparse1 2>"$T/out") && sparse_ok "$R/big"; then
        ok "a sparse file stays sparse in the vfs driver"
else
        not_ok "a sparse file stays sparse in the vfs driver"; sed 's/^/#   /' "$T/out"; [ -n "${R:-}" ] && sparse_what "$R/big"
fi
cella image umount sparse1 >/dev/null 2>&1
if cella bundle localhost/sparse:latest "$T/sparse-bundle" >"$T/out" 2>&1 && sparse_ok "$T/sparse-bundle/rootfs/big"; then
        ok "a sparse file stays sparse in cella bundle"
else
        not_ok "a sparse file stays sparse in cella bundle"; sed 's/^/#   /' "$T/out"; sparse_what "$T/sparse-bundle/rootfs/big"
fi
rm -rf "$T/sparse-bundle" "$SPS"
cella image rm localhost/sparse:latest >/dev/null 2>&1

# ---- interrupted import, then a clean re-import ----
BIG="$T/big"
new_layout "$BIG"
mkdir -p "$T/bigsrc"
i=0
while [ $i -lt 40 ]; do head -c 2000000 /dev/urandom >"$T/bigsrc/f$i"; i=$((i + 1)); done
add_layer "$BIG" "$T/bigsrc" gzip
finish_image "$BIG" "localhost/big:latest"
write_index "$BIG"
"$RUNTIME" --image-root "$ROOT" image import "$BIG" >/dev/null 2>&1 &
pid=$!
# kill once a partial layer or temp blob exists (or after a while)
k=0
while [ $k -lt 200 ]; do
        if [ -n "$(ls "$ROOT/tmp" 2>/dev/null)" ] && [ -n "$(find "$ROOT/layers" -maxdepth 2 -name diff -newer "$BIG/index.json" 2>/dev/null)" ]; then break; fi
        k=$((k + 1))
        sleep 0.01
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
partial=$(ls "$ROOT/tmp" | wc -l)
if cella image import "$BIG" >"$T/out" 2>&1 && [ -z "$(ls "$ROOT/tmp")" ] &&
        cella image inspect localhost/big >/dev/null 2>&1 &&
        for l in "$ROOT"/layers/*; do [ -f "$l/complete" ] || exit 1; done; then
        ok "kill -9 mid-import, then a clean re-import ($partial temp entries were left)"
else
        not_ok "kill -9 mid-import, then a clean re-import"; sed 's/^/#   /' "$T/out"
fi
if [ "$(cat "$ROOT"/layers/*/diff/f39 2>/dev/null | wc -c)" = 2000000 ]; then ok "re-imported layer is whole"; else not_ok "re-imported layer is whole"; fi

# ---- archives made by real tools (umoci + skopeo), as clients.md does ----
if command -v umoci >/dev/null 2>&1 && command -v skopeo >/dev/null 2>&1; then
        U="$T/umoci"
        mkdir -p "$U" && cd "$U" || exit 1
        if umoci init --layout oci >/dev/null 2>&1 && umoci new --image oci:latest >/dev/null 2>&1 &&
                umoci unpack --image oci:latest bundle >/dev/null 2>&1 &&
                cp -a "$B/." bundle/rootfs/ && umoci repack --image oci:latest bundle >/dev/null 2>&1 &&
                umoci config --image oci:latest --config.cmd /bin/sh --config.env PATH=/bin --config.workingdir / \
                        --architecture amd64 --os linux >/dev/null 2>&1 && umoci gc --layout oci >/dev/null 2>&1 &&
                skopeo --insecure-policy copy oci:$U/oci:latest oci-archive:$T/skopeo-oci.tar:localhost/skopeo:oci >/dev/null 2>&1 &&
                skopeo --insecure-policy copy oci:$U/oci:latest docker-archive:$T/skopeo-docker.tar:localhost/skopeo:docker >/dev/null 2>&1; then
                cd - >/dev/null || exit 1
                check "import umoci's OCI layout (bare tag annotation)" cella image import "$U/oci"
                if cella image inspect oci:latest >/dev/null 2>&1; then ok "a bare tag is named after the layout dir"; else not_ok "a bare tag is named after the layout dir"; fi
                check "import skopeo oci-archive" cella image import "$T/skopeo-oci.tar"
                check "import skopeo docker-archive" cella image import "$T/skopeo-docker.tar"
                if R=$(cella image mount --driver vfs localhost/skopeo:docker s1 2>"$T/err") &&
                        [ "$(cat "$R/etc/motd")" = base ] && [ -x "$R/bin/busybox" ]; then
                        ok "skopeo docker-archive rootfs is whole"
                else
                        not_ok "skopeo docker-archive rootfs is whole"; sed 's/^/#   /' "$T/err"
                fi
                cella image umount s1 >/dev/null 2>&1
                for n in oci:latest localhost/skopeo:oci localhost/skopeo:docker; do cella image rm "$n" >/dev/null 2>&1; done
        else
                cd - >/dev/null || exit 1
                not_ok "build an image with umoci + skopeo"
        fi
else
        skip "archives made by umoci and skopeo" "umoci/skopeo not installed"
fi

# ---- rm and prune ----
check "image rm by name" cella image rm localhost/big:latest
if cella image inspect localhost/big >/dev/null 2>&1; then not_ok "removed image is gone"; else ok "removed image is gone"; fi
if ls "$ROOT"/layers/*/diff/f39 >/dev/null 2>&1; then not_ok "rm frees the image's own layer"; else ok "rm frees the image's own layer"; fi
if cella image inspect localhost/multi-a >/dev/null 2>&1; then ok "rm keeps the other images"; else not_ok "rm keeps the other images"; fi

# an untagged image: import the docker archive again under a new name, old name moves
check "re-import moves a name" cella image import --name localhost/layered:latest "$T/docker-save.tar"
check "prune" cella image prune
if cella image inspect "$LAYERED_ID" >/dev/null 2>&1; then not_ok "prune drops the untagged image"; else ok "prune drops the untagged image"; fi
if cella image inspect localhost/bbzstd:1 >/dev/null 2>&1 && cella image mount --driver vfs localhost/bbzstd:1 p1 >/dev/null 2>&1; then
        cella image umount p1
        ok "prune keeps what named images use"
else
        not_ok "prune keeps what named images use"
fi
for n in bb:gz bb:after localhost/bbzstd:1 localhost/multi-a localhost/multi-b busybox:docker localhost/layered:latest; do cella image rm "$n" >/dev/null 2>&1; done
cella image prune >/dev/null 2>&1
if [ -z "$(ls "$ROOT/layers")" ] && [ -z "$(ls "$ROOT/blobs/sha256")" ]; then ok "store empty after removing every image"; else not_ok "store empty after removing every image"; sed 's/^/#   /' "$ROOT/images.json"; fi

echo "1..$N"
[ $FAILED = 0 ]
