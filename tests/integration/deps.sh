#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# deps: scripts/deps.sh installs only what is missing, with no service
# started by the packages' maintainer scripts, and prepares the VM tests'
# guest kernels only when they are missing. Runs against fakes: dpkg-query
# and apt-get on PATH, temporary kernel dirs, a policy-rc.d path under $T,
# a CRIU prefix that already holds a "4.2" — nothing is installed or downloaded.
. "$(dirname "$0")/../lib.sh"

DEPS=$REPO_DIR/scripts/deps.sh

# fakes MISSING_PACKAGES...: fake dpkg-query/apt-get in $T/bin; a prepared
# kernel for tests/vm/ and for --sandbox vm; a working CRIU
fakes() {
        mkdir -p "$T/bin" "$T/cache/kernel-x/modules" "$T/data/kernel" "$T/criu"
        printf '%s\n' "$@" >"$T/missing"
        cat >"$T/bin/dpkg-query" <<'EOF'
#!/bin/sh
for p; do :; done
grep -qxF -- "$p" "$T/missing" && exit 1
echo "install ok installed"
EOF
        # apt-get logs its arguments, and what policy-rc.d answers for a
        # service start while it runs (as invoke-rc.d would ask)
        cat >"$T/bin/apt-get" <<'EOF'
#!/bin/sh
echo "$*" >>"$T/apt.log"
if [ -x "$CELLA_POLICY_RC_D" ]; then
        "$CELLA_POLICY_RC_D" docker start
        echo "policy-rc.d: $?" >>"$T/apt.log"
else
        echo "policy-rc.d: none" >>"$T/apt.log"
fi
case "$*" in *" install "*) [ -e "$T/apt-fail-once" ] && { rm -f "$T/apt-fail-once"; exit 100; } ;; esac
exit 0
EOF
        printf '#!/bin/sh\necho "Version: 4.2"\n' >"$T/criu/criu"
        chmod 755 "$T/bin/dpkg-query" "$T/bin/apt-get" "$T/criu/criu"
        printf '9p\noverlay\n' >"$T/cache/kernel-x/modules/requested"
        echo x >"$T/cache/kernel-x/vmlinux"
        echo x >"$T/data/kernel/vmlinux"
        mkdir -p "$T/data/kernel/modules"
        "$REPO_DIR/scripts/prepare-vm-kernel.sh" --modules >"$T/data/kernel/modules/requested"
        cp "$T/data/kernel/modules/requested" "$T/data/kernel/modules/load-order"
}

# deps [ENV=VALUE...]: run scripts/deps.sh against the fakes
deps() {
        run env PATH="$T/bin:$PATH" T="$T" CELLA_POLICY_RC_D="$T/policy-rc.d" \
                CELLA_VM_CACHE="$T/cache" CELLA_VM_DATA="$T/data" CELLA_CRIU_PREFIX="$T/criu" \
                CELLA_VM_KERNEL_DEB="$T/no-such.deb" "$@" sh "$DEPS"
}

need_root() { [ "$(id -u)" = 0 ] || skip "deps.sh installs as root"; }

test_nothing_missing_does_nothing() {
        need_root
        fakes
        deps
        assert_success
        assert_eq "$output" "" "nothing printed"
        [ ! -e "$T/apt.log" ] || fail "apt-get called: $(cat "$T/apt.log")"
}

test_installs_only_the_missing_packages_with_no_service_start() {
        need_root
        fakes qemu-system-x86 cpio docker.io containernetworking-plugins
        deps
        assert_success
        assert_eq "$stdout" "cella: installing: docker.io qemu-system-x86 cpio containernetworking-plugins"
        assert_eq "$(cat "$T/apt.log")" "-o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends docker.io qemu-system-x86 cpio containernetworking-plugins
policy-rc.d: 101"
        [ ! -e "$T/policy-rc.d" ] || fail "the temporary policy-rc.d was left behind"
}

test_an_existing_policy_rc_d_is_left_alone() {
        need_root
        fakes golang-go
        printf '#!/bin/sh\nexit 101\n# the admin'"'"'s own\n' >"$T/policy-rc.d"
        chmod 755 "$T/policy-rc.d"
        cp "$T/policy-rc.d" "$T/policy-rc.d.orig"
        deps
        assert_success
        assert_contains "$(cat "$T/apt.log")" "policy-rc.d: 101"
        cmp -s "$T/policy-rc.d" "$T/policy-rc.d.orig" || fail "policy-rc.d changed"
}

test_unknown_package_refreshes_the_lists_once() {
        need_root
        fakes libprotobuf-c-dev
        touch "$T/apt-fail-once"
        deps
        assert_success
        assert_eq "$(grep -v '^policy' "$T/apt.log")" "-o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends libprotobuf-c-dev
-o DPkg::Lock::Timeout=600 update -qq
-o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends libprotobuf-c-dev"
        [ ! -e "$T/policy-rc.d" ] || fail "the temporary policy-rc.d was left behind"
}

test_missing_guest_kernels_are_prepared() {
        need_root
        fakes
        rm -rf "$T/cache" "$T/data"
        # CELLA_VM_KERNEL_DEB names no file: both preparations run and fail
        # (nothing is downloaded), which is a warning, not an error
        deps
        assert_success
        assert_eq "$stdout" "cella: preparing the guest kernel for tests/vm
cella: preparing the guest kernel for sandbox"
        assert_contains "$stderr" "no guest kernel for tests/vm: its tests will be skipped"
        assert_contains "$stderr" "no guest kernel for sandbox: its tests will be skipped"
        [ ! -e "$T/apt.log" ] || fail "apt-get called: $(cat "$T/apt.log")"
}

test_a_kernel_without_9p_or_overlay_is_prepared_again() {
        need_root
        fakes
        printf 'virtio_blk\n9p\n' >"$T/cache/kernel-x/modules/requested"
        deps CELLA_DEPS_DRY_RUN=1
        assert_success
        assert_eq "$stdout" "cella: would prepare guest kernels: tests/vm"
}

# a --sandbox vm kernel prepared before virtio_net joined the module list
test_a_sandbox_kernel_without_virtio_net_is_prepared_again() {
        need_root
        fakes
        grep -vx virtio_net "$T/data/kernel/modules/requested" >"$T/req"
        mv "$T/req" "$T/data/kernel/modules/requested"
        deps CELLA_DEPS_DRY_RUN=1
        assert_success
        assert_eq "$stdout" "cella: would prepare guest kernels: sandbox"
}

test_dry_run_changes_nothing() {
        need_root
        fakes cpio podman
        rm -rf "$T/data"
        deps CELLA_DEPS_DRY_RUN=1
        assert_success
        assert_eq "$stdout" "cella: would install: podman cpio
cella: would prepare guest kernels: sandbox"
        [ ! -e "$T/apt.log" ] || fail "apt-get called"
        [ ! -e "$T/data" ] || fail "the kernel dir was made"
}

run_tests "$@"
