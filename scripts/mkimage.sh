#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mkimage.sh OUT.tar [NAME[:TAG]] — a busybox OCI image archive (oci-layout,
# index.json, blobs/sha256/...) made from busybox-static with tar and
# sha256sum only: no registry, no umoci. Import it with `cella image import`.
set -eu
OUT=$1
NAME=${2:-busybox:latest}
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || { echo "mkimage: $BUSYBOX missing (apt-get install busybox-static)" >&2; exit 1; }

W=$(mktemp -d /tmp/cella-mkimage.XXXXXX)
trap 'rm -rf "$W"' EXIT
R=$W/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/root" "$R/proc" "$R/sys" "$R/dev" "$R/var/www" "$R/home"
cp "$BUSYBOX" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do
        [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"
done
chmod 1777 "$R/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nstudent:x:1000:1000:student:/home:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nstudent:x:1000:\n' >"$R/etc/group"
echo '<h1>hello from a cella container</h1>' >"$R/var/www/index.html"

L=$W/layout
mkdir -p "$L/blobs/sha256"
blob() { # blob FILE -> prints digest hex, stores the blob
        h=$(sha256sum "$1" | cut -d' ' -f1)
        cp "$1" "$L/blobs/sha256/$h"
        echo "$h"
}
tar --numeric-owner --owner=0 --group=0 --mtime=@0 --sort=name -C "$R" -cf "$W/layer.tar" .
diff_id=$(sha256sum "$W/layer.tar" | cut -d' ' -f1)
gzip -n -9 "$W/layer.tar"
layer=$(blob "$W/layer.tar.gz")
layer_size=$(stat -c %s "$W/layer.tar.gz")

cat >"$W/config.json" <<EOC
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/","Labels":{"org.cella.example":"busybox"}},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created_by":"cella scripts/mkimage.sh"}]}
EOC
config=$(blob "$W/config.json")
config_size=$(stat -c %s "$W/config.json")
cat >"$W/manifest.json" <<EOM
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config","size":$config_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$layer","size":$layer_size}]}
EOM
manifest=$(blob "$W/manifest.json")
manifest_size=$(stat -c %s "$W/manifest.json")
echo '{"imageLayoutVersion":"1.0.0"}' >"$L/oci-layout"
cat >"$L/index.json" <<EOI
{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest","size":$manifest_size,"annotations":{"org.opencontainers.image.ref.name":"$NAME"}}]}
EOI
tar --numeric-owner --owner=0 --group=0 -C "$L" -cf "$OUT" .
