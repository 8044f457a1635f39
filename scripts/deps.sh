#!/bin/sh
# Install the Debian packages cella needs to build and test — only those
# missing. Idempotent: a second run installs nothing and prints nothing.
set -eu

# build
PKGS="gcc make pkg-config libcap-dev libseccomp-dev libyajl-dev libmnl-dev libarchive-dev libssl-dev"
# tests and demo: a static busybox for bundles, newuidmap for rootless,
# iproute2 to inspect what cella did, runc/crun as references for bench/
PKGS="$PKGS busybox-static uidmap iproute2 util-linux procps runc crun python3 valgrind"
# real clients that drive cella in tests/integration/{containerd,podman}.sh
PKGS="$PKGS containerd podman"
# extra sets, asked for by the test suites that need them
# images: zstd layers, umoci/skopeo-made archives, bench arithmetic
PKGS="$PKGS zstd umoci skopeo bc gnuplot-nox"
# the systemd cgroup driver: sd-bus headers (libsystemd0 is dlopen()ed); its VM test's Debian root
PKGS="$PKGS libsystemd-dev debootstrap"
PKGS="$PKGS ${CELLA_EXTRA_PKGS:-}"

missing=""
for p in $PKGS; do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
        esac
done
# CRIU >= 4 for checkpoint/restore: Debian 12's 3.17 fails on current
# kernels; get-criu.sh unpacks a newer one into /opt/cella-criu (no host libc change)
sh "$(dirname "$0")/get-criu.sh" || echo "cella: no CRIU 4.x: checkpoint tests will be skipped" >&2
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
        echo "cella: missing packages:$missing (run as root, or: apt-get install$missing)" >&2
        exit 1
fi
echo "cella: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# refresh the lists once if they are missing or a package is unknown
if ! apt-get install -y -qq --no-install-recommends $missing >/tmp/cella-deps.log 2>&1; then
        apt-get update -qq >>/tmp/cella-deps.log 2>&1
        apt-get install -y -qq --no-install-recommends $missing >>/tmp/cella-deps.log 2>&1 || {
                tail -20 /tmp/cella-deps.log >&2
                echo "cella: apt-get install failed (log: /tmp/cella-deps.log)" >&2
                exit 1
        }
fi
