#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# containerd-shim-cella-v2 (docs/shim.md): the shim's commands, its ttrpc
# server against a raw client that sends good and bad frames, and containerd
# 1.6 driving it with `ctr run --runtime io.containerd.cella.v2`.
#
# Today the shim is the protocol half of issue 20: its Task service answers
# Connect and Shutdown and says Unimplemented to the rest, so the containerd
# test asserts the clean Unimplemented from Create reaches ctr and that the
# shim then exits leaving nothing behind. The suite grows with the runtime half.
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
        # Connect: ConnectResponse{shim_pid (field 1, varint)}; Create: Unimplemented
        line=$(printf '%s\n' "$stdout" | grep '^1 ')
        assert_match "$line" '^1 0 08[0-9a-f]+$'
        assert_contains "$stdout" "3 12 cella shim: Create is not implemented yet"
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
        mkdir -p "$CTD/bin"
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
        return 0
}

test_ctr_run_reaches_the_shim_and_gets_unimplemented() {
        ctd_start
        id=$(new_id)
        before=$(shim_pids | sort)
        run c run --runtime io.containerd.cella.v2 "$IMAGE" "$id" true
        assert_failure
        # containerd started the shim, connected, and Create's status came back
        assert_contains "$stderr" "failed to create shim task"
        assert_contains "$stderr" "cella shim: Create is not implemented yet"
        assert_contains "$stderr" "not implemented"
        # the shim's log reached containerd's through the bundle's log fifo
        grep -q 'msg="serving /run/containerd/s/' "$CTD/containerd.log" ||
                fail "no shim log line in containerd's log: $(tail -20 "$CTD/containerd.log")"
        grep -q 'msg="Create: Unimplemented: cella shim: Create is not implemented yet"' "$CTD/containerd.log" ||
                fail "the shim did not log the failed Create"
        # containerd shut the shim down; it exited and removed its socket
        retry 50 sh -c "[ -z \"\$(ls -A $CTD/state/io.containerd.runtime.v2.task/$CTD_NS 2>/dev/null)\" ]" ||
                fail "bundle left: $(ls -A "$CTD/state/io.containerd.runtime.v2.task/$CTD_NS")"
        for i in $(seq 50); do
                [ "$(shim_pids | sort)" = "$before" ] && break
                sleep 0.1
        done
        assert_eq "$(shim_pids | sort)" "$before" "the shim exited"
        want=$(printf '%s' "$CTD_SOCK/$CTD_NS/$id" | sha256sum | cut -d' ' -f1)
        [ ! -e "/run/containerd/s/$want" ] || fail "shim socket left"
        assert_eq "$(c t ls -q)" ""
        run c c rm "$id"
        assert_success
        assert_eq "$(c c ls -q)" ""
}

run_tests "$@"
