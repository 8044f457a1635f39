/* SPDX-License-Identifier: Apache-2.0 */
/* shim/proto.h — the generated protobuf-c messages the shim speaks, and
 * short names for the Task service's requests and responses.
 *
 * The headers come from protoc-c at build time (build/shim/gen/, see
 * shim/shim.mk): containerd's runtime/v2/task/shim.proto and what it
 * imports, the task events, the ttrpc events service, the runc options and
 * the cgroups v1/v2 metrics. */
#ifndef CELLA_SHIM_PROTO_H
#define CELLA_SHIM_PROTO_H

#include <protobuf-c/protobuf-c.h>

#include "github.com/containerd/cgroups/stats/v1/metrics.pb-c.h"
#include "github.com/containerd/cgroups/v2/stats/metrics.pb-c.h"
#include "github.com/containerd/containerd/api/events/task.pb-c.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb-c.h"
#include "github.com/containerd/containerd/api/types/mount.pb-c.h"
#include "github.com/containerd/containerd/api/types/task/task.pb-c.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb-c.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

typedef Containerd__Task__V2__StateRequest shim_state_req;
typedef Containerd__Task__V2__StateResponse shim_state_resp;
typedef Containerd__Task__V2__CreateTaskRequest shim_create_req;
typedef Containerd__Task__V2__CreateTaskResponse shim_create_resp;
typedef Containerd__Task__V2__StartRequest shim_start_req;
typedef Containerd__Task__V2__StartResponse shim_start_resp;
typedef Containerd__Task__V2__DeleteRequest shim_delete_req;
typedef Containerd__Task__V2__DeleteResponse shim_delete_resp;
typedef Containerd__Task__V2__PidsRequest shim_pids_req;
typedef Containerd__Task__V2__PidsResponse shim_pids_resp;
typedef Containerd__Task__V2__PauseRequest shim_pause_req;
typedef Containerd__Task__V2__ResumeRequest shim_resume_req;
typedef Containerd__Task__V2__CheckpointTaskRequest shim_checkpoint_req;
typedef Containerd__Task__V2__KillRequest shim_kill_req;
typedef Containerd__Task__V2__ExecProcessRequest shim_exec_req;
typedef Containerd__Task__V2__ResizePtyRequest shim_resize_pty_req;
typedef Containerd__Task__V2__CloseIORequest shim_close_io_req;
typedef Containerd__Task__V2__UpdateTaskRequest shim_update_req;
typedef Containerd__Task__V2__WaitRequest shim_wait_req;
typedef Containerd__Task__V2__WaitResponse shim_wait_resp;
typedef Containerd__Task__V2__StatsRequest shim_stats_req;
typedef Containerd__Task__V2__StatsResponse shim_stats_resp;
typedef Containerd__Task__V2__ConnectRequest shim_connect_req;
typedef Containerd__Task__V2__ConnectResponse shim_connect_resp;
typedef Containerd__Task__V2__ShutdownRequest shim_shutdown_req;

/* A malloc'd google.protobuf.Timestamp of the wall clock now. */
Google__Protobuf__Timestamp *shim_timestamp_now(void);

#endif
