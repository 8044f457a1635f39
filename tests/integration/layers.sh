#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# scripts/check-layers.py (`make check-layers`): it passes on the real tree
# and fails, naming FILE:LINE and the rule, on a scratch copy of the tree
# into which an upward include, a long file, a long function or a second
# JSON writer was put.
. "$(dirname "$0")/../lib.sh"

CHECK=$REPO_DIR/scripts/check-layers.py

# scratch_tree: a copy of what the check reads (the table, the layer
# folders, tests/) in $T/tree
scratch_tree() {
        mkdir -p "$T/tree/docs"
        cp "$REPO_DIR/docs/layers.txt" "$T/tree/docs/"
        local d
        for d in $(awk '!/^#/ && NF && $1 !~ /^max-/ {print $1}' "$REPO_DIR/docs/layers.txt") tests; do
                [ -d "$REPO_DIR/$d" ] || continue
                (cd "$REPO_DIR" && find "$d" \( -name '*.c' -o -name '*.h' \) -print0 | cpio -0pdm --quiet "$T/tree")
        done
}

test_real_tree_passes() {
        run python3 "$CHECK"
        assert_success
        assert_contains "$stdout" "every include goes down the layer table"
}

test_scratch_copy_passes() {
        scratch_tree
        run python3 "$CHECK" --root "$T/tree"
        assert_success
}

test_upward_include_fails() {
        scratch_tree
        # base is the lowest layer: it may include nothing above it
        printf '#include "runtime/state.h"\n' >>"$T/tree/base/util.h"
        local line
        line=$(wc -l <"$T/tree/base/util.h")
        run python3 "$CHECK" --root "$T/tree"
        assert_failure
        assert_contains "$stdout" "base/util.h:$line: include \"runtime/state.h\": base may not include runtime"
}

test_sideways_include_fails() {
        scratch_tree
        # two services beside each other: netns may not reach into image
        printf '#include "image/image.h"\n' >>"$T/tree/netns/netns.h"
        run python3 "$CHECK" --root "$T/tree"
        assert_failure
        assert_contains "$stdout" "netns/netns.h:"
        assert_contains "$stdout" "netns may not include image (docs/layers.txt: netns may include base oci)"
}

test_cli_may_not_reach_the_engine() {
        scratch_tree
        printf '#include "runtime/container.h"\n' >>"$T/tree/cli/start.c"
        run python3 "$CHECK" --root "$T/tree"
        assert_failure
        assert_contains "$stdout" "cli may not include runtime"
}

test_relative_include_fails() {
        scratch_tree
        printf '#include "../base/log.h"\n' >>"$T/tree/cgroup/fs.c"
        run python3 "$CHECK" --root "$T/tree"
        assert_failure
        assert_contains "$stdout" "write it from the repo root"
}

test_long_file_fails() {
        scratch_tree
        seq 1 1001 | sed 's|^|// |' >"$T/tree/oci/long.c"
        run python3 "$CHECK" --root "$T/tree"
        assert_failure
        assert_contains "$stdout" "oci/long.c:1: file has 1001 lines (max-file-lines 1000)"
}

test_long_function_fails() {
        scratch_tree
        {
                echo '/* SPDX-License-Identifier: Apache-2.0 */'
                echo 'static int long_one(int x)'
                echo '{'
                # braces in strings and comments do not count
                echo '        const char *s = "}}}"; /* } */'
                seq 1 148 | sed 's|.*|        x++;|'
                echo '}'
        } >"$T/tree/base/long.c"
        run python3 "$CHECK" --root "$T/tree"
        assert_failure
        assert_contains "$stdout" "base/long.c:3: function long_one has 151 lines (max-function-lines 150)"
        # one line less is within the limit
        sed -i '5d' "$T/tree/base/long.c"
        run python3 "$CHECK" --root "$T/tree"
        assert_success
}

test_second_json_writer_fails() {
        scratch_tree
        # JSON is written through base/json_write.c only: a hand-made
        # generator elsewhere is a second writer
        printf 'static void *g(void) { return yajl_gen_alloc(0); }\n' >>"$T/tree/runtime/hooks.c"
        run python3 "$CHECK" --root "$T/tree"
        assert_failure
        assert_contains "$stdout" "runtime/hooks.c:$(wc -l <"$T/tree/runtime/hooks.c"): yajl_gen_alloc: every JSON document is written by base/json_write.c"
}

test_missing_license_line_fails() {
        scratch_tree
        sed -i 1d "$T/tree/oci/state.h"
        run python3 "$CHECK" --root "$T/tree"
        assert_failure
        assert_contains "$stdout" "oci/state.h:1: the first line must be the license"
}

test_table_names_unknown_layer() {
        scratch_tree
        printf 'extra      base nosuch\n' >>"$T/tree/docs/layers.txt"
        run python3 "$CHECK" --root "$T/tree"
        assert_failure
        assert_contains "$stderr" "extra may include nosuch, which is not listed above it"
}

run_tests "$@"
