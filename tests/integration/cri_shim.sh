#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cri.sh again with the `cella` handler on the native shim
# (runtime_type io.containerd.cella.v2, containerd-shim-cella-v2): the
# Kubernetes path of issue 20 — a pod's containers share one shim process,
# exec -t, logs, update, stop, remove, nothing left. cri.sh itself runs the
# handler on containerd's Go shim with cella as its runtime binary; each
# test runs the same steps with runc as the reference.
export CRI_CELLA_RUNTIME_TYPE=io.containerd.cella.v2
TESTS_FROM="$(dirname "$0")/cri.sh"
. "$(dirname "$0")/cri.sh"
