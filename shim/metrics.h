/* SPDX-License-Identifier: Apache-2.0 */
/* shim/metrics.h — a container's cgroup counters as containerd's metrics. */
#ifndef CELLA_SHIM_METRICS_H
#define CELLA_SHIM_METRICS_H

#include "library.h"
#include "proto.h"

/* A malloc'd Any holding io.containerd.cgroups.v1.Metrics, or .v2.Metrics
 * when s->v2. */
Google__Protobuf__Any *shim_metrics_any(const struct shim_lib_stats *s);

#endif
