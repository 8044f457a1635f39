#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# build.sh: build tests/helpers/cri/*.go (cri-client, our CRI client) with
# Debian's Go in GOPATH mode and print the binary's path. Exit 77 with the
# reason on stderr when it cannot be built here (the tests skip).
#
# Where the code comes from (nothing fetched is committed):
#   - our *.go files, copied into $GOPATH/src/cella-cri-client;
#   - k8s.io/cri-api, client-go, apimachinery... from the vendor/ directory of
#     containerd's Debian source package (crictl and cri-api are not packaged
#     in bookworm), fetched with `apt-get source --download-only` through a
#     PRIVATE apt state under the cache (its own sources.list holding the
#     deb-src twin of the machine's bookworm line; /etc/apt is untouched);
#   - everything else from Debian's golang-*-dev packages in /usr/share/gocode
#     (scripts/deps.sh installs them). klog and structured-merge-diff are
#     installed without the /v2 and /v4 path element GOPATH mode needs: a
#     symlink in our GOPATH adds it.
#
# The binary is cached per machine: $CELLA_CRI_CACHE (default
# /var/cache/cella-cri)/<hash>/cri-client, the hash covering our sources,
# this script, the Go version and the containerd source version. A cold build
# costs a download of ~2 MB and a few minutes of CPU; a warm one, a hash.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${CELLA_CRI_CACHE:-/var/cache/cella-cri}

skip() {
        echo "$*" >&2
        exit 77
}

command -v go >/dev/null || skip "no Go compiler (apt-get install golang-go)"
# the Go packages the build reads, each from a golang-*-dev package
for d in google.golang.org/grpc google.golang.org/genproto github.com/golang/protobuf \
        github.com/gogo/protobuf k8s.io/klog sigs.k8s.io/structured-merge-diff sigs.k8s.io/yaml \
        github.com/json-iterator/go github.com/modern-go/reflect2 github.com/modern-go/concurrent \
        github.com/moby/spdystream github.com/google/gofuzz github.com/google/go-cmp \
        github.com/davecgh/go-spew github.com/go-logr/logr gopkg.in/inf.v0 gopkg.in/yaml.v2 \
        golang.org/x/net golang.org/x/oauth2 golang.org/x/sys golang.org/x/term golang.org/x/text \
        golang.org/x/time; do
        [ -d "/usr/share/gocode/src/$d" ] ||
                skip "no /usr/share/gocode/src/$d (scripts/deps.sh installs the CRI client's packages)"
done
ctd_src_version=$(dpkg-query -W -f '${source:Version}' containerd 2>/dev/null) ||
        skip "containerd is not installed (its source package's version is the one fetched)"

hash=$( {
        cat "$here"/*.go "$here/build.sh"
        go version
        echo "$ctd_src_version"
} | sha256sum | cut -c1-16)
bin=$cache/$hash/cri-client
if [ -x "$bin" ]; then
        echo "$bin"
        exit 0
fi

mkdir -p "$cache"
# one build at a time per machine; the others wait and find the binary
exec 9>"$cache/.lock"
flock 9
if [ -x "$bin" ]; then
        echo "$bin"
        exit 0
fi

# bookworm_deb_src: the deb-src twin of the machine's first bookworm line
# (one-line sources.list or deb822 .sources), as a one-line sources.list.
bookworm_deb_src() {
        {
                cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '
                $1 == "deb" {
                        opts = ""; i = 2
                        if ($i ~ /^\[/) {
                                while (i < NF && $i !~ /\]$/) opts = opts $(i++) " "
                                opts = opts $(i++) " "
                        }
                        if ($(i + 1) == "bookworm") print "deb-src " opts $i " bookworm main"
                }'
                for f in /etc/apt/sources.list.d/*.sources; do
                        [ -f "$f" ] || continue
                        awk '
                        function flush() {
                                if (deb && uri != "" && bw)
                                        print "deb-src " (key != "" ? "[signed-by=" key "] " : "") uri " bookworm main"
                                deb = 0; uri = ""; bw = 0; key = ""
                        }
                        /^[[:space:]]*$/ { flush(); next }
                        /^#/ { next }
                        tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
                        tolower($1) == "uris:" { uri = $2 }
                        tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == "bookworm") bw = 1 }
                        tolower($1) == "signed-by:" { key = $2 }
                        END { flush() }' "$f"
                done
        } | head -n1
}

# fetch_vendor DIR: containerd's source package unpacked far enough to hold
# vendor/ (the .orig tarball is plain; no dpkg-source needed).
fetch_vendor() {
        local dir=$1 apt=$cache/apt line
        mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/dl"
        line=$(bookworm_deb_src)
        [ -n "$line" ] || skip "no bookworm line in /etc/apt to derive a deb-src line from"
        printf '%s\n' "$line" >"$apt/sources.list"
        set -- -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
                -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" \
                -o APT::Sandbox::User=root -o Acquire::Retries=2
        echo "cri build: apt-get update (private state: $apt)" >&2
        apt-get -q "$@" update >&2 || skip "apt-get update of $apt/sources.list failed ($line)"
        rm -f "$apt/dl"/*
        (cd "$apt/dl" && apt-get -q "$@" source --download-only "containerd=$ctd_src_version" >&2) ||
                (cd "$apt/dl" && apt-get -q "$@" source --download-only containerd >&2) ||
                skip "apt-get source containerd failed (deb-src: $line)"
        local orig
        orig=$(ls "$apt/dl"/containerd_*.orig.tar.* 2>/dev/null | head -n1)
        [ -n "$orig" ] || skip "apt-get source containerd fetched no .orig tarball"
        rm -rf "$dir.tmp"
        mkdir -p "$dir.tmp"
        tar xf "$orig" -C "$dir.tmp" --strip-components=1 --wildcards '*/vendor/k8s.io/*' ||
                skip "no vendor/k8s.io in $orig"
        [ -f "$dir.tmp/vendor/k8s.io/cri-api/pkg/apis/runtime/v1/api.pb.go" ] ||
                skip "$orig vendors no k8s.io/cri-api runtime v1"
        mv "$dir.tmp" "$dir"
        # the vendor tree is all we keep; the package lists are 20 MB
        rm -rf "$apt"
}

src=$cache/containerd-src-$ctd_src_version
[ -d "$src/vendor/k8s.io" ] || fetch_vendor "$src"

gopath=$cache/$hash/gopath
rm -rf "$gopath"
mkdir -p "$gopath/src/k8s.io/klog" "$gopath/src/sigs.k8s.io/structured-merge-diff" \
        "$gopath/src/cella-cri-client"
for d in "$src"/vendor/k8s.io/*; do
        ln -s "$d" "$gopath/src/k8s.io/"
done
ln -s /usr/share/gocode/src/k8s.io/klog "$gopath/src/k8s.io/klog/v2"
ln -s /usr/share/gocode/src/sigs.k8s.io/structured-merge-diff \
        "$gopath/src/sigs.k8s.io/structured-merge-diff/v4"
cp "$here"/*.go "$gopath/src/cella-cri-client/"

echo "cri build: go build (GOPATH mode) -> $bin" >&2
(
        cd "$gopath/src/cella-cri-client"
        GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$cache/gocache" \
                GOFLAGS= CGO_ENABLED=0 go build -ldflags '-s -w' -o "$bin.tmp" .
) >&2 || { rm -f "$bin.tmp"; echo "cri build: go build failed" >&2; exit 1; }
mv "$bin.tmp" "$bin"
rm -rf "$gopath"
# builds of other sources (older checkouts) not rebuilt for a week
find "$cache" -mindepth 1 -maxdepth 1 -type d -name '????????????????' ! -name "$hash" \
        -mtime +7 -exec rm -rf {} + 2>/dev/null || true
echo "$bin"
