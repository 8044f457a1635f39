#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/conformance/oci-validation.sh — run the OCI runtime-tools validation
# suite (opencontainers/runtime-tools, validation/*/*.go) against a runtime and
# print TAP: one line per validation test, then a summary line.
#
# The suite is not part of cella: it is fetched and built outside the repo.
#   RUNTIME_TOOLS_SRC     a runtime-tools git directory (a clone, bare or not)
#                         or an unpacked source tree. Get it with
#                         git clone https://github.com/opencontainers/runtime-tools
#   RUNTIME_TOOLS_COMMIT  the commit taken from a git source (default 260e151,
#                         the last one that builds with Debian 12's Go 1.19)
#   OCI_BUILD_DIR         where the suite is unpacked and built (default
#                         /var/cache/cella-oci/runtime-tools-<commit>); a
#                         finished build there is reused, and is enough to run
#                         without RUNTIME_TOOLS_SRC
#   RUNTIME               the runtime under test (default ./cella); a name on
#                         PATH or a path. Every call gets --root <private dir>.
#   OCI_TESTS             glob over test names (default: all of them)
#   OCI_TIMEOUT           seconds per validation test (default 120)
#   OCI_LOG_DIR           keep every test's full TAP and stderr there
#   OCI_VERBOSE=1         print every test's inner TAP, not only failures
#
# The build needs nothing from the network: runtime-tools vendors its Go
# dependencies (go build -mod=vendor, GOPROXY=off). Needs root and Go.
#
# Exit: 0 when every test passed or failed only as tests/conformance/known-
# failures says (those print as TAP "# TODO"), 1 otherwise, 77 (skip) when
# there is no source, no Go or no root.
set -uo pipefail
shopt -s nullglob

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
commit=${RUNTIME_TOOLS_COMMIT:-260e151}
build=${OCI_BUILD_DIR:-/var/cache/cella-oci/runtime-tools-$commit}
timeout_s=${OCI_TIMEOUT:-120}
known=$here/known-failures

skip() { echo "1..0 # SKIP $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root"

runtime=${RUNTIME:-$top/cella}
case $runtime in
*/*) runtime=$(cd "$(dirname "$runtime")" && pwd)/$(basename "$runtime") ;;
*) runtime=$(command -v "$runtime") || skip "runtime ${RUNTIME:-} not found" ;;
esac
[ -x "$runtime" ] || skip "runtime $runtime not built (make)"
runtime_name=$(basename "$runtime")

# --- build -------------------------------------------------------------------

built() { [ -f "$build/.cella-built" ]; }

# unpack RUNTIME_TOOLS_SRC at $commit into $build/src
unpack() {
	local src=$1 gitdir
	rm -rf "$build" && mkdir -p "$build/src" || return 1
	if gitdir=$(git -C "$src" rev-parse --absolute-git-dir 2>/dev/null) ||
		{ [ -f "$src/HEAD" ] && gitdir=$src; }; then
		git --git-dir="$gitdir" archive "$commit" | tar -x -C "$build/src" || return 1
	elif [ -f "$src/validation/util/test.go" ]; then
		cp -a "$src/." "$build/src/" || return 1
	else
		echo "# $src is neither a runtime-tools git directory nor a source tree" >&2
		return 1
	fi
}

# the Makefile's targets runtimetest and validation-executables, offline
compile() {
	local f
	(
		cd "$build/src" || exit 1
		export GOFLAGS=-mod=vendor GOPROXY=off GO111MODULE=on GOTOOLCHAIN=local \
			GOCACHE=$build/gocache GOPATH=$build/gopath
		CGO_ENABLED=0 go build -tags "netgo osusergo" -o runtimetest ./cmd/runtimetest || exit 1
		for f in validation/*/*.go; do
			[ "${f#validation/util/}" = "$f" ] || continue
			go build -o "${f%.go}.t" "$f" || exit 1
		done
	)
}

if ! built; then
	[ -n "${RUNTIME_TOOLS_SRC:-}" ] || skip "RUNTIME_TOOLS_SRC not set and no build in $build" \
		"(git clone https://github.com/opencontainers/runtime-tools; see docs/conformance.md)"
	[ -e "$RUNTIME_TOOLS_SRC" ] || skip "RUNTIME_TOOLS_SRC=$RUNTIME_TOOLS_SRC does not exist"
	command -v go >/dev/null || skip "no Go (apt-get install golang-go)"
	echo "# building runtime-tools $commit in $build"
	if ! unpack "$RUNTIME_TOOLS_SRC" || ! compile; then
		echo "Bail out! cannot build runtime-tools $commit from $RUNTIME_TOOLS_SRC"
		exit 1
	fi
	# the bundles only need the binaries and the rootfs tarball
	rm -rf "$build/gocache" "$build/gopath"
	touch "$build/.cella-built"
fi
suite=$build/src

# --- run ---------------------------------------------------------------------

work=$(mktemp -d /tmp/cella-oci.XXXXXX) || exit 1
state=$work/state
mkdir -p "$state" "$work/tmp"
# mounts_left: unmount what a test left under $work (a runtime that runs a
# container without a mount namespace mounts /proc, /dev... in ours) and say
# so; rm -rf must never walk into a mount
mounts_left() {
	local m n=0
	while read -r m; do
		umount -R -l "$m" 2>/dev/null && n=$((n + 1))
	done < <(awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	[ "$n" = 0 ] || echo "#   left $n mount(s) under $work/tmp: unmounted"
}
# the suite's cgroupsPath values are fixed ("/cgrouptest",
# "testdir/cgrouptest/container"): runtimes remove their own leaf, not the
# parents they had to make (runc neither). Remove those when empty.
cgroups_left() {
	local d n=0
	for d in /sys/fs/cgroup/testdir/cgrouptest /sys/fs/cgroup/*/testdir/cgrouptest \
		/sys/fs/cgroup/testdir /sys/fs/cgroup/*/testdir /sys/fs/cgroup/cgrouptest /sys/fs/cgroup/*/cgrouptest; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null && n=$((n + 1))
	done
	[ "$n" = 0 ] || echo "# removed $n empty cgroup directories the suite's cgroupsPath parents left"
}
cleanup() {
	local id
	# whatever a test left behind, so the next run starts clean
	for id in "$state"/*/; do
		id=$(basename "$id")
		echo "# leftover container $id: delete --force"
		"$runtime" --root "$state" delete --force "$id" >/dev/null 2>&1
	done
	mounts_left
	cgroups_left
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# the suite calls "$RUNTIME create|start|state|kill|delete ...": give every
# call a private state root
cat >"$work/runtime" <<EOF
#!/bin/sh
exec '$runtime' --root '$state' "\$@"
EOF
chmod +x "$work/runtime"

# known_reason TEST: the documented reason TEST fails with this runtime here
known_reason() {
	local name rts reason
	[ -f "$known" ] || return 1
	while IFS='|' read -r name rts reason; do
		name=${name// /} rts=${rts// /}
		case $name in '' | '#'*) continue ;; esac
		[ "$name" = "$1" ] || continue
		case ",$rts," in *",$runtime_name,"* | *",*,"*) echo "${reason# }"; return 0 ;; esac
	done <"$known"
	return 1
}

n=0 passed=0 failed=0 known_failed=0 skipped=0 failed_names=
tests=()
for t in "$suite"/validation/*/*.t; do
	name=$(basename "$t" .t)
	# shellcheck disable=SC2053
	[[ -z "${OCI_TESTS:-}" || $name == ${OCI_TESTS} ]] && tests+=("$name")
done
echo "# runtime-tools $commit validation against $runtime ($("$runtime" --version 2>/dev/null | head -1))"
echo "1..${#tests[@]}"
start_s=$(date +%s)
for name in "${tests[@]}"; do
	n=$((n + 1))
	out=$work/$name.tap err=$work/$name.err
	(cd "$suite" && TMPDIR=$work/tmp RUNTIME=$work/runtime \
		timeout -k 5 "$timeout_s" "validation/$name/$name.t" >"$out" 2>"$err")
	st=$?
	ok=$(grep -c '^ok ' "$out")
	skips=$(grep -Ec '^ok [0-9]+( -)?.*# (SKIP|skip)' "$out")
	notok=$(grep -c '^not ok ' "$out")
	# Tests without checks of their own ("1..0", or nothing when the runtime
	# rightly refused the config) report a violation as a YAML "error".
	yaml_error=0
	[ $((ok + notok)) = 0 ] && grep -q '^ *"error":' "$out" && yaml_error=1
	if [ "$st" = 0 ] && [ "$notok" = 0 ] && [ "$ok" -gt 0 ] && [ "$skips" = "$ok" ]; then
		reason=$(grep -Em1 '# (SKIP|skip)' "$out" | sed 's/.*# [Ss][Kk][Ii][Pp] *//')
		echo "ok $n - $name # SKIP ${reason:-every check skipped}"
		skipped=$((skipped + 1))
	elif [ "$st" = 0 ] && [ "$notok" = 0 ] && [ "$yaml_error" = 0 ]; then
		echo "ok $n - $name ($ok checks, $skips skipped)"
		passed=$((passed + 1))
		[ "${OCI_VERBOSE:-}" = 1 ] && sed 's/^/#   /' "$out"
	else
		why="exit $st, $notok of $((ok + notok)) checks failed"
		[ "$yaml_error" = 1 ] && why="exit $st, reports an error"
		[ "$st" = 124 ] && why="timed out after ${timeout_s}s"
		if reason=$(known_reason "$name"); then
			echo "not ok $n - $name ($why) # TODO $reason"
			known_failed=$((known_failed + 1))
		else
			echo "not ok $n - $name ($why)"
			failed=$((failed + 1))
			failed_names="$failed_names $name"
		fi
		if [ "${OCI_VERBOSE:-}" = 1 ]; then
			sed 's/^/#   /' "$out"
		elif [ $((ok + notok)) = 0 ]; then
			cut -c1-300 "$out" | head -30 | sed 's/^/#   /'
		else
			# the failing checks with their YAML diagnostics, cut short
			awk '/^not ok /{p=1; print; next} /^(ok |1\.\.)/{p=0} p' "$out" |
				cut -c1-300 | head -60 | sed 's/^/#   /'
		fi
		[ -s "$err" ] && cut -c1-300 "$err" | head -20 | sed 's/^/#   stderr: /'
	fi
	if [ -n "${OCI_LOG_DIR:-}" ]; then
		mkdir -p "$OCI_LOG_DIR" && cp "$out" "$err" "$OCI_LOG_DIR/"
	fi
	# a test that leaves bundles behind (a timeout) must not fill the disk
	mounts_left
	rm -rf --one-file-system "${work:?}"/tmp/*
done
echo "# $runtime_name: $passed passed, $((failed + known_failed)) failed ($known_failed known: see docs/conformance.md), $skipped skipped, of $n; $(($(date +%s) - start_s)) s"
[ -z "$failed_names" ] || echo "# unexpected failures:$failed_names"
[ "$failed" = 0 ]
