#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# containerd-shim-cella-v2 (docs/shim.md): the shim's commands, its ttrpc
# server against a raw client that sends good and bad frames, and containerd
# 1.6 driving it with `ctr run --runtime io.containerd.cella.v2`.
#
# The containerd tests run tasks on the shim's real backend (cella's
# library in the shim's process) and check that nothing is left after:
# no task, container, bundle, shim process, socket or cella state.
. "$(dirname "$0")/../lib.sh"

SHIM=${SHIM:-$REPO_DIR/containerd-shim-cella-v2}
CTD_NS=cella
IMAGE=localhost/busybox:latest

# the shim is built by `make`; make sure it is current (cheap when it is)
make -s -C "$REPO_DIR" containerd-shim-cella-v2 >/dev/null 2>&1 || true

need_shim() {
        [ -x "$SHIM" ] || fail "$SHIM not built (make containerd-shim-cella-v2)"
        [ "$(id -u)" = 0 ] || skip "the shim's sockets live in /run/containerd/s (root)"
}

# shim_pids: processes running the shim binary (resolved: a symlink on
# PATH runs the same file)
shim_pids() {
        local p real
        real=$(readlink -f "$SHIM")
        for p in /proc/[0-9]*; do
                [ "$(readlink "$p/exe" 2>/dev/null)" = "$real" ] && echo "${p#/proc/}"
        done
        return 0
}

# shim_pid_in DIR: the shim server whose working directory is DIR
shim_pid_in() {
        local p
        for p in $(shim_pids); do
                [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$1" ] && echo "$p"
        done
        return 0
}

# /run/containerd is containerd's: remove only what this test made there
run_dir_snapshot() {
        if [ -d /run/containerd ]; then RUN_NEW=""; else RUN_NEW=1; fi
        defer 'run_dir_restore'
}
run_dir_restore() {
        if [ -n "$RUN_NEW" ] && [ -d /run/containerd ]; then
                find /run/containerd -depth -type d -empty -delete 2>/dev/null
        fi
        return 0
}

# bundle_with DIR [ANNOTATION=VALUE]: a bundle dir whose config.json has
# only annotations (all `start` reads)
bundle_with() {
        mkdir -p "$1"
        if [ -n "${2:-}" ]; then
                printf '{"ociVersion":"1.0.2","annotations":{"%s":"%s"}}\n' "${2%%=*}" "${2#*=}" >"$1/config.json"
        else
                printf '{"ociVersion":"1.0.2"}\n' >"$1/config.json"
        fi
}

# shim_start DIR ID: run `start` in DIR; prints the address
shim_start() {
        (cd "$1" && "$SHIM" -namespace "$CTD_NS" -address "$T/fake-containerd.sock" -id "$2" start </dev/null)
}

# stop_shims: SIGTERM what this test started, wait for the exits
stop_shims() {
        local p i
        for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
        for p in "$@"; do
                i=0
                while [ -e "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null &&
                        [ $i -lt 50 ]; do
                        sleep 0.1
                        i=$((i + 1))
                done
        done
}

# ------------------------------------------------ a raw ttrpc client

# ttrpc_probe SOCKET SCENARIO: python speaking ttrpc by hand (frames and
# protobuf encoded here, independently of the shim's C) — one line per
# answer: "<stream> <code> <message>|<payload hex>", then "eof" when the
# server closed the connection.
ttrpc_probe() {
        cat >"$T/probe.py" <<'EOF'
import socket, struct, sys, time

def varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

def field(num, data):           # a length-delimited field
    return varint(num << 3 | 2) + varint(len(data)) + data

def request(service, method, payload=b""):
    return field(1, service.encode()) + field(2, method.encode()) + field(3, payload)

def frame(stream, body, mtype=1, flags=0, length=None):
    return struct.pack(">IIBB", len(body) if length is None else length, stream, mtype, flags) + body

def fields(buf):
    i, out = 0, {}
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            v, i = buf[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wt)
        out[num] = v
    return out

def read_varint(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return n, i

TASK = "containerd.task.v2.Task"
scenarios = {
    # each: a list of byte strings, written one after the other
    "good": [frame(1, request(TASK, "Connect", field(1, b"x"))),
             frame(3, request(TASK, "Create", field(1, b"x")))],
    "bad": [frame(1, b"\xff\xff\xff"),                                  # not a Request
            frame(3, request("nope.Service", "Create")),                # unknown service
            frame(5, request(TASK, "Nope")),                            # unknown method
            frame(8, request(TASK, "Connect")),                         # even stream id
            frame(9, b"x", mtype=3),                                    # data, unknown stream
            frame(11, b"", length=5 << 20) + b"\0" * (5 << 20),         # over 4 MiB
            frame(13, request(TASK, "Create", b"\x0a\xff")),            # truncated payload
            frame(15, request(TASK, "Connect"), mtype=7),               # unknown type: ignored
            frame(17, request(TASK, "Connect"))],                       # still serving
    "shutdown": [frame(1, request(TASK, "Shutdown", field(1, b"x")))
                 + frame(3, request(TASK, "Connect"))],                 # after Shutdown
}
if len(sys.argv) > 4:           # update ID JSON: Update with an OCI LinuxResources Any
    any_ = field(1, b"types.containerd.io/opencontainers/runtime-spec/1/LinuxResources") \
        + field(2, sys.argv[4].encode())
    scenarios["update"] = [frame(1, request(TASK, "Update", field(1, sys.argv[3].encode()) + field(2, any_)))]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
for chunk in scenarios[sys.argv[2]]:
    s.sendall(chunk)
s.settimeout(5)
buf = b""
try:
    while True:
        while len(buf) >= 10:
            length, stream, mtype, flags = struct.unpack(">IIBB", buf[:10])
            if len(buf) < 10 + length:
                break
            resp, buf = fields(buf[10:10 + length]), buf[10 + length:]
            st = fields(resp.get(1, b""))
            code = st.get(1, 0)
            text = st.get(2, b"").decode() if code else resp.get(2, b"").hex()
            print(stream, code, text, flush=True)
        data = s.recv(65536)
        if not data:
            print("eof", flush=True)
            break
        buf += data
except socket.timeout:
    pass
EOF
        python3 "$T/probe.py" "$@"
}

# -------------------------------------------------------------------- tests

test_version() {
        run "$SHIM" -v
        assert_success
        assert_match "$stdout" "^containerd-shim-cella-v2:"
        assert_contains "$stdout" "Version:"
        assert_contains "$stdout" "Revision:"
}

test_flags_and_namespace_checked() {
        run "$SHIM" -nope start
        assert_status 2
        assert_contains "$stderr" "flag provided but not defined: -nope"
        run "$SHIM" -id x start
        assert_status 1
        assert_contains "$stderr" "shim namespace cannot be empty"
        run "$SHIM" -namespace n -id x frobnicate
        assert_status 1
        assert_contains "$stderr" 'unknown command "frobnicate"'
}

test_start_groups_a_pod_in_one_shim() {
        need_shim
        run_dir_snapshot
        bundle_with "$T/a" io.kubernetes.cri.sandbox-id=pod-$TEST_NUM
        bundle_with "$T/b" io.kubernetes.cri.sandbox-id=pod-$TEST_NUM
        bundle_with "$T/c"
        a=$(shim_start "$T/a" ctr-a)
        pa=$(shim_pid_in "$T/a")
        track_pid "$pa"
        defer "kill -TERM $pa"
        b=$(shim_start "$T/b" ctr-b)
        c=$(shim_start "$T/c" ctr-c)
        pc=$(shim_pid_in "$T/c")
        track_pid "$pc"
        defer "kill -TERM $pc"
        # the address containerd 1.6's shims use: sha256 of <address>/<ns>/<group>
        want=$(printf '%s' "$T/fake-containerd.sock/$CTD_NS/pod-$TEST_NUM" | sha256sum | cut -d' ' -f1)
        assert_eq "$a" "unix:///run/containerd/s/$want"
        assert_eq "$b" "$a" "a container of the same pod reuses the pod's shim"
        want=$(printf '%s' "$T/fake-containerd.sock/$CTD_NS/ctr-c" | sha256sum | cut -d' ' -f1)
        assert_eq "$c" "unix:///run/containerd/s/$want" "no pod: a shim of its own"
        assert_eq "$(cat "$T/a/address")" "$a"
        assert_eq "$(cat "$T/b/address")" "$a"
        assert_eq "$(shim_pid_in "$T/b")" "" "no second server for the pod"
        [ -n "$pa" ] && [ -n "$pc" ] || fail "servers: a=[$pa] c=[$pc]"
        [ -S "${a#unix://}" ] || fail "no socket at $a"
        assert_eq "$(stat -c %a "${a#unix://}")" 600
        # its own process group, its OOM score one above its parent's
        assert_eq "$(ps -o pgid= -p "$pa" | tr -d ' ')" "$pa"
        stop_shims "$pa" "$pc"
        [ ! -e "${a#unix://}" ] || fail "socket left: $a"
        [ ! -e "${c#unix://}" ] || fail "socket left: $c"
}

test_start_replaces_a_dead_shims_socket() {
        need_shim
        run_dir_snapshot
        bundle_with "$T/a"
        a=$(shim_start "$T/a" ctr-a)
        pa=$(shim_pid_in "$T/a")
        track_pid "$pa"
        kill -KILL "$pa"
        stop_shims "$pa"
        [ -S "${a#unix://}" ] || fail "SIGKILL cannot remove the socket"
        b=$(shim_start "$T/a" ctr-a)
        assert_eq "$b" "$a"
        pb=$(shim_pid_in "$T/a")
        [ -n "$pb" ] && [ "$pb" != "$pa" ] || fail "no new server (old $pa, new [$pb])"
        track_pid "$pb"
        stop_shims "$pb"
        [ ! -e "${a#unix://}" ] || fail "socket left: $a"
}

test_delete_prints_a_delete_response() {
        need_shim
        run_dir_snapshot
        bundle_with "$T/a"
        a=$(shim_start "$T/a" ctr-a)
        pa=$(shim_pid_in "$T/a")
        track_pid "$pa"
        kill -KILL "$pa"
        stop_shims "$pa"
        (cd "$T/a" && "$SHIM" -namespace "$CTD_NS" -address "$T/fake-containerd.sock" -id ctr-a \
                -bundle "$T/a" delete >"$T/resp.bin" 2>"$T/resp.err") || fail "delete: $(cat "$T/resp.err")"
        # DeleteResponse{exit_status: 137 (field 2, varint), exited_at (field 3)}
        hex=$(od -An -tx1 "$T/resp.bin" | tr -d ' \n')
        assert_match "$hex" "^1089011a"
        [ ! -e "${a#unix://}" ] || fail "delete leaves the dead shim's socket: $a"
}

test_ttrpc_answers_connect_and_create() {
        need_shim
        run_dir_snapshot
        bundle_with "$T/a"
        a=$(shim_start "$T/a" ctr-a)
        pa=$(shim_pid_in "$T/a")
        track_pid "$pa"
        defer "kill -TERM $pa"
        run ttrpc_probe "${a#unix://}" good
        assert_success
        # Connect: ConnectResponse{shim_pid (field 1, varint)}; Create of
        # a bundle without a rootfs: the library's error, as a status
        line=$(printf '%s\n' "$stdout" | grep '^1 ')
        assert_match "$line" '^1 0 08[0-9a-f]+$'
        assert_match "$(printf '%s\n' "$stdout" | grep '^3 ')" '^3 [0-9]+ config.json: root: required$'
        stop_shims "$pa"
}

test_ttrpc_bad_input_gets_status_codes() {
        need_shim
        run_dir_snapshot
        bundle_with "$T/a"
        a=$(shim_start "$T/a" ctr-a)
        pa=$(shim_pid_in "$T/a")
        track_pid "$pa"
        defer "kill -TERM $pa"
        run ttrpc_probe "${a#unix://}" bad
        assert_success
        # gRPC codes: 3 InvalidArgument, 8 ResourceExhausted, 12 Unimplemented
        assert_contains "$stdout" "1 3 unmarshal request error"
        assert_contains "$stdout" "3 12 service nope.Service"
        assert_contains "$stdout" "5 12 method Nope"
        assert_contains "$stdout" "8 3 StreamID must be odd for client initiated streams"
        assert_contains "$stdout" "9 3 StreamID is no longer active"
        assert_contains "$stdout" "11 8 message length 5242880 exceed maximum message size of 4194304"
        assert_contains "$stdout" "13 3 Create: error unmarshalling payload"
        assert_not_contains "$stdout" "15 "
        line=$(printf '%s\n' "$stdout" | grep '^17 ')
        assert_match "$line" '^17 0 08[0-9a-f]+$'
        [ -e "/proc/$pa" ] || fail "the shim died on bad input"
        stop_shims "$pa"
}

test_ttrpc_requests_after_shutdown_are_unavailable() {
        need_shim
        run_dir_snapshot
        bundle_with "$T/a"
        a=$(shim_start "$T/a" ctr-a)
        pa=$(shim_pid_in "$T/a")
        track_pid "$pa"
        defer "kill -TERM $pa"
        run ttrpc_probe "${a#unix://}" shutdown
        assert_success
        assert_contains "$stdout" "1 0 "
        assert_contains "$stdout" "3 14 ttrpc: server shutting down"
        assert_contains "$stdout" "eof"
        stop_shims "$pa"
        [ ! -e "/proc/$pa" ] || grep -q '^State:[[:space:]]*Z' "/proc/$pa/status" || fail "shim $pa still runs"
        [ ! -e "${a#unix://}" ] || fail "socket left: $a"
}

# ------------------------------------------------------- with containerd

need_containerd() {
        local b
        for b in containerd ctr umoci skopeo; do
                command -v "$b" >/dev/null || skip "$b not installed (scripts/deps.sh installs it)"
        done
}

# ctd_start: a private containerd (root, state and sockets under $T) that
# finds the shim on its PATH; the busybox image imported.
ctd_start() {
        need_shim
        need_containerd
        sh "$HELPERS_DIR/mkimage.sh" "$CELLA_RUN_DIR/image" >&2 || fail "mkimage.sh failed"
        CTD=$T/ctd
        CTD_SOCK=$CTD/containerd.sock
        mkdir -p "$CTD/bin" "$T/fifo"
        ln -s "$SHIM" "$CTD/bin/containerd-shim-cella-v2"
        run_dir_snapshot
        cat >"$CTD/config.toml" <<EOF
version = 2
root = "$CTD/root"
state = "$CTD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CTD_SOCK"
[ttrpc]
  address = "$CTD_SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTD/opt"
EOF
        PATH=$CTD/bin:$PATH containerd --config "$CTD/config.toml" >"$CTD/containerd.log" 2>&1 &
        CTD_PID=$!
        track_pid "$CTD_PID"
        defer ctd_teardown
        retry 100 ctr -a "$CTD_SOCK" version || {
                tail -20 "$CTD/containerd.log" >&2
                fail "private containerd did not come up"
        }
        c images import "$CELLA_RUN_DIR/image/busybox-oci.tar" >&2 || fail "ctr images import"
}

c() { timeout 60 ctr -a "$CTD_SOCK" -n "$CTD_NS" "$@"; }

ctd_teardown() {
        [ -n "${CTD_PID:-}" ] || return 0
        local id i=0
        if [ -f "$T/.ids" ]; then
                while IFS= read -r id; do
                        timeout 10 ctr -a "$CTD_SOCK" -n "$CTD_NS" t kill -s SIGKILL "$id" >/dev/null 2>&1
                        timeout 10 ctr -a "$CTD_SOCK" -n "$CTD_NS" t delete -f "$id" >/dev/null 2>&1
                        timeout 10 ctr -a "$CTD_SOCK" -n "$CTD_NS" c delete "$id" >/dev/null 2>&1
                done <"$T/.ids"
        fi
        timeout 10 ctr -a "$CTD_SOCK" -n "$CTD_NS" images rm "$IMAGE" >/dev/null 2>&1
        kill "$CTD_PID" 2>/dev/null
        while kill -0 "$CTD_PID" 2>/dev/null && [ $i -lt 100 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        wait "$CTD_PID" 2>/dev/null
        CTD_PID=""
        rmdir "$SHIM_STATE" /run/containerd/cella 2>/dev/null
        # ctr's default cgroupsPath is /<namespace>/<id>: the runtime removes
        # the container's cgroup, not the namespace's parent (runc neither)
        rmdir /sys/fs/cgroup/*/"$CTD_NS" /sys/fs/cgroup/"$CTD_NS" 2>/dev/null || true
        return 0
}

# ctd_run [FLAGS] ID [CMD...]: ctr run on the cella shim
ctd_run() {
        local flags=() id
        while [ $# -gt 0 ]; do
                case "$1" in
                -*) flags+=("$1"); shift ;;
                *) break ;;
                esac
        done
        id=$1
        shift
        c run "${flags[@]}" --runtime io.containerd.cella.v2 --fifo-dir "$T/fifo" "$IMAGE" "$id" "$@"
}

task_status() { c t ls | awk -v id="$1" '$1 == id { print $3 }'; }
task_pid() { c t ls | awk -v id="$1" '$1 == id { print $2 }'; }

wait_task() {
        local i=0 s=""
        while [ $i -lt 100 ]; do
                s=$(task_status "$1")
                [ "$s" = "$2" ] && return 0
                sleep 0.1
                i=$((i + 1))
        done
        fail "task $1 never reached $2 (last: ${s:-none})"
}

# track_task ID: the leak check must find the task's init and its shim gone.
track_task() {
        local pid
        pid=$(task_pid "$1")
        track_pid "$pid"
        track_pid "$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)"
}

# the shim's cella state root for the test namespace (backend_cella.c)
SHIM_STATE=/run/containerd/cella/$CTD_NS

# ctd_done [SHIMS_BEFORE]: every task and container gone, no shim of this
# test left, no cella state, no socket
ctd_done() {
        assert_eq "$(c t ls -q)" "" "no task left"
        assert_eq "$(c c ls -q)" "" "no container left"
        if [ -n "${1+x}" ]; then
                for i in $(seq 50); do
                        [ "$(shim_pids | sort)" = "$1" ] && break
                        sleep 0.1
                done
                assert_eq "$(shim_pids | sort)" "$1" "the shims exited"
        fi
        retry 50 sh -c "[ -z \"\$(ls -A $CTD/state/io.containerd.runtime.v2.task/$CTD_NS 2>/dev/null)\" ]" ||
                fail "bundle left: $(ls -A "$CTD/state/io.containerd.runtime.v2.task/$CTD_NS")"
        local id
        [ -f "$T/.ids" ] || return 0
        while IFS= read -r id; do
                [ ! -e "$SHIM_STATE/$id" ] || fail "cella state left: $SHIM_STATE/$id"
        done <"$T/.ids"
}

test_run_rm_output_and_exit_codes() {
        ctd_start
        before=$(shim_pids | sort)
        id=$(new_id)
        run ctd_run --rm "$id" echo hello
        assert_success
        assert_eq "$stdout" hello
        run ctd_run --rm "$(new_id)" sh -c 'echo out; echo err >&2; exit 7'
        assert_status 7
        assert_eq "$stdout" out
        assert_contains "$stderr" err
        run ctd_run --rm "$(new_id)" sh -c 'exit 255'
        assert_status 255
        # stdin reaches the container, and its EOF too
        run sh -c "printf 'line1\nline2\n' | timeout 60 ctr -a $CTD_SOCK -n $CTD_NS run --rm --runtime io.containerd.cella.v2 --fifo-dir $T/fifo $IMAGE $(new_id) wc -l"
        assert_success
        assert_eq "$(echo $stdout)" 2
        # the shim ran the container in-process: init's parent is the shim
        grep -q 'msg="serving /run/containerd/s/' "$CTD/containerd.log" ||
                fail "no shim log line in containerd's log: $(tail -20 "$CTD/containerd.log")"
        ctd_done "$before"
        want=$(printf '%s' "$CTD_SOCK/$CTD_NS/$id" | sha256sum | cut -d' ' -f1)
        [ ! -e "/run/containerd/s/$want" ] || fail "shim socket left"
}

test_create_error_reaches_ctr() {
        ctd_start
        before=$(shim_pids | sort)
        run ctd_run --rm "$(new_id)" /no/such/binary
        assert_failure
        assert_contains "$stderr" "/no/such/binary"
        ctd_done "$before"
}

test_detached_lifecycle() {
        ctd_start
        before=$(shim_pids | sort)
        id=$(new_id)
        run ctd_run -d "$id" sleep 1000
        assert_success
        track_task "$id"
        assert_match "$(c c ls)" "^$id +$IMAGE +io\.containerd\.cella\.v2"
        assert_eq "$(task_status "$id")" RUNNING
        pid=$(task_pid "$id")
        shim=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status")
        assert_eq "$(readlink -f "/proc/$shim/exe")" "$(readlink -f "$SHIM")" "the init is the shim's child"
        assert_eq "$("$RUNTIME" --root "$SHIM_STATE" state "$id" | json_get - .pid)" "$pid" \
                "ctr and cella agree on the init pid"

        run c t ps "$id"
        assert_success
        assert_match "$stdout" "^$pid +"
        # Stats: the cgroup counters as containerd's metrics protobuf
        run c t metrics "$id"
        assert_success
        assert_match "$stdout" '(memory\.usage_in_bytes|memory\.usage) +[1-9][0-9]*'
        assert_match "$stdout" 'pids\.current +1'

        run c t exec --fifo-dir "$T/fifo" --exec-id e1 "$id" sh -c 'echo in-exec $$; exit 5'
        assert_status 5
        assert_match "$stdout" '^in-exec [0-9]+$'
        assert_ne "$stdout" "in-exec 1" "exec is not the init"

        run c t pause "$id"
        assert_success
        assert_eq "$(task_status "$id")" PAUSED
        assert_eq "$(awk '/^State:/ { print $2 }' "/proc/$pid/status")" D "the init is frozen"
        run c t resume "$id"
        assert_success
        assert_eq "$(task_status "$id")" RUNNING

        # ctr's default signal is SIGTERM, which sleep as PID 1 ignores
        run c t kill "$id"
        assert_success
        # a deliberate wait: nothing may happen after SIGTERM (no event to wait for)
        sleep 0.3
        assert_eq "$(task_status "$id")" RUNNING
        run c t kill -s SIGKILL "$id"
        assert_success
        wait_task "$id" STOPPED
        run c t delete "$id"
        assert_success
        assert_contains "$stderr" "exit code 137"
        run c c delete "$id"
        assert_success
        ctd_done "$before"
}

test_run_and_exec_with_a_tty() {
        command -v script >/dev/null || skip "script (util-linux) not installed"
        ctd_start
        before=$(shim_pids | sort)
        id=$(new_id)
        # ctr wants a terminal on its own stdin to pass -t on
        run script -qec "ctr -a $CTD_SOCK -n $CTD_NS run --rm -t --runtime io.containerd.cella.v2 --fifo-dir $T/fifo $IMAGE $id sh -c 'tty; echo TERM=\$TERM; exit 3'" /dev/null
        assert_status 3
        assert_match "$stdout" '/dev/pts/0'
        assert_contains "$stdout" "TERM=xterm"

        id=$(new_id)
        ctd_run -d "$id" sleep 1000 >/dev/null
        track_task "$id"
        # a pty of its own, sized by ctr's ResizePty from script's terminal
        # (ResizePty comes after Start: the process waits a moment for it)
        run script -qec "stty rows 24 cols 80; ctr -a $CTD_SOCK -n $CTD_NS t exec -t --fifo-dir $T/fifo --exec-id tty1 $id sh -c 'tty; sleep 1; stty size; exit 4'" /dev/null
        assert_status 4
        assert_match "$stdout" '/dev/pts/[0-9]+'
        assert_contains "$stdout" "24 80"
        run c t exec --fifo-dir "$T/fifo" --exec-id notty "$id" tty
        assert_failure
        assert_contains "$stdout" "not a tty"
        c t kill -s SIGKILL "$id"
        wait_task "$id" STOPPED
        c t delete "$id" >/dev/null
        c c delete "$id"
        ctd_done "$before"
}

test_exec_detached_ps_and_kill_all() {
        ctd_start
        before=$(shim_pids | sort)
        id=$(new_id)
        ctd_run -d "$id" sh -c 'sleep 1000 & sleep 1000' >/dev/null
        track_task "$id"
        c t exec -d --fifo-dir "$T/fifo" --exec-id bg "$id" sleep 999
        run c t ps "$id"
        assert_success
        pids=$(printf '%s\n' "$stdout" | awk 'NR > 1 { print $1 }')
        [ "$(printf "%s\n" "$pids" | wc -l)" -ge 3 ] || fail "expected the init, its child and the exec: $pids"
        # the exec'd process is the shim's child too
        for p in $pids; do
                pp=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status")
                [ "$(readlink -f "/proc/$pp/exe")" = "$(readlink -f "$SHIM")" ] && n=$((${n:-0} + 1))
        done
        assert_eq "${n:-0}" 2 "the init and the exec are the shim's children"
        # a second exec with the same id is refused
        run c t exec -d --fifo-dir "$T/fifo" --exec-id bg "$id" true
        assert_failure
        assert_contains "$stderr" "already exists"
        run c t kill --all -s SIGKILL "$id"
        assert_success
        wait_task "$id" STOPPED
        for p in $pids; do
                retry 50 sh -c "! kill -0 $p 2>/dev/null || grep -q '^State:.*Z' /proc/$p/status" ||
                        fail "process $p survived kill --all"
        done
        run c t delete "$id"
        assert_success
        c c delete "$id"
        ctd_done "$before"
}

test_events_reach_containerd() {
        ctd_start
        before=$(shim_pids | sort)
        c events >"$T/events" 2>&1 &
        epid=$!
        track_pid "$epid"
        defer "kill $epid 2>/dev/null"
        sleep 0.3
        id=$(new_id)
        ctd_run -d "$id" sleep 1000 >/dev/null
        track_task "$id"
        c t exec --fifo-dir "$T/fifo" --exec-id e1 "$id" true
        c t pause "$id"
        c t resume "$id"
        c t kill -s SIGKILL "$id"
        wait_task "$id" STOPPED
        c t delete "$id" >/dev/null
        c c delete "$id"
        for topic in /tasks/create /tasks/start /tasks/exec-added /tasks/exec-started /tasks/paused \
                /tasks/resumed /tasks/exit /tasks/delete; do
                retry 50 grep -q "$topic" "$T/events" || fail "no $topic event: $(cat "$T/events")"
        done
        # one exit for the exec, one for the init: each exactly once
        retry 50 sh -c "[ \$(grep -c '/tasks/exit' $T/events) -eq 2 ]" ||
                fail "exits: $(grep /tasks/exit "$T/events")"
        grep '/tasks/exit' "$T/events" | grep -q '"exit_status":137' || fail "init's exit status: $(cat "$T/events")"
        kill "$epid"
        ctd_done "$before"
}

test_update_changes_the_cgroup() {
        ctd_start
        before=$(shim_pids | sort)
        id=$(new_id)
        ctd_run -d "$id" sleep 1000 >/dev/null
        track_task "$id"
        # ctr 1.6 has no `task update`: the Update call goes to the shim's
        # socket as containerd sends it (the CRI's UpdateContainerResources)
        addr=$(cat "$CTD/state/io.containerd.runtime.v2.task/$CTD_NS/$id/address")
        run ttrpc_probe "${addr#unix://}" update "$id" '{"memory":{"limit":67108864}}'
        assert_success
        assert_match "$stdout" '^1 0 $'
        run ttrpc_probe "${addr#unix://}" update nosuch '{"memory":{"limit":67108864}}'
        assert_match "$stdout" '^1 5 container nosuch: not found$'
        pid=$(task_pid "$id")
        cg=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup")
        if [ -n "$cg" ] && [ -f "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" ]; then
                assert_eq "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" 67108864
        else
                cg=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
                assert_eq "$(cat "/sys/fs/cgroup$cg/memory.max")" 67108864
        fi
        c t kill -s SIGKILL "$id"
        wait_task "$id" STOPPED
        c t delete "$id" >/dev/null
        c c delete "$id"
        ctd_done "$before"
}

# containerd goes away and comes back: the shim and its task stay, and the
# new containerd reconnects (it finds the shim by the bundle's address)
test_containerd_restart_keeps_the_task() {
        ctd_start
        before=$(shim_pids | sort)
        id=$(new_id)
        ctd_run -d "$id" sleep 1000 >/dev/null
        track_task "$id"
        pid=$(task_pid "$id")
        kill "$CTD_PID"
        wait "$CTD_PID" 2>/dev/null
        kill -0 "$pid" || fail "the task died with containerd"
        PATH=$CTD/bin:$PATH containerd --config "$CTD/config.toml" >>"$CTD/containerd.log" 2>&1 &
        CTD_PID=$!
        track_pid "$CTD_PID"
        retry 100 ctr -a "$CTD_SOCK" version >/dev/null || fail "containerd did not come back"
        assert_eq "$(task_status "$id")" RUNNING
        assert_eq "$(task_pid "$id")" "$pid"
        run c t exec --fifo-dir "$T/fifo" --exec-id after "$id" echo reconnected
        assert_success
        assert_eq "$stdout" reconnected
        c t kill -s SIGKILL "$id"
        wait_task "$id" STOPPED
        run c t delete "$id"
        assert_success
        assert_contains "$stderr" "exit code 137"
        c c delete "$id"
        ctd_done "$before"
}

# the shim is SIGKILLed: containerd runs `containerd-shim-cella-v2 delete`,
# which kills and deletes the container: no process, cgroup, mount or
# state is left
test_killed_shim_is_cleaned_up_by_delete() {
        ctd_start
        before=$(shim_pids | sort)
        id=$(new_id)
        ctd_run -d "$id" sleep 1000 >/dev/null
        track_task "$id"
        pid=$(task_pid "$id")
        shim=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status")
        [ -d "$SHIM_STATE/$id" ] || fail "no cella state for $id"
        kill -KILL "$shim"
        retry 100 sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" ||
                fail "the task outlived its shim and containerd's cleanup"
        # containerd ran the delete command and dropped the task
        retry 100 sh -c "[ -z \"\$(ctr -a $CTD_SOCK -n $CTD_NS t ls -q)\" ]" || fail "task left: $(c t ls)"
        grep -q 'cleanup' "$CTD/containerd.log" || true
        c c delete "$id"
        [ ! -e "$SHIM_STATE/$id" ] || fail "cella state left: $SHIM_STATE/$id"
        grep -q "$CTD/state/io.containerd.runtime.v2.task/$CTD_NS/$id/rootfs" /proc/self/mountinfo &&
                fail "rootfs still mounted"
        ctd_done "$before"
}

# ctd_run_systemd ID [CMD...]: ctr run with containerd.runc.v1.Options
# {SystemdCgroup: true} in the Create request. ctr sends runc's options only
# for the runtime io.containerd.runc.v2, so this test's containerd finds the
# cella shim under that runtime's binary name (as a CRI handler with
# runtime_type "io.containerd.runc.v2" and runtime_path pointing at
# containerd-shim-cella-v2 does; docs/shim.md).
ctd_run_systemd() {
        local id=$1
        shift
        ln -sf "$SHIM" "$CTD/bin/containerd-shim-runc-v2"
        c run --rm --runtime io.containerd.runc.v2 --runc-systemd-cgroup --cgroup "system.slice:cella:$id" \
                --fifo-dir "$T/fifo" "$IMAGE" "$id" "$@"
}

# SystemdCgroup on a host without systemd as PID 1: Create fails with what
# was asked, why not here and the fallback; nothing is left
test_systemd_cgroup_without_systemd() {
        [ ! -d /run/systemd/system ] || skip "systemd is PID 1 here: SystemdCgroup would work"
        ctd_start
        before=$(shim_pids | sort)
        id=$(new_id)
        run ctd_run_systemd "$id" echo hello
        assert_failure
        # what was asked, why not here, and the fallback
        assert_contains "$stderr" "SystemdCgroup = true"
        assert_contains "$stderr" "systemd is not the init system here"
        assert_contains "$stderr" "CELLA_SYSTEMD_CGROUP_FALLBACK=cgroupfs"
        [ ! -e "$SHIM_STATE/$id" ] || fail "cella state left: $SHIM_STATE/$id"
        ctd_done "$before"
}

# ... and with CELLA_SYSTEMD_CGROUP_FALLBACK=cgroupfs in the shim's environment
# the container runs, its cgroup placed by cgroupfs
test_systemd_cgroup_cgroupfs_fallback() {
        [ ! -d /run/systemd/system ] || skip "systemd is PID 1 here: no fallback to take"
        # the shim inherits containerd's environment
        CELLA_SYSTEMD_CGROUP_FALLBACK=cgroupfs ctd_start
        before=$(shim_pids | sort)
        id=$(new_id)
        run ctd_run_systemd "$id" cat /proc/self/cgroup
        assert_success
        # "slice:prefix:name" placed by cgroupfs (docs/cgroups.md)
        assert_contains "$stdout" "/system.slice/cella-$id.scope"
        ctd_done "$before"
}

test_oom_event() {
        ctd_start
        before=$(shim_pids | sort)
        c events >"$T/events" 2>&1 &
        epid=$!
        track_pid "$epid"
        defer "kill $epid 2>/dev/null"
        sleep 0.3
        id=$(new_id)
        # a 64 MiB buffer in a 16 MiB cgroup
        run ctd_run --rm --memory-limit=16777216 "$id" dd if=/dev/zero of=/dev/null bs=64M count=1
        assert_status 137
        retry 50 grep -q "/tasks/oom {\"container_id\":\"$id\"}" "$T/events" || fail "no OOM event: $(cat "$T/events")"
        kill "$epid"
        ctd_done "$before"
}

test_log_uris() {
        ctd_start
        before=$(shim_pids | sort)
        # file://: stdout and stderr appended to the file
        run ctd_run --rm "--log-uri=file://$T/file.log" "$(new_id)" sh -c 'echo to-out; echo to-err >&2'
        assert_success
        assert_eq "$(sort "$T/file.log" | tr '\n' ' ')" "to-err to-out "
        # binary://: containerd's logging binary protocol (fds 3, 4; 5 = ready)
        mkdir -p "$T/logs"
        cat >"$T/logger.sh" <<'EOF2'
#!/bin/sh
dir=$2
echo "$CONTAINER_ID $CONTAINER_NAMESPACE" >"$dir/env"
cat <&3 >"$dir/out" 5>&- &
cat <&4 >"$dir/err" 5>&- &
exec 5>&-
wait
EOF2
        chmod +x "$T/logger.sh"
        id=$(new_id)
        run ctd_run --rm "--log-uri=binary://$T/logger.sh?dir=$T/logs" "$id" sh -c 'echo b-out; echo b-err >&2'
        assert_success
        retry 50 sh -c "[ -s $T/logs/out ] && [ -s $T/logs/err ]" || fail "the logging binary got nothing"
        assert_eq "$(cat "$T/logs/out")" b-out
        assert_eq "$(cat "$T/logs/err")" b-err
        assert_eq "$(cat "$T/logs/env")" "$id $CTD_NS"
        ctd_done "$before"
}

# the CRIU cella's library picks (runtime/criu.c's order), skip without one
need_criu() {
        local c=${CELLA_CRIU:-}
        [ -n "$c" ] || { [ -x /opt/cella-criu/criu ] && c=/opt/cella-criu/criu; } || true
        [ -n "$c" ] || c=$(command -v criu || true)
        [ -n "$c" ] || skip "no criu (run: sh scripts/get-criu.sh)"
        "$c" --version 2>/dev/null | grep -q '^Version: [4-9]' ||
                skip "criu $c is older than 4.0 (run: sh scripts/get-criu.sh)"
        "$c" check >/dev/null 2>&1 || skip "criu check fails here: $("$c" check 2>&1 | grep -m1 Error)"
}

# ctr c checkpoint --task (the shim's Checkpoint), then the task is killed,
# and ctr c restore --live (Create with the checkpoint, restored at Start)
# brings the same process state back: a counter goes on from where it was
test_checkpoint_and_restore() {
        need_criu
        ctd_start
        before=$(shim_pids | sort)
        id=$(new_id)
        ctd_run -d "$id" sh -c 'i=0; while true; do i=$((i + 1)); echo $i >/tmp/count; sleep 0.1; done' >/dev/null
        track_task "$id"
        retry 50 sh -c "[ \"\$(ctr -a $CTD_SOCK -n $CTD_NS t exec --exec-id r0 $id cat /tmp/count 2>/dev/null)\" -ge 5 ]" ||
                fail "the counter does not run"
        c events >"$T/events" 2>&1 &
        epid=$!
        track_pid "$epid"
        defer "kill $epid 2>/dev/null"
        ck=$(c t exec --fifo-dir "$T/fifo" --exec-id rc "$id" cat /tmp/count)
        run c c checkpoint --task "$id" "localhost/ckpt-$id:1"
        assert_success
        defer "timeout 10 ctr -a $CTD_SOCK -n $CTD_NS images rm localhost/ckpt-$id:1 >/dev/null 2>&1"
        assert_eq "$(task_status "$id")" RUNNING "the task runs on after the checkpoint"
        retry 50 grep -q "/tasks/checkpointed" "$T/events" || fail "no checkpointed event: $(cat "$T/events")"
        c t kill -s SIGKILL "$id"
        wait_task "$id" STOPPED
        c t delete "$id" >/dev/null
        c c delete "$id"

        run c c restore --live "$id" "localhost/ckpt-$id:1"
        assert_success
        assert_eq "$(task_status "$id")" RUNNING
        pid=$(task_pid "$id")
        track_pid "$pid"
        pp=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status")
        assert_eq "$(readlink -f "/proc/$pp/exe")" "$(readlink -f "$SHIM")" "the restored init is the shim's child"
        # it goes on from the images (at least the value read before the
        # checkpoint), where a fresh start would count from 1
        now=$(c t exec --fifo-dir "$T/fifo" --exec-id r2 "$id" cat /tmp/count)
        [ "$now" -ge "$ck" ] || fail "the restored counter is at $now, below $ck at the checkpoint"
        c t kill -s SIGKILL "$id"
        wait_task "$id" STOPPED
        run c t delete "$id"
        assert_success
        assert_contains "$stderr" "exit code 137"
        c c delete "$id"
        kill "$epid"
        ctd_done "$before"
}

run_tests "$@"
