#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cella image: import of every source kind, overlay rootfs checked file by
# file, refusals, crash recovery, rm and prune.
#
# The images are built by hand (sh + tar + sha256sum) once per run into
# $CELLA_RUN_DIR/image-fixtures (`fx NAME` builds one on first use); every
# test imports what it needs into its own store, $T/store, and unmounts what
# it mounted (the leak check fails a test that leaves a mount under $T).
. "$(dirname "$0")/../lib.sh"

FX=$CELLA_RUN_DIR/image-fixtures

need_image() { is_cella || skip "cella image is cella's own command"; }
need_overlay() {
        [ "$(id -u)" = 0 ] && grep -q overlay /proc/filesystems || skip "needs root and overlayfs"
}

img() { "$RUNTIME" --image-root "$T/store" "$@"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# ---------------------------------------------------------------- fixtures

# fx NAME: the fixture NAME, built by fx_NAME once per run; prints its path
fx() {
        local d=$FX/$1
        if [ ! -f "$d.done" ]; then
                rm -rf "$d"
                mkdir -p "$FX/tmp" "$FX/tars"
                LAYERS="" DIFFS="" MANIFESTS=""
                "fx_$1" "$d" >&2 || fail "building the image fixture $1"
                touch "$d.done"
        fi
        echo "$d"
}

# new_layout DIR: an empty OCI layout
new_layout() {
        mkdir -p "$1/blobs/sha256"
        echo '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
}

# layer_tar SRCDIR: one tar per source dir, made once (the same content must
# give the same diff_id); prints its path
layer_tar() {
        local tar
        tar=$FX/tars/$(echo "$1" | tr / _)
        [ -f "$tar" ] || tar --numeric-owner --xattrs -C "$1" -cf "$tar" .
        echo "$tar"
}

# add_layer LAYOUT SRCDIR COMPRESSION(none|gzip|zstd): appends to $LAYERS and $DIFFS
add_layer() {
        local diff mt d s t=$FX/tmp
        cp "$(layer_tar "$2")" "$t/layer.tar"
        diff=$(sha "$t/layer.tar")
        case $3 in
        gzip) gzip -n -c "$t/layer.tar" >"$t/layer.blob"; mt=application/vnd.oci.image.layer.v1.tar+gzip ;;
        zstd) zstd -q -c "$t/layer.tar" >"$t/layer.blob"; mt=application/vnd.oci.image.layer.v1.tar+zstd ;;
        *) cp "$t/layer.tar" "$t/layer.blob"; mt=application/vnd.oci.image.layer.v1.tar ;;
        esac
        d=$(sha "$t/layer.blob")
        s=$(size "$t/layer.blob")
        mv "$t/layer.blob" "$1/blobs/sha256/$d"
        rm -f "$t/layer.tar"
        LAYERS="$LAYERS${LAYERS:+,}{\"mediaType\":\"$mt\",\"digest\":\"sha256:$d\",\"size\":$s}"
        DIFFS="$DIFFS${DIFFS:+,}\"sha256:$diff\""
}

# finish_image LAYOUT REFNAME CONFIG_EXTRA: config + manifest, appended to
# $MANIFESTS; the config's digest (the image ID) in $CONFIG_HEX
finish_image() {
        local c cs m ms t=$FX/tmp
        printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"],"Env":["PATH=/bin:/usr/bin"],"WorkingDir":"/"%s},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
                "${3:-}" "$DIFFS" >"$t/config.json"
        c=$(sha "$t/config.json")
        cs=$(size "$t/config.json")
        mv "$t/config.json" "$1/blobs/sha256/$c"
        printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
                "$c" "$cs" "$LAYERS" >"$t/manifest.json"
        m=$(sha "$t/manifest.json")
        ms=$(size "$t/manifest.json")
        mv "$t/manifest.json" "$1/blobs/sha256/$m"
        MANIFESTS="$MANIFESTS${MANIFESTS:+,}{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$m\",\"size\":$ms,\"annotations\":{\"org.opencontainers.image.ref.name\":\"$2\"}}"
        LAYERS=""
        DIFFS=""
        CONFIG_HEX=$c
}

write_index() {
        printf '{"schemaVersion":2,"manifests":[%s]}' "$MANIFESTS" >"$1/index.json"
        MANIFESTS=""
}

# raw_layer_image LAYOUT BLOB MEDIATYPE: a layer made by hand as the only
# one in $LAYERS (the caller sets $DIFFS)
raw_layer_image() {
        local b
        b=$(sha "$2")
        cp "$2" "$1/blobs/sha256/$b"
        LAYERS="{\"mediaType\":\"$3\",\"digest\":\"sha256:$b\",\"size\":$(size "$2")}"
}

# src: the busybox base rootfs and the two layers above it
fx_src() {
        local B=$1/base L2=$1/l2 L3=$1/l3 a
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
        mkdir -p "$L2/etc" "$L2/opt/old" "$L2/srv"
        echo layer2 >"$L2/etc/motd"
        : >"$L2/etc/.wh.removed"
        : >"$L2/opt/old/.wh..wh..opq"
        echo new >"$L2/opt/old/c"
        echo srv >"$L2/srv/data"
        ln "$L2/srv/data" "$L2/srv/hardlink"

        # layer 3: whiteout a whole directory, replace a dir with a file, setuid + cap
        mkdir -p "$L3/var" "$L3/srv" "$L3/usr/bin"
        : >"$L3/var/.wh.cache"
        echo top >"$L3/srv/data"
        cp /bin/busybox "$L3/usr/bin/ping"
        chmod 4755 "$L3/usr/bin/ping"
        if command -v setcap >/dev/null 2>&1 && setcap cap_net_raw+ep "$L3/usr/bin/ping" 2>/dev/null; then
                touch "$1/.have_setcap"
        fi
}

# oci: localhost/layered:latest, 3 gzip layers; its image ID in .layered_id
fx_oci() {
        local s
        s=$(fx src)
        new_layout "$1"
        add_layer "$1" "$s/base" gzip
        add_layer "$1" "$s/l2" gzip
        add_layer "$1" "$s/l3" gzip
        finish_image "$1" "localhost/layered:latest" ',"User":"app","Labels":{"org.example":"yes"},"ExposedPorts":{"80/tcp":{}}'
        echo "$CONFIG_HEX" >"$1/.layered_id"
        write_index "$1"
}

fx_ociz() {
        local s
        s=$(fx src)
        new_layout "$1"
        add_layer "$1" "$s/base" zstd
        finish_image "$1" "localhost/bbzstd:1"
        write_index "$1"
}

# ocia: two images in one OCI archive ($1/archive.tar), uncompressed layers
fx_ocia() {
        local s L=$1/layout
        s=$(fx src)
        new_layout "$L"
        add_layer "$L" "$s/base" none
        finish_image "$L" "localhost/multi-a:latest"
        add_layer "$L" "$s/base" none
        add_layer "$L" "$s/l2" gzip
        finish_image "$L" "localhost/multi-b:latest"
        write_index "$L"
        tar -C "$L" -cf "$1/archive.tar" .
}

# docker: `docker save` output ($1/docker-save.tar and .tar.gz):
# manifest.json, <hex>.json, <diff>/layer.tar
fx_docker() {
        local s DK=$1/tree dl dc
        s=$(fx src)
        mkdir -p "$DK"
        cp "$(layer_tar "$s/base")" "$FX/tmp/dl.tar"
        dl=$(sha "$FX/tmp/dl.tar")
        mkdir -p "$DK/$dl" && mv "$FX/tmp/dl.tar" "$DK/$dl/layer.tar"
        printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/echo","docker"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$dl" >"$DK/cfg.json"
        dc=$(sha "$DK/cfg.json")
        mv "$DK/cfg.json" "$DK/$dc.json"
        printf '[{"Config":"%s.json","RepoTags":["busybox:docker"],"Layers":["%s/layer.tar"]}]' "$dc" "$dl" >"$DK/manifest.json"
        tar -C "$DK" -cf "$1/docker-save.tar" .
        gzip -c "$1/docker-save.tar" >"$1/docker-save.tar.gz"
}

# many: 60 layers; absolute lowerdirs would not fit in one page of options
fx_many() {
        local i=0
        new_layout "$1"
        while [ $i -lt 60 ]; do
                mkdir -p "$1.src/ml$i/m" && echo $i >"$1.src/ml$i/m/f$i" && echo $i >"$1.src/ml$i/m/top"
                add_layer "$1" "$1.src/ml$i" gzip
                i=$((i + 1))
        done
        finish_image "$1" "localhost/many:latest"
        write_index "$1"
}

# bad: a layer blob with one byte appended (digest mismatch)
fx_bad() {
        local blob
        new_layout "$1"
        mkdir -p "$1.src" && echo "not seen before" >"$1.src/unique"
        add_layer "$1" "$1.src" gzip
        finish_image "$1" "localhost/bad:latest"
        write_index "$1"
        blob=$(ls -S "$1/blobs/sha256" | head -1)
        printf 'x' >>"$1/blobs/sha256/$blob"
}

# evil: a layer escaping with ../ inside a hand-made tar; its diff ID in .diff
fx_evil() {
        local t=$FX/tmp evd
        new_layout "$1"
        mkdir -p "$t/evsrc"
        echo pwned >"$t/evsrc/x"
        tar -C "$t/evsrc" --transform 's,^\./x,../../escaped,' -cf "$t/ev.tar" ./x 2>/dev/null
        evd=$(sha "$t/ev.tar")
        gzip -n -c "$t/ev.tar" >"$t/ev.gz"
        raw_layer_image "$1" "$t/ev.gz" application/vnd.oci.image.layer.v1.tar+gzip
        DIFFS="\"sha256:$evd\""
        finish_image "$1" "localhost/evil:latest"
        write_index "$1"
        echo "$evd" >"$1/.diff"
}

# hardlink: a hard link whose target leaves the layer
fx_hardlink() {
        local t=$FX/tmp
        new_layout "$1"
        python3 - "$t/hl.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("link"); i.type = tarfile.LNKTYPE; i.linkname = "../../etc/passwd"; t.addfile(i)
PY
        raw_layer_image "$1" "$t/hl.tar" application/vnd.oci.image.layer.v1.tar
        DIFFS="\"sha256:$(sha "$t/hl.tar")\""
        finish_image "$1" "localhost/hardlink:latest"
        write_index "$1"
}

# sparse: a 10 GiB sparse file with data in the middle (GNU sparse entries)
fx_sparse() {
        local t=$FX/tmp SPS=$FX/tmp/sparsesrc spd
        mkdir -p "$SPS"
        truncate -s 10G "$SPS/big"
        printf middle | dd of="$SPS/big" bs=1 seek=5368709120 conv=notrunc 2>/dev/null
        cp /bin/busybox "$SPS/busybox"
        tar --numeric-owner -S -C "$SPS" -cf "$t/sparse.tar" .
        rm -rf "$SPS"
        new_layout "$1"
        spd=$(sha "$t/sparse.tar")
        gzip -n -c "$t/sparse.tar" >"$t/sparse.gz"
        raw_layer_image "$1" "$t/sparse.gz" application/vnd.oci.image.layer.v1.tar+gzip
        DIFFS="\"sha256:$spd\""
        finish_image "$1" "localhost/sparse:latest" ',"Entrypoint":["/busybox"]'
        write_index "$1"
}

# big: 40 random 2 MB files in one layer: an import slow enough to interrupt
fx_big() {
        local i=0
        new_layout "$1"
        mkdir -p "$1.src"
        while [ $i -lt 40 ]; do head -c 2000000 /dev/urandom >"$1.src/f$i"; i=$((i + 1)); done
        add_layer "$1" "$1.src" gzip
        rm -f "$(layer_tar "$1.src")"
        rm -rf "$1.src"
        finish_image "$1" "localhost/big:latest"
        write_index "$1"
}

# skopeo: archives made by real tools (umoci + skopeo), as clients.md does:
# $1/oci (umoci's layout), $1/skopeo-oci.tar, $1/skopeo-docker.tar
fx_skopeo() {
        local s U=$1
        s=$(fx src)
        mkdir -p "$U"
        (
                cd "$U" &&
                        umoci init --layout oci && umoci new --image oci:latest &&
                        umoci unpack --image oci:latest bundle &&
                        cp -a "$s/base/." bundle/rootfs/ && umoci repack --image oci:latest bundle &&
                        umoci config --image oci:latest --config.cmd /bin/sh --config.env PATH=/bin --config.workingdir / \
                                --architecture amd64 --os linux && umoci gc --layout oci &&
                        skopeo --insecure-policy copy "oci:$U/oci:latest" "oci-archive:$U/skopeo-oci.tar:localhost/skopeo:oci" &&
                        skopeo --insecure-policy copy "oci:$U/oci:latest" "docker-archive:$U/skopeo-docker.tar:localhost/skopeo:docker"
        ) >"$FX/tmp/skopeo.log" 2>&1 || { cat "$FX/tmp/skopeo.log"; return 1; }
        rm -rf "$U/bundle"
}

need_skopeo() {
        command -v umoci >/dev/null 2>&1 && command -v skopeo >/dev/null 2>&1 || skip "umoci/skopeo not installed"
        SK=$(fx skopeo) || fail "build an image with umoci + skopeo"
}

# import_all: the store the listing, rm and prune tests start from
import_all() {
        img image import "$(fx oci)"
        img image import "$(fx ociz)"
        img image import "$(fx ocia)/archive.tar"
        img image import "$(fx docker)/docker-save.tar"
        img image import --name bb:gz "$(fx docker)/docker-save.tar.gz"
        img image import "$(fx docker)/docker-save.tar.gz" --name bb:after
}

layered_id() { cat "$(fx oci)/.layered_id"; }

# ---------------------------------------------------------------- imports

test_import_oci_layout_gzip_3_layers() {
        need_image
        run img image import "$(fx oci)"
        assert_success
}

test_import_oci_layout_zstd() {
        need_image
        run img image import "$(fx ociz)"
        assert_success
}

test_import_oci_archive_with_two_images() {
        need_image
        run img image import "$(fx ocia)/archive.tar"
        assert_success
}

test_import_docker_save_archive() {
        need_image
        run img image import "$(fx docker)/docker-save.tar"
        assert_success
}

test_import_gzipped_docker_save_with_name() {
        need_image
        run img image import --name bb:gz "$(fx docker)/docker-save.tar.gz"
        assert_success
}

test_import_name_flag_after_path() {
        need_image
        run img image import "$(fx docker)/docker-save.tar.gz" --name bb:after
        assert_success
}

test_name_given_after_path_is_used() {
        need_image
        img image import "$(fx docker)/docker-save.tar.gz" --name bb:after
        run img image inspect bb:after
        assert_success
}

test_ls_lists_every_imported_name() {
        need_image
        import_all
        run img image ls
        assert_success
        local n
        for n in localhost/layered:latest localhost/bbzstd:1 localhost/multi-a:latest localhost/multi-b:latest \
                busybox:docker bb:gz; do
                grep -q "^$n" <<<"$stdout" || fail "$n not in image ls"
        done
}

test_ls_json() {
        need_image
        img image import "$(fx oci)"
        img image ls --json | grep -q "\"sha256:$(layered_id)\"" || fail "the image ID is not in ls --json"
}

test_inspect_shows_config() {
        need_image
        img image import "$(fx oci)"
        img image inspect localhost/layered | grep -q '"org.example"' || fail "no label in inspect"
}

# the base layer is in 5 images, l2 in 2, l3 in 1: stored once each
test_layers_unpacked_once_and_shared() {
        need_image
        import_all
        local nl
        nl=$(ls "$T/store/layers" | wc -l)
        assert_eq "$nl" 3 "layer dirs"
        [ -f "$T/store/layers/$(ls "$T/store/layers" | head -1)/complete" ] || fail "a layer is not complete"
}

# ---------------------------------------------------------------- overlay rootfs

# mount_layered NAME [FLAGS]: mount localhost/layered:latest as container
# NAME (unmounted when the test ends); the rootfs path in $R
mount_layered() {
        local name=$1
        shift
        img image import "$(fx oci)"
        R=$(img image mount "$@" localhost/layered:latest "$name")
        defer "img image umount $name"
}

test_overlay_rootfs_file_by_file() {
        need_image
        need_overlay
        mount_layered c1
        local bad=""
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
        if [ -f "$(fx src)/.have_setcap" ]; then
                getcap "$R/usr/bin/ping" | grep -q cap_net_raw || bad="$bad capability"
        fi
        assert_eq "$bad" "" "wrong in the merged rootfs"
}

test_container_writes_stay_out_of_shared_layers() {
        need_image
        need_overlay
        mount_layered c1
        echo written >"$R/etc/motd"
        rm -f "$R/opt/keep/file"
        ! grep -rqs written "$T/store/layers"/*/diff/etc/motd || fail "a shared layer was written"
        assert_eq "$(cat "$T/store/containers/c1/upper/etc/motd")" written "the upper dir"
}

test_merged_view_serves_upper_dir() {
        need_image
        need_overlay
        mount_layered c1
        echo written >"$R/etc/motd"
        rm -f "$R/opt/keep/file"
        assert_eq "$("$R/bin/busybox" cat "$R/opt/keep/../../etc/motd" 2>/dev/null)" written
}

test_image_umount() {
        need_image
        need_overlay
        mount_layered c1
        run img image umount c1
        assert_success
}

# the mount(2) path (kernels without fsconfig lowerdir+)
test_overlay_through_mount2_relative_lowerdirs() {
        need_image
        need_overlay
        mount_layered c2 --legacy-mount
        assert_eq "$(cat "$R/etc/motd")" layer2
        [ ! -e "$R/etc/removed" ] || fail "whiteout file visible"
        [ ! -e "$R/opt/old/a" ] || fail "opaque dir shows the lower file"
}

test_umount_removes_mount_and_container_dir() {
        need_image
        need_overlay
        mount_layered c1
        echo written >"$R/etc/motd"
        img image umount c1
        ! grep -q "$T/store/containers/c1" /proc/self/mounts || fail "still mounted"
        [ ! -e "$T/store/containers/c1" ] || fail "container dir left"
}

# ---------------------------------------------------------------- vfs driver

test_vfs_driver_merged_copy() {
        need_image
        mount_layered v1 --driver vfs
        local bad=""
        [ "$(cat "$R/etc/motd")" = layer2 ] || bad="$bad motd"
        [ ! -e "$R/etc/removed" ] || bad="$bad whiteout"
        [ ! -e "$R/var/cache" ] || bad="$bad whiteout-dir"
        [ ! -e "$R/opt/old/a" ] && [ "$(cat "$R/opt/old/c")" = new ] || bad="$bad opaque"
        [ "$(cat "$R/srv/data")" = top ] || bad="$bad upper"
        [ "$(stat -c %i "$R/srv/data")" != "$(stat -c %i "$T/store"/layers/*/diff/srv/data 2>/dev/null | head -1)" ] ||
                bad="$bad shared-inode"
        assert_eq "$bad" "" "wrong in the vfs copy"
}

# ---------------------------------------------------------------- 60 layers

test_import_60_layer_image() {
        need_image
        run img image import "$(fx many)"
        assert_success
}

test_overlay_of_60_layers_top_wins() {
        need_image
        need_overlay
        img image import "$(fx many)"
        R=$(img image mount localhost/many m1)
        defer "img image umount m1"
        assert_eq "$(cat "$R/m/f0")" 0
        assert_eq "$(cat "$R/m/f59")" 59
        assert_eq "$(cat "$R/m/top")" 59 "the top layer wins"
}

test_legacy_mount_refuses_60_layers() {
        need_image
        need_overlay
        img image import "$(fx many)"
        run img image mount --legacy-mount localhost/many m2
        [ $status != 0 ] || { img image umount m2; fail "mount(2) took 60 layers"; }
        assert_contains "$output" "do not fit"
        [ ! -e "$T/store/containers/m2" ] || fail "container dir left"
}

# ---------------------------------------------------------------- bundle

test_bundle_writes_rootfs_and_config() {
        need_image
        img image import "$(fx oci)"
        run img bundle localhost/layered "$T/bundle" -- /bin/sh -c 'echo hi'
        if [ $status != 0 ] && grep -q "no spec generator" <<<"$output" && [ -f "$T/bundle/rootfs/bin/busybox" ]; then
                skip "oci/spec.c not in this build (rootfs copy checked)"
        fi
        assert_success
        local bad=""
        [ -f "$T/bundle/rootfs/bin/busybox" ] || bad="$bad rootfs"
        [ ! -e "$T/bundle/rootfs/etc/removed" ] || bad="$bad whiteout"
        grep -q overlay /proc/self/mounts && grep -q "$T/bundle" /proc/self/mounts && bad="$bad is-a-mount"
        grep -q '"uid": *1000' "$T/bundle/config.json" || bad="$bad user"
        grep -q 'echo hi' "$T/bundle/config.json" || bad="$bad args"
        assert_eq "$bad" "" "wrong in the bundle"
}

# ---------------------------------------------------------------- refusals

test_digest_mismatch_refused_nothing_kept() {
        need_image
        img image import "$(fx oci)"
        run img image import "$(fx bad)"
        assert_failure
        assert_contains "$output" mismatch
        ! img image inspect localhost/bad >/dev/null 2>&1 || fail "the bad image was kept"
        assert_eq "$(ls "$T/store/tmp")" "" "temp files left"
}

test_layer_escape_refused_partial_removed() {
        need_image
        local ev
        ev=$(fx evil)
        run img image import "$ev"
        assert_failure
        assert_contains "$output" escapes
        [ ! -e "$T/store/../escaped" ] && [ ! -e "$T/escaped" ] || fail "the file escaped"
        [ ! -e "$T/store/layers/$(cat "$ev/.diff")" ] || fail "partial layer left"
}

test_hardlink_out_of_layer_refused() {
        need_image
        run img image import "$(fx hardlink)"
        assert_failure
        assert_contains "$output" "outside the layer"
}

# import errors are about the archive: no errno text that points elsewhere
# ("Invalid cross-device link" for a path that escapes, EILSEQ's "Invalid
# or incomplete multibyte or wide character" for "not a tar")
test_import_errors_carry_no_misleading_errno() {
        need_image
        local errno_texts='Invalid cross-device link|Invalid argument|multibyte or wide character|Bad message|Too many levels'
        echo "not an image" >"$T/junk.tar"
        head -c 3000 "$(fx docker)/docker-save.tar.gz" >"$T/truncated.tar.gz"
        {
                img image import "$(fx evil)" || true
                img image import "$(fx hardlink)" || true
                img image import "$T/junk.tar" || true
                img image import "$T/truncated.tar.gz" || true
        } >"$T/errs" 2>&1
        if grep -Eq "$errno_texts" "$T/errs"; then
                cat "$T/errs" >&2
                fail "an import error carries misleading errno text"
        fi
}

# ---------------------------------------------------------------- sparse files

# sparse_ok FILE: 10 GiB long, the data in the middle, under 1 MiB allocated
sparse_ok() {
        [ "$(stat -c %s "$1")" = 10737418240 ] || fail "$1: size $(stat -c %s "$1")"
        [ $(($(stat -c '%b * %B' "$1"))) -lt 1048576 ] || fail "$1: allocated $(($(stat -c '%b * %B' "$1"))) bytes"
        assert_eq "$(dd if="$1" bs=1 skip=5368709120 count=6 2>/dev/null)" middle "the data in the middle"
}

test_sparse_file_in_layer_stays_sparse() {
        need_image
        img image import "$(fx sparse)"
        sparse_ok "$(ls -d "$T/store"/layers/*/diff/big)"
}

test_sparse_file_stays_sparse_in_vfs_driver() {
        need_image
        img image import "$(fx sparse)"
        R=$(img image mount --driver vfs localhost/sparse:latest sparse1)
        defer "img image umount sparse1"
        sparse_ok "$R/big"
}

test_sparse_file_stays_sparse_in_bundle() {
        need_image
        img image import "$(fx sparse)"
        img bundle localhost/sparse:latest "$T/sparse-bundle"
        sparse_ok "$T/sparse-bundle/rootfs/big"
}

# ---------------------------------------------------------------- crash recovery

import_started() {
        [ -n "$(ls "$T/store/tmp" 2>/dev/null)" ] &&
                [ -n "$(find "$T/store/layers" -maxdepth 2 -name diff -newer "$1/index.json" 2>/dev/null)" ]
}

all_layers_complete() {
        local l
        for l in "$T/store"/layers/*; do [ -f "$l/complete" ] || return 1; done
}

# interrupted_import: kill -9 an import once a partial layer or temp blob
# exists (or when the wait gives up), then import again; $status and
# $output are the second import's, $PARTIAL the temp entries left
interrupted_import() {
        local big pid
        big=$(fx big)
        "$RUNTIME" --image-root "$T/store" image import "$big" >/dev/null 2>&1 &
        pid=$!
        WAIT_FOR_TRIES=200 wait_for import_started "$big" || true
        kill -9 $pid 2>/dev/null || true
        wait $pid 2>/dev/null || true
        PARTIAL=$(ls "$T/store/tmp" | wc -l)
        echo "# $PARTIAL temp entries were left" >&2
        run img image import "$big"
}

test_kill_during_import_then_clean_reimport() {
        need_image
        interrupted_import
        assert_success
        assert_eq "$(ls "$T/store/tmp")" "" "temp entries after the re-import"
        img image inspect localhost/big >/dev/null || fail "no image after the re-import"
        all_layers_complete || fail "an incomplete layer"
}

test_reimported_layer_is_whole() {
        need_image
        interrupted_import
        assert_eq "$(cat "$T/store"/layers/*/diff/f39 2>/dev/null | wc -c)" 2000000
}

# ---------------------------------------------------------------- umoci + skopeo

test_import_umoci_layout_bare_tag() {
        need_image
        need_skopeo
        run img image import "$SK/oci"
        assert_success
}

test_bare_tag_named_after_layout_dir() {
        need_image
        need_skopeo
        img image import "$SK/oci"
        run img image inspect oci:latest
        assert_success
}

test_import_skopeo_oci_archive() {
        need_image
        need_skopeo
        run img image import "$SK/skopeo-oci.tar"
        assert_success
}

test_import_skopeo_docker_archive() {
        need_image
        need_skopeo
        run img image import "$SK/skopeo-docker.tar"
        assert_success
}

test_skopeo_docker_archive_rootfs_is_whole() {
        need_image
        need_skopeo
        img image import "$SK/skopeo-docker.tar"
        R=$(img image mount --driver vfs localhost/skopeo:docker s1)
        defer "img image umount s1"
        assert_eq "$(cat "$R/etc/motd")" base
        [ -x "$R/bin/busybox" ] || fail "no busybox in the rootfs"
}

# ---------------------------------------------------------------- rm and prune

test_image_rm_by_name() {
        need_image
        import_all
        img image import "$(fx big)"
        run img image rm localhost/big:latest
        assert_success
}

test_removed_image_is_gone() {
        need_image
        import_all
        img image import "$(fx big)"
        img image rm localhost/big:latest
        ! img image inspect localhost/big >/dev/null 2>&1 || fail "localhost/big is still there"
}

test_rm_frees_the_image_own_layer() {
        need_image
        import_all
        img image import "$(fx big)"
        img image rm localhost/big:latest
        ! ls "$T/store"/layers/*/diff/f39 >/dev/null 2>&1 || fail "the big layer is still there"
}

test_rm_keeps_the_other_images() {
        need_image
        import_all
        img image import "$(fx big)"
        img image rm localhost/big:latest
        img image inspect localhost/multi-a >/dev/null || fail "localhost/multi-a is gone"
}

# an untagged image: import the docker archive again under the name of the
# OCI image; the old image keeps no name
test_reimport_moves_a_name() {
        need_image
        import_all
        run img image import --name localhost/layered:latest "$(fx docker)/docker-save.tar"
        assert_success
}

reimport_then_prune() {
        import_all
        img image import --name localhost/layered:latest "$(fx docker)/docker-save.tar"
        run img image prune
}

test_prune() {
        need_image
        reimport_then_prune
        assert_success
}

test_prune_drops_the_untagged_image() {
        need_image
        reimport_then_prune
        ! img image inspect "$(layered_id)" >/dev/null 2>&1 || fail "the untagged image is still there"
}

test_prune_keeps_what_named_images_use() {
        need_image
        reimport_then_prune
        img image inspect localhost/bbzstd:1 >/dev/null || fail "localhost/bbzstd:1 is gone"
        img image mount --driver vfs localhost/bbzstd:1 p1 >/dev/null || fail "localhost/bbzstd:1 does not mount"
        img image umount p1
}

test_store_empty_after_removing_every_image() {
        need_image
        reimport_then_prune
        local n
        for n in bb:gz bb:after localhost/bbzstd:1 localhost/multi-a localhost/multi-b busybox:docker localhost/layered:latest; do
                img image rm "$n" >/dev/null 2>&1 || true
        done
        img image prune >/dev/null 2>&1 || true
        if [ -n "$(ls "$T/store/layers")" ] || [ -n "$(ls "$T/store/blobs/sha256")" ]; then
                cat "$T/store/images.json" >&2
                fail "the store is not empty"
        fi
}

run_tests "$@"
