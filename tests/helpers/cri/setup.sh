#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/helpers/cri/setup.sh — the CRI suites' private containerd, sourced
# after tests/lib.sh by tests/integration/cri.sh (and so cri_shim.sh) and
# vm-pods.sh: the CRI client's build (once per suite run), a containerd 1.6
# with its CRI plugin and two runtime handlers (`cella`, `runc`), the images,
# pods and containers from crictl-style JSON, and the teardown that asserts
# nothing is left. cri.sh's header says what it sets up.
#
# What a suite may set before cri_start (all optional):
#   CRI_NETNS            a network namespace path: containerd and the CRI
#                        client run in it (nsenter), so CNI's bridge, veths
#                        and the streaming server's port exist only there
#   CRI_CTD_ENV          NAME=VALUE words for containerd's environment (its
#                        shims inherit it), e.g. CELLA_VM_KERNEL=/x
#   CRI_CELLA_EXTRA      TOML lines for the `cella` runtime's table
#   CRI_EXTRA_RUNTIMES   TOML of more runtime tables
# and it may redefine cri_cni_setup (the CNI plugins and conflist in
# $CTD/cni) and cri_extra_leftovers / cri_extra_cleanup (what else must not
# be left).

CRI_CELLA_RUNTIME_TYPE=${CRI_CELLA_RUNTIME_TYPE:-io.containerd.runc.v2}
CELLA_SHIM=${CELLA_SHIM:-$(dirname "$RUNTIME")/containerd-shim-cella-v2}
# the native shim's cella state root (shim/backend_cella.c)
NATIVE_STATE=/run/containerd/cella
RUNC=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}
CRI_NS=k8s.io
IMAGE=localhost/busybox:latest
PAUSE_IMAGE=localhost/cella-pause:1
CRI_HELPERS=$HELPERS_DIR/cri
CNI_LOOPBACK=${CNI_LOOPBACK:-/usr/lib/cni/loopback}
# the host settings a container stack may change: forwarding (dockerd sets
# it), and the ones a pod's sysctls or CRI's unprivileged-port options touch
HOST_SYSCTLS="net/ipv4/ip_forward net/ipv6/conf/all/forwarding net/ipv4/conf/all/forwarding
net/ipv4/conf/all/route_localnet net/ipv4/ip_unprivileged_port_start
net/ipv4/ping_group_range kernel/shm_rmid_forced"

host_sysctls() {
        local k
        for k in $HOST_SYSCTLS; do
                echo "$k=$(cat "/proc/sys/$k" 2>/dev/null)"
        done
}

# host_state: what the suite must leave as it found it, outside its temp dirs.
host_state() {
        host_sysctls
        echo "netns: $(ls /run/netns 2>/dev/null | grep '^cni-' | tr '\n' ' ')"
        echo "var-lib-cni: $(find /var/lib/cni 2>/dev/null | sort | tr '\n' ' ')"
        echo "host eth0-peer: $(ip -o link show eth0-peer 2>/dev/null)"
}

# The client is built once per suite run, outside the per-test timeout (a cold
# build takes minutes on a loaded machine; then it is cached per machine).
# Each test process re-runs this file: only the first (no __one) does this.
if [ "${1:-}" != __one ]; then
        CRI_HOST_BEFORE=$(host_state)
        CRI_CLIENT="" CRI_SKIP=""
        if [ "$(id -u)" != 0 ]; then
                CRI_SKIP="containerd needs root"
        else
                cri_build_log=$(mktemp)
                cri_t0=$(date +%s)
                cri_st=0
                CRI_CLIENT=$(sh "$CRI_HELPERS/build.sh" 2>"$cri_build_log") || cri_st=$?
                if [ $cri_st = 77 ]; then
                        CRI_SKIP="cri-client: $(tail -n1 "$cri_build_log")"
                elif [ $cri_st != 0 ]; then
                        CRI_SKIP="FAIL: cri-client did not build: $(tail -n3 "$cri_build_log" | tr '\n' ' ')"
                elif [ -s "$cri_build_log" ]; then
                        echo "# cri-client built in $(($(date +%s) - cri_t0)) s: $CRI_CLIENT"
                fi
                rm -f "$cri_build_log"
        fi
        export CRI_HOST_BEFORE CRI_CLIENT CRI_SKIP
fi

# need_cri: skip unless everything the suite needs is here.
need_cri() {
        local b
        [ "$(id -u)" = 0 ] || skip "containerd needs root"
        for b in containerd ctr containerd-shim-runc-v2 umoci skopeo nsenter ip "${CC:-cc}"; do
                command -v "$b" >/dev/null ||
                        skip "$b not installed (scripts/deps.sh installs containerd, umoci, skopeo)"
        done
        [ -x "$CNI_LOOPBACK" ] ||
                skip "no CNI loopback plugin at $CNI_LOOPBACK (containernetworking-plugins)"
        [ -x "$RUNC" ] || skip "no runc (the reference handler)"
        case "$CRI_SKIP" in
        FAIL:*) fail "${CRI_SKIP#FAIL: }" ;;
        ?*) skip "$CRI_SKIP" ;;
        esac
        [ -x "$CRI_CLIENT" ] || fail "no cri-client (CRI_CLIENT=$CRI_CLIENT)"
        if native_shim; then
                [ -x "$CELLA_SHIM" ] ||
                        fail "CRI_CELLA_RUNTIME_TYPE=$CRI_CELLA_RUNTIME_TYPE but no $CELLA_SHIM"
        fi
        return 0
}

native_shim() { [ "$CRI_CELLA_RUNTIME_TYPE" != io.containerd.runc.v2 ]; }

# cri ARGS...: the client against this test's containerd.
# (its status is returned, not failed on inside: the ERR trap's line would
# land in `run`'s captured stderr)
cri() {
        local st=0
        ${CRI_NETNS:+nsenter --net="$CRI_NETNS"} \
                timeout -k 5 90 "$CRI_CLIENT" -r "unix://$CTD_SOCK" --timeout 60 "$@" || st=$?
        return $st
}

# the images, built once per run
images() {
        sh "$HELPERS_DIR/mkimage.sh" "$CELLA_RUN_DIR/image" >&2 || fail "mkimage.sh failed"
        sh "$CRI_HELPERS/mkpause.sh" "$CELLA_RUN_DIR/image" >&2 || fail "mkpause.sh failed"
}

# cri_config: containerd's config.toml, the CRI plugin on, two handlers.
cri_config() {
        local cella_opts=""
        if ! native_shim; then
                cella_opts="
    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.cella.options]
      BinaryName = \"$CTD/bin/argv-logger.sh\"
      Root = \"$STATE_ROOT\""
        fi
        cat <<EOF
version = 2
root = "$CTD/root"
state = "$CTD/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CTD_SOCK"
[ttrpc]
  address = "$CTD_SOCK.ttrpc"
[debug]
  level = "debug"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTD/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  enable_unprivileged_ports = false
  enable_unprivileged_icmp = false
  systemd_cgroup = false
  # the sandbox asks for oom_score_adj -998; root here lacks CAP_SYS_RESOURCE
  # (runc and cella both fail to lower it): keep it at containerd's own
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      BinaryName = "$RUNC"
      Root = "$CTD/runc-root"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.cella]
      runtime_type = "$CRI_CELLA_RUNTIME_TYPE"${CRI_CELLA_EXTRA:+
$CRI_CELLA_EXTRA}$cella_opts${CRI_EXTRA_RUNTIMES:+
$CRI_EXTRA_RUNTIMES}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CTD/cni/bin"
    conf_dir = "$CTD/cni/net.d"
    max_conf_num = 1
EOF
}

# cri_cni_setup: the pods' network — cni-netns.sh (an address inside the
# pod's own netns, nothing outside) and containerd's loopback. Sets CNI_NET,
# the network's name (libcni's cached results are named after it).
cri_cni_setup() {
        ln -s "$CNI_LOOPBACK" "$CTD/cni/bin/loopback"
        install -m 755 "$CRI_HELPERS/cni-netns.sh" "$CTD/cni/bin/cella-netns"
        CNI_NET=cella-netns-$CELLA_RUN_ID-$TEST_NUM
        cat >"$CTD/cni/net.d/10-cella.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "$CNI_NET", "plugins": [{"type": "cella-netns"}]}
EOF
}

# what else a suite must not leave (one line each), and its removal
cri_extra_leftovers() { return 0; }
cri_extra_cleanup() { return 0; }

# cri_start: a private containerd with the CRI plugin and both images. Sets
# CTD (its dir), CTD_SOCK, CTD_PID and ARGV_LOG (the shim's calls of cella).
cri_start() {
        need_cri
        images
        CTD=$T/ctd
        CTD_SOCK=$CTD/containerd.sock
        ARGV_LOG=$CTD/bin/argv-logger.log
        mkdir -p "$CTD/bin" "$CTD/cni/bin" "$CTD/cni/net.d" "$T/logs"
        # containerd and its shims create /run/containerd/s, libcni its result
        # cache in /var/lib/cni: remove what we created, nothing that was there
        if [ -d /run/containerd ]; then CTD_RUN_NEW=""; else CTD_RUN_NEW=1; fi
        if [ -d /var/lib/cni ]; then CNI_LIB_NEW=""; else CNI_LIB_NEW=1; fi
        host_sysctls >"$CTD/sysctls.before"
        cri_cni_setup
        cp "$HELPERS_DIR/argv-logger.sh" "$CTD/bin/"
        echo "$RUNTIME" >"$CTD/bin/argv-logger.runtime"
        native_shim && ln -s "$CELLA_SHIM" "$CTD/bin/containerd-shim-cella-v2"
        cri_config >"$CTD/config.toml"
        # (nsenter execs containerd: $! is containerd's pid)
        PATH="$CTD/bin:$PATH" ${CRI_NETNS:+nsenter --net="$CRI_NETNS"} env ${CRI_CTD_ENV:-} \
                containerd --config "$CTD/config.toml" >"$CTD/containerd.log" 2>&1 &
        CTD_PID=$!
        track_pid "$CTD_PID"
        defer cri_teardown
        retry 150 cri version || {
                tail -20 "$CTD/containerd.log" >&2
                fail "private containerd (CRI) did not come up"
        }
        local a
        for a in busybox-oci.tar pause-oci.tar; do
                ctr -a "$CTD_SOCK" -n "$CRI_NS" images import "$CELLA_RUN_DIR/image/$a" >&2 ||
                        fail "ctr images import $a"
        done
        # the CRI image store follows containerd's image events
        retry 100 sh -c "'$CRI_CLIENT' -r 'unix://$CTD_SOCK' images | grep -q '$PAUSE_IMAGE' &&
                '$CRI_CLIENT' -r 'unix://$CTD_SOCK' images | grep -q '$IMAGE'" ||
                fail "CRI does not list the imported images: $(cri images 2>&1)"
}

# the shim processes serving this containerd
our_shims() {
        local f
        for f in /proc/[0-9]*/cmdline; do
                { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -qxF "$CTD_SOCK" || continue
                f=${f#/proc/}
                [ "${f%/cmdline}" = "$CTD_PID" ] || echo "${f%/cmdline}"
        done
}

# cri_shutdown: remove every pod through CRI, then stop containerd (bounded).
cri_shutdown() {
        [ -n "${CTD_PID:-}" ] || return 0
        local p i=0
        for p in $(cri pods -q 2>/dev/null); do
                cri stopp "$p" >/dev/null 2>&1
                cri rmp "$p" >/dev/null 2>&1
        done
        kill "$CTD_PID" 2>/dev/null || true
        while kill -0 "$CTD_PID" 2>/dev/null && [ $i -lt 100 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        kill -KILL "$CTD_PID" 2>/dev/null || true
        wait "$CTD_PID" 2>/dev/null || true
        CTD_PID=""
        return 0
}

# cri_leftovers: one line per thing this test's containerd left behind.
cri_leftovers() {
        local d m
        for m in $(our_shims); do echo "shim process $m ($(tr '\0' ' ' </proc/$m/cmdline))"; done
        for m in $(_mounts_under "$CTD"); do echo "mount $m"; done
        for d in "$STATE_ROOT/$CRI_NS" "$CTD/runc-root/$CRI_NS" "$NATIVE_STATE/$CRI_NS"; do
                [ -d "$d" ] && [ -n "$(ls -A "$d")" ] && echo "runtime state in $d: $(ls -A "$d")"
        done
        for m in $(pod_cgroups); do
                find /sys/fs/cgroup -mindepth 2 -type d -path "*/$m/*" 2>/dev/null |
                        sed 's/^/cgroup /'
        done
        [ -n "$(ls "$CTD/state/netns" 2>/dev/null)" ] && echo "netns: $(ls "$CTD/state/netns")"
        find /var/lib/cni/results -name "*$CNI_NET*" 2>/dev/null | sed 's/^/CNI result /'
        if [ -n "$CTD_RUN_NEW" ] && [ -e /run/containerd ] &&
                [ -n "$(find /run/containerd ! -type d)" ]; then
                echo "in /run/containerd: $(find /run/containerd ! -type d | tr '\n' ' ')"
        fi
        if [ "$(host_sysctls)" != "$(cat "$CTD/sysctls.before")" ]; then
                echo "host sysctls changed: $(host_sysctls | tr '\n' ' ')" \
                        "(before: $(tr '\n' ' ' <"$CTD/sysctls.before"))"
        fi
        ip -o link show eth0-peer >/dev/null 2>&1 && echo "eth0-peer in the host's netns"
        cri_extra_leftovers
        return 0
}

# cri_force_cleanup: whatever is left, removed (our processes by PID only).
cri_force_cleanup() {
        local m d
        for m in $(our_shims); do kill -KILL "$m" 2>/dev/null; done
        for d in "$STATE_ROOT/$CRI_NS" "$CTD/runc-root/$CRI_NS" "$NATIVE_STATE/$CRI_NS"; do
                [ -d "$d" ] || continue
                for m in $(ls -A "$d"); do
                        if [ "$d" != "$CTD/runc-root/$CRI_NS" ]; then
                                timeout 20 "$RUNTIME" --root "$d" delete --force "$m" >/dev/null 2>&1
                        else
                                timeout 20 "$RUNC" --root "$d" delete --force "$m" >/dev/null 2>&1
                        fi
                done
                rmdir "$d" 2>/dev/null || true
        done
        rmdir "$NATIVE_STATE" 2>/dev/null || true
        for m in $(_mounts_under "$CTD" | sort -r); do umount -l "$m" 2>/dev/null; done
        for m in $(pod_cgroups); do
                find /sys/fs/cgroup -depth -type d -path "*/$m*" -exec rmdir {} \; 2>/dev/null || true
        done
        find /var/lib/cni/results -name "*$CNI_NET*" -delete 2>/dev/null || true
        cri_extra_cleanup
        [ -n "$CNI_LIB_NEW" ] && [ -d /var/lib/cni ] &&
                find /var/lib/cni -depth -type d -empty -delete 2>/dev/null
        [ -n "$CTD_RUN_NEW" ] && [ -d /run/containerd ] &&
                find /run/containerd -depth -type d -empty -delete 2>/dev/null
        return 0
}

cri_teardown() {
        [ -n "${CTD:-}" ] || return 0
        cri_shutdown
        cri_force_cleanup
}

# cri_stop: tear down now and assert nothing is left.
cri_stop() {
        local left
        cri_shutdown
        # the pod cgroup parents are the kubelet's to remove; so are ours
        local m
        for m in $(pod_cgroups); do
                # (a failed rmdir is reported by cri_leftovers below)
                find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$m" -prune \
                        -exec rmdir {} \; 2>/dev/null || true
        done
        left=$(cri_leftovers)
        [ -z "$left" ] || fail "left after the pods were removed and containerd stopped: $left"
        cri_force_cleanup
        for m in $(pod_cgroups); do
                [ -z "$(find /sys/fs/cgroup -type d -name "$m" 2>/dev/null)" ] ||
                        fail "pod cgroup $m left"
        done
}

# merge_json FILE DOC EXTRA: write DOC with EXTRA (JSON objects) merged in,
# recursively for objects, replacing anything else
merge_json() {
        python3 - "$@" <<'EOF'
import json, sys
path, doc, extra = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3] or "{}")
def merge(a, b):
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict):
            merge(a[k], v)
        else:
            a[k] = v
merge(doc, extra)
json.dump(doc, open(path, "w"), indent=1)
EOF
}

# pod_config NAME [EXTRA-JSON]: $T/NAME-pod.json, a pod with its own log dir
# and cgroup parent, a pid namespace per container (Kubernetes' default), an
# IPC sysctl; EXTRA is merged in.
pod_config() {
        local name=$1 cg
        cg=$(new_id)
        echo "$cg" >>"$T/.pod_cgroups"
        mkdir -p "$T/logs/$name"
        merge_json "$T/$name-pod.json" "{
                \"metadata\": {\"name\": \"$name\", \"namespace\": \"cella-cri\",
                        \"uid\": \"$CELLA_RUN_ID-$TEST_NUM-$name\", \"attempt\": 0},
                \"hostname\": \"$name\",
                \"log_directory\": \"$T/logs/$name\",
                \"labels\": {\"cella-test\": \"$CELLA_RUN_ID-$TEST_NUM\"},
                \"linux\": {
                        \"cgroup_parent\": \"/$cg\",
                        \"sysctls\": {\"kernel.shm_rmid_forced\": \"1\"},
                        \"security_context\": {\"namespace_options\": {\"pid\": 1}}}}" "${2:-}"
}

# ctr_config NAME SCRIPT [EXTRA-JSON]: $T/NAME.json, busybox running
# `sh -c SCRIPT`, its log at NAME.log in the pod's log directory, its own pid
# namespace (what kubelet asks for without shareProcessNamespace); EXTRA is
# merged in.
ctr_config() {
        local script
        script=$(printf '%s' "$2" | python3 -c 'import json, sys; print(json.dumps(sys.stdin.read()))')
        merge_json "$T/$1.json" "{
                \"metadata\": {\"name\": \"$1\"},
                \"image\": {\"image\": \"$IMAGE\"},
                \"command\": [\"sh\", \"-c\", $script],
                \"log_path\": \"$1.log\",
                \"linux\": {\"security_context\": {\"namespace_options\": {\"pid\": 1}}}}" "${3:-}"
}

# runp NAME HANDLER [EXTRA-JSON]: a pod, ready; prints its ID.
runp() {
        pod_config "$1" "${3:-}"
        run cri runp --runtime "$2" "$T/$1-pod.json"
        assert_success "runp $1 with handler $2"
        printf '%s\n' "$stdout"
}

# start_ctr POD POD-NAME NAME SCRIPT [EXTRA-JSON]: create and start a
# container in the pod runp POD-NAME made; prints its ID.
start_ctr() {
        local id
        ctr_config "$3" "$4" "${5:-}"
        id=$(cri create "$1" "$T/$3.json" "$T/$2-pod.json" 2>&1) ||
                fail "create $3: $id"
        run cri start "$id"
        assert_success "start $3"
        printf '%s\n' "$id"
}

# the cgroup parents of this test's pods (pod_config writes them to a file:
# runp runs in a command substitution)
pod_cgroups() { cat "$T/.pod_cgroups" 2>/dev/null || true; }

info() { cri inspect "$1" | json_get - "$2"; }
infop() { cri inspectp "$1" | json_get - "$2"; }

# poll_size ROWS COLS: shell code that waits (up to 5 s) for the terminal to
# have that size, then prints `stty size`
poll_size() {
        echo "i=0; while [ \"\$(stty size)\" != \"$1 $2\" ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done; stty size"
}
