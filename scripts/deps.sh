#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install what cella needs to build and run every test on Debian 12 — only
# what is missing: the Debian packages below, CRIU 4.x (scripts/get-criu.sh)
# and the guest kernels of the VM tests. Idempotent: a second run installs
# nothing and prints nothing.
#
# No service starts during the install: docker.io's and containerd's
# maintainer scripts would start daemons (a dockerd adds docker0 and iptables
# rules). When the machine has no /usr/sbin/policy-rc.d, a temporary one
# answering 101 ("action forbidden") is in place while apt-get runs and
# removed afterwards; an existing one is left as it is.
#
# Environment:
#   CELLA_EXTRA_PKGS       more packages (make fuzz asks for clang)
#   CELLA_DEPS_DRY_RUN=1   print what would be installed or prepared, change nothing
#   CELLA_VM_CACHE         kernel of tests/vm/ (default /var/cache/cella-vm)
#   CELLA_VM_DATA          kernel of `cella run --sandbox vm` (default /var/lib/cella/vm)
#   CELLA_POLICY_RC_D      the policy-rc.d path (default /usr/sbin/policy-rc.d; for tests)
set -eu
here=$(cd "$(dirname "$0")" && pwd)

# build
PKGS="gcc make pkg-config libcap-dev libseccomp-dev libyajl-dev libmnl-dev libarchive-dev libssl-dev"
# tests and demo: a static busybox for bundles, newuidmap for rootless,
# iproute2 to inspect what cella did, runc/crun as references for bench/
PKGS="$PKGS busybox-static uidmap iproute2 util-linux procps runc crun python3 valgrind"
# setcap/getcap: file capabilities in image layers (image.sh)
PKGS="$PKGS libcap2-bin"
# real clients that drive cella in tests/integration/{containerd,podman,docker}.sh
PKGS="$PKGS containerd podman docker.io"
# images: zstd layers, umoci/skopeo-made archives, bench arithmetic
PKGS="$PKGS zstd umoci skopeo bc gnuplot-nox"
# the systemd cgroup driver: sd-bus headers (libsystemd0 is dlopen()ed); its VM test's Debian root
PKGS="$PKGS libsystemd-dev debootstrap"
# VMs: `run --sandbox vm` (tests/integration/sandbox.sh) and the cgroup v2
# VM (tests/vm/); xz unpacks the guest kernel
PKGS="$PKGS qemu-system-x86 cpio xz-utils"
# the containerd shim (Go, ttrpc/protobuf) and the CNI plugins it calls
PKGS="$PKGS golang-go protobuf-c-compiler libprotobuf-c-dev golang-github-containerd-containerd-dev"
PKGS="$PKGS containernetworking-plugins"
# the CRI client of tests/integration/cri.sh (tests/helpers/cri/build.sh):
# Debian's Go packages for gRPC, protobuf and the k8s libraries cri-api uses
PKGS="$PKGS golang-google-grpc-dev golang-google-genproto-dev golang-github-golang-protobuf-1-3-dev"
PKGS="$PKGS golang-github-gogo-protobuf-dev golang-k8s-klog-dev golang-k8s-sigs-structured-merge-diff-dev"
PKGS="$PKGS golang-k8s-sigs-yaml-dev golang-github-json-iterator-go-dev golang-github-modern-go-reflect2-dev"
PKGS="$PKGS golang-github-modern-go-concurrent-dev golang-github-docker-spdystream-dev"
PKGS="$PKGS golang-github-google-gofuzz-dev golang-github-google-go-cmp-dev golang-github-davecgh-go-spew-dev"
PKGS="$PKGS golang-github-go-logr-logr-dev golang-gopkg-inf.v0-dev golang-gopkg-yaml.v2-dev"
PKGS="$PKGS golang-golang-x-net-dev golang-golang-x-oauth2-dev golang-golang-x-sys-dev golang-golang-x-term-dev"
PKGS="$PKGS golang-golang-x-text-dev golang-golang-x-time-dev"
PKGS="$PKGS ${CELLA_EXTRA_PKGS:-}"

dry=${CELLA_DEPS_DRY_RUN:-}
vm_cache=${CELLA_VM_CACHE:-/var/cache/cella-vm}
vm_data=${CELLA_VM_DATA:-/var/lib/cella/vm}
policy=${CELLA_POLICY_RC_D:-/usr/sbin/policy-rc.d}
export CELLA_VM_CACHE="$vm_cache"

missing=""
for p in $PKGS; do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
        esac
done

# guest kernels, unpacked from Debian's linux-image package (downloaded, not
# installed): tests/vm/ wants one with the 9p and overlay modules, --sandbox vm its own
kernels=" tests/vm"
for f in "$vm_cache"/kernel-*/modules/requested; do
        grep -qx 9p "$f" 2>/dev/null && grep -qx overlay "$f" && kernels=""
done
# (a kernel prepared before a module joined prepare-vm-kernel.sh's list is redone)
"$here/prepare-vm-kernel.sh" --check "$vm_data/kernel" || kernels="$kernels sandbox"

if [ -n "$dry" ]; then
        [ -z "$missing" ] || echo "cella: would install:$missing"
        [ -z "$kernels" ] || echo "cella: would prepare guest kernels:$kernels"
        exit 0
fi

# CRIU >= 4 for checkpoint/restore: Debian 12's 3.17 fails on current
# kernels; get-criu.sh unpacks a newer one into /opt/cella-criu (no host libc change)
sh "$here/get-criu.sh" || echo "cella: no CRIU 4.x: checkpoint tests will be skipped" >&2
[ -z "$missing$kernels" ] && exit 0

if [ "$(id -u)" != 0 ]; then
        [ -z "$missing" ] || echo "cella: missing packages:$missing (run as root, or: apt-get install$missing)" >&2
        [ -z "$kernels" ] || echo "cella: missing guest kernels:$kernels (run this script as root)" >&2
        exit 1
fi

if [ -n "$missing" ]; then
        echo "cella: installing:$missing"
        made_policy=""
        if [ ! -e "$policy" ] && [ ! -L "$policy" ]; then
                printf '#!/bin/sh\n# scripts/deps.sh of cella: no service starts while it installs\nexit 101\n' >"$policy"
                chmod 755 "$policy"
                made_policy=1
                trap 'rm -f "$policy"' EXIT
                trap 'rm -f "$policy"; exit 130' INT TERM
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt_install() {
                apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing
        }
        # refresh the lists once if they are missing or a package is unknown
        if ! apt_install >/tmp/cella-deps.log 2>&1; then
                apt-get -o DPkg::Lock::Timeout=600 update -qq >>/tmp/cella-deps.log 2>&1 || true
                apt_install >>/tmp/cella-deps.log 2>&1 || {
                        tail -20 /tmp/cella-deps.log >&2
                        echo "cella: apt-get install failed (log: /tmp/cella-deps.log)" >&2
                        exit 1
                }
        fi
        if [ -n "$made_policy" ]; then
                rm -f "$policy"
                trap - EXIT INT TERM
        fi
fi

# the tests/vm/ kernel first: its download stays in $vm_cache/debs, where
# prepare-vm-kernel.sh finds it
for k in $kernels; do
        echo "cella: preparing the guest kernel for $k"
        case $k in
        tests/vm) "$here/../tests/vm/prepare-kernel.sh" "$vm_cache" >/dev/null ;;
        sandbox) "$here/prepare-vm-kernel.sh" "$vm_data" >/dev/null ;;
        esac || echo "cella: no guest kernel for $k: its tests will be skipped" >&2
done
