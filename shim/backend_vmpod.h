/* SPDX-License-Identifier: Apache-2.0 */
/* shim/backend_vmpod.h — VM pods in the shim (issue 21): the pieces the
 * backend's files share.
 *
 * The VM pod backend wraps the native one (backend_cella.c). A Create
 * whose config asks for a VM pod (backend_vmpod_settings.c: the
 * io.cella.sandbox=vm annotation, or the runtime handler's options) boots
 * one pod VM (backend/vm_pod.h) and creates the sandbox container in it;
 * every later container of that pod (io.kubernetes.cri.sandbox-id) is
 * created in the same guest. Every other request goes to the native
 * backend untouched. */
#ifndef CELLA_SHIM_BACKEND_VMPOD_H
#define CELLA_SHIM_BACKEND_VMPOD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "backend.h"
#include "loop.h"
#include "proto.h"
#include "tasks.h"
#include "backend/vm_pod.h"
#include "base/error.h"

/* where pod directories go: <root>/<namespace>/<pod id> */
#define VMPOD_STATE_ROOT "/run/containerd/cella-pods"
/* the record a VM container leaves in its bundle, for the `delete` command */
#define VMPOD_RECORD "cella-vm-pod"
/* annotations (pod annotations: containerd's pod_annotations copies them
 * into the sandbox container's config) */
#define VMPOD_ANN_SANDBOX "io.cella.sandbox"            /* "vm" */
#define VMPOD_ANN_MEMORY "io.cella.vm.memory"           /* guest RAM, MiB */
#define VMPOD_ANN_CPUS "io.cella.vm.cpus"               /* vCPUs */
#define VMPOD_ANN_CRI_TYPE "io.kubernetes.cri.container-type"
#define VMPOD_ANN_CRI_SANDBOX "io.kubernetes.cri.sandbox-id"
#define VMPOD_ANN_CRI_MEMORY "io.kubernetes.cri.sandbox-memory"       /* bytes, the sum of the limits */
#define VMPOD_ANN_CRI_QUOTA "io.kubernetes.cri.sandbox-cpu-quota"
#define VMPOD_ANN_CRI_PERIOD "io.kubernetes.cri.sandbox-cpu-period"

struct vmpod_backend;
struct vp_ctr;

struct vp_proc {
        struct shim_task_proc t;        /* the record both backends keep (tasks.h) */
        struct vp_ctr *ct;
        struct vp_proc *next;
};

struct vp_pod {
        char *id;                       /* the sandbox container's id */
        char *dir;                      /* the pod's directory (vm_pod_config.dir) */
        char *netns;                    /* the pod's network namespace path, or NULL */
        struct vm_pod *vm;
        pid_t qemu_pid;
        bool dead;                      /* QEMU is gone (events.died) */
        size_t n_ctrs;                  /* containers still recorded */
        struct vmpod_backend *vb;
        struct vp_pod *next;
};

struct vp_ctr {
        char *id;
        char *bundle;
        bool rootfs_mounted;
        bool in_guest;                  /* vm_pod_create succeeded, no vm_pod_delete yet */
        bool paused;
        struct vp_pod *pod;
        struct vp_proc init;
        struct vp_proc *execs;
        struct vp_ctr *next;
};

struct vp_watch;

struct vmpod_backend {
        struct shim_backend base;
        struct shim_backend *native;
        struct vp_pod *pods;
        struct vp_ctr *ctrs;
        struct vp_watch *watches;
        struct vm_pod_loop loop;        /* the shim's loop, as vm_pod wants it */
};

/* ------------------------------------------ backend_vmpod_settings.c */

/* What a Create asks for, read from its bundle's config.json and the
 * request's runtime options. */
struct vmpod_request {
        bool vm;                        /* a new VM pod (a sandbox container asking for one) */
        char *sandbox_id;               /* a container of pod sandbox_id (CRI), or NULL */
        char *netns;                    /* the config's network namespace path, or NULL */
        uint64_t memory_bytes;          /* 0: the default */
        unsigned vcpus;                 /* 0: the default */
};

int vmpod_request_read(const shim_create_req *req, const char *bundle, struct vmpod_request *out,
                       struct cella_error *err);
void vmpod_request_release(struct vmpod_request *r);

/* ------------------------------------------------ backend_vmpod_io.c */

/* vm_pod_loop on the shim's loop.h */
void vmpod_loop_init(struct vmpod_backend *vb);
void vmpod_loop_release(struct vmpod_backend *vb);

/* The process's stdio for vm_pod: containerd's FIFOs (or file:// URIs)
 * opened; "" is none (-1). On failure nothing stays open. */
int vmpod_stdio_open(const struct vp_proc *p, struct vm_pod_stdio *io, struct cella_error *err);
void vmpod_stdio_close(struct vm_pod_stdio *io);

/* The bundle's record (VMPOD_RECORD): the pod's directory and QEMU's pid,
 * for `delete` after the shim died. */
void vmpod_record_write(const char *bundle, const struct vp_pod *pod, bool sandbox);
void vmpod_record_remove(const char *bundle);
/* `delete` of a task whose bundle has a record: for the sandbox,
 * vm_pod_cleanup (QEMU if still running, the tap and filters, the pod's
 * directory); the rootfs unmounted. Returns 0 when there was a record,
 * -ENOENT when none. */
int vmpod_record_cleanup(const char *bundle, pid_t *pid);

/* containerd's metrics from the guest's counters */
Google__Protobuf__Any *vmpod_metrics_any(const struct cella_cgroup_stats *st);

#endif
