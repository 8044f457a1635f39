#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# argv-logger.sh: stands in for the runtime binary a client is told to use,
# appends the exact argv it was called with to $ARGV_LOG (one line per call,
# each argument in brackets) and execs the real runtime.
#
# Clients pass no environment of ours through, so the logger reads its
# settings from files next to itself:
#   <dir>/argv-logger.runtime   the real runtime's absolute path (one line)
#   <dir>/argv-logger.log       where calls are appended
#   <dir>/argv-logger.args      optional: global flags put before the
#                               client's, one per line (e.g. --root=DIR), for
#                               clients that do not pass their runtime flags
#                               to every call (podman's cleanup process)
# Copy this script into a private dir with those two files beside it.
here=$(cd "$(dirname "$0")" && pwd)
real=$(cat "$here/argv-logger.runtime")
{
        printf '%s' "$(date +%s.%N) $$"
        for a in "$@"; do printf ' [%s]' "$a"; done
        printf '\n'
} >>"$here/argv-logger.log"
if [ -f "$here/argv-logger.args" ]; then
        # prepend in reverse so the file's order is kept
        extra=$(sed '1!G;h;$!d' "$here/argv-logger.args")
        old_ifs=$IFS
        IFS='
'
        for a in $extra; do set -- "$a" "$@"; done
        IFS=$old_ifs
fi
exec "$real" "$@"
