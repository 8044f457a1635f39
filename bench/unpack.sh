#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Import + unpack time of a synthetic 3-layer image (20k files, ~200 MB,
# gzip): cella vs `umoci unpack` vs plain `tar -xzf` of the same layers
# (the floor). Prints times and ratios; asserts nothing.
# RUNTIME: the cella binary (default ./cella). RUNS: repetitions (best kept).
set -eu

RUNTIME=${RUNTIME:-./cella}
case "$RUNTIME" in /*) ;; *) RUNTIME="$PWD/$RUNTIME" ;; esac
RUNS=${RUNS:-3}
FILES=${FILES:-20000}
MB=${MB:-200}

W=$(mktemp -d /tmp/cella-bench-unpack.XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

echo "# generating $FILES files, ~$MB MB in 3 layers under $W"
python3 - "$W/src" "$FILES" "$MB" <<'PY'
import os, sys, random
root, files, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(42)
per = mb * 1024 * 1024 // files
# half random bytes, half text: compresses about 2:1 like real binaries
block = os.urandom(1 << 20)
text = (b"the quick brown fox jumps over the lazy dog %d\n" * 40000)[: 1 << 20]
shares = [0.5, 0.25, 0.25]
n = 0
for layer, share in enumerate(shares):
    count = int(files * share)
    for i in range(count):
        d = os.path.join(root, str(layer), "usr", "lib%d" % (i % 50), "pkg%d" % (i % 7))
        os.makedirs(d, exist_ok=True)
        size = max(1, int(random.uniform(0.2, 1.8) * per))
        off = random.randrange(0, (1 << 20) - min(size, 1 << 19))
        half = size // 2
        data = (block[off:off + half] * (1 + half // (1 << 19)))[:half] + (text[:size - half])
        with open(os.path.join(d, "f%d" % n), "wb") as f:
            f.write(data)
        n += 1
PY

# an OCI layout by hand
L="$W/layout"
mkdir -p "$L/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' >"$L/oci-layout"
layers="" diffs=""
for i in 0 1 2; do
        tar --numeric-owner -C "$W/src/$i" -cf "$W/l$i.tar" .
        d=$(sha "$W/l$i.tar")
        gzip -n -6 -c "$W/l$i.tar" >"$W/l$i.tgz"
        b=$(sha "$W/l$i.tgz")
        cp "$W/l$i.tgz" "$L/blobs/sha256/$b"
        layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$b\",\"size\":$(stat -c %s "$W/l$i.tgz")}"
        diffs="$diffs${diffs:+,}\"sha256:$d\""
        rm "$W/l$i.tar"
done
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$diffs" >"$W/c.json"
c=$(sha "$W/c.json")
cs=$(stat -c %s "$W/c.json")
mv "$W/c.json" "$L/blobs/sha256/$c"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' "$c" "$cs" "$layers" >"$W/m.json"
m=$(sha "$W/m.json")
ms=$(stat -c %s "$W/m.json")
mv "$W/m.json" "$L/blobs/sha256/$m"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}' "$m" "$ms" >"$L/index.json"
rm -rf "$W/src"
echo "# compressed: $(du -sm "$L/blobs" | cut -f1) MB"

run_tar() {
        rm -rf "$W/tar" && mkdir -p "$W/tar" && sync
        t0=$(now)
        for i in 0 1 2; do mkdir "$W/tar/$i" && tar -xzf "$W/l$i.tgz" -C "$W/tar/$i"; done
        t1=$(now)
        elapsed "$t0" "$t1"
}

run_tar_sync() {
        rm -rf "$W/tar" && mkdir -p "$W/tar" && sync
        t0=$(now)
        for i in 0 1 2; do mkdir "$W/tar/$i" && tar -xzf "$W/l$i.tgz" -C "$W/tar/$i"; done
        sync -f "$W/tar"
        t1=$(now)
        elapsed "$t0" "$t1"
}

run_cella() {
        rm -rf "$W/store" && sync
        t0=$(now)
        "$RUNTIME" --image-root "$W/store" image import "$L" >/dev/null || { echo "cella import failed" >&2; exit 1; }
        t1=$(now)
        n=$(find "$W/store/layers" -type f -path '*/diff/*' | wc -l)
        [ "$n" -ge "$FILES" ] || { echo "cella unpacked $n files, expected $FILES" >&2; exit 1; }
        elapsed "$t0" "$t1"
}

run_umoci() {
        rm -rf "$W/bundle" && sync
        t0=$(now)
        umoci unpack --image "$L:bench" "$W/bundle" >/dev/null 2>&1 || { echo "umoci unpack failed" >&2; exit 1; }
        t1=$(now)
        elapsed "$t0" "$t1"
}

# interleaved, best of RUNS each: the machine may be shared and noisy
min() { if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc)" = 1 ]; then echo "$2"; else echo "$1"; fi; }
t_tar="" t_tar_sync="" t_cella="" t_umoci=""
i=0
while [ $i -lt "$RUNS" ]; do
        t_tar=$(min "$t_tar" "$(run_tar)")
        t_tar_sync=$(min "$t_tar_sync" "$(run_tar_sync)")
        t_cella=$(min "$t_cella" "$(run_cella)")
        if command -v umoci >/dev/null 2>&1; then t_umoci=$(min "$t_umoci" "$(run_umoci)"); fi
        i=$((i + 1))
done

ratio() { echo "scale=2; $1 / $2" | bc; }
printf '%-28s %8s %8s\n' "" "seconds" "vs tar"
printf '%-28s %8.2f %8s\n' "tar -xzf (floor)" "$t_tar" "1.00"
printf '%-28s %8.2f %8s\n' "tar -xzf + sync" "$t_tar_sync" "$(ratio "$t_tar_sync" "$t_tar")"
printf '%-28s %8.2f %8s\n' "cella image import" "$t_cella" "$(ratio "$t_cella" "$t_tar")"
if [ -n "$t_umoci" ]; then
        printf '%-28s %8.2f %8s\n' "umoci unpack" "$t_umoci" "$(ratio "$t_umoci" "$t_tar")"
        echo "# cella vs umoci: $(ratio "$t_cella" "$t_umoci")x"
fi
echo "# cella vs tar+sync: $(ratio "$t_cella" "$t_tar_sync")x (cella verifies 2 digests per layer, keeps the blobs and syncs before marking a layer complete)"
