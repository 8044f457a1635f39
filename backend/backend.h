/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the one interface to a container, whatever runs it.
 *
 * A backend runs containers one way: "native" (a Linux container on this
 * host: runtime/) or "vm" (the container inside its own QEMU microvm:
 * backend/vm*.c over sandbox/). Front ends (cli/, the containerd shim) never
 * call runtime/ or sandbox/ themselves: they build the typed request once
 * (oci/request.h), ask which backend owns it, and call that backend's table:
 *
 *     struct cella_create_opts o = { .root = ..., .id = ..., .bundle = ... };
 *     _cleanup_loaded_config_ struct cella_loaded_config cfg = { 0 };
 *     if (cella_request_load(&o, &cfg, &err) < 0)         // config.json, parsed once
 *             ...;
 *     const struct cella_backend_ops *b = backend_for_request(&o);
 *     b->create(&o, &err);
 *     ...
 *     backend_for_container(root, id)->kill(root, id, SIGTERM, false, &err);
 *
 * Every operation returns 0, or a negative number with err filled in (err's
 * errnum: ENOENT for a container that does not exist, EEXIST for an ID in
 * use, EINVAL for a request the container's status forbids, ENOTSUP for an
 * operation this backend cannot do). Operations print nothing and never
 * exit; they may block (a run waits for its container).
 *
 * All backends share one state root (--root): `list` sees every container,
 * and state.json records which backend owns each. The table is stable:
 * new operations go at the end, and a backend that lacks one points it at
 * a function that fails with ENOTSUP. */
#ifndef CELLA_BACKEND_H
#define CELLA_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "cgroup/cgroup.h"
#include "oci/request.h"
#include "oci/state.h"

/* What `state` and `list` report about one container. */
struct cella_container_info {
        char *id;
        enum cella_status status;
        pid_t pid;                      /* the init's host pid (QEMU's for "vm"); 0 once stopped */
        char *bundle;
        char *created;                  /* RFC 3339, UTC */
        char *owner;                    /* "" = root, as runc */
        const char *backend;            /* "native" or "vm" (static) */
        char *oci_json;                 /* runc's state object: pretty from state, compact from list */
};
void cella_container_info_clear(struct cella_container_info *info);
#define _cleanup_container_info_ __attribute__((cleanup(cella_container_info_clear)))
void cella_container_info_free_array(struct cella_container_info *v, size_t n);

/* `events`: one JSON line of runc's event stream (no newline); the callee
 * may not keep line. */
typedef void (*cella_event_fn)(const char *line, void *data);

struct cella_events_request {
        uint64_t interval_ns;           /* between stats events (runc: 5s) */
        bool once;                      /* --stats: one stats event, then return */
};

struct cella_backend_ops {
        const char *name;               /* "native", "vm" */

        /* create: the container's init is made and waits for start. The
         * caller's process is the parent of the init (pid_file and the
         * console socket as runc create; o->preserve_fds and the caller's
         * stdio are the init's). A caller that must reap the init makes
         * itself a child subreaper (PR_SET_CHILD_SUBREAPER) first, as the
         * shim does for runc. o->spec must be loaded (cella_request_load). */
        int (*create)(const struct cella_create_opts *o, struct cella_error *err);
        int (*start)(const char *root, const char *id, struct cella_error *err);
        /* create + start; without o->detach, waits, relays signals and the
         * terminal, deletes the container (unless o->keep) and sets
         * *exit_status (128+N for a signal). */
        int (*run)(const struct cella_create_opts *o, int *exit_status, struct cella_error *err);
        /* all: every process of the container (its cgroup) */
        int (*kill)(const char *root, const char *id, int sig, bool all, struct cella_error *err);
        /* force: kill a running container first (runc delete --force) */
        int (*delete_)(const char *root, const char *id, bool force, struct cella_error *err);
        /* a new process in a running container; without o->detach, waits
         * and sets *exit_status */
        int (*exec)(const struct cella_exec_opts *o, int *exit_status, struct cella_error *err);
        /* info->oci_json pretty, as `state` prints it */
        int (*state)(const char *root, const char *id, struct cella_container_info *info,
                     struct cella_error *err);
        int (*pause)(const char *root, const char *id, struct cella_error *err);
        int (*resume)(const char *root, const char *id, struct cella_error *err);
        /* host pids of every process of the container (malloc'd array) */
        int (*pids)(const char *root, const char *id, pid_t **pids, size_t *n, struct cella_error *err);
        /* resources_json: a linux.resources object (runc update -r) */
        int (*update)(const char *root, const char *id, const char *resources_json, size_t len,
                      struct cella_error *err);
        /* one sample of the container's cgroup counters */
        int (*stats)(const char *root, const char *id, struct cella_cgroup_stats *st, struct cella_error *err);
        /* runc's event stream: stats every interval, oom when the memory
         * limit kills; returns when the container stops or is deleted */
        int (*events)(const char *root, const char *id, const struct cella_events_request *r, cella_event_fn emit,
                      void *data, struct cella_error *err);
        int (*checkpoint)(const struct cella_checkpoint_opts *o, struct cella_error *err);
        /* *pid: the restored init's host pid; its parent is the caller */
        int (*restore)(const struct cella_restore_opts *o, pid_t *pid, struct cella_error *err);
        /* the container's cgroup handle (*cg: cgroup_free it), for a caller
         * that watches the cgroup itself, as the shim's OOM watch (v1
         * memory.oom_control eventfd, v2 memory.events); ENOENT when the
         * container has none on this host */
        int (*cgroup)(const char *root, const char *id, struct cella_cgroup **cg, struct cella_error *err);
};

extern const struct cella_backend_ops cella_backend_native;
extern const struct cella_backend_ops cella_backend_vm;

/* Which backend a new container goes to: "vm" for --sandbox vm
 * (o->sandbox) or the io.cella.sandbox=vm annotation of o->spec, else
 * native. o->spec should be loaded (cella_request_load). */
const struct cella_backend_ops *backend_for_request(const struct cella_create_opts *o);

/* Which backend owns an existing container: the "sandbox" member of its
 * state.json ("vm"), which create writes and nothing changes after; native
 * when it does not exist (or its state cannot be read), so the operation
 * reports that as usual. It reads that one field only (one open by path,
 * no lock, no struct cella_state, no status derived): the operation loads
 * and checks the state itself, under its lock, so a command pays for one
 * full state load plus this small read (7 us here, against 21 us for a
 * second load; bench/RESULTS.md). */
const struct cella_backend_ops *backend_for_container(const char *root, const char *id);

/* Every container of the state root, whatever its backend, sorted by ID;
 * oci_json compact (`list --format json`). */
int backend_list(const char *root, struct cella_container_info **v, size_t *n, struct cella_error *err);

#endif
