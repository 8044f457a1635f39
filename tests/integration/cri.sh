#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CRI (the Kubernetes path) drives cella: our own CRI client
# (tests/helpers/cri/*.go, built at test time by build.sh and cached per
# machine) against a private containerd 1.6 with its CRI plugin, two runtime
# handlers: `cella` and `runc` (the reference), the same steps with each.
#
# Each test starts its own containerd (root, state, sockets, CNI config and
# netns mounts under $T) with a pause image built here (pause.c, static) and
# the busybox image of tests/helpers/mkimage.sh; there is no registry. Pods get
# their own network namespace from tests/helpers/cri/cni-netns.sh (a veth pair
# whose both ends stay in the pod; nothing on the host's network) plus
# containerd's loopback. Pod cgroups live under a parent named by new_id, so
# the framework's leak check finds any left; cella's state root is
# $STATE_ROOT/k8s.io. Afterwards nothing may be left: containerd, shims,
# mounts, cgroups, netns, CNI results, and the host's sysctls as they were.
#
# The `cella` handler's runtime_type is CRI_CELLA_RUNTIME_TYPE:
#   io.containerd.runc.v2   (today) containerd's Go shim, BinaryName = cella
#                           (through tests/helpers/argv-logger.sh)
#   io.containerd.cella.v2  the native shim (issue 20): containerd finds
#                           containerd-shim-cella-v2 ($CELLA_SHIM, default next
#                           to $RUNTIME) on its PATH; no runc options
# Nothing else changes between the two.
. "$(dirname "$0")/../lib.sh"

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
      runtime_type = "$CRI_CELLA_RUNTIME_TYPE"$cella_opts
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CTD/cni/bin"
    conf_dir = "$CTD/cni/net.d"
    max_conf_num = 1
EOF
}

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
        ln -s "$CNI_LOOPBACK" "$CTD/cni/bin/loopback"
        install -m 755 "$CRI_HELPERS/cni-netns.sh" "$CTD/cni/bin/cella-netns"
        CNI_NET=cella-netns-$CELLA_RUN_ID-$TEST_NUM
        cat >"$CTD/cni/net.d/10-cella.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "$CNI_NET", "plugins": [{"type": "cella-netns"}]}
EOF
        cp "$HELPERS_DIR/argv-logger.sh" "$CTD/bin/"
        echo "$RUNTIME" >"$CTD/bin/argv-logger.runtime"
        native_shim && ln -s "$CELLA_SHIM" "$CTD/bin/containerd-shim-cella-v2"
        cri_config >"$CTD/config.toml"
        PATH="$CTD/bin:$PATH" containerd --config "$CTD/config.toml" >"$CTD/containerd.log" 2>&1 &
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

# the runtime binary's own view of a container (the handler's state root)
handler_state() {
        local h=$1 id=$2
        if [ "$h" = runc ]; then
                "$RUNC" --root "$CTD/runc-root/$CRI_NS" state "$id"
        else
                "$RUNTIME" --root "$STATE_ROOT/$CRI_NS" state "$id"
        fi
}

# argv_has VERB PATTERN: a call the Go shim made of cella (argv-logger.sh)
argv_has() {
        grep -F "[$1]" "$ARGV_LOG" | grep -Eq -- "$2" ||
                fail "no \`$1\` call matching /$2/ in: $(cat "$ARGV_LOG")"
}

# memory cgroup v1 (or v2) file of a process
cgroup_file() {
        local pid=$1 ctl=$2 file=$3 p
        p=$(awk -F: -v c="$ctl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' \
                "/proc/$pid/cgroup")
        if [ -n "$p" ] && [ -e "/sys/fs/cgroup/$ctl$p/$file" ]; then
                cat "/sys/fs/cgroup/$ctl$p/$file"
                return
        fi
        p=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
        cat "/sys/fs/cgroup$p/$file"
}

# poll_size ROWS COLS: shell code that waits (up to 5 s) for the terminal to
# have that size, then prints `stty size`
poll_size() {
        echo "i=0; while [ \"\$(stty size)\" != \"$1 $2\" ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done; stty size"
}

# ----------------------------------------------------------------- scenarios

# a pod with two containers: one shim, its own netns, logs, stop, remove
pod_two_containers() {
        local h=$1 pod app side ppid pause_pid app_pid side_pid shims
        cri_start
        pod=$(runp web "$h")
        run cri pods
        assert_match "$stdout" "^$pod	web	cella-cri	SANDBOX_READY	$h$"
        assert_match "$(infop "$pod" .status.network.ip)" '^192\.0\.2\.[0-9]+$' "the CNI plugin's address"
        assert_eq "$(infop "$pod" .info.runtimeHandler)" "$h"
        pause_pid=$(infop "$pod" .info.pid)
        track_pid "$pause_pid"

        app=$(start_ctr "$pod" web app 'echo hello-out; echo hello-err >&2
                trap "echo bye; exit 0" TERM; while :; do sleep 1 & wait $!; done')
        side=$(start_ctr "$pod" web side 'echo side-up; exec sleep 1000')
        run cri ps --pod "$pod"
        assert_success
        assert_contains "$stdout" "$app	app	CONTAINER_RUNNING	$pod"
        assert_contains "$stdout" "$side	side	CONTAINER_RUNNING	$pod"
        app_pid=$(info "$app" .info.pid)
        side_pid=$(info "$side" .info.pid)
        track_pid "$app_pid"
        track_pid "$side_pid"

        # one shim for the pod: the parent of the pause and of both containers
        ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$pause_pid/status")
        track_pid "$ppid"
        assert_match "$(cat "/proc/$ppid/comm")" '^containerd-shim' "the pause's parent is a shim"
        assert_eq "$(awk '/^PPid:/ { print $2 }' "/proc/$app_pid/status")" "$ppid" "app's shim"
        assert_eq "$(awk '/^PPid:/ { print $2 }' "/proc/$side_pid/status")" "$ppid" "side's shim"
        shims=$(our_shims)
        assert_eq "$shims" "$ppid" "one shim process for the pod"

        # the handler's runtime made them (its state agrees on the pids)
        if [ "$h" = runc ] || ! native_shim; then
                assert_eq "$(handler_state "$h" "$app" | json_get - .pid)" "$app_pid"
                assert_eq "$(handler_state "$h" "$pod" | json_get - .pid)" "$pause_pid"
                assert_eq "$(handler_state "$h" "$side" | json_get - .status)" running
        fi
        if [ "$h" = cella ] && ! native_shim; then
                argv_has create "\[create\] \[--bundle\] \[[^]]+\] \[--pid-file\] \[[^]]+\] \[$pod\]$"
                argv_has start "\[start\] \[$app\]$"
        fi

        # the pod's namespaces: net shared with the pause, not the host's; its
        # own interfaces only; the pod's sysctl inside, not on the host
        assert_eq "$(readlink "/proc/$app_pid/ns/net")" "$(readlink "/proc/$pause_pid/ns/net")"
        assert_ne "$(readlink "/proc/$app_pid/ns/net")" "$(readlink /proc/self/ns/net)"
        assert_ne "$(readlink "/proc/$app_pid/ns/pid")" "$(readlink "/proc/$side_pid/ns/pid")" \
                "a pid namespace per container"
        run cri exec --sync "$app" sh -c 'ls /sys/class/net | tr "\n" " "; echo; hostname; cat /proc/sys/kernel/shm_rmid_forced'
        assert_success
        assert_eq "$stdout" "eth0 eth0-peer lo "$'\n'"web"$'\n'"1"
        assert_eq "$(cat /proc/sys/kernel/shm_rmid_forced)" \
                "$(sed -n 's|^kernel/shm_rmid_forced=||p' "$CTD/sysctls.before")" "the host's value"

        # logs: containerd's CRI log file, read back per stream
        retry 50 sh -c "grep -q hello-err '$T/logs/web/app.log'" || fail "no log: $(cat "$T/logs/web/app.log")"
        assert_match "$(cat "$T/logs/web/app.log")" '^[0-9T:.Z+-]+ stdout F hello-out$'
        run cri logs "$app"
        assert_success
        assert_eq "$stdout" hello-out
        assert_eq "$stderr" hello-err
        run cri logs --stream stderr "$app"
        assert_eq "$stdout$stderr" hello-err

        # stop: the trap answers SIGTERM (exit 0); sleep as PID 1 ignores it
        # and is killed after the grace period (137)
        run cri stop --timeout 10 "$app"
        assert_success
        assert_eq "$(info "$app" .status.state)" CONTAINER_EXITED
        assert_eq "$(info "$app" .status.exitCode)" 0
        run cri logs "$app"
        assert_eq "$stdout" "hello-out"$'\n'"bye"
        run cri stop --timeout 1 "$side"
        assert_success
        assert_eq "$(info "$side" .status.state)" CONTAINER_EXITED
        assert_eq "$(info "$side" .status.exitCode)" 137
        run cri ps -a --pod "$pod"
        assert_contains "$stdout" "$side	side	CONTAINER_EXITED"

        run cri rm "$app" "$side"
        assert_success
        assert_eq "$(cri ps -a -q --pod "$pod")" ""
        run cri stopp "$pod"
        assert_success
        run cri pods
        assert_contains "$stdout" "SANDBOX_NOTREADY"
        retry 50 sh -c "! kill -0 $pause_pid 2>/dev/null" || fail "the pause outlived stopp"
        run cri rmp "$pod"
        assert_success
        assert_eq "$(cri pods -q)" ""
        retry 50 sh -c "! kill -0 $ppid 2>/dev/null" || fail "the shim outlived rmp"
        if [ "$h" = cella ] && ! native_shim; then
                argv_has delete "\[delete\] \[$app\]$"
                argv_has kill "\[kill\] \[$app\] \[15\]$"
        fi
        cri_stop
}

# exec: sync (output and exit code in the reply) and streamed (SPDY through
# containerd's streaming server), with stdin, with a terminal of a given size,
# from a terminal; attach to a container's stdin
exec_paths() {
        local h=$1 pod c a
        cri_start
        pod=$(runp box "$h")
        c=$(start_ctr "$pod" box sh 'exec sleep 1000')
        track_pid "$(info "$c" .info.pid)"

        run cri exec --sync "$c" sh -c 'echo out; echo err >&2; exit 3'
        assert_status 3
        assert_eq "$stdout" out
        assert_eq "$stderr" err
        run cri exec -s "$c" sh -c 'echo $$; cat /proc/1/cmdline | tr "\0" " "'
        assert_success
        assert_match "$stdout" '^[0-9]+'$'\n''sleep 1000 $'
        assert_ne "$(printf '%s\n' "$stdout" | head -n1)" 1 "the exec is not the init"

        run cri exec "$c" sh -c 'echo out; echo err >&2; exit 4'
        assert_status 4
        assert_eq "$stdout" out
        assert_eq "$stderr" err
        run cri exec "$c" true
        assert_success

        run sh -c "printf 'line1\nline2\n' | '$CRI_CLIENT' -r 'unix://$CTD_SOCK' exec -i '$c' sh -c 'wc -l; exit 6'"
        assert_status 6
        assert_eq "$(echo $stdout)" 2

        # a terminal: a pty inside, output with CRLF, our size (polled: the
        # resize may reach the shim just after the process starts)
        run cri exec -t --size 30x100 "$c" sh -c "tty; $(poll_size 30 100); exit 5"
        assert_status 5
        assert_match "$stdout" '^/dev/pts/[0-9]+'$'\r'
        assert_contains "$stdout" "30 100"$'\r'
        # -it from a terminal (script's pty): raw mode, its size, its input
        cat >"$T/it.sh" <<EOF
stty rows 33 cols 77
exec '$CRI_CLIENT' -r 'unix://$CTD_SOCK' exec -it '$c' sh -c 'read l; echo got:\$l; $(poll_size 33 77); exit 7'
EOF
        run sh -c "printf 'hello\n' | script -qec 'sh $T/it.sh' /dev/null"
        assert_status 7
        assert_contains "$stdout" "got:hello"$'\r'
        assert_contains "$stdout" "33 77"$'\r'
        if [ "$h" = cella ] && ! native_shim; then
                argv_has exec "\[exec\] \[--process\] \[[^]]+\] \[--detach\] \[--pid-file\] \[[^]]+\] \[$c\]$"
                argv_has exec "\[exec\] \[--process\] \[[^]]+\] \[--console-socket\] \[[^]]+\] \[--detach\] \[--pid-file\] \[[^]]+\] \[$c\]$"
        fi

        # a command that cannot start: an RPC error naming it, not an exit code
        run cri exec --sync "$c" /no/such/binary
        assert_status 125
        assert_contains "$stderr" "/no/such/binary"
        run cri exec "$c" /no/such/binary
        assert_failure
        assert_contains "$stderr" "/no/such/binary"

        # attach to a container's own stdin; stdin_once: containerd closes
        # it (CloseIO) when we detach, the second read sees EOF
        a=$(start_ctr "$pod" box att 'read l; echo got:$l; read m || echo stdin-closed; exit 3' \
                '{"stdin": true, "stdin_once": true}')
        run sh -c "printf 'hi\n' | '$CRI_CLIENT' -r 'unix://$CTD_SOCK' attach -i '$a'"
        assert_success
        assert_contains "$stdout" "got:hi"
        retry 100 sh -c "'$CRI_CLIENT' -r 'unix://$CTD_SOCK' inspect $a | grep -q CONTAINER_EXITED" ||
                fail "the attached container did not exit after its stdin closed"
        assert_eq "$(info "$a" .status.exitCode)" 3
        run cri logs "$a"
        assert_eq "$stdout" "got:hi"$'\n'"stdin-closed"

        # the container is unharmed
        assert_eq "$(info "$c" .status.state)" CONTAINER_RUNNING
        run cri exec -s "$c" echo still-here
        assert_eq "$stdout" still-here
        run cri stop --timeout 1 "$c"
        assert_success
        cri_stop
}

# update: UpdateContainerResources reaches the cgroup through the handler
# (`update --resources -`), containerd keeps the spec; a refused update
# changes nothing
update_resources() {
        local h=$1 pod c pid
        cri_start
        pod=$(runp upd "$h")
        c=$(start_ctr "$pod" upd u 'exec sleep 1000' \
                '{"linux": {"resources": {"memory_limit_in_bytes": 134217728, "cpu_shares": 512}}}')
        pid=$(info "$c" .info.pid)
        track_pid "$pid"
        assert_eq "$(cgroup_file "$pid" memory memory.limit_in_bytes)" 134217728
        assert_eq "$(cgroup_file "$pid" cpu cpu.shares)" 512

        run cri update --memory 67108864 --cpu-quota 50000 --cpu-period 100000 "$c"
        assert_success
        assert_eq "$(cgroup_file "$pid" memory memory.limit_in_bytes)" 67108864
        assert_eq "$(cgroup_file "$pid" cpu cpu.cfs_quota_us)" 50000
        assert_eq "$(cgroup_file "$pid" cpu cpu.cfs_period_us)" 100000
        assert_eq "$(cgroup_file "$pid" cpu cpu.shares)" 512 "shares kept (containerd merges)"
        assert_eq "$(info "$c" .info.runtimeSpec.linux.resources.memory.limit)" 67108864
        assert_eq "$(info "$c" .status.resources.linux.memoryLimitInBytes)" 67108864
        if [ "$h" = cella ] && ! native_shim; then
                argv_has update "\[update\] \[--resources\] \[-\] \[$c\]$"
        fi

        # stats: containerd reads the cgroup the handler made
        run cri stats "$c"
        assert_success
        assert_match "$(printf '%s' "$stdout" | json_get - .memory.workingSetBytes.value)" '^[1-9][0-9]*$'

        # below the current usage: the kernel refuses, the update fails, the
        # old limit and containerd's spec stay
        run cri update --memory 4096 "$c"
        assert_failure
        assert_eq "$(cgroup_file "$pid" memory memory.limit_in_bytes)" 67108864
        assert_eq "$(info "$c" .info.runtimeSpec.linux.resources.memory.limit)" 67108864
        assert_eq "$(info "$c" .status.state)" CONTAINER_RUNNING
        run cri stop --timeout 1 "$c"
        assert_success
        cri_stop
}

# what kubelet sends for a locked-down pod: a non-root user with a
# supplemental group, a read-only rootfs, no_new_privs, all capabilities
# dropped but one, containerd's default seccomp profile (RuntimeDefault),
# kubelet's masked and read-only paths (containerd sets none of its own;
# those this kernel lacks are skipped), env, working dir, a read-only
# host-path mount, the pod's pid namespace shared (the pause is PID 1); and
# a container with a terminal, whose output reaches the log
pod_security() {
        local h=$1 pod c t
        cri_start
        mkdir -p "$T/data"
        echo from-host >"$T/data/f"
        pod=$(runp sec "$h" '{"linux": {"security_context": {"namespace_options": {"pid": 0}}}}')
        c=$(start_ctr "$pod" sec app 'exec sleep 1000' "{
                \"envs\": [{\"key\": \"FOO\", \"value\": \"bar\"}],
                \"working_dir\": \"/tmp\",
                \"mounts\": [{\"container_path\": \"/data\", \"host_path\": \"$T/data\", \"readonly\": true}],
                \"linux\": {\"security_context\": {
                        \"namespace_options\": {\"pid\": 0},
                        \"run_as_user\": {\"value\": 1000},
                        \"supplemental_groups\": [2000],
                        \"readonly_rootfs\": true,
                        \"no_new_privs\": true,
                        \"capabilities\": {\"drop_capabilities\": [\"ALL\"],
                                \"add_capabilities\": [\"NET_BIND_SERVICE\"]},
                        \"seccomp\": {\"profile_type\": 0},
                        \"masked_paths\": [\"/proc/asound\", \"/proc/acpi\", \"/proc/kcore\",
                                \"/proc/keys\", \"/proc/latency_stats\", \"/proc/timer_list\",
                                \"/proc/timer_stats\", \"/proc/sched_debug\", \"/proc/scsi\",
                                \"/sys/firmware\"],
                        \"readonly_paths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\",
                                \"/proc/sys\", \"/proc/sysrq-trigger\"]}}}")
        track_pid "$(info "$c" .info.pid)"
        run cri exec -s "$c" sh -c 'id -u; id -G; pwd; echo FOO=$FOO; cat /data/f
                touch /x 2>/dev/null || echo ro-root; touch /data/y 2>/dev/null || echo ro-data
                grep -E "^(NoNewPrivs|Seccomp|CapBnd|CapEff):" /proc/self/status | tr -s "\t " " "
                tr "\0" " " </proc/1/cmdline; echo
                grep -cE " /proc/(keys|acpi|timer_list) | /sys/firmware " /proc/self/mountinfo
                awk '\''$5 == "/proc/sys" { split($6, o, ","); print "proc-sys", o[1] }'\'' /proc/self/mountinfo'
        assert_success
        assert_eq "$stdout" "1000
0 2000
/tmp
FOO=bar
from-host
ro-root
ro-data
CapEff: 0000000000000000
CapBnd: 0000000000000400
NoNewPrivs: 1
Seccomp: 2
/pause 
4
proc-sys ro"

        # a terminal for the container itself: its output is the log's
        t=$(start_ctr "$pod" sec term 'tty; echo tty-out' '{"tty": true}')
        retry 100 sh -c "'$CRI_CLIENT' -r 'unix://$CTD_SOCK' inspect $t | grep -q CONTAINER_EXITED" ||
                fail "the tty container did not exit"
        assert_eq "$(info "$t" .status.exitCode)" 0
        run cri logs "$t"
        assert_success
        # (containerd's log writer drops the pty's carriage returns)
        assert_eq "$stdout" "/dev/pts/0"$'\n'"tty-out"
        run cri stop --timeout 1 "$c"
        assert_success
        cri_stop
}

# -------------------------------------------------------------------- tests

test_client_and_daemon() {
        cri_start
        run cri version
        assert_success
        assert_contains "$stdout" "RuntimeName:  containerd"
        assert_contains "$stdout" "RuntimeApiVersion:  v1"
        run cri info
        assert_success
        assert_eq "$(printf '%s' "$stdout" | json_get - .info.config.containerd.runtimes.cella.runtimeType)" \
                "$CRI_CELLA_RUNTIME_TYPE"
        assert_eq "$(printf '%s' "$stdout" | json_get - .info.config.sandboxImage)" "$PAUSE_IMAGE"
        run cri images
        assert_contains "$stdout" "$IMAGE"
        assert_contains "$stdout" "$PAUSE_IMAGE"
        # usage errors are the client's own status, not a remote exit code
        run cri exec
        assert_status 125
        run cri frobnicate
        assert_status 125
        cri_stop
}

test_pod_two_containers_cella() { pod_two_containers cella; }
test_pod_two_containers_runc() { pod_two_containers runc; }
test_exec_cella() { exec_paths cella; }
test_exec_runc() { exec_paths runc; }
test_update_cella() { update_resources cella; }
test_update_runc() { update_resources runc; }
test_pod_security_cella() { pod_security cella; }
test_pod_security_runc() { pod_security runc; }

# last: the host is as the suite found it
test_host_left_as_before() {
        [ -n "${CRI_HOST_BEFORE:-}" ] || skip "run through the suite (the first pass records the host)"
        case "$CRI_SKIP" in ?*) skip "the suite did not run: ${CRI_SKIP#FAIL: }" ;; esac
        assert_eq "$(host_state)" "$CRI_HOST_BEFORE" "host state after the suite"
}

run_tests "$@"
