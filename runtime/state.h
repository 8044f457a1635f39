/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the state directory <root>/<id>/ of one container.
 *
 *   state.json   what `state` reports plus what later commands need
 *                (cgroup dirs, init start time); written atomically
 *   config.json  the config the container was created from (poststop
 *                hooks and annotations must survive the bundle)
 *   exec.fifo    exists from create until start
 *
 * Commands take an flock on the directory: exclusive to change it, shared
 * to read it, so two commands on one ID never see it half-written. */
#ifndef CELLA_STATE_H
#define CELLA_STATE_H

#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>

#include "cgroup/cgroup.h"
#include "base/error.h"
#include "oci/spec.h"
#include "oci/state.h"


struct cella_state {
        char *id;
        pid_t pid;                      /* host pid of the init; 0 until it exists */
        unsigned long long pid_start;   /* field 22 of /proc/<pid>/stat: guards pid reuse */
        char *bundle;
        char *rootfs;
        char *created;                  /* RFC 3339 with nanoseconds, UTC */
        char *owner;                    /* "" as runc */
        struct cella_kv_list annotations;
        bool has_cgroup;
        enum cella_cgroup_mode cgroup_mode;
        struct cella_cgroup_dir *cgroup_dirs;
        size_t n_cgroup_dirs;
        char *cgroup_unit;              /* the systemd unit owning the cgroup (--systemd-cgroup), else NULL */
        bool rootless;
        char *image_rootfs;             /* set when the rootfs is an image mount cella made */
        char *net_mode;                 /* networking cella set up, NULL = none */
        char *sandbox;                  /* "vm" for sandboxed containers, else NULL */
};

/* Open (and create, 0700) the state root; returns a dir fd. */
int state_open_root(const char *root, bool create, struct cella_error *err);

/* Create <root>/<id> exclusively and lock it. Fails with EEXIST and a
 * message "container \"ID\" already exists". Returns the dir fd. */
int state_create_dir(int rootfd, const char *id, struct cella_error *err);

/* Open and lock an existing <root>/<id>. ENOENT message:
 * "container \"ID\" does not exist". exclusive: LOCK_EX else LOCK_SH. */
int state_open_dir(int rootfd, const char *id, bool exclusive, struct cella_error *err);

/* The everyday start of a command on one container: check the ID, open
 * <root>/<id> locked (exclusive or shared), read its state and derive its
 * status. Returns the locked dir fd (the caller closes it, which unlocks)
 * or -1 with err set ("container \"x\" does not exist", ...). */
int state_open_container(const char *root, const char *id, bool exclusive, struct cella_state *st,
                         enum cella_status *status, struct cella_error *err);

int state_write(int dirfd, const struct cella_state *st, struct cella_error *err);
/* A missing state.json (a create that died early) yields st->pid == 0 and
 * only st->id set: status creating/stopped, deletable. */
int state_read(int dirfd, const char *id, struct cella_state *st, struct cella_error *err);
void state_clear(struct cella_state *st);
/* a struct cella_state on the stack, cleared when it goes out of scope */
#define _cleanup_state_ __attribute__((cleanup(state_clear)))

/* Status from the facts: is the init alive (and the same process), does
 * exec.fifo exist, is the cgroup frozen. */
enum cella_status state_status(int dirfd, const struct cella_state *st);

/* runc's state JSON for `state` (pretty) or one `list --format json` entry. */
char *state_to_oci_json(const struct cella_state *st, enum cella_status status, bool pretty);
/* The same object into a document being written (base/json_write.h). */
void state_put_oci(yajl_gen g, const struct cella_state *st, enum cella_status status);

/* Remove <root>/<id> after the container is gone. */
int state_remove_dir(int rootfd, const char *id, struct cella_error *err);

/* Where caches shared by every state root live: CELLA_CACHE_DIR, else
 * /run/cella.cache (root) or $XDG_RUNTIME_DIR/cella.cache, plus "/sub".
 * Outside --root on purpose: a state root holds containers only. */
char *runtime_cache_dir(const char *sub);

/* start time of a pid, 0 if it does not exist or is a zombie */
unsigned long long proc_start_time(pid_t pid);

/* now as "2006-01-02T15:04:05.999999999Z" into buf (>= 40 bytes) */
void rfc3339_now(char *buf, size_t size);

#endif
