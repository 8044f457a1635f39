#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-all.sh DIR REPS SUM GETPPID GTOD FORK: each benchmark REPS times
# (the same script runs on the host, in a container and in a VM)
D=$1 R=$2
i=0
while [ $i -lt "$R" ]; do
        "$D/sum" "$3"
        "$D/getppid" "$4"
        "$D/gettimeofday" "$5"
        "$D/forkwait" "$6"
        i=$((i + 1))
done
